package store_test

import (
	"database/sql"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestStatisticsAfterLargeImport checks that a large import leaves PostgreSQL's planner statistics fresh (stale
// ones made the matcher scan the whole affected index per look-up) and a small one does not pay for it.
func TestStatisticsAfterLargeImport(t *testing.T) {
	db := storetest.Open(t, store.Postgres, nil)
	analyzed := func() bool {
		t.Helper()
		var last sql.NullString
		if err := db.SQL().QueryRow("SELECT last_analyze::text FROM pg_stat_user_tables WHERE relname = 'intel_affected'").Scan(&last); err != nil {
			t.Fatal(err)
		}
		return last.Valid
	}
	adv := func(id string) vigil.Advisory {
		a := ghsa("2024-05-01T00:00:00Z", "3.15.2")
		a.ID, a.Aliases = id, nil
		return a
	}
	put(t, db, adv("GHSA-aaaa-aaaa-0001"))
	if analyzed() {
		t.Fatalf("a one-advisory import analyzed the tables")
	}
	defer store.SetAnalyzeThreshold(2)()
	put(t, db, adv("GHSA-aaaa-aaaa-0002"), adv("GHSA-aaaa-aaaa-0003"))
	if !analyzed() {
		t.Errorf("an import over the threshold left the statistics as they were")
	}
}
