package kev

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func open(t *testing.T, parse func(string, io.Reader, untrusted.Limits) (Catalog, error), elem ...string) Catalog {
	t.Helper()
	p := testfix.Path(t, elem...)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cat, err := parse(p, f, untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestCatalogs(t *testing.T) {
	tests := []struct {
		name     string
		parse    func(string, io.Reader, untrusted.Limits) (Catalog, error)
		path     []string
		version  string
		released time.Time
		count    int
	}{
		{"json 2025.08.25", ParseJSON, []string{"cisa-kev", "known_exploited_vulnerabilities.json"}, "2025.08.25",
			time.Date(2025, 8, 25, 17, 4, 19, 979600000, time.UTC), 1404},
		{"csv 2025.08.25", ParseCSV, []string{"cisa-kev", "known_exploited_vulnerabilities.csv"}, "", time.Time{}, 1404},
		{"json 2025.01.24", ParseJSON, []string{"cisa-kev", "history", "known_exploited_vulnerabilities-2025.01.24.json"}, "2025.01.24",
			time.Date(2025, 1, 24, 15, 0, 57, 528200000, time.UTC), 1252},
		{"sniffed json", Parse, []string{"cisa-kev", "known_exploited_vulnerabilities.json"}, "2025.08.25",
			time.Date(2025, 8, 25, 17, 4, 19, 979600000, time.UTC), 1404},
		{"sniffed csv", Parse, []string{"cisa-kev", "known_exploited_vulnerabilities.csv"}, "", time.Time{}, 1404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := open(t, tt.parse, tt.path...)
			if cat.Version != tt.version || !cat.Released.Equal(tt.released) || cat.Count != tt.count || len(cat.Entries) != tt.count {
				t.Errorf("catalog %q released %v count %d entries %d; want %q %v %d", cat.Version, cat.Released, cat.Count,
					len(cat.Entries), tt.version, tt.released, tt.count)
			}
		})
	}
}

func TestJSONAndCSVAgree(t *testing.T) {
	j := open(t, ParseJSON, "cisa-kev", "known_exploited_vulnerabilities.json")
	c := open(t, ParseCSV, "cisa-kev", "known_exploited_vulnerabilities.csv")
	if diff := cmp.Diff(j.Entries, c.Entries); diff != "" {
		t.Errorf("JSON and CSV entries differ (-json +csv):\n%s", diff)
	}
	first := vigil.KEVEntry{
		CVE: "CVE-2025-48384", Vendor: "Git", Product: "Git", Name: "Git Link Following Vulnerability",
		DateAdded:      vigil.NewDate(2025, 8, 25),
		Description:    "Git contains a link following vulnerability that stems from Git’s inconsistent handling of carriage return characters in configuration files.",
		RequiredAction: "Apply mitigations per vendor instructions, follow applicable BOD 22-01 guidance for cloud services, or discontinue use of the product if mitigations are unavailable.",
		DueDate:        vigil.NewDate(2025, 9, 15), RansomwareUse: "Unknown",
		Notes: "This vulnerability affects a common open-source component, third-party library, or a protocol used by different products. For more information, please see: https://github.com/git/git/security/advisories/GHSA-vwqx-4fm8-6qc9 ; https://access.redhat.com/errata/RHSA-2025:13933 ; https://alas.aws.amazon.com/AL2/ALAS2-2025-2941.html ; https://linux.oracle.com/errata/ELSA-2025-11534.html ; https://msrc.microsoft.com/update-guide/vulnerability/CVE-2025-48384 ; https://nvd.nist.gov/vuln/detail/CVE-2025-48384",
		CWEs:  []string{"CWE-59", "CWE-436"},
	}
	if diff := cmp.Diff(first, c.Entries[0], cmp.AllowUnexported(vigil.Date{})); diff != "" {
		t.Errorf("first CSV entry (-want +got):\n%s", diff)
	}
	// Counts taken independently (a Python script over the JSON file).
	ransom, noCWE, cwes := map[string]int{}, 0, 0
	for _, e := range j.Entries {
		ransom[e.RansomwareUse]++
		if e.CWEs == nil {
			noCWE++
		}
		cwes += len(e.CWEs)
	}
	if diff := cmp.Diff(map[string]int{"Known": 293, "Unknown": 1111}, ransom); diff != "" || noCWE != 152 || cwes != 1338 {
		t.Errorf("ransomware use %s; %d entries without CWEs (want 152), %d CWEs (want 1338)", diff, noCWE, cwes)
	}
}

// TestNewlyAdded is the delta an importer computes between two catalog versions: 152 entries were added between
// 2025.01.24 and 2025.08.25, none removed, and they are exactly the entries added after 2025-01-24.
func TestNewlyAdded(t *testing.T) {
	old := open(t, ParseJSON, "cisa-kev", "history", "known_exploited_vulnerabilities-2025.01.24.json")
	cur := open(t, ParseJSON, "cisa-kev", "known_exploited_vulnerabilities.json")
	had := map[string]bool{}
	for _, e := range old.Entries {
		had[e.CVE] = true
	}
	added := 0
	for _, e := range cur.Entries {
		isNew := !had[e.CVE]
		if isNew {
			added++
		}
		if isNew != e.DateAdded.After(vigil.NewDate(2025, 1, 24)) {
			t.Errorf("%s added %s: new=%v", e.CVE, e.DateAdded, isNew)
		}
	}
	if added != 152 {
		t.Errorf("%d newly added, want 152", added)
	}
}

const header = "cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription,requiredAction,dueDate,knownRansomwareCampaignUse,notes,cwes\n"

func TestRejectedEntries(t *testing.T) {
	entryJSON := func(cve, added, due string) string {
		return `{"cveID":"` + cve + `","vendorProject":"V","product":"P","vulnerabilityName":"N","dateAdded":"` + added +
			`","shortDescription":"","requiredAction":"A","dueDate":"` + due + `","knownRansomwareCampaignUse":"Unknown","notes":"","cwes":[]}`
	}
	catalog := func(count int, entries ...string) string {
		return `{"title":"T","catalogVersion":"2025.01.01","dateReleased":"2025-01-01T00:00:00Z","count":` +
			strconv.Itoa(count) + `,"vulnerabilities":[` + strings.Join(entries, ",\n") + "]}"
	}
	tests := []struct {
		name  string
		parse func(string, io.Reader, untrusted.Limits) (Catalog, error)
		doc   string
		want  []string
		valid int
	}{
		{"json bad id and dates", ParseJSON, catalog(4, entryJSON("CVE-2024-1234", "2024-01-01", "2024-01-22"),
			entryJSON("CVE-24-1", "2024-01-01", "2024-01-22"), entryJSON("CVE-2024-1235", "2024-13-01", "2024-01-22"),
			entryJSON("CVE-2024-1236", "2024-01-01", "")),
			[]string{`k: vulnerabilities[1].cveID: "CVE-24-1" is not a CVE id (CVE-YYYY-NNNN)`,
				`k: vulnerabilities[2].dateAdded: "2024-13-01" is not a YYYY-MM-DD date`,
				`k: vulnerabilities[3].dueDate: "" is not a YYYY-MM-DD date`}, 1},
		{"json wrong type", ParseJSON, catalog(2, entryJSON("CVE-2024-1234", "2024-01-01", "2024-01-22"),
			strings.Replace(entryJSON("CVE-2024-1235", "2024-01-01", "2024-01-22"), `"cwes":[]`, `"cwes":"CWE-79"`, 1)),
			[]string{`k: vulnerabilities[1].cwes: got a JSON string, want an array`}, 1},
		{"csv bad rows", ParseCSV, header +
			"CVE-2024-1234,V,P,N,2024-01-01,D,A,2024-01-22,Known,,CWE-79\n" +
			"CVE-2024-12,V,P,N,2024-01-01,D,A,2024-01-22,Known,,\n" +
			`CVE-2024-1235,V,P,"N, with a comma",2024-01-01,"D ""quoted""",A,2024/01/22,Known,,` + "\n" +
			"CVE-2024-1236,V,P\n",
			[]string{`k: line 3: cveID: "CVE-2024-12" is not a CVE id (CVE-YYYY-NNNN)`,
				`k: line 4: dueDate: "2024/01/22" is not a YYYY-MM-DD date`,
				`k: line 5: dateAdded: "" is not a YYYY-MM-DD date`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := tt.parse("k", strings.NewReader(tt.doc), untrusted.Limits{})
			rej, ok := feed.IsRejects(err)
			if !ok || vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("err = %v, want *feed.Rejects", err)
			}
			var got []string
			for _, e := range rej.Errs {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rejects (-want +got):\n%s", diff)
			}
			if len(cat.Entries) != tt.valid || cat.Count != tt.valid+len(tt.want) {
				t.Errorf("%d valid entries, count %d; want %d, %d", len(cat.Entries), cat.Count, tt.valid, tt.valid+len(tt.want))
			}
		})
	}
}

