package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// AddRegRecord appends a regulatory record. A RegPart806Report takes the next sequence number of its date's year
// and its report number from the organization's establishment registration number, in the same transaction (the
// unique index on the sequence refuses a concurrent filing that read the same maximum; the retry reads again); an
// amendment carries the number of the report it amends.
func (db *DB) AddRegRecord(ctx context.Context, r *vigil.RegRecord, reason string) (err error) {
	defer vigil.Wrap(&err, "store.AddRegRecord", r.Kind)
	return db.addRegRecord(ctx, r, reason, nil)
}

// AddFiledRecord is AddRegRecord for a record whose filing is also a case event (an 806 report marked filed
// records part806_filed): filed makes the event from the record as numbered, and the record, its signature and
// the event are written in one transaction, so that a failure leaves neither. Needs PermReport and PermEvent.
func (db *DB) AddFiledRecord(ctx context.Context, r *vigil.RegRecord, reason string, filed func(*vigil.RegRecord) *vigil.CaseEvent) (err error) {
	defer vigil.Wrap(&err, "store.AddFiledRecord", r.Kind)
	return db.addRegRecord(ctx, r, reason, filed)
}

func (db *DB) addRegRecord(ctx context.Context, r *vigil.RegRecord, reason string, filed func(*vigil.RegRecord) *vigil.CaseEvent) error {
	actor, err := vigil.Authorize(ctx, vigil.PermReport)
	if err != nil {
		return err
	}
	if err := vigil.OneOf("kind", r.Kind, vigil.RegRecordKinds); err != nil {
		return err
	}
	if r.Date.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "date: required")
	}
	if len(r.Body) == 0 || len(r.Body) > 1<<20 {
		return vigil.Errorf(vigil.EINVALID, "body: required, at most 1 MiB of JSON")
	}
	return db.transact(ctx, func(tx *Tx) error {
		if r.CaseID != 0 {
			live, err := tx.caseLive(ctx, r.CaseID)
			if err != nil {
				return err
			}
			r.CaseID = live
		}
		if r.DeviceID != 0 {
			var one int
			if err := tx.QueryRowContext(ctx, "SELECT 1 FROM devices WHERE id = $1", r.DeviceID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return notFound("device", r.DeviceID)
			} else if err != nil {
				return err
			}
		}
		var year, seq any
		switch r.Kind {
		case vigil.RegPart806Report:
			var regNo string
			var no sql.NullString
			if err := tx.QueryRowContext(ctx, "SELECT registration_number FROM orgs ORDER BY id LIMIT 1").Scan(&no); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if regNo = strings.TrimSpace(no.String); regNo == "" {
				return vigil.Errorf(vigil.ECONFLICT, "registration_number: the organization has no FDA establishment registration number, which the 806 report number starts with: set it first (vigil org update --registration NUMBER, or the settings page)")
			}
			r.ReportYear = r.Date.Time().Year()
			var max sql.NullInt64
			if err := tx.QueryRowContext(ctx, "SELECT MAX(report_seq) FROM regdoc_records WHERE kind = $1 AND report_year = $2", vigil.RegPart806Report, r.ReportYear).Scan(&max); err != nil {
				return err
			}
			r.ReportSeq = int(max.Int64) + 1
			r.ReportNumber = vigil.Part806Number(regNo, r.Date, r.ReportSeq)
			year, seq = r.ReportYear, r.ReportSeq
		case vigil.RegPart806Amendment:
			var kind string
			if err := tx.QueryRowContext(ctx, "SELECT kind, report_number FROM regdoc_records WHERE id = $1", r.Amends).Scan(&kind, &r.ReportNumber); errors.Is(err, sql.ErrNoRows) || err == nil && kind != vigil.RegPart806Report {
				return vigil.Errorf(vigil.EINVALID, "amends: %d is not a filed 806 report", r.Amends)
			} else if err != nil {
				return err
			}
		}
		r.CreatedAt, r.Actor = tx.Now(), actor.String()
		id, err := tx.insertID(ctx, `INSERT INTO regdoc_records (kind, case_id, device_id, report_number, report_year, report_seq, amends, date, body, created_at, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			r.Kind, nullID(r.CaseID), nullID(r.DeviceID), r.ReportNumber, year, seq, nullID(r.Amends), r.Date.String(), string(r.Body), tx.NowText(), r.Actor)
		if err != nil {
			return err
		}
		r.ID = id
		tx.wrote("regdoc_records", id)
		obj, objID := "device", idText(r.DeviceID)
		if r.CaseID != 0 {
			obj, objID = "case", idText(r.CaseID)
		} else if r.DeviceID == 0 {
			obj, objID = "org", ""
		}
		if err := tx.Audit(ctx, "regdoc."+r.Kind, obj, objID, nil, r, reason); err != nil {
			return err
		}
		if _, err := tx.signAct(ctx, "regdoc_record", id); err != nil || filed == nil {
			return err
		}
		return tx.addCaseEvent(ctx, filed(r))
	})
}

// RegRecords lists regulatory records, oldest first; a case's include those of cases merged into it.
func (db *DB) RegRecords(ctx context.Context, f vigil.RegRecordFilter) (_ []*vigil.RegRecord, err error) {
	defer vigil.Wrap(&err, "store.RegRecords", f.Kind)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + idText(int64(len(args)))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.CaseID != 0 {
		where = append(where, caseAndMerged("case_id", arg(f.CaseID)))
	}
	if f.DeviceID != 0 {
		where = append(where, "device_id = "+arg(f.DeviceID))
	}
	q := "SELECT id, kind, case_id, device_id, report_number, report_year, report_seq, amends, date, body, created_at, actor FROM regdoc_records"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (*vigil.RegRecord, error) {
		var r vigil.RegRecord
		var caseID, deviceID, amends, year, seq sql.NullInt64
		var date, body string
		var created sql.NullString
		if err := row.Scan(&r.ID, &r.Kind, &caseID, &deviceID, &r.ReportNumber, &year, &seq, &amends, &date, &body, &created, &r.Actor); err != nil {
			return nil, err
		}
		r.CaseID, r.DeviceID, r.Amends = caseID.Int64, deviceID.Int64, amends.Int64
		r.ReportYear, r.ReportSeq = int(year.Int64), int(seq.Int64)
		r.Date, _ = vigil.ParseDate(date)
		r.Body = []byte(body)
		r.CreatedAt = parseTime(created)
		return &r, nil
	}, q+" ORDER BY id", args...)
}

// RecordDocument appends the generation of a document to the audit trail: no table changes, the event is the
// record (report.generate on the case, device or organization it is about).
func (db *DB) RecordDocument(ctx context.Context, g vigil.DocumentGenerated) (err error) {
	defer vigil.Wrap(&err, "store.RecordDocument", g.Kind)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return err
	}
	obj, id, _ := strings.Cut(g.Object, " ")
	if !slices.Contains([]string{"case", "device", "org"}, obj) {
		return vigil.Errorf(vigil.EINVALID, "object: %q: want case N, device N or org", g.Object)
	}
	return db.transact(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, "report.generate", obj, id, nil, g, "")
	})
}
