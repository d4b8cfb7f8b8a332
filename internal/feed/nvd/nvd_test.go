package nvd

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func parseFile(t *testing.T, elem ...string) (Page, []vigil.Advisory, error) {
	t.Helper()
	p := testfix.Path(t, elem...)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vigil.Advisory
	page, err := Parse(filepath.Base(p), f, untrusted.Limits{}, func(a vigil.Advisory) error {
		out = append(out, a)
		return nil
	})
	return page, out, err
}

func TestFullPage(t *testing.T) {
	page, advs, err := parseFile(t, "nvd-api-2.0", "vunnel", "full-page.json")
	if err != nil {
		t.Fatal(err)
	}
	wantPage := Page{ResultsPerPage: 38, StartIndex: 0, TotalResults: 38, Format: "NVD_CVE", Version: "2.0",
		Timestamp: time.Date(2023, 10, 18, 18, 4, 18, 493e6, time.UTC), Vulnerabilities: 38}
	if diff := cmp.Diff(wantPage, page); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
	if next, more := page.Next(); more || next != 38 {
		t.Errorf("Next() = %d, %v; want 38, false", next, more)
	}
	// Counts taken independently from the fixture (a Python script over the same file).
	got := map[string]int{}
	for _, a := range advs {
		got["cves"]++
		got["scores"] += len(a.Scores)
		got["cwes"] += len(a.CWEs)
		got["refs"] += len(a.References)
		got["configs"] += len(a.Configurations)
		for _, s := range a.Scores {
			got[s.Vector[:8]+" "+s.Type]++
		}
		for _, c := range a.Configurations {
			for _, n := range c.Nodes {
				got["nodes"]++
				got["matches"] += len(n.Matches)
				for _, m := range n.Matches {
					if m.Vulnerable {
						got["vulnerable"]++
					}
				}
			}
		}
		if a.Details == "" || a.Source != vigil.SourceNVD || a.Published.IsZero() || a.Modified.IsZero() || a.IsWithdrawn() {
			t.Errorf("%s: details/source/dates wrong: %+v", a.ID, a)
		}
	}
	want := map[string]int{"cves": 38, "scores": 48, "CVSS:3.1 Primary": 25, "CVSS:3.1 Secondary": 23, "cwes": 33,
		"refs": 56, "configs": 25, "nodes": 36, "matches": 56, "vulnerable": 34}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func TestSingleEntry(t *testing.T) {
	page, advs, err := parseFile(t, "nvd-api-2.0", "vunnel", "single-entry.json")
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalResults != 1 || page.Vulnerabilities != 1 || len(advs) != 1 {
		t.Fatalf("page %+v, %d advisories", page, len(advs))
	}
	want := vigil.Advisory{
		Source:    "nvd",
		ID:        "CVE-2022-1576",
		Details:   "The WP Maintenance Mode & Coming Soon WordPress plugin before 2.4.5 is lacking CSRF when emptying the subscribed users list, which could allow attackers to make a logged in admin perform such action via a CSRF attack",
		Published: time.Date(2022, 7, 11, 13, 15, 8, 503e6, time.UTC),
		Modified:  time.Date(2024, 11, 21, 6, 41, 0, 133e6, time.UTC),
		Scores: []vigil.Score{
			{Source: "nvd@nist.gov", Type: "Primary", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N", Base: 6.5},
			{Source: "nvd@nist.gov", Type: "Primary", Vector: "AV:N/AC:M/Au:N/C:N/I:P/A:N", Base: 4.3},
		},
		CWEs: []string{"CWE-352"},
		References: []vigil.Reference{
			{Type: "Exploit, Third Party Advisory", URL: "https://wpscan.com/vulnerability/68deab46-1c16-46ae-a912-a104958ca4cf"},
		},
		Configurations: []vigil.CPEConfig{{Nodes: []vigil.CPENode{{Operator: "OR", Matches: []vigil.CPEMatch{{
			Vulnerable:          true,
			Criteria:            `cpe:2.3:a:themeisle:wp_maintenance_mode_\&_coming_soon:*:*:*:*:*:wordpress:*:*`,
			VersionEndExcluding: "2.4.5",
		}}}}}},
	}
	if diff := cmp.Diff(want, advs[0]); diff != "" {
		t.Errorf("advisory (-want +got):\n%s", diff)
	}
}

// TestMedtronic checks the structure of CVE-2019-10964 (Medtronic MiniMed insulin pumps), a bare cve object: 19
// AND configurations, each a vulnerable firmware CPE node with a non-vulnerable hardware platform node.
func TestMedtronic(t *testing.T) {
	page, advs, err := parseFile(t, "nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json")
	if err != nil {
		t.Fatal(err)
	}
	if page != (Page{}) || len(advs) != 1 {
		t.Fatalf("page %+v, %d advisories; want a bare cve object", page, len(advs))
	}
	a := advs[0]
	if len(a.Configurations) != 19 {
		t.Fatalf("%d configurations, want 19", len(a.Configurations))
	}
	endIncl := map[string]string{}
	for i, c := range a.Configurations {
		if c.Operator != "AND" || c.Negate || len(c.Nodes) != 2 {
			t.Fatalf("configurations[%d] = %+v, want AND of 2 nodes", i, c)
		}
		fw, hw := c.Nodes[0], c.Nodes[1]
		if fw.Operator != "OR" || len(fw.Matches) != 1 || !fw.Matches[0].Vulnerable ||
			!strings.HasPrefix(fw.Matches[0].Criteria, "cpe:2.3:o:medtronic:") || !strings.Contains(fw.Matches[0].Criteria, "_firmware:") {
			t.Errorf("configurations[%d].nodes[0] = %+v, want one vulnerable medtronic firmware", i, fw)
		}
		if hw.Operator != "OR" || len(hw.Matches) != 1 || hw.Matches[0].Vulnerable || !strings.HasPrefix(hw.Matches[0].Criteria, "cpe:2.3:h:medtronic:") {
			t.Errorf("configurations[%d].nodes[1] = %+v, want one non-vulnerable medtronic platform", i, hw)
		}
		for _, n := range c.Nodes {
			if v := n.Matches[0].VersionEndIncluding; v != "" {
				endIncl[n.Matches[0].Criteria] = v
			}
		}
	}
	wantEnd := map[string]string{
		"cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:*:*:*:*:*:*:*:*":     "2.4a",
		"cpe:2.3:o:medtronic:minimed_paradigm_523k_firmware:*:*:*:*:*:*:*:*":    "2.4a",
		"cpe:2.3:o:medtronic:minimed_paradigm_723_firmware:*:*:*:*:*:*:*:*":     "2.4a",
		"cpe:2.3:o:medtronic:minimed_paradigm_723k_firmware:*:*:*:*:*:*:*:*":    "2.4a",
		"cpe:2.3:o:medtronic:minimed_paradigm_veo_554_firmware:*:*:*:*:*:*:*:*": "2.6a",
		"cpe:2.3:o:medtronic:minimed_paradigm_veo_754_firmware:*:*:*:*:*:*:*:*": "2.6a",
		"cpe:2.3:h:medtronic:minimed_paradigm_veo_554cm:*:*:*:*:*:*:*:*":        "2.7a",
	}
	for k, v := range wantEnd {
		if endIncl[k] != v {
			t.Errorf("versionEndIncluding of %s = %q, want %q", k, endIncl[k], v)
		}
	}
	wantScores := []vigil.Score{
		{Source: "ics-cert@hq.dhs.gov", Type: "Secondary", Vector: "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:L/I:H/A:H", Base: 7.1},
		{Source: "nvd@nist.gov", Type: "Primary", Vector: "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Base: 8.8},
		{Source: "nvd@nist.gov", Type: "Primary", Vector: "AV:A/AC:L/Au:N/C:P/I:P/A:P", Base: 5.8},
	}
	if diff := cmp.Diff(wantScores, a.Scores); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CWE-284", "CWE-287", "CWE-863"}, a.CWEs); diff != "" {
		t.Errorf("CWEs (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(a.Details, "Medtronic MiniMed Insulin Pumps") {
		t.Errorf("Details = %.60q, want the English description", a.Details)
	}
	golden(t, "CVE-2019-10964", a)
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	gp := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(gp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(gp, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(gp)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", gp, diff)
	}
}

const okCVE = `{"cve":{"id":"CVE-2024-0001","published":"2024-01-01T00:00:00.000","lastModified":"2024-01-02T00:00:00.000",
"vulnStatus":"Analyzed","descriptions":[{"lang":"es","value":"hola"},{"lang":"en","value":"hello"}],
"configurations":[{"nodes":[{"operator":"OR","negate":false,"cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:a:x:y:*:*:*:*:*:*:*:*"}]}]}]}}`

func page(vulns ...string) string {
	return `{"resultsPerPage":2000,"startIndex":4000,"totalResults":250000,"format":"NVD_CVE","version":"2.0",` +
		`"timestamp":"2024-05-01T10:00:00.000","vulnerabilities":[` + strings.Join(vulns, ",") + "]}"
}

func TestRejectedRecords(t *testing.T) {
	rep := func(old, new string) string {
		if !strings.Contains(okCVE, old) {
			t.Fatalf("%q not in okCVE", old)
		}
		return strings.Replace(okCVE, old, new, 1)
	}
	tests := []struct {
		name, vuln, want string
	}{
		{"bad id", rep("CVE-2024-0001", "CVE-24-1"), `p.json: vulnerabilities[1].cve.id: "CVE-24-1" is not a CVE id (CVE-YYYY-NNNN)`},
		{"node operator", rep(`"operator":"OR"`, `"operator":"XOR"`), `p.json: vulnerabilities[1].cve.configurations[0].nodes[0].operator: "XOR" is not AND or OR`},
		{"missing criteria", rep(`,"criteria":"cpe:2.3:a:x:y:*:*:*:*:*:*:*:*"`, ``), `p.json: vulnerabilities[1].cve.configurations[0].nodes[0].cpeMatch[0].criteria: required`},
		{"criteria not cpe 2.3", rep(`cpe:2.3:a:x:y:*:*:*:*:*:*:*:*`, `cpe:/a:x:y`), `p.json: vulnerabilities[1].cve.configurations[0].nodes[0].cpeMatch[0].criteria: "cpe:/a:x:y" is not a CPE 2.3 formatted string`},
		{"missing vulnerable", rep(`"vulnerable":true,`, ``), `p.json: vulnerabilities[1].cve.configurations[0].nodes[0].cpeMatch[0].vulnerable: required`},
		{"vulnerable a string", rep(`"vulnerable":true`, `"vulnerable":"yes"`), `p.json: vulnerabilities[1].cve.configurations[0].nodes[0].cpeMatch[0].vulnerable: got a JSON string, want true or false`},
		{"bad timestamp", rep(`2024-01-02T00:00:00.000`, `02/01/2024`), `p.json: vulnerabilities[1].cve.lastModified: "02/01/2024" is not a timestamp`},
		{"base score", rep(`"configurations"`, `"metrics":{"cvssMetricV31":[{"source":"x","type":"Primary","cvssData":{"vectorString":"CVSS:3.1/AV:N","baseScore":11}}]},"configurations"`),
			`p.json: vulnerabilities[1].cve.metrics.cvssMetricV31[0].cvssData.baseScore: 11 is outside 0..10`},
		{"no cve", `{"cvee":{}}`, `p.json: vulnerabilities[1].cve: required`},
		{"malformed inside a record", rep(`"lang":"es"`, `"lang" "es"`), `p.json: vulnerabilities[1]: line 4, column 49: malformed JSON: invalid character '"' after object key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			pg, err := Parse("p.json", strings.NewReader(page(okCVE, tt.vuln, okCVE)), untrusted.Limits{}, func(a vigil.Advisory) error {
				ids = append(ids, a.ID)
				return nil
			})
			rej, ok := feed.IsRejects(err)
			if !ok || rej.Count != 1 || vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("err = %v, want one reject", err)
			}
			if got := rej.Errs[0].Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if len(ids) != 2 || pg.Vulnerabilities != 3 {
				t.Errorf("delivered %v of %d, want the 2 valid ones of 3", ids, pg.Vulnerabilities)
			}
			if next, more := pg.Next(); next != 6000 || !more {
				t.Errorf("Next() = %d, %v; want 6000, true", next, more)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	doc := page(`{"cve":{"id":"CVE-2020-0002","lastModified":"2021-03-04T05:06:07.000","vulnStatus":"Rejected",
"cisaVulnerabilityName":"X Remote Code Execution","descriptions":[{"lang":"fr","value":"bonjour"}],
"weaknesses":[{"description":[{"lang":"en","value":"NVD-CWE-Other"},{"lang":"en","value":"CWE-79"}]},{"description":[{"lang":"en","value":"CWE-79"}]}],
"references":[{"url":"https://a","tags":["Patch"]},{"url":"https://b"},{"url":"https://a","tags":["Vendor Advisory","Patch"]}],
"metrics":{"cvssMetricV40":[{"source":"cna@x","type":"Secondary","cvssData":{"version":"4.0","vectorString":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N","baseScore":9.3}}],
 "cvssMetricV2":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"2.0","vectorString":""}}]},
"configurations":[{"operator":"AND","negate":true,"nodes":[{"operator":"AND","negate":true,"cpeMatch":[{"vulnerable":false,
 "criteria":"cpe:2.3:a:x:y\\:z:*:*:*:*:*:*:*:*","versionStartIncluding":"1","versionStartExcluding":"2","versionEndIncluding":"3","versionEndExcluding":"4"}]}]}]}}`)
	var got []vigil.Advisory
	if _, err := Parse("p.json", strings.NewReader(doc), untrusted.Limits{}, func(a vigil.Advisory) error {
		got = append(got, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	want := []vigil.Advisory{{
		Source: "nvd", ID: "CVE-2020-0002", Title: "X Remote Code Execution", Details: "bonjour", Modified: mod, Withdrawn: mod,
		Scores: []vigil.Score{{Source: "cna@x", Type: "Secondary", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Base: 9.3}},
		CWEs:   []string{"CWE-79"},
		References: []vigil.Reference{
			{Type: "Patch, Vendor Advisory", URL: "https://a"},
			{URL: "https://b"},
		},
		Configurations: []vigil.CPEConfig{{Operator: "AND", Negate: true, Nodes: []vigil.CPENode{{Operator: "AND", Negate: true,
			Matches: []vigil.CPEMatch{{Criteria: `cpe:2.3:a:x:y\:z:*:*:*:*:*:*:*:*`, VersionStartIncluding: "1",
				VersionStartExcluding: "2", VersionEndIncluding: "3", VersionEndExcluding: "4"}}}}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFatal(t *testing.T) {
	deep := `{"vulnerabilities":[` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "]}"
	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"cpe api, not cve", strings.NewReader(`{"format":"NVD_CPE","products":[]}`), `p.json: format: "NVD_CPE" is not NVD_CVE (the CVE API)`},
		{"api 1.0", strings.NewReader(`{"version":"1.0","vulnerabilities":[]}`), `p.json: version: "1.0" is not API version 2.x`},
		{"count not an integer", strings.NewReader(`{"totalResults":"many","vulnerabilities":[]}`), `p.json: totalResults: got "many", want an integer`},
		{"vulnerabilities not an array", strings.NewReader(`{"vulnerabilities":{}}`), `p.json: line 1: invalid character '{', want '['`},
		{"missing comma", strings.NewReader("{\"vulnerabilities\":[\n{}\n{}]}"), `p.json: line 3: invalid character '{', want ',' or ']'`},
		{"truncated", strings.NewReader(`{"vulnerabilities":[{"cve":{"id":"CVE-2024-1"`), `p.json: line 1: unexpected end of JSON input`},
		{"trailing data", strings.NewReader(`{"vulnerabilities":[]} {}`), `p.json: line 1: invalid character '{' after the top-level value`},
		{"not an object", strings.NewReader(`["CVE-2024-1"]`), `p.json: line 1: invalid character '[', want '{'`},
		{"neither page nor cve", strings.NewReader(`{"hello":"world"}`), `p.json: neither an NVD API 2.0 page (vulnerabilities) nor a cve object (id)`},
		{"10,000-deep nesting", strings.NewReader(deep), `p.json: line 1: JSON nests deeper than the limit of 64`},
		{"1 GiB single line", testfix.Endless(`{"vulnerabilities":[{"cve":{"id":"`, 1<<30), `p.json: line 1: a value larger than the limit of 33554432 bytes`},
		{"1 GiB bare object member", testfix.Endless(`{"id":"CVE-2024-1","descriptions":"`, 1<<30), `p.json: line 1: a value larger than the limit of 33554432 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Parse("p.json", tt.r, untrusted.Limits{}, func(vigil.Advisory) error { return nil })
			runtime.ReadMemStats(&after)
			if _, isRej := feed.IsRejects(err); isRej || vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("err = %v, want a fatal EINVALID", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("allocated %d bytes, want < 256 MiB", alloc)
			}
		})
	}
}

func TestFnErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Parse("p.json", strings.NewReader(page(okCVE, okCVE, okCVE)), untrusted.Limits{}, func(vigil.Advisory) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("n=%d err=%v, want 1 and the fn error", n, err)
	}
}

func TestParseCVE(t *testing.T) {
	b, err := os.ReadFile(testfix.Path(t, "nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseCVE("CVE-2019-10964.json", b, untrusted.Limits{})
	if err != nil || a.ID != "CVE-2019-10964" || len(a.Configurations) != 19 {
		t.Fatalf("ParseCVE: %v, %s with %d configurations", err, a.ID, len(a.Configurations))
	}
	// The streaming reader and ParseCVE agree.
	_, advs, err := parseFile(t, "nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, advs[0]); diff != "" {
		t.Errorf("ParseCVE vs Parse (-ParseCVE +Parse):\n%s", diff)
	}
	_, err = ParseCVE("x.json", bytes.Repeat([]byte("["), 100), untrusted.Limits{})
	if err.Error() != "x.json: line 1, column 65: JSON nests deeper than the limit of 64" {
		t.Errorf("deep: %v", err)
	}
}
