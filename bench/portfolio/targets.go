package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil/bench/internal/procstat"
)

// Issue 19's figures on the dense shape: everything its target table names, generated, measured and checked by one
// command (-dense with -gen). The generated data (../shared/bench's corpus and SBOMs, mkdelta.py's deltas, the
// vigil and osv-scanner binaries) is kept in the work directory and reused by later runs; the measurements are
// taken anew each run.

// osvScanner is the peer the issue compares with, installed from the Go module proxy when missing.
const osvScanner = "github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.5.0"

// denseStamp is what a generated dense directory was generated with: a later run with other parameters must not
// reuse it.
type denseStamp struct {
	N        int    `json:"n"`
	Seed     uint64 `json:"seed"`
	Versions int    `json:"versions"`
	Deltas   int    `json:"deltas"`
}

// ensureDense generates what is missing of the dense shape into c.Dense, as ../shared/bench's README does: the
// corpus with SBOMs of 1,000 and 10,000 components (OSV names), the 1,000-component SBOM in CycloneDX's group
// convention ("std"), the portfolio of c.Versions versions, and c.GenDeltas deltas (mkdelta.py, runs 1..N). Each
// step is skipped when its output is there; a step's output is written under a temporary name and renamed at its
// end, so an interrupted run redoes only the step it was in.
func ensureDense(ctx context.Context, c *config, logf io.Writer) error {
	st := denseStamp{N: c.N, Seed: c.Seed, Versions: c.Versions, Deltas: c.GenDeltas}
	stampPath := filepath.Join(c.Dense, "vigil-bench.json")
	if b, err := os.ReadFile(stampPath); err == nil {
		var old denseStamp
		if json.Unmarshal(b, &old) != nil || old.N != st.N || old.Seed != st.Seed || old.Versions != st.Versions {
			return fmt.Errorf("%s was generated with %s; use another -work (or -dense) for -n %d -seed %d -versions %d", c.Dense, b, c.N, c.Seed, c.Versions)
		}
	}
	if err := os.MkdirAll(c.Dense, 0o755); err != nil {
		return err
	}
	gen := filepath.Join(c.Work, "bin", "gen")
	need := func(path string) bool { _, err := os.Stat(path); return err != nil }
	if need(gen) {
		if err := runLogged(ctx, logf, c.Shared, "go", "build", "-o", gen, "./gen"); err != nil {
			return fmt.Errorf("build ../shared/bench's gen: %w", err)
		}
	}
	n, seed := strconv.Itoa(c.N), strconv.FormatUint(c.Seed, 10)
	steps := []struct {
		done string // present when the step is complete
		out  string // what it writes (moved into place from a temporary directory)
		args []string
	}{
		{"osv-scalibr", "", []string{"-n", n, "-seed", seed, "-cdx-names", "osv", "-sboms", "1000,10000"}},
		{"sbom-std-1000.cdx.json", "", []string{"-n", n, "-seed", seed, "-no-corpus", "-tag", "std", "-cdx-names", "standard", "-sboms", "1000"}},
		{"portfolio", "", []string{"-n", n, "-seed", seed, "-no-corpus", "-sboms", "", "-portfolio", strconv.Itoa(c.Versions)}},
	}
	for _, s := range steps {
		if !need(filepath.Join(c.Dense, s.done)) {
			continue
		}
		tmp := filepath.Join(c.Work, "gen-tmp")
		os.RemoveAll(tmp)
		fmt.Fprintf(logf, "generating %s into %s (gen %s)\n", s.done, c.Dense, strings.Join(s.args, " "))
		if err := runLogged(ctx, logf, c.Work, gen, append(s.args, "-out", tmp)...); err != nil {
			return fmt.Errorf("gen %s: %w", strings.Join(s.args, " "), err)
		}
		ents, err := os.ReadDir(tmp)
		if err != nil {
			return err
		}
		// The complete step's marker is moved last.
		for _, e := range ents {
			if e.Name() != s.done {
				if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(c.Dense, e.Name())); err != nil {
					return err
				}
			}
		}
		if err := os.Rename(filepath.Join(tmp, s.done), filepath.Join(c.Dense, s.done)); err != nil {
			return err
		}
		os.RemoveAll(tmp)
	}
	for k := 1; k <= c.GenDeltas; k++ {
		dir := filepath.Join(c.Dense, fmt.Sprintf("delta-%d", k))
		if need(dir + ".expected.json") {
			os.RemoveAll(dir)
			fmt.Fprintf(logf, "writing delta %d into %s (mkdelta.py)\n", k, dir)
			if err := runLogged(ctx, logf, c.Shared, "python3", "mkdelta.py", c.Dense, dir+".tmp", strconv.Itoa(k)); err != nil {
				return fmt.Errorf("mkdelta.py %d: %w", k, err)
			}
			if err := os.Rename(dir+".tmp", dir); err != nil {
				return err
			}
			if err := os.Rename(dir+".tmp.expected.json", dir+".expected.json"); err != nil {
				return err
			}
		}
		c.DenseDeltas = append(c.DenseDeltas, dir)
	}
	b, _ := json.Marshal(st)
	return os.WriteFile(stampPath, b, 0o644)
}

