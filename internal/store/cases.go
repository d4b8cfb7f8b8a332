package store

import (
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

var _ vigil.CaseService = (*DB)(nil)

const caseCols = "c.id, c.device_id, d.name, c.vuln_id, c.aliases, c.provisional, c.state, c.learned, c.learned_how, c.learned_evidence, c.merged_into, c.created_at, c.owner"

func scanCase(row interface{ Scan(...any) error }) (*vigil.Case, error) {
	var c vigil.Case
	var aliases, learned string
	var merged sql.NullInt64
	var created, owner sql.NullString
	if err := row.Scan(&c.ID, &c.DeviceID, &c.Device, &c.Vulnerability, &aliases, &c.Provisional, &c.State, &learned, &c.LearnedHow, &c.LearnedEvidence, &merged, &created, &owner); err != nil {
		return nil, err
	}
	c.Owner = owner.String
	json.Unmarshal([]byte(aliases), &c.Aliases)
	if c.Aliases == nil {
		c.Aliases = []string{}
	}
	c.Learned, _ = vigil.ParseDate(learned)
	c.MergedInto = merged.Int64
	c.CreatedAt = parseTime(created)
	return &c, nil
}

// Case returns one case.
func (db *DB) Case(ctx context.Context, id int64) (_ *vigil.Case, err error) {
	defer vigil.Wrap(&err, "store.Case", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	c, err := scanCase(db.db.QueryRowContext(ctx, "SELECT "+caseCols+" FROM cases c JOIN devices d ON d.id = c.device_id WHERE c.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("case", id)
	}
	return c, err
}

// caseVulnIs is vulnIs for cases: the case's id or one of its aliases, looked up in case_ids (p holds the id
// lower-cased: caseID).
func caseVulnIs(p string) string {
	return "c.id IN (SELECT x.case_id FROM case_ids x WHERE x.vid = " + p + ")"
}

// caseID is a vulnerability id as case_ids keeps it.
func caseID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// indexCaseIDs records ids as ids case id is known by (case_ids, the alias index; kept with the aliases).
func (tx *Tx) indexCaseIDs(ctx context.Context, id int64, ids []string) error {
	rows := make([]caseIDRow, len(ids))
	for i, v := range ids {
		rows[i] = caseIDRow{v, id}
	}
	return tx.indexCaseIDRows(ctx, rows)
}

// caseIDRow is one id a case is known by.
type caseIDRow struct {
	vid    string
	caseID int64
}

// indexCaseIDRows writes rows into case_ids with multi-row statements.
func (tx *Tx) indexCaseIDRows(ctx context.Context, rows []caseIDRow) error {
	seen := map[caseIDRow]bool{}
	b := newBatch("case_ids", "vid, case_id", " ON CONFLICT DO NOTHING")
	for _, r := range rows {
		if r.vid = caseID(r.vid); r.vid == "" || seen[r] {
			continue
		}
		seen[r] = true
		b.add(r.vid, r.caseID)
		if b.full() {
			if err := b.flush(ctx, tx); err != nil {
				return err
			}
		}
	}
	return b.flush(ctx, tx)
}

// Cases lists the cases the filter selects (never merged ones), newest first.
func (db *DB) Cases(ctx context.Context, flt vigil.CaseFilter) (_ []*vigil.Case, err error) {
	defer vigil.Wrap(&err, "store.Cases", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	states := flt.States
	if len(states) == 0 {
		states = []vigil.CaseState{vigil.CaseOpen, vigil.CaseNeedsReview}
	}
	var ph []string
	for _, s := range states {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		ph = append(ph, arg(s))
	}
	where := []string{"c.merged_into IS NULL", "c.state IN (" + strings.Join(ph, ", ") + ")"}
	if flt.DeviceID != 0 {
		where = append(where, "c.device_id = "+arg(flt.DeviceID))
	}
	if flt.Vuln != "" {
		where = append(where, caseVulnIs(arg(caseID(flt.Vuln))))
	}
	switch {
	case flt.NoOwner:
		where = append(where, "c.owner IS NULL")
	case flt.Owner != "":
		where = append(where, "c.owner = "+arg(flt.Owner))
	}
	return queryAll(ctx, db.db, scanCase, "SELECT "+caseCols+" FROM cases c JOIN devices d ON d.id = c.device_id WHERE "+strings.Join(where, " AND ")+" ORDER BY c.id DESC", args...)
}

// insertCase writes a new case as of the transaction's time, with its ids in the alias index.
func (tx *Tx) insertCase(ctx context.Context, c *vigil.Case) error {
	if err := tx.insertCaseRow(ctx, c); err != nil {
		return err
	}
	return tx.indexCaseIDs(ctx, c.ID, c.IDs())
}

// insertCaseRow writes the case's row alone: migration 20 groups findings into cases before the alias index
// exists (migration 27 builds it from the rows).
func (tx *Tx) insertCaseRow(ctx context.Context, c *vigil.Case) error {
	return tx.insertCaseRows(ctx, []*vigil.Case{c})
}

// insertCaseRows writes the rows of new cases a few hundred per statement, setting each one's ID and CreatedAt.
// The ids come back with the case's device and vulnerability id (RETURNING gives no row order), so one statement
// holds a device's vulnerability id once.
func (tx *Tx) insertCaseRows(ctx context.Context, cs []*vigil.Case) error {
	b := newBatch("cases", "device_id, vuln_id, aliases, provisional, state, learned, learned_how, learned_evidence, created_at, updated_at", " RETURNING id, device_id, vuln_id")
	b.max = min(b.max, 500)
	type key struct {
		device int64
		vuln   string
	}
	pending := map[key]*vigil.Case{}
	flush := func() error {
		if b.rows == 0 {
			return nil
		}
		q, args := b.values(tx.db.dialect), b.args
		if tx.db.dialect.bulkArrays {
			q, args = b.arrays()
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var k key
			if err := rows.Scan(&id, &k.device, &k.vuln); err != nil {
				return err
			}
			if c := pending[k]; c != nil {
				c.ID = id
				delete(pending, k)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(pending) > 0 {
			return fmt.Errorf("insert cases: %d rows not returned", len(pending))
		}
		b.reset()
		return nil
	}
	for _, c := range cs {
		k := key{c.DeviceID, c.Vulnerability}
		if pending[k] != nil || b.full() {
			if err := flush(); err != nil {
				return err
			}
		}
		if c.Aliases == nil {
			c.Aliases = []string{}
		}
		c.CreatedAt = tx.Now()
		b.add(c.DeviceID, c.Vulnerability, mustJSON(c.Aliases), c.Provisional, string(c.State), c.Learned.String(), c.LearnedHow, c.LearnedEvidence, tx.NowText(), tx.NowText())
		pending[k] = c
	}
	return flush()
}

// deviceCases indexes the device's cases (not merged) known by any of ids, by every id they carry, lower-cased:
// every case a finding carrying only those ids can join, looked up in the alias index (case_ids) rather than by
// reading all of the device's cases.
type deviceCases struct {
	byID map[string]*vigil.Case
}

func (tx *Tx) deviceCases(ctx context.Context, deviceID int64, ids []string) (*deviceCases, error) {
	dcs, err := tx.devicesCases(ctx, []int64{deviceID}, ids)
	if err != nil {
		return nil, err
	}
	return dcs[deviceID], nil
}

// devicesCases is deviceCases for several devices at once (every device of devices has an entry), read with one
// query per chunk of ids for them all.
func (tx *Tx) devicesCases(ctx context.Context, devices []int64, ids []string) (map[int64]*deviceCases, error) {
	var keys []string
	seen := map[string]bool{}
	for _, id := range ids {
		if k := caseID(id); k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	devs := make([]string, len(devices))
	for i, d := range devices {
		devs[i] = idText(d)
	}
	byCase := map[int64]*vigil.Case{}
	for chunk := range slices.Chunk(keys, 500) {
		args := make([]any, len(chunk))
		ph := make([]string, len(chunk))
		for i, k := range chunk {
			args[i] = k
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		cs, err := queryAll(ctx, tx, scanCase, "SELECT "+caseCols+" FROM cases c JOIN devices d ON d.id = c.device_id WHERE c.device_id IN ("+strings.Join(devs, ", ")+") AND c.merged_into IS NULL AND c.id IN (SELECT x.case_id FROM case_ids x WHERE x.vid IN ("+strings.Join(ph, ", ")+"))", args...)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			byCase[c.ID] = c
		}
	}
	out := make(map[int64]*deviceCases, len(devices))
	for _, d := range devices {
		out[d] = &deviceCases{byID: map[string]*vigil.Case{}}
	}
	// In id order: of two cases known by one id, the older stands unless it is closed.
	for _, id := range slices.Sorted(maps.Keys(byCase)) {
		out[byCase[id].DeviceID].add(byCase[id])
	}
	return out, nil
}

func (dc *deviceCases) add(c *vigil.Case) {
	for _, id := range c.IDs() {
		k := strings.ToLower(id)
		if old, ok := dc.byID[k]; !ok || old.State == vigil.CaseClosed && c.State != vigil.CaseClosed {
			dc.byID[k] = c
		}
	}
}

// find returns the device's case of a vulnerability known by any of ids (an open one before a closed one).
func (dc *deviceCases) find(ids []string) *vigil.Case {
	var found *vigil.Case
	for _, id := range ids {
		if c, ok := dc.byID[strings.ToLower(id)]; ok && (found == nil || found.State == vigil.CaseClosed && c.State != vigil.CaseClosed) {
			found = c
		}
	}
	return found
}

// attachFindings puts new findings (each with its DeviceID) in their cases, in tx: a finding joins its device's case
// of its vulnerability (by any alias), whose D0 and clocks it leaves as they are, or opens a case learned today by
// how. A finding joining a closed case puts it back in needs_review: a version carrying the vulnerability of a
// closed case is for a person to look at. One audit event per case records the findings it gained.
//
// A re-match attaches thousands of findings at once, over many devices after an import, so the cases are decided in
// memory first and written with few statements for them all: the cases the findings' ids name read in one query
// per chunk of ids, a new case inserted once with its final aliases and D0, an existing case updated once, the
// alias index and the findings' case_id set by multi-row statements. It returns the audit events, one per case as
// before, each recording the rows of its case, for the caller to append with its own (auditEvents) once its writes
// are done.
func (tx *Tx) attachFindings(ctx context.Context, fs []*vigil.Finding, how, reason string) ([]pendingEvent, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	var all []string
	var devices []int64
	for _, f := range fs {
		all = append(append(all, f.Vulnerability), f.Aliases...)
		if !slices.Contains(devices, f.DeviceID) {
			devices = append(devices, f.DeviceID)
		}
	}
	dcs, err := tx.devicesCases(ctx, devices, all)
	if err != nil {
		return nil, err
	}
	today := vigil.DateOf(tx.Now(), tx.orgLocation(ctx))
	type change struct {
		opened  bool
		old     vigil.CaseState
		updated bool     // an existing case's aliases or D0 changed
		index   []string // ids to add to case_ids
		fs      []*vigil.Finding
	}
	changes := map[*vigil.Case]*change{}
	var order []*vigil.Case
	for _, f := range fs {
		ids := append([]string{f.Vulnerability}, f.Aliases...)
		dc := dcs[f.DeviceID]
		c := dc.find(ids)
		if c == nil {
			learned := f.Learned
			if learned.IsZero() {
				learned = today
			}
			c = &vigil.Case{DeviceID: f.DeviceID, State: vigil.CaseOpen, Learned: learned, LearnedHow: how, LearnedEvidence: reason}
			if how == vigil.LearnedMatch {
				c.LearnedEvidence = fmt.Sprintf("finding %d: %s in %s %s (%s)", f.ID, f.Vulnerability, f.Component.Name, f.Component.Version, f.Evidence.Matcher)
			}
			c.Vulnerability, c.Aliases = vigil.CanonicalVuln(ids)
			changes[c] = &change{opened: true, index: c.IDs()}
			order = append(order, c)
			dc.add(c)
		} else if changes[c] == nil {
			changes[c] = &change{old: c.State}
			order = append(order, c)
		}
		ch := changes[c]
		if missing := newAliases(c, ids); len(missing) > 0 {
			c.Aliases = append(c.Aliases, missing...)
			ch.index = append(ch.index, missing...)
			ch.updated = true
			dc.add(c)
		}
		if !f.Learned.IsZero() && f.Learned.Before(c.Learned) {
			// Earlier evidence of learning (a finding entered with the day a report came in): D0 is the earliest.
			c.Learned = f.Learned
			ch.updated = true
		}
		ch.fs = append(ch.fs, f)
	}
	var opened []*vigil.Case
	for _, c := range order {
		if changes[c].opened {
			opened = append(opened, c)
		}
	}
	if err := tx.insertCaseRows(ctx, opened); err != nil {
		return nil, err
	}
	var index []caseIDRow
	var attach [][2]int64 // finding, case
	for _, c := range order {
		ch := changes[c]
		if !ch.opened && (ch.updated || c.State == vigil.CaseClosed) {
			if c.State == vigil.CaseClosed {
				c.State = vigil.CaseNeedsReview
			}
			if _, err := tx.ExecContext(ctx, "UPDATE cases SET aliases = $1, learned = $2, state = $3, updated_at = $4 WHERE id = $5",
				mustJSON(c.Aliases), c.Learned.String(), c.State, tx.NowText(), c.ID); err != nil {
				return nil, err
			}
		}
		for _, v := range ch.index {
			index = append(index, caseIDRow{v, c.ID})
		}
		for _, f := range ch.fs {
			f.CaseID = c.ID
			attach = append(attach, [2]int64{f.ID, c.ID})
		}
	}
	if err := tx.indexCaseIDRows(ctx, index); err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(attach, 500) {
		var set, in strings.Builder
		for i, a := range chunk {
			if i > 0 {
				in.WriteByte(',')
			}
			fmt.Fprintf(&set, " WHEN %d THEN %d", a[0], a[1])
			in.WriteString(idText(a[0]))
		}
		if _, err := tx.ExecContext(ctx, "UPDATE findings SET case_id = CASE id"+set.String()+" END WHERE id IN ("+in.String()+")"); err != nil {
			return nil, err
		}
	}
	evs := make([]pendingEvent, 0, len(order))
	for _, c := range order {
		ch := changes[c]
		ids := make([]int64, len(ch.fs))
		for i, f := range ch.fs {
			ids[i] = f.ID
		}
		slices.Sort(ids)
		rows := map[string][]int64{"cases": {c.ID}, "findings": ids}
		if ch.opened {
			evs = append(evs, pendingEvent{action: "case.open", objType: "case", objID: idText(c.ID), new: map[string]any{"case": c, "findings": ids}, reason: reason, rows: rows})
			continue
		}
		evs = append(evs, pendingEvent{action: "case.attach", objType: "case", objID: idText(c.ID), old: map[string]any{"state": ch.old},
			new: map[string]any{"state": c.State, "findings": ids, "aliases": c.Aliases, "learned": c.Learned}, reason: reason, rows: rows})
	}
	return evs, nil
}

// newAliases returns the ids of ids the case does not carry yet.
func newAliases(c *vigil.Case, ids []string) []string {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.ContainsFunc(c.IDs(), func(x string) bool { return strings.EqualFold(x, id) }) &&
			!slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, id) }) {
			out = append(out, id)
		}
	}
	return out
}

// OpenCase opens a case not from matching: a report, an advisory about the device, a person's triage.
func (db *DB) OpenCase(ctx context.Context, c *vigil.Case, reason string) (err error) {
	defer vigil.Wrap(&err, "store.OpenCase", c.Vulnerability)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	c.Vulnerability = strings.TrimSpace(c.Vulnerability)
	if c.Vulnerability == "" {
		return vigil.Errorf(vigil.EINVALID, "vulnerability: required (a provisional id for a report with no CVE yet)")
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: say how the vulnerability was learned of")
	}
	if err := c.CheckText(); err != nil {
		return err
	}
	if c.Learned.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "learned: required: the day the vulnerability was learned of (D0)")
	}
	if c.LearnedHow == "" {
		c.LearnedHow = vigil.LearnedManual
	}
	if err := vigil.OneOf("learned_how", c.LearnedHow, []string{vigil.LearnedMatch, vigil.LearnedReport, vigil.LearnedAdvisory, vigil.LearnedManual}); err != nil {
		return err
	}
	c.State = vigil.CaseOpen
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT name FROM devices WHERE id = $1", c.DeviceID).Scan(&c.Device); errors.Is(err, sql.ErrNoRows) {
			return vigil.Errorf(vigil.EINVALID, "device_id: device %d does not exist", c.DeviceID)
		} else if err != nil {
			return err
		}
		if today := vigil.DateOf(tx.Now(), tx.orgLocation(ctx)); c.Learned.After(today) {
			return vigil.Errorf(vigil.EINVALID, "learned: %s is in the future (today is %s)", c.Learned, today)
		}
		dc, err := tx.deviceCases(ctx, c.DeviceID, c.IDs())
		if err != nil {
			return err
		}
		if old := dc.find(c.IDs()); old != nil {
			return vigil.Errorf(vigil.ECONFLICT, "%s already has case %d of %s: add to that case", c.Device, old.ID, old.Vulnerability)
		}
		if c.Aliases == nil {
			c.Aliases = []string{}
		}
		if err := tx.insertCase(ctx, c); err != nil {
			return err
		}
		tx.wrote("cases", c.ID)
		return tx.Audit(ctx, "case.open", "case", idText(c.ID), nil, map[string]any{"case": c}, reason)
	})
}

