package store

import (
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestMigrationNumbers fails fast, naming the files, when two migrations of an engine share a number or the two
// engines do not list the same numbers. Engineers land in parallel and each takes "the next free number": two
// landings with the same number make goose refuse to open every store, and a migration added on one engine only
// leaves the other's schema behind. The Go migrations' numbers must be free on both too.
func TestMigrationNumbers(t *testing.T) {
	goMigrations := map[int64]string{
		matchRecordsMigration(sqliteDialect).Version: "the Go migration (intelmatch.go)",
		MigrationCases:        "the Go migration (casesmigration.go)",
		MigrationISAO:         "the Go migration (isaomigration.go)",
		MigrationSealSMTP:     "the Go migration (smtpmigration.go)",
		MigrationAdvisoryData: "the Go migration (inteldata.go)",
		MigrationMatchOrder:   "the Go migration (intelmatch.go)",
		MigrationStepUp:       "the Go migration (stepupmigration.go)",
		MigrationComponentIDs: "the Go migration (compkeys.go)",
	}
	numbers := map[string][]int64{}
	for _, d := range []*dialect{sqliteDialect, postgresDialect} {
		entries, err := fs.ReadDir(migrations, d.migrations)
		if err != nil {
			t.Fatal(err)
		}
		byNumber := maps.Clone(goMigrations)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || path.Ext(name) != ".sql" {
				t.Errorf("%s/%s: only numbered .sql files belong in a migrations folder", d.migrations, name)
				continue
			}
			prefix, _, ok := strings.Cut(name, "_")
			n, err := strconv.ParseInt(prefix, 10, 64)
			if !ok || err != nil || n <= 0 {
				t.Errorf("%s/%s: the name must start with its number and an underscore (00018_name.sql)", d.migrations, name)
				continue
			}
			if other, dup := byNumber[n]; dup {
				t.Errorf("%s: %s and %s share number %d: rebase and renumber the later landing to the next free number", d.migrations, other, name, n)
				continue
			}
			byNumber[n] = name
			numbers[d.migrations] = append(numbers[d.migrations], n)
		}
	}
	sqlite, postgres := numbers[sqliteDialect.migrations], numbers[postgresDialect.migrations]
	for _, n := range sqlite {
		if !slices.Contains(postgres, n) {
			t.Errorf("migration %d is in %s but not in %s: every migration has a file for each engine", n, sqliteDialect.migrations, postgresDialect.migrations)
		}
	}
	for _, n := range postgres {
		if !slices.Contains(sqlite, n) {
			t.Errorf("migration %d is in %s but not in %s: every migration has a file for each engine", n, postgresDialect.migrations, sqliteDialect.migrations)
		}
	}
}
