package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/sbomgen/gen"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// stamp records what a portfolio directory was generated from, so a later run reuses it only when it fits.
type stamp struct {
	Corpus   string `json:"corpus"`
	Seed     uint64 `json:"seed"`
	Versions int    `json:"versions"`
	Size     int    `json:"size"`
}

func sbomPath(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("device-%03d.cdx.json", i))
}
func expPath(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("expected-%03d.json", i))
}

// ensurePortfolio writes the portfolio's SBOMs and expected findings into dir with bench/sbomgen's generator, the
// way `sbomgen -corpus CORPUS -portfolio N -portfolio-size SIZE` does (device i drawn with seed+1000+i), unless dir
// already holds a portfolio generated from the same inputs.
func ensurePortfolio(dir, corpus string, st stamp, stderr io.Writer) error {
	if b, err := os.ReadFile(filepath.Join(dir, "stamp.json")); err == nil {
		var have stamp
		if json.Unmarshal(b, &have) == nil && have == st {
			fmt.Fprintf(stderr, "reusing the portfolio in %s\n", dir)
			return nil
		}
	}
	fmt.Fprintf(stderr, "generating %d device versions of %d components from %s into %s\n", st.Versions, st.Size, corpus, dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	advs, err := gen.LoadCorpus(corpus)
	if err != nil {
		return err
	}
	g := gen.New(advs)
	advs = nil
	for i := range st.Versions {
		set := g.Generate(st.Seed+uint64(1000+i), st.Size)
		if err := writeFile(sbomPath(dir, i), func(w io.Writer) error {
			return gen.WriteCycloneDX(w, fmt.Sprintf("device %03d", i), set.Components)
		}); err != nil {
			return err
		}
		if err := writeFile(expPath(dir, i), func(w io.Writer) error { return gen.WriteExpected(w, set) }); err != nil {
			return err
		}
	}
	g = nil
	runtime.GC()
	debug.FreeOSMemory()
	b, _ := json.Marshal(st)
	return os.WriteFile(filepath.Join(dir, "stamp.json"), b, 0o644)
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pcomp is a portfolio component as the oracle reads it: the OSV ecosystem and package name it denotes and its
// version as advisories spell it (Go without its "v").
type pcomp struct {
	eco, name, version, purl string
}

// pkgRef is one occurrence of a package in the portfolio.
type pkgRef struct {
	version int // index of the device version
	comp    int // index of the component in it
}

// portfolio is what the measurement needs of the generated portfolio.
type portfolio struct {
	dir      string
	comps    [][]pcomp              // per device version
	expected [][]gen.Expect         // per device version, the initial findings
	byPkg    map[[2]string][]pkgRef // (ecosystem, name) → occurrences
	pkgs     [][2]string            // every distinct package, in first-seen order
	known    map[[2]string]bool     // packages the corpus names (the generator's "inside" and "unaffected" draws)
}

// purlEcosystems maps purl types to the OSV ecosystems of the generated corpus.
var purlEcosystems = map[string]string{"pypi": "PyPI", "npm": "npm", "maven": "Maven", "golang": "Go",
	"cargo": "crates.io", "gem": "RubyGems", "nuget": "NuGet", "deb": "Debian"}

// loadPortfolio reads the SBOMs back through the SBOM parser (so components are what the store holds) and the
// expected findings.
func loadPortfolio(dir string, n int) (*portfolio, error) {
	p := &portfolio{dir: dir, byPkg: map[[2]string][]pkgRef{}, known: map[[2]string]bool{}}
	for i := range n {
		b, err := os.ReadFile(sbomPath(dir, i))
		if err != nil {
			return nil, err
		}
		doc, err := sbom.Parse(sbomPath(dir, i), bytes.NewReader(b), untrusted.Limits{})
		if err != nil {
			return nil, err
		}
		exp, err := gen.ReadExpected(expPath(dir, i))
		if err != nil {
			return nil, err
		}
		p.expected = append(p.expected, exp.Findings)
		var cs []pcomp
		for _, c := range doc.Components {
			pc, err := oracleComponent(c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sbomPath(dir, i), err)
			}
			k := [2]string{pc.eco, pc.name}
			if _, ok := p.byPkg[k]; !ok {
				p.pkgs = append(p.pkgs, k)
			}
			p.byPkg[k] = append(p.byPkg[k], pkgRef{i, len(cs)})
			if !strings.Contains(pc.name, "vigil-unknown-") {
				p.known[k] = true
			}
			cs = append(cs, pc)
		}
		p.comps = append(p.comps, cs)
	}
	return p, nil
}

// oracleComponent reads a component's purl as the generator wrote it.
func oracleComponent(c vigil.Component) (pcomp, error) {
	pu, err := packageurl.FromString(c.Purl)
	if err != nil {
		return pcomp{}, fmt.Errorf("component %q: purl: %w", c.Name, err)
	}
	eco := purlEcosystems[pu.Type]
	if eco == "" {
		return pcomp{}, fmt.Errorf("component %q: purl type %q is not one the generator writes", c.Name, pu.Type)
	}
	pc := pcomp{eco: eco, name: pu.Name, version: pu.Version, purl: c.Purl}
	switch pu.Type {
	case "maven":
		group := pu.Namespace
		if group == "" {
			group = c.Group
		}
		pc.name = group + ":" + pu.Name
	case "golang":
		pc.name = pu.Namespace + "/" + pu.Name
		pc.version = strings.TrimPrefix(pu.Version, "v")
	case "deb":
		rel := "12"
		if d := pu.Qualifiers.Map()["distro"]; strings.HasPrefix(d, "debian-") {
			rel = strings.TrimPrefix(d, "debian-")
		}
		pc.eco = "Debian:" + rel
	}
	return pc, nil
}