// caseLive returns the case id records are written under: the case itself, or the case it was merged into.
func (tx *Tx) caseLive(ctx context.Context, id int64) (int64, error) {
	var merged sql.NullInt64
	err := tx.QueryRowContext(ctx, "SELECT merged_into FROM cases WHERE id = $1", id).Scan(&merged)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("case", id)
	} else if err != nil {
		return 0, err
	}
	if merged.Valid {
		return merged.Int64, nil
	}
	return id, nil
}

// caseAndMerged is the condition "the record belongs to case $N or to a case merged into it".
func caseAndMerged(col, p string) string {
	return "(" + col + " = " + p + " OR " + col + " IN (SELECT m.id FROM cases m WHERE m.merged_into = " + p + "))"
}

// checkDated refuses a record dated after today in the organization's zone: records are entered when (or after)
// they happen.
func (tx *Tx) checkDated(ctx context.Context, d vigil.Date) error {
	if d.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "date: required: the day it happened")
	}
	if today := vigil.DateOf(tx.Now(), tx.orgLocation(ctx)); d.After(today) {
		return vigil.Errorf(vigil.EINVALID, "date: %s is in the future (today is %s): record it when it happens", d, today)
	}
	return nil
}

// Assess appends an assessment of a case, dated a.Date. Its Risk must be set (the caller computes it with the
// acceptance matrix) and a rationale given; it never replaces an earlier one.
func (db *DB) Assess(ctx context.Context, a *vigil.Assessment) error {
	return db.AssessTraced(ctx, a, nil)
}