func TestFatal(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string, io.Reader, untrusted.Limits) (Catalog, error)
		r     io.Reader
		want  string
	}{
		{"count disagrees", ParseJSON, strings.NewReader(`{"count":3,"vulnerabilities":[]}`), "k: count: the catalog says 3 entries but holds 0 (truncated?)"},
		{"not a catalog", ParseJSON, strings.NewReader(`{"title":"x"}`), "k: vulnerabilities: required: not a KEV catalog"},
		{"truncated json", ParseJSON, strings.NewReader(`{"count":3,"vulnerabilities":[{"cveID":"CVE-2024-1234"`), "k: line 1: unexpected end of JSON input"},
		{"bad released", ParseJSON, strings.NewReader(`{"dateReleased":"yesterday","vulnerabilities":[]}`), `k: dateReleased: "yesterday" is not an RFC 3339 timestamp`},
		{"csv header", ParseCSV, strings.NewReader("cve,vendor\nCVE-2024-1234,x\n"), `k: line 1: header lacks the cveID column (got "cve,vendor")`},
		{"csv quoting", ParseCSV, strings.NewReader(header + "CVE-2024-1234,\"V\"x,P\n"), `k: line 2: malformed CSV: extraneous or missing " in quoted-field`},
		{"empty csv", ParseCSV, strings.NewReader(""), "k: empty: want a CSV header"},
		{"1 GiB single csv line", ParseCSV, testfix.Endless(header+"CVE-2024-1234,", 1<<30), "k: line 2: longer than the limit of 1048576 bytes"},
		{"1 GiB single json value", ParseJSON, testfix.Endless(`{"vulnerabilities":[{"notes":"`, 1<<30), "k: line 1: a value larger than the limit of 33554432 bytes"},
		{"10,000-deep json", ParseJSON, strings.NewReader(`{"vulnerabilities":[` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "]}"),
			"k: line 1: JSON nests deeper than the limit of 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := tt.parse("k", tt.r, untrusted.Limits{})
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
