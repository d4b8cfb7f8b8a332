package csaf

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// cisaFiles returns the CISA CSAF documents of the fixture set by kind: icsma, icsa, va (the IT advisories).
func cisaFiles(t testing.TB) map[string][]string {
	t.Helper()
	root := testfix.Path(t, "cisa-csaf")
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if d.IsDir() || !strings.HasSuffix(base, ".json") || strings.Contains(base, "feed") {
			return nil
		}
		kind, _, _ := strings.Cut(base, "-")
		out[kind] = append(out[kind], p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseFile(t testing.TB, path string) *Document {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := Parse(filepath.Base(path), f, untrusted.Limits{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return doc
}

// TestParseCISA parses every CISA advisory of the fixture set. The expected counts were computed independently
// from the JSON (vulnerabilities, distinct product ids defined, distinct product ids per status list).
func TestParseCISA(t *testing.T) {
	type counts struct{ Docs, Advisories, Products, StatusEntries int }
	want := map[string]counts{
		"icsma": {108, 337, 480, 1234},
		"icsa":  {100, 276, 585, 2084},
		"va":    {4, 9, 15, 22},
	}
	files := cisaFiles(t)
	got := map[string]counts{}
	for kind, paths := range files {
		c := got[kind]
		for _, p := range paths {
			doc := parseFile(t, p)
			c.Docs++
			c.Advisories += len(doc.Advisories)
			c.Products += len(doc.Products)
			for i, a := range doc.Advisories {
				c.StatusEntries += len(a.Products)
				if a.Source != vigil.SourceCSAF || a.Document != doc.ID || !strings.HasPrefix(a.ID, "CVE-") {
					t.Errorf("%s: advisory %d: source %q document %q id %q", p, i, a.Source, a.Document, a.ID)
				}
				if a.Title == "" || a.Summary == "" || len(a.Products) == 0 {
					t.Errorf("%s: %s: empty title, summary or products", p, a.ID)
				}
				for _, pr := range a.Products {
					if pr.Name == "" || pr.Status == "" {
						t.Errorf("%s: %s: product %q has no name or status (undefined id?)", p, a.ID, pr.ID)
					}
				}
			}
			if doc.Publisher.Name != "CISA" || doc.InitialRelease.IsZero() || doc.CurrentRelease.Before(doc.InitialRelease) {
				t.Errorf("%s: publisher %q, releases %v..%v", p, doc.Publisher.Name, doc.InitialRelease, doc.CurrentRelease)
			}
			for _, pr := range doc.Products {
				if pr.Status != "" {
					t.Errorf("%s: document product %s has status %q", p, pr.ID, pr.Status)
				}
			}
		}
		got[kind] = c
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts mismatch (-want +got):\n%s", diff)
	}
}

// TestParseGolden compares two representative ICSMA documents with their golden JSON: a recent multi-CVE
// advisory with a version range (Philips Vue PACS) and an older one revised four times with exact versions.
func TestParseGolden(t *testing.T) {
	for _, tt := range []struct{ year, file string }{
		{"2024", "icsma-24-200-01.json"},
		{"2017", "icsma-17-017-02.json"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			doc := parseFile(t, testfix.Path(t, "cisa-csaf", "OT", "white", tt.year, tt.file))
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep "<= 9.33" readable in the golden file
			enc.SetIndent("", "  ")
			if err := enc.Encode(doc); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join("testdata", strings.TrimSuffix(tt.file, ".json")+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("golden mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseMapping checks the mapping rules on small documents: product tree flattening (branches, top-level
// full product names, relationships, groups), status entries, fallbacks and scores.
func TestParseMapping(t *testing.T) {
	const tree = `"product_tree": {
		"branches": [{"category": "vendor", "name": "Acme", "branches": [
			{"category": "product_name", "name": "Pump", "branches": [
				{"category": "product_version", "name": "2.1", "product": {"name": "Acme Pump 2.1", "product_id": "P21",
					"product_identification_helper": {"model_numbers": ["M-1"], "skus": ["S-9"], "cpe": "cpe:2.3:h:acme:pump:2.1:*:*:*:*:*:*:*"}}},
				{"category": "product_version_range", "name": "vers:generic/<2.1", "product": {"name": "Acme Pump <2.1", "product_id": "Pold"}}]}]}],
		"full_product_names": [{"name": "libfoo 1.0", "product_id": "LIB", "product_identification_helper": {"purl": "pkg:generic/libfoo@1.0"}}],
		"relationships": [{"category": "default_component_of", "product_reference": "LIB", "relates_to_product_reference": "P21",
			"full_product_name": {"name": "libfoo 1.0 in Acme Pump 2.1", "product_id": "LIB-IN-P21"}}],
		"product_groups": [{"group_id": "G", "product_ids": ["P21", "Pold"]}]}`
	doc := func(vulns string) string {
		return `{"document": {"category": "csaf_security_advisory", "csaf_version": "2.0", "title": "Acme <script>alert(1)</script> Pump",
			"publisher": {"category": "vendor", "name": "Acme PSIRT", "namespace": "https://acme.example"},
			"notes": [{"category": "summary", "text": "Document summary."}],
			"references": [{"category": "self", "url": "https://acme.example/adv/1.json"}],
			"tracking": {"id": "ACME-1", "version": "1", "status": "final", "initial_release_date": "2024-01-02T03:04:05Z",
				"current_release_date": "2024-02-02T00:00:00.5+01:00",
				"revision_history": [{"number": "1", "date": "2024-01-02T03:04:05Z", "summary": "Initial"}]}},
			` + tree + `, "vulnerabilities": [` + vulns + `]}`
	}
	pump21 := vigil.Product{ID: "P21", Vendor: "Acme", Name: "Pump", Version: "2.1", CPE: "cpe:2.3:h:acme:pump:2.1:*:*:*:*:*:*:*", ModelNumbers: []string{"M-1"}, SKUs: []string{"S-9"}}
	pumpOld := vigil.Product{ID: "Pold", Vendor: "Acme", Name: "Pump", VersionRange: "vers:generic/<2.1"}
	lib := vigil.Product{ID: "LIB", Name: "libfoo 1.0", Purl: "pkg:generic/libfoo@1.0"}
	libIn := lib
	libIn.ID = "LIB-IN-P21"
	with := func(p vigil.Product, status string) vigil.Product { p.Status = status; return p }
	self := vigil.Reference{Type: "self", URL: "https://acme.example/adv/1.json"}
	published := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	modified := time.Date(2024, 2, 1, 23, 0, 0, 5e8, time.UTC)

	tests := []struct {
		name  string
		vulns string
		want  []vigil.Advisory
	}{
		{
			name: "statuses, groups, scores, notes",
			vulns: `{"cve": "CVE-2024-0001", "title": "Overflow", "cwe": {"id": "CWE-787", "name": "Out-of-bounds Write"},
				"ids": [{"system_name": "Acme", "text": "ACME-BUG-7"}],
				"notes": [{"category": "description", "text": "Long description."}, {"category": "summary", "text": "Short."}],
				"release_date": "2023-12-31T00:00:00Z",
				"product_status": {"known_affected": ["P21", "Pold", "P21"], "fixed": ["LIB-IN-P21"], "recommended": ["P21"]},
				"scores": [{"products": ["P21"], "cvss_v3": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"},
					"cvss_v2": {"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:C/I:C/A:C", "baseScore": 10.0}},
					{"products": ["Pold"], "cvss_v3": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}],
				"remediations": [{"category": "vendor_fix", "details": "Update to 2.2.", "url": "https://acme.example/fix", "product_ids": ["P21"], "group_ids": ["G"]}],
				"references": [{"category": "external", "url": "https://nvd.example/CVE-2024-0001"}]}`,
			want: []vigil.Advisory{{
				Source: "csaf", ID: "CVE-2024-0001", Aliases: []string{"ACME-BUG-7"}, Document: "ACME-1", Title: "Overflow",
				Summary: "Short.", Details: "Long description.",
				Published: time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC), Modified: modified,
				Scores: []vigil.Score{
					{Source: "Acme PSIRT", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Base: 9.8},
					{Source: "Acme PSIRT", Vector: "AV:N/AC:L/Au:N/C:C/I:C/A:C", Base: 10},
				},
				CWEs:         []string{"CWE-787"},
				References:   []vigil.Reference{{Type: "external", URL: "https://nvd.example/CVE-2024-0001"}, self},
				Products:     []vigil.Product{with(libIn, "fixed"), with(pump21, "known_affected"), with(pumpOld, "known_affected"), with(pump21, "recommended")},
				Remediations: []vigil.Remediation{{Category: "vendor_fix", Details: "Update to 2.2.", URL: "https://acme.example/fix", ProductIDs: []string{"P21", "Pold"}}},
			}},
		},
		{
			name:  "no CVE, no title, no notes: ids and text fall back to the document",
			vulns: `{"product_status": {"under_investigation": ["UNDEFINED"]}}, {"cve": "CVE-2024-0002", "notes": [{"category": "legal_disclaimer", "text": "x"}, {"category": "other", "text": "Other text."}]}`,
			want: []vigil.Advisory{
				{
					Source: "csaf", ID: "ACME-1#0", Document: "ACME-1", Title: "Acme <script>alert(1)</script> Pump", Summary: "Document summary.",
					Published: published, Modified: modified, References: []vigil.Reference{self},
					Products: []vigil.Product{{ID: "UNDEFINED", Status: "under_investigation"}},
				},
				{
					Source: "csaf", ID: "CVE-2024-0002", Document: "ACME-1", Title: "Acme <script>alert(1)</script> Pump", Summary: "Other text.",
					Published: published, Modified: modified, References: []vigil.Reference{self},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("acme.json", strings.NewReader(doc(tt.vulns)), untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, d.Advisories); diff != "" {
				t.Errorf("advisories mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]vigil.Product{pump21, pumpOld, lib, libIn}, d.Products); diff != "" {
				t.Errorf("products mismatch (-want +got):\n%s", diff)
			}
			if got := d.FullProductNames["LIB-IN-P21"]; got != "libfoo 1.0 in Acme Pump 2.1" {
				t.Errorf("full name = %q", got)
			}
			if len(d.Vulnerabilities) != len(d.Advisories) {
				t.Errorf("%d vulnerabilities for %d advisories", len(d.Vulnerabilities), len(d.Advisories))
			}
		})
	}
}

// TestParseErrors feeds broken and hostile documents: each must fail with EINVALID and a message naming the place.
func TestParseErrors(t *testing.T) {
	valid := func(mod string) string {
		return `{"document": {"category": "csaf_base", "csaf_version": "2.0", "title": "t", "publisher": {"name": "p"},
			"tracking": {"id": "X-1", "initial_release_date": "2024-01-01T00:00:00Z"` + mod + `}}, "vulnerabilities": []}`
	}
	small := DefaultLimits()
	small.MaxRecordSize, small.MaxString, small.MaxProducts, small.MaxRecords, small.MaxProductRefs = 4096, 100, 2, 2, 3
	tests := []struct {
		name, in string
		lim      untrusted.Limits
		want     string // substring of the message
	}{
		{"not JSON", `{"document": `, DefaultLimits(), "malformed JSON"},
		{"wrong type", `{"document": {"title": 7}}`, DefaultLimits(), "document.title: got a JSON number, want a string"},
		{"csaf 2.1", strings.Replace(valid(""), `"2.0"`, `"2.1"`, 1), DefaultLimits(), "/document/csaf_version"},
		{"no tracking id", strings.Replace(valid(""), `"X-1"`, `""`, 1), DefaultLimits(), "/document/tracking/id: missing"},
		{"bad date", valid(`, "current_release_date": "yesterday"`), DefaultLimits(), `/document/tracking/current_release_date: "yesterday"`},
		{"bad revision date", valid(`, "revision_history": [{"number": "1", "date": "2024-13-01T00:00:00Z"}]`), DefaultLimits(), "/document/tracking/revision_history/0/date"},
		{"cvss not an object", strings.Replace(valid(""), `"vulnerabilities": []`, `"vulnerabilities": [{"scores": [{"products": ["A"], "cvss_v3": "CVSS:3.1/AV:N"}]}]`, 1), DefaultLimits(), "/vulnerabilities/0/scores/0/cvss_v3: not a CVSS object"},
		{"cvss without vector", strings.Replace(valid(""), `"vulnerabilities": []`, `"vulnerabilities": [{"scores": [{"products": ["A"], "cvss_v3": {"baseScore": 1}}]}]`, 1), DefaultLimits(), "/vulnerabilities/0/scores/0/cvss_v3/vectorString: missing"},
		{"10,000-deep nesting", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), DefaultLimits(), "nests deeper than the limit of 64"},
		{"too large", valid("") + strings.Repeat(" ", 5000), small, "larger than the limit of 4096 bytes"},
		{"string too long", valid(`, "version": "` + strings.Repeat("v", 101) + `"`), small, "longer than the limit of 100 bytes"},
		{"too many products", strings.Replace(valid(""), `"vulnerabilities": []`, `"product_tree": {"full_product_names": [{"name": "a", "product_id": "A"}, {"name": "b", "product_id": "B"}, {"name": "c", "product_id": "C"}]}`, 1), small, "3 product definitions, more than 2"},
		{"too many vulnerabilities", strings.Replace(valid(""), `"vulnerabilities": []`, `"vulnerabilities": [{}, {}, {}]`, 1), small, "3 entries, more than 2"},
		{"group fan-out", strings.Replace(valid(""), `"vulnerabilities": []`, `"product_tree": {"product_groups": [{"group_id": "G", "product_ids": ["A", "B"]}]}, "vulnerabilities": [{"remediations": [{"category": "none_available", "details": "d", "group_ids": ["G"]}, {"category": "none_available", "details": "d", "group_ids": ["G"]}]}]`, 1), small, "more than 3 product references"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.json", strings.NewReader(tt.in), tt.lim)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
			}
			if msg := err.Error(); !strings.Contains(msg, "csaf bad.json") || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
		})
	}
}

// TestParseHostileText keeps markup as plain text: no escaping, no stripping.
func TestParseHostileText(t *testing.T) {
	in := `{"document": {"category": "csaf_base", "csaf_version": "2.0", "title": "<script>alert('x')</script>",
		"publisher": {"name": "<b>p</b>"}, "tracking": {"id": "X&Y"}},
		"vulnerabilities": [{"title": "<img src=x onerror=alert(1)>", "notes": [{"category": "summary", "text": "a\u0000b \"q\""}]}]}`
	d, err := Parse("hostile.json", strings.NewReader(in), untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{d.Title, d.Publisher.Name, d.ID, d.Advisories[0].Title, d.Advisories[0].Summary, d.Advisories[0].ID}
	want := []string{"<script>alert('x')</script>", "<b>p</b>", "X&Y", "<img src=x onerror=alert(1)>", "a\x00b \"q\"", "X&Y#0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("text changed (-want +got):\n%s", diff)
	}
}

// TestParseLargeDocument builds a document near real-world scale (10,000 products, 1,000 vulnerabilities) and
// checks nothing is lost.
func TestParseLargeDocument(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"document": {"category": "csaf_base", "csaf_version": "2.0", "title": "big", "publisher": {"name": "p"}, "tracking": {"id": "BIG"}}, "product_tree": {"full_product_names": [`)
	for i := range 10000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name": "product %d", "product_id": "P%d"}`, i, i)
	}
	b.WriteString(`]}, "vulnerabilities": [`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"cve": "CVE-2024-%05d", "product_status": {"known_affected": ["P%d", "P%d"]}}`, i, i, i+5000)
	}
	b.WriteString(`]}`)
	d, err := Parse("big.json", &b, untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ids := map[string]bool{}
	for _, a := range d.Advisories {
		n += len(a.Products)
		ids[a.ID] = true
	}
	if len(d.Products) != 10000 || len(d.Advisories) != 1000 || n != 2000 || len(ids) != 1000 {
		t.Errorf("products %d, advisories %d (%d distinct), status entries %d", len(d.Products), len(d.Advisories), len(ids), n)
	}
}

func BenchmarkParseICSMA(b *testing.B) {
	var docs [][]byte
	for _, p := range cisaFiles(b)["icsma"] {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, raw)
	}
	sort.Slice(docs, func(i, j int) bool { return len(docs[i]) < len(docs[j]) })
	total := 0
	for _, d := range docs {
		total += len(d)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for _, d := range docs {
			if _, err := Parse("bench.json", bytes.NewReader(d), untrusted.Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestParseOASISExamples parses the official examples (other publishers' styles: Red Hat relationships, BSI,
// Cisco, CSAF VEX with flags and threats) and checks a relationship-defined product resolves to its component.
func TestParseOASISExamples(t *testing.T) {
	advisories := 0
	for _, p := range officialExamples(t) {
		d := parseFile(t, p)
		advisories += len(d.Advisories)
		if filepath.Base(p) != "rhsa-2022_0011.json" {
			continue
		}
		want := vigil.Product{ID: "7Server-7.6.AUS:telnet-1:0.17-65.el7_6.src", Vendor: "Red Hat", Name: "telnet-1:0.17-65.el7_6.src", Version: "telnet-1:0.17-65.el7_6.src", Status: "fixed"}
		if diff := cmp.Diff(want, d.Advisories[0].Products[0]); diff != "" {
			t.Errorf("relationship product (-want +got):\n%s", diff)
		}
	}
	if advisories != 59 {
		t.Errorf("%d advisories in the examples, want 59", advisories)
	}
}
