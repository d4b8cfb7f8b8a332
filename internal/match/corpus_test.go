package match_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/osv-scalibr/semantic"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
	"github.com/vigil-dev/vigil/internal/version"
)

// The exactness test: every finding the osv-corpus records' own ranges and versions lists call for, and no other.
//
// The expected findings come from an oracle written independently of the engine: it reads the raw JSON of each
// record (not the feed parser's Advisory), normalizes names with its own rules, orders versions with
// github.com/google/osv-scalibr/semantic directly (not internal/version), and follows the OSV specification's
// evaluation pseudocode literally. The SBOM is built from the corpus's own package names and versions: every
// introduced, fixed and last_affected value, samples of the versions lists, spellings such as "2.7" for "2.7.0",
// PyPI names as people write them (Django_Foo.Bar) and versions outside every range.

type rawRecord struct {
	ID        string   `json:"id"`
	Withdrawn string   `json:"withdrawn"`
	Aliases   []string `json:"aliases"`
	Affected  []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
		Versions []string `json:"versions"`
	} `json:"affected"`
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// oracleName is the oracle's own name normalization.
func oracleName(eco, name string) string {
	if eco == "PyPI" {
		return strings.ToLower(pep503.ReplaceAllString(name, "-"))
	}
	return name
}

// oracleVersion maps a purl version to the ecosystem's spelling (Go purls carry "v", Go's stdlib "go").
func oracleVersion(eco, name, v string) string {
	if eco == "Go" {
		if name == "stdlib" || name == "toolchain" {
			return strings.TrimPrefix(v, "go")
		}
		return strings.TrimPrefix(v, "v")
	}
	return v
}

// oracle memoizes osv-scalibr parses for one test.
type oracle struct{ cache map[string]semantic.Version }

type oracleState int

const (
	oNo oracleState = iota
	oUnknown
	oYes
)

// oracleAffected is the OSV specification's IsVulnerable for one affected entry, with "unknown" for values the
// ordering rejects. valid says whether the engine's comparator accepts a version at all (the one question where
// the oracle defers to Vigil: osv-scalibr accepts any text as SemVer, Vigil refuses "abc" as a Go version).
func (o *oracle) affected(eco string, ranges []struct {
	Type   string              `json:"type"`
	Events []map[string]string `json:"events"`
}, versions []string, v string, valid func(string) bool) oracleState {
	parse := func(s string) (semantic.Version, bool) {
		k := eco + "\x00" + s
		if p, ok := o.cache[k]; ok {
			return p, p != nil
		}
		var p semantic.Version
		if valid(s) {
			if v, err := semantic.Parse(s, eco); err == nil {
				p = v
			}
		}
		o.cache[k] = p
		return p, p != nil
	}
	unknown := false
	for _, r := range ranges {
		if r.Type == "GIT" {
			continue // component versions here are never commit hashes
		}
		cv, ok := parse(v)
		if !ok {
			unknown = true
			continue
		}
		type ev struct {
			kind, val string
			zero      bool
			pv        semantic.Version
		}
		var evs []ev
		var limits []semantic.Version
		bad := false
		for _, e := range r.Events {
			for k, val := range e {
				x := ev{kind: k, val: val, zero: k == "introduced" && val == "0"}
				if !x.zero {
					p, ok := parse(val)
					if !ok {
						bad = true
						continue
					}
					x.pv = p
				}
				if k == "limit" {
					limits = append(limits, x.pv)
					continue
				}
				evs = append(evs, x)
			}
		}
		if bad {
			unknown = true
			continue
		}
		sort.SliceStable(evs, func(i, j int) bool {
			if evs[i].zero || evs[j].zero {
				return evs[i].zero && !evs[j].zero
			}
			c, _ := evs[i].pv.Compare(evs[j].pv)
			return c < 0
		})
		before := len(limits) == 0
		for _, l := range limits {
			if c, _ := cv.Compare(l); c < 0 {
				before = true
			}
		}
		if !before {
			continue
		}
		vuln := false
		for _, e := range evs {
			c := 0
			if !e.zero {
				c, _ = cv.Compare(e.pv)
			}
			switch {
			case e.kind == "introduced" && (e.zero || c >= 0):
				vuln = true
			case e.kind == "fixed" && c >= 0:
				vuln = false
			case e.kind == "last_affected" && c > 0:
				vuln = false
			}
		}
		if vuln {
			return oYes
		}
	}
	if len(versions) > 0 {
		cv, ok := parse(v)
		for _, s := range versions {
			if s == v {
				return oYes
			}
			if ok {
				if p, ok := parse(s); ok {
					if c, _ := cv.Compare(p); c == 0 {
						return oYes
					}
				}
			}
		}
		if !ok {
			unknown = true
		}
	}
	if unknown {
		return oUnknown
	}
	return oNo
}

