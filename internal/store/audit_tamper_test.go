package store_test

import (
	"context"
	"crypto/ed25519"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// trail reads the whole audit trail, oldest first.
func trail(t *testing.T, db *store.DB) []*vigil.AuditEvent {
	t.Helper()
	evs, err := db.Events(storetest.Admin(), vigil.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

// rewriteEvent stores e over the event with its sequence number, as an attacker with the database would.
func rewriteEvent(t *testing.T, db *store.DB, e *vigil.AuditEvent) {
	t.Helper()
	var recs any
	if len(e.Records) > 0 {
		recs = audit.RecordsText(e.Records)
	}
	tamperRecords(t, db)
	if _, err := db.SQL().Exec(`UPDATE audit_events SET object_id = $1, new = $2, reason = $3, prev_hash = $4, hash = $5, records = $6, sig = $7 WHERE seq = $8`,
		e.ObjectID, string(e.New), e.Reason, e.PrevHash, e.Hash, recs, e.Signature, e.Seq); err != nil {
		t.Fatal(err)
	}
}

// forgeAppend appends e after the head with a correct sequence number, previous hash and hash, unsigned: what
// anyone who can write to the database can do without the audit key.
func forgeAppend(t *testing.T, db *store.DB, e *vigil.AuditEvent) {
	t.Helper()
	cp, err := db.Checkpoint(storetest.Admin())
	if err != nil {
		t.Fatal(err)
	}
	audit.Seal(e, cp)
	insertEvent(t, db, e)
}

func insertEvent(t *testing.T, db *store.DB, e *vigil.AuditEvent) {
	t.Helper()
	var recs any
	if len(e.Records) > 0 {
		recs = audit.RecordsText(e.Records)
	}
	if _, err := db.SQL().Exec(`INSERT INTO audit_events (seq, time, actor, action, object_type, object_id, new, reason, prev_hash, hash, records, sig)
		VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9, $10, $11)`, e.Seq, e.Time.UTC().Format(audit.TimeFormat), e.Actor, e.Action, e.ObjectType, e.ObjectID,
		string(e.New), e.PrevHash, e.Hash, recs, e.Signature); err != nil {
		t.Fatal(err)
	}
}

// TestAuditTamperCases is the 22 ways of the issue, and a forged key rotation, that someone with write access to
// the database (its append-only triggers dropped) can try to change the evidence: edit, delete, insert, reorder,
// truncate, roll back and forge appends, on the trail and on the records. Each is run on a signed store on both engines and must be found by `audit
// verify` with the audit key and the newest published checkpoint, naming the event or the record.
func TestAuditTamperCases(t *testing.T) {
	_, attacker, _ := ed25519.GenerateKey(nil)
	type tamper func(t *testing.T, db *store.DB, last int64)
	sql := func(stmts ...string) tamper {
		return func(t *testing.T, db *store.DB, _ int64) { tamperRecords(t, db, stmts...) }
	}
	cases := []struct {
		name   string
		tamper tamper
		want   string      // in the error; {prev}, {last}, {next}: the checkpoint's count less one, itself, plus one
		record *problemKey // the record a problem names, for the record cases
	}{
		// The trail.
		{"trail: edit an event", sql("UPDATE audit_events SET reason = 'approved by QA' WHERE seq = 5"),
			"audit event 5: content does not match its hash", nil},
		{"trail: edit an event and re-hash it", func(t *testing.T, db *store.DB, _ int64) {
			e := trail(t, db)[4]
			e.Reason = "approved by QA"
			e.Hash = audit.Hash(e)
			rewriteEvent(t, db, e)
		}, "audit event 5: signature does not verify", nil},
		{"trail: delete an event", sql("DELETE FROM audit_events WHERE seq = 5"),
			"audit event 6: expected sequence number 5", nil},
		{"trail: insert an event", func(t *testing.T, db *store.DB, _ int64) {
			evs := trail(t, db)
			tamperRecords(t, db, "UPDATE audit_events SET seq = seq + 1000 WHERE seq > 5", "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000")
			e := &vigil.AuditEvent{Time: evs[4].Time, Actor: "user:mallory", Action: "finding.event", ObjectType: "finding", ObjectID: "1"}
			audit.Seal(e, vigil.AuditCheckpoint{Count: 5, Head: evs[4].Hash})
			insertEvent(t, db, e)
		}, "audit event 6 is not signed", nil},
		{"trail: reorder two events", sql("UPDATE audit_events SET seq = 1000 WHERE seq = 5", "UPDATE audit_events SET seq = 5 WHERE seq = 6", "UPDATE audit_events SET seq = 6 WHERE seq = 1000"),
			"audit event 5: previous hash does not match", nil},
		{"trail: truncate the tail", func(t *testing.T, db *store.DB, last int64) {
			tamperRecords(t, db, "DELETE FROM audit_events WHERE seq > "+itoa(last-3))
		}, "the log was truncated or rolled back", nil},
		{"trail: truncate it all", sql("DELETE FROM audit_events"), "the log was truncated or rolled back", nil},
		{"trail: roll the database back to an older copy", func(t *testing.T, db *store.DB, last int64) {
			// What the copy taken before the last write (the monitor) holds: neither that write's row nor its event.
			tamperRecords(t, db, "DELETE FROM devices WHERE id = 2", "DELETE FROM audit_events WHERE seq = "+itoa(last))
		}, "audit trail has {prev} events but the checkpoint has {last}: the log was truncated or rolled back", nil},
		{"trail: forged append with a correct hash", func(t *testing.T, db *store.DB, _ int64) {
			forgeAppend(t, db, &vigil.AuditEvent{Time: ts("2025-06-02T09:00:00Z"), Actor: "user:qa", Action: "finding.state", ObjectType: "finding", ObjectID: "1"})
		}, "audit event {next} is not signed", nil},
		{"trail: rewritten whole and re-signed with another key", func(t *testing.T, db *store.DB, _ int64) {
			head := vigil.AuditCheckpoint{}
			for _, e := range trail(t, db) {
				if e.Action == audit.KeyAction {
					e.ObjectID, e.New = audit.KeyEvent(attacker.Public().(ed25519.PublicKey))
				}
				if e.Seq == 5 {
					e.Reason = "approved by QA"
				}
				audit.Seal(e, head)
				audit.SignEvent(attacker, e)
				rewriteEvent(t, db, e)
				head = vigil.AuditCheckpoint{Count: e.Seq, Head: e.Hash}
			}
		}, "the log was rewritten or rolled back behind the checkpoint", nil},
		{"trail: signatures stripped", sql("UPDATE audit_events SET sig = ''"), "the trail had no key in force at its event {last}", nil},
		{"trail: a forged rotation to the attacker's key, then events it signs", func(t *testing.T, db *store.DB, last int64) {
			head, err := db.Checkpoint(storetest.Admin())
			if err != nil {
				t.Fatal(err)
			}
			var inForce ed25519.PublicKey
			for _, e := range trail(t, db) {
				if e.Action == audit.KeyAction {
					inForce, _ = audit.EnrolledKey(e)
				}
			}
			id, payload := audit.RotationEvent(inForce, attacker, head.Head)
			for _, e := range []*vigil.AuditEvent{
				{Actor: "system:cli", Action: audit.RotateAction, ObjectType: "audit_key", ObjectID: id, New: payload},
				{Actor: "user:qa", Action: "finding.state", ObjectType: "finding", ObjectID: "1"},
			} {
				e.Time = ts("2025-06-02T09:00:00Z")
				audit.Seal(e, head)
				audit.SignEvent(attacker, e)
				insertEvent(t, db, e)
				head = vigil.AuditCheckpoint{Count: e.Seq, Head: e.Hash}
			}
		}, "audit event {next}: signature does not verify with the audit key in force", nil},

		// The records.
		{"record: edit a determination", sql(`UPDATE assessments SET risk = 'controlled', data = replace(data, '"uncontrolled"', '"controlled"') WHERE id = 1`),
			"assessments 1: the row differs from the state audit event", &problemKey{"assessments", "1"}},
		{"record: edit a customer_notified date", sql("UPDATE case_events SET date = '2025-05-20' WHERE id = 1"),
			"case_events 1: the row differs", &problemKey{"case_events", "1"}},
		{"record: edit a finding's state", sql("UPDATE findings SET state = 'open', resolved_at = NULL WHERE id = 2"),
			"findings 2: the row differs", &problemKey{"findings", "2"}},
		{"record: edit a user", sql("UPDATE users SET disabled = true WHERE id = 1"),
			"users 1: the row differs", &problemKey{"users", "1"}},
		{"record: delete an assessment", sql("DELETE FROM isao_citations", "DELETE FROM assessment_threats", "DELETE FROM assessments"),
			"assessments 1: the row is missing", &problemKey{"assessments", "1"}},
		{"record: insert an event", sql(`INSERT INTO case_events (case_id, type, date, details, note, created_at, actor)
			VALUES (1, 'fix_validated', '2025-06-01', '{}', 'validated', '2025-06-02T09:00:00.000000000Z', 'user:qa')`),
			"case_events 2: the row has no entry in the audit trail", &problemKey{"case_events", "2"}},
		{"record: insert a link", sql("INSERT INTO assessment_threats (assessment_id, threat_id) VALUES (1, 2)"),
			"assessments 1: the row differs", &problemKey{"assessments", "1"}},
		{"record: reorder two rows", sql("UPDATE findings SET vuln_id = 'swap' WHERE id = 1", "UPDATE findings SET vuln_id = 'CVE-2025-0001' WHERE id = 2", "UPDATE findings SET vuln_id = 'CVE-2024-0002' WHERE id = 1"),
			"findings 1: the row differs", &problemKey{"findings", "2"}},
		{"record: truncate a table", sql("DELETE FROM case_events"),
			"case_events 1: the row is missing", &problemKey{"case_events", "1"}},
		{"record: roll one back to an earlier state", sql("UPDATE users SET role = 'psirt' WHERE id = 1"),
			"users 1: the row differs", &problemKey{"users", "1"}},
		{"record: edit and forge the append that records it", func(t *testing.T, db *store.DB, _ int64) {
			tamperRecords(t, db, "UPDATE assessments SET risk = 'controlled' WHERE id = 1")
			hash, err := store.RecordHash(context.Background(), db, "assessments", 1)
			if err != nil {
				t.Fatal(err)
			}
			forgeAppend(t, db, &vigil.AuditEvent{Time: ts("2025-06-02T09:00:00Z"), Actor: "user:qa", Action: "finding.assess", ObjectType: "finding", ObjectID: "1",
				Records: []vigil.AuditRecord{{Table: "assessments", Key: "1", Hash: hash}}})
		}, "audit event {next} is not signed", nil},
	}
	if len(cases) != 23 {
		t.Fatalf("%d tamper cases, want the 23", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, engine := range storetest.Engines {
				t.Run(engine, func(t *testing.T) {
					dsn, seeded := tamperSeed.DSN(t, engine, seedTamper)
					db, err := store.Open(context.Background(), dsn, storetest.NewClock(seeded.at), store.WithAuditKey(seeded.key), store.WithSecretKey(storetest.SecretKey))
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					ctx := storetest.Admin()
					cp, err := db.Checkpoint(ctx)
					if err != nil || cp.Count < 10 {
						t.Fatalf("checkpoint = %+v, %v; want the fixture's events and the monitor's", cp, err)
					}
					cp.Time = ts("2025-06-02T09:00:00Z")
					audit.SignCheckpoint(seeded.key, &cp)
					if rep, err := db.Verify(ctx, &cp); err != nil || rep.Signed != cp.Count {
						t.Fatalf("verify before tampering = %+v, %v", rep, err)
					}
					tc.tamper(t, db, cp.Count)
					rep, err := db.Verify(ctx, &cp)
					want := strings.NewReplacer("{prev}", itoa(cp.Count-1), "{last}", itoa(cp.Count), "{next}", itoa(cp.Count+1)).Replace(tc.want)
					if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), want) {
						t.Fatalf("verify = %v\nwant EINVALID with %q\nproblems: %+v", err, want, rep.Problems)
					}
					if tc.record != nil && !slices.Contains(problemKeys(rep), *tc.record) {
						t.Errorf("no problem names %s %s: %+v", tc.record.table, tc.record.key, rep.Problems)
					}
				})
			}
		})
	}
}

// tamperSeed is the signed store the tamper cases each get a copy of: the audited fixture, then a device
// ("Monitor") whose write is the trail's last event.
var tamperSeed storetest.Seed[tamperSeeded]

type tamperSeeded struct {
	key ed25519.PrivateKey // the audit key
	at  time.Time          // the clock after the seeding
}

func seedTamper(t testing.TB, dsn string) tamperSeeded {
	_, key, _ := ed25519.GenerateKey(nil)
	clock := storetest.NewClock(ts("2025-06-02T09:00:00Z"))
	db, err := store.Open(context.Background(), dsn, clock, store.WithAuditKey(key), store.WithSecretKey(storetest.SecretKey))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	auditedFixture(t, db)
	if err := db.CreateDevice(storetest.Admin(), &vigil.Device{Name: "Monitor", Class: "II", Pathway: vigil.Pathway510k}); err != nil {
		t.Fatal(err)
	}
	return tamperSeeded{key: key, at: clock.T}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
