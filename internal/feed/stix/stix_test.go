package stix

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func parseFile(t testing.TB, path string) (*Bundle, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(filepath.Base(path), f, untrusted.Limits{})
}

// TestParseExamples parses every example of the OASIS STIX 2.1 fixture set. The counts were taken independently
// from the JSON; interop-objectmarking-test.json is a lone campaign object, not a bundle, and must be refused.
func TestParseExamples(t *testing.T) {
	dir := testfix.Path(t, "stix-2.1", "cti-stix2-json-schemas", "examples")
	type want struct {
		counts     map[string]int
		creator    string
		advisories int
		indicators int
		reports    int
		notBundle  bool
	}
	tests := map[string]want{
		"indicator-for-c2-ip-address.json":               {counts: map[string]int{"indicator": 1}, indicators: 1},
		"indicator-to-campaign-relationship.json":        {counts: map[string]int{"campaign": 1, "indicator": 1, "relationship": 1}, indicators: 1},
		"indicators-for-C2-with-COA.json":                {counts: map[string]int{"relationship": 3, "indicator": 2, "identity": 1, "malware": 1, "course-of-action": 1}, indicators: 2, creator: "The MITRE Corporation - DHS Support Team"},
		"infrastructure.json":                            {counts: map[string]int{"relationship": 4, "infrastructure": 2, "malware": 2, "ipv4-addr": 1, "domain-name": 1}},
		"interop-objectmarking-test.json":                {notBundle: true},
		"malicious-email-indicator-with-attachment.json": {counts: map[string]int{"indicator": 2, "relationship": 2, "identity": 1, "attack-pattern": 1}, indicators: 2, creator: "The MITRE Corporation - DHS Support Team"},
		"threat-reports/apt1.json":                       {counts: map[string]int{"relationship": 30, "indicator": 12, "tool": 10, "attack-pattern": 7, "malware": 6, "threat-actor": 5, "identity": 4, "intrusion-set": 1, "report": 1}, indicators: 12, reports: 1},
		"threat-reports/poisonivy.json":                  {counts: map[string]int{"relationship": 90, "malware": 25, "indicator": 25, "vulnerability": 6, "campaign": 3, "attack-pattern": 3, "identity": 1, "course-of-action": 1, "report": 1}, advisories: 6, indicators: 25, reports: 1, creator: "FireEye, Inc."},
	}
	var files []string
	for _, pat := range []string{"*.json", "*/*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) != len(tests) {
		t.Fatalf("%d example files, the table covers %d", len(files), len(tests))
	}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		w, ok := tests[filepath.ToSlash(rel)]
		if !ok {
			t.Errorf("%s: not in the table", rel)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			b, err := parseFile(t, path)
			if w.notBundle {
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), `type: want "bundle"`) {
					t.Fatalf("err = %v, want EINVALID naming type", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w.counts, b.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			creator := ""
			if b.Creator != nil {
				creator = b.Creator.Name
			}
			if creator != w.creator || len(b.Advisories) != w.advisories || len(b.Indicators) != w.indicators || len(b.Reports) != w.reports || len(b.Rejected) != 0 {
				t.Errorf("creator %q, %d advisories, %d indicators, %d reports, rejected %q", creator, len(b.Advisories), len(b.Indicators), len(b.Reports), b.Rejected)
			}
			for _, in := range b.Indicators {
				if in.Pattern == "" || in.ValidFrom.IsZero() {
					t.Errorf("indicator %s: empty pattern or valid_from", in.ID)
				}
			}
		})
	}
}

// TestParsePoisonIvy checks the advisories and the report of the one example that carries vulnerabilities.
func TestParsePoisonIvy(t *testing.T) {
	b, err := parseFile(t, testfix.Path(t, "stix-2.1", "cti-stix2-json-schemas", "examples", "threat-reports", "poisonivy.json"))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2015, 5, 15, 9, 12, 16, 432e6, time.UTC)
	adv := func(cve, stixID, desc string) vigil.Advisory {
		return vigil.Advisory{Source: "stix", ID: cve, Aliases: []string{stixID}, Document: b.ID, Title: cve, Summary: desc, Published: created, Modified: created}
	}
	want := []vigil.Advisory{
		adv("CVE-2009-4324", "vulnerability--6a2eab9c-9789-4437-812b-d74323fa3bca", "Adobe acrobat PDF's used by admin@338"),
		adv("CVE-2010-3333", "vulnerability--717cb1c9-eab3-4330-8340-e4858055aa80", "menuPass campaign using weaponized Microsoft Word documents, exploiting this vulnerability"),
		adv("CVE-2011-3544", "vulnerability--8323404c-1fdd-4272-822b-829f85556c53", "JRE vulnerability exploited by th3bug"),
		adv("CVE-2012-0158", "vulnerability--c7cab3fb-0822-43a5-b1ba-c9bab34361a2", "Weaponized Microsoft Word document used by admin@338"),
		adv("CVE-2013-0422", "vulnerability--2b7f00d8-b133-4a92-9118-46ce5f8b2531", "Java 7 vulnerability exploited by th3bug"),
		adv("CVE-2013-1347", "vulnerability--4d7dc9cb-983f-40b4-b597-d7a38b2d9a4b", "Microsoft Internet Explorer 8 vulnerability exploited by th3bug"),
	}
	if diff := cmp.Diff(want, b.Advisories); diff != "" {
		t.Errorf("advisories (-want +got):\n%s", diff)
	}
	r := b.Reports[0]
	if r.Name != "Poison Ivy: Assessing Damage and Extracting Intelligence" || !r.Published.Equal(time.Date(2013, 8, 21, 0, 0, 0, 0, time.UTC)) || len(r.ObjectRefs) == 0 {
		t.Errorf("report %+v", r)
	}
	if len(r.Vulnerabilities) != 6 {
		t.Errorf("report names %d vulnerabilities, want all 6: %v", len(r.Vulnerabilities), r.Vulnerabilities)
	}
}