// corpusComponent is one SBOM component the test builds, with what the oracle needs.
type corpusComponent struct {
	eco, key, version string // ecosystem, oracle-normalized name, version as the advisories spell it
	comp              vigil.Component
}

func readRaw(t testing.TB, eco string) []rawRecord {
	t.Helper()
	return memo(t, "raw "+eco, func() ([]rawRecord, error) {
		zr, err := zip.OpenReader(testfix.Path(t, "osv-corpus", eco, "all.zip"))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		var out []rawRecord
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
			var r rawRecord
			if err := json.Unmarshal(b, &r); err != nil {
				return nil, fmt.Errorf("%s: %v", f.Name, err)
			}
			out = append(out, r)
		}
		return out, nil
	})
}

// osvCorpus is the ecosystem's OSV corpus as the feed parser reads it.
func osvCorpus(t testing.TB, eco string) []vigil.Advisory {
	t.Helper()
	return memo(t, "osv "+eco, func() ([]vigil.Advisory, error) {
		var out []vigil.Advisory
		err := osv.ReadZipFile(testfix.Path(t, "osv-corpus", eco, "all.zip"), untrusted.Limits{}, func(name string, a vigil.Advisory) error {
			out = append(out, a)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s corpus: %v", eco, err)
		}
		return out, nil
	})
}

func loadCorpus(t testing.TB, x *match.Index, eco string) int {
	t.Helper()
	advs := osvCorpus(t, eco)
	for i := range advs {
		x.Add(&advs[i])
	}
	return len(advs)
}

// memos holds what the corpus tests read, read once per test binary: four tests read the same 14,000 records.
var memos sync.Map

// memo returns read's result under key, reading it on first use; tests must not modify what it returns.
func memo[T any](t testing.TB, key string, read func() (T, error)) T {
	t.Helper()
	type entry struct {
		once sync.Once
		v    T
		err  error
	}
	e, _ := memos.LoadOrStore(key, &entry{})
	m := e.(*entry)
	m.once.Do(func() { m.v, m.err = read() })
	if m.err != nil {
		t.Fatal(m.err)
	}
	return m.v
}

// purlFor writes the component's purl the way SBOM tools do.
func purlFor(eco, name, v string) string {
	switch eco {
	case "PyPI":
		return "pkg:pypi/" + name + "@" + v
	case "Go":
		if name == "stdlib" || name == "toolchain" {
			return "pkg:golang/" + name + "@go" + v
		}
		return "pkg:golang/" + name + "@v" + v
	case "Bitnami":
		return "pkg:bitnami/" + name + "@" + v
	}
	panic(eco)
}

// pypiSpelling writes a PyPI name as a person might (Django_Foo.Bar): PEP 503 must bring it back.
func pypiSpelling(name string, i int) string {
	switch i % 3 {
	case 0:
		return name
	case 1:
		return strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "-", "_")
	}
	return strings.ReplaceAll(name, "-", ".")
}

// corpusComponents builds the SBOM: for each package, each event value, the versions list's first, middle and
// last entries, a "2.7"-style spelling of "2.7.0" values, and a version above everything.
func corpusComponents(eco string, recs []rawRecord) []corpusComponent {
	type pkgVersions struct {
		name     string // as the first record spells it
		versions map[string]bool
	}
	pkgs := map[string]*pkgVersions{}
	var order []string
	for _, r := range recs {
		for _, af := range r.Affected {
			if af.Package.Ecosystem != eco {
				continue
			}
			k := oracleName(eco, af.Package.Name)
			p := pkgs[k]
			if p == nil {
				p = &pkgVersions{name: af.Package.Name, versions: map[string]bool{}}
				pkgs[k] = p
				order = append(order, k)
			}
			for _, rg := range af.Ranges {
				if rg.Type == "GIT" {
					continue
				}
				for _, e := range rg.Events {
					for _, v := range e {
						if v != "0" && !strings.Contains(v, "*") {
							p.versions[v] = true
						}
					}
				}
			}
			if n := len(af.Versions); n > 0 {
				for _, i := range []int{0, n / 2, n - 1} {
					p.versions[af.Versions[i]] = true
				}
			}
		}
	}
	sort.Strings(order)
	var out []corpusComponent
	for i, k := range order {
		p := pkgs[k]
		vs := []string{"999.0.0"}
		for v := range p.versions {
			vs = append(vs, v)
			if strings.HasSuffix(v, ".0") && strings.Count(v, ".") == 2 && eco != "Go" {
				vs = append(vs, strings.TrimSuffix(v, ".0")) // 2.7 for 2.7.0
			}
		}
		sort.Strings(vs)
		if len(vs) > perPackage {
			// Evenly spaced, so that busy packages (Go's stdlib has hundreds of advisories) do not dominate.
			pick := make([]string, 0, perPackage)
			for j := range perPackage {
				pick = append(pick, vs[j*len(vs)/perPackage])
			}
			vs = pick
		}
		name := p.name
		if eco == "PyPI" {
			name = pypiSpelling(k, i)
		}
		for _, v := range vs {
			pv := v
			if eco == "Go" {
				pv = strings.TrimPrefix(v, "v")
			}
			pu := purlFor(eco, name, pv)
			out = append(out, corpusComponent{eco: eco, key: k, version: oracleVersion(eco, name, pvFromPurl(pu)),
				comp: vigil.Component{Name: name, Version: pvFromPurl(pu), Purl: pu}})
		}
	}
	return out
}

