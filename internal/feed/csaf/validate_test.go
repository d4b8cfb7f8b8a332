package csaf

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

type testcases struct {
	Tests []struct {
		ID       string `json:"id"`
		Group    string `json:"group"`
		Failures []struct {
			Name string `json:"name"`
		} `json:"failures"`
		Valid []struct {
			Name string `json:"name"`
		} `json:"valid"`
	} `json:"tests"`
}

// TestConformance drives the OASIS conformance suite: for every implemented mandatory test, each document listed
// under "failures" must fail it and each listed under "valid" must pass it.
func TestConformance(t *testing.T) {
	dir := testfix.Path(t, "csaf-2.0-spec-tests", "test", "validator", "data")
	raw, err := os.ReadFile(filepath.Join(dir, "testcases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tc testcases
	if err := json.Unmarshal(raw, &tc); err != nil {
		t.Fatal(err)
	}
	implemented := map[string]bool{}
	for _, m := range MandatoryTests() {
		implemented[m.ID] = true
	}
	reports := map[string]Report{}
	report := func(t *testing.T, name string) Report {
		if r, ok := reports[name]; ok {
			return r
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Validate(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		reports[name] = r
		return r
	}
	covered := 0
	for _, test := range tc.Tests {
		if !implemented[test.ID] {
			continue
		}
		covered++
		t.Run(test.ID, func(t *testing.T) {
			if len(test.Failures) == 0 {
				t.Fatal("no failing documents listed")
			}
			for _, f := range test.Failures {
				if r := report(t, f.Name); !slices.Contains(r.FailedTests(), test.ID) {
					t.Errorf("%s: should fail %s; failed %v, not run: %q", f.Name, test.ID, r.FailedTests(), r.NotRun)
				}
			}
			for _, v := range test.Valid {
				r := report(t, v.Name)
				for _, f := range r.Failed {
					if f.ID == test.ID {
						t.Errorf("%s: should pass %s; got %v", v.Name, test.ID, f.Errors)
					}
				}
			}
		})
	}
	if covered != len(MandatoryTests()) {
		t.Errorf("%d implemented tests have conformance cases, want all %d", covered, len(MandatoryTests()))
	}
}

// officialExamples returns the OASIS example advisories (BSI, Cisco, Red Hat) and CSAF VEX documents.
func officialExamples(t testing.TB) []string {
	dir := testfix.Path(t, "csaf-2.0-spec-tests", "examples", "csaf")
	a, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	b, _ := filepath.Glob(filepath.Join(dir, "csaf_vex", "*.json"))
	if len(a) != 6 || len(b) != 13 {
		t.Fatalf("found %d examples and %d VEX examples, want 6 and 13", len(a), len(b))
	}
	return append(a, b...)
}

// TestValidateRealDocuments: every CISA advisory of the fixture set and every official example conforms, so the
// validator raises no false alarm on real documents.
func TestValidateRealDocuments(t *testing.T) {
	paths := officialExamples(t)
	for _, ps := range cisaFiles(t) {
		paths = append(paths, ps...)
	}
	if len(paths) != 19+212 {
		t.Fatalf("%d documents, want 231", len(paths))
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Validate(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !r.Valid() {
			t.Errorf("%s: %+v", filepath.Base(p), r)
		}
	}
}

const minimalDoc = `{
	"document": {
		"category": "csaf_base", "csaf_version": "2.0", "title": "Minimal",
		"publisher": {"category": "vendor", "name": "Acme", "namespace": "https://acme.example"},
		"tracking": {
			"id": "ACME-1", "version": "1", "status": "final",
			"initial_release_date": "2024-01-01T00:00:00Z", "current_release_date": "2024-01-01T00:00:00Z",
			"revision_history": [{"number": "1", "date": "2024-01-01T00:00:00Z", "summary": "Initial"}]
		}
	}
}`

// TestValidateSchema checks the schema half of the report, including that a missing generator is fine (the OASIS
// schema makes it optional) and that errors carry the JSON pointer.
func TestValidateSchema(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		wantValid bool
		want      []string // substrings of SchemaErrors, in order
		wantTests []string
	}{
		{name: "minimal, no generator", doc: minimalDoc, wantValid: true},
		{name: "missing title", doc: strings.Replace(minimalDoc, `"title": "Minimal",`, "", 1), want: []string{"/document: missing property 'title'"}},
		{name: "bad date-time", doc: strings.Replace(minimalDoc, `"initial_release_date": "2024-01-01T00:00:00Z"`, `"initial_release_date": "2024-01-01"`, 1), want: []string{"/document/tracking/initial_release_date: '2024-01-01' is not valid date-time"}},
		{name: "not in enum", doc: strings.Replace(minimalDoc, `"category": "vendor"`, `"category": "bogus"`, 1), want: []string{"/document/publisher/category: value must be one of"}},
		{name: "version does not match revision", doc: strings.Replace(minimalDoc, `"version": "1"`, `"version": "2"`, 1), wantTests: []string{"6.1.16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Validate([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if r.Valid() != tt.wantValid {
				t.Errorf("Valid() = %v: %+v", r.Valid(), r)
			}
			if len(r.SchemaErrors) != len(tt.want) {
				t.Fatalf("schema errors %q, want %d", r.SchemaErrors, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(r.SchemaErrors[i], w) {
					t.Errorf("schema error %q does not contain %q", r.SchemaErrors[i], w)
				}
			}
			if diff := cmp.Diff(tt.wantTests, r.FailedTests(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("failed tests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidateInputErrors: input that cannot be judged is an EINVALID error; input of the wrong JSON types is
// judged by the schema while the mandatory tests say why they did not run.
func TestValidateInputErrors(t *testing.T) {
	for _, in := range []string{`{"document":`, strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `{"document": {"title": "` + strings.Repeat("x", 2<<20) + `"}}`} {
		if _, err := Validate([]byte(in)); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("Validate(%.20q...): code %q (%v), want EINVALID", in, vigil.ErrorCode(err), err)
		}
	}
	r, err := Validate([]byte(`{"document": {"title": 7}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid() || r.NotRun == "" || !strings.Contains(r.NotRun, "document.title") || len(r.SchemaErrors) == 0 {
		t.Errorf("report %+v: want schema errors and NotRun naming document.title", r)
	}
}

// TestMandatoryTestsListed guards the claim made in the report: at least the tests the assignment names.
func TestMandatoryTestsListed(t *testing.T) {
	var ids []string
	for _, m := range MandatoryTests() {
		ids = append(ids, m.ID)
	}
	for _, id := range []string{"6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.1.5", "6.1.6", "6.1.7", "6.1.8", "6.1.9", "6.1.10", "6.1.11", "6.1.12", "6.1.13", "6.1.14", "6.1.16", "6.1.21", "6.1.22", "6.1.23", "6.1.24"} {
		if !slices.Contains(ids, id) {
			t.Errorf("mandatory test %s is not implemented", id)
		}
	}
}

func BenchmarkValidateICSMA(b *testing.B) {
	var docs [][]byte
	total := 0
	for _, p := range cisaFiles(b)["icsma"] {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, raw)
		total += len(raw)
	}
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, d := range docs {
			if _, err := Validate(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestLongRelationshipChain: 20,000 relationships, each built on the next and listed in the worst order, end at a
// real product; three more form a circle. Parse must resolve the whole chain to the base product and Validate
// must flag exactly the circle (6.1.3). A quadratic walk would not finish within the test timeout.
func TestLongRelationshipChain(t *testing.T) {
	const n = 20000
	var b strings.Builder
	b.WriteString(`{"document": {"category": "csaf_base", "csaf_version": "2.0", "title": "chain", "publisher": {"category": "vendor", "name": "p", "namespace": "https://p.example"},
		"tracking": {"id": "CHAIN", "version": "1", "status": "final", "initial_release_date": "2024-01-01T00:00:00Z", "current_release_date": "2024-01-01T00:00:00Z",
		"revision_history": [{"number": "1", "date": "2024-01-01T00:00:00Z", "summary": "s"}]}},
		"product_tree": {"full_product_names": [{"name": "base", "product_id": "R0"}], "relationships": [`)
	rel := func(id, ref string) string {
		return `{"category": "installed_on", "product_reference": "` + ref + `", "relates_to_product_reference": "R0", "full_product_name": {"name": "n` + id + `", "product_id": "` + id + `"}},`
	}
	for i := 1; i <= n; i++ {
		b.WriteString(rel(fmt.Sprintf("R%d", i), fmt.Sprintf("R%d", i-1)))
	}
	b.WriteString(rel("C1", "C2") + rel("C2", "C3"))
	b.WriteString(`{"category": "installed_on", "product_reference": "C1", "relates_to_product_reference": "R0", "full_product_name": {"name": "nC3", "product_id": "C3"}}]}}`)
	doc, err := Parse("chain.json", strings.NewReader(b.String()), untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Products) != n+4 {
		t.Fatalf("%d products, want %d", len(doc.Products), n+4)
	}
	for _, p := range doc.Products {
		want := "base"
		if strings.HasPrefix(p.ID, "C") {
			want = "n" + p.ID
		}
		if p.Name != want {
			t.Fatalf("product %s: name %q, want %q", p.ID, p.Name, want)
		}
	}
	r, err := Validate([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"6.1.3"}, r.FailedTests()); diff != "" {
		t.Fatalf("failed tests (-want +got):\n%s\n%+v", diff, r)
	}
	if got := len(r.Failed[0].Errors); got != 3 {
		t.Errorf("6.1.3 errors: %q, want the 3 circular ids", r.Failed[0].Errors)
	}
}

// TestValidateFanOut: a few group ids repeated across many flags would make the group-expanding tests do
// billions of steps; Validate refuses to run the tests instead, as Parse refuses the document.
func TestValidateFanOut(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"document": {"category": "csaf_base", "csaf_version": "2.0", "title": "fan", "publisher": {"category": "vendor", "name": "p", "namespace": "https://p.example"},
		"tracking": {"id": "FAN", "version": "1", "status": "final", "initial_release_date": "2024-01-01T00:00:00Z", "current_release_date": "2024-01-01T00:00:00Z",
		"revision_history": [{"number": "1", "date": "2024-01-01T00:00:00Z", "summary": "s"}]}},
		"product_tree": {"full_product_names": [`)
	for i := range 50000 {
		fmt.Fprintf(&b, `{"name": "p", "product_id": "P%d"},`, i)
	}
	b.WriteString(`{"name": "p", "product_id": "X"}], "product_groups": [{"group_id": "G", "product_ids": [`)
	for i := range 50000 {
		fmt.Fprintf(&b, `"P%d",`, i)
	}
	b.WriteString(`"X"]}]}, "vulnerabilities": [{"flags": [`)
	for range 50 {
		b.WriteString(`{"label": "component_not_present", "group_ids": ["G"]},`)
	}
	b.WriteString(`{"label": "component_not_present", "group_ids": ["G"]}]}]}`)
	r, err := Validate([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.NotRun, "product references after group expansion") {
		t.Errorf("NotRun = %q", r.NotRun)
	}
	if _, err := Parse("fan.json", strings.NewReader(b.String()), untrusted.Limits{}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("Parse: %v, want EINVALID", err)
	}
}