// runLogged runs a command in dir with its output going to logf (the harness's log, not a terminal's progress).
func runLogged(ctx context.Context, logf io.Writer, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		logf.Write(out.Bytes())
	}
	return err
}

// ensureBinaries builds this tree's vigil into WORK/bin (every run: the code measured is the code checked out) and
// installs osv-scanner 2.5.0 there when it is missing and wanted.
func ensureBinaries(ctx context.Context, c *config, logf io.Writer) error {
	bin := filepath.Join(c.Work, "bin")
	c.Vigil = filepath.Join(bin, "vigil")
	if err := runLogged(ctx, logf, moduleRoot(), "go", "build", "-o", c.Vigil, "./cmd/vigil"); err != nil {
		return fmt.Errorf("go build ./cmd/vigil: %w", err)
	}
	if c.OSVScanner == "none" {
		c.OSVScanner = ""
		return nil
	}
	if c.OSVScanner == "" {
		c.OSVScanner = filepath.Join(bin, "osv-scanner")
		if _, err := os.Stat(c.OSVScanner); err != nil {
			fmt.Fprintf(logf, "installing %s into %s\n", osvScanner, bin)
			cmd := exec.CommandContext(ctx, "go", "install", osvScanner)
			cmd.Env = append(os.Environ(), "GOBIN="+bin)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go install %s: %v\n%s", osvScanner, err, out)
			}
		}
	}
	return nil
}

// scanSBOMs are the SBOMs scanned cold, by their file name in the dense directory, with the phase they report.
var scanSBOMs = []struct{ file, phase string }{
	{"sbom-1000.cdx.json", "scan-1k"},
	{"sbom-10000.cdx.json", "scan-10k"},
	{"sbom-std-1000.cdx.json", "scan-std-1k"},
}

// child is one run of another program: its wall and CPU time and peak resident memory (getrusage).
type child struct {
	Seconds float64 `json:"seconds"`
	CPU     float64 `json:"cpu"`
	PeakMB  float64 `json:"peak_mb"`
	Exit    int     `json:"exit"`
}

// rusageFlag makes this program a small intermediate process that runs a command and reports its child's usage on
// file descriptor 3. A child exec'd straight from this process would report this process's own peak RSS as its
// own: Linux records the peak of the address space an exec replaces (here, shared with this process through
// vfork) in the new program's maximum RSS.
const rusageFlag = "-rusage-of"

// rusageMain is the intermediate process: it runs args with this process's standard streams.
func rusageMain(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	t0 := time.Now()
	err := cmd.Run()
	ch := child{Seconds: time.Since(t0).Seconds()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	ch.Exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		ch.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		ch.PeakMB = float64(ru.Maxrss) / 1024
	}
	json.NewEncoder(os.NewFile(3, "rusage")).Encode(ch)
	return 0
}

// runChild runs name through the intermediate process (rusageMain) and returns its usage; exit status 1 means
// findings, for both scanners, anything above it a failure.
func runChild(ctx context.Context, stdout io.Writer, name string, args ...string) (child, error) {
	self, err := os.Executable()
	if err != nil {
		return child{}, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return child{}, err
	}
	defer r.Close()
	cmd := exec.CommandContext(ctx, self, append([]string{rusageFlag, name}, args...)...)
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return child{}, err
	}
	var ch child
	derr := json.NewDecoder(r).Decode(&ch)
	if err := cmd.Wait(); err != nil || derr != nil {
		return ch, fmt.Errorf("%s: %v %v: %s", filepath.Base(name), err, derr, strings.TrimSpace(stderr.String()))
	}
	if ch.Exit > 1 {
		return ch, fmt.Errorf("%s exited %d: %s", filepath.Base(name), ch.Exit, strings.TrimSpace(stderr.String()))
	}
	return ch, nil
}

