package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// failWrites makes every UPDATE and INSERT on table fail, as a full disk would: on PostgreSQL with the disk_full
// code itself, on SQLite (where no statement can raise SQLITE_FULL at will) with an abort.
func failWrites(t *testing.T, db *store.DB, table string) {
	t.Helper()
	stmts := []string{"CREATE TRIGGER fail_" + table + " BEFORE INSERT OR UPDATE ON " + table + " FOR EACH ROW EXECUTE FUNCTION fail_write()"}
	if db.Engine() == store.Postgres {
		stmts = append([]string{`CREATE OR REPLACE FUNCTION fail_write() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$`}, stmts...)
	} else {
		stmts = []string{
			"CREATE TRIGGER fail_" + table + "_u BEFORE UPDATE ON " + table + " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
			"CREATE TRIGGER fail_" + table + "_i BEFORE INSERT ON " + table + " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
		}
	}
	for _, s := range stmts {
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// holdWriteLock takes what another writer would hold for the rest of the test: SQLite's write lock, or on
// PostgreSQL the tables' locks that an UPDATE must wait for.
func holdWriteLock(t *testing.T, db *store.DB, tables ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	begin := []string{"BEGIN IMMEDIATE"}
	if db.Engine() == store.Postgres {
		begin = []string{"BEGIN", "LOCK TABLE " + strings.Join(tables, ", ") + " IN EXCLUSIVE MODE"}
	}
	for _, s := range begin {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
	})
}

// TestBookkeepingIsBestEffort: a request's bookkeeping write (a token's last use, a session's last activity) that
// fails, because the disk is full or another writer holds the lock, does not fail the request it accompanies. It
// used to: every token GET and every page load answered 500 during a feed sync or on a full disk.
func TestBookkeepingIsBestEffort(t *testing.T) {
	for _, tt := range []struct {
		name   string
		break_ func(t *testing.T, db *store.DB)
	}{
		{"writes fail (full disk)", func(t *testing.T, db *store.DB) {
			failWrites(t, db, "tokens")
			failWrites(t, db, "sessions")
		}},
		{"another writer holds the lock", func(t *testing.T, db *store.DB) { holdWriteLock(t, db, "tokens", "sessions") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, engine := range storetest.Engines {
				t.Run(engine, func(t *testing.T) {
					t0 := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
					clock := storetest.NewClock(t0)
					db := storetest.Open(t, engine, clock)
					seedTeam(t, db)
					_, secret := newToken(t, db, "alice", "ci")
					cookie := login(t, db, "bob")
					clock.T = t0.Add(2 * time.Minute) // both are due a bookkeeping write, the session not yet idle
					tt.break_(t, db)
					a, err := db.TokenActor(context.Background(), secret)
					if err != nil || a.Name != "alice" {
						t.Errorf("TokenActor = %+v, %v; want alice", a, err)
					}
					s, err := db.SessionBySecret(context.Background(), cookie)
					if err != nil || s.User.Name != "bob" {
						t.Errorf("SessionBySecret = %+v, %v; want bob's session", s, err)
					}
					var used sql.NullString
					if err := db.SQL().QueryRow("SELECT last_used FROM tokens").Scan(&used); err == nil && used.Valid {
						t.Errorf("last_used = %q: the write was not blocked, the test proves nothing", used.String)
					}
				})
			}
		})
	}
}

// TestHealthProbesWrites: Health takes a real write, so a database that answers reads but cannot write (full disk,
// a write lock held by a stuck process) is reported, with a reason and without internals.
func TestHealthProbesWrites(t *testing.T) {
	for _, tt := range []struct {
		name      string
		break_    func(t *testing.T, db *store.DB)
		wantWrite string // "" for healthy
	}{
		{"healthy", func(*testing.T, *store.DB) {}, ""},
		{"writes fail", func(t *testing.T, db *store.DB) { failWrites(t, db, "kv") }, "the database"},
		{"write lock held", func(t *testing.T, db *store.DB) { holdWriteLock(t, db, "kv") }, "did not answer within"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				tt.break_(t, db)
				readErr, writeErr := db.Health(context.Background())
				if readErr != nil {
					t.Errorf("read: %v", readErr)
				}
				switch {
				case tt.wantWrite == "" && writeErr != nil:
					t.Errorf("write: %v, want healthy", writeErr)
				case tt.wantWrite != "" && (vigil.ErrorCode(writeErr) != vigil.EUNAVAILABLE || !strings.Contains(writeErr.Error(), tt.wantWrite)):
					t.Errorf("write: %v (%s), want EUNAVAILABLE containing %q", writeErr, vigil.ErrorCode(writeErr), tt.wantWrite)
				}
				if writeErr != nil && strings.Contains(strings.ToUpper(writeErr.Error()), "INSERT") {
					t.Errorf("the message leaks SQL: %v", writeErr)
				}
			})
		})
	}
}
