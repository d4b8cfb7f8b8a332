package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/sbomgen/gen"
)

// delta is one generated batch of new advisories and what it must do to the portfolio.
type delta struct {
	dir     string
	ids     []string
	added   map[int][]gen.Expect // device version index → the findings it must gain
	touched map[int]bool         // device versions holding a package some delta advisory names
	present int                  // advisories naming at least one portfolio package
	absent  int                  // advisories naming none
	opened  int                  // new findings in all
}

// deltaShare is the share of a delta's advisories that name portfolio packages; the rest name packages no SBOM
// holds, which must re-match nothing.
const deltaShare = 0.6

// deltaVersions is how many device versions a delta's portfolio packages are drawn from, so that some versions
// are not touched and "only the affected versions are re-matched" is checked, not assumed.
const deltaVersions = 50

// makeDelta writes n new OSV advisories (ids no earlier run used) into dir as one JSON file each (the shape of
// OSV.dev's per-record downloads) and computes, with bench/sbomgen's independent oracle, the findings each device
// version must gain. Advisories naming portfolio packages take their ranges from shapes that affect every
// version of the package held, some of them, or none.
func makeDelta(p *portfolio, oracle *gen.Oracle, dir string, seed uint64, run, n int) (*delta, error) {
	r := rand.New(rand.NewPCG(seed^0xde17a, uint64(run)))
	d := &delta{dir: dir, added: map[int][]gen.Expect{}, touched: map[int]bool{}}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Candidate packages: those held by a random subset of the versions, known (the corpus names them) and
	// unknown (a first advisory for a package nobody reported on) alike.
	vs := r.Perm(len(p.comps))[:min(deltaVersions, len(p.comps))]
	slices.Sort(vs)
	var known, unknown [][2]string
	seen := map[[2]string]bool{}
	for _, v := range vs {
		for _, c := range p.comps[v] {
			k := [2]string{c.eco, c.name}
			if seen[k] {
				continue
			}
			seen[k] = true
			if p.known[k] {
				known = append(known, k)
			} else {
				unknown = append(unknown, k)
			}
		}
	}
	r.Shuffle(len(known), func(i, j int) { known[i], known[j] = known[j], known[i] })
	r.Shuffle(len(unknown), func(i, j int) { unknown[i], unknown[j] = unknown[j], unknown[i] })
	nPresent := int(float64(n) * deltaShare)
	for i := range n {
		num := 9_000_000 + run*10_000 + i
		var afs []vigil.Affected
		if i < nPresent && (len(known) > 0 || len(unknown) > 0) {
			var k [2]string
			if (i%2 == 0 && len(known) > 0) || len(unknown) == 0 {
				k, known = known[0], known[1:]
			} else {
				k, unknown = unknown[0], unknown[1:]
			}
			afs = append(afs, presentAffected(r, p, k))
			if r.IntN(100) < 15 {
				afs = append(afs, absentAffected(r, seed, run, i, afs[0].Ecosystem, "b"))
			}
		} else {
			eco := []string{"Debian:12", "npm", "PyPI", "Maven", "Go", "crates.io", "RubyGems", "NuGet"}[r.IntN(8)]
			afs = append(afs, absentAffected(r, seed, run, i, eco, "a"))
		}
		id := deltaID(seed, afs[0].Ecosystem, num)
		hit := false
		for _, af := range afs {
			for _, ref := range p.byPkg[[2]string{af.Ecosystem, af.Name}] {
				hit = true
				d.touched[ref.version] = true
				c := p.comps[ref.version][ref.comp]
				if oracle.Affected(af, c.version) {
					d.added[ref.version] = append(d.added[ref.version], gen.Expect{Purl: c.purl, Vulnerability: id, State: vigil.FindingOpen})
					d.opened++
				}
			}
		}
		if hit {
			d.present++
		} else {
			d.absent++
		}
		b, err := osvJSON(id, num, afs)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, id+".json"), b, 0o644); err != nil {
			return nil, err
		}
		d.ids = append(d.ids, id)
	}
	return d, nil
}

// rangeType is the OSV range type the ecosystem's records use.
func rangeType(eco string) string {
	switch eco {
	case "Go", "npm", "crates.io":
		return vigil.RangeSemver
	}
	return vigil.RangeEcosystem
}

// above returns a version above any the portfolio holds (its "unaffected" draws are 999.0.0).
func above(eco string) string {
	if strings.HasPrefix(eco, "Debian") {
		return "1000.0.0-1"
	}
	return "1000.0.0"
}

// presentAffected returns an affected entry for portfolio package k in one of several shapes.
func presentAffected(r *rand.Rand, p *portfolio, k [2]string) vigil.Affected {
	af := vigil.Affected{Ecosystem: k[0], Name: k[1], Purl: affectedPurl(k[0], k[1])}
	refs := p.byPkg[k]
	held := p.comps[refs[0].version][refs[0].comp].version
	if len(refs) > 1 {
		ref := refs[r.IntN(len(refs))]
		held = p.comps[ref.version][ref.comp].version
	}
	typ := rangeType(k[0])
	switch shape := r.IntN(100); {
	case shape < 35: // every version held
		af.Ranges = []vigil.Range{{Type: typ, Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: above(k[0])}}}}
	case shape < 55: // fixed at a version some device holds: that one is not affected, lower ones are
		af.Ranges = []vigil.Range{{Type: typ, Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: held}}}}
	case shape < 70: // last affected at a version some device holds
		af.Ranges = []vigil.Range{{Type: typ, Events: []vigil.RangeEvent{{Introduced: "0"}, {LastAffected: held}}}}
	case shape < 80: // no fix yet
		af.Ranges = []vigil.Range{{Type: typ, Events: []vigil.RangeEvent{{Introduced: "0"}}}}
	case shape < 90: // names the package, affects no version held: the version is re-matched and gains nothing
		af.Ranges = []vigil.Range{{Type: typ, Events: []vigil.RangeEvent{{Introduced: above(k[0])}}}}
	default: // an explicit versions list
		af.Versions = []string{held}
	}
	return af
}

