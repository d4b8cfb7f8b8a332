package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// liveCase reads a case in tx for a change: the case itself, or the case it was merged into (where its findings
// and records count, as records are written: caseLive); ENOTFOUND when there is none.
func (tx *Tx) liveCase(ctx context.Context, id int64) (*vigil.Case, error) {
	live, err := tx.caseLive(ctx, id)
	if err != nil {
		return nil, err
	}
	return scanCase(tx.QueryRowContext(ctx, "SELECT "+caseCols+" FROM cases c JOIN devices d ON d.id = c.device_id WHERE c.id = $1", live))
}

// SplitCase takes findings (or another device) out of a case into a new case with the same D0 (see
// vigil.SplitInput). The original keeps its records; an alias the new case takes leaves the original, so matching
// attaches that id's findings to the new case from then on. Both cases are audited (case.split, case.open).
func (db *DB) SplitCase(ctx context.Context, in vigil.SplitInput) (_ *vigil.Case, err error) {
	defer vigil.Wrap(&err, "store.SplitCase", in.CaseID)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "reason: required: say why these are another case")
	}
	if err := vigil.Text("reason", in.Reason, vigil.MaxText); err != nil {
		return nil, err
	}
	in.Vulnerability = strings.TrimSpace(in.Vulnerability)
	if err := vigil.Text("vulnerability", in.Vulnerability, vigil.MaxName); err != nil {
		return nil, err
	}
	var nc *vigil.Case
	err = db.transact(ctx, func(tx *Tx) error {
		c, err := tx.liveCase(ctx, in.CaseID)
		if err != nil {
			return err
		}
		dev := in.DeviceID
		if dev == 0 {
			dev = c.DeviceID
		}
		vuln := in.Vulnerability
		if vuln == "" {
			vuln = c.Vulnerability
		}
		switch {
		case dev != c.DeviceID && len(in.Findings) > 0:
			return vigil.Errorf(vigil.EINVALID, "findings: a finding stays on its device: split findings out under another vulnerability id, or open the case on another device without findings")
		case dev == c.DeviceID && len(in.Findings) == 0:
			return vigil.Errorf(vigil.EINVALID, "findings: name the findings that are another case (or another device_id for a report covering two devices)")
		case dev == c.DeviceID && strings.EqualFold(vuln, c.Vulnerability):
			return vigil.Errorf(vigil.EINVALID, "vulnerability: findings split out on %s need another vulnerability id than the case's %s", c.Device, c.Vulnerability)
		}
		nc = &vigil.Case{DeviceID: dev, Vulnerability: vuln, Aliases: []string{}, State: vigil.CaseOpen, Learned: c.Learned, LearnedHow: c.LearnedHow,
			LearnedEvidence: "split from case " + idText(c.ID) + ": " + in.Reason, Provisional: c.Provisional && vuln == c.Vulnerability}
		if err := tx.QueryRowContext(ctx, "SELECT name FROM devices WHERE id = $1", dev).Scan(&nc.Device); errors.Is(err, sql.ErrNoRows) {
			return vigil.Errorf(vigil.EINVALID, "device_id: device %d does not exist", dev)
		} else if err != nil {
			return err
		}
		if dev != c.DeviceID {
			nc.Aliases = append(nc.Aliases, c.Aliases...) // the same vulnerability, on another device
		}
		if err := nc.CheckText(); err != nil {
			return err
		}
		dc, err := tx.deviceCases(ctx, dev, []string{vuln})
		if err != nil {
			return err
		}
		if old := dc.find([]string{vuln}); old != nil && old.ID != c.ID {
			return vigil.Errorf(vigil.ECONFLICT, "%s already has case %d of %s: merge into that one instead", nc.Device, old.ID, vuln)
		}
		for _, f := range in.Findings {
			var in sql.NullInt64
			if err := tx.QueryRowContext(ctx, "SELECT case_id FROM findings WHERE id = $1", f).Scan(&in); errors.Is(err, sql.ErrNoRows) {
				return vigil.Errorf(vigil.EINVALID, "findings: finding %d does not exist", f)
			} else if err != nil {
				return err
			}
			if in.Int64 != c.ID {
				return vigil.Errorf(vigil.ECONFLICT, "findings: finding %d is in case %d, not case %d", f, in.Int64, c.ID)
			}
		}
		old := map[string]any{"aliases": c.Aliases}
		if i := slices.IndexFunc(c.Aliases, func(a string) bool { return strings.EqualFold(a, vuln) }); i >= 0 && dev == c.DeviceID {
			c.Aliases = slices.Delete(c.Aliases, i, i+1)
			if _, err := tx.ExecContext(ctx, "UPDATE cases SET aliases = $1, updated_at = $2 WHERE id = $3", mustJSON(c.Aliases), tx.NowText(), c.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM case_ids WHERE case_id = $1 AND vid = $2", c.ID, caseID(vuln)); err != nil {
				return err
			}
		}
		if err := tx.insertCase(ctx, nc); err != nil {
			return err
		}
		moved := slices.Clone(in.Findings)
		slices.Sort(moved)
		moved = slices.Compact(moved)
		for _, f := range moved {
			if _, err := tx.ExecContext(ctx, "UPDATE findings SET case_id = $1 WHERE id = $2", nc.ID, f); err != nil {
				return err
			}
		}
		tx.wrote("cases", nc.ID)
		tx.wrote("findings", moved...)
		if err := tx.Audit(ctx, "case.open", "case", idText(nc.ID), nil, map[string]any{"case": nc, "findings": moved, "split_from": c.ID}, in.Reason); err != nil {
			return err
		}
		tx.wrote("cases", c.ID)
		return tx.Audit(ctx, "case.split", "case", idText(c.ID), old, map[string]any{"aliases": c.Aliases, "findings_moved": moved, "into": nc.ID}, in.Reason)
	})
	if err != nil {
		return nil, err
	}
	return nc, nil
}

