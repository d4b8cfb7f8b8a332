package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

// AddPlan appends the next version of a case's remediation plan: versions are numbered per case from 1 and never
// edited. Written on the live case (a merged duplicate's plan goes to the case it was merged into), audited on the
// case's trail.
func (db *DB) AddPlan(ctx context.Context, p *vigil.RemediationPlan) (err error) {
	defer vigil.Wrap(&err, "store.AddPlan", p.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermEvent)
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		live, err := tx.caseLive(ctx, p.CaseID)
		if err != nil {
			return err
		}
		if err := tx.checkDated(ctx, p.Date); err != nil {
			return err
		}
		for i, c := range p.Controls {
			if err := tx.checkDated(ctx, c.Since); err != nil {
				return vigil.Errorf(vigil.EINVALID, "controls[%d].since: %s", i, strings.TrimPrefix(vigil.ErrorMessage(err), "date: "))
			}
		}
		var last int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM remediation_plans WHERE case_id = $1", live).Scan(&last); err != nil {
			return err
		}
		if last > 0 && strings.TrimSpace(p.Reason) == "" {
			return vigil.Errorf(vigil.EINVALID, "reason: required: say why plan version %d replaces version %d", last+1, last)
		}
		if p.Controls == nil {
			p.Controls = []vigil.CompensatingControl{}
		}
		p.CaseID, p.Version, p.CreatedAt, p.Actor = live, last+1, tx.Now(), actor.String()
		if p.ID, err = tx.insertID(ctx, `INSERT INTO remediation_plans (case_id, version, date, controls, fix_release, target_date, cycle, ssvc,
			rationale, reason, created_at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			p.CaseID, p.Version, p.Date.String(), mustJSON(p.Controls), p.FixRelease, optionalDate(p.TargetDate), p.Cycle, p.SSVC,
			p.Rationale, p.Reason, tx.NowText(), p.Actor); err != nil {
			return err
		}
		tx.wrote("remediation_plans", p.ID)
		return tx.Audit(ctx, "remediation.plan", "case", idText(p.CaseID), nil, p, p.Reason)
	})
}

// optionalDate stores a date that may be unset as ” (the column is NOT NULL).
func optionalDate(d vigil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// Plans returns a case's plan versions (with those of cases merged into it), oldest first.
func (db *DB) Plans(ctx context.Context, caseID int64) (_ []*vigil.RemediationPlan, err error) {
	defer vigil.Wrap(&err, "store.Plans", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	out, err := queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (*vigil.RemediationPlan, error) {
		var p vigil.RemediationPlan
		var date, controls, target string
		var created sql.NullString
		if err := row.Scan(&p.ID, &p.CaseID, &p.Version, &date, &controls, &p.FixRelease, &target, &p.Cycle, &p.SSVC,
			&p.Rationale, &p.Reason, &created, &p.Actor); err != nil {
			return nil, err
		}
		p.Date, _ = vigil.ParseDate(date)
		p.TargetDate, _ = vigil.ParseDate(target)
		if err := json.Unmarshal([]byte(controls), &p.Controls); err != nil {
			return nil, fmt.Errorf("remediation plan %d: controls: %w", p.ID, err)
		}
		p.CreatedAt = parseTime(created)
		return &p, nil
	}, `SELECT id, case_id, version, date, controls, fix_release, target_date, cycle, ssvc, rationale, reason, created_at, actor
		FROM remediation_plans WHERE `+caseAndMerged("case_id", "$1")+" ORDER BY created_at, id", caseID)
	if out == nil && err == nil {
		out = []*vigil.RemediationPlan{}
	}
	return out, err
}

// AddFixRelease records a release that fixes a case. The device version it names, when VersionID is set, must be a
// version of the case's device.
func (db *DB) AddFixRelease(ctx context.Context, f *vigil.FixRelease) (err error) {
	defer vigil.Wrap(&err, "store.AddFixRelease", f.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermEvent)
	if err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		live, err := tx.caseLive(ctx, f.CaseID)
		if err != nil {
			return err
		}
		var versionID any
		if f.VersionID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM device_versions v JOIN cases c ON c.device_id = v.device_id WHERE v.id = $1 AND c.id = $2",
				f.VersionID, live).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return vigil.Errorf(vigil.EINVALID, "version: version %d is not a version of the case's device", f.VersionID)
			}
			versionID = f.VersionID
		}
		f.CaseID, f.CreatedAt, f.Actor, f.VV, f.Distribution, f.EventID = live, tx.Now(), actor.String(), nil, nil, 0
		if f.ID, err = tx.insertID(ctx, `INSERT INTO fix_releases (case_id, release_name, version_id, remediation, description, created_at, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, f.CaseID, f.Release, versionID, f.Remediation, f.Description, tx.NowText(), f.Actor); err != nil {
			return err
		}
		tx.wrote("fix_releases", f.ID)
		return tx.Audit(ctx, "remediation.fix", "case", idText(f.CaseID), nil, f, "")
	})
}

