package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestMigrationISAOs upgrades a store whose organization holds its ISAO memberships as JSON (the release before
// migration 28): each membership becomes a row and each evidence string an undated note document of its §IX item,
// named by its SHA-256; an empty string evidences nothing; the column is gone and the trail verifies, the moved
// rows attested.
func TestMigrationISAOs(t *testing.T) {
	admin := storetest.Admin()
	eachUpgrade(t, store.MigrationISAO, func(t *testing.T, old *store.DB) {
		if _, err := old.SQL().Exec(`INSERT INTO orgs (name, time_zone, cvd_ack_days, isaos, created_at, updated_at) VALUES ('Acme Medical', 'America/Chicago', 5,
			'[{"name":"Health-ISAC","since":"2019-03-01","criteria_evidence":["Membership agreement HI-2019-114","TLP policy","SOP-PSIRT-07","SOP-PSIRT-03"]},
			  {"name":"MDISS","since":"","criteria_evidence":["member since 2021","","",""]}]', '2025-06-01T00:00:00.000000000Z', '2025-06-01T00:00:00.000000000Z')`); err != nil {
			t.Fatal(err)
		}
	}, func(t *testing.T, db *store.DB) {
		orgs, err := db.Orgs(admin)
		if err != nil || len(orgs) != 1 || len(orgs[0].ISAOs) != 2 {
			t.Fatalf("orgs = %+v, %v", orgs, err)
		}
		hi, mdiss := orgs[0].ISAOs[0], orgs[0].ISAOs[1]
		if hi.Name != "Health-ISAC" || hi.Since.String() != "2019-03-01" || len(hi.Documents) != 4 || mdiss.Name != "MDISS" || !mdiss.Since.IsZero() || len(mdiss.Documents) != 1 {
			t.Fatalf("memberships = %+v", orgs[0].ISAOs)
		}
		sum := sha256.Sum256([]byte("SOP-PSIRT-07"))
		if d := hi.Documents[2]; d.Item != 3 || d.Kind != vigil.DocNote || d.Title != "SOP-PSIRT-07" || d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != 12 ||
			!d.Date.IsZero() || d.AddedBy != "system:migrate" {
			t.Errorf("item 3's document = %+v", d)
		}
		if day := vigil.NewDate(2025, 6, 1); !hi.Evidenced(day) || mdiss.Evidenced(day) || len(mdiss.Missing(day)) != 3 {
			t.Errorf("evidenced: Health-ISAC %v, MDISS %v (missing %v)", hi.Evidenced(day), mdiss.Evidenced(day), mdiss.Missing(day))
		}
		doc, err := db.ISAODocument(admin, hi.Documents[0].ID)
		if err != nil || string(doc.Content) != "Membership agreement HI-2019-114" {
			t.Errorf("document content = %+v, %v", doc, err)
		}
		if _, err := db.SQL().Exec("UPDATE orgs SET isaos = '[]'"); err == nil {
			t.Error("the organization's isaos column is still there")
		}
	})
}

// TestISAOMemberships: a device line's own membership, documents kept once per content, the TAXII secret never
// read back with the membership, and the sharing log and signals with the cases they touch.
func TestISAOMemberships(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Infusion Pump IP-3")
		secret := "sealed-password"
		m := &vigil.ISAOMembership{DeviceID: d.ID, Name: "MDISS", Since: vigil.NewDate(2024, 1, 1), Until: vigil.NewDate(2026, 12, 31), TLP: vigil.TLPAmber,
			TAXII: vigil.TAXIIEndpoint{URL: "https://taxii.mdiss.example/taxii2/", Collection: "c1", User: "acme"}}
		if err := db.SaveISAOMembership(ctx, m, &secret, "joined for the pump line"); err != nil {
			t.Fatal(err)
		}
		if !m.TAXII.PasswordSet || m.Device != "Infusion Pump IP-3" {
			t.Errorf("saved = %+v", m)
		}
		dup := &vigil.ISAOMembership{DeviceID: d.ID, Name: "MDISS"}
		if err := db.SaveISAOMembership(ctx, dup, nil, ""); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("a second MDISS membership of the line = %v, want ECONFLICT", err)
		}
		for _, item := range []int{1, 2} {
			doc := &vigil.ISAODocument{MembershipID: m.ID, Item: item, Kind: vigil.DocAgreement, Title: "Participant agreement", FileName: "pa.pdf",
				Date: vigil.NewDate(2024, 1, 1), Content: []byte("%PDF-1.7 agreement")}
			if err := db.AddISAODocument(ctx, doc, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddISAODocument(ctx, &vigil.ISAODocument{MembershipID: m.ID, Item: 5, Kind: vigil.DocPolicy, Title: "x", Content: []byte("x")}, ""); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("item 5 = %v, want EINVALID", err)
		}
		var contents int
		db.SQL().QueryRow("SELECT COUNT(*) FROM isao_document_contents WHERE content = $1", []byte("%PDF-1.7 agreement")).Scan(&contents)
		if contents != 1 {
			t.Errorf("the same content is stored %d times", contents)
		}
		ms, err := db.ISAOMemberships(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got *vigil.ISAOMembership
		for i := range ms {
			if ms[i].ID == m.ID {
				got = &ms[i]
			}
		}
		if got == nil || len(got.Documents) != 2 || got.TLP != vigil.TLPAmber || !got.TAXII.PasswordSet {
			t.Fatalf("membership read back = %+v", got)
		}
		if s, err := db.ISAOSecret(ctx, m.ID); err != nil || s != secret {
			t.Errorf("secret = %q, %v", s, err)
		}
		// The line's own membership overrides the organization's for that device only.
		orgs, _ := db.Orgs(ctx)
		if own := vigil.ISAOsFor(orgs[0].ISAOs, d.ID); len(own) != 1 || own[0].Name != "MDISS" {
			t.Errorf("memberships covering the pump = %+v", own)
		}
		if other := vigil.ISAOsFor(orgs[0].ISAOs, d.ID+1); len(other) != 1 || other[0].Name != "Health-ISAC" {
			t.Errorf("memberships covering another device = %+v", other)
		}
		// A signal naming the case's CVE, or the device, links to the case; a newer version of it replaces it.
		f := &vigil.Finding{VersionID: version(t, db, d.ID), Vulnerability: "CVE-2025-0001"}
		if err := db.CreateFinding(ctx, f, "researcher report"); err != nil {
			t.Fatal(err)
		}
		sigs := []*vigil.ISAOSignal{
			{MembershipID: m.ID, Source: "c1", STIXID: "vulnerability--11111111-1111-4111-8111-111111111111", Type: "vulnerability", Name: "CVE-2025-0001",
				CVEs: []string{"cve-2025-0001"}, Modified: ts("2025-06-01T00:00:00Z")},
			{MembershipID: m.ID, Source: "c1", STIXID: "report--22222222-2222-4222-8222-222222222222", Type: "report", Name: "Attacks on infusion pump IP-3 seen",
				Modified: ts("2025-06-01T00:00:00Z")},
			{MembershipID: m.ID, Source: "c1", STIXID: "indicator--33333333-3333-4333-8333-333333333333", Type: "indicator", Name: "scanner",
				Modified: ts("2025-06-01T00:00:00Z")},
		}
		if n, err := db.SaveISAOSignals(ctx, sigs); err != nil || n != 3 {
			t.Fatalf("save signals = %d, %v", n, err)
		}
		if len(sigs[0].Cases) != 1 || sigs[0].Cases[0] != f.CaseID || len(sigs[1].Cases) != 1 || len(sigs[2].Cases) != 0 {
			t.Errorf("linked cases: %v %v %v, want [%d] [%d] []", sigs[0].Cases, sigs[1].Cases, sigs[2].Cases, f.CaseID, f.CaseID)
		}
		if len(sigs[1].Named) != 1 || sigs[1].Named[0] != "device:Infusion Pump IP-3" {
			t.Errorf("named = %v", sigs[1].Named)
		}
		same := *sigs[0]
		if n, _ := db.SaveISAOSignals(ctx, []*vigil.ISAOSignal{&same}); n != 0 {
			t.Errorf("the same version saved again: %d changed", n)
		}
		newer := *sigs[0]
		newer.Name, newer.Modified = "CVE-2025-0001 (exploited)", ts("2025-06-02T00:00:00Z")
		if n, _ := db.SaveISAOSignals(ctx, []*vigil.ISAOSignal{&newer}); n != 1 || newer.ID != sigs[0].ID {
			t.Errorf("a newer version: %d changed, id %d (was %d)", n, newer.ID, sigs[0].ID)
		}
		got2, err := db.ISAOSignals(ctx, vigil.ISAOSignalFilter{CaseID: f.CaseID})
		if err != nil || len(got2) != 2 {
			t.Fatalf("signals of the case = %+v, %v", got2, err)
		}
		a := &vigil.Assessment{CaseID: f.CaseID, Date: f.Learned, Risk: vigil.RiskControlled, Rationale: "not reachable"}
		if err := db.Assess(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := db.CiteISAOSignals(ctx, a.ID, []int64{sigs[0].ID, sigs[0].ID + 100}, ""); vigil.ErrorCode(err) != vigil.ENOTFOUND {
			t.Errorf("citing a signal that does not exist = %v", err)
		}
		if err := db.CiteISAOSignals(ctx, a.ID, []int64{sigs[0].ID}, "considered the ISAO's bulletin"); err != nil {
			t.Fatal(err)
		}
		got2, _ = db.ISAOSignals(ctx, vigil.ISAOSignalFilter{CaseID: f.CaseID})
		for _, s := range got2 {
			if s.ID == sigs[0].ID && (len(s.Assessments) != 1 || s.Assessments[0] != a.ID || s.Name != "CVE-2025-0001 (exploited)") {
				t.Errorf("cited signal = %+v", s)
			}
		}
		share := &vigil.ISAOShare{MembershipID: m.ID, ISAO: "MDISS", CaseID: f.CaseID, Method: vigil.ShareTAXII, BundleID: "bundle--x", SHA256: "s", Objects: 6,
			TLP: vigil.TLPAmber, StatusID: "status-1", Status: vigil.SharePending, Date: vigil.NewDate(2025, 6, 2), EventID: 1}
		if err := db.AddISAOShare(ctx, share); err != nil {
			t.Fatal(err)
		}
		log, err := db.ISAOShares(ctx, vigil.ISAOShareFilter{MembershipID: m.ID, From: vigil.NewDate(2025, 6, 1), To: vigil.NewDate(2025, 6, 30)})
		if err != nil || len(log) != 1 || log[0].Device != "Infusion Pump IP-3" || log[0].Vulnerability != "CVE-2025-0001" || log[0].StatusID != "status-1" ||
			log[0].CheckedAt.IsZero() || log[0].NoticeID != 0 {
			t.Errorf("sharing log = %+v, %v", log, err)
		}
		if log, _ := db.ISAOShares(ctx, vigil.ISAOShareFilter{MembershipID: m.ID, From: vigil.NewDate(2025, 7, 1)}); len(log) != 0 {
			t.Errorf("sharing log after July = %+v", log)
		}
		// A pending share is asked again: the server refused an object.
		if err := db.SetISAOShareStatus(ctx, share.ID, vigil.ShareFailed, "1 of 6 refused: bad id"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.ISAOShare(ctx, share.ID); err != nil || got.Status != vigil.ShareFailed || got.StatusText != "1 of 6 refused: bad id" {
			t.Errorf("share after the status = %+v, %v", got, err)
		}
		if log, _ := db.ISAOShares(ctx, vigil.ISAOShareFilter{Status: vigil.SharePending}); len(log) != 0 {
			t.Errorf("pending after the status = %+v", log)
		}
		if err := db.SetISAOShareStatus(ctx, share.ID, "exported", ""); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("status exported = %v", err)
		}
		// An assessment cites its signals as it is recorded; a signal that does not exist refuses the assessment.
		bad := &vigil.Assessment{CaseID: f.CaseID, Date: f.Learned, Risk: vigil.RiskControlled, Rationale: "x", Signals: []int64{sigs[0].ID + 100}}
		if err := db.AssessTraced(ctx, bad, nil); vigil.ErrorCode(err) != vigil.ENOTFOUND {
			t.Errorf("assessment citing no signal = %v", err)
		}
		a2 := &vigil.Assessment{CaseID: f.CaseID, Date: f.Learned, Risk: vigil.RiskControlled, Rationale: "re-assessed on the bulletin", Signals: []int64{sigs[0].ID}}
		if err := db.AssessTraced(ctx, a2, nil); err != nil {
			t.Fatal(err)
		}
		got2, _ = db.ISAOSignals(ctx, vigil.ISAOSignalFilter{CaseID: f.CaseID})
		for _, s := range got2 {
			if s.ID == sigs[0].ID && !slices.Equal(s.Assessments, []int64{a.ID, a2.ID}) {
				t.Errorf("signal cited by %v, want %v", s.Assessments, []int64{a.ID, a2.ID})
			}
		}
		if rep, err := db.Verify(ctx, nil); err != nil || len(rep.Problems) != 0 {
			t.Fatalf("verify: %+v, %v", rep, err)
		}
	})
}

func version(t *testing.T, db *store.DB, device int64) int64 {
	t.Helper()
	v := &vigil.DeviceVersion{DeviceID: device, Version: "3.2.1"}
	if err := db.CreateVersion(storetest.Admin(), v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}
