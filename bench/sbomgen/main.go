// Command sbomgen writes the matcher's benchmark inputs: CycloneDX SBOMs of given sizes drawn from an advisory
// corpus (about 10% of components inside an affected range, 30% known packages at unaffected versions, 60%
// packages no advisory names) with the exact findings each must produce, and a portfolio of device versions.
//
//	sbomgen -out DIR [-corpus OSVGEN_DIR | -synthetic 500000] [-seed 1] [-sizes 100,1000,10000]
//	        [-portfolio 200] [-portfolio-size 1000]
//
// -corpus reads bench/osvgen's output (<Ecosystem>/all.zip); without it a self-contained synthetic corpus of
// -synthetic advisories is generated in memory from the seed (the store then needs the same corpus: see
// bench/match/scanbench, which imports it). Files written: sbom-N.cdx.json and expected-N.json per size, and
// portfolio/device-NNN.cdx.json with portfolio/expected-NNN.json. The same seed and corpus give the same files.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/sbomgen/gen"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sbomgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sbomgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write into (required)")
	corpus := fs.String("corpus", "", "bench/osvgen output directory (<Ecosystem>/all.zip)")
	synthetic := fs.Int("synthetic", 500_000, "advisories of the built-in corpus, when -corpus is not given")
	seed := fs.Uint64("seed", 1, "seed")
	sizes := fs.String("sizes", "100,1000,10000", "SBOM sizes, comma-separated")
	portfolio := fs.Int("portfolio", 200, "device versions in the portfolio")
	portfolioSize := fs.Int("portfolio-size", 1000, "components per portfolio device version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	var advs []*vigil.Advisory
	var err error
	if *corpus != "" {
		advs, err = gen.LoadCorpus(*corpus)
		if err != nil {
			return err
		}
	} else {
		advs = gen.Synthetic(*seed, *synthetic)
	}
	g := gen.New(advs)
	fmt.Fprintf(stdout, "corpus: %d advisories, %d packages\n", len(advs), g.Packages())
	if err := os.MkdirAll(filepath.Join(*out, "portfolio"), 0o755); err != nil {
		return err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		set := g.Generate(*seed, n)
		if err := write(*out, fmt.Sprintf("sbom-%d.cdx.json", n), fmt.Sprintf("expected-%d.json", n), fmt.Sprintf("bench SBOM %d", n), set); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sbom-%d: %d inside, %d unaffected, %d unknown, %d expected findings\n", n, set.Inside, set.Unaffected, set.Unknown, len(set.Expected))
	}
	total := 0
	for i := range *portfolio {
		if err := ctx.Err(); err != nil {
			return err
		}
		set := g.Generate(*seed+uint64(1000+i), *portfolioSize)
		total += len(set.Expected)
		dir := filepath.Join(*out, "portfolio")
		if err := write(dir, fmt.Sprintf("device-%03d.cdx.json", i), fmt.Sprintf("expected-%03d.json", i), fmt.Sprintf("device %03d", i), set); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "portfolio: %d device versions of %d components, %d expected findings\n", *portfolio, *portfolioSize, total)
	return nil
}

func write(dir, sbomName, expName, title string, set gen.Set) error {
	f, err := os.Create(filepath.Join(dir, sbomName))
	if err != nil {
		return err
	}
	if err := gen.WriteCycloneDX(f, title, set.Components); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	e, err := os.Create(filepath.Join(dir, expName))
	if err != nil {
		return err
	}
	if err := gen.WriteExpected(e, set); err != nil {
		e.Close()
		return err
	}
	return e.Close()
}
