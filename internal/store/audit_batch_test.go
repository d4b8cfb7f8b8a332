package store_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestAuditEventsAsOneAuditEach: events appended together (a re-match's, one per case) are the events one Audit
// each would append: the same sequence, records, hashes and signatures, across the statements a batch is split
// into, and the trail verifies.
func TestAuditEventsAsOneAuditEach(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			var trails [2][]*vigil.AuditEvent
			for i, batched := range []bool{false, true} {
				db, err := store.Open(context.Background(), storetest.MigratedDSN(t, engine), storetest.NewClock(ts("2025-06-02T09:00:00Z")), store.WithAuditKey(key))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				ctx := storetest.Admin()
				seedOrg(t, db)
				var ids []int64
				for _, name := range []string{"Pump", "Monitor", "Ventilator"} {
					d := &vigil.Device{Name: name, Class: "II", Pathway: vigil.Pathway510k}
					if err := db.CreateDevice(ctx, d); err != nil {
						t.Fatal(err)
					}
					ids = append(ids, d.ID)
				}
				if err := store.RenameAudited(ctx, db, ids, 600, batched); err != nil {
					t.Fatal(err)
				}
				trails[i] = trail(t, db)
				if rep, err := db.Verify(ctx, nil); err != nil || len(rep.Problems) != 0 || rep.Signed != int64(len(trails[i])) {
					t.Fatalf("batched=%v: verify = %+v, %v; want every one of %d events signed, no problem", batched, rep, err, len(trails[i]))
				}
			}
			one, batch := trails[0], trails[1]
			if len(one) != len(batch) || len(one) < 604 {
				t.Fatalf("%d events one by one, %d batched; want the same, at least 604", len(one), len(batch))
			}
			renamed := 0
			for i := range one {
				a, b := one[i], batch[i]
				if fmt.Sprint(a.Seq, a.Action, a.ObjectID, string(a.New), a.Records, a.Hash, a.Signature) !=
					fmt.Sprint(b.Seq, b.Action, b.ObjectID, string(b.New), b.Records, b.Hash, b.Signature) {
					t.Fatalf("event %d differs:\none by one %+v\nbatched    %+v", i+1, a, b)
				}
				if a.Action == "device.rename" {
					renamed++
					if len(a.Records) != 1 || a.Records[0].Table != "devices" || a.Records[0].Hash == "" {
						t.Errorf("event %d records %+v, want its device's state", a.Seq, a.Records)
					}
				}
			}
			if renamed != 3 || !slices.ContainsFunc(batch, func(e *vigil.AuditEvent) bool { return e.Action == "device.note" && e.ObjectID == "599" }) {
				t.Errorf("%d renames and no last note; want 3 and note 599", renamed)
			}
		})
	}
}