// SetCaseOwner gives a case to a user (an existing one, not disabled), or to nobody ("").
func (db *DB) SetCaseOwner(ctx context.Context, id int64, owner, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetCaseOwner", id)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	owner = strings.TrimSpace(owner)
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	if err := vigil.Text("reason", reason, vigil.MaxText); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		c, err := tx.liveCase(ctx, id)
		if err != nil {
			return err
		}
		var o any
		if owner != "" {
			var disabled bool
			if err := tx.QueryRowContext(ctx, "SELECT disabled FROM users WHERE name = $1", owner).Scan(&disabled); errors.Is(err, sql.ErrNoRows) {
				return vigil.Errorf(vigil.EINVALID, "owner: %q is not a user", vigil.Clip(40, owner))
			} else if err != nil {
				return err
			}
			if disabled {
				return vigil.Errorf(vigil.EINVALID, "owner: %s is disabled", owner)
			}
			o = owner
		}
		if _, err := tx.ExecContext(ctx, "UPDATE cases SET owner = $1, updated_at = $2 WHERE id = $3", o, tx.NowText(), c.ID); err != nil {
			return err
		}
		tx.wrote("cases", c.ID)
		return tx.Audit(ctx, "case.owner", "case", idText(c.ID), map[string]string{"owner": c.Owner}, map[string]string{"owner": owner}, reason)
	})
}

