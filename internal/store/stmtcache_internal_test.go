package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
)

// TestStatementCache checks the SQLite read path through prepared statements: answers are the same as unprepared,
// a statement is prepared once, a bad statement fails as it would unprepared (and is not kept), and past the bound
// texts run unprepared rather than grow the cache.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"), vigil.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.db.cache {
		t.Fatal("SQLite must cache statements")
	}
	base := db.db.n.Load()
	for i := range 3 {
		var n int
		if err := db.db.QueryRowContext(ctx, "SELECT $1 + 1", i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
	if got := db.db.n.Load() - base; got != 1 {
		t.Errorf("one text, prepared %d times", got)
	}
	_, err = db.db.QueryContext(ctx, "SELECT nope FROM nowhere")
	if err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("a bad statement must fail naming its fault: %v", err)
	}
	if got := db.db.n.Load() - base; got != 1 {
		t.Errorf("a bad statement was kept: %d cached", got)
	}
	for i := range maxStmts + 10 {
		rows, err := db.db.QueryContext(ctx, fmt.Sprintf("SELECT %d", i))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if !rows.Next() || rows.Scan(&n) != nil || n != i {
			t.Fatalf("SELECT %d: %d", i, n)
		}
		rows.Close()
	}
	if got := db.db.n.Load(); got != maxStmts {
		t.Errorf("cache size %d, bound %d", got, maxStmts)
	}
}