const fixCols = "id, case_id, release_name, version_id, remediation, description, vv, distributed, channel, event_id, created_at, actor, retraction, vv_retractions"

func scanFix(row interface{ Scan(...any) error }) (*vigil.FixRelease, error) {
	var f vigil.FixRelease
	var version, event sql.NullInt64
	var vv, distributed, created, retraction, vvRetractions sql.NullString
	var channel string
	if err := row.Scan(&f.ID, &f.CaseID, &f.Release, &version, &f.Remediation, &f.Description, &vv, &distributed, &channel, &event, &created, &f.Actor,
		&retraction, &vvRetractions); err != nil {
		return nil, err
	}
	if retraction.Valid {
		if err := json.Unmarshal([]byte(retraction.String), &f.Retraction); err != nil {
			return nil, fmt.Errorf("fix release %d: retraction: %w", f.ID, err)
		}
	}
	if vvRetractions.Valid {
		if err := json.Unmarshal([]byte(vvRetractions.String), &f.VVRetractions); err != nil {
			return nil, fmt.Errorf("fix release %d: vv_retractions: %w", f.ID, err)
		}
	}
	f.VersionID, f.EventID = version.Int64, event.Int64
	if vv.Valid {
		f.VV = &vigil.VVRecord{}
		if err := json.Unmarshal([]byte(vv.String), f.VV); err != nil {
			return nil, fmt.Errorf("fix release %d: vv: %w", f.ID, err)
		}
	}
	if distributed.Valid {
		d, err := vigil.ParseDate(distributed.String)
		if err != nil {
			return nil, fmt.Errorf("fix release %d: distributed: %w", f.ID, err)
		}
		f.Distribution = &vigil.Distribution{Date: d, Channel: channel}
	}
	f.CreatedAt = parseTime(created)
	return &f, nil
}

// FixRelease returns one fix release.
func (db *DB) FixRelease(ctx context.Context, id int64) (_ *vigil.FixRelease, err error) {
	defer vigil.Wrap(&err, "store.FixRelease", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryByID(ctx, db.db, scanFix, "fix release", fixCols, "fix_releases", id)
}

// FixReleases returns a case's fix releases (with those of cases merged into it; every case's for 0), oldest first.
func (db *DB) FixReleases(ctx context.Context, caseID int64) (_ []*vigil.FixRelease, err error) {
	defer vigil.Wrap(&err, "store.FixReleases", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	q, args := "SELECT "+fixCols+" FROM fix_releases ORDER BY id", []any{}
	if caseID != 0 {
		q, args = "SELECT "+fixCols+" FROM fix_releases WHERE "+caseAndMerged("case_id", "$1")+" ORDER BY id", []any{caseID}
	}
	out, err := queryAll(ctx, db.db, scanFix, q, args...)
	if out == nil && err == nil {
		out = []*vigil.FixRelease{}
	}
	return out, err
}

// fixForUpdate reads a fix release inside tx.
func (tx *Tx) fixForUpdate(ctx context.Context, id int64) (*vigil.FixRelease, error) {
	return queryByID(ctx, tx, scanFix, "fix release", fixCols, "fix_releases", id)
}

// SetVV records (or, before distribution, replaces with a reason) a fix's V&V record.
func (db *DB) SetVV(ctx context.Context, id int64, vv vigil.VVRecord, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetVV", id)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if err := vv.Validate(); err != nil {
		return err
	}
	if err := vigil.Text("reason", reason, vigil.MaxText); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		f, err := tx.fixForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if f.Distribution != nil {
			return vigil.Errorf(vigil.ECONFLICT, "fix release %d (%s) was distributed on %s: its V&V record stands", id, f.Release, f.Distribution.Date)
		}
		if f.VV != nil && strings.TrimSpace(reason) == "" {
			return vigil.Errorf(vigil.EINVALID, "reason: required: fix release %d already has a V&V record (%s, %s)", id, f.VV.Report, f.VV.Result)
		}
		if err := tx.checkDated(ctx, vv.Validated); err != nil {
			return vigil.Errorf(vigil.EINVALID, "validated: %s", strings.TrimPrefix(vigil.ErrorMessage(err), "date: "))
		}
		old := f.VV
		if _, err := tx.ExecContext(ctx, "UPDATE fix_releases SET vv = $1 WHERE id = $2", mustJSON(vv), id); err != nil {
			return err
		}
		tx.wrote("fix_releases", id)
		if err := tx.Audit(ctx, "remediation.vv", "case", idText(f.CaseID), map[string]any{"fix": id, "vv": old}, map[string]any{"fix": id, "vv": vv}, reason); err != nil {
			return err
		}
		return tx.recordAct(ctx, vigil.ActFixValidation, f.CaseID, "fix_release", id, map[string]any{"fix": id, "release": f.Release, "vv": vv})
	})
}

