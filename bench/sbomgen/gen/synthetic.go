package gen

import (
	"fmt"
	"math/rand/v2"

	"github.com/vigil-dev/vigil"
)

// syntheticEcosystems share the corpus like bench/osvgen does (Debian and npm the largest).
var syntheticEcosystems = []struct {
	name   string
	weight int
}{{"Debian:12", 24}, {"npm", 20}, {"PyPI", 14}, {"Maven", 14}, {"Go", 10}, {"crates.io", 6}, {"RubyGems", 6}, {"NuGet", 6}}

// Synthetic returns n advisories shaped like bench/osvgen's (introduced/fixed pairs, last_affected, several
// ranges, open ranges, versions lists, GIT ranges before ECOSYSTEM ranges), built in memory from seed: the same
// seed and n always give the same corpus. Packages repeat (about three advisories each), as real packages do.
func Synthetic(seed uint64, n int) []*vigil.Advisory {
	out := make([]*vigil.Advisory, 0, n)
	packages := max(n/3, 1)
	for i := range n {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		total := 0
		for _, e := range syntheticEcosystems {
			total += e.weight
		}
		k, eco := r.IntN(total), ""
		for _, e := range syntheticEcosystems {
			if k < e.weight {
				eco = e.name
				break
			}
			k -= e.weight
		}
		p := r.IntN(packages)
		name := map[string]string{
			"Debian:12": fmt.Sprintf("libsynth%d", p), "npm": fmt.Sprintf("synth-%d", p), "PyPI": fmt.Sprintf("pysynth-%d", p),
			"Maven": fmt.Sprintf("org.synth%d:synth-%d", p%500, p), "Go": fmt.Sprintf("github.com/synth%d/mod%d", p%700, p),
			"crates.io": fmt.Sprintf("synth_%d", p), "RubyGems": fmt.Sprintf("synth-rb%d", p), "NuGet": fmt.Sprintf("Synth%d.Lib", p),
		}[eco]
		ver := func(major int) string {
			v := fmt.Sprintf("%d.%d.%d", major, r.IntN(20), r.IntN(30))
			if eco == "Debian:12" {
				v += fmt.Sprintf("-%d+deb12u%d", 1+r.IntN(3), 1+r.IntN(4))
			}
			return v
		}
		typ := vigil.RangeEcosystem
		if eco == "Go" || eco == "npm" || eco == "crates.io" {
			typ = vigil.RangeSemver
		}
		major := r.IntN(8)
		var ev []vigil.RangeEvent
		switch shape := r.IntN(100); {
		case shape < 55:
			ev = []vigil.RangeEvent{{Introduced: "0"}, {Fixed: ver(major + 1)}}
		case shape < 70:
			ev = []vigil.RangeEvent{{Introduced: ver(major)}, {Fixed: ver(major + 1)}}
		case shape < 80:
			ev = []vigil.RangeEvent{{Introduced: "0"}, {LastAffected: ver(major)}}
		case shape < 95:
			for j := 0; j < 2+r.IntN(3); j++ {
				ev = append(ev, vigil.RangeEvent{Introduced: ver(major + 2*j)}, vigil.RangeEvent{Fixed: ver(major + 2*j + 1)})
			}
		default:
			ev = []vigil.RangeEvent{{Introduced: "0"}}
		}
		af := vigil.Affected{Ecosystem: eco, Name: name, Ranges: []vigil.Range{{Type: typ, Events: ev}}}
		if eco == "PyPI" && r.IntN(100) < 40 {
			af.Ranges = append([]vigil.Range{{Type: vigil.RangeGit, Repo: "https://github.com/synth/" + name,
				Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: fmt.Sprintf("%040x", r.Uint64())}}}}, af.Ranges...)
		}
		if eco == "PyPI" && r.IntN(100) < 80 {
			for j, m := 0, 5+r.IntN(40); j < m; j++ {
				af.Versions = append(af.Versions, fmt.Sprintf("%d.%d.%d", major, j/10, j%10))
			}
		}
		out = append(out, &vigil.Advisory{Source: vigil.SourceOSV, ID: fmt.Sprintf("SYNTH-%d-%d", seed, i),
			Aliases: []string{fmt.Sprintf("CVE-2026-%d", 100000+i)}, Affected: []vigil.Affected{af}})
	}
	return out
}
