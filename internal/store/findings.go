package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

var _ vigil.FindingService = (*DB)(nil)

const findingCols = "f.id, f.version_id, v.device_id, f.component, f.vuln_id, f.aliases, f.state, f.evidence, f.source, f.first_seen, f.resolved_at, f.learned, f.case_id"

func scanFinding(row interface{ Scan(...any) error }) (*vigil.Finding, error) {
	var f vigil.Finding
	var comp, aliases, ev, learned string
	var first, resolved sql.NullString
	var caseID sql.NullInt64
	if err := row.Scan(&f.ID, &f.VersionID, &f.DeviceID, &comp, &f.Vulnerability, &aliases, &f.State, &ev, &f.Source, &first, &resolved, &learned, &caseID); err != nil {
		return nil, err
	}
	f.CaseID = caseID.Int64
	if err := json.Unmarshal([]byte(comp), &f.Component); err != nil {
		return nil, fmt.Errorf("finding %d component: %w", f.ID, err)
	}
	json.Unmarshal([]byte(aliases), &f.Aliases)
	json.Unmarshal([]byte(ev), &f.Evidence)
	f.FirstSeen, f.ResolvedAt = parseTime(first), parseTime(resolved)
	if d, err := vigil.ParseDate(learned); err == nil {
		f.Learned = d
	}
	return &f, nil
}