// SetDistribution records a fix's distribution, once: it needs a passed V&V record dated on or before it
// (820.30(g): validation comes before release).
func (db *DB) SetDistribution(ctx context.Context, id int64, d vigil.Distribution, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetDistribution", id)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if err := vigil.Text("channel", d.Channel, vigil.MaxName); err != nil {
		return err
	}
	if strings.TrimSpace(d.Channel) == "" {
		return vigil.Errorf(vigil.EINVALID, "channel: required (service bulletin, remote update, field service, ...)")
	}
	return db.transact(ctx, func(tx *Tx) error {
		f, err := tx.fixForUpdate(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case f.Distribution != nil:
			return vigil.Errorf(vigil.ECONFLICT, "fix release %d (%s) was already distributed on %s", id, f.Release, f.Distribution.Date)
		case f.VV == nil:
			return vigil.Errorf(vigil.EINVALID, "fix release %d (%s) has no V&V record: validate it first (21 CFR 820.30(g))", id, f.Release)
		case f.VV.Result != vigil.VVPassed:
			return vigil.Errorf(vigil.EINVALID, "fix release %d (%s): its V&V %s: a fix is distributed only once validated", id, f.Release, f.VV.Result)
		case d.Date.Before(f.VV.Validated):
			return vigil.Errorf(vigil.EINVALID, "date: %s is before the fix was validated (%s)", d.Date, f.VV.Validated)
		}
		if err := tx.checkDated(ctx, d.Date); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE fix_releases SET distributed = $1, channel = $2 WHERE id = $3", d.Date.String(), d.Channel, id); err != nil {
			return err
		}
		tx.wrote("fix_releases", id)
		return tx.Audit(ctx, "remediation.distribute", "case", idText(f.CaseID), nil, map[string]any{"fix": id, "distribution": d}, reason)
	})
}

// SetFixEvent links a distributed fix to the fix_distributed event of its case that records it, once.
func (db *DB) SetFixEvent(ctx context.Context, id, eventID int64) (err error) {
	defer vigil.Wrap(&err, "store.SetFixEvent", id)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		f, err := tx.fixForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if f.EventID != 0 {
			return vigil.Errorf(vigil.ECONFLICT, "fix release %d already records event E%d", id, f.EventID)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM case_events WHERE id = $1 AND case_id = $2 AND type = 'fix_distributed'", eventID, f.CaseID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return vigil.Errorf(vigil.EINVALID, "event: E%d is not a fix_distributed event of case %d", eventID, f.CaseID)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE fix_releases SET event_id = $1 WHERE id = $2", eventID, id); err != nil {
			return err
		}
		tx.wrote("fix_releases", id)
		return tx.Audit(ctx, "remediation.event", "case", idText(f.CaseID), nil, map[string]any{"fix": id, "event": eventID}, "")
	})
}

// RetractFix withdraws a fix release, once, with a reason; it returns the case event its distribution recorded.
func (db *DB) RetractFix(ctx context.Context, id int64, reason string) (event int64, err error) {
	defer vigil.Wrap(&err, "store.RetractFix", id)
	return db.retractOnFix(ctx, id, reason, func(tx *Tx, f *vigil.FixRelease, r vigil.FixRetraction) error {
		if f.Retraction != nil {
			return vigil.Errorf(vigil.ECONFLICT, "fix release %d (%s) was retracted already: %s", id, f.Release, f.Retraction.Reason)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE fix_releases SET retraction = $1 WHERE id = $2", mustJSON(r), id); err != nil {
			return err
		}
		tx.wrote("fix_releases", id)
		return tx.Audit(ctx, "remediation.fix_retract", "case", idText(f.CaseID), map[string]any{"fix": id}, map[string]any{"fix": id, "retraction": r}, reason)
	})
}

// RetractVV withdraws a fix's V&V record with a reason, keeping it in vv_retractions, and unlinks the case event
// the fix's distribution recorded (returned): that event said the fix was validated.
func (db *DB) RetractVV(ctx context.Context, id int64, reason string) (event int64, err error) {
	defer vigil.Wrap(&err, "store.RetractVV", id)
	return db.retractOnFix(ctx, id, reason, func(tx *Tx, f *vigil.FixRelease, r vigil.FixRetraction) error {
		if f.VV == nil {
			return vigil.Errorf(vigil.EINVALID, "fix release %d (%s) has no V&V record to retract", id, f.Release)
		}
		r.VV = f.VV
		all := append(f.VVRetractions, r)
		if _, err := tx.ExecContext(ctx, "UPDATE fix_releases SET vv = NULL, vv_retractions = $1, event_id = NULL WHERE id = $2", mustJSON(all), id); err != nil {
			return err
		}
		tx.wrote("fix_releases", id)
		return tx.Audit(ctx, "remediation.vv_retract", "case", idText(f.CaseID), map[string]any{"fix": id, "vv": f.VV, "event": f.EventID},
			map[string]any{"fix": id, "vv": nil, "retraction": r}, reason)
	})
}

