package match_test

import (
	"os"
	"path/filepath"
	"slices"
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
	"github.com/vigil-dev/vigil/internal/version"
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
		if diff := cmp.Diff(projection(a), *got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(vigil.Affected{}, "Versions", "Ordered")); diff != "" {
			t.Fatalf("%s/%s (-want +got):\n%s", a.Source, a.ID, diff)
		}
		for i := range a.Affected {
			checkMatchOrder(t, a.ID, a.Affected[i], got.Affected[i])
			if got.Affected[i].Ordered > 0 {
				kinds["ordered list"]++
			}
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
	for _, k := range []string{"osv", "nvd", "csaf", "withdrawn", "ordered list"} {
		if kinds[k] == 0 {
			t.Errorf("no %s advisory in the test data: the round trip does not cover it (%v)", k, kinds)
		}
	}
}

// checkMatchOrder checks that a record's versions list is the document's in match order: the entries that parse
// in the ecosystem first, in its order (equal ones as written), then the others as written.
func checkMatchOrder(t *testing.T, id string, doc, rec vigil.Affected) {
	t.Helper()
	var parsed []string
	var rest []string
	for _, s := range doc.Versions {
		if _, err := version.Parse(doc.Ecosystem, s); err == nil {
			parsed = append(parsed, s)
		} else {
			rest = append(rest, s)
		}
	}
	if _, known := version.Normalize(doc.Ecosystem); !known {
		parsed, rest = nil, doc.Versions
	}
	if rec.Ordered != len(parsed) || len(rec.Versions) != len(doc.Versions) {
		t.Fatalf("%s %s: %d of %d entries ordered, want %d of %d", id, doc.Name, rec.Ordered, len(rec.Versions), len(parsed), len(doc.Versions))
	}
	if diff := cmp.Diff(rest, rec.Versions[rec.Ordered:], cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("%s %s: the entries that do not parse, as written (-want +got):\n%s", id, doc.Name, diff)
	}
	ordered := rec.Versions[:rec.Ordered]
	want := slices.Clone(parsed)
	slices.SortStableFunc(want, func(x, y string) int {
		c, _ := version.Compare(doc.Ecosystem, x, y)
		return c
	})
	if diff := cmp.Diff(want, ordered, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("%s %s: the ordered entries (-want +got):\n%s", id, doc.Name, diff)
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

// TestVersionsListSearch: a versions list finds a component's version by equality in the ecosystem's order or by
// its text, alike from the document and from its match record, on the first searches (entries parsed through the
// cache) and on later ones (entries parsed once for good).
func TestVersionsListSearch(t *testing.T) {
	doc := &vigil.Advisory{Source: vigil.SourceOSV, ID: "PYSEC-LIST-1", Affected: []vigil.Affected{{
		Ecosystem: "PyPI", Name: "listed",
		// Out of order, two spellings of 2.7, and an entry PEP 440 cannot read.
		Versions: []string{"2.7", "not a version", "0.9", "2.7.0", "10.1"},
	}}}
	rec, err := match.DecodeRecord(match.EncodeRecord(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rec.Affected[0].Versions, []string{"0.9", "2.7", "2.7.0", "10.1", "not a version"}; !slices.Equal(got, want) || rec.Affected[0].Ordered != 4 {
		t.Fatalf("record list %q, %d ordered; want %q, 4", got, rec.Affected[0].Ordered, want)
	}
	cases := []struct {
		version, rng string // rng "" for no finding
	}{
		{"2.7.0", "versions: 2.7.0"},                 // spelled as an entry: that entry, though "2.7" orders first
		{"2.7.0.0", "versions: 2.7"},                 // equal to both: the first in the list's order
		{"10.1", "versions: 10.1"},                   // after 9 in version order, before it in text
		{"0.9.0", "versions: 0.9"},                   // the first entry
		{"not a version", "versions: not a version"}, // only by its text
		{"2.8", ""},
		{"0.1", ""},
		{"11", ""},
	}
	for name, adv := range map[string]*vigil.Advisory{"document": doc, "record": rec} {
		x := match.NewIndex(match.Options{})
		x.Add(adv)
		for round := range 6 { // past the searches that parse through the cache
			for _, c := range cases {
				fs, err := x.Match(t.Context(), []vigil.Component{purl("pkg:pypi/listed@" + c.version)})
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				if len(fs) == 1 && fs[0].State == vigil.FindingOpen {
					got = fs[0].Evidence.Range
				} else if len(fs) > 0 {
					t.Fatalf("%s, round %d, %s: %+v", name, round, c.version, fs)
				}
				if got != c.rng {
					t.Errorf("%s, round %d, %s: range %q, want %q", name, round, c.version, got, c.rng)
				}
			}
		}
	}
}
