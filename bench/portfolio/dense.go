package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/internal/benchdb"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/importer"
	psvc "github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store"
)

// The dense shape: a corpus and portfolio written by ../shared/bench's generator (`gen -portfolio N`: 200–3,000
// components per version, hot packages with up to ~1,200 advisories, ~3.5 findings per component), the shape a
// real manufacturer's portfolio has and the project's own generator does not. The corpus is DIR/osv-scalibr, the
// SBOMs DIR/portfolio/sbom-portfolio-*.cdx.json, each with its .truth.json (purl → advisory ids).

// truthFile is what ../shared/bench writes beside each SBOM.
type truthFile struct {
	Findings []struct {
		Purl string   `json:"purl"`
		IDs  []string `json:"ids"`
	} `json:"findings"`
}

// measureDense loads the dense shape into a fresh store of the engine (corpus import, then every SBOM, each
// matched at import), checks every version's findings against its truth file, and times full re-matches.
func measureDense(ctx context.Context, c config, engine string, pg *postgres, rep *report, stderr io.Writer) error {
	rep.log = stderr
	sboms, err := filepath.Glob(filepath.Join(c.Dense, "portfolio", "sbom-portfolio-*.cdx.json"))
	if err != nil || len(sboms) == 0 {
		return fmt.Errorf("-dense %s: no portfolio/sbom-portfolio-*.cdx.json (generate it with ../shared/bench's gen -portfolio N)", c.Dense)
	}
	slices.Sort(sboms)
	if len(sboms) > c.Versions {
		sboms = sboms[:c.Versions]
	}
	dsn, cleanup, err := freshDSN(ctx, engine, c.Work, pg, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	fromSnapshot := false
	if c.Snapshot != "" && engine == "sqlite" {
		if _, err := os.Stat(c.Snapshot); err == nil {
			if err := copyFile(c.Snapshot, strings.TrimPrefix(dsn, "sqlite:")); err != nil {
				return err
			}
			fromSnapshot = true
			fmt.Fprintf(stderr, "%-8s starting from the snapshot %s (import, store size and SBOM phases skipped)\n", engine, c.Snapshot)
		}
	}
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
	im := &importer.Importer{Store: db}             // the importer alone: the phases are measured apart
	extra := make([]map[[2]string]bool, len(sboms)) // findings the deltas add, per version
	var ids []int64
	want := 0
	if fromSnapshot {
		if ids, err = snapshotVersions(actx, db.SQL(), len(sboms)); err != nil {
			return err
		}
		if want, err = checkTruth(actx, a, engine, "dense findings in the snapshot", ids, sboms, extra, rep); err != nil {
			return err
		}
	} else if ids, want, err = loadDense(actx, c, engine, dsn, db, a, im, sboms, extra, rep, stderr); err != nil {
		return err
	}
	if c.Vigil != "" {
		if err := measureScans(ctx, c, engine, dsn, rep); err != nil {
			return err
		}
	}

	for r := 1; r <= c.Runs; r++ {
		t := startPhase(c.ProfDir, profName(engine, "rematch-all", r), r == 1)
		res, err := a.Portfolio.Rematch(actx, psvc.RematchOptions{})
		if err != nil {
			return err
		}
		rep.add(t.end(engine, "dense-rematch-all", r, fmt.Sprintf("%d versions, %d findings, +%d -%d", res.Versions, res.Findings, res.Opened, res.Resolved)))
		rep.check(engine, fmt.Sprintf("dense rematch-all run %d", r), res.Versions == len(ids) && res.Findings == want && res.Opened == 0 && res.Resolved == 0,
			"%d versions (want %d), %d findings (want %d), %d opened, %d resolved (want 0, 0)", res.Versions, len(ids), res.Findings, want, res.Opened, res.Resolved)
	}

	// Deltas written by ../shared/bench's mkdelta.py: new advisories, then the findings they must open.
	num := map[string]int{} // "015" → index in sboms
	for i, p := range sboms {
		var n, size int
		if _, err := fmt.Sscanf(filepath.Base(p), "sbom-portfolio-%d-%d.cdx.json", &n, &size); err == nil {
			num[fmt.Sprintf("%03d", n)] = i
		}
	}
	for r, dir := range c.DenseDeltas {
		run := r + 1
		var exp [][3]string
		b, err := os.ReadFile(dir + ".expected.json")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &exp); err != nil {
			return fmt.Errorf("%s.expected.json: %w", dir, err)
		}
		opens := 0
		for _, e := range exp {
			if i, ok := num[e[0]]; ok {
				if extra[i] == nil {
					extra[i] = map[[2]string]bool{}
				}
				extra[i][[2]string{e[1], e[2]}] = true
				opens++
			}
		}
		t := startPhase(c.ProfDir, profName(engine, "delta-import", run), run == 1)
		if _, err := im.Import(actx, []string{dir}, vigil.ImportOptions{}); err != nil {
			return fmt.Errorf("delta %s: %w", dir, err)
		}
		mi := t.end(engine, "dense-delta-import", run, "")
		t = startPhase(c.ProfDir, profName(engine, "delta-rematch", run), run == 1)
		res, err := a.Portfolio.RematchChanged(actx)
		if err != nil {
			return err
		}
		mr := t.end(engine, "dense-delta-rematch", run, fmt.Sprintf("%d versions, +%d -%d", res.Versions, res.Opened, res.Resolved))
		rep.add(mi)
		rep.add(mr)
		rep.add(Measurement{Engine: engine, Phase: "dense-delta-total", Run: run, Seconds: mi.Seconds + mr.Seconds, CPU: mi.CPU + mr.CPU,
			PeakMB: max(mi.PeakMB, mr.PeakMB), Load1: mr.Load1})
		rep.check(engine, fmt.Sprintf("dense delta %d re-match", run), res.Opened == opens && res.Resolved == 0,
			"%d findings opened (want %d), %d resolved (want 0)", res.Opened, opens, res.Resolved)
		if _, err := checkTruth(actx, a, engine, fmt.Sprintf("dense findings after delta %d", run), ids, sboms, extra, rep); err != nil {
			return err
		}
	}
	return nil
}

