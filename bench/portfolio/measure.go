package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/sbomgen/gen"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/importer"
	psvc "github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store"
)

// Measurement is one timed phase.
type Measurement struct {
	Engine  string  `json:"engine"`
	Phase   string  `json:"phase"`
	Run     int     `json:"run"`
	Seconds float64 `json:"seconds"`
	CPU     float64 `json:"cpu_seconds"` // this process's user+system time (PostgreSQL's own work is not in it)
	PeakMB  float64 `json:"peak_rss_mb"`
	Load1   float64 `json:"load1"` // the 1-minute load average when the phase ended
	Note    string  `json:"note,omitempty"`
}

// Check is one correctness check.
type Check struct {
	Engine string `json:"engine"`
	What   string `json:"what"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

type report struct {
	Measurements []Measurement `json:"measurements"`
	Checks       []Check       `json:"checks"`
	Sizes        []Size        `json:"store_sizes,omitempty"`
	Peer         []PeerResult  `json:"osv_scanner,omitempty"`
	log          io.Writer
}

func (r *report) add(m Measurement) {
	r.Measurements = append(r.Measurements, m)
	fmt.Fprintf(r.log, "%-8s %-19s run %d %8.3f s  cpu %7.2f s  peak %6.0f MB  load %.2f  %s\n", m.Engine, m.Phase, m.Run, m.Seconds, m.CPU, m.PeakMB, m.Load1, m.Note)
}

func (r *report) check(engine, what string, ok bool, format string, args ...any) {
	c := Check{Engine: engine, What: what, OK: ok, Detail: fmt.Sprintf(format, args...)}
	r.Checks = append(r.Checks, c)
	mark := "ok  "
	if !ok {
		mark = "FAIL"
	}
	fmt.Fprintf(r.log, "%-8s %s %s: %s\n", engine, mark, what, c.Detail)
}

func (r *report) failures() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

// phases in the order the table shows them, with the target each is held to ("" for none).
var phases = []struct{ name, target string }{
	{"corpus-import", ""},
	{"first-changed", ""},
	{"sbom-import", ""},
	{"rematch-all", "≤ 10 s"},
	{"delta-import", ""},
	{"delta-rematch", ""},
	{"delta-total", "≤ 2 s"},
	{"dense-rematch-all", "≤ 5 s"},
	{"dense-delta-import", ""},
	{"dense-delta-rematch", ""},
	{"dense-delta-total", "≤ 2 s"},
	{"scan-1k", "≤ 0.3 s"},
	{"scan-10k", "≤ 1 s"},
	{"scan-std-1k", ""},
}

func (r *report) print(w io.Writer, engines []string) {
	fmt.Fprintf(w, "\n%-8s %-19s %4s %10s %10s %10s %12s %10s %8s\n", "ENGINE", "PHASE", "RUNS", "MEDIAN s", "MIN s", "MAX s", "MEDIAN cpu", "PEAK MB", "LOAD")
	for _, e := range engines {
		for _, ph := range phases {
			var secs, cpu, load []float64
			peak := 0.0
			for _, m := range r.Measurements {
				if m.Engine == e && m.Phase == ph.name {
					secs, cpu, load = append(secs, m.Seconds), append(cpu, m.CPU), append(load, m.Load1)
					peak = max(peak, m.PeakMB)
				}
			}
			if len(secs) == 0 {
				continue
			}
			fmt.Fprintf(w, "%-8s %-19s %4d %10.3f %10.3f %10.3f %12.2f %10.0f %8.2f  %s\n", e, ph.name, len(secs), median(secs),
				minOf(secs), maxOf(secs), median(cpu), peak, median(load), ph.target)
		}
	}
	fails := r.failures()
	fmt.Fprintf(w, "\nchecks: %d passed, %d failed\n", len(r.Checks)-fails, fails)
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// timer measures one phase: wall and CPU time, peak RSS since start (VmHWM after a reset), the load average.
type timer struct {
	start time.Time
	cpu0  float64
	stop  func()
}

func startPhase(profDir, name string, profile bool) *timer {
	runtime.GC()
	debug.FreeOSMemory()
	// Reset the kernel's peak-RSS counter (VmHWM) so the phase reports its own peak.
	procstat.ResetPeak()
	t := &timer{stop: func() {}}
	if profDir != "" && profile {
		if f, err := os.Create(filepath.Join(profDir, name+".pprof")); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				t.stop = func() { pprof.StopCPUProfile(); f.Close() }
			} else {
				f.Close()
			}
		}
	}
	t.cpu0 = procstat.CPUSeconds()
	t.start = time.Now()
	return t
}

func (t *timer) end(engine, phase string, run int, note string) Measurement {
	el := time.Since(t.start).Seconds()
	cpu := procstat.CPUSeconds() - t.cpu0
	t.stop()
	return Measurement{Engine: engine, Phase: phase, Run: run, Seconds: el, CPU: cpu, PeakMB: procstat.PeakMB(), Load1: procstat.Load1(), Note: note}
}

// measureEngine runs every phase on a fresh store of the engine.
func measureEngine(ctx context.Context, c config, engine string, p *portfolio, deltas []*delta, pg *postgres, rep *report, stderr io.Writer) error {
	rep.log = stderr
	dsn, cleanup, err := freshDSN(ctx, engine, c.Work, pg, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	actx := app.CLIContext(ctx)
	db, err := store.Open(actx, dsn, vigil.SystemClock{})
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := app.Open(actx, dsn, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	prof := func(phase string, run int) string { return fmt.Sprintf("%s-%s-%d", engine, phase, run) }

	// The portfolio: one organization, devices of four versions each.
	if err := a.Portfolio.CreateOrg(actx, &vigil.Organization{Name: "Bench Medical"}); err != nil {
		return err
	}
	ids := make([]int64, len(p.comps))
	var dev *vigil.Device
	for i := range ids {
		if i%4 == 0 {
			dev = &vigil.Device{Name: fmt.Sprintf("Device %03d", i/4), Class: "II", Pathway: vigil.Pathway510k}
			if err := a.Portfolio.CreateDevice(actx, dev); err != nil {
				return err
			}
		}
		v := &vigil.DeviceVersion{DeviceID: dev.ID, Version: fmt.Sprintf("%d.0", i%4+1)}
		if err := a.Portfolio.CreateVersion(actx, v); err != nil {
			return err
		}
		ids[i] = v.ID
	}

	// The corpus.
	// The importer itself, not the intelligence service (which re-matches after every import): the phases are
	// measured apart.
	im := &importer.Importer{Store: db}
	t := startPhase(c.ProfDir, prof("corpus-import", 1), true)
	res, err := im.Import(actx, []string{c.Corpus}, vigil.ImportOptions{})
	if err != nil {
		return fmt.Errorf("corpus import: %w", err)
	}
	added := 0
	for _, s := range res.Summaries {
		added += s.Added
	}
	rep.add(t.end(engine, "corpus-import", 1, fmt.Sprintf("%d advisories added", added)))
	// Consume the corpus's change feed before any SBOM is stored: the deltas must find only their own changes.
	t = startPhase(c.ProfDir, prof("first-changed", 1), true)
	rr, err := a.Portfolio.RematchChanged(actx)
	if err != nil {
		return err
	}
	rep.add(t.end(engine, "first-changed", 1, fmt.Sprintf("%d versions re-matched (no SBOM yet)", rr.Versions)))

	// The SBOMs: each import matches at once.
	t = startPhase(c.ProfDir, prof("sbom-import", 1), true)
	opened := 0
	for i, id := range ids {
		f, err := os.Open(sbomPath(p.dir, i))
		if err != nil {
			return err
		}
		sr, err := a.Portfolio.ImportSBOM(actx, id, f, filepath.Base(sbomPath(p.dir, i)), psvc.SBOMOptions{})
		f.Close()
		if err != nil {
			return fmt.Errorf("sbom %d: %w", i, err)
		}
		if !sr.Matched {
			return fmt.Errorf("sbom %d: not matched although intelligence is imported", i)
		}
		opened += sr.Opened
	}
	rep.add(t.end(engine, "sbom-import", 1, fmt.Sprintf("%d SBOMs, %d findings opened", len(ids), opened)))
	want := make([][]gen.Expect, len(ids))
	for i := range want {
		want[i] = append([]gen.Expect(nil), p.expected[i]...)
	}
	if err := checkFindings(actx, a, engine, "initial findings", ids, want, rep, c.Verbose); err != nil {
		return err
	}

	// Rematch of every version.
	for r := 1; r <= c.Runs; r++ {
		t := startPhase(c.ProfDir, prof("rematch-all", r), r == 1)
		res, err := a.Portfolio.Rematch(actx, psvc.RematchOptions{})
		if err != nil {
			return err
		}
		rep.add(t.end(engine, "rematch-all", r, fmt.Sprintf("%d versions, +%d -%d", res.Versions, res.Opened, res.Resolved)))
		rep.check(engine, fmt.Sprintf("rematch-all run %d", r), res.Versions == len(ids) && res.Opened == 0 && res.Resolved == 0,
			"%d versions re-matched (want %d), %d opened, %d resolved (want 0, 0)", res.Versions, len(ids), res.Opened, res.Resolved)
	}

	// Deltas: import, then re-match what changed.
	for r, d := range deltas {
		run := r + 1
		t := startPhase(c.ProfDir, prof("delta-import", run), run == 1)
		ires, err := im.Import(actx, []string{d.dir}, vigil.ImportOptions{})
		if err != nil {
			return fmt.Errorf("delta %d import: %w", run, err)
		}
		mi := t.end(engine, "delta-import", run, "")
		t = startPhase(c.ProfDir, prof("delta-rematch", run), run == 1)
		res, err := a.Portfolio.RematchChanged(actx)
		if err != nil {
			return fmt.Errorf("delta %d rematch: %w", run, err)
		}
		mr := t.end(engine, "delta-rematch", run, fmt.Sprintf("%d versions, +%d -%d", res.Versions, res.Opened, res.Resolved))
		added, other := 0, 0
		for _, s := range ires.Summaries {
			added += s.Added
			other += s.Updated + s.Unchanged + s.Withdrawn + len(s.Rejected)
		}
		mi.Note = fmt.Sprintf("%d added, %d other", added, other)
		rep.add(mi)
		rep.add(mr)
		rep.add(Measurement{Engine: engine, Phase: "delta-total", Run: run, Seconds: mi.Seconds + mr.Seconds, CPU: mi.CPU + mr.CPU,
			PeakMB: max(mi.PeakMB, mr.PeakMB), Load1: mr.Load1})
		rep.check(engine, fmt.Sprintf("delta %d import", run), added == len(d.ids) && other == 0,
			"%d advisories added, %d otherwise (want %d new)", added, other, len(d.ids))
		rep.check(engine, fmt.Sprintf("delta %d re-match", run), res.Versions == len(d.touched) && res.Opened == d.opened && res.Resolved == 0,
			"%d versions re-matched (want %d: those holding a named package, of %d), %d findings opened (want %d), %d resolved (want 0)",
			res.Versions, len(d.touched), len(ids), res.Opened, d.opened, res.Resolved)
		for v, e := range d.added {
			want[v] = append(want[v], e...)
		}
		if err := checkFindings(actx, a, engine, fmt.Sprintf("findings after delta %d", run), ids, want, rep, c.Verbose); err != nil {
			return err
		}
	}
	return nil
}

// checkFindings compares every version's open findings with what is expected (gen.Diff, the oracle's side).
func checkFindings(ctx context.Context, a *app.App, engine, what string, ids []int64, want [][]gen.Expect, rep *report, verbose bool) error {
	var total, fp, fn, expected, bad int
	for i, id := range ids {
		fs, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: id})
		if err != nil {
			return err
		}
		got := make([]vigil.Finding, len(fs))
		for j, f := range fs {
			got[j] = *f
		}
		missed, unexpected := gen.Diff(want[i], got)
		total, fp, fn, expected = total+len(got), fp+len(unexpected), fn+len(missed), expected+len(want[i])
		if len(missed)+len(unexpected) > 0 {
			bad++
			if verbose || bad <= 3 {
				for _, m := range head(missed, verbose) {
					fmt.Fprintf(rep.log, "  version %d missed: %s\n", i, m)
				}
				for _, u := range head(unexpected, verbose) {
					fmt.Fprintf(rep.log, "  version %d unexpected: %s\n", i, u)
				}
			}
		}
	}
	rep.check(engine, what, fp == 0 && fn == 0, "%d versions, %d findings (want %d), %d FP, %d FN, %d versions differ", len(ids), total, expected, fp, fn, bad)
	return nil
}

func head(s []string, all bool) []string {
	if !all && len(s) > 3 {
		return s[:3]
	}
	return s
}

// postgres is the server the PostgreSQL runs use: $VIGIL_TEST_POSTGRES, or a throwaway one started here.
type postgres struct {
	admin string
	dir   string // set when started here
}

func (pg *postgres) adminDSN(ctx context.Context, stderr io.Writer) (string, error) {
	if pg.admin != "" {
		return pg.admin, nil
	}
	if pg.admin = os.Getenv("VIGIL_TEST_POSTGRES"); pg.admin != "" {
		return pg.admin, nil
	}
	d, err := os.MkdirTemp("", "vigil-portfolio-pg-")
	if err != nil {
		return "", err
	}
	os.Chmod(d, 0o755)
	pg.dir = filepath.Join(d, "pg")
	out, err := exec.CommandContext(ctx, filepath.Join(moduleRoot(), "scripts", "pg-throwaway"), "start", pg.dir).Output()
	if err != nil {
		return "", fmt.Errorf("start PostgreSQL: %w", err)
	}
	s := string(out)
	i := strings.Index(s, "VIGIL_TEST_POSTGRES='")
	if i < 0 {
		return "", fmt.Errorf("pg-throwaway printed no DSN: %q", s)
	}
	s = s[i+len("VIGIL_TEST_POSTGRES='"):]
	pg.admin = s[:strings.Index(s, "'")]
	fmt.Fprintf(stderr, "started PostgreSQL in %s\n", pg.dir)
	return pg.admin, nil
}

func (pg *postgres) stop(stderr io.Writer) {
	if pg.dir == "" {
		return
	}
	if err := exec.Command(filepath.Join(moduleRoot(), "scripts", "pg-throwaway"), "stop", pg.dir).Run(); err != nil {
		fmt.Fprintf(stderr, "stop PostgreSQL in %s: %v\n", pg.dir, err)
	}
	os.Remove(filepath.Dir(pg.dir))
}

// freshDSN returns the DSN of a new, empty database of the engine and a function that removes it.
func freshDSN(ctx context.Context, engine, work string, pg *postgres, stderr io.Writer) (string, func(), error) {
	switch engine {
	case "sqlite":
		d, err := os.MkdirTemp(work, "store-")
		if err != nil {
			return "", nil, err
		}
		return "sqlite:" + filepath.Join(d, "vigil.db"), func() { os.RemoveAll(d) }, nil
	case "postgres":
		admin, err := pg.adminDSN(ctx, stderr)
		if err != nil {
			return "", nil, err
		}
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return "", nil, err
		}
		b := make([]byte, 6)
		rand.Read(b)
		name := "vigil_portfolio_" + hex.EncodeToString(b)
		if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			db.Close()
			return "", nil, err
		}
		u, err := url.Parse(admin)
		if err != nil {
			db.Close()
			return "", nil, err
		}
		u.Path = "/" + name
		return u.String(), func() {
			db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			db.Close()
		}, nil
	}
	return "", nil, fmt.Errorf("unknown engine %q (sqlite or postgres)", engine)
}
