package osv

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
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

// stats summarises parsed advisories so they can be compared with counts taken independently from the fixtures
// (a Python script over the same files gave the numbers in the tests below).
type stats struct {
	Records, Withdrawn, Affected, Events, Versions, CPEs, Aliases int
	Ranges                                                        map[string]int
}

func (s *stats) add(a vigil.Advisory) {
	if s.Ranges == nil {
		s.Ranges = map[string]int{}
	}
	s.Records++
	if a.IsWithdrawn() {
		s.Withdrawn++
	}
	s.Aliases += len(a.Aliases)
	for i, af := range a.Affected {
		s.Affected++
		s.Versions += len(af.Versions)
		for _, r := range af.Ranges {
			s.Ranges[r.Type]++
			s.Events += len(r.Events)
		}
		if i == 0 {
			s.CPEs += len(af.CPEs) // top-level CPEs are copied to every affected package: count them once
		}
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		path   []string
	}{
		{"go-semver", []string{"osv-advisories", "go-vulndb", "data", "osv", "GO-2024-3139.json"}},
		{"pypi-yaml", []string{"osv-advisories", "pypa-advisory-database", "vulns", "apache-skywalking", "PYSEC-2020-342.yaml"}},
		{"bitnami-cpes-cvss4", []string{"osv-advisories", "bitnami-vulndb", "data", "minio", "BIT-minio-2026-40344.json"}},
		{"go-stdlib-two-ranges", []string{"osv-schema", "tools", "osv-linter", "testdata", "GO-2024-2963.json"}},
		{"pypi-git-and-ecosystem", []string{"osv-schema", "tools", "osv-linter", "testdata", "PYSEC-2023-74.json"}},
		{"alpine-and-git-no-package", []string{"osv-schema", "tools", "osv-linter", "testdata", "CVE-2018-5407.json"}},
		{"ghsa-withdrawn", []string{"osv-schema", "tools", "ghsa", "testdata", "withdrawn.osv.json"}},
		{"malicious-versions-only", []string{"osv-schema", "tools", "osv-linter", "testdata", "MAL-2024-10238.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			p := testfix.Path(t, tt.path...)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a, err := Parse(filepath.Base(p), f, untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(a, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			gp := filepath.Join("testdata", "golden", tt.golden+".json")
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
		})
	}
}

