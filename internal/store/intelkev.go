package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// KEV stores a whole CISA KEV catalog read from document doc. Each entry is added (new to the store, or back after
// CISA had removed it), updated (CISA revised it; the history keeps every version), or unchanged. Entries of the
// stored catalog that this one no longer lists are marked removed (counted as withdrawn). A catalog older than one
// already imported (by catalogVersion) never replaces newer entries: only CVEs the store lacks are added from it.
// A catalog without a version (CSV) removes nothing.
func (w *IntelWriter) KEV(doc int64, catalogVersion string, entries []vigil.KEVEntry) error {
	s := w.sum(vigil.SourceKEV)
	if err := w.flushInserts(); err != nil {
		return err
	}
	var latest sql.NullString
	if err := w.tx.QueryRowContext(w.ctx, "SELECT MAX(revision) FROM intel_documents WHERE source = $1 AND id <> $2 AND revision <> ''",
		vigil.SourceKEV, doc).Scan(&latest); err != nil {
		return fmt.Errorf("intel: kev catalog version: %w", err)
	}
	older := catalogVersion != "" && latest.Valid && catalogVersion < latest.String
	type cur struct {
		digest  string
		removed bool
	}
	state := map[string]cur{}
	rows, err := w.tx.QueryContext(w.ctx, "SELECT cve, digest, removed FROM intel_kev")
	if err != nil {
		return fmt.Errorf("intel: kev: %w", err)
	}
	for rows.Next() {
		var cve string
		var c cur
		if err := rows.Scan(&cve, &c.digest, &c.removed); err != nil {
			rows.Close()
			return err
		}
		state[cve] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ins := newBatch("intel_kev", "cve, catalog_version, date_added, digest, data, removed, updated_run", "")
	hist := newBatch("intel_kev_history", "cve, catalog_version, change, data, run_id", "")
	flush := func() error {
		if err := ins.flush(w.ctx, w.tx); err != nil {
			return err
		}
		return hist.flush(w.ctx, w.tx)
	}
	seen := make(map[string]bool, len(entries))
	for i := range entries {
		e := &entries[i]
		if e.CVE == "" || len(e.CVE) > maxIDLen {
			return vigil.Errorf(vigil.EINVALID, "kev catalog %s: vulnerabilities[%d].cveID: %q is not a CVE id", catalogVersion, i, e.CVE)
		}
		if seen[e.CVE] {
			s.Unchanged++ // a catalog listing a CVE twice: the first entry stands
			continue
		}
		seen[e.CVE] = true
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])
		c, ok := state[e.CVE]
		var change string
		switch {
		case !ok:
			ins.add(e.CVE, catalogVersion, e.DateAdded.String(), digest, string(data), false, w.run)
			change = "added"
			s.Added++
		case older:
			s.Unchanged++
			continue
		case c.removed:
			change = "added"
			s.Added++
		case c.digest == digest:
			s.Unchanged++
			continue
		default:
			change = "updated"
			s.Updated++
		}
		if ok {
			if _, err := w.tx.ExecContext(w.ctx, `UPDATE intel_kev SET catalog_version = $1, date_added = $2, digest = $3, data = $4,
				removed = $5, updated_run = $6 WHERE cve = $7`, catalogVersion, e.DateAdded.String(), digest, string(data), false, w.run, e.CVE); err != nil {
				return fmt.Errorf("intel: kev %s: %w", e.CVE, err)
			}
		}
		hist.add(e.CVE, catalogVersion, change, string(data), w.run)
		if ins.full() || hist.full() {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	// A catalog without a version (the CSV form) cannot say whether it is newer than the stored one: it adds and
	// updates entries but removes none.
	if !older && catalogVersion != "" {
		var gone []string
		for cve, c := range state {
			if !c.removed && !seen[cve] {
				gone = append(gone, cve)
			}
		}
		slices.Sort(gone)
		for _, cve := range gone {
			if _, err := w.tx.ExecContext(w.ctx, "UPDATE intel_kev SET removed = $1, updated_run = $2 WHERE cve = $3", true, w.run, cve); err != nil {
				return err
			}
			hist.add(cve, catalogVersion, "removed", "{}", w.run)
			s.Withdrawn++
			if hist.full() {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// EPSS stores EPSS scores read from document doc: one row per (CVE, date) kept as history, and the latest score
// per CVE. A score already stored for that CVE and date is unchanged; a different one for the same date (FIRST
// re-published the day) is updated.
func (w *IntelWriter) EPSS(doc int64, scores []vigil.EPSSScore) error {
	s := w.sum(vigil.SourceEPSS)
	byDate := map[string][]int{}
	var dates []string
	for i := range scores {
		sc := &scores[i]
		if sc.CVE == "" || len(sc.CVE) > maxIDLen || sc.Date.IsZero() {
			return vigil.Errorf(vigil.EINVALID, "epss: scores[%d]: a CVE id and a date are required", i)
		}
		d := sc.Date.String()
		if _, ok := byDate[d]; !ok {
			dates = append(dates, d)
		}
		byDate[d] = append(byDate[d], i)
	}
	slices.Sort(dates)
	latest := map[string]string{}
	if len(scores) > 0 {
		rows, err := w.tx.QueryContext(w.ctx, "SELECT cve, date FROM intel_epss_latest")
		if err != nil {
			return fmt.Errorf("intel: epss: %w", err)
		}
		for rows.Next() {
			var c, d string
			if err := rows.Scan(&c, &d); err != nil {
				rows.Close()
				return err
			}
			latest[c] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	ins := newBatch("intel_epss", "cve, date, score, percentile, model_version", "")
	up := newBatch("intel_epss_latest", "cve, date, score, percentile, model_version",
		" ON CONFLICT (cve) DO UPDATE SET date = excluded.date, score = excluded.score, percentile = excluded.percentile, model_version = excluded.model_version")
	flush := func() error {
		if err := ins.flush(w.ctx, w.tx); err != nil {
			return err
		}
		return up.flush(w.ctx, w.tx)
	}
	for _, d := range dates {
		type cur struct {
			score, pct float64
			model      string
		}
		have := map[string]cur{}
		rows, err := w.tx.QueryContext(w.ctx, "SELECT cve, score, percentile, model_version FROM intel_epss WHERE date = $1", d)
		if err != nil {
			return fmt.Errorf("intel: epss: %w", err)
		}
		for rows.Next() {
			var c string
			var v cur
			if err := rows.Scan(&c, &v.score, &v.pct, &v.model); err != nil {
				rows.Close()
				return err
			}
			have[c] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, i := range byDate[d] {
			sc := &scores[i]
			cve := strings.TrimSpace(sc.CVE)
			if seen[cve] {
				s.Unchanged++
				continue
			}
			seen[cve] = true
			h, ok := have[cve]
			switch {
			case !ok:
				ins.add(cve, d, sc.Score, sc.Percentile, sc.ModelVersion)
				s.Added++
			case h.score == sc.Score && h.pct == sc.Percentile && h.model == sc.ModelVersion:
				s.Unchanged++
				continue
			default:
				if _, err := w.tx.ExecContext(w.ctx, "UPDATE intel_epss SET score = $1, percentile = $2, model_version = $3 WHERE cve = $4 AND date = $5",
					sc.Score, sc.Percentile, sc.ModelVersion, cve, d); err != nil {
					return err
				}
				s.Updated++
			}
			if l, ok := latest[cve]; !ok || d >= l {
				up.add(cve, d, sc.Score, sc.Percentile, sc.ModelVersion)
				latest[cve] = d
			}
			if ins.full() || up.full() {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		// A CVE may be upserted once per statement (PostgreSQL): flush between dates.
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}
