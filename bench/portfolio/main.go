// Command portfolio measures how fast new intelligence reaches a portfolio of device versions: a store holding a
// 500,000-advisory corpus (bench/osvgen) and 200 device versions of 1,000 components each (bench/sbomgen's
// generator, expected findings known), on SQLite and on PostgreSQL. It measures
//
//   - Rematch: every device version re-matched against the store (target: at most 10 s for 200 versions);
//   - a delta of 1,000 new advisories (new ids; 60% naming packages some SBOMs hold, with ranges that affect every
//     version held, some or none; 40% naming packages no SBOM holds), imported and then RematchChanged (target:
//     every affected version's findings reflect it at most 2 s after the import starts);
//
// each -runs times, and reports the medians, the load average at each run and the process's peak resident memory
// (VmHWM, reset before each measured phase). Every result is checked: after the SBOM imports each version's
// findings equal bench/sbomgen's expected files; after each delta, RematchChanged must have re-matched exactly the
// versions holding a package the delta names, opened exactly the findings bench/sbomgen's independent oracle
// computes, and every version's findings must equal the expected ones so far (0 false positives, 0 false
// negatives). Delta runs accumulate: each run imports 1,000 advisories with fresh ids into the same store.
//
//	go run ./bench/portfolio [-work /tmp/vigil-portfolio-bench] [-corpus DIR] [-engines sqlite,postgres] [-runs 5]
//
// A missing corpus is generated with bench/osvgen, a missing portfolio with bench/sbomgen/gen (both reused on
// later runs). PostgreSQL comes from $VIGIL_TEST_POSTGRES (an admin DSN; a database is created and dropped), else
// a throwaway server is started with scripts/pg-throwaway and stopped at the end. This is a measurement, not a
// test: nothing here asserts a time, but a wrong finding makes it fail.
//
// With -gen it measures issue 19's whole target table on ../shared/bench's dense shape instead (generated into
// the work directory and reused; see README.md): import and store size, SBOM loads, cold scans, full re-matches
// and deltas on both engines, every result against its truth file, and osv-scanner 2.5.0 on the same corpus.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/vigil-dev/vigil/bench/sbomgen/gen"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == rusageFlag {
		os.Exit(rusageMain(os.Args[2:]))
	}
	// An interrupted run still removes its store (a few GB at full scale) and its PostgreSQL database.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/portfolio:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	Work        string
	Corpus      string
	Portfolio   string
	N           int
	Seed        uint64
	Versions    int
	Size        int
	Delta       int
	Engines     []string
	Runs        int
	ProfDir     string
	JSON        string
	Verbose     bool
	Dense       string
	DenseDeltas []string
	Gen         bool   // -gen: generate the dense shape into -dense (WORK/dense) as needed, and measure everything
	GenDeltas   int    // deltas to generate
	Shared      string // ../shared/bench
	Vigil       string // the vigil binary scans run (built into WORK/bin)
	OSVScanner  string // the peer's binary; "" to skip it
	Snapshot    string // SQLite store after the SBOM loads: written when absent, else started from
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portfolio", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var engines string
	fs.StringVar(&c.Work, "work", filepath.Join(os.TempDir(), "vigil-portfolio-bench"), "working directory (stores, deltas, and by default the corpus and portfolio)")
	fs.StringVar(&c.Corpus, "corpus", "", "bench/osvgen corpus directory, reused when it holds <Ecosystem>/all.zip (default WORK/corpus)")
	fs.StringVar(&c.Portfolio, "portfolio", "", "portfolio directory, reused when generated from the same corpus, seed and sizes (default WORK/portfolio)")
	fs.IntVar(&c.N, "n", 500_000, "advisories of the corpus when it must be generated")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the corpus, the portfolio and the deltas")
	fs.IntVar(&c.Versions, "versions", 200, "device versions in the portfolio")
	fs.IntVar(&c.Size, "size", 1000, "components per device version")
	fs.IntVar(&c.Delta, "delta", 1000, "new advisories per delta")
	fs.StringVar(&engines, "engines", "sqlite,postgres", "engines to measure, comma-separated")
	fs.IntVar(&c.Runs, "runs", 5, "runs of each measurement (the median is reported)")
	fs.StringVar(&c.ProfDir, "cpuprofile", "", "write a CPU profile of each measured phase's first run into this directory")
	fs.StringVar(&c.JSON, "json", "", "also write every measurement and check as JSON to this file")
	fs.BoolVar(&c.Verbose, "v", false, "print every missed or unexpected finding")
	fs.StringVar(&c.Dense, "dense", "", "measure the dense shape instead: a directory written by ../shared/bench's gen (osv-scalibr/ and portfolio/; -versions bounds the SBOMs read)")
	var denseDeltas string
	fs.StringVar(&denseDeltas, "dense-deltas", "", "with -dense: comma-separated delta directories written by ../shared/bench's mkdelta.py (DIR/*.json and DIR.expected.json), imported in order")
	fs.BoolVar(&c.Gen, "gen", false, "issue 19's whole table on the dense shape: generate what -dense (default WORK/dense) lacks with ../shared/bench (-n advisories, -versions versions, -gen-deltas deltas), then on each engine import, store size, SBOMs, cold scans of 1k, 10k and std-1k, re-matches and deltas, each checked against its truth; osv-scanner on the same SBOMs")
	fs.IntVar(&c.GenDeltas, "gen-deltas", 3, "with -gen: deltas to generate and apply (mkdelta.py runs 1..N)")
	fs.StringVar(&c.Shared, "shared", "", "../shared/bench (default: beside the module root)")
	fs.StringVar(&c.OSVScanner, "osv-scanner", "", "with -gen: osv-scanner binary (default WORK/bin/osv-scanner, installed with go install when missing; \"none\" skips it)")
	fs.StringVar(&c.Snapshot, "snapshot", "", "with -dense or -gen, SQLite: a copy of the store once the corpus and every SBOM are loaded and checked; written when FILE is absent, else the run starts from a copy of it and skips the import, store size and SBOM phases (for profiling the later phases at full scale)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, d := range strings.Split(denseDeltas, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.DenseDeltas = append(c.DenseDeltas, d)
		}
	}
	if c.Runs < 1 || c.Versions < 1 || c.Size < 1 || c.Delta < 1 {
		return errors.New("-runs, -versions, -size and -delta must be positive")
	}
	if c.Corpus == "" {
		c.Corpus = filepath.Join(c.Work, "corpus")
	}
	if c.Portfolio == "" {
		c.Portfolio = filepath.Join(c.Work, "portfolio")
	}
	for _, e := range strings.Split(engines, ",") {
		if e = strings.TrimSpace(e); e != "" {
			c.Engines = append(c.Engines, e)
		}
	}
	if c.ProfDir != "" {
		if err := os.MkdirAll(c.ProfDir, 0o755); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(c.Work, 0o755); err != nil {
		return err
	}
	// Stores left by a run that was killed outright.
	stale, _ := filepath.Glob(filepath.Join(c.Work, "store-*"))
	for _, d := range stale {
		os.RemoveAll(d)
	}
	if c.Gen {
		if c.Dense == "" {
			c.Dense = filepath.Join(c.Work, "dense")
		}
		if c.Shared == "" {
			c.Shared = filepath.Join(filepath.Dir(moduleRoot()), "shared", "bench")
		}
		if err := ensureDense(ctx, &c, stderr); err != nil {
			return err
		}
		if err := ensureBinaries(ctx, &c, stderr); err != nil {
			return err
		}
	}
	if c.Dense != "" {
		rep, pg := &report{log: stderr}, &postgres{}
		defer pg.stop(stderr)
		for _, engine := range c.Engines {
			if err := measureDense(ctx, c, engine, pg, rep, stderr); err != nil {
				return fmt.Errorf("%s: %w", engine, err)
			}
		}
		if err := measurePeer(ctx, c, rep); err != nil {
			// The peer is a comparison: Vigil's figures stand without it.
			fmt.Fprintf(stderr, "osv-scanner: %v\n", err)
		}
		return finish(rep, c, stdout)
	}
	if err := ensureCorpus(ctx, c.Corpus, c.N, c.Seed, stderr); err != nil {
		return err
	}
	abs, _ := filepath.Abs(c.Corpus)
	if err := ensurePortfolio(c.Portfolio, c.Corpus, stamp{Corpus: abs, Seed: c.Seed, Versions: c.Versions, Size: c.Size}, stderr); err != nil {
		return err
	}
	p, err := loadPortfolio(c.Portfolio, c.Versions)
	if err != nil {
		return err
	}
	initial := 0
	for _, e := range p.expected {
		initial += len(e)
	}
	fmt.Fprintf(stderr, "portfolio: %d device versions, %d distinct packages, %d expected findings\n", len(p.comps), len(p.pkgs), initial)

	// The deltas are written once and applied to every engine, so both import the same records.
	oracle := gen.NewOracle()
	deltas := make([]*delta, c.Runs)
	for r := range deltas {
		if deltas[r], err = makeDelta(p, oracle, filepath.Join(c.Work, "deltas", fmt.Sprintf("run-%02d", r+1)), c.Seed, r+1, c.Delta); err != nil {
			return err
		}
		d := deltas[r]
		fmt.Fprintf(stderr, "delta %d: %d advisories (%d name portfolio packages, %d none), %d versions hold a named package, %d new findings\n",
			r+1, len(d.ids), d.present, d.absent, len(d.touched), d.opened)
	}

	rep := &report{}
	pg := &postgres{}
	defer pg.stop(stderr)
	for _, engine := range c.Engines {
		if err := measureEngine(ctx, c, engine, p, deltas, pg, rep, stderr); err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
	}
	return finish(rep, c, stdout)
}

