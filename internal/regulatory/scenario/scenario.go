// Package scenario reads the worked determination cases of the Determination API (shared testdata/scenarios) and
// compares a determination with a case's partial expectation, so that the engine, the CLI and the HTTP API are
// all checked against the same files with the same rules.
package scenario

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// Scenario is one case file: {"name", "source", "facts", "expect"}.
type Scenario struct {
	File   string          `json:"-"`
	Name   string          `json:"name"`
	Source string          `json:"source"`
	Facts  json.RawMessage `json:"facts"`
	Expect json.RawMessage `json:"expect"`
}

// maxFileBytes bounds one scenario file; they are a few kilobytes.
const maxFileBytes = 1 << 20

// Load reads every *.json file of dir in name order.
func Load(dir string) ([]Scenario, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out := make([]Scenario, 0, len(paths))
	for _, p := range paths {
		s, err := LoadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// LoadFile reads one scenario file.
func LoadFile(path string) (Scenario, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Scenario{}, err
	}
	if st.Size() > maxFileBytes {
		return Scenario{}, fmt.Errorf("scenario %s: larger than %d bytes", path, maxFileBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, err
	}
	var s Scenario
	if err := json.Unmarshal(data, &s); err != nil {
		return Scenario{}, fmt.Errorf("scenario %s: %w", path, err)
	}
	if len(s.Facts) == 0 || len(s.Expect) == 0 {
		return Scenario{}, fmt.Errorf("scenario %s: facts and expect are required", path)
	}
	s.File = filepath.Base(path)
	return s, nil
}

// FactsOf returns the facts of a scenario file, or data itself when it is a bare facts document (it has a
// vulnerability, or no facts), so that a shipped case can be given to the engine as it is.
func FactsOf(data []byte) []byte {
	var s struct {
		Facts         json.RawMessage `json:"facts"`
		Vulnerability json.RawMessage `json:"vulnerability"`
	}
	if json.Unmarshal(data, &s) == nil && len(s.Facts) > 0 && len(s.Vulnerability) == 0 {
		return s.Facts
	}
	return data
}

// WantCode returns the error code the scenario expects ({"error": {"code": ...}}), or "" when it expects a
// determination.
func (s Scenario) WantCode() string {
	var e struct {
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(s.Expect, &e) != nil || e.Error == nil {
		return ""
	}
	return e.Error.Code
}

// Diff compares got (a determination or an {"error": ...} document, as JSON) with the partial expectation and
// returns one line per difference. Every key expect holds must equal got's value at that key: objects key by key,
// recursively; arrays by length and then element by element; "deadlines" whole, so that a clock that should not
// be there is reported.
func Diff(expect, got []byte) []string {
	var e, g any
	if err := json.Unmarshal(expect, &e); err != nil {
		return []string{"expect: " + err.Error()}
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return []string{"got: " + err.Error()}
	}
	var out []string
	diff("", e, g, &out)
	return out
}

func diff(path string, e, g any, out *[]string) {
	if path == "deadlines" {
		if !reflect.DeepEqual(e, g) {
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s", path, js(e), js(g)))
		}
		return
	}
	switch ev := e.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want an object, got %s", name(path), js(g)))
			return
		}
		keys := make([]string, 0, len(ev))
		for k := range ev {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			gk, ok := gv[k]
			if !ok {
				*out = append(*out, fmt.Sprintf("%s: missing, want %s", p, js(ev[k])))
				continue
			}
			diff(p, ev[k], gk, out)
		}
	case []any:
		gv, ok := g.([]any)
		if !ok || len(gv) != len(ev) {
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s", name(path), js(e), js(g)))
			return
		}
		for i := range ev {
			diff(fmt.Sprintf("%s[%d]", path, i), ev[i], gv[i], out)
		}
	default:
		if !reflect.DeepEqual(e, g) {
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s", name(path), js(e), js(g)))
		}
	}
}

func name(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func js(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.TrimSpace(s)
}
