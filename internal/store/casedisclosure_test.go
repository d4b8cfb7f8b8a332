package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestMigrationCaseDisclosure upgrades a store whose reports hold their disclosure coordination (the release
// before migration 32): each report's coordination becomes a record of every case it was triaged into, a report
// not triaged into a case moves nothing, the report's column is gone, the report shows its cases' coordination,
// and the trail verifies with the moved rows attested.
func TestMigrationCaseDisclosure(t *testing.T) {
	admin := storetest.Admin()
	var caseIDs []int64
	eachUpgrade(t, store.MigrationCaseDisclosure, func(t *testing.T, old *store.DB) {
		caseIDs = nil
		if err := old.CreateOrg(admin, &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago", CVDAckDays: 5}); err != nil {
			t.Fatal(err)
		}
		dev := &vigil.Device{Name: "Infusio IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k}
		if err := old.CreateDevice(admin, dev); err != nil {
			t.Fatal(err)
		}
		for _, vuln := range []string{"VR-1", "CVE-2025-0001"} {
			c := &vigil.Case{DeviceID: dev.ID, Vulnerability: vuln, Learned: vigil.NewDate(2025, 5, 30), LearnedHow: vigil.LearnedReport}
			if err := old.OpenCase(admin, c, "triage"); err != nil {
				t.Fatal(err)
			}
			caseIDs = append(caseIDs, c.ID)
		}
		for range 2 {
			rep := &vigil.Report{Source: vigil.ReportResearcher, DeviceID: dev.ID, Title: "Dose change", Description: "POST /api/dose",
				Disclosure: vigil.DisclosureCoordinated, Received: ts("2025-05-30T10:00:00Z"), ReceivedOn: vigil.NewDate(2025, 5, 30), AckDue: vigil.NewDate(2025, 6, 6)}
			if err := old.CreateReport(admin, rep, nil, "", 0); err != nil {
				t.Fatal(err)
			}
		}
		// Report 1 was triaged into both cases and coordinated; report 2 was coordinated before any triage.
		for _, q := range []string{
			`UPDATE intake_reports SET coordination = '{"embargo":"2025-09-01","partners":["cisa","reporter"],"cve_requested_from":"CISA","credit":"Rae Searcher"}'`,
			"INSERT INTO intake_links (report_id, kind, target_id, created_at) VALUES (1, 'case', 1, '2025-06-01T00:00:00Z'), (1, 'case', 2, '2025-06-01T00:00:00Z')",
		} {
			if _, err := old.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}, func(t *testing.T, db *store.DB) {
		embargo := vigil.NewDate(2025, 9, 1)
		want := vigil.Disclosure{Embargo: &embargo, Partners: []string{"cisa", "reporter"}, CVERequestedFrom: "CISA", Credit: "Rae Searcher"}
		for _, id := range caseIDs {
			ds, err := db.CaseDisclosures(admin, id)
			if err != nil || len(ds) != 1 || ds[0].Actor != "migrate" || ds[0].Reason == "" {
				t.Fatalf("case %d's disclosures = %+v, %v", id, ds, err)
			}
			if diff := cmp.Diff(want, ds[0].Disclosure); diff != "" {
				t.Errorf("case %d's disclosure (-want +got):\n%s", id, diff)
			}
		}
		r, err := db.Report(admin, 1)
		if err != nil || len(r.Coordination) != 2 || r.Coordination[0].CaseID != caseIDs[0] || r.Coordination[1].CaseID != caseIDs[1] {
			t.Fatalf("report 1's coordination = %+v, %v", r, err)
		}
		if r, err := db.Report(admin, 2); err != nil || len(r.Coordination) != 0 {
			t.Errorf("report 2 (never triaged) = %+v, %v", r, err)
		}
		if _, err := db.SQL().Exec("UPDATE intake_reports SET coordination = NULL"); err == nil {
			t.Error("the reports' coordination column is still there")
		}
	})
}

// eachUpgrade runs an upgrade test on every engine: seed writes to a store at the migration before to, as that
// release left it; the store is then opened, upgraded to the newest schema, for check to look at what the upgrade
// made of the rows; and the trail must verify after it, the moved rows attested.
func eachUpgrade(t *testing.T, to int64, seed, check func(t *testing.T, db *store.DB)) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, engine)
			old, err := store.OpenAt(ctx, dsn, to-1)
			if err != nil {
				t.Fatal(err)
			}
			seed(t, old)
			old.Close()
			db, err := store.Open(ctx, dsn, storetest.NewClock(ts("2025-06-02T09:00:00Z")))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			check(t, db)
			if rep, err := db.Verify(storetest.Admin(), nil); err != nil || len(rep.Problems) != 0 {
				t.Fatalf("verify after the upgrade: %+v, %v", rep, err)
			}
		})
	}
}