// SetVersionVEX appends the VEX status of one version of a case's device (v.Validate first). The version must be
// one of the device's.
func (db *DB) SetVersionVEX(ctx context.Context, v *vigil.VersionVEX) (err error) {
	defer vigil.Wrap(&err, "store.SetVersionVEX", v.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermAssess)
	if err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		c, err := tx.liveCase(ctx, v.CaseID)
		if err != nil {
			return err
		}
		var dev int64
		if err := tx.QueryRowContext(ctx, "SELECT device_id, version FROM device_versions WHERE id = $1", v.VersionID).Scan(&dev, &v.Version); errors.Is(err, sql.ErrNoRows) || err == nil && dev != c.DeviceID {
			return vigil.Errorf(vigil.EINVALID, "version_id: %d is not a version of %s", v.VersionID, c.Device)
		} else if err != nil {
			return err
		}
		v.CaseID, v.CreatedAt, v.Actor = c.ID, tx.Now(), actor.String()
		id, err := tx.insertID(ctx, `INSERT INTO case_vex (case_id, version_id, status, justification, impact_statement, action_statement, fixed_in, reason, created_at, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, v.CaseID, v.VersionID, v.Status, v.Justification, v.ImpactStatement, v.ActionStatement, v.FixedIn,
			v.Reason, tx.NowText(), v.Actor)
		if err != nil {
			return err
		}
		v.ID = id
		tx.wrote("case_vex", id)
		return tx.Audit(ctx, "case.vex", "case", idText(v.CaseID), nil, v, v.Reason)
	})
}

// VersionVEX lists a case's VEX records (with those of cases merged into it), oldest first.
func (db *DB) VersionVEX(ctx context.Context, caseID int64) (_ []*vigil.VersionVEX, err error) {
	defer vigil.Wrap(&err, "store.VersionVEX", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (*vigil.VersionVEX, error) {
		var v vigil.VersionVEX
		var created sql.NullString
		if err := row.Scan(&v.ID, &v.CaseID, &v.VersionID, &v.Version, &v.Status, &v.Justification, &v.ImpactStatement, &v.ActionStatement, &v.FixedIn,
			&v.Reason, &created, &v.Actor); err != nil {
			return nil, err
		}
		v.CreatedAt = parseTime(created)
		return &v, nil
	}, `SELECT x.id, x.case_id, x.version_id, v.version, x.status, x.justification, x.impact_statement, x.action_statement, x.fixed_in, x.reason, x.created_at, x.actor
		FROM case_vex x JOIN device_versions v ON v.id = x.version_id WHERE `+caseAndMerged("x.case_id", "$1")+" ORDER BY x.id", caseID)
}

// MigrationCaseDisclosure is the version of the migration that moved disclosure coordination from reports to
// cases.
const MigrationCaseDisclosure = 32

// SetCaseDisclosure appends a record of a case's disclosure coordination (d.Validate first). Needs PermIntake:
// coordinating disclosure is the intake desk's work.
func (db *DB) SetCaseDisclosure(ctx context.Context, d *vigil.CaseDisclosure) (err error) {
	defer vigil.Wrap(&err, "store.SetCaseDisclosure", d.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermIntake)
	if err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		c, err := tx.liveCase(ctx, d.CaseID)
		if err != nil {
			return err
		}
		old, err := caseDisclosures(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		var was any
		if len(old) > 0 {
			was = old[len(old)-1]
		}
		d.CaseID, d.CreatedAt, d.Actor = c.ID, tx.Now(), actor.String()
		if d.ID, err = tx.insertID(ctx, "INSERT INTO case_disclosures (case_id, disclosure, reason, created_at, actor) VALUES ($1, $2, $3, $4, $5)",
			d.CaseID, mustJSON(d.Disclosure), d.Reason, tx.NowText(), d.Actor); err != nil {
			return err
		}
		tx.wrote("case_disclosures", d.ID)
		return tx.Audit(ctx, "case.disclosure", "case", idText(d.CaseID), was, d, d.Reason)
	})
}

// CaseDisclosures lists a case's disclosure records (with those of cases merged into it), oldest first.
func (db *DB) CaseDisclosures(ctx context.Context, caseID int64) (_ []*vigil.CaseDisclosure, err error) {
	defer vigil.Wrap(&err, "store.CaseDisclosures", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return caseDisclosures(ctx, db.db, caseID)
}

func caseDisclosures(ctx context.Context, q querier, caseID int64) ([]*vigil.CaseDisclosure, error) {
	out, err := queryAll(ctx, q, func(row interface{ Scan(...any) error }) (*vigil.CaseDisclosure, error) {
		var d vigil.CaseDisclosure
		var doc string
		var created sql.NullString
		if err := row.Scan(&d.ID, &d.CaseID, &doc, &d.Reason, &created, &d.Actor); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &d.Disclosure); err != nil {
			return nil, fmt.Errorf("case_disclosures %d: %w", d.ID, err)
		}
		if d.Partners == nil {
			d.Partners = []string{}
		}
		d.CreatedAt = parseTime(created)
		return &d, nil
	}, "SELECT id, case_id, disclosure, reason, created_at, actor FROM case_disclosures WHERE "+caseAndMerged("case_id", "$1")+" ORDER BY id", caseID)
	if out == nil {
		out = []*vigil.CaseDisclosure{}
	}
	return out, err
}
