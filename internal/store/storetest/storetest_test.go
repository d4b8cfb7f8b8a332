package storetest_test

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestSeed: a seeded store is built once per engine, its value handed to every caller, and each caller gets a copy
// of its own: what one test writes no other sees, and the seed's rows are in each.
func TestSeed(t *testing.T) {
	var seed storetest.Seed[int64]
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			seeded := 0
			open := func(t *testing.T) (*store.DB, int64) {
				dsn, id := seed.DSN(t, engine, func(t testing.TB, dsn string) int64 {
					seeded++
					db, err := store.Open(context.Background(), dsn, nil)
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					d := &vigil.Device{Name: "Seeded pump", Class: "II", Pathway: vigil.Pathway510k}
					must := storetest.Must(t)
					must(db.CreateOrg(storetest.Admin(), &vigil.Organization{Name: "Acme", TimeZone: "UTC"}))
					must(db.CreateDevice(storetest.Admin(), d))
					return d.ID
				})
				db, err := store.Open(context.Background(), dsn, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db, id
			}
			names := func(db *store.DB) []string {
				ds, err := db.Devices(storetest.Admin())
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, d := range ds {
					out = append(out, d.Name)
				}
				return out
			}
			first, id := open(t)
			if err := first.CreateDevice(storetest.Admin(), &vigil.Device{Name: "Only in the first copy", Class: "II", Pathway: vigil.Pathway510k}); err != nil {
				t.Fatal(err)
			}
			second, id2 := open(t)
			if seeded != 1 || id2 != id || id == 0 {
				t.Fatalf("seeded %d times, values %d and %d; want once, the same device id", seeded, id, id2)
			}
			if got := names(first); len(got) != 2 {
				t.Errorf("the first copy holds %q, want the seeded pump and its own", got)
			}
			if got := names(second); len(got) != 1 || got[0] != "Seeded pump" {
				t.Errorf("the second copy holds %q, want only the seeded pump", got)
			}
		})
	}
}
