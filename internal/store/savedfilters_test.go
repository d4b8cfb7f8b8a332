package store_test

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestSavedFilters: a user's saved filters are theirs alone (another user neither lists nor deletes them, a system
// actor has none), saving a name again replaces its query, bad fields are refused naming the field, and every
// save and delete is audited and reconciles.
func TestSavedFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		admin := storetest.Admin()
		seedOrg(t, db)
		as := map[string]*vigil.User{}
		for _, name := range []string{"alice", "bob"} {
			u := &vigil.User{Name: name, Role: vigil.RoleViewer}
			if err := db.CreateUser(admin, u, "correct horse battery staple"); err != nil {
				t.Fatal(err)
			}
			as[name] = u
		}
		ctx := func(name string) context.Context {
			return vigil.WithActor(admin, vigil.Actor{UserID: as[name].ID, Name: name, Role: vigil.RoleViewer})
		}
		kev := &vigil.SavedFilter{Screen: "cases", Name: " KEV on the pump ", Query: "kev=1&device=1"}
		if err := db.SaveFilter(ctx("alice"), kev); err != nil {
			t.Fatal(err)
		}
		if kev.Name != "KEV on the pump" || kev.UserID != as["alice"].ID || kev.ID == 0 {
			t.Errorf("saved as %+v", kev)
		}
		for _, tc := range []struct {
			name string
			f    vigil.SavedFilter
			code string
		}{
			{"no name", vigil.SavedFilter{Screen: "cases", Query: "kev=1"}, vigil.EINVALID},
			{"unknown screen", vigil.SavedFilter{Screen: "wishes", Name: "x"}, vigil.EINVALID},
			{"long query", vigil.SavedFilter{Screen: "cases", Name: "x", Query: string(make([]byte, vigil.MaxFilterQuery+1))}, vigil.EINVALID},
		} {
			if err := db.SaveFilter(ctx("alice"), &tc.f); vigil.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		if err := db.SaveFilter(admin, &vigil.SavedFilter{Screen: "cases", Name: "x"}); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("system actor: %v, want EFORBIDDEN", err)
		}
		again := &vigil.SavedFilter{Screen: "cases", Name: "KEV on the pump", Query: "kev=1"}
		if err := db.SaveFilter(ctx("alice"), again); err != nil || again.ID != kev.ID {
			t.Fatalf("save again: id %d (%v), want the same filter %d", again.ID, err, kev.ID)
		}
		if err := db.SaveFilter(ctx("bob"), &vigil.SavedFilter{Screen: "cases", Name: "KEV on the pump", Query: "state=all"}); err != nil {
			t.Fatalf("bob's filter of the same name: %v", err)
		}
		fs, err := db.SavedFilters(ctx("alice"), "cases")
		if err != nil || len(fs) != 1 || fs[0].Query != "kev=1" {
			t.Fatalf("alice's filters: %+v (%v)", fs, err)
		}
		if err := db.DeleteSavedFilter(ctx("bob"), kev.ID); vigil.ErrorCode(err) != vigil.ENOTFOUND {
			t.Errorf("bob deletes alice's filter: %v, want ENOTFOUND", err)
		}
		if err := db.DeleteSavedFilter(ctx("alice"), kev.ID); err != nil {
			t.Fatal(err)
		}
		if fs, _ := db.SavedFilters(ctx("alice"), "cases"); len(fs) != 0 {
			t.Errorf("after delete: %+v", fs)
		}
		if fs, _ := db.SavedFilters(ctx("bob"), "cases"); len(fs) != 1 {
			t.Errorf("bob's filter went with alice's: %+v", fs)
		}
		evs, err := db.Events(admin, vigil.AuditFilter{ObjectType: "saved_filter"})
		if err != nil || len(evs) != 4 || evs[0].Action != "filter.delete" || evs[0].Actor != "user:alice" {
			t.Errorf("audit: %d events (%v)", len(evs), err)
		}
		if rep, err := db.Verify(admin, nil); err != nil || len(rep.Problems) > 0 {
			t.Errorf("verify: %+v (%v)", rep.Problems, err)
		}
	})
}
