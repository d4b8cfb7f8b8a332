package store_test

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// tamper runs SQL with the append-only triggers out of the way, as an attacker with database access would.
func tamper(t *testing.T, db *store.DB, stmts ...string) {
	t.Helper()
	sqlDB := db.SQL()
	if db.Engine() == store.Postgres {
		stmts = append([]string{"ALTER TABLE audit_events DISABLE TRIGGER USER"}, append(stmts, "ALTER TABLE audit_events ENABLE TRIGGER USER")...)
	} else {
		stmts = append([]string{"DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"}, stmts...)
	}
	for _, s := range stmts {
		if _, err := sqlDB.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func fiveEvents(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := storetest.Admin()
	seedOrg(t, db)
	for _, n := range []string{"A", "B", "C", "D"} {
		if err := db.CreateDevice(ctx, &vigil.Device{Name: n, Class: "II", Pathway: vigil.Pathway510k}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fiveEvents(t, db)
		for _, s := range []string{"UPDATE audit_events SET reason = 'x' WHERE seq = 2", "DELETE FROM audit_events WHERE seq = 5"} {
			if _, err := db.SQL().Exec(s); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want refusal", s, err)
			}
		}
		if db.Engine() == store.Postgres {
			if _, err := db.SQL().Exec("TRUNCATE audit_events"); err == nil {
				t.Error("TRUNCATE allowed")
			}
		}
	})
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name  string
		stmts []string
		cp    bool // verify against a checkpoint taken before tampering
		want  string
	}{
		{"intact", nil, true, ""},
		{"edited value", []string{`UPDATE audit_events SET new = replace(new, '"B"', '"Z"') WHERE seq = 3`}, false, "audit event 3: content does not match"},
		{"edited actor", []string{`UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 2`}, false, "audit event 2"},
		{"edited and rehashed", []string{`UPDATE audit_events SET reason = 'x', hash = 'f00' WHERE seq = 2`}, false, "audit event 2"},
		{"deleted middle", []string{`DELETE FROM audit_events WHERE seq = 3`}, false, "audit event 4: expected sequence number 3"},
		{"reordered", []string{`UPDATE audit_events SET seq = 100 WHERE seq = 2`, `UPDATE audit_events SET seq = 2 WHERE seq = 3`, `UPDATE audit_events SET seq = 3 WHERE seq = 100`}, false, "audit event 2"},
		{"truncated tail", []string{`DELETE FROM audit_events WHERE seq >= 4`}, true, "truncated or rolled back"},
		{"truncated all", []string{`DELETE FROM audit_events`}, true, "truncated or rolled back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := storetest.Admin()
				fiveEvents(t, db)
				rep, err := db.Verify(ctx, nil)
				if err != nil || rep.Count != 5 {
					t.Fatalf("fresh verify = %v, %v", rep, err)
				}
				cp := vigil.AuditCheckpoint{Count: rep.Count, Head: rep.Head}
				if len(tt.stmts) > 0 {
					tamper(t, db, tt.stmts...)
				}
				var pin *vigil.AuditCheckpoint
				if tt.cp {
					pin = &cp
				}
				_, err = db.Verify(ctx, pin)
				if tt.want == "" {
					if err != nil {
						t.Fatalf("verify: %v", err)
					}
					return
				}
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("verify = %v, want %q", err, tt.want)
				}
			})
		})
	}
}

// A rollback behind a checkpoint that is then re-extended with different events is caught by the head hash.
func TestAuditVerifyRollbackAndRewrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		fiveEvents(t, db)
		cp, _ := db.Checkpoint(ctx)
		tamper(t, db, "DELETE FROM audit_events WHERE seq = 5")
		// Re-enable protection and append a different 5th event through the service.
		if db.Engine() == store.SQLite {
			db.SQL().Exec("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END")
		}
		if err := db.CreateDevice(ctx, &vigil.Device{Name: "E", Class: "II", Pathway: vigil.Pathway510k}); err != nil {
			t.Fatal(err)
		}
		// The rewritten chain is self-consistent, but the device its lost event created has no entry in it.
		if _, err := db.Verify(ctx, nil); err == nil || !strings.Contains(err.Error(), "devices 4: the row has no entry in the audit trail") {
			t.Fatalf("verify without checkpoint = %v", err)
		}
		_, err := db.Verify(ctx, &cp)
		if err == nil || !strings.Contains(err.Error(), "checkpoint") {
			t.Fatalf("verify against checkpoint = %v", err)
		}
	})
}
