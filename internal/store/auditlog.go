package store

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
)

var _ vigil.AuditService = (*DB)(nil)

const auditCols = "seq, time, actor, action, object_type, object_id, old, new, reason, prev_hash, hash, records, sig"

func scanAudit(row interface{ Scan(...any) error }) (*vigil.AuditEvent, error) {
	var e vigil.AuditEvent
	var t, o, n, recs sql.NullString
	if err := row.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &o, &n, &e.Reason, &e.PrevHash, &e.Hash, &recs, &e.Signature); err != nil {
		return nil, err
	}
	var err error
	if e.Records, err = audit.ParseRecords(recs.String); err != nil {
		// Stored text that does not parse was not written by Vigil: verification reports the event as edited.
		e.Records = []vigil.AuditRecord{{Table: "?", Key: recs.String}}
	}
	e.Time = parseTime(t)
	if o.Valid {
		e.Old = []byte(o.String)
	}
	if n.Valid {
		e.New = []byte(n.String)
	}
	return &e, nil
}

// Events returns audit events matching f, newest first.
func (db *DB) Events(ctx context.Context, f vigil.AuditFilter) (_ []*vigil.AuditEvent, err error) {
	defer vigil.Wrap(&err, "store.Events", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+idText(int64(len(args)))))
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action LIKE ?", strings.TrimSuffix(f.Action, "*")+"%")
	}
	if f.ObjectType != "" {
		add("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("object_id = ?", f.ObjectID)
	}
	if !f.Since.IsZero() {
		add("time >= ?", timeText(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", timeText(f.Until))
	}
	q := "SELECT " + auditCols + " FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	q += " ORDER BY seq DESC LIMIT " + idText(int64(limit))
	return queryAll(ctx, db.db, scanAudit, q, args...)
}

// Checkpoint returns the current count and head hash of the trail.
func (db *DB) Checkpoint(ctx context.Context) (_ vigil.AuditCheckpoint, err error) {
	defer vigil.Wrap(&err, "store.Checkpoint", nil)
	var cp vigil.AuditCheckpoint
	err = db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_events").Scan(&cp.Count)
	if err != nil {
		return cp, err
	}
	err = db.db.QueryRowContext(ctx, "SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&cp.Head)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return cp, err
}

// HashAt returns the hash of event seq, or "" when the trail has none.
func (db *DB) HashAt(ctx context.Context, seq int64) (_ string, err error) {
	defer vigil.Wrap(&err, "store.HashAt", seq)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return "", err
	}
	var hash string
	err = db.db.QueryRowContext(ctx, "SELECT hash FROM audit_events WHERE seq = $1", seq).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return hash, err
}

// SignTrail appends the event that enrolls the store's audit key when the trail's head is not signed yet, so
// that a checkpoint taken next covers a signed head. Needs PermAuditVerify.
func (db *DB) SignTrail(ctx context.Context) (err error) {
	defer vigil.Wrap(&err, "store.SignTrail", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return err
	}
	if db.auditKey == nil {
		return vigil.Errorf(vigil.EINVALID, "no audit key: give it with --audit-key FILE or $VIGIL_AUDIT_KEY")
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.db.dialect.lock(ctx, tx, auditLock); err != nil {
			return err
		}
		head, err := tx.auditHead(ctx)
		if err != nil {
			return err
		}
		_, err = tx.enrollKey(ctx, head)
		return err
	})
}

// RotateKey retires the store's audit key for next: it appends the rotation event, signed by the key in force and
// carrying next's proof (audit.RotationEvent), after which every event must be signed by next. This store keeps
// the retired key and can no longer write: reopen it with next. Needs PermAuditVerify and a reason.
func (db *DB) RotateKey(ctx context.Context, next ed25519.PrivateKey, reason string) (seq int64, err error) {
	defer vigil.Wrap(&err, "store.RotateKey", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return 0, err
	}
	if db.auditKey == nil {
		return 0, vigil.Errorf(vigil.EINVALID, "rotating the audit key needs the key in force: give it with --audit-key FILE or $VIGIL_AUDIT_KEY")
	}
	if strings.TrimSpace(reason) == "" {
		return 0, vigil.Errorf(vigil.EINVALID, "reason: required (why the key is rotated)")
	}
	old := db.auditKey.Public().(ed25519.PublicKey)
	if old.Equal(next.Public()) {
		return 0, vigil.Errorf(vigil.EINVALID, "the new audit key is the key in force")
	}
	err = db.transact(ctx, func(tx *Tx) error {
		if err := vigil.Text("reason", reason, vigil.MaxText); err != nil {
			return err
		}
		if err := tx.db.dialect.lock(ctx, tx, auditLock); err != nil {
			return err
		}
		last, err := tx.auditHead(ctx)
		if err != nil {
			return err
		}
		head, err := tx.enrollKey(ctx, last)
		if err != nil {
			return err
		}
		id, payload := audit.RotationEvent(old, next, head.Head)
		e := &vigil.AuditEvent{Time: tx.now, Actor: tx.actor.String(), Action: audit.RotateAction, ObjectType: "audit_key",
			ObjectID: id, New: payload, Reason: reason}
		cp, err := tx.appendEvent(ctx, e, head)
		seq = cp.Count
		return err
	})
	return seq, err
}

// Verify recomputes the whole chain in sequence order, streaming, checks it still extends cp when given, checks
// the signatures (by the keys the trail enrolled and rotated to, which must include the store's audit key and a
// signed cp's key, the latter in force at its event) and
// reconciles every live row of every audited table with the state the trail last recorded for it. It reads one
// snapshot, so writes that commit meanwhile neither show nor count.
func (db *DB) Verify(ctx context.Context, cp *vigil.AuditCheckpoint) (_ vigil.AuditReport, err error) {
	defer vigil.Wrap(&err, "store.Verify", nil)
	var key ed25519.PublicKey
	if db.auditKey != nil {
		key = db.auditKey.Public().(ed25519.PublicKey)
	}
	if cp != nil && cp.Signature != "" {
		if _, err := audit.VerifyCheckpoint("", *cp); err != nil {
			return vigil.AuditReport{}, err
		}
	}
	v := audit.NewVerifier(cp, key)
	err = db.snapshot(ctx, func(q querier) error {
		var stop error
		err := eachRow(ctx, q, "SELECT "+auditCols+" FROM audit_events ORDER BY seq", nil, func(rows *sql.Rows) error {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if stop = v.Next(e); stop != nil {
				return errStop
			}
			return nil
		})
		if stop != nil || err != nil {
			return cmp.Or(stop, err)
		}
		for _, t := range auditedTables {
			if err := readRecords(ctx, q, t, nil, func(id int64, hash string) { v.Row(t.name, idText(id), hash) }); err != nil {
				return err
			}
			v.Missing(t.name)
		}
		return verifySignatures(ctx, q, v)
	})
	if vigil.ErrorCode(err) == vigil.EINVALID {
		return v.Report(), err
	}
	if err != nil {
		return vigil.AuditReport{}, err
	}
	return v.Done()
}

// errStop ends a row loop early; the reason is kept by the caller.
var errStop = errors.New("stop")

// auditedTables is the registry of audited tables: every row of these is reconciled with the audit trail by
// Verify, so every write to one must name the rows it wrote (tx.wrote) before the tx.Audit of that change, which
// records the state each was left in. A table added to an audited use case is added here, in the same commit as
// the migration that creates it (docs/ARCHITECTURE.md, "The audit trail"). Each has an integer primary key id;
// a link table whose rows belong to one record (a threat's assets) is a child of that record's table and hashed
// with it, so adding or removing a link changes its parent's state.
var auditedTables = []auditedTable{
	{name: "orgs", children: []childTable{{"intake_policy", "org_id"}}}, // the published CVD policy is the org's
	{name: "devices"},
	{name: "device_versions"},
	{name: "consignees", children: []childTable{{"consignee_units", "consignee_id"}}},
	{name: "sboms"},
	// The password hash is rewritten with stronger parameters at sign-in, as bookkeeping without an event; a
	// password change is its own audited event (user.password) all the same.
	// A user's identities at the organization's OIDC provider belong to it.
	{name: "users", omit: []string{"password_hash"}, children: []childTable{{"user_identities", "user_id"}}},
	{name: "tokens", omit: []string{"last_used"}}, // last_used: bookkeeping at each use
	{name: "cases"},
	{name: "findings"},
	{name: "assessments", children: []childTable{{"assessment_threats", "assessment_id"}}},
	{name: "case_events"},
	{name: "case_retractions"},
	{name: "case_vex"},
	{name: "case_disclosures"},
	{name: "tm_assets"},
	{name: "tm_threats", children: []childTable{{"tm_threat_assets", "threat_id"}}},
	{name: "tm_controls", children: []childTable{{"tm_control_threats", "control_id"}}},
	// A report's thread, attachments and triage links belong to it.
	{name: "intake_reports", children: []childTable{{"intake_messages", "report_id"}, {"intake_attachments", "report_id"}, {"intake_links", "report_id"}}},
	{name: "vex_documents"},
	{name: "vex_proposals"},
	// Remediation (issue 13): plan versions and deployment reports are appended; a fix release gains its V&V
	// record, its distribution and the case event it recorded.
	{name: "remediation_plans"},
	{name: "fix_releases"},
	{name: "remediation_deployments"},
	{name: "regdoc_records"},
	{name: "notices"},
	{name: "signatures"}, // Part 11 signatures; verify also checks each still matches the record it signs
	// The acts that need a signature (changes of the setting) and the records of signed acts (issue 18).
	{name: "signature_requirements"},
	{name: "act_records"},
	// Notification rules (issue 18): a webhook rule's secret is in the row, so its hash covers it.
	{name: "notify_rules"},
	// ISAO participation (§IX evidence): memberships, their documents (the row names the content's SHA-256), the
	// sharing log and the assessments' citations of ISAO intelligence. The signals themselves are intelligence.
	{name: "isao_memberships"},
	{name: "isao_documents"},
	{name: "isao_shares"},
	{name: "isao_citations"},
	{name: "saved_filters"}, // a user's saved list filters
	{name: "advisories"},
}

// auditedTable is one audited table: its name, the columns left out of its records (written by bookkeeping that
// is not an audited change), and its child link tables.
type auditedTable struct {
	name     string
	omit     []string
	children []childTable
}

// childTable is a link table whose rows belong to the record named by its parent column.
type childTable struct {
	name, parent string
}

func lookupAudited(name string) (auditedTable, bool) {
	for _, t := range auditedTables {
		if t.name == name {
			return t, true
		}
	}
	return auditedTable{}, false
}

// recordStates reads the audited rows named (table → ids) and returns the state each is in: its hash, "" for a
// row that is gone.
func (tx *Tx) recordStates(ctx context.Context, rows map[string][]int64) (map[string]map[int64]string, error) {
	out := make(map[string]map[int64]string, len(rows))
	for name, ids := range rows {
		t, ok := lookupAudited(name)
		if !ok {
			return nil, fmt.Errorf("audit: %s is not an audited table (store.auditedTables)", name)
		}
		ids = slices.Compact(slices.Sorted(slices.Values(ids)))
		hashes := make(map[int64]string, len(ids))
		for chunk := range slices.Chunk(ids, 500) {
			if err := readRecords(ctx, tx, t, chunk, func(id int64, hash string) { hashes[id] = hash }); err != nil {
				return nil, err
			}
		}
		out[name] = hashes
	}
	return out, nil
}

// readRecords reads the rows of t with the given ids (every row when ids is nil), with their children, and calls
// fn with each one's id and audit.RowHash, in id order.
func readRecords(ctx context.Context, q querier, t auditedTable, ids []int64, fn func(id int64, hash string)) error {
	return readRows(ctx, q, t, ids, func(id int64, r audit.Row) { fn(id, audit.RowHash(t.name, r)) })
}

// readRows reads the rows of t with the given ids (every row when ids is nil), with their children, and calls fn
// with each one's id and state, in id order.
func readRows(ctx context.Context, q querier, t auditedTable, ids []int64, fn func(id int64, r audit.Row)) error {
	if ids != nil && len(ids) == 0 {
		return nil
	}
	where := func(col string) string {
		if ids == nil {
			return ""
		}
		return " WHERE " + col + " IN (" + idList(ids) + ")"
	}
	kids := map[string]map[int64][]map[string]any{}
	for _, c := range t.children {
		byParent := map[int64][]map[string]any{}
		err := eachMap(ctx, q, "SELECT * FROM "+c.name+where(c.parent), nil, func(row map[string]any) error {
			parent, ok := row[c.parent].(int64)
			if !ok {
				return fmt.Errorf("%s.%s: %T, not an integer", c.name, c.parent, row[c.parent])
			}
			delete(row, c.parent)
			byParent[parent] = append(byParent[parent], row)
			return nil
		})
		if err != nil {
			return err
		}
		kids[c.name] = byParent
	}
	return eachMap(ctx, q, "SELECT * FROM "+t.name+where("id")+" ORDER BY id", t.omit, func(row map[string]any) error {
		id, ok := row["id"].(int64)
		if !ok {
			return fmt.Errorf("%s.id: %T, not an integer", t.name, row["id"])
		}
		r := audit.Row{Cols: row}
		if len(t.children) > 0 {
			r.Children = map[string][]map[string]any{}
			for _, c := range t.children {
				r.Children[c.name] = kids[c.name][id]
			}
		}
		fn(id, r)
		return nil
	})
}

// eachMap runs query and calls fn with each row as column → value (without the omitted columns), values as
// audit.Row wants them: the same for the same row on both engines.
func eachMap(ctx context.Context, q querier, query string, omit []string, fn func(map[string]any) error) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			if !slices.Contains(omit, c) {
				row[c] = recordValue(vals[i])
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// recordValue maps what a driver returns to one form: SQLite stores booleans as integers, PostgreSQL returns
// them as bool; text may come back as bytes.
func recordValue(v any) any {
	switch x := v.(type) {
	case nil, int64, float64, string:
		return x
	case []byte:
		return string(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case int32:
		return int64(x)
	case time.Time:
		return x.UTC().Format(audit.TimeFormat)
	default:
		return fmt.Sprint(x)
	}
}

func scanID(row interface{ Scan(...any) error }) (id int64, err error) {
	return id, row.Scan(&id)
}

func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(idText(id))
	}
	return b.String()
}

// snapshot runs fn on one connection inside a read-only transaction, so that everything it reads is one state of
// the database. On SQLite the transaction is deferred (a reader in WAL mode), not the store's usual immediate
// one that would hold the write lock.
func (db *DB) snapshot(ctx context.Context, fn func(q querier) error) error {
	conn, err := db.db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, db.dialect.snapshot); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	return fn(conn)
}