// TestMapping pins the fields the golden files show, so a wrong golden cannot be accepted unnoticed.
func TestMapping(t *testing.T) {
	parse := func(elem ...string) vigil.Advisory {
		t.Helper()
		p := testfix.Path(t, elem...)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		a, err := Parse(p, f, untrusted.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	bit := parse("osv-advisories", "bitnami-vulndb", "data", "minio", "BIT-minio-2026-40344.json")
	wantAff := []vigil.Affected{{
		Ecosystem: "Bitnami", Name: "minio", Purl: "pkg:bitnami/minio",
		Ranges: []vigil.Range{{Type: "SEMVER", Events: []vigil.RangeEvent{{Introduced: "2023.05.18"}}}},
		CPEs:   []string{"cpe:2.3:a:minio:minio:*:*:*:*:*:*:*:*", "cpe:2.3:a:minio:minio:*:*:*:*:*:go:*:*"},
	}}
	if diff := cmp.Diff(wantAff, bit.Affected); diff != "" {
		t.Errorf("Bitnami affected (-want +got):\n%s", diff)
	}
	if len(bit.Scores) != 1 || !strings.HasPrefix(bit.Scores[0].Vector, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:L") ||
		bit.Scores[0].Base != 8.8 || bit.Scores[0].Source != "osv" {
		t.Errorf("Bitnami scores = %+v, want one CVSS 4.0 vector with base 8.8", bit.Scores)
	}
	if want := time.Date(2026, 4, 28, 9, 12, 7, 790e6, time.UTC); !bit.Modified.Equal(want) {
		t.Errorf("Modified = %v, want %v", bit.Modified, want)
	}

	py := parse("osv-advisories", "pypa-advisory-database", "vulns", "apache-skywalking", "PYSEC-2020-342.yaml")
	if py.ID != "PYSEC-2020-342" || len(py.Affected) != 1 || len(py.Affected[0].Versions) != 10 ||
		py.Affected[0].Versions[0] != "0.1.0" || py.Affected[0].Ranges[0].Events[0].Introduced != "0" {
		t.Errorf("PyPI YAML record = %+v", py)
	}
	if len(py.Scores) != 1 || py.Scores[0].Base != 9.8 {
		t.Errorf("PyPI scores = %+v, want CVSS 3.1 9.8", py.Scores)
	}
	if want := time.Date(2023, 11, 7, 20, 24, 23, 946863000, time.UTC); !py.Modified.Equal(want) {
		t.Errorf("YAML timestamp = %v, want %v", py.Modified, want)
	}

	stdlib := parse("osv-schema", "tools", "osv-linter", "testdata", "GO-2024-2963.json")
	wantEvents := []vigil.RangeEvent{{Introduced: "0"}, {Fixed: "1.21.12"}, {Introduced: "1.22.0-0"}, {Fixed: "1.22.5"}}
	if diff := cmp.Diff(wantEvents, stdlib.Affected[0].Ranges[0].Events); diff != "" {
		t.Errorf("Go stdlib events (-want +got):\n%s", diff)
	}

	git := parse("osv-schema", "tools", "osv-linter", "testdata", "CVE-2018-5407.json")
	last := git.Affected[len(git.Affected)-1]
	if last.Ecosystem != "" || last.Name != "" || last.Ranges[0].Type != "GIT" || last.Ranges[0].Repo != "https://github.com/nodejs/node" {
		t.Errorf("package-less GIT affected = %+v", last)
	}

	w := parse("osv-schema", "tools", "ghsa", "testdata", "withdrawn.osv.json")
	if !w.IsWithdrawn() {
		t.Error("withdrawn.osv.json: IsWithdrawn() = false")
	}
}

func TestAdvisoriesFolder(t *testing.T) {
	root := testfix.Path(t, "osv-advisories")
	got := map[string]*stats{}
	err := feed.Walk(context.Background(), root, untrusted.Limits{}, func(name string, r io.Reader) error {
		a, err := Parse(name, r, untrusted.Limits{})
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, name)
		src := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		if got[src] == nil {
			got[src] = &stats{}
		}
		got[src].add(a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*stats{
		"go-vulndb": {Records: 400, Affected: 565, Events: 1227, Aliases: 750, Ranges: map[string]int{"SEMVER": 565}},
		"pypa-advisory-database": {Records: 400, Withdrawn: 4, Affected: 400, Events: 1974, Versions: 24416, Aliases: 676,
			Ranges: map[string]int{"ECOSYSTEM": 399, "GIT": 204}},
		"bitnami-vulndb": {Records: 400, Affected: 400, Events: 2229, CPEs: 833, Aliases: 400, Ranges: map[string]int{"SEMVER": 401}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per-source stats (-want +got):\n%s", diff)
	}
}

func corpusWant() map[string]*stats {
	return map[string]*stats{
		"Go": {Records: 4141, Withdrawn: 16, Affected: 5911, Events: 12413, Aliases: 7683, Ranges: map[string]int{"SEMVER": 5911}},
		"PyPI": {Records: 2511, Withdrawn: 10, Affected: 2511, Events: 12331, Versions: 132548, Aliases: 4223,
			Ranges: map[string]int{"ECOSYSTEM": 2509, "GIT": 1312}},
		"Bitnami": {Records: 7294, Affected: 7294, Events: 38762, CPEs: 16087, Aliases: 7294, Ranges: map[string]int{"SEMVER": 7326}},
	}
}

func TestReadZipCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("reads all 13,946 records; the race run (-short) checks the parallel reader with TestReadZipMatchesSequential")
	}
	got := map[string]*stats{}
	total := 0
	for eco := range corpusWant() {
		s := &stats{}
		got[eco] = s
		prev := ""
		err := ReadZipFile(testfix.Path(t, "osv-corpus", eco, "all.zip"), untrusted.Limits{}, func(name string, a vigil.Advisory) error {
			if name <= prev {
				t.Fatalf("%s delivered after %s: not in order", name, prev)
			}
			prev = name
			if a.Source != vigil.SourceOSV || !strings.HasSuffix(name, "!"+a.ID+".json") {
				t.Fatalf("%s: source %q id %q", name, a.Source, a.ID)
			}
			for _, af := range a.Affected {
				if af.Ecosystem != eco {
					t.Fatalf("%s: ecosystem %q in the %s archive", name, af.Ecosystem, eco)
				}
			}
			s.add(a)
			total++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(corpusWant(), got); diff != "" {
		t.Errorf("per-ecosystem stats (-want +got):\n%s", diff)
	}
	if total != 13_946 {
		t.Errorf("%d records, want 13,946", total)
	}
}

// TestReadZipMatchesSequential checks that the parallel reader yields exactly what Walk + Parse yield one by one.
func TestReadZipMatchesSequential(t *testing.T) {
	p := testfix.Path(t, "osv-corpus", "PyPI", "all.zip")
	var seq, par []vigil.Advisory
	err := feed.Walk(context.Background(), p, untrusted.Limits{}, func(name string, r io.Reader) error {
		a, err := Parse(name, r, untrusted.Limits{})
		seq = append(seq, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ReadZipFile(p, untrusted.Limits{}, func(name string, a vigil.Advisory) error {
		par = append(par, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq, par); diff != "" {
		t.Errorf("ReadZip differs from Walk+Parse (-seq +par):\n%s", diff)
	}
}

// TestLinterFixtures runs the OSV linter's own records: the one the linter flags for a range without an introduced
// event is rejected; the rest are valid OSV (the other linter findings, such as a package missing from its
// registry or repeated ranges, are not schema violations) and are accepted.
func TestLinterFixtures(t *testing.T) {
	dir := testfix.Path(t, "osv-schema", "tools", "osv-linter", "testdata")
	wantErr := map[string]string{
		"nointroduced-CVE-2023-41045.json": "nointroduced-CVE-2023-41045.json: affected[0].ranges[0].events: a range needs an introduced event",
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 12 {
		t.Fatalf("%d linter fixtures, want 12", len(entries))
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseBytes(e.Name(), b, untrusted.Limits{})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != wantErr[e.Name()] {
				t.Errorf("got %q, want %q", got, wantErr[e.Name()])
			}
		})
	}
}

// TestGHSAConverterOutputs parses the OSV records the OSV project's GHSA converter is expected to produce.
func TestGHSAConverterOutputs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(testfix.Path(t, "osv-schema", "tools", "ghsa", "testdata"), "*.osv.json"))
	if err != nil || len(paths) != 11 {
		t.Fatalf("%d GHSA fixtures (%v), want 11", len(paths), err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ParseBytes(p, b, untrusted.Limits{})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		// The CWEs expected: the distinct "cweId" values in the file, found by a regular expression.
		var want []string
		for _, m := range cweID.FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(want, m[1]) {
				want = append(want, m[1])
			}
		}
		if len(a.Affected) == 0 || a.Affected[0].Ecosystem == "" || a.ID == "" {
			t.Errorf("%s: id %q affected %+v", filepath.Base(p), a.ID, a.Affected)
		}
		if diff := cmp.Diff(want, a.CWEs); diff != "" {
			t.Errorf("%s: CWEs (-want +got):\n%s", filepath.Base(p), diff)
		}
	}
}

var cweID = regexp.MustCompile(`"cweId":\s*"(CWE-\d+)"`)

const good = `{"id":"GHSA-xxxx-yyyy-zzzz","modified":"2024-01-02T03:04:05Z",
 "affected":[{"package":{"ecosystem":"npm","name":"left-pad"},
   "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}`

// edit returns good with old replaced by new (once, which must match).
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(good, old) {
		t.Fatalf("%q not in the base record", old)
	}
	return strings.Replace(good, old, new, 1)
}

func TestRejected(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unknown range type", edit(t, `"type":"SEMVER"`, `"type":"RANGE"`),
			`r.json: affected[0].ranges[0].type: "RANGE" is not ECOSYSTEM, SEMVER or GIT`},
		{"event with two keys", edit(t, `{"fixed":"1.3.0"}`, `{"fixed":"1.3.0","introduced":"1.0"}`),
			"r.json: affected[0].ranges[0].events[1]: an event holds exactly one of introduced, fixed, last_affected, limit"},
		{"empty event", edit(t, `{"fixed":"1.3.0"}`, `{"fixd":"1.3.0"}`),
			"r.json: affected[0].ranges[0].events[1]: an event needs one non-empty introduced, fixed, last_affected or limit"},
		{"non-string version in event", edit(t, `{"fixed":"1.3.0"}`, `{"fixed":1.3}`),
			"r.json: affected[0].ranges[0].events[1].fixed: got a JSON number, want a string"},
		{"non-string in versions", edit(t, `"ranges"`, `"versions":["1.0",2],"ranges"`),
			"r.json: affected[0].versions[1]: got a JSON number, want a string"},
		{"empty version", edit(t, `"ranges"`, `"versions":["1.0",""],"ranges"`),
			"r.json: affected[0].versions[1]: empty version"},
		{"events not an array", edit(t, `"events":[{"introduced":"0"},{"fixed":"1.3.0"}]`, `"events":{"introduced":"0"}`),
			"r.json: affected[0].ranges[0].events: got a JSON object, want an array"},
		{"no events", edit(t, `"events":[{"introduced":"0"},{"fixed":"1.3.0"}]`, `"events":[]`),
			"r.json: affected[0].ranges[0].events: a range needs at least one event"},
		{"no introduced", edit(t, `{"introduced":"0"},`, ``),
			"r.json: affected[0].ranges[0].events: a range needs an introduced event"},
		{"fixed and last_affected", edit(t, `{"introduced":"0"},`, `{"introduced":"0"},{"last_affected":"1.2"},`),
			"r.json: affected[0].ranges[0].events: fixed and last_affected events are mutually exclusive in one range"},
		{"git without repo", edit(t, `"type":"SEMVER"`, `"type":"GIT"`), "r.json: affected[0].ranges[0].repo: required for a GIT range"},
		{"missing range type", edit(t, `"type":"SEMVER",`, ``), "r.json: affected[0].ranges[0].type: required"},
		{"missing id", edit(t, `"id":"GHSA-xxxx-yyyy-zzzz",`, ``), "r.json: id: required"},
		{"id with a space", edit(t, `GHSA-xxxx-yyyy-zzzz`, `GHSA xxxx`), `r.json: id: "GHSA xxxx" contains white space or a control character`},
		{"missing modified", edit(t, `"modified":"2024-01-02T03:04:05Z",`, ``), "r.json: modified: required"},
		{"bad timestamp", edit(t, `2024-01-02T03:04:05Z`, `2024-01-02 03:04`), `r.json: modified: "2024-01-02 03:04" is not an RFC 3339 timestamp`},
		{"bad published", edit(t, `"modified"`, `"published":"yesterday","modified"`), `r.json: published: "yesterday" is not an RFC 3339 timestamp`},
		{"schema 2", edit(t, `"modified"`, `"schema_version":"2.0.0","modified"`), `r.json: schema_version: "2.0.0" is not OSV schema 1.x`},
		{"package without name", edit(t, `,"name":"left-pad"`, ``), "r.json: affected[0].package.name: required"},
		{"package without ecosystem", edit(t, `"ecosystem":"npm",`, ``), "r.json: affected[0].package.ecosystem: required"},
		{"empty alias", edit(t, `"modified"`, `"aliases":["CVE-2024-1",""],"modified"`), "r.json: aliases[1]: required"},
		{"alias not a string", edit(t, `"modified"`, `"aliases":[{"id":"x"}],"modified"`), "r.json: aliases[0]: got a JSON object, want a string"},
		{"malformed JSON", edit(t, `"modified"`, "\n\"modified\"\n,"), "r.json: line 3, column 1: malformed JSON: invalid character ',' after object key"},
		{"truncated JSON", good[:40], "r.json: line 1, column 40: malformed JSON: unexpected end of JSON input"},
		{"json array", `["GHSA"]`, "r.json: line 1: an OSV record is a mapping"},
		{"yaml alias", "id: &x PYSEC-1\nmodified: 2024-01-01T00:00:00Z\naliases: [*x]\n", "r.json: aliases[0]: line 3: YAML aliases are not accepted"},
		{"yaml unquoted number version", "id: PYSEC-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: PyPI, name: x}\n  versions: [1.0]\n",
			"r.json: affected[0].versions[0]: got a JSON number, want a string"},
		{"yaml scalar", "just text", "r.json: line 1: an OSV record is a mapping"},
		{"yaml malformed", "id: [unclosed\n", "r.json: malformed YAML: line 1: did not find expected ',' or ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseBytes("r.json", []byte(tt.doc), untrusted.Limits{})
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("code = %q, want EINVALID (advisory %+v, err %v)", vigil.ErrorCode(err), a, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLenient(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, a vigil.Advisory)
	}{
		{"unknown fields everywhere", edit(t, `"type":"SEMVER"`, `"type":"SEMVER","x_new":[1,{"a":2}]`) + " ",
			func(t *testing.T, a vigil.Advisory) {
				if len(a.Affected[0].Ranges[0].Events) != 2 {
					t.Errorf("events = %v", a.Affected[0].Ranges[0].Events)
				}
			}},
		{"unknown event field beside a known one", edit(t, `{"fixed":"1.3.0"}`, `{"fixed":"1.3.0","note":"x"}`),
			func(t *testing.T, a vigil.Advisory) {
				if a.Affected[0].Ranges[0].Events[1].Fixed != "1.3.0" {
					t.Errorf("events = %v", a.Affected[0].Ranges[0].Events)
				}
			}},
		{"ubuntu severity dropped, bad vector kept at zero", edit(t, `"affected"`,
			`"severity":[{"type":"Ubuntu","score":"medium"},{"type":"CVSS_V3","score":"CVSS:3.1/AV:Q"}],"affected"`),
			func(t *testing.T, a vigil.Advisory) {
				want := []vigil.Score{{Source: "osv", Vector: "CVSS:3.1/AV:Q"}}
				if diff := cmp.Diff(want, a.Scores); diff != "" {
					t.Errorf("scores (-want +got):\n%s", diff)
				}
			}},
		{"v2 vector scored", edit(t, `"affected"`, `"severity":[{"type":"CVSS_V2","score":"AV:N/AC:L/Au:N/C:P/I:P/A:P"}],"affected"`),
			func(t *testing.T, a vigil.Advisory) {
				if len(a.Scores) != 1 || a.Scores[0].Base != 7.5 {
					t.Errorf("scores = %+v, want base 7.5", a.Scores)
				}
			}},
		{"database_specific of another shape", edit(t, `"affected"`, `"database_specific":{"cpes":{"a":1},"cwe_ids":"CWE-79"},"affected"`),
			func(t *testing.T, a vigil.Advisory) {
				if a.Affected[0].CPEs != nil || a.CWEs != nil {
					t.Errorf("CPEs %v CWEs %v, want none", a.Affected[0].CPEs, a.CWEs)
				}
			}},
		{"cpes at both levels", `{"id":"BIT-x","modified":"2024-01-02T03:04:05Z",
			"affected":[{"package":{"ecosystem":"Bitnami","name":"x"},"database_specific":{"cpes":["cpe:2.3:a:x:y:*:*:*:*:*:*:*:*"]}}],
			"database_specific":{"cpes":["cpe:2.3:a:top:level:*:*:*:*:*:*:*:*"]}}`,
			func(t *testing.T, a vigil.Advisory) {
				want := []string{"cpe:2.3:a:x:y:*:*:*:*:*:*:*:*", "cpe:2.3:a:top:level:*:*:*:*:*:*:*:*"}
				if diff := cmp.Diff(want, a.Affected[0].CPEs); diff != "" {
					t.Errorf("CPEs (-want +got):\n%s", diff)
				}
			}},
		{"reference without url dropped", edit(t, `"affected"`, `"references":[{"type":"WEB"},{"type":"FIX","url":"https://x"}],"affected"`),
			func(t *testing.T, a vigil.Advisory) {
				if diff := cmp.Diff([]vigil.Reference{{Type: "FIX", URL: "https://x"}}, a.References); diff != "" {
					t.Errorf("references (-want +got):\n%s", diff)
				}
			}},
		{"git event not a full hash, unknown ecosystem", edit(t, `"package":{"ecosystem":"npm","name":"left-pad"},
   "ranges":[{"type":"SEMVER"`, `"package":{"ecosystem":"Nix:24.05","name":"x"},"ranges":[{"type":"GIT","repo":"https://r"`),
			func(t *testing.T, a vigil.Advisory) {
				if a.Affected[0].Ecosystem != "Nix:24.05" || a.Affected[0].Ranges[0].Events[1].Fixed != "1.3.0" {
					t.Errorf("affected = %+v", a.Affected[0])
				}
			}},
		{"zero withdrawn still withdrawn, BOM and offset time", "\xef\xbb\xbf" + edit(t, `"modified":"2024-01-02T03:04:05Z"`,
			`"modified":"2024-01-02T05:04:05+02:00","withdrawn":"0001-01-01T00:00:00Z"`),
			func(t *testing.T, a vigil.Advisory) {
				if !a.IsWithdrawn() || !a.Modified.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || a.Modified.Location() != time.UTC {
					t.Errorf("withdrawn %v modified %v", a.Withdrawn, a.Modified)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseBytes("r.json", []byte(tt.doc), untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}

func TestHostileInput(t *testing.T) {
	lim := untrusted.Limits{MaxRecordSize: 8 << 20}
	deepJSON := `{"id":"X","modified":"2024-01-01T00:00:00Z","database_specific":` + strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000) + "}"
	deepYAML := "id: X\nmodified: 2024-01-01T00:00:00Z\ndatabase_specific: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n"
	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"1 GiB single-line record", testfix.Endless(`{"id":"X","details":"`, 1<<30), "big.json: larger than the limit of 8388608 bytes"},
		{"10,000-deep JSON", strings.NewReader(deepJSON), "big.json: line 1, column 380: JSON nests deeper than the limit of 64"},
		{"10,000-deep YAML", strings.NewReader(deepYAML), "big.json: database_specific[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: line 3: YAML nests deeper than the limit of 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Parse("big.json", tt.r, lim)
			runtime.ReadMemStats(&after)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
				t.Errorf("allocated %d bytes, want < 128 MiB", alloc)
			}
		})
	}
}

func TestReadZipRejectsAndStops(t *testing.T) {
	var buf bytes.Buffer
	zw := newZip(&buf)
	zw.add(t, "GHSA-b.json", good)
	zw.add(t, "GHSA-a.json", strings.Replace(good, "GHSA-xxxx-yyyy-zzzz", "GHSA-aaaa", 1))
	zw.add(t, "bad-1.json", edit(t, `"type":"SEMVER"`, `"type":"RANGE"`))
	zw.add(t, "bad-2.json", `{"id":`)
	zw.add(t, "big.json", good+strings.Repeat(" ", 2000))
	zw.add(t, "c.yaml", "id: PYSEC-1\nmodified: 2024-01-01T00:00:00Z\n")
	zw.add(t, "README.md", "# not a record")
	zw.add(t, "GHSA-b.json.sha256", "digest")
	zw.close(t)
	r := bytes.NewReader(buf.Bytes())

	var names []string
	err := ReadZip(r, int64(r.Len()), untrusted.Limits{MaxRecordSize: 1000}, func(name string, a vigil.Advisory) error {
		names = append(names, name+"="+a.ID)
		return nil
	})
	if diff := cmp.Diff([]string{"GHSA-a.json=GHSA-aaaa", "GHSA-b.json=GHSA-xxxx-yyyy-zzzz", "c.yaml=PYSEC-1"}, names); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	rej, ok := feed.IsRejects(err)
	if !ok || vigil.ErrorCode(err) != vigil.EINVALID {
		t.Fatalf("err = %v, want *feed.Rejects with EINVALID", err)
	}
	wantRej := []string{
		`bad-1.json: affected[0].ranges[0].type: "RANGE" is not ECOSYSTEM, SEMVER or GIT`,
		"bad-2.json: line 1, column 6: malformed JSON: unexpected end of JSON input",
		fmt.Sprintf("big.json: declares %d bytes uncompressed, more than the limit of 1000", len(good)+2000),
	}
	var gotRej []string
	for _, e := range rej.Errs {
		gotRej = append(gotRej, e.Error())
	}
	if diff := cmp.Diff(wantRej, gotRej); diff != "" || rej.Count != 3 {
		t.Errorf("rejects (count %d) (-want +got):\n%s", rej.Count, diff)
	}

	// An error from fn stops the read at once and is returned as is.
	n := 0
	stop := io.ErrShortWrite
	err = ReadZip(r, int64(r.Len()), untrusted.Limits{}, func(string, vigil.Advisory) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("after fn error: n=%d err=%v", n, err)
	}
	// The total budget is fatal, not a reject.
	err = ReadZip(r, int64(r.Len()), untrusted.Limits{MaxTotalSize: 300}, func(string, vigil.Advisory) error { return nil })
	if _, isRej := feed.IsRejects(err); isRej || !untrusted.IsBudget(err) {
		t.Errorf("over the total budget: %v, want the budget error", err)
	}
	// Not a zip at all.
	err = ReadZip(strings.NewReader("nope"), 4, untrusted.Limits{}, func(string, vigil.Advisory) error { return nil })
	if err.Error() != "zip archive: not a zip archive: zip: not a valid zip file" {
		t.Errorf("not a zip: %v", err)
	}
}