// finish prints the report, writes it as JSON when asked, and fails when a check failed.
func finish(rep *report, c config, stdout io.Writer) error {
	rep.print(stdout, c.Engines)
	if c.Gen {
		rep.printTargets(stdout, c.Engines)
	}
	if c.JSON != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(c.JSON, b, 0o644); err != nil {
			return err
		}
	}
	if n := rep.failures(); n > 0 {
		return fmt.Errorf("%d correctness checks failed (see above)", n)
	}
	return nil
}

// ensureCorpus generates a corpus with bench/osvgen when dir holds none.
func ensureCorpus(ctx context.Context, dir string, n int, seed uint64, stderr io.Writer) error {
	if m, _ := filepath.Glob(filepath.Join(dir, "*", "all.zip")); len(m) > 0 {
		fmt.Fprintf(stderr, "reusing the corpus in %s\n", dir)
		return nil
	}
	fmt.Fprintf(stderr, "generating %d advisories into %s with bench/osvgen\n", n, dir)
	cmd := exec.CommandContext(ctx, "go", "run", "./bench/osvgen", "-out", dir, "-n", strconv.Itoa(n), "-seed", strconv.FormatUint(seed, 10))
	cmd.Dir = moduleRoot()
	cmd.Stdout, cmd.Stderr = stderr, stderr
	return cmd.Run()
}

func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
