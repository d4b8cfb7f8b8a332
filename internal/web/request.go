package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vigil-dev/vigil"
)

// maxJSONBody bounds an API request body (an SBOM upload has its own, larger bound).
const maxJSONBody = 1 << 20

// idParam reads a numeric path parameter.
func idParam(r *http.Request, name string) (int64, error) {
	v := chi.URLParam(r, name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, vigil.Errorf(vigil.ENOTFOUND, "%s %q: not a valid id", name, clipText(40, v))
	}
	return id, nil
}

// chiParam reads a path parameter, unescaped.
func chiParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// intQuery reads an optional integer query parameter.
func intQuery(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, vigil.Errorf(vigil.EINVALID, "%s: %q is not a whole number", name, clipText(40, v))
	}
	return n, nil
}

// dateQuery reads an optional YYYY-MM-DD query parameter.
func dateQuery(r *http.Request, name string) (vigil.Date, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return vigil.Date{}, nil
	}
	d, err := vigil.ParseDate(v)
	if err != nil {
		return d, vigil.Errorf(vigil.EINVALID, "%s: %q is not a date (YYYY-MM-DD)", name, clipText(40, v))
	}
	return d, nil
}

// boolQuery reads an optional boolean query parameter (1, true, yes, on).
func boolQuery(r *http.Request, name string) bool {
	return truthy(r.URL.Query().Get(name))
}

// truthy is the one spelling of true in a query or form value: 1, true, yes, on (a checked checkbox).
func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// decodeJSON reads a bounded JSON body into v, refusing unknown fields so that a misspelt field is an error naming
// it rather than silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return vigil.Errorf(vigil.EINVALID, "body: more than one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mb *http.MaxBytesError
	var ve *vigil.Error
	switch {
	case errors.Is(err, io.EOF):
		return vigil.Errorf(vigil.EINVALID, "body: empty; send a JSON object")
	case errors.As(err, &se):
		return vigil.Errorf(vigil.EINVALID, "body: malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return vigil.Errorf(vigil.EINVALID, "%s: want %s, got JSON %s", field, te.Type, te.Value)
	case errors.As(err, &mb):
		return vigil.Errorf(vigil.EINVALID, "body: larger than %d bytes", mb.Limit)
	case errors.As(err, &ve):
		return err
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return vigil.Errorf(vigil.EINVALID, "%s: no such field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return vigil.Errorf(vigil.EINVALID, "body: %s", clipText(200, err.Error()))
}

// parseForm reads a bounded url-encoded or multipart form (the CSRF check may have parsed it already).
func parseForm(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm != nil {
		return nil
	}
	if isMultipart(r) {
		if err := parseMultipart(r); err != nil {
			return vigil.Errorf(vigil.EINVALID, "form: %v", err)
		}
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		return vigil.Errorf(vigil.EINVALID, "form: %v", err)
	}
	return nil
}

// formInt reads an optional integer form field.
func formInt(r *http.Request, name string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, vigil.Errorf(vigil.EINVALID, "%s: %q is not a whole number", name, clipText(40, v))
	}
	return n, nil
}

// formDate reads an optional date form field.
func formDate(r *http.Request, name string) (*vigil.Date, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return nil, nil
	}
	d, err := vigil.ParseDate(v)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: %q is not a date (YYYY-MM-DD)", name, clipText(40, v))
	}
	return &d, nil
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// exportFormat returns "csv" or "json" when the request asks for an export of the whole list, "" for the page.
func exportFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "html":
		return "", nil
	case "csv", "json":
		return f, nil
	default:
		return "", vigil.Errorf(vigil.EINVALID, "format: %q is not csv or json", clipText(20, f))
	}
}

// table is a list ready for export: a header and rows of cells.
type table struct {
	Header []string
	Rows   [][]string
}

// export writes a list as a CSV or JSON attachment named name.csv or name.json. JSON writes v (the same values the
// API returns); CSV writes t.
func export(w http.ResponseWriter, format, name string, v any, t table) error {
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+"."+format))
	if format == "json" {
		writeJSON(w, http.StatusOK, v)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write(t.Header)
	for _, row := range t.Rows {
		cw.Write(csvSafe(row))
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas: a cell from a feed or an SBOM that starts with = + - @ or a control
// character would run as a formula when a colleague opens the export, so it is prefixed with a quote.
func csvSafe(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			if _, err := strconv.ParseFloat(c, 64); err != nil {
				c = "'" + c
			}
		}
		out[i] = c
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func fmtTimeCSV(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
