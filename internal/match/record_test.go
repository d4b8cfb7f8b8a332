package match_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/feed/nvd"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// realAdvisories reads every advisory of the shared test data that the matcher can meet: the OSV corpus (Go, PyPI,
// Bitnami), the NVD API records and the CISA CSAF documents.
func realAdvisories(t testing.TB) []vigil.Advisory {
	t.Helper()
	return memo(t, "real advisories", func() ([]vigil.Advisory, error) {
		var out []vigil.Advisory
		for _, eco := range []string{"Go", "PyPI", "Bitnami"} {
			out = append(out, osvCorpus(t, eco)...)
		}
		walk := func(dir string, read func(path string, f *os.File) error) error {
			return filepath.WalkDir(testfix.Path(t, dir), func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
					return err
				}
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				defer f.Close()
				return read(path, f)
			})
		}
		err := walk("nvd-api-2.0", func(path string, f *os.File) error {
			_, err := nvd.Parse(path, f, untrusted.Limits{}, func(a vigil.Advisory) error {
				out = append(out, a)
				return nil
			})
			return err
		})
		if err != nil {
			return nil, err
		}
		err = walk("cisa-csaf", func(path string, f *os.File) error {
			doc, err := csaf.Parse(path, f, untrusted.Limits{})
			if err != nil {
				return nil // the corpus keeps a few invalid documents for the parser's tests; they never reach the store
			}
			out = append(out, doc.Advisories...)
			return nil
		})
		return out, err
	})
}

// projection is what a match record keeps of an advisory.
func projection(a vigil.Advisory) vigil.Advisory {
	return vigil.Advisory{Source: a.Source, ID: a.ID, Aliases: a.Aliases, Document: a.Document, Withdrawn: a.Withdrawn,
		Affected: a.Affected, Configurations: a.Configurations, Products: a.Products}
}

// TestRecordRoundTrip: every real advisory's match record decodes to exactly what matching reads of it.
func TestRecordRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every real advisory; the race run (-short) covers the engine with TestEngineSharedAndBounded")
	}
	advs := realAdvisories(t)
	kinds := map[string]int{}
	for _, a := range advs {
		got, err := match.DecodeRecord(match.EncodeRecord(&a))
		if err != nil {
			t.Fatalf("%s/%s: %v", a.Source, a.ID, err)
		}
		if diff := cmp.Diff(projection(a), *got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s/%s (-want +got):\n%s", a.Source, a.ID, diff)
		}
		switch {
		case len(a.Configurations) > 0:
			kinds["nvd"]++
		case len(a.Products) > 0:
			kinds["csaf"]++
		case a.IsWithdrawn():
			kinds["withdrawn"]++
		case len(a.Affected) > 0:
			kinds["osv"]++
		}
	}
	for _, k := range []string{"osv", "nvd", "csaf", "withdrawn"} {
		if kinds[k] == 0 {
			t.Errorf("no %s advisory in the test data: the round trip does not cover it (%v)", k, kinds)
		}
	}
}

// TestRecordMatchesLikeDocument: an Index of records finds exactly what an Index of the documents finds, over
// the components of the corpus exactness test and the NVD and CSAF sources' components.
func TestRecordMatchesLikeDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every real advisory; the race run (-short) covers the engine with TestEngineSharedAndBounded")
	}
	advs := realAdvisories(t)
	docs, recs := match.NewIndex(match.Options{}), match.NewIndex(match.Options{})
	for i := range advs {
		docs.Add(&advs[i])
		r, err := match.DecodeRecord(match.EncodeRecord(&advs[i]))
		if err != nil {
			t.Fatal(err)
		}
		recs.Add(r)
	}
	var comps []vigil.Component
	for _, eco := range []string{"Go", "PyPI", "Bitnami"} {
		for _, c := range corpusComponents(eco, readRaw(t, eco)) {
			comps = append(comps, c.comp)
		}
	}
	comps = append(comps,
		vigil.Component{Name: "firmware", Version: "2.4a", CPE: "cpe:2.3:o:medtronic:minimed_508_firmware:-:*:*:*:*:*:*:*"},
		vigil.Component{Name: "MiniMed 508 pump", Version: "1"},
		vigil.Component{Name: "wordpress", Version: "5.0.0", CPE: "cpe:2.3:a:bitnami:wordpress:5.0.0:*:*:*:*:*:*:*"})
	want, err := docs.Match(t.Context(), comps)
	if err != nil {
		t.Fatal(err)
	}
	got, err := recs.Match(t.Context(), comps)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 1000 {
		t.Fatalf("only %d findings: the comparison is too thin to mean anything", len(want))
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("record index vs document index (-want +got):\n%s", diff)
	}
}

// TestDecodeRecordRejectsCorrupt: a truncated record, or one of another format, is an error, never a panic or a
// partial advisory.
func TestDecodeRecordRejectsCorrupt(t *testing.T) {
	a := ghsa(t, "npm_greater_than")
	rec := match.EncodeRecord(a)
	for n := range len(rec) {
		if got, err := match.DecodeRecord(rec[:n]); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Fatalf("DecodeRecord(first %d of %d bytes) = %v, %v; want EINVALID", n, len(rec), got, err)
		}
	}
	bad := append([]byte{0}, rec[1:]...)
	if _, err := match.DecodeRecord(bad); err == nil {
		t.Error("a record of an unknown format decoded")
	}
	long := append(append([]byte(nil), rec...), 0)
	if _, err := match.DecodeRecord(long); err == nil {
		t.Error("a record with trailing bytes decoded")
	}
}