// TestCaseDisclosure: records are appended per case, a merged case's records count under the case it was
// merged into, the reports triaged into a case (directly or through a finding) show its standing record, a
// record is audited with the one it replaced, bad input is refused naming the field, and a viewer may not write.
func TestCaseDisclosure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		if err := db.CreateOrg(ctx, &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago", CVDAckDays: 5}); err != nil {
			t.Fatal(err)
		}
		dev := &vigil.Device{Name: "Infusio IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k}
		if err := db.CreateDevice(ctx, dev); err != nil {
			t.Fatal(err)
		}
		var cs []*vigil.Case
		for _, vuln := range []string{"CVE-2025-0001", "VR-1"} {
			c := &vigil.Case{DeviceID: dev.ID, Vulnerability: vuln, Learned: vigil.NewDate(2025, 5, 30), LearnedHow: vigil.LearnedReport}
			if err := db.OpenCase(ctx, c, "triage"); err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		rep := &vigil.Report{Source: vigil.ReportResearcher, DeviceID: dev.ID, Title: "Dose change", Description: "POST /api/dose",
			Disclosure: vigil.DisclosureCoordinated, Received: ts("2025-05-30T10:00:00Z"), ReceivedOn: vigil.NewDate(2025, 5, 30), AckDue: vigil.NewDate(2025, 6, 6)}
		if err := db.CreateReport(ctx, rep, nil, "", 0); err != nil {
			t.Fatal(err)
		}
		if err := db.ChangeReport(ctx, rep.ID, vigil.ReportChange{Action: "intake.ack", From: vigil.ReportReceived, To: vigil.ReportAcknowledged,
			Links: []vigil.ReportLink{{Kind: vigil.LinkCase, ID: cs[1].ID}}, Message: "Received."}); err != nil {
			t.Fatal(err)
		}
		viewer := vigil.WithActor(context.Background(), vigil.Actor{UserID: 3, Name: "vic", Role: vigil.RoleViewer})
		if err := db.SetCaseDisclosure(viewer, &vigil.CaseDisclosure{CaseID: cs[1].ID, Reason: "x"}); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("a viewer: %v, want EFORBIDDEN", err)
		}
		if err := db.SetCaseDisclosure(ctx, &vigil.CaseDisclosure{CaseID: cs[1].ID, Disclosure: vigil.Disclosure{CVE: "CVE-2025-1"}, Reason: "x"}); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("a short CVE id: %v, want EINVALID", err)
		}
		if err := db.SetCaseDisclosure(ctx, &vigil.CaseDisclosure{CaseID: 99, Reason: "x"}); vigil.ErrorCode(err) != vigil.ENOTFOUND {
			t.Errorf("no such case: %v, want ENOTFOUND", err)
		}
		embargo := vigil.NewDate(2025, 9, 1)
		first := &vigil.CaseDisclosure{CaseID: cs[1].ID, Disclosure: vigil.Disclosure{Embargo: &embargo, Partners: []string{vigil.PartnerReporter}}, Reason: "asked by the reporter"}
		if err := db.SetCaseDisclosure(ctx, first); err != nil {
			t.Fatal(err)
		}
		// The provisional case is a duplicate of the CVE's: its records count under that case from then on.
		if err := db.MergeCases(ctx, cs[0].ID, cs[1].ID, "the CVE was assigned"); err != nil {
			t.Fatal(err)
		}
		second := &vigil.CaseDisclosure{CaseID: cs[0].ID, Disclosure: vigil.Disclosure{Embargo: &embargo, Partners: []string{vigil.PartnerReporter, vigil.PartnerCISA},
			CVE: "CVE-2025-0001", CVEAssignedBy: "CISA"}, Reason: "CVE assigned"}
		if err := db.SetCaseDisclosure(ctx, second); err != nil {
			t.Fatal(err)
		}
		ds, err := db.CaseDisclosures(ctx, cs[0].ID)
		if err != nil || len(ds) != 2 || ds[0].ID != first.ID || ds[1].ID != second.ID || ds[1].Actor == "" || ds[1].CreatedAt.IsZero() {
			t.Fatalf("the merged case's records = %+v, %v", ds, err)
		}
		r, err := db.Report(ctx, rep.ID)
		if err != nil || len(r.Coordination) != 1 || r.Coordination[0].ID != second.ID {
			t.Fatalf("the report's coordination = %+v, %v; want the merged case's standing record", r.Coordination, err)
		}
		evs, err := db.Events(ctx, vigil.AuditFilter{Action: "case.disclosure"})
		if err != nil || len(evs) != 2 || evs[0].Reason != "CVE assigned" || len(evs[0].Old) == 0 || len(evs[1].Old) != 0 && string(evs[1].Old) != "null" {
			t.Errorf("audit events = %+v, %v", evs, err)
		}
		if rep, err := db.Verify(ctx, nil); err != nil || len(rep.Problems) != 0 {
			t.Fatalf("verify: %+v, %v", rep, err)
		}
	})
}
