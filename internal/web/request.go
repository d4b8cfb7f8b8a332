package web

import (
	"bytes"
	"encoding"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
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

// withID returns the service get gives and the route's {id}: how a handler of one object starts.
func withID[T any](r *http.Request, get func() (T, error)) (T, int64, error) {
	svc, err := get()
	if err != nil {
		return svc, 0, err
	}
	id, err := idParam(r, "id")
	return svc, id, err
}

// decodeJSON reads a bounded JSON body into v, refusing unknown fields so that a misspelt field is an error naming
// it rather than silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		return jsonError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fieldOfValue(body, v, jsonError(err))
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

// fieldOfValue names the field of a value a type refused while decoding (a date such as 2025-13-01): encoding/json
// passes the type's own error through without saying where the value was. The body is walked in document order,
// as the decoder read it, for the first string value whose field's type (found in v's type by the path) refuses it
// with the same error, and that path (plan.due, items[2].on) is put in front of the message.
func fieldOfValue(body []byte, v any, err error) error {
	var ve *vigil.Error
	if !errors.As(err, &ve) {
		return err
	}
	type level struct {
		key     string // the object key whose value is being read
		index   int    // the array index, -1 in an object
		wantKey bool   // in an object, the next string is a key
	}
	var stack []level
	next := func() { // a value is complete: its object expects a key next, its array the next index
		if n := len(stack); n > 0 {
			if stack[n-1].index >= 0 {
				stack[n-1].index++
			} else {
				stack[n-1].wantKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, terr := dec.Token()
		if terr != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, level{index: -1, wantKey: true})
			case '[':
				stack = append(stack, level{index: 0})
			default:
				stack = stack[:len(stack)-1]
				next()
			}
			continue
		case string:
			if n := len(stack); n > 0 && stack[n-1].index < 0 && stack[n-1].wantKey {
				stack[n-1].key, stack[n-1].wantKey = t, false
				continue
			}
			var path strings.Builder
			ft := reflect.TypeOf(v)
			for _, l := range stack {
				if l.index >= 0 {
					fmt.Fprintf(&path, "[%d]", l.index)
					ft = elemType(ft)
				} else {
					if path.Len() > 0 {
						path.WriteByte('.')
					}
					path.WriteString(l.key)
					ft = fieldType(ft, l.key)
				}
			}
			if refuses(ft, t, ve.Message) {
				msg := strings.TrimPrefix(ve.Message, stack[len(stack)-1].key+": ") // a word's error names its key
				return vigil.Errorf(ve.Code, "%s: %s", path.String(), msg)
			}
		}
		next()
	}
}

// elemType is the element type of a slice or array (through pointers); nil for anything else.
func elemType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		return nil
	}
	return t.Elem()
}

// fieldType is the type of the struct field (through pointers and embedded structs) encoding/json decodes key into.
func fieldType(t reflect.Type, key string) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			if ft := fieldType(f.Type, key); ft != nil {
				return ft
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if f.IsExported() && name != "-" && strings.EqualFold(name, key) {
			return f.Type
		}
	}
	return nil
}

// refuses reports whether a value of type t unmarshals text with the error message msg.
func refuses(t reflect.Type, text, msg string) bool {
	if t == nil {
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	u, ok := reflect.New(t).Interface().(encoding.TextUnmarshaler)
	if !ok {
		return false
	}
	err := u.UnmarshalText([]byte(text))
	return err != nil && vigil.ErrorMessage(err) == msg
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
