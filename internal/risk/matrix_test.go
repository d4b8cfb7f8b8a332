package risk

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestDefaultMatrix checks all 15 cells against REGULATORY.md §2, written out here as the table is printed there.
func TestDefaultMatrix(t *testing.T) {
	table := `
| high | C | C | U | U | U |
| medium | C | C | C | U | U |
| low | C | C | C | C | U |`
	m := DefaultMatrix()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		f := strings.Fields(strings.ReplaceAll(line, "|", " "))
		for j, sev := range vigil.HarmSeverities {
			want := map[string]vigil.Risk{"C": vigil.RiskControlled, "U": vigil.RiskUncontrolled}[f[j+1]]
			got, err := m.Decide(vigil.Exploitability(f[0]), sev)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s × %s = %s, want %s", f[0], sev, got, want)
			}
			n++
		}
	}
	if n != 15 {
		t.Fatalf("%d cells checked, want 15", n)
	}
	if m.ID() != "vigil-default v1" {
		t.Errorf("id %q", m.ID())
	}
	if inc := m.Inconsistencies(); len(inc) != 0 {
		t.Errorf("default matrix inconsistent: %v", inc)
	}
}

func TestMatrixDetermine(t *testing.T) {
	tests := []struct {
		name, expl, sev string
		want            Decision
		wantCode        string
	}{
		{"high serious", "high", "serious", Decision{Exploitability: "high", Severity: "serious", Risk: "uncontrolled", Matrix: "vigil-default v1",
			Reason: "uncontrolled: exploitability high × severity serious is U in acceptance matrix vigil-default v1"}, ""},
		{"low critical", "low", "critical", Decision{Exploitability: "low", Severity: "critical", Risk: "controlled", Matrix: "vigil-default v1",
			Reason: "controlled: exploitability low × severity critical is C in acceptance matrix vigil-default v1"}, ""},
		{"unknown exploitability", "extreme", "minor", Decision{}, vigil.EINVALID},
		{"capitalised exploitability", "High", "minor", Decision{}, vigil.EINVALID},
		{"unknown severity", "low", "fatal", Decision{}, vigil.EINVALID},
		{"empty severity", "low", "", Decision{}, vigil.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultMatrix().Determine(vigil.Exploitability(tt.expl), tt.sev)
			if vigil.ErrorCode(err) != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", vigil.ErrorCode(err), tt.wantCode, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := (Matrix{}).Decide("high", "serious"); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("zero matrix: code %q, want EINVALID", vigil.ErrorCode(err))
	}
}

// TestMatrixJSONGolden pins the JSON form of the default matrix and checks it reads back to the same matrix.
func TestMatrixJSONGolden(t *testing.T) {
	got, err := json.MarshalIndent(DefaultMatrix(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "default-matrix.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	var back Matrix
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultMatrix(), back, cmp.AllowUnexported(Matrix{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// customMatrix returns the JSON of a valid custom matrix with edit applied to its decoded form.
func customMatrix(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"name": "pump-x", "version": "2025-03", "cells": {
		"high":   {"negligible": "C", "minor": "U", "serious": "U", "critical": "U", "catastrophic": "U"},
		"medium": {"negligible": "C", "minor": "C", "serious": "U", "critical": "U", "catastrophic": "U"},
		"low":    {"negligible": "C", "minor": "C", "serious": "C", "critical": "U", "catastrophic": "U"}}}`), &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMatrixValidation(t *testing.T) {
	cells := func(d map[string]any) map[string]any { return d["cells"].(map[string]any) }
	row := func(d map[string]any, r string) map[string]any { return cells(d)[r].(map[string]any) }
	tests := []struct {
		name     string
		edit     func(map[string]any)
		wantCode string
		inMsg    string
	}{
		{"valid custom", func(map[string]any) {}, "", ""},
		{"missing name", func(d map[string]any) { delete(d, "name") }, vigil.EINVALID, "name"},
		{"blank version", func(d map[string]any) { d["version"] = " " }, vigil.EINVALID, "version"},
		{"long name", func(d map[string]any) { d["name"] = strings.Repeat("n", 101) }, vigil.EINVALID, "matrix.name: longer"},
		{"missing version", func(d map[string]any) { delete(d, "version") }, vigil.EINVALID, "matrix.version: required"},
		{"control character in name", func(d map[string]any) { d["name"] = "a\nb" }, vigil.EINVALID, "control"},
		{"missing row", func(d map[string]any) { delete(cells(d), "medium") }, vigil.EINVALID, "cells.medium: missing"},
		{"missing cell", func(d map[string]any) { delete(row(d, "low"), "critical") }, vigil.EINVALID, "cells.low.critical: missing"},
		{"bad value", func(d map[string]any) { row(d, "high")["minor"] = "X" }, vigil.EINVALID, "cells.high.minor"},
		{"lower-case value", func(d map[string]any) { row(d, "high")["minor"] = "u" }, vigil.EINVALID, "cells.high.minor"},
		{"word value", func(d map[string]any) { row(d, "high")["minor"] = "uncontrolled" }, vigil.EINVALID, "cells.high.minor"},
		{"extra row", func(d map[string]any) { cells(d)["extreme"] = map[string]any{} }, vigil.EINVALID, "cells.extreme"},
		{"extra cell", func(d map[string]any) { row(d, "low")["fatal"] = "U" }, vigil.EINVALID, "cells.low.fatal"},
		{"no cells", func(d map[string]any) { delete(d, "cells") }, vigil.EINVALID, "matrix.uncontrolled: required"},
		{"cells and uncontrolled", func(d map[string]any) { d["uncontrolled"] = map[string]any{} }, vigil.EINVALID, "not both"},
		{"empty cells", func(d map[string]any) { d["cells"] = map[string]any{} }, vigil.EINVALID, "cells.low: missing"},
		{"unknown field", func(d map[string]any) { d["cels"] = 1 }, vigil.EINVALID, "cels"},
		{"cell not a string", func(d map[string]any) { row(d, "low")["minor"] = 1 }, vigil.EINVALID, "matrix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Matrix
			err := json.Unmarshal([]byte(customMatrix(t, tt.edit)), &m)
			if vigil.ErrorCode(err) != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", vigil.ErrorCode(err), tt.wantCode, err)
			}
			if err != nil {
				if !strings.Contains(vigil.ErrorMessage(err), tt.inMsg) {
					t.Errorf("message %q does not name %q", vigil.ErrorMessage(err), tt.inMsg)
				}
				return
			}
			got, err := m.Decide("high", "minor")
			if err != nil || got != vigil.RiskUncontrolled || m.ID() != "pump-x v2025-03" {
				t.Errorf("custom matrix: high × minor = %q (%v), id %q", got, err, m.ID())
			}
		})
	}
}

// TestMatrixUncontrolledForm checks the form the Determination API reads and writes: the uncontrolled cells by
// level, every other cell controlled, and that both JSON forms of one matrix decode to the same matrix.
func TestMatrixUncontrolledForm(t *testing.T) {
	fromUnc, err := DecodeMatrix([]byte(`{"name":"pump-x","version":"2025-03","uncontrolled":{
		"high":["minor","serious","critical","catastrophic"],"medium":["serious","critical","catastrophic"],"low":["critical","catastrophic"]}}`), "m")
	if err != nil {
		t.Fatal(err)
	}
	var fromCells Matrix
	if err := json.Unmarshal([]byte(customMatrix(t, func(map[string]any) {})), &fromCells); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromCells, fromUnc); diff != "" {
		t.Errorf("uncontrolled form and cells form differ (-cells +uncontrolled):\n%s", diff)
	}
	// A level left out has no uncontrolled cell; the written form lists every level.
	m, err := NewMatrixUncontrolled("strict-icd", "3", map[string][]string{"low": {"negligible"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		expl vigil.Exploitability
		sev  string
		want vigil.Risk
	}{{"low", "negligible", vigil.RiskUncontrolled}, {"low", "minor", vigil.RiskControlled}, {"high", "catastrophic", vigil.RiskControlled}} {
		if got, err := m.Decide(c.expl, c.sev); err != nil || got != c.want {
			t.Errorf("%s × %s = %q (%v), want %q", c.expl, c.sev, got, err, c.want)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"strict-icd","version":"3","uncontrolled":{"high":[],"low":["negligible"],"medium":[]}}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

// TestDecodeMatrixNamesTheField checks that every error names the place as a JSON path under the caller's field,
// so the Determination API and `vigil device update --matrix` can point at the mistake.
func TestDecodeMatrixNamesTheField(t *testing.T) {
	tests := []struct {
		name, doc string
		wantMsg   string // prefix of the message; "" for valid input
		wantZero  bool
	}{
		{"valid uncontrolled", `{"name":"m","version":"1","uncontrolled":{"high":["serious"]}}`, "", false},
		{"null is no matrix", `null`, "", true},
		{"empty is no matrix", ``, "", true},
		{"bad severity", `{"name":"m","uncontrolled":{"high":["fatal"]}}`, "device.acceptance_matrix.uncontrolled.high[0]: unknown severity", false},
		{"bad level", `{"name":"m","version":"1","uncontrolled":{"extreme":[]}}`, "device.acceptance_matrix.uncontrolled: unknown exploitability", false},
		{"no name", `{"uncontrolled":{"high":["serious"]}}`, "device.acceptance_matrix.name: required", false},
		{"no version", `{"name":"m","uncontrolled":{}}`, "device.acceptance_matrix.version: required", false},
		{"wrong type", `{"name":"m","version":"1","uncontrolled":{"high":"serious"}}`, "device.acceptance_matrix.uncontrolled: want an array, got JSON string", false},
		{"unknown field", `{"name":"m","version":"1","uncontrolled":{},"colour":"red"}`, "device.acceptance_matrix: ", false},
		{"trailing data", `{"name":"m","version":"1","uncontrolled":{}} {}`, "device.acceptance_matrix: data after", false},
		{"not an object", `[1]`, "device.acceptance_matrix: ", false},
		{"too large", `{"name":"` + strings.Repeat("x", MaxMatrixJSON) + `"}`, "device.acceptance_matrix: ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeMatrix([]byte(tt.doc), "device.acceptance_matrix")
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.IsZero() != tt.wantZero {
					t.Errorf("IsZero = %v, want %v", m.IsZero(), tt.wantZero)
				}
				return
			}
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(vigil.ErrorMessage(err), tt.wantMsg) {
				t.Errorf("error %v (code %q), want EINVALID starting %q", err, vigil.ErrorCode(err), tt.wantMsg)
			}
		})
	}
}

func TestZeroMatrixJSON(t *testing.T) {
	var holder struct {
		M Matrix `json:"m"`
	}
	b, err := json.Marshal(holder)
	if err != nil || string(b) != `{"m":null}` {
		t.Fatalf("zero matrix marshals as %s (%v), want null", b, err)
	}
	if err := json.Unmarshal(b, &holder); err != nil || !holder.M.IsZero() {
		t.Fatalf("null does not read back as the zero matrix: %v", err)
	}
	if DefaultMatrix().IsZero() || !DefaultMatrix().Equal(DefaultMatrix()) || DefaultMatrix().Equal(Matrix{}) {
		t.Error("IsZero/Equal disagree with the default matrix")
	}
}

func TestMatrixCellsIsACopy(t *testing.T) {
	m := DefaultMatrix()
	c := m.Cells()
	c["high"]["serious"] = "C"
	if got, _ := m.Decide("high", "serious"); got != vigil.RiskUncontrolled {
		t.Errorf("changing Cells() changed the matrix: %s", got)
	}
}

func TestMatrixInconsistencies(t *testing.T) {
	m, err := NewMatrix("odd", "1", map[string]map[string]string{
		"high":   {"negligible": "C", "minor": "C", "serious": "C", "critical": "U", "catastrophic": "U"},
		"medium": {"negligible": "C", "minor": "C", "serious": "U", "critical": "U", "catastrophic": "U"},
		"low":    {"negligible": "C", "minor": "U", "serious": "C", "critical": "C", "catastrophic": "U"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"low.serious is C but low.minor is U",
		"medium.minor is C but low.minor is U",
		"high.serious is C but medium.serious is U",
	}
	if diff := cmp.Diff(want, m.Inconsistencies()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// FuzzMatrixJSON checks that no document panics the matrix decoder (either JSON form), that every error is
// EINVALID, and that what decodes is null or complete (decides all 15 cells) and survives a round trip. Seeds are in testdata/fuzz/FuzzMatrixJSON.
func FuzzMatrixJSON(f *testing.F) {
	def, err := json.Marshal(DefaultMatrix())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	f.Add([]byte(`{"name":"x","version":"1","cells":{}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var m Matrix
		if err := json.Unmarshal(doc, &m); err != nil {
			if code := vigil.ErrorCode(err); code != vigil.EINVALID {
				var syntax *json.SyntaxError
				if !errors.As(err, &syntax) { // encoding/json checks syntax before calling UnmarshalJSON
					t.Fatalf("code %q: %v", code, err)
				}
			}
			return
		}
		if m.IsZero() {
			// Only null means "no matrix"; anything else that decodes must be complete.
			if strings.TrimSpace(string(doc)) != "null" {
				t.Fatalf("%q decoded to the zero matrix", doc)
			}
			return
		}
		for _, l := range vigil.Exploitabilities {
			for _, s := range vigil.HarmSeverities {
				if _, err := m.Decide(l, s); err != nil {
					t.Fatalf("%s × %s: %v", l, s, err)
				}
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Matrix
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// BenchmarkDecodeMatrix measures reading a device's matrix, which the live determination does on every view.
func BenchmarkDecodeMatrix(b *testing.B) {
	doc, err := json.Marshal(DefaultMatrix())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := DecodeMatrix(doc, "device.acceptance_matrix"); err != nil {
			b.Fatal(err)
		}
	}
}