// attestAt names the migrations after which the rows of the audited tables are attested: each wrote rows (or
// changed the columns of rows) without an audit event, so one audit.attest event records the state of every row
// as found at the upgrade, saying so. Attestation runs once, right after the migrations that Migrate applied.
var attestAt = map[int64]string{
	16:                      "records written before audit events carried the state of the rows they wrote: attested as found at the upgrade (migration 16)",
	MigrationISAO:           "ISAO memberships moved from the organization's JSON column to their own tables, each evidence string an undated note document of its §IX item (migration 28)",
	MigrationCaseDisclosure: "disclosure coordination moved from reports to the cases they were triaged into (migration 32)",
	MigrationStepUp:         "webhook signing secrets sealed under the secret key, each bound to its rule (migration 41)",
	MigrationCases:          "the finding-level FDA flow moved to cases: each device's findings of one vulnerability grouped into a case, their assessments and events moved to it keeping their ids (migration 20)",
}

// attestMigrated appends the attestation of the migrations in (from, to] that have one: one event, since each
// records every audited row as found at the upgrade, named after the first and giving every reason.
func (db *DB) attestMigrated(ctx context.Context, from, to int64) error {
	var first int64
	var reasons []string
	for _, v := range slices.Sorted(maps.Keys(attestAt)) {
		if v <= from || v > to {
			continue
		}
		if first == 0 {
			first = v
		}
		reasons = append(reasons, attestAt[v])
	}
	if first == 0 {
		return nil
	}
	if err := db.attest(ctx, first, strings.Join(reasons, "; ")); err != nil {
		return fmt.Errorf("migration %d: attest the audited rows: %w", first, err)
	}
	return nil
}

// attest appends one audit.attest event recording the state of every row of every audited table (none when
// there is no row: a new store).
func (db *DB) attest(ctx context.Context, migration int64, reason string) error {
	ctx = vigil.WithActor(ctx, vigil.Actor{System: true, Name: "migrate"})
	return db.transact(ctx, func(tx *Tx) error {
		counts := map[string]int{}
		for _, t := range auditedTables {
			ids, err := queryAll(ctx, tx, scanID, "SELECT id FROM "+t.name)
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				tx.wrote(t.name, ids...)
				counts[t.name] = len(ids)
			}
		}
		if len(counts) == 0 {
			return nil
		}
		return tx.Audit(ctx, "audit.attest", "schema", idText(migration), nil, map[string]any{"rows": counts}, reason)
	})
}