// insertAssessment records a as entered now by actor under its (live) case, setting its ID, time and actor.
func (tx *Tx) insertAssessment(ctx context.Context, a *vigil.Assessment, actor vigil.Actor) error {
	live, err := tx.caseLive(ctx, a.CaseID)
	if err != nil {
		return err
	}
	if err := tx.checkDated(ctx, a.Date); err != nil {
		return err
	}
	a.CaseID, a.CreatedAt, a.Actor = live, tx.Now(), actor.String()
	id, err := tx.insertID(ctx, "INSERT INTO assessments (case_id, date, created_at, actor, data, risk) VALUES ($1, $2, $3, $4, $5, $6)",
		a.CaseID, a.Date.String(), tx.NowText(), a.Actor, mustJSON(a), a.Risk)
	a.ID = id
	return err
}

// Assessments returns a case's assessments (with those of cases merged into it), by date and then entry: the
// first is the one that started the clocks.
func (db *DB) Assessments(ctx context.Context, caseID int64) (_ []*vigil.Assessment, err error) {
	defer vigil.Wrap(&err, "store.Assessments", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (*vigil.Assessment, error) {
		var a vigil.Assessment
		var id, cid int64
		var data, date string
		if err := row.Scan(&id, &cid, &date, &data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			return nil, fmt.Errorf("assessment %d: %w", id, err)
		}
		a.ID, a.CaseID = id, cid
		a.Date, _ = vigil.ParseDate(date)
		return &a, nil
	}, "SELECT id, case_id, date, data FROM assessments WHERE "+caseAndMerged("case_id", "$1")+" ORDER BY date, id", caseID)
}