// retractOnFix runs a retraction on fix release id (the release, or its V&V record) as one who may assess, with a
// reason: retract gets the fix locked for update and the retraction to keep (reason, time, actor), and writes and
// audits it. It returns the case event the fix's distribution recorded.
func (db *DB) retractOnFix(ctx context.Context, id int64, reason string, retract func(tx *Tx, f *vigil.FixRelease, r vigil.FixRetraction) error) (event int64, err error) {
	actor, err := vigil.Authorize(ctx, vigil.PermAssess)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(reason) == "" {
		return 0, vigil.Errorf(vigil.EINVALID, "reason: required: why the record is withdrawn")
	}
	if err := vigil.Text("reason", reason, vigil.MaxText); err != nil {
		return 0, err
	}
	err = db.transact(ctx, func(tx *Tx) error {
		f, err := tx.fixForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := retract(tx, f, vigil.FixRetraction{Reason: strings.TrimSpace(reason), At: tx.Now(), Actor: actor.String()}); err != nil {
			return err
		}
		event = f.EventID
		return nil
	})
	return event, err
}

// AddDeployment appends a deployment report. The consignee must hold units of the version, and the report cannot
// count more units updated than it holds.
func (db *DB) AddDeployment(ctx context.Context, d *vigil.Deployment) (err error) {
	defer vigil.Wrap(&err, "store.AddDeployment", d.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermEvent)
	if err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if err := vigil.OneOf("source", d.Source, []string{vigil.DeploymentReported}); err != nil {
		return err // sbom deployments are derived from the version's SBOM, never stored
	}
	return db.transact(ctx, func(tx *Tx) error {
		live, err := tx.caseLive(ctx, d.CaseID)
		if err != nil {
			return err
		}
		if err := tx.checkDated(ctx, d.Date); err != nil {
			return err
		}
		var held sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT SUM(units) FROM consignee_units WHERE consignee_id = $1 AND version_id = $2", d.ConsigneeID, d.VersionID).Scan(&held); err != nil {
			return err
		}
		if !held.Valid {
			return vigil.Errorf(vigil.EINVALID, "consignee: consignee %d holds no units of version %d (consignee update ... --units)", d.ConsigneeID, d.VersionID)
		}
		if int64(d.Units) > held.Int64 {
			return vigil.Errorf(vigil.EINVALID, "units: %d updated, but consignee %d holds %d unit(s) of version %d", d.Units, d.ConsigneeID, held.Int64, d.VersionID)
		}
		d.CaseID, d.CreatedAt, d.Actor = live, tx.Now(), actor.String()
		if d.ID, err = tx.insertID(ctx, `INSERT INTO remediation_deployments (case_id, consignee_id, version_id, date, units, source, note, created_at, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, d.CaseID, d.ConsigneeID, d.VersionID, d.Date.String(), d.Units, d.Source, d.Note, tx.NowText(), d.Actor); err != nil {
			return err
		}
		tx.wrote("remediation_deployments", d.ID)
		return tx.Audit(ctx, "remediation.deployment", "case", idText(d.CaseID), nil, d, d.Note)
	})
}

// Deployments returns a case's deployment reports (with those of cases merged into it), by date then entry, with
// the consignee's and the version's names.
func (db *DB) Deployments(ctx context.Context, caseID int64) (_ []*vigil.Deployment, err error) {
	defer vigil.Wrap(&err, "store.Deployments", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	out, err := queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (*vigil.Deployment, error) {
		var d vigil.Deployment
		var date string
		var created sql.NullString
		if err := row.Scan(&d.ID, &d.CaseID, &d.ConsigneeID, &d.Consignee, &d.VersionID, &d.Version, &date, &d.Units, &d.Source, &d.Note, &created, &d.Actor); err != nil {
			return nil, err
		}
		d.Date, _ = vigil.ParseDate(date)
		d.CreatedAt = parseTime(created)
		return &d, nil
	}, `SELECT r.id, r.case_id, r.consignee_id, c.name, r.version_id, v.version, r.date, r.units, r.source, r.note, r.created_at, r.actor
		FROM remediation_deployments r JOIN consignees c ON c.id = r.consignee_id JOIN device_versions v ON v.id = r.version_id
		WHERE `+caseAndMerged("r.case_id", "$1")+" ORDER BY r.date, r.id", caseID)
	if out == nil && err == nil {
		out = []*vigil.Deployment{}
	}
	return out, err
}
