package store_test

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestDeleteConsignee: a consignee is deleted with its units and a reason; the event keeps it as it was, the trail
// still reconciles, and a viewer, a missing reason or an unknown consignee changes nothing.
func TestDeleteConsignee(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0", Status: vigil.VersionMarketed}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		c := &vigil.Consignee{Name: "General Hospital", Contact: "biomed@example.org", Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 12, Lots: []string{"L1"}}}}
		if err := db.CreateConsignee(ctx, c); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			id     int64
			reason string
			code   string
		}{
			{"viewer", c.ID, "closed", vigil.EFORBIDDEN},
			{"no reason", c.ID, " ", vigil.EINVALID},
			{"unknown", c.ID + 99, "closed", vigil.ENOTFOUND},
		} {
			cx := ctx
			if tc.name == "viewer" {
				cx = storetest.As("val", vigil.RoleViewer)
			}
			if err := db.DeleteConsignee(cx, tc.id, tc.reason); vigil.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		if _, err := db.Consignee(ctx, c.ID); err != nil {
			t.Fatalf("a refused delete removed the consignee: %v", err)
		}
		if err := db.DeleteConsignee(ctx, c.ID, "Site closed (letter 2025-05-30)."); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Consignee(ctx, c.ID); vigil.ErrorCode(err) != vigil.ENOTFOUND {
			t.Errorf("after delete: %v, want ENOTFOUND", err)
		}
		evs, err := db.Events(ctx, vigil.AuditFilter{Action: "consignee.delete"})
		if err != nil || len(evs) != 1 || evs[0].Reason != "Site closed (letter 2025-05-30)." || len(evs[0].New) != 0 && string(evs[0].New) != "null" {
			t.Fatalf("consignee.delete events: %+v (%v)", evs, err)
		}
		if got := string(evs[0].Old); !strings.Contains(got, `"name":"General Hospital"`) || !strings.Contains(got, `"lots":["L1"]`) {
			t.Errorf("the event does not keep the consignee as it was: %s", got)
		}
		rep, err := db.Verify(ctx, nil)
		if err != nil || len(rep.Problems) > 0 {
			t.Errorf("verify after delete: %+v (%v)", rep, err)
		}
	})
}