// AddCaseEvent appends a dated regulatory event to a case. The event's facts are checked by the determination
// engine before this is called; here the date must not be in the future and a note (the evidence) is required.
// When ctx carries a signing (a hand-typed event that is a signed act, vigil.KindCaseEvent), the signature of the
// event is recorded in the same transaction.
func (db *DB) AddCaseEvent(ctx context.Context, e *vigil.CaseEvent) (err error) {
	defer vigil.Wrap(&err, "store.AddCaseEvent", e.CaseID)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.addCaseEvent(ctx, e); err != nil {
			return err
		}
		_, err := tx.signAct(ctx, vigil.KindCaseEvent, e.ID)
		return err
	})
}

// addCaseEvent appends a case event in tx, audited (AddCaseEvent's rules). Needs PermEvent.
func (tx *Tx) addCaseEvent(ctx context.Context, e *vigil.CaseEvent) error {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if strings.TrimSpace(e.Note) == "" {
		return vigil.Errorf(vigil.EINVALID, "note: required: say where the evidence is (document, ticket, link)")
	}
	if err := e.CheckText(); err != nil {
		return err
	}
	live, err := tx.caseLive(ctx, e.CaseID)
	if err != nil {
		return err
	}
	if err := tx.checkDated(ctx, e.Date); err != nil {
		return err
	}
	e.CaseID, e.CreatedAt, e.Actor = live, tx.Now(), tx.actor.String()
	id, err := tx.insertID(ctx, "INSERT INTO case_events (case_id, type, date, details, note, created_at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		e.CaseID, e.Type, e.Date.String(), eventDetailsJSON(e.Details), e.Note, tx.NowText(), e.Actor)
	if err != nil {
		return err
	}
	e.ID = id
	tx.wrote("case_events", id)
	return tx.Audit(ctx, "case.event", "case", idText(e.CaseID), nil, e, e.Note)
}

// CaseEvents returns a case's events (with those of cases merged into it) in the order they were entered.
func (db *DB) CaseEvents(ctx context.Context, caseID int64) (_ []*vigil.CaseEvent, err error) {
	defer vigil.Wrap(&err, "store.CaseEvents", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (*vigil.CaseEvent, error) {
		var e vigil.CaseEvent
		var date, details string
		var created sql.NullString
		if err := row.Scan(&e.ID, &e.CaseID, &e.Type, &date, &details, &e.Note, &created, &e.Actor); err != nil {
			return nil, err
		}
		e.Date, _ = vigil.ParseDate(date)
		json.Unmarshal([]byte(details), &e.Details)
		e.CreatedAt = parseTime(created)
		return &e, nil
	}, "SELECT id, case_id, type, date, details, note, created_at, actor FROM case_events WHERE "+caseAndMerged("case_id", "$1")+" ORDER BY id", caseID)
}

// Retract withdraws one record of a case with a reason. The record must belong to the case (or to a case merged
// into it) and not be retracted already.
func (db *DB) Retract(ctx context.Context, r *vigil.Retraction) (err error) {
	defer vigil.Wrap(&err, "store.Retract", r.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermAssess)
	if err != nil {
		return err
	}
	if strings.TrimSpace(r.Reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required: say why the record is withdrawn")
	}
	if err := vigil.Text("reason", r.Reason, vigil.MaxText); err != nil {
		return err
	}
	table := map[string]string{vigil.RecordAssessment: "assessments", vigil.RecordEvent: "case_events"}[r.Record.Kind]
	if table == "" {
		return vigil.Errorf(vigil.EINVALID, "record: kind %q is neither an assessment nor an event", r.Record.Kind)
	}
	return db.transact(ctx, func(tx *Tx) error {
		live, err := tx.caseLive(ctx, r.CaseID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id = $1 AND "+caseAndMerged("case_id", "$2"), r.Record.ID, live).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return vigil.Errorf(vigil.ENOTFOUND, "record: %s is not a record of case %d", r.Record, r.CaseID)
		}
		if r.SupersededBy != "" {
			// A correction that replaces the record: the new record of the same kind, entered on the same case.
			by, err := vigil.ParseRecordRef(r.SupersededBy)
			if err != nil {
				return vigil.Errorf(vigil.EINVALID, "superseded_by: %s", vigil.ErrorMessage(err))
			}
			if by.Kind != r.Record.Kind || by == r.Record {
				return vigil.Errorf(vigil.EINVALID, "superseded_by: %s cannot replace %s: name the corrected %s entered for it", by, r.Record, r.Record.Kind)
			}
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id = $1 AND "+caseAndMerged("case_id", "$2")+
				" AND id NOT IN (SELECT record_id FROM case_retractions WHERE kind = $3)", by.ID, live, by.Kind).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return vigil.Errorf(vigil.EINVALID, "superseded_by: %s is not a standing record of case %d", by, r.CaseID)
			}
			r.SupersededBy = by.String()
		}
		r.CaseID, r.CreatedAt, r.Actor = live, tx.Now(), actor.String()
		id, err := tx.insertID(ctx, "INSERT INTO case_retractions (case_id, kind, record_id, superseded_by, reason, created_at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			r.CaseID, r.Record.Kind, r.Record.ID, r.SupersededBy, r.Reason, tx.NowText(), r.Actor)
		if vigil.ErrorCode(err) == vigil.ECONFLICT {
			return vigil.Errorf(vigil.ECONFLICT, "record: %s is already retracted", r.Record)
		} else if err != nil {
			return err
		}
		r.ID = id
		tx.wrote("case_retractions", id)
		return tx.Audit(ctx, "case.retract", "case", idText(r.CaseID), nil, r, r.Reason)
	})
}