// Finding returns one finding.
func (db *DB) Finding(ctx context.Context, id int64) (_ *vigil.Finding, err error) {
	defer vigil.Wrap(&err, "store.Finding", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	f, err := scanFinding(db.db.QueryRowContext(ctx, "SELECT "+findingCols+" FROM findings f JOIN device_versions v ON v.id = f.version_id WHERE f.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("finding", id)
	}
	return f, err
}

// Findings lists findings matching the filter, newest first.
func (db *DB) Findings(ctx context.Context, flt vigil.FindingFilter) (_ []*vigil.Finding, err error) {
	defer vigil.Wrap(&err, "store.Findings", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	states := flt.States
	switch {
	case len(states) > 0:
	case flt.CaseID != 0:
		states = vigil.FindingStates // a case's versions, whatever became of them
	default:
		states = vigil.FindingStatesToWork
	}
	var ph []string
	for _, s := range states {
		if err := vigil.OneOf("state", s, vigil.FindingStates); err != nil {
			return nil, err
		}
		ph = append(ph, arg(s))
	}
	where = append(where, "f.state IN ("+strings.Join(ph, ", ")+")")
	if flt.CaseID != 0 {
		where = append(where, "f.case_id = "+arg(flt.CaseID))
	}
	if flt.DeviceID != 0 {
		where = append(where, "v.device_id = "+arg(flt.DeviceID))
	}
	if flt.VersionID != 0 {
		where = append(where, "f.version_id = "+arg(flt.VersionID))
	}
	if flt.Vuln != "" {
		where = append(where, vulnIs(arg(flt.Vuln)))
	}
	q := "SELECT " + findingCols + " FROM findings f JOIN device_versions v ON v.id = f.version_id WHERE " + strings.Join(where, " AND ") + " ORDER BY f.id DESC"
	if flt.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", flt.Limit)
	}
	return queryAll(ctx, db.db, scanFinding, q, args...)
}

// orgLocation returns the time zone regulatory dates are counted in (the first organization's; UTC without one).
func (tx *Tx) orgLocation(ctx context.Context) *time.Location {
	var tz string
	if err := tx.QueryRowContext(ctx, "SELECT time_zone FROM orgs ORDER BY id LIMIT 1").Scan(&tz); err == nil {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	return time.UTC
}

// SyncFindings makes the version's matched findings equal to found, in one transaction: a new (component,
// vulnerability) pair opens a finding that joins the device's case of the vulnerability (by any alias) or opens
// one, a pair no longer found resolves (its case and the case's records stay), and a resolved pair found again
// reopens. A pair no longer found because the advisory that matched it was withdrawn goes to needs_review instead,
// and so does its case, until a person closes or reopens it. Findings a person created or closed are left alone.
// One audit event records the sync with the ids opened, resolved and put in needs_review (and the withdrawn
// advisories as its reason).
func (db *DB) SyncFindings(ctx context.Context, versionID int64, found []vigil.Finding) (opened, resolved int, err error) {
	return db.SyncFindingsOf(ctx, versionID, found, nil, nil)
}

// SyncFindingsOf is SyncFindings over the components scope accepts (by Component.FindingKey; nil accepts all) and
// the vulnerability ids in vulns (nil: all): the matched findings of the others are left as they are and, when
// vulns is given, not even read, so a re-match of the few advisories and components an import touched need not
// read and pass back the findings of every other one. found must hold only components and ids in scope.
func (db *DB) SyncFindingsOf(ctx context.Context, versionID int64, found []vigil.Finding, scope func(compKey string) bool, vulns []string) (opened, resolved int, err error) {
	defer vigil.Wrap(&err, "store.SyncFindingsOf", versionID)
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return 0, 0, err
	}
	// A full sync whose result has the digest the version's last full sync wrote, with nothing written to its
	// findings since, would change nothing: neither the findings nor their cases are read.
	var digest string
	if scope == nil && vulns == nil {
		digest = findingsDigest(found)
		var have string
		switch err := db.db.QueryRowContext(ctx, "SELECT digest FROM finding_digests WHERE version_id = $1", versionID).Scan(&have); {
		case err == nil && have == digest:
			return 0, 0, nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return 0, 0, err
		}
	}
	err = db.transact(ctx, func(tx *Tx) error {
		if digest != "" {
			if err := tx.lockVersionFindings(ctx, versionID); err != nil {
				return err
			}
		}
		var inScope func(int64, string) bool
		if scope != nil {
			inScope = func(_ int64, ck string) bool { return scope(ck) }
		}
		var after func(*Tx) error
		if digest != "" {
			// Written after every change of the sync: their triggers dropped the old digest.
			after = func(tx *Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO finding_digests (version_id, digest) VALUES ($1, $2) ON CONFLICT (version_id) DO UPDATE SET digest = excluded.digest",
					versionID, digest)
				return err
			}
		}
		var err error
		opened, resolved, err = tx.syncVersions(ctx, []int64{versionID}, found, inScope, false, vulns, after)
		return err
	})
	return opened, resolved, err
}

// SyncFindingsDelta is SyncFindingsOf for many versions at once, as a re-match after an import needs: in each
// version of versionIDs, found (each finding's VersionID set) replaces the matched findings of the vulnerability
// ids vulns (nil: all) on the components scope accepts (by version and Component.FindingKey; nil accepts all). It
// writes what a SyncFindingsOf per version writes, with the same finding.sync event per version, in one transaction
// and with a few statements for the whole delta: the stored findings of vulns read once for every version through
// their index (a new advisory has none), the new findings put in their cases one device at a time, and every audit
// event appended in one batch (one event per case, whichever versions it gained findings in).
func (db *DB) SyncFindingsDelta(ctx context.Context, versionIDs []int64, found []vigil.Finding, scope func(versionID int64, compKey string) bool, vulns []string) (opened, resolved int, err error) {
	defer vigil.Wrap(&err, "store.SyncFindingsDelta", len(versionIDs))
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return 0, 0, err
	}
	synced := make(map[int64]bool, len(versionIDs))
	for _, v := range versionIDs {
		synced[v] = true
	}
	for i := range found {
		if !synced[found[i].VersionID] {
			return 0, 0, fmt.Errorf("found[%d]: version %d is not among the versions synced", i, found[i].VersionID)
		}
	}
	err = db.transact(ctx, func(tx *Tx) error {
		var err error
		opened, resolved, err = tx.syncVersions(ctx, versionIDs, found, scope, true, vulns, nil)
		return err
	})
	return opened, resolved, err
}

// findingRow is a stored matched finding as a sync compares it with its input.
type findingRow struct {
	id       int64
	state    vigil.FindingState
	evidence string
}