// checkTruth compares every version's findings, as (purl, advisory id), with its SBOM's truth file and the
// deltas' additions (extra), and returns how many findings that is.
func checkTruth(ctx context.Context, a *app.App, engine, what string, ids []int64, sboms []string, extra []map[[2]string]bool, rep *report) (int, error) {
	var total, fp, fn, expected, bad int
	for i, id := range ids {
		var tf truthFile
		b, err := os.ReadFile(sboms[i][:len(sboms[i])-len(".cdx.json")] + ".truth.json")
		if err != nil {
			return 0, err
		}
		if err := json.Unmarshal(b, &tf); err != nil {
			return 0, fmt.Errorf("%s truth: %w", sboms[i], err)
		}
		want := map[[2]string]bool{}
		for _, f := range tf.Findings {
			for _, v := range f.IDs {
				want[[2]string{f.Purl, v}] = true
			}
		}
		for k := range extra[i] {
			want[k] = true
		}
		fs, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: id})
		if err != nil {
			return 0, err
		}
		miss := len(want)
		for _, f := range fs {
			if k := [2]string{f.Component.Purl, f.Vulnerability}; want[k] && f.State == vigil.FindingOpen {
				miss--
			} else {
				fp++
				if fp <= 3 {
					fmt.Fprintf(rep.log, "  %s unexpected: %s %s (%s)\n", filepath.Base(sboms[i]), k[0], k[1], f.State)
				}
			}
		}
		if miss > 0 || len(fs) != len(want)-miss {
			bad++
		}
		total, fn, expected = total+len(fs), fn+miss, expected+len(want)
	}
	rep.check(engine, what, fp == 0 && fn == 0, "%d versions, %d findings (want %d), %d FP, %d FN, %d versions differ", len(ids), total, expected, fp, fn, bad)
	return expected, nil
}