// Retractions returns the retractions of a case's records, in the order they were entered.
func (db *DB) Retractions(ctx context.Context, caseID int64) (_ []*vigil.Retraction, err error) {
	defer vigil.Wrap(&err, "store.Retractions", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, func(row interface{ Scan(...any) error }) (*vigil.Retraction, error) {
		var r vigil.Retraction
		var created sql.NullString
		if err := row.Scan(&r.ID, &r.CaseID, &r.Record.Kind, &r.Record.ID, &r.SupersededBy, &r.Reason, &created, &r.Actor); err != nil {
			return nil, err
		}
		r.CreatedAt = parseTime(created)
		return &r, nil
	}, "SELECT id, case_id, kind, record_id, superseded_by, reason, created_at, actor FROM case_retractions WHERE "+caseAndMerged("case_id", "$1")+" ORDER BY id", caseID)
}

// SetLearned corrects a case's D0 with a reason and a reference to the evidence; the audit trail keeps both dates.
func (db *DB) SetLearned(ctx context.Context, caseID int64, learned vigil.Date, reason, evidence string) (err error) {
	defer vigil.Wrap(&err, "store.SetLearned", caseID)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if learned.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "learned: required")
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required: say why D0 is corrected")
	}
	if strings.TrimSpace(evidence) == "" {
		return vigil.Errorf(vigil.EINVALID, "evidence: required: say where the evidence of the date is (document, ticket, link)")
	}
	if err := vigil.Text("evidence", evidence, vigil.MaxText); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.checkDated(ctx, learned); err != nil {
			return fmt.Errorf("learned: %w", err)
		}
		var old, how, oldEvidence string
		err := tx.QueryRowContext(ctx, "SELECT learned, learned_how, learned_evidence FROM cases WHERE id = $1", caseID).Scan(&old, &how, &oldEvidence)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("case", caseID)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE cases SET learned = $1, learned_evidence = $2, updated_at = $3 WHERE id = $4", learned.String(), evidence, tx.NowText(), caseID); err != nil {
			return err
		}
		tx.wrote("cases", caseID)
		return tx.Audit(ctx, "case.learned", "case", idText(caseID), map[string]string{"learned": old, "learned_evidence": oldEvidence},
			map[string]string{"learned": learned.String(), "learned_evidence": evidence}, reason)
	})
}