// syncVersions is the body of a findings sync over versionIDs in tx (SyncFindingsOf, SyncFindingsDelta): it reads
// the stored matched findings in scope (with orGone, also those scope refuses whose component the version no longer
// holds), applies found to each version (syncVersion), puts the new findings in their cases, runs after (when set)
// once every finding is written, and appends the cases' events and the versions'.
func (tx *Tx) syncVersions(ctx context.Context, versionIDs []int64, found []vigil.Finding, scope func(versionID int64, compKey string) bool, orGone bool, vulns []string, after func(*Tx) error) (opened, resolved int, err error) {
	if len(found) >= largeSync {
		restore, err := tx.db.dialect.largeCache(ctx, tx, 64)
		if err != nil {
			return 0, 0, err
		}
		defer restore()
	}
	existing := make(map[int64]map[[2]string]findingRow, len(versionIDs))
	for _, v := range versionIDs {
		existing[v] = map[[2]string]findingRow{}
	}
	type refused struct {
		k [2]string
		c findingRow
	}
	outside := map[int64][]refused{} // with orGone: the findings scope refused, by version
	keep := func(v int64, k [2]string, c findingRow) {
		switch have, ok := existing[v]; {
		case !ok:
		case scope == nil || scope(v, k[0]):
			have[k] = c
		case orGone:
			outside[v] = append(outside[v], refused{k, c})
		}
	}
	if vulns == nil {
		for _, v := range versionIDs {
			if err := tx.eachMatched(ctx, v, nil, keep); err != nil {
				return 0, 0, err
			}
		}
	} else {
		v := int64(0) // every version's findings of vulns at once
		if len(versionIDs) == 1 {
			v = versionIDs[0]
		}
		if err := tx.eachMatched(ctx, v, vulns, keep); err != nil {
			return 0, 0, err
		}
	}
	// A finding of a component the version no longer holds resolves, as a full re-match would resolve it. Such
	// a finding is rare (an SBOM import re-matches its version), so only a version that has one is read whole.
	for v, fs := range outside {
		comps, err := queryComponents(ctx, tx, v)
		if err != nil {
			return 0, 0, err
		}
		present := make(map[string]bool, len(comps))
		for i := range comps {
			present[comps[i].FindingKey()] = true
		}
		for _, f := range fs {
			if !present[f.k[0]] {
				existing[v][f.k] = f.c
			}
		}
	}
	byVersion := make(map[int64][]vigil.Finding, len(versionIDs))
	if len(versionIDs) == 1 {
		byVersion[versionIDs[0]] = found // a single version's input need not carry its id
	} else {
		for _, f := range found {
			byVersion[f.VersionID] = append(byVersion[f.VersionID], f)
		}
	}
	learned := vigil.DateOf(tx.Now(), tx.orgLocation(ctx)).String()
	// New findings are written a few hundred per statement whatever their version (the ids come back with it).
	inserts := newBatch("findings", "version_id, comp_key, component, vuln_id, aliases, state, evidence, source, first_seen, learned, updated_at", " RETURNING id, version_id")
	inserted := map[int64][]int64{}
	flush := func() error {
		return inserts.flushReturning(ctx, tx, func(rows *sql.Rows) error {
			var id, v int64
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			inserted[v] = append(inserted[v], id)
			return nil
		})
	}
	changes := make([]versionChange, len(versionIDs))
	for i, v := range versionIDs {
		if changes[i], err = tx.syncVersion(ctx, v, byVersion[v], existing[v], learned, inserts, flush); err != nil {
			return 0, 0, err
		}
	}
	if err := flush(); err != nil {
		return 0, 0, err
	}
	var syncs []pendingEvent
	for i, v := range versionIDs {
		ch := &changes[i]
		ch.opened = append(ch.opened, inserted[v]...)
		opened, resolved = opened+len(ch.opened), resolved+len(ch.resolved)
		if ev, ok := tx.syncEvent(v, ch); ok {
			syncs = append(syncs, ev)
		}
	}
	// The new findings join their cases last, so that the cases' events and the syncs' are appended together
	// after every write: one append, each row's state read once.
	evs, err := tx.attachNew(ctx, versionIDs)
	if err != nil {
		return 0, 0, err
	}
	if after != nil {
		if err := after(tx); err != nil {
			return 0, 0, err
		}
	}
	return opened, resolved, tx.auditEvents(ctx, append(evs, syncs...))
}