func pvFromPurl(p string) string { return p[strings.LastIndexByte(p, '@')+1:] }

// perPackage bounds the versions tried per package.
const perPackage = 12

type expectKey struct {
	purl, vuln string
	state      vigil.FindingState
}

func TestCorpusExactness(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the 13,946-record corpus")
	}
	valid := func(eco string) func(string) bool {
		return func(s string) bool { return versionValid(eco, s) }
	}
	x := match.NewIndex(match.Options{})
	var comps []corpusComponent
	raws := map[string][]rawRecord{}
	for _, eco := range []string{"Go", "PyPI", "Bitnami"} {
		loadCorpus(t, x, eco)
		raws[eco] = readRaw(t, eco)
		comps = append(comps, corpusComponents(eco, raws[eco])...)
	}
	// The oracle: every (component, record) pair by brute force over the raw records naming the package.
	byPkg := map[string][]rawRecord{}
	for eco, recs := range raws {
		for _, r := range recs {
			if r.Withdrawn != "" {
				continue
			}
			seen := map[string]bool{}
			for _, af := range r.Affected {
				k := eco + "|" + oracleName(eco, af.Package.Name)
				if af.Package.Ecosystem == eco && !seen[k] {
					seen[k] = true
					byPkg[k] = append(byPkg[k], r)
				}
			}
		}
	}
	orc := &oracle{cache: map[string]semantic.Version{}}
	want := map[expectKey]bool{}
	counts := map[string]int{}
	for _, c := range comps {
		for _, r := range byPkg[c.eco+"|"+c.key] {
			st := oNo
			for _, af := range r.Affected {
				if af.Package.Ecosystem != c.eco || oracleName(c.eco, af.Package.Name) != c.key {
					continue
				}
				st = max(st, orc.affected(c.eco, af.Ranges, af.Versions, c.version, valid(c.eco)))
			}
			switch st {
			case oYes:
				want[expectKey{c.comp.Purl, r.ID, vigil.FindingOpen}] = true
				counts["open"]++
			case oUnknown:
				want[expectKey{c.comp.Purl, r.ID, vigil.FindingCouldNotEval}] = true
				counts["cne"]++
			}
		}
	}
	in := make([]vigil.Component, len(comps))
	for i, c := range comps {
		in[i] = c.comp
	}
	got, err := x.Match(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	have := map[expectKey]bool{}
	for _, f := range got {
		have[expectKey{f.Component.Purl, f.Vulnerability, f.State}] = true
		if f.State == vigil.FindingOpen && (f.Evidence.Range == "" || f.Evidence.Matcher == "") {
			t.Errorf("%s %s: open finding without evidence: %+v", f.Component.Purl, f.Vulnerability, f.Evidence)
		}
		if f.State == vigil.FindingCouldNotEval && f.Evidence.Reason == "" {
			t.Errorf("%s %s: could_not_evaluate without a reason", f.Component.Purl, f.Vulnerability)
		}
	}
	if len(have) != len(got) {
		t.Errorf("%d findings but %d distinct (component, vulnerability, state)", len(got), len(have))
	}
	var fn, fp []string
	for k := range want {
		if !have[k] {
			fn = append(fn, fmt.Sprint(k))
		}
	}
	for k := range have {
		if !want[k] {
			fp = append(fp, fmt.Sprint(k))
		}
	}
	sort.Strings(fn)
	sort.Strings(fp)
	if len(fn) > 0 || len(fp) > 0 {
		t.Errorf("%d missed, %d unexpected\nmissed: %s\nunexpected: %s", len(fn), len(fp), head(fn, 20), head(fp, 20))
	}
	t.Logf("%d components, %d findings (%d open, %d could not evaluate)", len(comps), len(got), counts["open"], counts["cne"])
	if counts["open"] < 1000 {
		t.Errorf("only %d open findings expected: the SBOM does not exercise the corpus", counts["open"])
	}
}

func head(s []string, n int) string {
	if len(s) > n {
		s = append(s[:n:n], "...")
	}
	return strings.Join(s, "\n")
}

// versionValid asks Vigil's comparator only whether s is a version at all; the order comes from osv-scalibr.
func versionValid(eco, s string) bool {
	_, err := version.Parse(eco, s)
	return err == nil
}
