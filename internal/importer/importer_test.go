package importer_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func imp(db *store.DB) *importer.Importer { return &importer.Importer{Store: db} }

// sums indexes a run's summaries by source as {added, updated, unchanged, withdrawn, rejected}.
func sums(res *importer.Result) map[string][5]int {
	out := map[string][5]int{}
	for _, s := range res.Summaries {
		out[s.Source] = [5]int{s.Added, s.Updated, s.Unchanged, s.Withdrawn, len(s.Rejected)}
	}
	return out
}

// checksum hashes every row of every table but except, so a test can show that a failed run left the store
// exactly as it was.
func checksum(t *testing.T, db *store.DB, except ...string) string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if db.Engine() == store.Postgres {
		q = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
	}
	tables := query(t, db.SQL(), q)
	h := sha256.New()
	for _, tb := range tables {
		if slices.Contains(except, tb[0]) {
			continue
		}
		rows := query(t, db.SQL(), "SELECT * FROM "+tb[0])
		lines := make([]string, len(rows))
		for i, r := range rows {
			lines[i] = strings.Join(r, "\x1f")
		}
		slices.Sort(lines)
		fmt.Fprintf(h, "%s:%d\n%s\n", tb[0], len(lines), strings.Join(lines, "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func query(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			r[i] = fmt.Sprintf("%v", v)
			if b, ok := v.([]byte); ok {
				r[i] = string(b)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func auditEvents(t *testing.T, db *store.DB) int {
	return count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'intel.import'")
}

func TestImportOSVCorpusTwice(t *testing.T) {
	corpus := testfix.Path(t, "osv-corpus")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		var last importer.Progress
		res, err := imp(db).Import(ctx, []string{corpus}, importer.Options{Progress: func(p importer.Progress) { last = p }})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summaries[0]
		if s.Source != vigil.SourceOSV || s.Added+s.Withdrawn != 13946 || s.Updated != 0 || s.Unchanged != 0 || len(s.Rejected) != 0 {
			t.Fatalf("first import = %+v, want 13,946 records added or withdrawn, none rejected", s)
		}
		if last.Records != 13946 || last.Bytes != last.TotalBytes || last.TotalBytes == 0 {
			t.Errorf("progress = %+v, want all records and bytes", last)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM intel_advisories"); got != 13946 {
			t.Errorf("advisories stored = %d", got)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM intel_advisories WHERE withdrawn = $1", true); got != s.Withdrawn {
			t.Errorf("withdrawn stored = %d, summary says %d", got, s.Withdrawn)
		}
		if len(res.Changed) == 0 {
			t.Error("no changed package keys reported")
		}
		before := checksum(t, db, "intel_runs", "audit_events")
		events := auditEvents(t, db)

		res, err = imp(db).Import(ctx, []string{corpus}, importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"osv": {0, 0, 13946, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("re-import (-want +got):\n%s", diff)
		}
		if got := auditEvents(t, db); got != events+1 {
			t.Errorf("intel.import events %d → %d, want one per run", events, got)
		}
		// Nothing but the run's own record and audit event may differ.
		if got := checksum(t, db, "intel_runs", "audit_events"); got != before {
			t.Error("re-import rewrote data")
		}
	})
}