// measureScans runs `vigil scan --format json` on each SBOM as a cold process against the engine's store, -runs
// times, and checks the findings of each run against the SBOM's truth file.
func measureScans(ctx context.Context, c config, engine, dsn string, rep *report) error {
	for _, s := range scanSBOMs {
		sbom := filepath.Join(c.Dense, s.file)
		want, err := truthPairs(strings.TrimSuffix(sbom, ".cdx.json") + ".truth.json")
		if err != nil {
			return err
		}
		for r := 1; r <= c.Runs; r++ {
			var out bytes.Buffer
			ch, err := runChild(ctx, &out, c.Vigil, "scan", "--db", dsn, "--format", "json", sbom)
			if err != nil {
				return fmt.Errorf("vigil scan %s: %w", s.file, err)
			}
			var res struct {
				Findings []struct {
					Component struct {
						Purl string `json:"purl"`
					} `json:"component"`
					Vulnerability string `json:"vulnerability"`
				} `json:"findings"`
			}
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				return fmt.Errorf("vigil scan %s: output: %w", s.file, err)
			}
			got := map[[2]string]bool{}
			for _, f := range res.Findings {
				got[[2]string{f.Component.Purl, f.Vulnerability}] = true
			}
			fp, fn := diff(got, want)
			rep.add(Measurement{Engine: engine, Phase: s.phase, Run: r, Seconds: ch.Seconds, CPU: ch.CPU, PeakMB: ch.PeakMB, Load1: procstat.Load1(),
				Note: fmt.Sprintf("%d findings", len(got))})
			if r == 1 {
				rep.check(engine, "scan "+s.file, fp == 0 && fn == 0, "%d findings (want %d), %d FP, %d FN", len(got), len(want), fp, fn)
			}
		}
	}
	return nil
}

// measurePeer runs osv-scanner offline on the same corpus and SBOMs once each, checked with ../shared/bench's gen
// check (its report names packages, not purls).
func measurePeer(ctx context.Context, c config, rep *report) error {
	if c.OSVScanner == "" {
		return nil
	}
	for _, s := range scanSBOMs {
		sbom := filepath.Join(c.Dense, s.file)
		report := filepath.Join(c.Work, "osv-scanner-"+strings.TrimSuffix(s.file, ".cdx.json")+".json")
		ch, err := runChild(ctx, io.Discard, c.OSVScanner, "scan", "source", "--offline", "--local-db-path="+c.Dense, "-L", sbom, "--format", "json", "--output", report)
		if err != nil {
			return fmt.Errorf("osv-scanner %s: %w", s.file, err)
		}
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, filepath.Join(c.Work, "bin", "gen"), "check", "-truth", strings.TrimSuffix(sbom, ".cdx.json")+".truth.json", "-report", report, "-show", "0")
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		line := strings.TrimSpace(strings.SplitN(out.String(), "\n", 2)[0])
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return err
		}
		rep.add(Measurement{Engine: "osv-scanner", Phase: s.phase, Run: 1, Seconds: ch.Seconds, CPU: ch.CPU, PeakMB: ch.PeakMB, Load1: procstat.Load1(), Note: line})
		rep.Peer = append(rep.Peer, PeerResult{SBOM: s.file, Check: line})
	}
	return nil
}

// PeerResult is osv-scanner's exactness on one SBOM (it is compared, not held to exactness).
type PeerResult struct {
	SBOM  string `json:"sbom"`
	Check string `json:"check"`
}

// truthPairs reads a truth file as (purl, advisory id) pairs.
func truthPairs(path string) (map[[2]string]bool, error) {
	var tf truthFile
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &tf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	want := map[[2]string]bool{}
	for _, f := range tf.Findings {
		for _, v := range f.IDs {
			want[[2]string{f.Purl, v}] = true
		}
	}
	return want, nil
}

func diff(got, want map[[2]string]bool) (fp, fn int) {
	for k := range got {
		if !want[k] {
			fp++
		}
	}
	for k := range want {
		if !got[k] {
			fn++
		}
	}
	return fp, fn
}