// SetCaseState moves a case between open, needs_review and closed, with a reason.
func (db *DB) SetCaseState(ctx context.Context, id int64, state vigil.CaseState, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetCaseState", id)
	return db.SetCasesState(ctx, []int64{id}, state, reason)
}

// SetCasesState moves several cases to one state with one reason, in one transaction: all of them or, when one
// cannot be moved (the error names it), none. Closing signs each case's closure on its own act record with the
// one signing ctx carries, whose one-time code, if any, is redeemed once for them all.
func (db *DB) SetCasesState(ctx context.Context, ids []int64, state vigil.CaseState, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetCasesState", len(ids))
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if err := state.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	if len(ids) == 0 {
		return vigil.Errorf(vigil.EINVALID, "cases: name at least one")
	}
	return db.transact(ctx, func(tx *Tx) error {
		for _, id := range ids {
			if err := tx.setCaseState(ctx, id, state, reason); err != nil {
				if len(ids) > 1 && !strings.HasPrefix(vigil.ErrorMessage(err), fmt.Sprintf("case %d ", id)) {
					return fmt.Errorf("case %d: %w", id, err) // which of the cases could not be moved
				}
				return err
			}
		}
		return nil
	})
}

func (tx *Tx) setCaseState(ctx context.Context, id int64, state vigil.CaseState, reason string) error {
	var old vigil.CaseState
	var merged sql.NullInt64
	err := tx.QueryRowContext(ctx, "SELECT state, merged_into FROM cases WHERE id = $1", id).Scan(&old, &merged)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("case", id)
	} else if err != nil {
		return err
	}
	if merged.Valid {
		return vigil.Errorf(vigil.ECONFLICT, "case %d was merged into case %d: change that one", id, merged.Int64)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE cases SET state = $1, updated_at = $2 WHERE id = $3", state, tx.NowText(), id); err != nil {
		return err
	}
	tx.wrote("cases", id)
	if err := tx.Audit(ctx, "case.state", "case", idText(id), map[string]vigil.CaseState{"state": old}, map[string]vigil.CaseState{"state": state}, reason); err != nil {
		return err
	}
	if state != vigil.CaseClosed {
		return nil
	}
	return tx.recordAct(ctx, vigil.ActCaseClosure, id, "case", id, map[string]any{"case": id, "state": state, "from": old, "reason": reason})
}

