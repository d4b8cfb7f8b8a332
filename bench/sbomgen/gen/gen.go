// Package gen builds the matcher's benchmark inputs: SBOMs of a given size drawn from an advisory corpus (about 10%
// of components inside an affected range, 30% known packages at unaffected versions, 60% packages no advisory
// names), the exact findings each must produce, and a portfolio of device versions. Expected findings come from
// an evaluator written apart from internal/match (osv-scalibr's version order, the OSV specification's pseudocode
// followed literally), so a benchmark run also checks that the engine finds every expected finding and no other.
//
// The corpus is either bench/osvgen's output (LoadCorpus) or, when none is at hand, Synthetic: a self-contained
// corpus of the same shapes from the same kind of seed, so that the benchmarks run anywhere.
package gen

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/semantic"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// LoadCorpus reads every <Ecosystem>/all.zip under dir (bench/osvgen's layout, and OSV.dev's).
func LoadCorpus(dir string) ([]*vigil.Advisory, error) {
	zips, err := filepath.Glob(filepath.Join(dir, "*", "all.zip"))
	if err != nil {
		return nil, err
	}
	if len(zips) == 0 {
		return nil, fmt.Errorf("%s: no <Ecosystem>/all.zip", dir)
	}
	slices.Sort(zips)
	var out []*vigil.Advisory
	for _, z := range zips {
		err := osv.ReadZipFile(z, untrusted.Limits{MaxEntries: 10_000_000, MaxTotalSize: 64 << 30}, func(_ string, a vigil.Advisory) error {
			out = append(out, &a)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Expect is one expected finding: the component (by purl) and the advisory id.
type Expect struct {
	Purl          string             `json:"purl"`
	Vulnerability string             `json:"vulnerability"`
	State         vigil.FindingState `json:"state"`
}

// Set is one generated SBOM and its expected findings.
type Set struct {
	Components []vigil.Component
	Expected   []Expect // sorted by purl, then vulnerability
	Inside     int      // components inside an affected range
	Unaffected int      // known packages at unaffected versions
	Unknown    int      // packages no advisory names
}

// purlTypes maps the corpus ecosystems to purl types.
var purlTypes = map[string]string{"PyPI": "pypi", "npm": "npm", "Maven": "maven", "Go": "golang", "crates.io": "cargo",
	"Debian": "deb", "RubyGems": "gem", "NuGet": "nuget", "Packagist": "composer", "Bitnami": "bitnami"}

// pkg is one package the corpus names.
type pkg struct {
	eco, base, name string
	advs            []*vigil.Advisory
}

// Generator draws SBOMs from a corpus.
type Generator struct {
	pkgs   []*pkg // packages with a purl type, sorted
	oracle *Oracle
}

// New indexes the corpus by package.
func New(advs []*vigil.Advisory) *Generator {
	by := map[[2]string]*pkg{}
	for _, a := range advs {
		if a.IsWithdrawn() {
			continue
		}
		seen := map[[2]string]bool{}
		for _, af := range a.Affected {
			base, _, _ := strings.Cut(af.Ecosystem, ":")
			if purlTypes[base] == "" {
				continue
			}
			k := [2]string{af.Ecosystem, af.Name}
			p := by[k]
			if p == nil {
				p = &pkg{eco: af.Ecosystem, base: base, name: af.Name}
				by[k] = p
			}
			if !seen[k] {
				seen[k] = true
				p.advs = append(p.advs, a)
			}
		}
	}
	g := &Generator{oracle: NewOracle()}
	for _, p := range by {
		g.pkgs = append(g.pkgs, p)
	}
	slices.SortFunc(g.pkgs, func(a, b *pkg) int { return cmp.Or(cmp.Compare(a.eco, b.eco), cmp.Compare(a.name, b.name)) })
	return g
}

// Packages returns the number of distinct packages the corpus names.
func (g *Generator) Packages() int { return len(g.pkgs) }

// Generate draws an SBOM of n components with seed: 10% inside an affected range, 30% known packages at versions
// no advisory affects, 60% unknown packages, shuffled.
func (g *Generator) Generate(seed uint64, n int) Set {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	var s Set
	wantInside, wantUnaffected := n/10, n*3/10
	seen := map[string]bool{}
	for tries := 0; (s.Inside < wantInside || s.Unaffected < wantUnaffected) && tries < 50*n && len(g.pkgs) > 0; tries++ {
		p := g.pkgs[r.IntN(len(g.pkgs))]
		inside := s.Inside < wantInside && (s.Unaffected >= wantUnaffected || r.IntN(4) == 0)
		var v string
		if inside {
			v = g.insideVersion(r, p)
		} else {
			v = g.unaffectedVersion(p)
		}
		if v == "" {
			continue
		}
		c := canonical(component(r, p, v))
		if seen[c.Purl] {
			continue
		}
		found := g.findings(p, v)
		if inside != (len(found) > 0) {
			continue // the oracle disagrees with the draw: try another package
		}
		seen[c.Purl] = true
		s.Components = append(s.Components, c)
		for _, id := range found {
			s.Expected = append(s.Expected, Expect{Purl: c.Purl, Vulnerability: id, State: vigil.FindingOpen})
		}
		if inside {
			s.Inside++
		} else {
			s.Unaffected++
		}
	}
	for len(s.Components) < n {
		i := len(s.Components)
		eco := []string{"npm", "PyPI", "Maven", "Go", "crates.io", "RubyGems", "NuGet"}[r.IntN(7)]
		name := fmt.Sprintf("vigil-unknown-%d-%d", seed, i)
		if eco == "Maven" {
			name = "org.vigil.unknown:" + name
		} else if eco == "Go" {
			name = "example.com/unknown/" + name
		}
		s.Components = append(s.Components, canonical(component(r, &pkg{eco: eco, base: eco, name: name}, "1.0.0")))
		s.Unknown++
	}
	r.Shuffle(len(s.Components), func(i, j int) { s.Components[i], s.Components[j] = s.Components[j], s.Components[i] })
	slices.SortFunc(s.Expected, func(a, b Expect) int {
		return cmp.Or(cmp.Compare(a.Purl, b.Purl), cmp.Compare(a.Vulnerability, b.Vulnerability))
	})
	return s
}

// insideVersion picks a version some range of the package's advisories includes: an introduced bound, or just
// above "0" when the range starts there, or a listed version.
func (g *Generator) insideVersion(r *rand.Rand, p *pkg) string {
	a := p.advs[r.IntN(len(p.advs))]
	var cands []string
	for _, af := range a.Affected {
		if af.Ecosystem != p.eco || af.Name != p.name {
			continue
		}
		for _, rg := range af.Ranges {
			if rg.Type == vigil.RangeGit {
				continue
			}
			for _, e := range rg.Events {
				switch {
				case e.Introduced == "0":
					cands = append(cands, lowest(p.base))
				case e.Introduced != "":
					cands = append(cands, e.Introduced)
				case e.LastAffected != "":
					cands = append(cands, e.LastAffected)
				}
			}
		}
		cands = append(cands, af.Versions...)
	}
	if len(cands) == 0 {
		return ""
	}
	return cands[r.IntN(len(cands))]
}

// unaffectedVersion picks a version above every bound of the package's advisories.
func (g *Generator) unaffectedVersion(p *pkg) string {
	if p.base == "Debian" {
		return "999.0.0-1+deb12u1"
	}
	return "999.0.0"
}

func lowest(base string) string {
	if base == "Debian" {
		return "0.0.1-1"
	}
	return "0.0.1"
}

// findings returns the ids of the package's advisories that affect v, by the oracle.
func (g *Generator) findings(p *pkg, v string) []string {
	var ids []string
	for _, a := range p.advs {
		for _, af := range a.Affected {
			if af.Ecosystem == p.eco && af.Name == p.name && g.oracle.Affected(af, v) {
				ids = append(ids, a.ID)
				break
			}
		}
	}
	return ids
}

// component writes a package as an SBOM names it. Half the Maven components carry their groupId only in the
// CycloneDX group (the convention a common scanner misses); Go versions get their "v".
func component(r *rand.Rand, p *pkg, v string) vigil.Component {
	c := vigil.Component{Name: p.name, Version: v, Type: "library"}
	typ := purlTypes[p.base]
	switch p.base {
	case "Maven":
		group, artifact, _ := strings.Cut(p.name, ":")
		c.Name = artifact
		c.Group = group
		if r.IntN(2) == 0 {
			c.Purl = "pkg:maven/" + artifact + "@" + v
		} else {
			c.Purl = "pkg:maven/" + group + "/" + artifact + "@" + v
		}
		return c
	case "Go":
		c.Version = "v" + v
		c.Purl = "pkg:golang/" + p.name + "@v" + v
		return c
	case "Debian":
		c.Purl = "pkg:deb/debian/" + p.name + "@" + v + "?distro=debian-" + release(p.eco)
		return c
	}
	c.Purl = "pkg:" + typ + "/" + p.name + "@" + v
	return c
}

// canonical writes a purl as the SBOM readers normalize it, so expected findings name components as vigil scan
// reports them.
func canonical(c vigil.Component) vigil.Component {
	if p, err := model.NormalizePurl(c.Purl); err == nil {
		c.Purl = p
	}
	return c
}

func release(eco string) string {
	_, rel, ok := strings.Cut(eco, ":")
	if !ok {
		return "12"
	}
	return rel
}

// Oracle decides "is version v of this package affected" the way the OSV specification's pseudocode does, with
// osv-scalibr's version order: independent of internal/match and internal/version.
type Oracle struct {
	cache map[[2]string]semantic.Version
}

// NewOracle returns an oracle with an empty parse cache.
func NewOracle() *Oracle { return &Oracle{cache: map[[2]string]semantic.Version{}} }

func (o *Oracle) parse(eco, s string) semantic.Version {
	k := [2]string{eco, s}
	if v, ok := o.cache[k]; ok {
		return v
	}
	v, err := semantic.Parse(s, eco)
	if err != nil {
		v = nil
	}
	o.cache[k] = v
	return v
}

// Affected reports whether v is in af's versions list or any of its ECOSYSTEM/SEMVER ranges.
func (o *Oracle) Affected(af vigil.Affected, v string) bool {
	base, _, _ := strings.Cut(af.Ecosystem, ":")
	cv := o.parse(base, v)
	for _, s := range af.Versions {
		if s == v {
			return true
		}
	}
	if cv == nil {
		return false
	}
	for _, rg := range af.Ranges {
		if rg.Type == vigil.RangeGit {
			continue
		}
		type ev struct {
			kind string
			zero bool
			v    semantic.Version
		}
		var evs []ev
		limited, below := false, false
		ok := true
		for _, e := range rg.Events {
			var x ev
			switch {
			case e.Introduced != "":
				x = ev{kind: "introduced", zero: e.Introduced == "0"}
				if !x.zero {
					x.v = o.parse(base, e.Introduced)
				}
			case e.Fixed != "":
				x = ev{kind: "fixed", v: o.parse(base, e.Fixed)}
			case e.LastAffected != "":
				x = ev{kind: "last_affected", v: o.parse(base, e.LastAffected)}
			case e.Limit != "":
				limited = true
				if e.Limit == "*" {
					below = true
				} else if lv := o.parse(base, e.Limit); lv != nil {
					if c, _ := cv.Compare(lv); c < 0 {
						below = true
					}
				}
				continue
			}
			if !x.zero && x.v == nil {
				ok = false
				break
			}
			evs = append(evs, x)
		}
		if !ok || limited && !below {
			continue
		}
		slices.SortStableFunc(evs, func(a, b ev) int {
			switch {
			case a.zero && b.zero:
				return 0
			case a.zero:
				return -1
			case b.zero:
				return 1
			}
			c, _ := a.v.Compare(b.v)
			return c
		})
		vuln := false
		for _, e := range evs {
			c := 0
			if !e.zero {
				c, _ = cv.Compare(e.v)
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
			return true
		}
	}
	for _, s := range af.Versions {
		if lv := o.parse(base, s); lv != nil {
			if c, _ := cv.Compare(lv); c == 0 {
				return true
			}
		}
	}
	return false
}

// WriteCycloneDX writes components as a CycloneDX 1.6 JSON SBOM.
func WriteCycloneDX(w io.Writer, name string, comps []vigil.Component) error {
	type cdxComp struct {
		Type    string `json:"type"`
		BomRef  string `json:"bom-ref"`
		Group   string `json:"group,omitempty"`
		Name    string `json:"name"`
		Version string `json:"version"`
		Purl    string `json:"purl,omitempty"`
	}
	doc := struct {
		BomFormat   string    `json:"bomFormat"`
		SpecVersion string    `json:"specVersion"`
		Version     int       `json:"version"`
		Metadata    any       `json:"metadata"`
		Components  []cdxComp `json:"components"`
	}{BomFormat: "CycloneDX", SpecVersion: "1.6", Version: 1,
		Metadata: map[string]any{"component": map[string]string{"type": "device", "name": name, "bom-ref": "device"}}}
	for i, c := range comps {
		doc.Components = append(doc.Components, cdxComp{Type: "library", BomRef: fmt.Sprintf("c%d", i), Group: c.Group,
			Name: c.Name, Version: c.Version, Purl: c.Purl})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// Expected is the expected-findings file: what vigil scan --format json must report, reduced to what identifies
// a finding.
type Expected struct {
	Components int      `json:"components"`
	Inside     int      `json:"inside"`
	Unaffected int      `json:"unaffected"`
	Unknown    int      `json:"unknown"`
	Findings   []Expect `json:"findings"`
}

// WriteExpected writes s's expected findings as JSON.
func WriteExpected(w io.Writer, s Set) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	f := s.Expected
	if f == nil {
		f = []Expect{}
	}
	return enc.Encode(Expected{Components: len(s.Components), Inside: s.Inside, Unaffected: s.Unaffected,
		Unknown: s.Unknown, Findings: f})
}

// ReadExpected reads an expected-findings file.
func ReadExpected(path string) (Expected, error) {
	var e Expected
	b, err := os.ReadFile(path)
	if err != nil {
		return e, err
	}
	return e, json.Unmarshal(b, &e)
}

// Diff compares findings with what is expected and returns the missed and unexpected ones (as "purl id state").
func Diff(want []Expect, got []vigil.Finding) (missed, unexpected []string) {
	w := map[Expect]bool{}
	for _, e := range want {
		w[e] = true
	}
	g := map[Expect]bool{}
	for _, f := range got {
		g[Expect{Purl: f.Component.Purl, Vulnerability: f.Vulnerability, State: f.State}] = true
	}
	for e := range w {
		if !g[e] {
			missed = append(missed, e.Purl+" "+e.Vulnerability+" "+string(e.State))
		}
	}
	for e := range g {
		if !w[e] {
			unexpected = append(unexpected, e.Purl+" "+e.Vulnerability+" "+string(e.State))
		}
	}
	slices.Sort(missed)
	slices.Sort(unexpected)
	return missed, unexpected
}
