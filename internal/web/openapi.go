package web

import (
	"encoding"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil"
)

// The OpenAPI document is generated from the route table and the Go types the handlers read and write, so it cannot
// drift from them by hand; a test walks chi's routes to check every registered API route is documented (and every
// documented one registered), and validates real responses against the schemas here.

// openapiDoc is the rendered document, built once per server.
type openapiDoc struct {
	once sync.Once
	b    []byte
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	s.doc.once.Do(func() {
		s.doc.b, _ = json.MarshalIndent(s.OpenAPI(), "", "  ")
	})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(s.doc.b)
	return nil
}

// OpenAPI returns the OpenAPI 3.1 document of the JSON API.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}, names: map[reflect.Type]string{}}
	errRef := g.schema(reflect.TypeOf(apiError{}))
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		if !rt.API {
			continue
		}
		op := map[string]any{
			"summary":      rt.Summary,
			"operationId":  operationID(rt),
			"x-permission": rt.Perm,
			"security":     []any{map[string]any{"bearerAuth": []string{}}, map[string]any{"cookieAuth": []string{}}},
		}
		if rt.Session {
			op["security"] = []any{map[string]any{"cookieAuth": []string{}}}
		}
		var params []any
		for _, name := range pathParams(rt.Pattern) {
			typ := "string"
			if name == "id" {
				typ = "integer"
			}
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": typ}})
		}
		for _, q := range rt.Query {
			p := map[string]any{"name": q.Name, "in": "query", "schema": map[string]any{"type": q.Type}}
			if q.Doc != "" {
				p["description"] = q.Doc
			}
			params = append(params, p)
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		switch {
		case rt.Upload:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"multipart/form-data":      map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}, "required": []string{"file"}}},
				"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
			}}
		case rt.In != nil:
			body := map[string]any{"schema": g.schema(reflect.TypeOf(rt.In))}
			if rt.Example != nil {
				body["example"] = rt.Example
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": body}}
		}
		status := rt.Status
		if status == 0 {
			status = http.StatusOK
		}
		resp := map[string]any{}
		okResp := map[string]any{"description": http.StatusText(status)}
		switch {
		case rt.Download != "":
			okResp["content"] = map[string]any{rt.Download: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		case rt.Resp != nil:
			okResp["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Resp))}}
		}
		resp[itoa(int64(status))] = okResp
		for _, code := range []int{400, 401, 403, 404, 409, 500} {
			resp[itoa(int64(code))] = map[string]any{"description": http.StatusText(code), "content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		op["responses"] = resp
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Vigil API", "version": "1",
			"description": "The JSON API of Vigil, a medical-device postmarket cybersecurity program. Authenticate with `Authorization: Bearer <token>` " +
				"(create one with `vigil token create` or on your account page) or with the session cookie of a browser; cookie-authenticated " +
				"writes must send the session's CSRF token in `X-CSRF-Token`. Errors are `{\"error\": {\"code\", \"message\"}}` with the status " +
				"from one table: EINVALID 400, EUNAUTHORIZED 401, EFORBIDDEN 403, ENOTFOUND 404, ECONFLICT 409, EINTERNAL 500, EUNAVAILABLE 503 (a full disk, a busy database or a feed host that does not answer: the message says which; retry once it is fixed). `x-permission` " +
				"names the permission an operation needs (admin holds all; psirt assesses and records events; regulatory records events and " +
				"determinations; viewer reads)."},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer"},
				"cookieAuth": map[string]any{"type": "apiKey", "in": "cookie", "name": "__Host-vigil_session",
					"description": "vigil_session when the server runs without TLS"},
			},
		},
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func pathParams(p string) []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(p, -1) {
		out = append(out, m[1])
	}
	return out
}

func operationID(rt route) string {
	parts := strings.Split(strings.TrimPrefix(rt.Pattern, "/api/v1/"), "/")
	id := strings.ToLower(rt.Method)
	for _, p := range parts {
		if strings.HasPrefix(p, "{") {
			p = "by" + strings.Trim(p, "{}")
		}
		if p != "" {
			id += strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return id
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 uses it) following encoding/json's rules:
// json tags, omitempty/omitzero (not required), embedded structs flattened, nil slices and pointers nullable.
type schemaGen struct {
	defs  map[string]any
	names map[reflect.Type]string
}

var (
	timeType = reflect.TypeOf(time.Time{})
	dateType = reflect.TypeOf(vigil.Date{})
	rawType  = reflect.TypeOf(json.RawMessage{})
	textM    = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	jsonM    = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
)

func nullable(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case dateType:
		return map[string]any{"type": []string{"string", "null"}, "format": "date"}
	case rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.Interface:
		return map[string]any{}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice:
		return map[string]any{"type": []string{"array", "null"}, "items": g.schema(t.Elem())}
	case reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return map[string]any{"type": []string{"object", "null"}, "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if t.Implements(jsonM) || reflect.PointerTo(t).Implements(jsonM) {
			// It writes its own JSON; its Go fields say nothing reliable about the shape.
			return map[string]any{"description": t.Name() + " (its own JSON form)"}
		}
		if t.Implements(textM) || reflect.PointerTo(t).Implements(textM) {
			return map[string]any{"type": "string"}
		}
		if t.Name() == "" {
			return g.object(t)
		}
		name, ok := g.names[t]
		if !ok {
			name = schemaName(t)
			g.names[t] = name
			g.defs[name] = map[string]any{} // placeholder: recursive types
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func schemaName(t reflect.Type) string {
	pkg := t.PkgPath()
	name := t.Name()
	name = strings.ToUpper(name[:1]) + name[1:]
	if strings.Contains(pkg, "/internal/service/") {
		return name // the use cases' results are the API's own types, like the domain's
	}
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	switch pkg {
	case "vigil", "web":
		return name
	}
	return strings.ToUpper(pkg[:1]) + pkg[1:] + name
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required)
	sort.Strings(required)
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				g.fields(et, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}
