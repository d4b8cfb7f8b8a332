package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// The intake queue's storage: reports, their threads, attachments (kept in the database, never in a directory a
// web server serves), triage links, and the published CVD policy. The intake service decides every step; the
// store checks who may write as a second line: the public (a reporter actor) may only file a researcher's report
// and answer its own thread through the follow-up token's hash, which the store looks up itself.

const reportCols = `id, source, status, resolution, device_id, product, version, title, description, impact, steps, cvss,
	reporter_name, reporter_email, disclosure, embargo_requested, credit, reference, signal_id, received_at, received_on, ack_due,
	acknowledged_at, token_hash IS NOT NULL, created_at, updated_at`

func scanReport(row interface{ Scan(...any) error }) (*vigil.Report, error) {
	var r vigil.Report
	var dev, sig sql.NullInt64
	var embargo, recv, recvOn, due, acked, c, u sql.NullString
	if err := row.Scan(&r.ID, &r.Source, &r.Status, &r.Resolution, &dev, &r.Product, &r.Version, &r.Title, &r.Description, &r.Impact,
		&r.Steps, &r.CVSS, &r.ReporterName, &r.ReporterEmail, &r.Disclosure, &embargo, &r.Credit, &r.Reference, &sig, &recv, &recvOn,
		&due, &acked, &r.LinkActive, &c, &u); err != nil {
		return nil, err
	}
	r.Number = vigil.ReportNumber(r.ID)
	r.DeviceID, r.SignalID = dev.Int64, sig.Int64
	r.EmbargoRequested = parseDate(embargo)
	r.Received, r.Acknowledged, r.CreatedAt, r.UpdatedAt = parseTime(recv), parseTime(acked), parseTime(c), parseTime(u)
	if d := parseDate(recvOn); d != nil {
		r.ReceivedOn = *d
	}
	if d := parseDate(due); d != nil {
		r.AckDue = *d
	}
	r.Links, r.Attachments, r.Coordination = []vigil.ReportLink{}, []vigil.AttachmentMeta{}, []*vigil.CaseDisclosure{}
	return &r, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// mayFile says whether the context's actor may file a report from source: anyone acting as a reporter files a
// researcher's report; every other source, and filing on someone's behalf, needs PermIntake.
func mayFile(ctx context.Context, source vigil.ReportSource) error {
	if a, ok := vigil.ActorFrom(ctx); ok && a.Role == vigil.RoleReporter {
		if source != vigil.ReportResearcher {
			return vigil.Errorf(vigil.EFORBIDDEN, "a reporter files researcher reports only")
		}
		return nil
	}
	_, err := vigil.Authorize(ctx, vigil.PermIntake)
	return err
}

// CreateReport files r with its attachments and, when tokenHash is not empty, its follow-up link. A researcher's
// report is refused with EUNAVAILABLE when queueCap reports from researchers already wait for an acknowledgement:
// the count and the insert are one transaction, so a burst cannot overshoot the cap. A report from a signal that
// already has one is ECONFLICT. Nothing is stored when any part fails.
func (db *DB) CreateReport(ctx context.Context, r *vigil.Report, atts []vigil.Attachment, tokenHash string, queueCap int) (err error) {
	defer vigil.Wrap(&err, "store.CreateReport", r.Title)
	if err := mayFile(ctx, r.Source); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if r.Source == vigil.ReportResearcher && queueCap > 0 {
			// Serialize submitters so that two cannot both see room for the last place.
			if err := tx.db.dialect.lock(ctx, tx, intakeLock); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM intake_reports WHERE source = $1 AND status = $2",
				vigil.ReportResearcher, vigil.ReportReceived).Scan(&n); err != nil {
				return err
			}
			if n >= queueCap {
				return vigil.Errorf(vigil.EUNAVAILABLE, "the report queue is full (%d reports wait for an acknowledgement): try again later, or write to the contact in /.well-known/security.txt", n)
			}
		}
		if r.DeviceID != 0 {
			var name string
			err := tx.QueryRowContext(ctx, "SELECT name FROM devices WHERE id = $1", r.DeviceID).Scan(&name)
			if errors.Is(err, sql.ErrNoRows) {
				return vigil.Errorf(vigil.EINVALID, "device_id: device %d does not exist", r.DeviceID)
			} else if err != nil {
				return err
			}
			if r.Product == "" {
				r.Product = name
			}
		}
		var hash any
		if tokenHash != "" {
			hash = tokenHash
		}
		r.Status, r.CreatedAt, r.UpdatedAt, r.LinkActive = vigil.ReportReceived, tx.Now(), tx.Now(), tokenHash != ""
		id, err := tx.insertID(ctx, `INSERT INTO intake_reports (source, status, device_id, product, version, title, description, impact,
			steps, cvss, reporter_name, reporter_email, disclosure, embargo_requested, credit, reference, signal_id, received_at, received_on,
			ack_due, token_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22)`,
			r.Source, r.Status, nullID(r.DeviceID), r.Product, r.Version, r.Title, r.Description, r.Impact, r.Steps, r.CVSS, r.ReporterName,
			r.ReporterEmail, r.Disclosure, dateText(r.EmbargoRequested), r.Credit, r.Reference, nullID(r.SignalID), timeText(r.Received),
			r.ReceivedOn.String(), r.AckDue.String(), hash, tx.NowText())
		if err != nil {
			if vigil.ErrorCode(err) == vigil.ECONFLICT && r.SignalID != 0 {
				return vigil.Errorf(vigil.ECONFLICT, "signal %d already has a report", r.SignalID)
			}
			return err
		}
		r.ID, r.Number = id, vigil.ReportNumber(id)
		r.Links, r.Attachments, r.Coordination = []vigil.ReportLink{}, []vigil.AttachmentMeta{}, []*vigil.CaseDisclosure{}
		for i := range atts {
			a := &atts[i]
			a.Size = int64(len(a.Data))
			a.ID, err = tx.insertID(ctx, `INSERT INTO intake_attachments (report_id, name, content_type, size, sha256, data, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, a.Name, a.ContentType, a.Size, a.SHA256, a.Data, tx.NowText())
			if err != nil {
				return err
			}
			r.Attachments = append(r.Attachments, a.AttachmentMeta)
		}
		tx.wrote("intake_reports", id)
		return tx.Audit(ctx, "intake.report.create", "report", idText(id), nil, r, "")
	})
}

// Reports lists reports matching f: those awaiting acknowledgement first, soonest due (then oldest) first, then
// the rest newest first.
func (db *DB) Reports(ctx context.Context, f vigil.ReportFilter) (_ []*vigil.Report, err error) {
	defer vigil.Wrap(&err, "store.Reports", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		var in []string
		for _, s := range f.Statuses {
			args = append(args, s)
			in = append(in, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, "status IN ("+strings.Join(in, ", ")+")")
	}
	if f.Source != "" {
		args = append(args, f.Source)
		where = append(where, fmt.Sprintf("source = $%d", len(args)))
	}
	if f.CaseID != 0 {
		args = append(args, f.CaseID)
		p := fmt.Sprintf("$%d", len(args))
		where = append(where, "id IN (SELECT l.report_id FROM intake_links l WHERE l.kind = 'case' AND "+caseAndMerged("l.target_id", p)+
			" OR l.kind = 'finding' AND l.target_id IN (SELECT f.id FROM findings f WHERE f.case_id = "+p+"))")
	}
	q := "SELECT " + reportCols + " FROM intake_reports"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	q += fmt.Sprintf(" ORDER BY CASE WHEN status = 'received' THEN 0 ELSE 1 END, CASE WHEN status = 'received' THEN ack_due END, CASE WHEN status = 'received' THEN id ELSE -id END LIMIT %d", limit)
	out, err := queryAll(ctx, db.db, scanReport, q, args...)
	if out == nil {
		out = []*vigil.Report{}
	}
	return out, err
}

// Report returns one report with its links and attachments (without their bytes).
func (db *DB) Report(ctx context.Context, id int64) (_ *vigil.Report, err error) {
	defer vigil.Wrap(&err, "store.Report", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return db.loadReport(ctx, db.db, "id = $1", id)
}

// rowQuerier is the pool or a transaction.
type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (db *DB) loadReport(ctx context.Context, q rowQuerier, where string, arg any) (*vigil.Report, error) {
	r, err := scanReport(q.QueryRowContext(ctx, "SELECT "+reportCols+" FROM intake_reports WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("report", arg)
	} else if err != nil {
		return nil, err
	}
	err = eachRow(ctx, q, "SELECT kind, target_id FROM intake_links WHERE report_id = $1 ORDER BY kind, target_id", []any{r.ID}, func(rows *sql.Rows) error {
		var l vigil.ReportLink
		if err := rows.Scan(&l.Kind, &l.ID); err != nil {
			return err
		}
		r.Links = append(r.Links, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, q, "SELECT id, name, content_type, size, sha256 FROM intake_attachments WHERE report_id = $1 ORDER BY id", []any{r.ID}, func(rows *sql.Rows) error {
		var a vigil.AttachmentMeta
		if err := rows.Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256); err != nil {
			return err
		}
		r.Attachments = append(r.Attachments, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The coordination of each case the report reached, directly or through a finding, as the case that absorbed
	// it by a merge has it.
	ids, err := queryAll(ctx, q, scanID, `SELECT DISTINCT COALESCE(c.merged_into, c.id) FROM cases c WHERE c.id IN (
		SELECT l.target_id FROM intake_links l WHERE l.report_id = $1 AND l.kind = 'case'
		UNION SELECT f.case_id FROM intake_links l JOIN findings f ON f.id = l.target_id WHERE l.report_id = $1 AND l.kind = 'finding')`, r.ID)
	if err != nil {
		return nil, err
	}
	for _, caseID := range ids {
		ds, err := caseDisclosures(ctx, q, caseID)
		if err != nil {
			return nil, err
		}
		if len(ds) > 0 {
			r.Coordination = append(r.Coordination, ds[len(ds)-1])
		}
	}
	slices.SortFunc(r.Coordination, func(a, b *vigil.CaseDisclosure) int { return cmp.Compare(a.CaseID, b.CaseID) })
	return r, nil
}

func scanMessage(row interface{ Scan(...any) error }) (vigil.ReportMessage, error) {
	var m vigil.ReportMessage
	var at sql.NullString
	err := row.Scan(&m.ID, &m.ReportID, &m.From, &m.Author, &m.Status, &m.Body, &at)
	m.At = parseTime(at)
	return m, err
}

const messageCols = "id, report_id, sender, author, status, body, created_at"

// ReportMessages returns a report's thread, oldest first.
func (db *DB) ReportMessages(ctx context.Context, id int64) (_ []vigil.ReportMessage, err error) {
	defer vigil.Wrap(&err, "store.ReportMessages", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	out, err := queryAll(ctx, db.db, scanMessage, "SELECT "+messageCols+" FROM intake_messages WHERE report_id = $1 ORDER BY id", id)
	if out == nil {
		out = []vigil.ReportMessage{}
	}
	return out, err
}

// FollowReport returns the report whose follow-up token hashes to tokenHash, with its thread. The hash is the
// credential, so no actor is needed; ENOTFOUND for an unknown or revoked link.
func (db *DB) FollowReport(ctx context.Context, tokenHash string) (_ *vigil.Report, _ []vigil.ReportMessage, err error) {
	defer vigil.Wrap(&err, "store.FollowReport", nil)
	if tokenHash == "" {
		return nil, nil, notFound("report link", "")
	}
	r, err := db.loadReport(ctx, db.db, "token_hash = $1", tokenHash)
	if err != nil {
		return nil, nil, err
	}
	ms, err := queryAll(ctx, db.db, scanMessage, "SELECT "+messageCols+" FROM intake_messages WHERE report_id = $1 ORDER BY id", r.ID)
	if ms == nil {
		ms = []vigil.ReportMessage{}
	}
	return r, ms, err
}

// ReporterReply adds the reporter's message to the report whose link hashes to tokenHash. A closed report takes
// no more messages, and a reporter may add at most vigil.MaxReporterMessages to one report (EINVALID beyond).
func (db *DB) ReporterReply(ctx context.Context, tokenHash, body string) (err error) {
	defer vigil.Wrap(&err, "store.ReporterReply", nil)
	if err := vigil.Text("message", body, vigil.MaxReportText); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		var id int64
		var status vigil.ReportStatus
		err := tx.QueryRowContext(ctx, "SELECT id, status FROM intake_reports WHERE token_hash = $1", tokenHash).Scan(&id, &status)
		if errors.Is(err, sql.ErrNoRows) || tokenHash == "" {
			return vigil.Errorf(vigil.EUNAUTHORIZED, "this follow-up link is not valid (it may have been revoked)")
		} else if err != nil {
			return err
		}
		if status == vigil.ReportClosed {
			return vigil.Errorf(vigil.ECONFLICT, "report %s is closed: write to the contact in /.well-known/security.txt", vigil.ReportNumber(id))
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM intake_messages WHERE report_id = $1 AND sender = $2", id, vigil.FromReporter).Scan(&n); err != nil {
			return err
		}
		if n >= vigil.MaxReporterMessages {
			return vigil.Errorf(vigil.EINVALID, "message: report %s already has %d messages from you, the most it takes", vigil.ReportNumber(id), n)
		}
		m := vigil.ReportMessage{ReportID: id, From: vigil.FromReporter, Body: body, At: tx.Now()}
		if m.ID, err = tx.insertMessage(ctx, m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE intake_reports SET updated_at = $1 WHERE id = $2", tx.NowText(), id); err != nil {
			return err
		}
		tx.wrote("intake_reports", id)
		return tx.Audit(ctx, "intake.reply", "report", idText(id), nil, m, "")
	})
}

func (tx *Tx) insertMessage(ctx context.Context, m vigil.ReportMessage) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO intake_messages (report_id, sender, author, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
		m.ReportID, m.From, m.Author, m.Status, m.Body, tx.NowText())
}

// linkTables are the tables a triage link may point into.
var linkTables = map[string]string{vigil.LinkFinding: "findings", vigil.LinkCase: "cases"}

// ChangeReport applies one PSIRT write to a report (see vigil.ReportChange). Needs PermIntake. ECONFLICT when
// the report is no longer in ch.From; EINVALID naming links[i] when a linked finding or case does not exist.
func (db *DB) ChangeReport(ctx context.Context, id int64, ch vigil.ReportChange) (err error) {
	defer vigil.Wrap(&err, "store.ChangeReport", id)
	a, err := vigil.Authorize(ctx, vigil.PermIntake)
	if err != nil {
		return err
	}
	if err := vigil.Text("message", ch.Message, vigil.MaxReportText); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := db.loadReport(ctx, tx, "id = $1", id)
		if err != nil {
			return err
		}
		if old.Status != ch.From {
			return vigil.Errorf(vigil.ECONFLICT, "report %s is %s now, not %s: reload it", old.Number, old.Status, ch.From)
		}
		set := []string{"status = $1", "updated_at = $2"}
		args := []any{ch.To, tx.NowText()}
		if ch.To == vigil.ReportAcknowledged && old.Acknowledged.IsZero() {
			args = append(args, tx.NowText())
			set = append(set, fmt.Sprintf("acknowledged_at = $%d", len(args)))
		}
		if ch.Resolution != "" {
			args = append(args, ch.Resolution)
			set = append(set, fmt.Sprintf("resolution = $%d", len(args)))
		}
		if ch.SetToken {
			var h any
			if ch.TokenHash != "" {
				h = ch.TokenHash
			}
			args = append(args, h)
			set = append(set, fmt.Sprintf("token_hash = $%d", len(args)))
		}
		args = append(args, id)
		if _, err := tx.ExecContext(ctx, "UPDATE intake_reports SET "+strings.Join(set, ", ")+fmt.Sprintf(" WHERE id = $%d", len(args)), args...); err != nil {
			return err
		}
		for i, l := range ch.Links {
			table, ok := linkTables[l.Kind]
			if !ok {
				return vigil.Errorf(vigil.EINVALID, "links[%d].kind: %q is not one of %s", i, l.Kind, strings.Join(linkKinds(), ", "))
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id = $1", l.ID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return vigil.Errorf(vigil.EINVALID, "links[%d]: %s %d does not exist", i, l.Kind, l.ID)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO intake_links (report_id, kind, target_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
				id, l.Kind, l.ID, tx.NowText()); err != nil {
				return err
			}
		}
		if ch.Message != "" || ch.To != ch.From {
			m := vigil.ReportMessage{ReportID: id, From: vigil.FromPSIRT, Author: a.Name, Body: ch.Message}
			if ch.To != ch.From {
				m.Status = ch.To
			}
			if _, err := tx.insertMessage(ctx, m); err != nil {
				return err
			}
		}
		now, err := db.loadReport(ctx, tx, "id = $1", id)
		if err != nil {
			return err
		}
		tx.wrote("intake_reports", id)
		return tx.Audit(ctx, ch.Action, "report", idText(id), old, struct {
			*vigil.Report
			Message string `json:"message,omitempty"`
		}{now, ch.Message}, ch.Reason)
	})
}

func linkKinds() []string {
	out := slices.Collect(maps.Keys(linkTables))
	slices.Sort(out)
	return out
}

// Attachment returns one attachment of a report with its bytes.
func (db *DB) Attachment(ctx context.Context, reportID, attachmentID int64) (_ *vigil.Attachment, err error) {
	defer vigil.Wrap(&err, "store.Attachment", attachmentID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var a vigil.Attachment
	err = db.db.QueryRowContext(ctx, "SELECT id, name, content_type, size, sha256, data FROM intake_attachments WHERE report_id = $1 AND id = $2",
		reportID, attachmentID).Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("attachment", attachmentID)
	}
	return &a, err
}

// CVDPolicy returns the first organization's published CVD policy. It needs no actor: it is what security.txt and
// the public policy page publish. ENOTFOUND when there is no organization yet.
func (db *DB) CVDPolicy(ctx context.Context) (_ *vigil.CVDPolicy, err error) {
	defer vigil.Wrap(&err, "store.CVDPolicy", nil)
	var p vigil.CVDPolicy
	var orgID int64
	var orgPolicy string
	err = db.db.QueryRowContext(ctx, "SELECT id, name, time_zone, cvd_contact, cvd_ack_days, policy FROM orgs ORDER BY id LIMIT 1").
		Scan(&orgID, &p.OrgName, &p.TimeZone, &p.Contact, &p.AckDays, &orgPolicy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "no organization yet: create it first (vigil org create)")
	} else if err != nil {
		return nil, err
	}
	var op vigil.OrgPolicy
	if err := json.Unmarshal([]byte(orgPolicy), &op); err != nil {
		return nil, fmt.Errorf("orgs.policy: %w", err)
	}
	p.WorkingDays = op.WorkingDays
	var expires, updated sql.NullString
	var langs string
	err = db.db.QueryRowContext(ctx, "SELECT expires, languages, base_url, statement, queue_cap, updated_at FROM intake_policy WHERE org_id = $1", orgID).
		Scan(&expires, &langs, &p.BaseURL, &p.Statement, &p.QueueCap, &updated)
	p.Languages = []string{}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &p, nil
	case err != nil:
		return nil, err
	}
	p.Expires, p.UpdatedAt = parseTime(expires), parseTime(updated)
	if err := json.Unmarshal([]byte(langs), &p.Languages); err != nil {
		return nil, fmt.Errorf("intake_policy.languages: %w", err)
	}
	return &p, nil
}

// SetCVDPolicy stores the intake side of the CVD policy (expiry, languages, base URL, statement, queue cap) for
// the first organization; the contact and acknowledgement days are the organization's own settings. Needs
// PermPortfolio.
func (db *DB) SetCVDPolicy(ctx context.Context, p *vigil.CVDPolicy, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetCVDPolicy", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	old, err := db.CVDPolicy(ctx)
	if err != nil {
		return err
	}
	if p.Languages == nil {
		p.Languages = []string{}
	}
	return db.transact(ctx, func(tx *Tx) error {
		var orgID int64
		if err := tx.QueryRowContext(ctx, "SELECT id FROM orgs ORDER BY id LIMIT 1").Scan(&orgID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM intake_policy WHERE org_id = $1", orgID); err != nil {
			return err
		}
		p.UpdatedAt = tx.Now()
		if _, err := tx.ExecContext(ctx, "INSERT INTO intake_policy (org_id, expires, languages, base_url, statement, queue_cap, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			orgID, timeText(p.Expires), mustJSON(p.Languages), p.BaseURL, p.Statement, p.QueueCap, tx.NowText()); err != nil {
			return err
		}
		tx.wrote("orgs", orgID)
		return tx.Audit(ctx, "intake.policy", "organization", idText(orgID), old, p, reason)
	})
}

// MarketedProducts lists the devices with a marketed or fielded version, by name: what the public report page offers
// to pick. It needs no actor: a device's name is on its label.
func (db *DB) MarketedProducts(ctx context.Context) (_ []vigil.ReportProduct, err error) {
	defer vigil.Wrap(&err, "store.MarketedProducts", nil)
	out, err := queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (vigil.ReportProduct, error) {
		var p vigil.ReportProduct
		return p, row.Scan(&p.ID, &p.Name)
	}, "SELECT d.id, d.name FROM devices d WHERE EXISTS (SELECT 1 FROM device_versions v WHERE v.device_id = d.id AND v.status IN ($1, $2)) ORDER BY d.name",
		vigil.VersionMarketed, vigil.VersionFielded)
	if out == nil {
		out = []vigil.ReportProduct{}
	}
	return out, err
}

// UnreportedSignals lists the cybersecurity signals (a CSAF advisory naming one of our devices) that no report
// has been filed for yet, oldest first, at most limit.
func (db *DB) UnreportedSignals(ctx context.Context, limit int) (_ []*vigil.Signal, err error) {
	defer vigil.Wrap(&err, "store.UnreportedSignals", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	out := []*vigil.Signal{}
	err = eachRow(ctx, db.db, `SELECT s.id, s.device_id, d.name, s.document, s.vuln, s.release_date, s.matched_by, s.matched, s.created_at
		FROM intel_signals s JOIN devices d ON d.id = s.device_id
		WHERE NOT EXISTS (SELECT 1 FROM intake_reports r WHERE r.signal_id = s.id) ORDER BY s.id LIMIT $1`, []any{limit}, func(rows *sql.Rows) error {
		var sg vigil.Signal
		var rel string
		var at sql.NullString
		if err := rows.Scan(&sg.ID, &sg.DeviceID, &sg.Device, &sg.Document, &sg.Vuln, &rel, &sg.MatchedBy, &sg.Matched, &at); err != nil {
			return err
		}
		sg.ReleaseDate, _ = vigil.ParseDate(rel)
		sg.CreatedAt = parseTime(at)
		out = append(out, &sg)
		return nil
	})
	return out, err
}
