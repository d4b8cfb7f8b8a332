package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
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
	vigil.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status of an error, as every response uses it.
func StatusOf(err error) int {
	if errors.Is(err, errMethod) {
		return http.StatusMethodNotAllowed
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	var busy *busyError
	if errors.As(err, &busy) {
		return http.StatusTooManyRequests
	}
	return statusOf[vigil.ErrorCode(err)]
}

func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// apiError is the body of every API error.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError renders err as JSON ({"error":{"code","message"}}) for the API, or as a page. Internal errors are
// logged with their detail and shown as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := vigil.ErrorCode(err)
	status := StatusOf(err)
	msg := vigil.ErrorMessage(err)
	var mb *http.MaxBytesError
	var busy *busyError
	switch {
	case errors.Is(err, errMethod):
		code, msg = vigil.EINVALID, "method not allowed"
	case errors.As(err, &mb):
		code, msg = vigil.EINVALID, "request body too large"
	case errors.As(err, &busy):
		code, msg = "EBUSY", busy.Error()
		w.Header().Set("Retry-After", strconv.Itoa(int(busy.after.Seconds())))
	}
	if code == vigil.EINTERNAL {
		s.opt.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if isAPI(r) {
		var body apiError
		body.Error.Code, body.Error.Message = code, msg
		writeJSON(w, status, body)
		return
	}
	if status == http.StatusUnauthorized {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(safeNext(r.URL.RequestURI())), http.StatusSeeOther)
		return
	}
	s.render(w, r, status, "error", page{Title: http.StatusText(status), Data: map[string]any{"Status": status, "Code": code, "Message": msg}})
}

// reply answers v as JSON with status, or returns err for ServeHTTP to answer: how an API handler ends on what
// its service call returned.
func reply(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}

// orEmpty is xs, or an empty list when it is nil: the API answers [] for no items, never null.
func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Served as application/json with nosniff, so < and > need no escaping: escaped, an SPDX supplier
	// "Person: Name <mail>" read as \u003cmail\u003e in every export and API answer.
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
