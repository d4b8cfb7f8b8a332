// Command import measures the intelligence import on a synthetic OSV corpus of 500,000 advisories (bench/osvgen):
// a full import into a fresh store, then a re-import of the same corpus with 1% of the records modified, on SQLite
// and on PostgreSQL, several runs each, and prints every run and the medians: seconds, advisories per second and
// the process's peak resident memory (VmHWM, reset before each measurement). The targets on a 2-core machine are a
// full import in at most 60 s (8,500 advisories/s) with at most 1 GB peak RSS, and the re-import in at most 5 s.
//
//	go run ./bench/import -corpus /tmp/osv/base -modified /tmp/osv/mod1 [-engines sqlite,postgres] [-runs 3]
//
// Missing corpora are generated first with bench/osvgen (-n, -seed). PostgreSQL comes from $VIGIL_TEST_POSTGRES (an
// admin DSN; each run creates and drops its own database), else a throwaway server is started with
// scripts/pg-throwaway. This is a measurement, not a test: nothing here asserts a time.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/vigil-dev/vigil/bench/internal/procstat"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/import:", err)
		os.Exit(1)
	}
}

// Measurement is one timed import.
type Measurement struct {
	Engine  string  `json:"engine"`
	Run     int     `json:"run"`
	Phase   string  `json:"phase"` // full or reimport
	Seconds float64 `json:"seconds"`
	Records int     `json:"records"`
	PerSec  float64 `json:"advisories_per_second"`
	PeakMB  float64 `json:"peak_rss_mb"`
	CPU     float64 `json:"cpu_seconds"` // user+system time of this process (PostgreSQL's own work is not in it)
	Summary string  `json:"summary"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", filepath.Join(os.TempDir(), "vigil-osvbench", "base"), "base corpus directory (<Ecosystem>/all.zip)")
	modified := fs.String("modified", filepath.Join(os.TempDir(), "vigil-osvbench", "mod1"), "the same corpus with 1% of records modified")
	n := fs.Int("n", 500000, "advisories to generate when a corpus is missing")
	seed := fs.Int("seed", 1, "generator seed")
	engines := fs.String("engines", "sqlite,postgres", "engines to measure")
	runs := fs.Int("runs", 3, "runs per engine (the median is reported)")
	dir := fs.String("dir", os.TempDir(), "where SQLite stores are created")
	jsonOut := fs.Bool("json", false, "print the measurements as JSON")
	profDir := fs.String("cpuprofile", "", "write a CPU profile of each phase into this directory")
	memDir := fs.String("memprofile", "", "write a heap profile at the largest heap of each phase into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, c := range []struct {
		dir string
		pct int
	}{{*corpus, 0}, {*modified, 1}} {
		if err := ensureCorpus(ctx, c.dir, *n, *seed, c.pct, stderr); err != nil {
			return err
		}
	}
	var all []Measurement
	for _, engine := range strings.Split(*engines, ",") {
		engine = strings.TrimSpace(engine)
		for r := 1; r <= *runs; r++ {
			ms, err := measure(ctx, engine, r, *corpus, *modified, *dir, *profDir, *memDir, stderr)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", engine, r, err)
			}
			for _, m := range ms {
				fmt.Fprintf(stderr, "%-8s run %d %-8s %7.2f s (cpu %6.1f s) %9.0f adv/s peak %6.0f MB  %s\n", m.Engine, m.Run, m.Phase, m.Seconds, m.CPU, m.PerSec, m.PeakMB, m.Summary)
			}
			all = append(all, ms...)
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	fmt.Fprintf(stdout, "%-8s %-8s %5s %12s %12s %14s %14s\n", "ENGINE", "PHASE", "RUNS", "MEDIAN s", "MEDIAN cpu s", "MEDIAN adv/s", "MEDIAN peak MB")
	for _, engine := range strings.Split(*engines, ",") {
		for _, phase := range []string{"full", "reimport"} {
			var secs, cpu, rate, peak []float64
			for _, m := range all {
				if m.Engine == strings.TrimSpace(engine) && m.Phase == phase {
					secs, cpu, rate, peak = append(secs, m.Seconds), append(cpu, m.CPU), append(rate, m.PerSec), append(peak, m.PeakMB)
				}
			}
			if len(secs) > 0 {
				fmt.Fprintf(stdout, "%-8s %-8s %5d %12.2f %12.1f %14.0f %14.0f\n", engine, phase, len(secs), median(secs), median(cpu), median(rate), median(peak))
			}
		}
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ensureCorpus generates a corpus with bench/osvgen when dir holds none.
func ensureCorpus(ctx context.Context, dir string, n, seed, pct int, stderr io.Writer) error {
	if m, _ := filepath.Glob(filepath.Join(dir, "*", "all.zip")); len(m) > 0 {
		return nil
	}
	fmt.Fprintf(stderr, "generating %d advisories (%d%% modified) into %s with bench/osvgen\n", n, pct, dir)
	cmd := exec.CommandContext(ctx, "go", "run", "./bench/osvgen", "-out", dir, "-n", strconv.Itoa(n), "-seed", strconv.Itoa(seed), "-modify-percent", strconv.Itoa(pct))
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

// measure runs a full import of corpus into a fresh store, then a re-import of modified, measuring each.
func measure(ctx context.Context, engine string, runNo int, corpus, modified, dir, profDir, memDir string, stderr io.Writer) ([]Measurement, error) {
	dsn, cleanup, err := freshDSN(ctx, engine, dir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	actx := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "bench"})
	var out []Measurement
	for _, ph := range []struct{ name, corpus string }{{"full", corpus}, {"reimport", modified}} {
		runtime.GC()
		debug.FreeOSMemory()
		procstat.ResetPeak()
		im := &importer.Importer{Store: db}
		stop := startProfile(profDir, fmt.Sprintf("%s-%d-%s.pprof", engine, runNo, ph.name))
		stopHeap := watchHeap(memDir, fmt.Sprintf("%s-%d-%s.heap", engine, runNo, ph.name))
		cpu0 := procstat.CPUSeconds()
		start := time.Now()
		res, err := im.Import(actx, []string{ph.corpus}, vigil.ImportOptions{})
		el := time.Since(start).Seconds()
		stop()
		stopHeap()
		if err != nil {
			return nil, err
		}
		m := Measurement{Engine: engine, Run: runNo, Phase: ph.name, Seconds: el, PeakMB: procstat.PeakMB(), CPU: procstat.CPUSeconds() - cpu0}
		var parts []string
		for _, s := range res.Summaries {
			m.Records += s.Added + s.Updated + s.Unchanged + s.Withdrawn + len(s.Rejected)
			parts = append(parts, fmt.Sprintf("%s +%d ~%d =%d -%d !%d", s.Source, s.Added, s.Updated, s.Unchanged, s.Withdrawn, len(s.Rejected)))
		}
		m.PerSec = float64(m.Records) / el
		m.Summary = strings.Join(parts, "; ")
		out = append(out, m)
	}
	return out, nil
}

// startProfile starts a CPU profile into dir/name when dir is set; the returned function stops it.
func startProfile(dir, name string) func() {
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// watchHeap writes a heap profile into dir/name whenever the heap in use reaches a new high (checked twice a
// second), so the file ends up describing the largest heap of the phase; the returned function stops it.
func watchHeap(dir, name string) func() {
	if dir == "" {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var high uint64
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > high*11/10 {
				high = ms.HeapInuse
				if f, err := os.Create(filepath.Join(dir, name)); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

var pgAdmin string

// freshDSN returns the DSN of a new, empty database of the engine and a function that removes it.
func freshDSN(ctx context.Context, engine, dir string) (string, func(), error) {
	switch engine {
	case store.SQLite:
		d, err := os.MkdirTemp(dir, "vigil-bench-")
		if err != nil {
			return "", nil, err
		}
		return "sqlite:" + filepath.Join(d, "vigil.db"), func() { os.RemoveAll(d) }, nil
	case store.Postgres:
		if pgAdmin == "" {
			if pgAdmin = os.Getenv("VIGIL_TEST_POSTGRES"); pgAdmin == "" {
				var err error
				if pgAdmin, err = startPostgres(ctx); err != nil {
					return "", nil, err
				}
			}
		}
		a, err := sql.Open("pgx", pgAdmin)
		if err != nil {
			return "", nil, err
		}
		b := make([]byte, 6)
		rand.Read(b)
		name := "vigil_bench_" + hex.EncodeToString(b)
		if _, err := a.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			a.Close()
			return "", nil, err
		}
		u, err := url.Parse(pgAdmin)
		if err != nil {
			return "", nil, err
		}
		u.Path = "/" + name
		return u.String(), func() {
			a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}, nil
	}
	return "", nil, errors.New("unknown engine " + engine)
}

// startPostgres starts a throwaway server with scripts/pg-throwaway (stopped when the machine's tmp is cleaned;
// the command prints how to stop it).
func startPostgres(ctx context.Context) (string, error) {
	d, err := os.MkdirTemp("", "vigil-bench-pg-")
	if err != nil {
		return "", err
	}
	os.Chmod(d, 0o755)
	out, err := exec.CommandContext(ctx, filepath.Join(moduleRoot(), "scripts", "pg-throwaway"), "start", filepath.Join(d, "pg")).Output()
	if err != nil {
		return "", fmt.Errorf("start PostgreSQL: %w", err)
	}
	s := string(out)
	i := strings.Index(s, "VIGIL_TEST_POSTGRES='")
	if i < 0 {
		return "", fmt.Errorf("pg-throwaway printed no DSN: %q", s)
	}
	s = s[i+len("VIGIL_TEST_POSTGRES='"):]
	fmt.Fprintf(os.Stderr, "started PostgreSQL in %s (stop it: scripts/pg-throwaway stop %s)\n", d, filepath.Join(d, "pg"))
	return s[:strings.Index(s, "'")], nil
}
