package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil/internal/cli"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

var updateIntel = flag.Bool("update-intel", false, "rewrite the intel golden files in testdata")

// intel runs the vigil command line on one store.
type intel struct {
	t  *testing.T
	db string
}

func (r intel) run(args ...string) (int, string, string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"--db", r.db}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func (r intel) ok(args ...string) string {
	r.t.Helper()
	code, out, errs := r.run(args...)
	if code != 0 {
		r.t.Fatalf("vigil %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

type summary struct {
	Source    string `json:"source"`
	Added     int    `json:"added"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Withdrawn int    `json:"withdrawn"`
	Rejected  []struct {
		File, Record, Error string
	} `json:"rejected"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return v
}

func TestImportCommand(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := intel{t, storetest.MigratedDSN(t, engine)}
			go1 := testfix.Path(t, "osv-corpus", "Go", "all.zip")
			nvd := testfix.Path(t, "nvd-api-2.0")
			kev := testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json")
			code, out, errs := r.run("import", "--format", "json", go1, nvd, kev)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got := decode[[]summary](t, out)
			if len(got) != 3 || got[0].Source != "osv" || got[0].Added+got[0].Withdrawn != 4141 || got[1].Source != "nvd" || got[1].Added != 40 ||
				got[2].Source != "kev" || got[2].Added != 1404 || got[0].Rejected == nil {
				t.Errorf("summaries = %s", out)
			}
			// Not a terminal: plain progress lines, no escape codes.
			if !strings.Contains(errs, "import: ") || strings.Contains(errs, "\x1b[") {
				t.Errorf("progress on stderr = %q", errs)
			}
			got = decode[[]summary](t, r.ok("import", "--format", "json", go1, nvd, kev))
			for _, s := range got {
				if s.Added+s.Updated+s.Withdrawn+len(s.Rejected) != 0 || s.Unchanged == 0 {
					t.Errorf("second import of the same data: %+v, want all unchanged", s)
				}
			}

			// A malformed file: exit 2, the file and the JSON path named, nothing imported.
			dir := t.TempDir()
			bad := filepath.Join(dir, "GO-2099-0001.json")
			os.WriteFile(bad, []byte(`{"id":"GO-2099-0001","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":0}]}]}]}`), 0o644)
			good := filepath.Join(dir, "GO-2099-0002.json")
			os.WriteFile(good, []byte(`{"id":"GO-2099-0002","modified":"2024-01-01T00:00:00Z","summary":"fine"}`), 0o644)
			code, out, errs = r.run("import", dir)
			if code != 2 || !strings.Contains(errs, bad) || !strings.Contains(errs, "affected[0].ranges[0].events[0].introduced") {
				t.Errorf("malformed: exit %d, stderr %q", code, errs)
			}
			if c, _, _ := r.run("vuln", "show", "GO-2099-0002"); c == 0 {
				t.Error("a failed run imported a record")
			}
			code, out, _ = r.run("--format", "json", "import", "--skip-invalid", dir)
			got = decode[[]summary](t, out)
			if code != 0 || len(got) != 1 || got[0].Added != 1 || len(got[0].Rejected) != 1 || got[0].Rejected[0].File != bad ||
				got[0].Rejected[0].Record != "GO-2099-0001" {
				t.Errorf("--skip-invalid: exit %d, %s", code, out)
			}
			table := r.ok("import", "--skip-invalid", dir)
			if !strings.Contains(table, "REJECTED") || !strings.Contains(table, "GO-2099-0001") {
				t.Errorf("table output does not list the rejected record:\n%s", table)
			}
			if code, _, errs := r.run("import", "--source", "rss", dir); code != 2 || !strings.Contains(errs, "--source") {
				t.Errorf("bad --source: exit %d %q", code, errs)
			}
			if code, _, errs := r.run("import", "https://example.org/feed.json"); code == 0 || !strings.Contains(errs, "not allow-listed") {
				t.Errorf("a URL outside the allow-list: exit %d %q", code, errs)
			}
		})
	}
}

// normalizeIntel replaces what differs between runs and machines (times, paths, digests of paths) in a JSON document.
func normalizeIntel(s, root string) string {
	s = strings.ReplaceAll(s, root, "TESTDATA")
	s = regexp.MustCompile(`"fetched_at": "[^"]*"`).ReplaceAllString(s, `"fetched_at": "TIME"`)
	s = regexp.MustCompile(`"document_ref": \d+`).ReplaceAllString(s, `"document_ref": 0`)
	return s
}

func intelGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "intel", name)
	if *updateIntel {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update-intel)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestVulnShowAndList(t *testing.T) {
	root := testfix.Root(t)
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := intel{t, storetest.MigratedDSN(t, engine)}
			r.ok("import", testfix.Path(t, "nvd-api-2.0", "fkie-cad"), testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json"),
				testfix.Path(t, "osv-corpus", "PyPI", "all.zip"), testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json"),
				testfix.Path(t, "epss", "vunnel", "example-1.csv"))
			// By any alias, the same merged record: NVD's and CISA's advisories side by side.
			show := normalizeIntel(r.ok("--format", "json", "vuln", "show", "CVE-2019-10964"), root)
			intelGolden(t, "cve-2019-10964.json", show)
			if byDoc := normalizeIntel(r.ok("--format", "json", "vuln", "show", "icsma-19-178-01"), root); byDoc != show {
				t.Error("the CSAF document id does not give the same record")
			}
			v := decode[struct {
				ID      string   `json:"id"`
				Aliases []string `json:"aliases"`
				Sources []struct {
					Source string `json:"source"`
				} `json:"sources"`
			}](t, r.ok("--format", "json", "vuln", "show", "GHSA-rgrf-6mf5-m882"))
			if !strings.HasPrefix(v.ID, "CVE-") || len(v.Sources) == 0 {
				t.Errorf("by GHSA: %+v", v)
			}
			if code, _, errs := r.run("vuln", "show", "CVE-1900-0001"); code != 1 || !strings.Contains(errs, "not found") {
				t.Errorf("unknown id: exit %d %q", code, errs)
			}
			items := decode[[]struct {
				ID      string   `json:"id"`
				Sources []string `json:"sources"`
			}](t, r.ok("--format", "json", "vuln", "list", "--ecosystem", "pypi", "--text", "django", "--limit", "5"))
			if len(items) != 5 {
				t.Errorf("list = %d items, want 5", len(items))
			}
			for _, it := range items {
				if !cmp.Equal(it.Sources, []string{"osv"}) {
					t.Errorf("item %+v", it)
				}
			}
			if out := r.ok("vuln", "list", "--since", "2099-01-01"); strings.Count(out, "\n") != 1 {
				t.Errorf("future --since lists:\n%s", out)
			}
			if code, _, _ := r.run("vuln", "list", "--since", "2025-13-01"); code != 2 {
				t.Errorf("bad --since: exit %d", code)
			}
			if code, _, _ := r.run("vuln", "list", "--min-epss", "2"); code != 2 {
				t.Errorf("bad --min-epss: exit %d", code)
			}
			text := r.ok("vuln", "show", "CVE-2019-10964")
			for _, want := range []string{"CVE-2019-10964", "ICSMA-19-178-01", "cpe:2.3:o:medtronic", "nvd@nist.gov"} {
				if !strings.Contains(text, want) {
					t.Errorf("table output lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestFeedsAndSignalsCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := intel{t, storetest.MigratedDSN(t, engine)}
			feeds := decode[[]struct {
				Name, Source, URL, Schedule string
				Enabled                     bool
			}](t, r.ok("--format", "json", "feeds"))
			byName := map[string]string{}
			for _, f := range feeds {
				byName[f.Name] = f.Source + " " + f.Schedule
			}
			for name, want := range map[string]string{"nvd": "nvd 2h", "kev": "kev 24h", "epss": "epss 24h", "osv-pypi": "osv 24h", "cisa-csaf-ot": "csaf 24h"} {
				if byName[name] != want {
					t.Errorf("feed %s = %q, want %q", name, byName[name], want)
				}
			}
			r.ok("feeds", "set", "osv-rubygems", "--source", "osv", "--url", "https://osv-vulnerabilities.storage.googleapis.com/RubyGems/all.zip", "--every", "12h")
			if out := r.ok("feeds"); !strings.Contains(out, "osv-rubygems") || !strings.Contains(out, "12h  ") || !strings.Contains(out, "never synced") {
				t.Errorf("feeds:\n%s", out)
			}
			if code, _, errs := r.run("feeds", "set", "x", "--source", "osv", "--url", "ftp://example.org/x"); code != 2 || !strings.Contains(errs, "url") {
				t.Errorf("bad url: exit %d %q", code, errs)
			}

			r.ok("org", "create", "--name", "Medtronic plc", "--time-zone", "UTC")
			r.ok("device", "create", "--name", "MiniMed 508", "--class", "II", "--pathway", "510k")
			r.ok("device", "create", "--name", "Other Pump", "--model", "OP-1", "--class", "II", "--pathway", "510k")
			r.ok("import", testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json"))
			sigs := decode[[]struct {
				Device      string `json:"device"`
				Document    string `json:"document"`
				ReleaseDate string `json:"release_date"`
				MatchedBy   string `json:"matched_by"`
			}](t, r.ok("--format", "json", "signals", "--device", "MiniMed 508"))
			if len(sigs) != 1 || sigs[0].Document != "ICSMA-19-178-01" || sigs[0].ReleaseDate != "2019-06-27" || sigs[0].MatchedBy != "name" {
				t.Errorf("signals = %+v", sigs)
			}
			if out := r.ok("signals"); strings.Count(out, "ICSMA-19-178-01") != 2 || !strings.Contains(out, "vendor") {
				t.Errorf("all signals:\n%s", out)
			}
		})
	}
}