// TestParseHostile: malformed objects are rejected by index while the rest of the bundle survives; input that is
// not a bundle, or is beyond the limits, is an EINVALID error. None of it may panic (stix2.FromJSON panics on the
// first object below).
func TestParseHostile(t *testing.T) {
	const good = `{"type": "vulnerability", "spec_version": "2.1", "id": "vulnerability--0b1c4ad7-58e0-4ae1-a5b1-21d2ab1a0bd1", "created": "2024-01-01T00:00:00Z", "modified": "2024-01-02T00:00:00Z", "revoked": true, "name": "<script>alert(1)</script>",
		"external_references": [null, {"source_name": "cve", "external_id": "CVE-2024-0001"}, {"source_name": "cve", "external_id": "CVE-2024-0002"}, {"source_name": "cwe", "external_id": "CWE-79", "url": "https://cwe.example/79"}]}`
	bundle := func(objs ...string) string {
		return `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [` + strings.Join(objs, ",") + `]}`
	}
	t.Run("bad objects are rejected, good ones kept", func(t *testing.T) {
		b, err := Parse("hostile.json", strings.NewReader(bundle(
			`{"type": 1, "id": "x"}`,
			`{"id": "indicator--1"}`,
			`{"type": "indicator", "id": "malware--1"}`,
			`{"type": "vulnerability", "id": "vulnerability--2", "created": "yesterday"}`,
			`{"type": "indicator", "id": "indicator--3", "valid_from": "2024-01-01T00:00:00Z"}`,
			`"just a string"`,
			good,
		)), untrusted.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		wantRejected := []string{"objects[0]: type: got a JSON number", "objects[1]: type: missing", "objects[2]: id:", "objects[3]: vulnerability vulnerability--2:", "objects[4]: indicator indicator--3: pattern: missing", "objects[5]:"}
		if len(b.Rejected) != len(wantRejected) {
			t.Fatalf("rejected %q", b.Rejected)
		}
		for i, w := range wantRejected {
			if !strings.HasPrefix(b.Rejected[i], w) {
				t.Errorf("rejected[%d] = %q, want prefix %q", i, b.Rejected[i], w)
			}
		}
		mod := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
		want := []vigil.Advisory{{
			Source: "stix", ID: "CVE-2024-0001", Aliases: []string{"CVE-2024-0002", "vulnerability--0b1c4ad7-58e0-4ae1-a5b1-21d2ab1a0bd1"},
			Document: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", Title: "<script>alert(1)</script>",
			Published: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Modified: mod, Withdrawn: mod,
			CWEs: []string{"CWE-79"}, References: []vigil.Reference{{Type: "cwe", URL: "https://cwe.example/79"}},
		}}
		if diff := cmp.Diff(want, b.Advisories); diff != "" {
			t.Errorf("advisories (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"vulnerability": 1}, b.Counts); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
	})
	small := DefaultLimits()
	small.MaxRecordSize, small.MaxRecords, small.MaxString = 2048, 2, 50
	for _, tt := range []struct {
		name, in, want string
		lim            untrusted.Limits
	}{
		{"not JSON", `{"type": "bundle",`, "not a STIX bundle", DefaultLimits()},
		{"not a bundle", `{"type": "report", "id": "report--1"}`, `type: want "bundle"`, DefaultLimits()},
		{"bad bundle id", `{"type": "bundle", "id": 7, "objects": []}`, "id: want", DefaultLimits()},
		{"objects not an array", `{"type": "bundle", "id": "bundle--1", "objects": {}}`, "not a STIX bundle", DefaultLimits()},
		{"10,000-deep nesting", `{"type": "bundle", "id": "bundle--1", "objects": [` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `]}`, "nests deeper than the limit of 64", DefaultLimits()},
		{"too large", bundle(strings.Repeat(`{"type": "x"},`, 200) + `{}`), "larger than the limit of 2048 bytes", small},
		{"too many objects", bundle(`{}`, `{}`, `{}`), "3 entries, more than 2", small},
		{"string too long", bundle(`{"type": "` + strings.Repeat("x", 51) + `"}`), "longer than the limit of 50 bytes", small},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.json", strings.NewReader(tt.in), tt.lim)
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "stix bad.json: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkParseAPT1(b *testing.B) {
	raw, err := os.ReadFile(testfix.Path(b, "stix-2.1", "cti-stix2-json-schemas", "examples", "threat-reports", "apt1.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse("apt1.json", strings.NewReader(string(raw)), untrusted.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