// eachMatched calls fn with each stored matched finding (source 'match') of versionID (0: of every version) and,
// when vulns is not nil, of those vulnerability ids only. Ids are looked up in their index (a new id has no finding
// yet) rather than by walking a version's thousands of findings, which SQLite's planner would prefer without
// statistics.
func (tx *Tx) eachMatched(ctx context.Context, versionID int64, vulns []string, fn func(versionID int64, k [2]string, c findingRow)) error {
	read := func(cond string, args ...any) error {
		return eachRow(ctx, tx, "SELECT id, version_id, comp_key, vuln_id, state, evidence FROM findings WHERE source = 'match' AND "+cond, args, func(rows *sql.Rows) error {
			var c findingRow
			var v int64
			var k [2]string
			if err := rows.Scan(&c.id, &v, &k[0], &k[1], &c.state, &c.evidence); err != nil {
				return err
			}
			fn(v, k, c)
			return nil
		})
	}
	if vulns == nil {
		return read("version_id = $1", versionID)
	}
	for chunk := range slices.Chunk(vulns, 900) {
		var args []any
		cond := ""
		if versionID != 0 {
			args = append(args, versionID)
			cond = tx.db.dialect.indexHint + "version_id = $1 AND "
		}
		from := len(args) + 1
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := read(cond+"vuln_id IN ("+placeholders(tx.db.dialect, from, len(chunk))+")", args...); err != nil {
			return err
		}
	}
	return nil
}

// versionChange is what a sync did to one version's findings: the ids it opened (reopened, then inserted), resolved
// and put in review, the withdrawn advisories behind the latter, and the other audited rows it wrote.
type versionChange struct {
	opened, resolved, review []int64
	withdrawn                []string
	rows                     map[string][]int64
}