// loadDense loads the dense shape into the fresh store: the corpus (measured, with the store's size after it), then
// every SBOM onto a version of its own, each matched at import; it checks the findings against the truth files and,
// with -snapshot, keeps a copy of the loaded SQLite store. It returns the versions' ids and the findings expected.
func loadDense(actx context.Context, c config, engine, dsn string, db *store.DB, a *app.App, im *importer.Importer, sboms []string, extra []map[[2]string]bool, rep *report, stderr io.Writer) ([]int64, int, error) {
	if err := a.Portfolio.CreateOrg(actx, &vigil.Organization{Name: "Bench Medical"}); err != nil {
		return nil, 0, err
	}
	ids := make([]int64, len(sboms))
	for i := range sboms {
		d := &vigil.Device{Name: fmt.Sprintf("Device %03d", i), Class: "II", Pathway: vigil.Pathway510k}
		if err := a.Portfolio.CreateDevice(actx, d); err != nil {
			return nil, 0, err
		}
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
		if err := a.Portfolio.CreateVersion(actx, v); err != nil {
			return nil, 0, err
		}
		ids[i] = v.ID
	}

	t := startPhase(c.ProfDir, profName(engine, "corpus-import", 1), true)
	res, err := im.Import(actx, []string{filepath.Join(c.Dense, "osv-scalibr")}, vigil.ImportOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("corpus import: %w", err)
	}
	added := 0
	for _, s := range res.Summaries {
		added += s.Added
	}
	rep.add(t.end(engine, "corpus-import", 1, fmt.Sprintf("%d advisories added", added)))
	size, err := storeSize(actx, engine, dsn, db.SQL(), c.Dense)
	if err != nil {
		return nil, 0, err
	}
	rep.Sizes = append(rep.Sizes, size)
	fmt.Fprintf(stderr, "%-8s store after the corpus import: %.0f MB for %.0f MB of zips (%.2f×)\n", engine, size.StoreMB, size.ZipsMB, size.Ratio)
	if _, err := a.Portfolio.RematchChanged(actx); err != nil { // consume the corpus's change feed
		return nil, 0, err
	}

	t = startPhase(c.ProfDir, profName(engine, "sbom-import", 1), true)
	opened := 0
	for i, id := range ids {
		f, err := os.Open(sboms[i])
		if err != nil {
			return nil, 0, err
		}
		sr, err := a.Portfolio.ImportSBOM(actx, id, f, filepath.Base(sboms[i]), psvc.SBOMOptions{})
		f.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", sboms[i], err)
		}
		opened += sr.Opened
	}
	rep.add(t.end(engine, "sbom-import", 1, fmt.Sprintf("%d SBOMs, %d findings opened", len(ids), opened)))
	want, err := checkTruth(actx, a, engine, "dense findings after the SBOM imports", ids, sboms, extra, rep)
	if err != nil {
		return nil, 0, err
	}
	if c.Snapshot != "" && engine == "sqlite" && rep.failures() == 0 {
		fmt.Fprintf(stderr, "%-8s writing the snapshot %s\n", engine, c.Snapshot)
		if _, err := db.SQL().ExecContext(actx, "VACUUM INTO ?", c.Snapshot); err != nil {
			return nil, 0, fmt.Errorf("snapshot %s: %w", c.Snapshot, err)
		}
	}
	return ids, want, nil
}

// snapshotVersions returns the device versions of a snapshot in the order loadDense created them (one per SBOM).
func snapshotVersions(ctx context.Context, h *sql.DB, n int) ([]int64, error) {
	ids, err := benchdb.IDs(ctx, h, "SELECT id FROM device_versions ORDER BY id")
	if err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("the snapshot holds %d device versions, -versions asks for %d", len(ids), n)
	}
	return ids, nil
}

// copyFile copies the snapshot into a fresh store's path.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// profName names a phase's CPU profile.
func profName(engine, phase string, run int) string {
	return fmt.Sprintf("%s-dense-%s-%d", engine, phase, run)
}