// storeSize measures the store after the corpus import against the corpus's zips.
func storeSize(ctx context.Context, engine, dsn string, h *sql.DB, dense string) (Size, error) {
	var s Size
	zips, _ := filepath.Glob(filepath.Join(dense, "osv-scalibr", "*", "all.zip"))
	for _, z := range zips {
		if fi, err := os.Stat(z); err == nil {
			s.ZipsMB += float64(fi.Size()) / 1e6
		}
	}
	s.Engine = engine
	switch engine {
	case "sqlite":
		// The import is one transaction, so its pages are all in the WAL when it commits; the store's size is the
		// file once they are checkpointed into it (as the next checkpoint does, truncating the WAL to its bound).
		if _, err := h.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return s, err
		}
		path := strings.TrimPrefix(dsn, "sqlite:")
		for _, p := range []string{path, path + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				s.StoreMB += float64(fi.Size()) / 1e6
			}
		}
	default:
		var b int64
		if err := h.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&b); err != nil {
			return s, err
		}
		s.StoreMB = float64(b) / 1e6
	}
	if s.ZipsMB > 0 {
		s.Ratio = s.StoreMB / s.ZipsMB
	}
	return s, nil
}

// Size is a store's size after the corpus import, against the corpus's zips.
type Size struct {
	Engine  string  `json:"engine"`
	StoreMB float64 `json:"store_mb"`
	ZipsMB  float64 `json:"zips_mb"`
	Ratio   float64 `json:"ratio"`
}

// targets are issue 19's target table: the phase measured, how it is summarized and its bounds (0: none).
var targets = []struct {
	what, phase   string
	engines       string // "" every engine
	seconds, peak float64
}{
	{"full re-match, every version", "dense-rematch-all", "", 5, 500},
	{"delta of 1,000 advisories, import + re-match", "dense-delta-total", "", 2, 0},
	{"scan 10,000 components, cold", "scan-10k", "", 1, 300},
	{"scan 1,000 components, cold", "scan-1k", "", 0.3, 0},
	{"scan 1,000 components (CycloneDX group), cold", "scan-std-1k", "", 0, 0},
	{"import of the corpus (issue: 500k)", "corpus-import", "sqlite", 40, 0},
	{"import of the corpus (issue: 500k)", "corpus-import", "postgres", 50, 0},
}

// printTargets prints the table: each figure (median over runs) against its target, the store size
// against the zips, osv-scanner beside the scans, and the exactness checks.
func (r *report) printTargets(w io.Writer, engines []string) {
	fmt.Fprintf(w, "\nissue 19 targets (median wall s / median cpu s / peak MB over the runs; load average at the runs)\n")
	fmt.Fprintf(w, "%-48s %-11s %9s %9s %8s %6s  %s\n", "OPERATION", "ENGINE", "WALL s", "CPU s", "PEAK MB", "LOAD", "TARGET")
	for _, t := range targets {
		for _, e := range append(append([]string{}, engines...), "osv-scanner") {
			if t.engines != "" && t.engines != e {
				continue
			}
			var secs, cpu, load []float64
			peak := 0.0
			for _, m := range r.Measurements {
				if m.Engine == e && m.Phase == t.phase {
					secs, cpu, load = append(secs, m.Seconds), append(cpu, m.CPU), append(load, m.Load1)
					peak = max(peak, m.PeakMB)
				}
			}
			if len(secs) == 0 {
				continue
			}
			target := ""
			if e != "osv-scanner" && t.seconds > 0 {
				met := median(secs) <= t.seconds && (t.peak == 0 || peak <= t.peak)
				target = fmt.Sprintf("≤ %g s", t.seconds)
				if t.peak > 0 {
					target += fmt.Sprintf(", ≤ %g MB", t.peak)
				}
				if met {
					target += "  met"
				} else {
					target += "  MISSED"
				}
			}
			fmt.Fprintf(w, "%-48s %-11s %9.3f %9.2f %8.0f %6.2f  %s\n", t.what, e, median(secs), median(cpu), peak, median(load), target)
		}
	}
	for _, s := range r.Sizes {
		verdict := "met"
		if s.Ratio > 2 {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "%-48s %-11s %9.0f MB for %.0f MB of zips: %.2f×  (target ≤ 2×)  %s\n", "store after the corpus import", s.Engine, s.StoreMB, s.ZipsMB, s.Ratio, verdict)
	}
	for _, p := range r.Peer {
		fmt.Fprintf(w, "osv-scanner 2.5.0 exactness on %-24s %s\n", p.SBOM+":", p.Check)
	}
}