// syncVersion makes one version's matched findings in existing (those the sync covers, by component key and
// vulnerability id) agree with found: a new pair is added to inserts (flush writes it when full; its case is found
// later, attachNew), a pair no longer found resolves, or goes to needs_review when its advisory was withdrawn, and a
// resolved pair found again reopens.
func (tx *Tx) syncVersion(ctx context.Context, versionID int64, found []vigil.Finding, existing map[[2]string]findingRow, learned string, inserts *batch, flush func() error) (versionChange, error) {
	var ch versionChange
	seen := make(map[[2]string]bool, len(found)) // the keys found, which the resolve pass below reads
	for d := range distinctFound(found, seen) {
		f, k, state := d.f, d.key, d.state
		comp := f.Component
		comp.ID, comp.VersionID = 0, 0
		aliases := f.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		c, ok := existing[k]
		switch {
		case c.state == vigil.FindingNeedsReview:
			// A person decides what becomes of it, whatever matching says now.
		case !ok:
			now := tx.NowText()
			inserts.add(versionID, k[0], mustJSON(comp), k[1], mustJSON(aliases), string(state), mustJSON(f.Evidence), "match", now, learned, now)
			if inserts.full() {
				if err := flush(); err != nil {
					return ch, err
				}
			}
		case c.state == vigil.FindingResolved || c.state != state && c.state != vigil.FindingClosed:
			if _, err := tx.ExecContext(ctx, "UPDATE findings SET state = $1, evidence = $2, aliases = $3, resolved_at = NULL, updated_at = $4 WHERE id = $5",
				state, mustJSON(f.Evidence), mustJSON(aliases), tx.NowText(), c.id); err != nil {
				return ch, err
			}
			tx.wrote("findings", c.id)
			if c.state == vigil.FindingResolved {
				ch.opened = append(ch.opened, c.id)
			}
		}
	}
	for k, c := range existing {
		if seen[k] || c.state == vigil.FindingResolved || c.state == vigil.FindingClosed || c.state == vigil.FindingNeedsReview {
			continue
		}
		// A finding whose advisory was withdrawn (or rejected) is not resolved: its clocks may still bind, and a
		// withdrawal is a claim a person must weigh. It waits in needs_review, nothing else changed.
		adv, err := tx.withdrawnAdvisory(ctx, c.evidence)
		if err != nil {
			return ch, err
		}
		if adv != "" {
			if _, err := tx.ExecContext(ctx, "UPDATE findings SET state = $1, updated_at = $2 WHERE id = $3", vigil.FindingNeedsReview, tx.NowText(), c.id); err != nil {
				return ch, err
			}
			ch.review = append(ch.review, c.id)
			if !slices.Contains(ch.withdrawn, adv) {
				ch.withdrawn = append(ch.withdrawn, adv)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "UPDATE findings SET state = $1, resolved_at = $2, updated_at = $2 WHERE id = $3", vigil.FindingResolved, tx.NowText(), c.id); err != nil {
			return ch, err
		}
		ch.resolved = append(ch.resolved, c.id)
	}
	if err := tx.reviewCases(ctx, ch.review); err != nil {
		return ch, err
	}
	// The rows written so far are this version's: its event records them, whatever other versions write next.
	ch.rows, tx.touched = tx.touched, nil
	return ch, nil
}

// syncEvent is the finding.sync event of a version's change, with the rows it wrote; false when it wrote none.
func (tx *Tx) syncEvent(versionID int64, ch *versionChange) (pendingEvent, bool) {
	tx.touched = ch.rows
	tx.wrote("findings", ch.opened...)
	tx.wrote("findings", ch.resolved...)
	tx.wrote("findings", ch.review...)
	if len(tx.touched) == 0 {
		return pendingEvent{}, false
	}
	slices.Sort(ch.opened)
	slices.Sort(ch.resolved)
	change := map[string]any{"opened": ch.opened, "resolved": ch.resolved}
	reason := ""
	if len(ch.review) > 0 {
		slices.Sort(ch.review)
		slices.Sort(ch.withdrawn)
		change["needs_review"] = ch.review
		reason = "advisory withdrawn: " + strings.Join(ch.withdrawn, ", ")
	}
	return tx.event("finding.sync", "version", idText(versionID), nil, change, reason), true
}

// foundOnce is one finding of a sync's input: its (component key, vulnerability id) and its state (open when the
// matcher left it unset).
type foundOnce struct {
	f     *vigil.Finding
	key   [2]string
	state vigil.FindingState
}

// distinctFound yields each (component key, vulnerability id) of found once, at its first occurrence, marking it
// in seen: what a full sync applies and what its digest covers, so both read the input the same way.
func distinctFound(found []vigil.Finding, seen map[[2]string]bool) iter.Seq[foundOnce] {
	return func(yield func(foundOnce) bool) {
		for i := range found {
			f := &found[i]
			k := [2]string{f.Component.FindingKey(), f.Vulnerability}
			if seen[k] {
				continue
			}
			seen[k] = true
			st := f.State
			if st == "" {
				st = vigil.FindingOpen
			}
			if !yield(foundOnce{f, k, st}) {
				return
			}
		}
	}
}

// findingsDigest is the digest of a full sync's input as far as the sync reads it: each (component key,
// vulnerability id) once, at its first occurrence, with its state. Order does not matter (a re-match lists
// components as they are stored). A full sync of found leaves the version's findings where a second sync of the
// same found changes nothing, so an equal digest with no write since means the sync is done already.
func findingsDigest(found []vigil.Finding) string {
	type item struct{ key, vuln, state string }
	items := make([]item, 0, len(found))
	for d := range distinctFound(found, make(map[[2]string]bool, len(found))) {
		items = append(items, item{d.key[0], d.key[1], string(d.state)})
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.vuln, b.vuln)) })
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, it := range items {
		for _, s := range [...]string{it.key, it.vuln, it.state} {
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
			io.WriteString(h, s)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// lockVersionFindings takes the version's findings lock on PostgreSQL, which the findings triggers take too
// (migration 38): a full sync holds it from its first read, so a change another transaction makes meanwhile
// waits, and then drops the digest the sync wrote. SQLite has one writer at a time anyway.
func (tx *Tx) lockVersionFindings(ctx context.Context, versionID int64) error {
	if !tx.db.dialect.locks {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::integer)", findingsLock, versionID)
	return err
}

// largeSync is how many findings make a sync large enough for a large page cache (a version's first match: a new
// finding, case, alias and event each, under random keys).
const largeSync = 1000

// reviewCases puts the open cases of findings that went to needs_review there too: the case's clocks stay as they
// are until a person decides. The finding sync's event records the cases' new state.
func (tx *Tx) reviewCases(ctx context.Context, findingIDs []int64) error {
	seen := map[int64]bool{}
	for _, id := range findingIDs {
		var caseID int64
		var state vigil.CaseState
		err := tx.QueryRowContext(ctx, "SELECT c.id, c.state FROM findings f JOIN cases c ON c.id = f.case_id WHERE f.id = $1", id).Scan(&caseID, &state)
		if errors.Is(err, sql.ErrNoRows) || err == nil && (seen[caseID] || state != vigil.CaseOpen) {
			continue
		} else if err != nil {
			return err
		}
		seen[caseID] = true
		if _, err := tx.ExecContext(ctx, "UPDATE cases SET state = $1, updated_at = $2 WHERE id = $3", vigil.CaseNeedsReview, tx.NowText(), caseID); err != nil {
			return err
		}
		tx.wrote("cases", caseID)
	}
	return nil
}

// withdrawnAdvisory returns the advisory behind a finding's evidence (stored JSON) as "source id" when the source
// has withdrawn it (OSV withdrawn, NVD Rejected), else "".
func (tx *Tx) withdrawnAdvisory(ctx context.Context, evidence string) (string, error) {
	var ev vigil.Evidence
	if err := json.Unmarshal([]byte(evidence), &ev); err != nil || ev.Advisory == "" {
		return "", err
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM intel_advisories WHERE source = $1 AND adv_id = $2 AND withdrawn = $3",
		ev.Source, ev.Advisory, true).Scan(&n); err != nil || n == 0 {
		return "", err
	}
	return ev.Source + " " + ev.Advisory, nil
}

// CreateFinding records a finding that did not come from matching: a researcher's report, an advisory about our
// own product, a complaint. reason says where it came from.
func (db *DB) CreateFinding(ctx context.Context, f *vigil.Finding, reason string) (err error) {
	defer vigil.Wrap(&err, "store.CreateFinding", f.Vulnerability)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if strings.TrimSpace(f.Vulnerability) == "" {
		return vigil.Errorf(vigil.EINVALID, "vulnerability: required")
	}
	if err := f.CheckText(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: say how the vulnerability was learned of")
	}
	if f.Source == "" {
		f.Source = "manual"
	}
	if f.State == "" {
		f.State = vigil.FindingOpen
	}
	return db.transact(ctx, func(tx *Tx) error {
		dev, err := db.versionExists(ctx, tx, f.VersionID)
		if err != nil {
			return err
		}
		if f.Learned.IsZero() {
			f.Learned = vigil.DateOf(tx.Now(), tx.orgLocation(ctx))
		}
		if f.Learned.After(vigil.DateOf(tx.Now(), tx.orgLocation(ctx))) {
			return vigil.Errorf(vigil.EINVALID, "learned: %s is in the future", f.Learned)
		}
		if f.Aliases == nil {
			f.Aliases = []string{}
		}
		f.FirstSeen = tx.Now()
		id, err := tx.insertID(ctx, `INSERT INTO findings (version_id, comp_key, component, vuln_id, aliases, state, evidence, source, first_seen, learned, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)`, f.VersionID, f.Component.FindingKey(), mustJSON(f.Component), f.Vulnerability,
			mustJSON(f.Aliases), f.State, mustJSON(f.Evidence), f.Source, tx.NowText(), f.Learned.String())
		if err != nil {
			return err
		}
		f.ID = id
		tx.wrote("findings", id)
		if err := tx.Audit(ctx, "finding.create", "finding", idText(id), nil, f, reason); err != nil {
			return err
		}
		f.DeviceID = dev
		evs, err := tx.attachFindings(ctx, []*vigil.Finding{f}, learnedHow(f.Source), reason)
		if err != nil {
			return err
		}
		return tx.auditEvents(ctx, evs)
	})
}

func (db *DB) versionExists(ctx context.Context, tx *Tx, id int64) (int64, error) {
	var dev int64
	err := tx.QueryRowContext(ctx, "SELECT device_id FROM device_versions WHERE id = $1", id).Scan(&dev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, vigil.Errorf(vigil.EINVALID, "version_id: version %d does not exist", id)
	}
	return dev, err
}

func (db *DB) findingExists(ctx context.Context, tx *Tx, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM findings WHERE id = $1", id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("finding", id)
	}
	return nil
}

// attachNew puts the findings of versionIDs that have no case yet (those just opened by matching) in their cases,
// returning the cases' audit events (attachFindings).
func (tx *Tx) attachNew(ctx context.Context, versionIDs []int64) ([]pendingEvent, error) {
	var fs []*vigil.Finding
	for chunk := range slices.Chunk(versionIDs, 500) {
		ids := make([]string, len(chunk))
		for i, v := range chunk {
			ids[i] = idText(v)
		}
		c, err := queryAll(ctx, tx, scanFinding, "SELECT "+findingCols+" FROM findings f JOIN device_versions v ON v.id = f.version_id WHERE f.version_id IN ("+strings.Join(ids, ", ")+") AND f.case_id IS NULL ORDER BY f.id")
		if err != nil {
			return nil, err
		}
		fs = append(fs, c...)
	}
	// By device, each device's in id order: its cases open in the order a sync of each version would open them.
	slices.SortFunc(fs, func(a, b *vigil.Finding) int {
		return cmp.Or(cmp.Compare(a.DeviceID, b.DeviceID), cmp.Compare(a.ID, b.ID))
	})
	return tx.attachFindings(ctx, fs, vigil.LearnedMatch, "matched: a finding of the device joins its case of the vulnerability")
}

// SetFindingState closes or reopens a finding by hand, with a reason.
func (db *DB) SetFindingState(ctx context.Context, id int64, state vigil.FindingState, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetFindingState", id)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if err := vigil.OneOf("state", state, []vigil.FindingState{vigil.FindingOpen, vigil.FindingClosed}); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	return db.transact(ctx, func(tx *Tx) error {
		var old vigil.FindingState
		err := tx.QueryRowContext(ctx, "SELECT state FROM findings WHERE id = $1", id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("finding", id)
		} else if err != nil {
			return err
		}
		var resolved any
		if state == vigil.FindingClosed {
			resolved = tx.NowText()
		}
		if _, err := tx.ExecContext(ctx, "UPDATE findings SET state = $1, resolved_at = $2, updated_at = $3 WHERE id = $4", state, resolved, tx.NowText(), id); err != nil {
			return err
		}
		tx.wrote("findings", id)
		if old == vigil.FindingNeedsReview && state == vigil.FindingOpen {
			// Reopened against the withdrawal: the finding stands on this decision, and the next re-match (the
			// advisory still withdrawn) must not put it back in review.
			if _, err := tx.ExecContext(ctx, "UPDATE findings SET source = 'review' WHERE id = $1 AND source = 'match'", id); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, "finding.state", "finding", idText(id), map[string]vigil.FindingState{"state": old}, map[string]vigil.FindingState{"state": state}, reason)
	})
}

// eventDetailsJSON encodes an event's details keeping an empty element list apart from an absent one: a notice
// recorded with no element ticked holds none of the four (criterion 2 not met), while an absent list means the
// elements were not recorded, which DETERMINATION.md takes as a complete notice. The type's omitempty alone would
// store the first as the second.
func eventDetailsJSON(d vigil.EventData) string {
	type fields vigil.EventData
	out := struct {
		fields
		Elements *[]string `json:"elements,omitempty"`
	}{fields: fields(d)}
	if d.Elements != nil {
		out.Elements = &d.Elements
	}
	return mustJSON(out)
}
