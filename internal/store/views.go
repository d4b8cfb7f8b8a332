package store

// This file holds the read models of the screens: the audit trail's head and changes (which the screens' cache
// follows), pages and counts of findings with their device, version and latest assessment, and the portfolio-wide
// aggregates of the dashboard. They are read-only. Like the store's other reads for people (Events, the
// intelligence), each method requires vigil.PermRead; the caller decides what to show beyond that. The SQL here
// runs unchanged on both engines, through the pool's statement cache on SQLite.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/regulatory"
)

// AuditHead returns the sequence number of the newest audit event (0 on an empty trail). Every write appends an
// event in its own transaction, so the head moves with every change to the store.
func (db *DB) AuditHead(ctx context.Context) (_ int64, err error) {
	defer vigil.Wrap(&err, "store.AuditHead", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return 0, err
	}
	var seq sql.NullInt64
	err = db.db.QueryRowContext(ctx, "SELECT MAX(seq) FROM audit_events").Scan(&seq)
	return seq.Int64, err
}

// AuditChanges returns the events after seq after, up to and including upto, in no particular order.
func (db *DB) AuditChanges(ctx context.Context, after, upto int64) (_ []vigil.AuditChange, err error) {
	defer vigil.Wrap(&err, "store.AuditChanges", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, "SELECT seq, action, object_type, object_id FROM audit_events WHERE seq > $1 AND seq <= $2", after, upto)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.AuditChange
	for rows.Next() {
		var c vigil.AuditChange
		if err := rows.Scan(&c.Seq, &c.Action, &c.ObjectType, &c.ObjectID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AssessedCaseIDs returns the ids of the live (not merged) cases with at least one assessment, in no particular
// order.
func (db *DB) AssessedCaseIDs(ctx context.Context) (_ []int64, err error) {
	defer vigil.Wrap(&err, "store.AssessedCaseIDs", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var ids []int64
	rows, err := db.db.QueryContext(ctx, "SELECT c.id FROM cases c WHERE c.merged_into IS NULL AND EXISTS (SELECT 1 FROM assessments a WHERE "+caseAndMerged("a.case_id", "c.id")+")")
	err = eachID(rows, err, func(id int64) { ids = append(ids, id) })
	return ids, err
}

// HasAssessment reports whether a live case has been assessed at least once (false for an unknown or merged case).
func (db *DB) HasAssessment(ctx context.Context, caseID int64) (_ bool, err error) {
	defer vigil.Wrap(&err, "store.HasAssessment", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return false, err
	}
	var n int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cases c WHERE c.id = $1 AND c.merged_into IS NULL AND EXISTS (SELECT 1 FROM assessments a WHERE "+
		caseAndMerged("a.case_id", "c.id")+")", caseID).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// UnassessedCases returns the live cases that are not closed and have no assessment: each has an "assess before"
// clock (D0 + 30 days) and no determination yet.
func (db *DB) UnassessedCases(ctx context.Context) (_ []*vigil.Case, err error) {
	defer vigil.Wrap(&err, "store.UnassessedCases", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, scanCase, "SELECT "+caseCols+" FROM cases c JOIN devices d ON d.id = c.device_id WHERE c.merged_into IS NULL AND c.state <> $1 AND NOT EXISTS (SELECT 1 FROM assessments a WHERE "+
		caseAndMerged("a.case_id", "c.id")+") ORDER BY c.learned, c.id", vigil.CaseClosed)
}

// ---- pages of findings

const findingListSelect = `SELECT f.id, f.version_id, v.device_id, f.component, f.vuln_id, f.aliases, f.state, f.evidence, f.source, f.first_seen,
	f.resolved_at, f.learned, d.name, v.version, a.risk, a.data
	FROM findings f JOIN device_versions v ON v.id = f.version_id JOIN devices d ON d.id = v.device_id
	LEFT JOIN assessments a ON a.id = (SELECT MAX(x.id) FROM assessments x WHERE x.case_id = f.case_id)`

// FindingListKey returns a text identifying the findings q selects, apart from its cursors and limit, for callers
// that cache counts and pages: queries with equal keys select the same findings. It returns EINVALID for an unknown
// state or risk, as CountFindings and FindingList would.
func (db *DB) FindingListKey(q vigil.FindingListQuery) (_ string, err error) {
	defer vigil.Wrap(&err, "store.FindingListKey", nil)
	where, args, err := db.findingListWhere(q)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%v", where, args), nil
}

// findingListWhere builds the condition of q on findings f joined with device_versions v.
// vulnIs is the one condition for "the finding is about vulnerability p": its id or one of its aliases (a finding
// stored under PYSEC-2022-254 is found by CVE-2022-40898), compared without case on both engines: SQLite's LIKE
// ignored ASCII case where PostgreSQL's did not, and = compared case on both. p is a placeholder holding the id.
func vulnIs(p string) string {
	return "(UPPER(f.vuln_id) = UPPER(" + p + ") OR UPPER(f.aliases) LIKE '%\"' || UPPER(" + p + ") || '\"%')"
}

func (db *DB) findingListWhere(q vigil.FindingListQuery) (string, []any, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	states := q.States
	if len(states) == 0 {
		states = vigil.FindingStatesToWork
	}
	var ph []string
	for _, s := range states {
		if err := s.Validate(); err != nil {
			return "", nil, err
		}
		ph = append(ph, arg(s))
	}
	// The unary plus keeps SQLite from reading the state index and sorting: walking the primary key newest first
	// and stopping after a page is what keeps a page fast at 100,000 findings.
	col := db.dialect.indexHint + "f.state"
	where = append(where, col+" IN ("+strings.Join(ph, ", ")+")")
	if q.DeviceID != 0 {
		where = append(where, "v.device_id = "+arg(q.DeviceID))
	}
	if q.VersionID != 0 {
		where = append(where, "f.version_id = "+arg(q.VersionID))
	}
	if q.Vuln != "" {
		where = append(where, vulnIs(arg(q.Vuln)))
	}
	if q.Text != "" {
		p := arg("%" + strings.ToLower(likeEscape(q.Text)) + "%")
		where = append(where, "(LOWER(f.comp_key) LIKE "+p+" ESCAPE '\\' OR LOWER(f.vuln_id) LIKE "+p+" ESCAPE '\\' OR LOWER(f.component) LIKE "+p+" ESCAPE '\\')")
	}
	if q.Risk != "" {
		if err := q.Risk.Validate(); err != nil {
			return "", nil, err
		}
	}
	switch q.Risk {
	case "":
	case vigil.RiskUnassessed:
		where = append(where, "NOT EXISTS (SELECT 1 FROM assessments x WHERE x.case_id = f.case_id)")
	default:
		// The latest assessment of each finding: a small set (assessed findings are few) probed per row.
		where = append(where, "f.case_id IN (SELECT x.case_id FROM assessments x WHERE x.risk = "+arg(q.Risk)+
			" AND x.id IN (SELECT MAX(y.id) FROM assessments y GROUP BY y.case_id))")
	}
	if !q.Since.IsZero() {
		where = append(where, "f.first_seen >= "+arg(q.Since.UTC().Format(audit.TimeFormat)))
	}
	return strings.Join(where, " AND "), args, nil
}

// likeEscape escapes LIKE's wildcards (with ESCAPE '\'), so that a search for "50%" finds "50%" only.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountFindings counts the findings q selects (its cursors and limit aside).
func (db *DB) CountFindings(ctx context.Context, q vigil.FindingListQuery) (_ int, err error) {
	defer vigil.Wrap(&err, "store.CountFindings", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return 0, err
	}
	where, args, err := db.findingListWhere(q)
	if err != nil {
		return 0, err
	}
	var n int
	// A count reads every match anyway: the state index serves it better than the primary key.
	err = db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM findings f JOIN device_versions v ON v.id = f.version_id WHERE "+
		strings.ReplaceAll(where, "+f.state", "f.state"), args...).Scan(&n)
	return n, err
}

// FindingList reads one page of the findings q selects at its cursor, newest first.
func (db *DB) FindingList(ctx context.Context, q vigil.FindingListQuery) (_ *vigil.FindingList, err error) {
	defer vigil.Wrap(&err, "store.FindingList", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	where, args, err := db.findingListWhere(q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, vigil.MaxFindingList)
	page := &vigil.FindingList{Rows: []vigil.FindingListRow{}}
	cursor, order := "", "DESC"
	switch {
	case q.Before > 0:
		args = append(args, q.Before)
		cursor, order = fmt.Sprintf(" AND f.id > $%d", len(args)), "ASC"
	case q.After > 0:
		args = append(args, q.After)
		cursor = fmt.Sprintf(" AND f.id < $%d", len(args))
	}
	rows, err := db.db.QueryContext(ctx, findingListSelect+" WHERE "+where+cursor+fmt.Sprintf(" ORDER BY f.id %s LIMIT %d", order, limit+1), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanFindingListRow(rows)
		if err != nil {
			return nil, err
		}
		page.Rows = append(page.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	more := len(page.Rows) > limit
	if more {
		page.Rows = page.Rows[:limit]
	}
	if order == "ASC" {
		for i, j := 0, len(page.Rows)-1; i < j; i, j = i+1, j-1 {
			page.Rows[i], page.Rows[j] = page.Rows[j], page.Rows[i]
		}
	}
	if n := len(page.Rows); n > 0 {
		// Older exists when this page was cut short going back, or when it was reached going forward; newer
		// exists when the page starts after a cursor going back, or was cut short going forward.
		if (order == "DESC" && more) || order == "ASC" {
			page.Older = page.Rows[n-1].Finding.ID
		}
		if (order == "DESC" && q.After > 0) || (order == "ASC" && more) {
			page.Newer = page.Rows[0].Finding.ID
		}
	}
	return page, nil
}

func scanFindingListRow(row interface{ Scan(...any) error }) (vigil.FindingListRow, error) {
	var f vigil.Finding
	var comp, aliases, ev, learned, dev, ver string
	var first, resolved, risk, data sql.NullString
	if err := row.Scan(&f.ID, &f.VersionID, &f.DeviceID, &comp, &f.Vulnerability, &aliases, &f.State, &ev, &f.Source, &first, &resolved, &learned,
		&dev, &ver, &risk, &data); err != nil {
		return vigil.FindingListRow{}, err
	}
	if err := json.Unmarshal([]byte(comp), &f.Component); err != nil {
		return vigil.FindingListRow{}, fmt.Errorf("finding %d component: %w", f.ID, err)
	}
	json.Unmarshal([]byte(aliases), &f.Aliases)
	json.Unmarshal([]byte(ev), &f.Evidence)
	f.FirstSeen, f.ResolvedAt = parseTime(first), parseTime(resolved)
	if d, err := vigil.ParseDate(learned); err == nil {
		f.Learned = d
	}
	r := vigil.FindingListRow{Finding: &f, Device: dev, Version: ver, Risk: vigil.Risk(risk.String)}
	if data.Valid {
		var a struct {
			Severity string `json:"severity"`
		}
		json.Unmarshal([]byte(data.String), &a)
		r.Severity = a.Severity
	}
	return r, nil
}

// ---- the dashboard's aggregates

// OpenCounts counts the open and could-not-evaluate findings by device, version and state (a full scan).
func (db *DB) OpenCounts(ctx context.Context) (_ []vigil.OpenCount, err error) {
	defer vigil.Wrap(&err, "store.OpenCounts", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT v.device_id, d.name, f.version_id, v.version, f.state, COUNT(*) FROM findings f
		JOIN device_versions v ON v.id = f.version_id JOIN devices d ON d.id = v.device_id
		WHERE f.state IN ($1, $2) GROUP BY v.device_id, d.name, f.version_id, v.version, f.state`, vigil.FindingOpen, vigil.FindingCouldNotEval)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.OpenCount
	for rows.Next() {
		var c vigil.OpenCount
		if err := rows.Scan(&c.DeviceID, &c.Device, &c.VersionID, &c.Version, &c.State, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FindingDayCounts counts every finding by the day it was first seen, and the resolved ones by the day they
// resolved (or were closed): from the two, the open findings on any day follow.
func (db *DB) FindingDayCounts(ctx context.Context) (firstSeen, resolved []vigil.DayCount, err error) {
	defer vigil.Wrap(&err, "store.FindingDayCounts", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, nil, err
	}
	for _, s := range []struct {
		query string
		into  *[]vigil.DayCount
	}{
		{"SELECT SUBSTR(first_seen, 1, 10), COUNT(*) FROM findings GROUP BY SUBSTR(first_seen, 1, 10)", &firstSeen},
		{"SELECT SUBSTR(resolved_at, 1, 10), COUNT(*) FROM findings WHERE resolved_at IS NOT NULL GROUP BY SUBSTR(resolved_at, 1, 10)", &resolved},
	} {
		if err := db.dayCounts(ctx, s.query, s.into); err != nil {
			return nil, nil, err
		}
	}
	return firstSeen, resolved, nil
}

func (db *DB) dayCounts(ctx context.Context, query string, into *[]vigil.DayCount) error {
	rows, err := db.db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c vigil.DayCount
		if err := rows.Scan(&c.Day, &c.N); err != nil {
			return err
		}
		*into = append(*into, c)
	}
	return rows.Err()
}

// FixEvents returns every fix-distributed event (validated or not) not retracted, by case and then date; a case is
// resolved when every one of its findings is, at the latest of their resolutions.
func (db *DB) FixEvents(ctx context.Context) (_ []vigil.FixEvent, err error) {
	defer vigil.Wrap(&err, "store.FixEvents", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT c.id, c.vuln_id, c.learned,
		(SELECT MAX(f.resolved_at) FROM findings f WHERE f.case_id = c.id AND NOT EXISTS (SELECT 1 FROM findings g WHERE g.case_id = c.id AND g.resolved_at IS NULL)),
		e.date, e.details FROM case_events e JOIN cases c ON c.id = COALESCE((SELECT m.merged_into FROM cases m WHERE m.id = e.case_id), e.case_id)
		WHERE e.type = $1 AND NOT EXISTS (SELECT 1 FROM case_retractions r WHERE r.kind = $2 AND r.record_id = e.id) ORDER BY c.id, e.date`,
		regulatory.EventFixDistributed, vigil.RecordEvent)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.FixEvent
	for rows.Next() {
		var e vigil.FixEvent
		var resolved sql.NullString
		var details string
		if err := rows.Scan(&e.CaseID, &e.Vulnerability, &e.Learned, &resolved, &e.Date, &details); err != nil {
			return nil, err
		}
		e.ResolvedAt, e.Details = parseTime(resolved), json.RawMessage(details)
		out = append(out, e)
	}
	return out, rows.Err()
}

// KEVCatalog returns the KEV catalog's listed (not removed) entries by CVE, as stored (a vigil.KEVEntry in JSON).
// A store without intelligence tables returns an error.
func (db *DB) KEVCatalog(ctx context.Context) (_ map[string]json.RawMessage, err error) {
	defer vigil.Wrap(&err, "store.KEVCatalog", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, "SELECT cve, data FROM intel_kev WHERE removed = $1", false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var cve string
		var data []byte
		if err := rows.Scan(&cve, &data); err != nil {
			return nil, err
		}
		out[cve] = data
	}
	return out, rows.Err()
}

// OpenFindingsForKEV returns, by id, the open and could-not-evaluate findings whose vulnerability is listed in the
// KEV catalog, and those named otherwise (GHSA, PYSEC, ...) with a CVE alias, which the caller checks against the
// catalog: a probe per catalog entry plus the few such aliases, not every open finding.
func (db *DB) OpenFindingsForKEV(ctx context.Context) (_ []vigil.KEVCandidate, err error) {
	defer vigil.Wrap(&err, "store.OpenFindingsForKEV", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT f.id, f.vuln_id, f.aliases, d.name FROM findings f JOIN device_versions v ON v.id = f.version_id
		JOIN devices d ON d.id = v.device_id
		WHERE f.state IN ($1, $2) AND (f.vuln_id IN (SELECT cve FROM intel_kev WHERE removed = $3) OR (f.vuln_id NOT LIKE 'CVE-%' AND f.aliases LIKE '%CVE-%'))
		ORDER BY f.id`, vigil.FindingOpen, vigil.FindingCouldNotEval, false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.KEVCandidate
	for rows.Next() {
		var c vigil.KEVCandidate
		var aliases string
		if err := rows.Scan(&c.FindingID, &c.Vulnerability, &aliases, &c.Device); err != nil {
			return nil, err
		}
		if strings.Contains(aliases, "CVE-") {
			json.Unmarshal([]byte(aliases), &c.Aliases) // damaged aliases name no listed CVE
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CaseQueueRows returns every live (not merged) case with the number of versions it affects now (its findings
// open or could not be evaluated, by version) and the latest EPSS score of its vulnerability (a case's id is a CVE
// when one is known): one query for the whole queue, whatever its size.
func (db *DB) CaseQueueRows(ctx context.Context) (_ []vigil.CaseQueueRow, err error) {
	defer vigil.Wrap(&err, "store.CaseQueueRows", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, "SELECT "+caseCols+`, COALESCE(n.affected, 0), e.cve, e.date, e.score, e.percentile, e.model_version
		FROM cases c JOIN devices d ON d.id = c.device_id
		LEFT JOIN (SELECT case_id, COUNT(DISTINCT version_id) AS affected FROM findings WHERE state IN ($1, $2) GROUP BY case_id) n ON n.case_id = c.id
		LEFT JOIN intel_epss_latest e ON e.cve = c.vuln_id
		WHERE c.merged_into IS NULL ORDER BY c.id`, vigil.FindingOpen, vigil.FindingCouldNotEval)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.CaseQueueRow
	for rows.Next() {
		var r vigil.CaseQueueRow
		var cve, date, model sql.NullString
		var score, pct sql.NullFloat64
		if r.Case, err = scanCase(scanTail{rows, []any{&r.Affected, &cve, &date, &score, &pct, &model}}); err != nil {
			return nil, err
		}
		if cve.Valid {
			r.EPSS = &vigil.EPSSScore{CVE: cve.String, Score: score.Float64, Percentile: pct.Float64, ModelVersion: model.String}
			r.EPSS.Date, _ = vigil.ParseDate(date.String)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// scanTail scans a row whose first columns a scan function reads (scanCase) and whose further columns go to tail.
type scanTail struct {
	row  interface{ Scan(...any) error }
	tail []any
}

func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail...)...) }