// MergeCases merges dup into into (same device): dup's findings move to into, its aliases join into's, and its
// records (and those of cases merged into it) count under into from then on. D0 becomes the earlier of the two.
func (db *DB) MergeCases(ctx context.Context, into, dup int64, reason string) (err error) {
	defer vigil.Wrap(&err, "store.MergeCases", dup)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required: say why the cases are one")
	}
	if into == dup {
		return vigil.Errorf(vigil.EINVALID, "into: a case cannot be merged into itself")
	}
	return db.transact(ctx, func(tx *Tx) error {
		get := func(id int64) (*vigil.Case, error) {
			c, err := scanCase(tx.QueryRowContext(ctx, "SELECT "+caseCols+" FROM cases c JOIN devices d ON d.id = c.device_id WHERE c.id = $1", id))
			if errors.Is(err, sql.ErrNoRows) {
				return nil, notFound("case", id)
			}
			return c, err
		}
		a, err := get(into)
		if err != nil {
			return err
		}
		b, err := get(dup)
		if err != nil {
			return err
		}
		switch {
		case a.MergedInto != 0 || b.MergedInto != 0:
			return vigil.Errorf(vigil.ECONFLICT, "case %d or %d was already merged: merge into the case it was merged into", into, dup)
		case a.DeviceID != b.DeviceID:
			return vigil.Errorf(vigil.EINVALID, "dup: case %d is on %s, case %d on %s: only cases of one device are duplicates", dup, b.Device, into, a.Device)
		}
		old := map[string]any{"learned": a.Learned, "aliases": a.Aliases}
		a.Aliases = append(a.Aliases, newAliases(a, b.IDs())...)
		if b.Learned.Before(a.Learned) {
			a.Learned = b.Learned
		}
		if _, err := tx.ExecContext(ctx, "UPDATE cases SET aliases = $1, learned = $2, updated_at = $3 WHERE id = $4", mustJSON(a.Aliases), a.Learned.String(), tx.NowText(), into); err != nil {
			return err
		}
		if err := tx.indexCaseIDs(ctx, into, a.Aliases); err != nil {
			return err
		}
		merged, err := queryAll(ctx, tx, scanID, "SELECT id FROM cases WHERE id = $1 OR merged_into = $1", dup)
		if err != nil {
			return err
		}
		moved, err := queryAll(ctx, tx, scanID, "SELECT id FROM findings WHERE case_id = $1", dup)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE cases SET merged_into = $1, updated_at = $2 WHERE id = $3 OR merged_into = $3", into, tx.NowText(), dup); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE findings SET case_id = $1 WHERE case_id = $2", into, dup); err != nil {
			return err
		}
		tx.wrote("cases", merged...)
		if err := tx.Audit(ctx, "case.merged", "case", idText(dup), nil, map[string]int64{"merged_into": into}, reason); err != nil {
			return err
		}
		tx.wrote("cases", into)
		tx.wrote("findings", moved...)
		return tx.Audit(ctx, "case.merge", "case", idText(into), old, map[string]any{"learned": a.Learned, "aliases": a.Aliases, "merged": dup}, reason)
	})
}
