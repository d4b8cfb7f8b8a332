package cli_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

var updateScan = flag.Bool("update-scan", false, "rewrite internal/cli/testdata/scan/*.golden")

// scanIntel imports, with vigil import, real advisories for the packages of testdata/scan/device.cdx.json:
// PyPA's Django records (YAML), Bitnami's ActiveMQ records (with CPEs), GitHub advisories for npm jquery and Maven
// xwiki, a withdrawn RubyGems advisory, and a CISA ICSMA advisory (CSAF) for a Fresenius Kabi product.
func scanIntel(t *testing.T, r runner) {
	t.Helper()
	ghsa := func(n string) string {
		return testfix.Path(t, "osv-schema", "tools", "ghsa", "testdata", n+".osv.json")
	}
	r.ok("import",
		testfix.Path(t, "osv-advisories", "pypa-advisory-database", "vulns", "django"),
		testfix.Path(t, "osv-advisories", "bitnami-vulndb", "data", "activemq"),
		ghsa("npm_greater_than"), ghsa("maven_greater_than"), ghsa("withdrawn"),
		testfix.Path(t, "cisa-csaf", "OT", "white", "2021", "icsma-21-355-01.json"))
}

// stamps normalizes generated times and the tool's own path-independent values in golden output.
var stamps = regexp.MustCompile(`"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"`)

func golden(t *testing.T, name, got string) {
	t.Helper()
	got = stamps.ReplaceAllString(got, `"<time>"`)
	p := filepath.Join("testdata", "scan", name+".golden")
	if *updateScan {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update-scan)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestScan(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			sbomPath := filepath.Join("testdata", "scan", "device.cdx.json")

			// An empty store: nothing matched, exit 0, and a warning that nothing was checked.
			code, out, errs := r.run("", "scan", "--format", "json", sbomPath)
			if code != 0 || !strings.Contains(out, `"findings": []`) || !strings.Contains(errs, "vigil import") {
				t.Fatalf("empty store: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			}

			scanIntel(t, r)
			for _, format := range []string{"json", "table", "cyclonedx-vex", "openvex", "sarif"} {
				code, out, errs := r.run("", "scan", "--format", format, sbomPath)
				if code != 1 {
					t.Fatalf("--format %s: exit %d, want 1 (findings)\nstderr: %s", format, code, errs)
				}
				golden(t, "device."+format, out)
				if format != "table" && !json.Valid([]byte(out)) {
					t.Errorf("--format %s: output is not JSON", format)
				}
			}

			// The JSON contract, field by field, for one finding.
			_, out, _ = r.run("", "scan", "--format", "json", sbomPath)
			var res struct {
				Components int `json:"components"`
				Findings   []struct {
					Component struct {
						Name, Version, Purl string
					} `json:"component"`
					Vulnerability string   `json:"vulnerability"`
					Aliases       []string `json:"aliases"`
					State         string   `json:"state"`
					Evidence      struct {
						Matcher, Range, Fixed string
					} `json:"evidence"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if res.Components != 8 {
				t.Errorf("components = %d, want 8", res.Components)
			}
			seen := map[string]bool{}
			for _, f := range res.Findings {
				k := f.Component.Name + "@" + f.Component.Version + " " + f.Vulnerability
				if seen[k] {
					t.Errorf("two findings for %s", k)
				}
				seen[k] = true
				if f.Aliases == nil {
					t.Errorf("%s: aliases is null, want an array", k)
				}
			}
			for _, want := range []string{
				"jquery@2.2.4 GHSA-mhpp-875w-9cpv",                         // npm SEMVER range
				"jquery@latest GHSA-mhpp-875w-9cpv",                        // could not evaluate
				"xwiki-commons-core@12.10.1 GHSA-76mp-659p-rw65",           // Maven groupId in the CycloneDX group
				"activemq@5.16.1 BIT-activemq-2021-21341",                  // Bitnami record found through the CPE
				"Agilia Partner maintenance software@3.2.1 CVE-2021-23236", // CSAF product
			} {
				if !seen[want] {
					t.Errorf("missing finding %s", want)
				}
			}
			for k := range seen {
				if strings.HasPrefix(k, "activesupport@") || strings.HasPrefix(k, "left-pad@") {
					t.Errorf("unexpected finding %s (withdrawn advisory or unknown package)", k)
				}
			}

			// No findings: exit 0.
			code, out, errs = r.run("", "scan", "--format", "json", filepath.Join("testdata", "scan", "clean.cdx.json"))
			if code != 0 || !strings.Contains(out, `"components": 2`) {
				t.Errorf("clean SBOM: exit %d, want 0\nstdout: %s\nstderr: %s", code, out, errs)
			}
		})
	}
}

func TestScanInvalid(t *testing.T) {
	r := runner{t, storetest.MigratedDSN(t, "sqlite")}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed purl names the field", []string{"scan", "--format", "json", filepath.Join("testdata", "scan", "invalid.cdx.json")}, "components[0].purl"},
		{"missing file", []string{"scan", filepath.Join("testdata", "scan", "nope.json")}, "nope.json"},
		{"unknown format", []string{"scan", "--format", "xml", filepath.Join("testdata", "scan", "clean.cdx.json")}, "--format"},
		{"no argument", []string{"scan"}, "want 1 argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := r.run("", tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, out, errs)
			}
			if !strings.Contains(out+errs, tt.want) {
				t.Errorf("message does not name %q\nstdout: %s\nstderr: %s", tt.want, out, errs)
			}
		})
	}
}