// absentAffected returns an affected entry for a package no SBOM of the portfolio holds.
func absentAffected(r *rand.Rand, seed uint64, run, i int, eco, tag string) vigil.Affected {
	base := fmt.Sprintf("vigil-delta-absent-%d-%d-%d%s", seed, run, i, tag)
	name := base
	switch {
	case eco == "Maven":
		name = "org.vigil.delta:" + base
	case eco == "Go":
		name = "example.com/delta/" + base
	case strings.HasPrefix(eco, "Debian"):
		name = "lib" + base
	}
	return vigil.Affected{Ecosystem: eco, Name: name, Purl: affectedPurl(eco, name),
		Ranges: []vigil.Range{{Type: rangeType(eco), Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: fmt.Sprintf("%d.%d.%d", 1+r.IntN(5), r.IntN(10), r.IntN(10))}}}}}
}

// affectedPurl is the package purl an OSV record carries (as bench/osvgen writes it).
func affectedPurl(eco, name string) string {
	switch {
	case eco == "Go":
		return "pkg:golang/" + name
	case eco == "Maven":
		return "pkg:maven/" + strings.Replace(name, ":", "/", 1)
	case eco == "npm":
		return "pkg:npm/" + name
	case eco == "PyPI":
		return "pkg:pypi/" + name
	case eco == "crates.io":
		return "pkg:cargo/" + name
	case strings.HasPrefix(eco, "Debian"):
		return "pkg:deb/debian/" + name + "?distro=bookworm"
	case eco == "RubyGems":
		return "pkg:gem/" + name
	case eco == "NuGet":
		return "pkg:nuget/" + name
	}
	return ""
}

// deltaID names a new advisory the way its ecosystem's database does, with a number no corpus record uses.
func deltaID(seed uint64, eco string, num int) string {
	switch {
	case eco == "PyPI":
		return fmt.Sprintf("PYSEC-2026-%d", num)
	case eco == "Go":
		return fmt.Sprintf("GO-2026-%d", num)
	case eco == "crates.io":
		return fmt.Sprintf("RUSTSEC-2026-%d", num)
	case strings.HasPrefix(eco, "Debian"):
		return fmt.Sprintf("DEBIAN-CVE-2026-%d", num)
	}
	// GHSA ids: the number in GHSA's alphabet (bench/osvgen's random ids end in base-36 digits, so a collision
	// would need twelve matching letters).
	const alphabet = "23456789cfghjmpqrvwx"
	x := seed*100_000_000 + uint64(num)
	b := []byte("GHSA-xxxx-xxxx-xxxx")
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == 'x' {
			b[i] = alphabet[x%20]
			x /= 20
		}
	}
	return string(b)
}

// osvJSON writes one advisory as an OSV record.
func osvJSON(id string, num int, afs []vigil.Affected) ([]byte, error) {
	type event map[string]string
	type rng struct {
		Type   string  `json:"type"`
		Events []event `json:"events"`
	}
	type affected struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
			Purl      string `json:"purl,omitempty"`
		} `json:"package"`
		Ranges   []rng    `json:"ranges,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}
	rec := struct {
		SchemaVersion string     `json:"schema_version"`
		ID            string     `json:"id"`
		Modified      string     `json:"modified"`
		Published     string     `json:"published"`
		Aliases       []string   `json:"aliases"`
		Summary       string     `json:"summary"`
		Details       string     `json:"details"`
		Affected      []affected `json:"affected"`
		References    []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"references"`
	}{SchemaVersion: "1.6.0", ID: id, Modified: "2026-06-01T00:00:00Z", Published: "2026-06-01T00:00:00Z",
		Aliases: []string{fmt.Sprintf("CVE-2026-%d", num)}, Summary: "new advisory of the delta benchmark",
		Details: "A newly published vulnerability, generated by bench/portfolio to measure how fast it reaches the device versions that hold the package."}
	rec.References = append(rec.References, struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}{"ADVISORY", "https://example.org/advisory/" + id})
	for _, af := range afs {
		var a affected
		a.Package.Ecosystem, a.Package.Name, a.Package.Purl = af.Ecosystem, af.Name, af.Purl
		a.Versions = af.Versions
		for _, rg := range af.Ranges {
			x := rng{Type: rg.Type}
			for _, e := range rg.Events {
				switch {
				case e.Introduced != "":
					x.Events = append(x.Events, event{"introduced": e.Introduced})
				case e.Fixed != "":
					x.Events = append(x.Events, event{"fixed": e.Fixed})
				case e.LastAffected != "":
					x.Events = append(x.Events, event{"last_affected": e.LastAffected})
				}
			}
			a.Ranges = append(a.Ranges, x)
		}
		rec.Affected = append(rec.Affected, a)
	}
	return json.MarshalIndent(rec, "", "  ")
}
