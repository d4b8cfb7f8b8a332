// Command scanbench measures `vigil scan` as a cold process against a store that holds a whole corpus, and
// re-matching a portfolio of device versions through the store, checking every result against the exact
// expected findings of bench/sbomgen/gen.
//
//	scanbench -corpus OSVGEN_DIR -work DIR [-runs 3] [-sizes 100,1000,10000] [-portfolio 200] [-vigil BIN]
//
// The first run imports the corpus into DIR/vigil.db (SQLite, through internal/importer, as `vigil import`
// does); later runs reuse it. Each scan runs -runs times as a fresh process; the report gives the median wall
// time, the peak RSS (getrusage of the child), the findings and the false positives and negatives.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/sbomgen/gen"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scanbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "", "bench/osvgen output directory (required)")
	work := fs.String("work", "", "working directory for the store, SBOMs and binary (required)")
	runs := fs.Int("runs", 3, "cold runs per SBOM")
	sizes := fs.String("sizes", "100,1000,10000", "SBOM sizes")
	portfolio := fs.Int("portfolio", 200, "device versions to re-match through the store (0: skip)")
	bin := fs.String("vigil", "", "vigil binary (default: build ./cmd/vigil into -work)")
	seed := fs.Uint64("seed", 1, "seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *corpus == "" || *work == "" {
		return errors.New("-corpus and -work are required")
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	if *bin == "" {
		*bin = filepath.Join(*work, "vigil")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", *bin, "./cmd/vigil").CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build ./cmd/vigil: %v\n%s", err, out)
		}
	}
	db := filepath.Join(*work, "vigil.db")
	dsn := "sqlite:" + db
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		t0 := time.Now()
		if err := importCorpus(ctx, dsn, *corpus); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "import: %s into %s in %v\n", *corpus, db, time.Since(t0).Round(time.Millisecond))
	}
	advs, err := gen.LoadCorpus(*corpus)
	if err != nil {
		return err
	}
	g := gen.New(advs)
	fmt.Fprintf(stdout, "corpus: %d advisories, %d packages\n", len(advs), g.Packages())
	advs = nil

	fmt.Fprintf(stdout, "%-8s %-12s %-12s %-10s %-9s %-4s %-4s\n", "size", "median", "max", "peak RSS", "findings", "FP", "FN")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes: %v", err)
		}
		set := g.Generate(*seed, n)
		sbomPath := filepath.Join(*work, fmt.Sprintf("sbom-%d.cdx.json", n))
		if err := writeFile(sbomPath, func(w io.Writer) error { return gen.WriteCycloneDX(w, "bench", set.Components) }); err != nil {
			return err
		}
		var walls []time.Duration
		var peak int64
		var fp, fn, found int
		for range *runs {
			wall, rss, out, err := scan(ctx, *bin, dsn, sbomPath)
			if err != nil {
				return err
			}
			walls = append(walls, wall)
			peak = max(peak, rss)
			got, err := decode(out)
			if err != nil {
				return err
			}
			missed, unexpected := gen.Diff(set.Expected, got)
			fp, fn, found = len(unexpected), len(missed), len(got)
			for _, m := range head(missed) {
				fmt.Fprintln(stderr, "  missed:", m)
			}
			for _, u := range head(unexpected) {
				fmt.Fprintln(stderr, "  unexpected:", u)
			}
		}
		slices.Sort(walls)
		fmt.Fprintf(stdout, "%-8d %-12v %-12v %-10s %-9d %-4d %-4d\n", n, walls[len(walls)/2].Round(time.Millisecond),
			walls[len(walls)-1].Round(time.Millisecond), fmt.Sprintf("%d MB", peak/1024), found, fp, fn)
	}
	if *portfolio > 0 {
		return rematch(ctx, stdout, dsn, g, *seed, *portfolio)
	}
	return nil
}

// rematch re-matches a portfolio of device versions (1,000 components each) through the store, as a server
// without an in-memory index would after a feed update.
func rematch(ctx context.Context, stdout io.Writer, dsn string, g *gen.Generator, seed uint64, n int) error {
	a, err := app.Open(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	sets := make([]gen.Set, n)
	for i := range sets {
		sets[i] = g.Generate(seed+uint64(1000+i), 1000)
	}
	t0 := time.Now()
	var fp, fn, total int
	for _, s := range sets {
		got, err := a.Portfolio.MatchComponents(app.CLIContext(ctx), s.Components, match.Options{})
		if err != nil {
			return err
		}
		missed, unexpected := gen.Diff(s.Expected, got)
		fp, fn, total = fp+len(unexpected), fn+len(missed), total+len(got)
	}
	fmt.Fprintf(stdout, "portfolio: %d device versions x 1000 components re-matched through the store in %v: %d findings, %d FP, %d FN\n",
		n, time.Since(t0).Round(time.Millisecond), total, fp, fn)
	return nil
}

func importCorpus(ctx context.Context, dsn, dir string) error {
	db, err := store.Open(ctx, dsn, vigil.SystemClock{})
	if err != nil {
		return err
	}
	defer db.Close()
	zips, err := filepath.Glob(filepath.Join(dir, "*", "all.zip"))
	if err != nil || len(zips) == 0 {
		return fmt.Errorf("%s: no <Ecosystem>/all.zip", dir)
	}
	im := &importer.Importer{Store: db}
	_, err = im.Import(app.CLIContext(ctx), zips, vigil.ImportOptions{})
	return err
}

// scan runs vigil scan as a fresh process and returns its wall time, peak RSS (KiB) and stdout. The peak RSS
// comes from GNU time when it is installed: the child's own getrusage figure also counts this (large) process,
// whose memory the child shares between fork and exec.
func scan(ctx context.Context, bin, dsn, sbom string) (time.Duration, int64, []byte, error) {
	args := []string{bin, "scan", "--db", dsn, "--format", "json", sbom}
	rssFile := ""
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		f, err := os.CreateTemp("", "scanbench-rss")
		if err != nil {
			return 0, 0, nil, err
		}
		rssFile = f.Name()
		f.Close()
		defer os.Remove(rssFile)
		args = append([]string{"/usr/bin/time", "-f", "%M", "-o", rssFile}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return 0, 0, nil, fmt.Errorf("vigil scan %s: %v\n%s", sbom, err, errb.String())
	}
	var rss int64
	if rssFile != "" {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return 0, 0, nil, err
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			rss, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return wall, rss, out.Bytes(), nil
}

// decode reads vigil scan's JSON into findings (component purl, id, state are what the comparison needs).
func decode(b []byte) ([]vigil.Finding, error) {
	var res struct {
		Findings []struct {
			Component struct {
				Purl string `json:"purl"`
			} `json:"component"`
			Vulnerability string `json:"vulnerability"`
			State         string `json:"state"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("vigil scan output: %v", err)
	}
	out := make([]vigil.Finding, len(res.Findings))
	for i, f := range res.Findings {
		out[i] = vigil.Finding{Component: vigil.Component{Purl: f.Component.Purl}, Vulnerability: f.Vulnerability, State: vigil.FindingState(f.State)}
	}
	return out, nil
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

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
