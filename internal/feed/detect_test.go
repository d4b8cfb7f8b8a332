package feed

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func head(t *testing.T, n int, elem ...string) (string, []byte) {
	t.Helper()
	p := testfix.Path(t, elem...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > n {
		b = b[:n]
	}
	return p, b
}

func TestDetectFixtures(t *testing.T) {
	tests := []struct {
		name string
		size int // bytes of head given to Detect
		path []string
		want string
	}{
		{"osv go json", HeadSize, []string{"osv-advisories", "go-vulndb", "data", "osv", "GO-2024-3139.json"}, vigil.SourceOSV},
		{"osv pypi yaml", HeadSize, []string{"osv-advisories", "pypa-advisory-database", "vulns", "apache-skywalking", "PYSEC-2020-342.yaml"}, vigil.SourceOSV},
		{"osv bitnami", HeadSize, []string{"osv-advisories", "bitnami-vulndb", "data", "minio", "BIT-minio-2026-40344.json"}, vigil.SourceOSV},
		{"osv bitnami cut inside details", 400, []string{"osv-advisories", "bitnami-vulndb", "data", "minio", "BIT-minio-2026-40344.json"}, vigil.SourceOSV},
		{"osv record with a CVE id is not NVD", HeadSize, []string{"osv-schema", "tools", "osv-linter", "testdata", "CVE-2018-5407.json"}, vigil.SourceOSV},
		{"osv without affected (RHSA)", HeadSize, []string{"osv-schema", "tools", "osv-linter", "testdata", "RHSA-2022_0216.json"}, vigil.SourceOSV},
		{"nvd api page", HeadSize, []string{"nvd-api-2.0", "vunnel", "full-page.json"}, vigil.SourceNVD},
		{"nvd single page", HeadSize, []string{"nvd-api-2.0", "vunnel", "single-entry.json"}, vigil.SourceNVD},
		{"nvd bare cve object", HeadSize, []string{"nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json"}, vigil.SourceNVD},
		{"kev json", HeadSize, []string{"cisa-kev", "known_exploited_vulnerabilities.json"}, vigil.SourceKEV},
		{"kev json history", 64, []string{"cisa-kev", "history", "known_exploited_vulnerabilities-2025.01.24.json"}, vigil.SourceKEV},
		{"kev csv", HeadSize, []string{"cisa-kev", "known_exploited_vulnerabilities.csv"}, vigil.SourceKEV},
		{"epss csv", HeadSize, []string{"epss", "vunnel", "example-1.csv"}, vigil.SourceEPSS},
		{"epss csv without date still epss", HeadSize, []string{"epss", "vunnel", "missing-date.csv"}, vigil.SourceEPSS},
		{"csaf icsma", HeadSize, []string{"cisa-csaf", "OT", "white", "2024", "icsa-24-025-01.json"}, vigil.SourceCSAF},
		{"stix bundle", HeadSize, []string{"stix-2.1", "cti-stix2-json-schemas", "examples", "indicator-for-c2-ip-address.json"}, vigil.SourceSTIX},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, h := head(t, tt.size, tt.path...)
			got, err := Detect(p, h)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if got != tt.want {
				t.Errorf("Detect(%s) = %q, want %q", p, got, tt.want)
			}
		})
	}
}

func TestDetectRejects(t *testing.T) {
	tests := []struct {
		name, file string
		head       string
		sideFile   bool
	}{
		{"empty", "x.json", "  \n", false},
		{"gzip", "x.json.gz", "\x1f\x8b\x08\x00", false},
		{"zip", "all.zip", "PK\x03\x04rest", false},
		{"json array", "x.json", `[{"id":"GO-1"}]`, false},
		{"unrelated json", "package.json", `{"name":"left-pad","version":"1.3.0"}`, false},
		{"unrelated csv", "x.csv", "a,b,c\n1,2,3\n", false},
		{"yaml without id", "x.yaml", "foo: bar\n", false},
		{"rolie feed", "cisa-csaf-ot-feed-tlp-white.json", `{"feed":{"id":"x","entry":[]}}`, true},
		{"provider metadata", "provider-metadata.json", `{"canonical_url":"https://x","metadata_version":"2.0","publisher":{}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.file, []byte(tt.head))
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("Detect = %q, %v; want EINVALID", got, err)
			}
			if got != "" {
				t.Errorf("source = %q, want empty", got)
			}
			if errors.Is(err, ErrSideFile) != tt.sideFile {
				t.Errorf("errors.Is(err, ErrSideFile) = %v, want %v (%v)", !tt.sideFile, tt.sideFile, err)
			}
		})
	}
}

// TestDetectNameHint checks that the file name decides only when content does not.
func TestDetectNameHint(t *testing.T) {
	tests := []struct {
		name, head, want string
	}{
		// A head cut before any tell-tale key: the name decides.
		{"nvdcve-2.0-2024.json", `{"somethingFirst": "`, vigil.SourceNVD},
		{"feeds/PyPI/all.zip!PYSEC-1.json", `{"somethingFirst": "`, vigil.SourceOSV},
		// YAML with only an id: the .yaml extension tips it to OSV.
		{"PYSEC-2020-1.yaml", "id: PYSEC-2020-1\n", vigil.SourceOSV},
		// Content wins over a misleading name.
		{"known_exploited_vulnerabilities.json", `{"id":"GO-2020-1","modified":"2020-01-01T00:00:00Z"}`, vigil.SourceOSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.name, []byte(tt.head))
			if err != nil || got != tt.want {
				t.Errorf("Detect(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
			}
		})
	}
}

// TestDetectFixtureFolders walks whole fixture folders as an importer would: in CISA's CSAF provider directory
// every advisory is CSAF, the two ROLIE feeds are side files, and the signatures, digests, index.txt and
// changes.csv are never seen; the KEV folder's JSON Schema is a side file, not a catalog.
func TestDetectFixtureFolders(t *testing.T) {
	tests := []struct {
		folder string
		want   map[string]int
	}{
		{"cisa-csaf", map[string]int{vigil.SourceCSAF: 212, "side file": 2}},
		{"cisa-kev", map[string]int{vigil.SourceKEV: 3, "side file": 1}},
		{"nvd-api-2.0", map[string]int{vigil.SourceNVD: 3}},
		{"epss", map[string]int{vigil.SourceEPSS: 3}},
		{"osv-advisories", map[string]int{vigil.SourceOSV: 1200}},
		{"osv-corpus", map[string]int{vigil.SourceOSV: 13_946}},
	}
	for _, tt := range tests {
		t.Run(tt.folder, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, detectAll(t, tt.folder)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func detectAll(t *testing.T, folder string) map[string]int {
	got := map[string]int{}
	err := Walk(context.Background(), testfix.Path(t, folder), untrusted.Limits{}, func(name string, r io.Reader) error {
		b, err := io.ReadAll(io.LimitReader(r, HeadSize))
		if err != nil {
			return err
		}
		src, err := Detect(name, b)
		switch {
		case errors.Is(err, ErrSideFile):
			got["side file"]++
		case err != nil:
			return err
		default:
			got[src]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}
