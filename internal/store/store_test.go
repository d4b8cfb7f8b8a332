package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func seedOrg(t testing.TB, db *store.DB) *vigil.Organization {
	t.Helper()
	o := &vigil.Organization{Name: "Acme Medical", FEINumber: "3001234567", TimeZone: "America/Chicago",
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 15), Documents: vigil.EvidenceNotes("membership.pdf", "policies.pdf", "shares.log", "sop-12")}}}
	if err := db.CreateOrg(storetest.Admin(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPortfolioRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		o := seedOrg(t, db)
		pma := vigil.NewDate(2026, 3, 1)
		d := &vigil.Device{Name: "Infusion Pump IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k, SubmissionNumber: "K201234",
			CyberDevice: true, IntendedUse: "IV infusion", Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}},
			UDIDI: "00812345678901", PMAAnniversary: &pma}
		if err := db.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		if d.OrgID != o.ID {
			t.Errorf("org defaulted to %d, want %d", d.OrgID, o.ID)
		}
		got, err := db.DeviceByName(ctx, "Infusion Pump IP-3")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d, got, cmpopts.EquateApproxTime(time.Microsecond)); diff != "" {
			t.Errorf("device (-want +got):\n%s", diff)
		}
		rel := vigil.NewDate(2024, 5, 1)
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2.1", ReleaseDate: &rel, Status: vigil.VersionMarketed, UnitsFielded: 1200}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		eos := vigil.NewDate(2027, 12, 31)
		comps := []vigil.Component{
			{Name: "openssl", Version: "1.0.2u", Purl: "pkg:generic/openssl@1.0.2u", CPE: "cpe:2.3:a:openssl:openssl:1.0.2u:*:*:*:*:*:*:*", Support: vigil.SupportNoLonger, EndOfSupport: &eos, Hashes: map[string]string{"SHA-256": "ab"}},
			{Name: "jackson-databind", Group: "com.fasterxml.jackson.core", Version: "2.9.8", Purl: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.8"},
		}
		if err := db.SetComponents(ctx, v.ID, comps, "sbom.json"); err != nil {
			t.Fatal(err)
		}
		gotComps, err := db.Components(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(comps, gotComps, cmpopts.IgnoreFields(vigil.Component{}, "ID")); diff != "" {
			t.Errorf("components (-want +got):\n%s", diff)
		}
		prev, err := db.ImportSBOM(ctx, v.ID, comps[:1], vigil.SBOMMeta{Source: "sbom2.json"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(prev) != 2 {
			t.Errorf("previous components = %d, want 2", len(prev))
		}
		if now, _ := db.Components(ctx, v.ID); len(now) != 1 {
			t.Errorf("current components = %d, want 1", len(now))
		}
		c := &vigil.Consignee{Name: "St. Example Hospital", Contact: "biomed@example.org", Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 40, Lots: []string{"L1", "L2"}}}}
		if err := db.CreateConsignee(ctx, c); err != nil {
			t.Fatal(err)
		}
		gc, err := db.Consignee(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.Units, gc.Units); diff != "" {
			t.Errorf("units (-want +got):\n%s", diff)
		}
		d.Pathway = vigil.PathwayPMA
		if err := db.UpdateDevice(ctx, d, "reclassified after PMA approval"); err != nil {
			t.Fatal(err)
		}
		evs, err := db.Events(ctx, vigil.AuditFilter{ObjectType: "device", ObjectID: "1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Action != "device.update" || evs[0].Reason != "reclassified after PMA approval" {
			t.Fatalf("device audit events = %+v", evs)
		}
		if !strings.Contains(string(evs[0].Old), `"pathway":"510k"`) || !strings.Contains(string(evs[0].New), `"pathway":"PMA"`) {
			t.Errorf("audit old/new do not show the change: old=%s new=%s", evs[0].Old, evs[0].New)
		}
		if evs[0].Actor != "system:test" {
			t.Errorf("actor = %q", evs[0].Actor)
		}
	})
}

func TestInvalidInputWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		seedOrg(t, db)
		ok := &vigil.Device{Name: "Monitor", Class: "II", Pathway: vigil.Pathway510k}
		if err := db.CreateDevice(ctx, ok); err != nil {
			t.Fatal(err)
		}
		before, _ := db.Checkpoint(ctx)
		tests := []struct {
			name, code, field string
			run               func() error
		}{
			{"bad class", vigil.EINVALID, "class", func() error {
				return db.CreateDevice(ctx, &vigil.Device{Name: "X", Class: "IV", Pathway: vigil.Pathway510k})
			}},
			{"bad pathway", vigil.EINVALID, "pathway", func() error {
				return db.CreateDevice(ctx, &vigil.Device{Name: "X", Class: "II", Pathway: "510(z)"})
			}},
			{"bad udi", vigil.EINVALID, "udi_di", func() error {
				return db.CreateDevice(ctx, &vigil.Device{Name: "X", Class: "II", Pathway: vigil.Pathway510k, UDIDI: "00812345678904"})
			}},
			{"bad severity", vigil.EINVALID, "functions[0].severity", func() error {
				return db.CreateDevice(ctx, &vigil.Device{Name: "X", Class: "II", Pathway: vigil.Pathway510k, Functions: []vigil.ClinicalFunction{{Name: "f", Severity: "bad"}}})
			}},
			{"duplicate device", vigil.ECONFLICT, "name", func() error {
				return db.CreateDevice(ctx, &vigil.Device{Name: "Monitor", Class: "II", Pathway: vigil.Pathway510k})
			}},
			{"bad version status", vigil.EINVALID, "status", func() error {
				return db.CreateVersion(ctx, &vigil.DeviceVersion{DeviceID: ok.ID, Version: "1", Status: "retired"})
			}},
			{"version of missing device", vigil.EINVALID, "device_id", func() error {
				return db.CreateVersion(ctx, &vigil.DeviceVersion{DeviceID: 999, Version: "1"})
			}},
			{"bad purl", vigil.EINVALID, "components[1].purl", func() error {
				v := &vigil.DeviceVersion{DeviceID: ok.ID, Version: "9"}
				if err := db.CreateVersion(ctx, v); err != nil {
					return err
				}
				before, _ = db.Checkpoint(ctx)
				return db.SetComponents(ctx, v.ID, []vigil.Component{{Name: "a"}, {Name: "b", Purl: "pkg:/nope"}}, "x.json")
			}},
			{"bad cpe", vigil.EINVALID, "components[0].cpe", func() error {
				return db.SetComponents(ctx, 1, []vigil.Component{{Name: "a", CPE: "cpe:2.3:a:x"}}, "x.json")
			}},
			{"bad time zone", vigil.EINVALID, "time_zone", func() error {
				return db.CreateOrg(ctx, &vigil.Organization{Name: "Other", TimeZone: "Mars/Olympus"})
			}},
			{"viewer may not write", vigil.EFORBIDDEN, "", func() error {
				return db.CreateDevice(storetest.As("val", vigil.RoleViewer), &vigil.Device{Name: "Y", Class: "II", Pathway: vigil.Pathway510k})
			}},
			{"no actor", vigil.EUNAUTHORIZED, "", func() error {
				return db.CreateDevice(context.Background(), &vigil.Device{Name: "Y", Class: "II", Pathway: vigil.Pathway510k})
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.run()
				if vigil.ErrorCode(err) != tt.code {
					t.Fatalf("code = %q, want %q (%v)", vigil.ErrorCode(err), tt.code, err)
				}
				if !strings.Contains(err.Error(), tt.field) {
					t.Errorf("error %q does not name %q", err, tt.field)
				}
				after, _ := db.Checkpoint(ctx)
				if after != before {
					t.Errorf("audit trail moved from %v to %v: something was written", before, after)
				}
			})
		}
		if devs, _ := db.Devices(ctx); len(devs) != 1 {
			t.Errorf("devices = %d, want 1", len(devs))
		}
	})
}

func TestUsersAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		const pw = "correct horse battery staple"
		u := &vigil.User{Name: "alice", Role: vigil.RolePSIRT}
		if err := db.CreateUser(ctx, u, pw); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateUser(ctx, &vigil.User{Name: "bob", Role: "root"}, pw); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("bad role: %v", err)
		}
		if err := db.CreateUser(ctx, &vigil.User{Name: "bob", Role: vigil.RoleViewer}, "short"); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("short password: %v", err)
		}
		if err := db.CreateUser(storetest.As("alice", vigil.RolePSIRT), &vigil.User{Name: "eve", Role: vigil.RoleAdmin}, pw); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("psirt creating a user: %v", err)
		}
		if _, err := db.Authenticate(ctx, "alice", pw); err != nil {
			t.Errorf("good password: %v", err)
		}
		_, e1 := db.Authenticate(ctx, "alice", "wrong password!!")
		_, e2 := db.Authenticate(ctx, "nobody", pw)
		if vigil.ErrorCode(e1) != vigil.EUNAUTHORIZED || e1.Error() != e2.Error() {
			t.Errorf("failures must look the same: %v / %v", e1, e2)
		}
		tok, secret, err := db.CreateToken(ctx, "alice", "ci", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := db.TokenActor(ctx, secret)
		if err != nil || a.Name != "alice" || a.Role != vigil.RolePSIRT || a.TokenID != tok.ID {
			t.Errorf("token actor = %+v, %v", a, err)
		}
		if _, err := db.TokenActor(ctx, secret+"x"); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("wrong token: %v", err)
		}
		// Neither the password nor the token secret reaches the audit trail.
		evs, _ := db.Events(ctx, vigil.AuditFilter{})
		for _, e := range evs {
			for _, s := range []string{string(e.Old), string(e.New), e.Reason} {
				if strings.Contains(s, pw) || strings.Contains(s, secret) || strings.Contains(s, "argon2id") {
					t.Errorf("secret in audit event %d: %s", e.Seq, s)
				}
			}
		}
	})
}

func TestNewerSchemaRefused(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) {
			dsn := storetest.DSN(t, e)
			db, err := store.Open(context.Background(), dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = store.Open(context.Background(), dsn, nil)
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "newer Vigil") {
				t.Fatalf("open of a newer schema: %v", err)
			}
		})
	}
}

func TestBackup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		seedOrg(t, db)
		path := t.TempDir() + "/backup.db"
		err := db.Backup(ctx, path)
		if db.Engine() == store.Postgres {
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "pg_dump") {
				t.Fatalf("postgres backup: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := store.Open(ctx, "sqlite:"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if orgs, _ := b.Orgs(ctx); len(orgs) != 1 {
			t.Errorf("backup has %d orgs", len(orgs))
		}
		if _, err := b.Verify(ctx, nil); err != nil {
			t.Errorf("backup trail: %v", err)
		}
	})
}
