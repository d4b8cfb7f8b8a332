package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/vigil-dev/vigil"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	vigil.EINVALID:      http.StatusBadRequest,
	vigil.ENOTFOUND:     http.StatusNotFound,
	vigil.ECONFLICT:     http.StatusConflict,
	vigil.EFORBIDDEN:    http.StatusForbidden,
	vigil.EUNAUTHORIZED: http.StatusUnauthorized,
	vigil.EINTERNAL:     http.StatusInternalServerError,
}

func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// writeError renders err as JSON ({"error":{"code","message"}}) for the API, or as a page. Internal errors are
// logged with their detail and shown as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := vigil.ErrorCode(err)
	status := statusOf[code]
	msg := vigil.ErrorMessage(err)
	if errors.Is(err, errMethod) {
		code, status, msg = vigil.EINVALID, http.StatusMethodNotAllowed, "method not allowed"
	}
	if code == vigil.EINTERNAL {
		s.opt.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if isAPI(r) {
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
		return
	}
	if status == http.StatusUnauthorized {
		http.Redirect(w, r, "/login?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.WriteHeader(status)
	s.render(w, r, "error", map[string]any{"Status": status, "Code": code, "Message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
