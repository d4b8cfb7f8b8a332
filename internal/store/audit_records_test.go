package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// auditedFixture writes at least one row to every audited table through the store, each write as Vigil makes it,
// and returns how many rows each table holds. On a fresh store every id starts at 1. A table added to the
// registry needs a write here (TestAuditRecordsEveryTable fails until it has one).
func auditedFixture(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := storetest.Admin()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	d := pump(t, db, "Pump") // org 1, device 1
	v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "2.0", UnitsFielded: 40}
	must("version", db.CreateVersion(ctx, v))
	must("consignee", db.CreateConsignee(ctx, &vigil.Consignee{Name: "General Hospital", Contact: "biomed@example.org",
		Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 12, Lots: []string{"L-1"}}}}))
	lib := vigil.Component{Name: "openssl", Version: "1.1.1k", Purl: "pkg:generic/openssl@1.1.1k"}
	_, err := db.ImportSBOM(ctx, v.ID, []vigil.Component{lib}, vigil.SBOMMeta{Source: "pump.cdx.json", Format: "cyclonedx-json 1.5", Digest: "abc"}, nil)
	must("sbom", err)
	alice := &vigil.User{Name: "alice", Role: vigil.RolePSIRT}
	must("user", db.CreateUser(ctx, alice, "correct horse battery staple"))
	_, _, err = db.CreateToken(ctx, "alice", "ci", ts("2025-09-01T00:00:00Z"))
	must("token", err)
	must("role", db.SetUserRole(ctx, "alice", vigil.RoleRegulatory, "moved to regulatory affairs"))
	f := &vigil.Finding{VersionID: v.ID, Vulnerability: "CVE-2025-0001"}
	must("finding", db.CreateFinding(ctx, f, "researcher report"))                                            // finding 1
	_, _, err = db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: lib, Vulnerability: "CVE-2024-0002"}}) // finding 2
	must("sync", err)
	must("state", db.SetFindingState(ctx, 2, vigil.FindingClosed, "not reachable"))
	must("asset", db.CreateAsset(ctx, &vigil.Asset{DeviceID: d.ID, Name: "Wi-Fi", Kind: vigil.AssetInterface}))
	for _, th := range []*vigil.Threat{
		{DeviceID: d.ID, Title: "Remote rate change", Category: vigil.StrideTampering, Assets: []string{"A-1"}, Functions: []string{"dose delivery"}},
		{DeviceID: d.ID, Title: "Log flooding", Category: vigil.StrideDenialOfService, Assets: []string{"A-1"}},
	} {
		must("threat", db.CreateThreat(ctx, th))
	}
	must("control", db.CreateControl(ctx, &vigil.Control{DeviceID: d.ID, Kind: vigil.ControlMitigation, Name: "signed commands", Threats: []string{"T-1"}}))
	must("assessment", db.AssessTraced(ctx, &vigil.Assessment{CaseID: f.CaseID, Date: f.Learned, Risk: "uncontrolled", Severity: vigil.HarmCatastrophic,
		Exploitability: "high", Functions: []string{"dose delivery"}, Matrix: "vigil-default v1", Rationale: "T-1 realized"}, []string{"T-1"}))
	must("event", db.AddCaseEvent(ctx, &vigil.CaseEvent{CaseID: f.CaseID, Type: "customer_notified", Date: f.Learned,
		Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}, Note: "CN-2025-1"}))
	must("retraction", db.Retract(ctx, &vigil.Retraction{CaseID: f.CaseID, Record: vigil.RecordRef{Kind: vigil.RecordEvent, ID: 1}, Reason: "entered on the wrong case"}))
	must("vex status", db.SetVersionVEX(ctx, &vigil.VersionVEX{CaseID: f.CaseID, VersionID: v.ID, Status: vigil.VEXNotAffected,
		Justification: vigil.JustNotInExecutePath, Reason: "code review"}))
	must("owner", db.SetCaseOwner(ctx, f.CaseID, "alice", "on call"))
	must("disclosure", db.SetCaseDisclosure(ctx, &vigil.CaseDisclosure{CaseID: f.CaseID, Disclosure: vigil.Disclosure{Partners: []string{vigil.PartnerCISA}},
		Reason: "coordinated with CISA"})) // case disclosure 1
	must("cvd policy", db.SetCVDPolicy(ctx, &vigil.CVDPolicy{Languages: []string{"en"}, BaseURL: "https://psirt.example.org"}, "publish"))
	rep := &vigil.Report{Source: vigil.ReportResearcher, DeviceID: d.ID, Title: "Dose change", Description: "POST /api/dose", Disclosure: vigil.DisclosureCoordinated,
		Received: ts("2025-05-30T10:00:00Z"), ReceivedOn: vigil.NewDate(2025, 5, 30), AckDue: vigil.NewDate(2025, 6, 6)}
	must("report", db.CreateReport(ctx, rep, []vigil.Attachment{{AttachmentMeta: vigil.AttachmentMeta{Name: "poc.txt", ContentType: "text/plain", SHA256: "x"},
		Data: []byte("curl")}}, "hash-of-the-link", 0)) // report 1
	must("report ack", db.ChangeReport(ctx, rep.ID, vigil.ReportChange{Action: "intake.ack", From: vigil.ReportReceived, To: vigil.ReportAcknowledged,
		Links: []vigil.ReportLink{{Kind: vigil.LinkFinding, ID: f.ID}}, Message: "Received."}))
	must("vex", db.ImportVEX(ctx, &vigil.VEXDocument{Name: "supplier.openvex.json", Format: "openvex", Author: "Supplier", SHA256: "abc", Statements: 1},
		[]*vigil.VEXProposal{{FindingID: f.ID, Statement: vigil.VEXStatement{Vulnerability: "CVE-2025-0001", Product: vigil.VEXProduct{Purl: "pkg:generic/openssl@1.1.1k"},
			Status: vigil.VEXUnderInvestigation}}})) // VEX document 1, proposal 1
	must("plan", db.AddPlan(ctx, &vigil.RemediationPlan{CaseID: f.CaseID, Date: f.Learned, FixRelease: "2.1", TargetDate: f.Learned.AddDays(40),
		Cycle: vigil.CycleOutOfCycle, Rationale: "patch the TLS library in the next build",
		Controls: []vigil.CompensatingControl{{What: "block port 443 at the firewall", Documented: "IFU 7.3", Since: f.Learned}}})) // plan 1
	fix := &vigil.FixRelease{CaseID: f.CaseID, Release: "2.1", Remediation: vigil.RemediationPatch}
	must("fix", db.AddFixRelease(ctx, fix)) // fix release 1
	must("vv", db.SetVV(ctx, fix.ID, vigil.VVRecord{Protocol: "VP-1", Report: "VR-1", Result: vigil.VVPassed, Approver: "QA", Validated: f.Learned}, ""))
	must("deployment", db.AddDeployment(ctx, &vigil.Deployment{CaseID: f.CaseID, ConsigneeID: 1, VersionID: v.ID, Date: f.Learned, Units: 5,
		Source: vigil.DeploymentReported})) // deployment 1
	must("regdoc", db.AddRegRecord(ctx, &vigil.RegRecord{Kind: vigil.RegPremarket, CaseID: f.CaseID, Date: f.Learned,
		Body: []byte(`{"decision":"none","basis":"software change within the approved design"}`)}, "premarket decision")) // record 1
	n := &vigil.Notice{Cases: []int64{f.CaseID}, Subject: "Cybersecurity notice", Elements: vigil.NoticeElements{A: "a", B: "b", C: "c", D: "d"}}
	must("notice", db.CreateNotice(ctx, n)) // notice 1
	_, _, err = db.ClaimNoticeSend(ctx, n.ID, []vigil.NoticeRecipient{{ConsigneeID: 1, Consignee: "General Hospital", Email: "biomed@example.org"}}, f.Learned, "")
	must("notice send", err)
	must("notice sent", db.FinishNoticeSend(ctx, n.ID))
	must("printed name", db.SetFullName(ctx, "alice", "Alice Smith"))
	_, err = db.Sign(storetest.As("alice", vigil.RoleRegulatory), &vigil.ProvenSigner{UserID: 1, Name: "alice", Role: vigil.RoleRegulatory, Kind: "assessment",
		Meaning: vigil.MeaningApproval, Method: vigil.SignedWithPassword}, 1)
	must("signature", err) // signature 1, of assessment 1
	must("notify rule", db.CreateNotifyRule(ctx, &vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: "https://hooks.example.org/vigil",
		Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, "whsec")) // notify rule 1
	// The organization's ISAO membership 1 (documents 1-4) came with it; a share, and a signal cited by assessment 1.
	must("isao share", db.AddISAOShare(ctx, &vigil.ISAOShare{MembershipID: 1, ISAO: "Health-ISAC", CaseID: f.CaseID, Method: vigil.ShareExported,
		BundleID: "bundle--1", SHA256: "abc", Objects: 5, TLP: vigil.TLPAmber, Status: "exported", Date: f.Learned, EventID: 1}))
	sig := &vigil.ISAOSignal{MembershipID: 1, Source: "bulletin.json", STIXID: "report--6d1b3a7e-2c1d-4b0e-9d7f-1a2b3c4d5e6f", Type: "report",
		Name: "CVE-2025-0001 exploited", CVEs: []string{"CVE-2025-0001"}, Modified: ts("2025-06-01T00:00:00Z")}
	_, err = db.SaveISAOSignals(ctx, []*vigil.ISAOSignal{sig})
	must("isao signal", err)
	must("isao citation", db.CiteISAOSignals(ctx, 1, []int64{sig.ID}, "the bulletin said it is exploited"))
	must("saved filter", db.SaveFilter(vigil.WithActor(ctx, vigil.Actor{UserID: alice.ID, Name: "alice", Role: vigil.RoleRegulatory}),
		&vigil.SavedFilter{Screen: "cases", Name: "KEV", Query: "kev=1"})) // saved filter 1
	adv := &vigil.SecurityAdvisory{Cases: []int64{f.CaseID}, NoticeID: n.ID, TLP: "WHITE"}
	must("advisory", db.CreateAdvisory(ctx, adv, "ACME-SA-2025-")) // advisory 1
	_, err = db.PublishAdvisory(ctx, adv.ID, 0, vigil.AdvisoryFinal, []vigil.AdvisoryRevision{{Number: 1, Date: ts("2025-06-03T00:00:00Z"), Summary: "Initial release"}}, []byte(`{}`))
	must("advisory publish", err)
}

// rowCount counts the rows of the audited tables.
func rowCount(t *testing.T, db *store.DB) (total int64, per map[string]int64) {
	t.Helper()
	per = map[string]int64{}
	for _, name := range store.AuditedTables() {
		var n int64
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		per[name] = n
		total += n
	}
	return total, per
}

// tamperRecords runs SQL as someone with write access to the database who has dropped its protections: every
// append-only trigger is gone first.
func tamperRecords(t *testing.T, db *store.DB, stmts ...string) {
	t.Helper()
	var drop []string
	if db.Engine() == store.Postgres {
		rows, err := db.SQL().Query("SELECT DISTINCT event_object_table FROM information_schema.triggers")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var tbl string
			rows.Scan(&tbl)
			drop = append(drop, "ALTER TABLE "+tbl+" DISABLE TRIGGER USER")
		}
		rows.Close()
	} else {
		rows, err := db.SQL().Query("SELECT name FROM sqlite_master WHERE type = 'trigger'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			rows.Scan(&name)
			drop = append(drop, "DROP TRIGGER "+name)
		}
		rows.Close()
	}
	for _, s := range append(drop, stmts...) {
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

type problemKey struct{ table, key string }

func problemKeys(r vigil.AuditReport) []problemKey {
	var out []problemKey
	for _, p := range r.Problems {
		out = append(out, problemKey{p.Table, p.Key})
	}
	return out
}

// TestAuditRecordsEveryTable writes every audited table through the store, checks that verification reconciles
// every row, then edits one row of each table (and a link row of a parent) directly in the database and checks
// that each edit is reported against its own record, and nothing else is.
func TestAuditRecordsEveryTable(t *testing.T) {
	edits := map[string]string{
		"orgs":                    "UPDATE orgs SET fei_number = '0000000000' WHERE id = 1",
		"devices":                 "UPDATE devices SET model = 'tampered' WHERE id = 1",
		"device_versions":         "UPDATE device_versions SET units_fielded = 41 WHERE id = 1",
		"consignees":              "UPDATE consignee_units SET units = 13 WHERE consignee_id = 1",
		"sboms":                   "UPDATE sboms SET digest = 'def' WHERE id = 1",
		"users":                   "UPDATE users SET role = 'admin' WHERE id = 1",
		"tokens":                  "UPDATE tokens SET expires_at = NULL WHERE id = 1",
		"findings":                "UPDATE findings SET state = 'open', resolved_at = NULL WHERE id = 2",
		"assessments":             "UPDATE assessments SET risk = 'controlled' WHERE id = 1",
		"cases":                   "UPDATE cases SET learned = '2025-05-01' WHERE id = 1",
		"case_events":             "UPDATE case_events SET date = '2025-05-01' WHERE id = 1",
		"case_retractions":        "UPDATE case_retractions SET reason = 'tampered' WHERE id = 1",
		"case_vex":                "UPDATE case_vex SET status = 'affected' WHERE id = 1",
		"case_disclosures":        "UPDATE case_disclosures SET disclosure = '{\"partners\":[]}' WHERE id = 1",
		"tm_assets":               "UPDATE tm_assets SET name = 'tampered' WHERE id = 1",
		"tm_threats":              "DELETE FROM tm_threat_assets WHERE threat_id = 2",
		"tm_controls":             "UPDATE tm_controls SET name = 'tampered' WHERE id = 1",
		"intake_reports":          "UPDATE intake_messages SET body = 'tampered' WHERE report_id = 1",
		"vex_documents":           "UPDATE vex_documents SET author = 'tampered' WHERE id = 1",
		"vex_proposals":           "UPDATE vex_proposals SET state = 'accepted' WHERE id = 1",
		"remediation_plans":       "UPDATE remediation_plans SET rationale = 'tampered' WHERE id = 1",
		"fix_releases":            "UPDATE fix_releases SET vv = NULL WHERE id = 1",
		"remediation_deployments": "UPDATE remediation_deployments SET units = 12 WHERE id = 1",
		"regdoc_records":          "UPDATE regdoc_records SET body = '{}' WHERE id = 1",
		"notices":                 "UPDATE notices SET recipients = '[]' WHERE id = 1",
		"signatures":              "UPDATE signatures SET meaning = 'review' WHERE id = 1",
		"notify_rules":            "UPDATE notify_rules SET secret = 'attacker' WHERE id = 1",
		"isao_memberships":        "UPDATE isao_memberships SET tlp = 'red' WHERE id = 1",
		"isao_documents":          "UPDATE isao_documents SET title = 'tampered' WHERE id = 1",
		"isao_shares":             "UPDATE isao_shares SET status = 'complete' WHERE id = 1",
		"isao_citations":          "UPDATE isao_citations SET cited_by = 'tampered' WHERE id = 1",
		"saved_filters":           "UPDATE saved_filters SET query = 'state=all' WHERE id = 1",
		"advisories":              "UPDATE advisories SET tlp = 'RED' WHERE id = 1",
		"signature_requirements":  "UPDATE signature_requirements SET reason = 'tampered' WHERE id = 1",
		"act_records":             "UPDATE act_records SET body = '{}' WHERE id = 1",
	}
	want := []problemKey{{"findings", "2"}}
	for _, name := range store.AuditedTables() {
		if edits[name] == "" {
			t.Fatalf("audited table %s has no edit in this test: add one (and a write of it to auditedFixture)", name)
		}
		if name == "findings" {
			continue
		}
		key := "1"
		if name == "tm_threats" {
			key = "2"
		}
		want = append(want, problemKey{name, key})
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		auditedFixture(t, db)
		signedActFixture(t, db)
		total, per := rowCount(t, db)
		for name, n := range per {
			if n == 0 {
				t.Errorf("auditedFixture wrote no row of audited table %s", name)
			}
		}
		rep, err := db.Verify(ctx, nil)
		if err != nil || rep.Records != total || len(rep.Problems) != 0 {
			t.Fatalf("verify the intact store = %+v, %v; want %d records, no problem", rep, err, total)
		}
		var stmts []string
		for _, s := range edits {
			stmts = append(stmts, s)
		}
		tamperRecords(t, db, stmts...)
		rep, err = db.Verify(ctx, nil)
		if vigil.ErrorCode(err) != vigil.EINVALID {
			t.Fatalf("verify after %d edits = %v, want EINVALID", len(edits), err)
		}
		// The edits of assessment 1 and act record 1 also break their signatures (1 and 2): each reported once,
		// apart from the edited rows.
		var broken []vigil.AuditProblem
		rep.Problems = slices.DeleteFunc(rep.Problems, func(p vigil.AuditProblem) bool {
			if strings.Contains(p.Problem, "the signature is broken") {
				broken = append(broken, p)
				return true
			}
			return false
		})
		slices.SortFunc(broken, func(a, b vigil.AuditProblem) int { return strings.Compare(a.Key, b.Key) })
		if len(broken) != 2 || broken[0].Table != "signatures" || broken[0].Key != "1" || broken[1].Key != "2" {
			t.Errorf("broken signatures = %+v, want signatures 1 and 2", broken)
		}
		got := problemKeys(rep)
		slices.SortFunc(got, func(a, b problemKey) int { return strings.Compare(a.table+a.key, b.table+b.key) })
		slices.SortFunc(want, func(a, b problemKey) int { return strings.Compare(a.table+a.key, b.table+b.key) })
		if !slices.Equal(got, want) {
			t.Fatalf("problems on %v, want %v\n%+v", got, want, rep.Problems)
		}
		for _, p := range rep.Problems {
			if !strings.Contains(p.Problem, "differs from the state audit event") {
				t.Errorf("%s %s: %q, want an edited row", p.Table, p.Key, p.Problem)
			}
		}
	})
}

// TestAuditUpgradeAttests opens a store an older Vigil wrote (migrated to 9, rows and events without record
// states), upgrades it, and checks that one audit.attest event records every row as found, that the trail then
// verifies, and that a later edit of an attested row is caught.
func TestAuditUpgradeAttests(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, engine)
			old, err := store.OpenAt(ctx, dsn, 9)
			if err != nil {
				t.Fatal(err)
			}
			// What Vigil before migration 16 wrote: the row, and an event whose hash covers no record state.
			now := "2025-06-01T09:00:00.000000000Z"
			if _, err := old.SQL().Exec(`INSERT INTO orgs (name, time_zone, cvd_ack_days, created_at, updated_at) VALUES ('Acme', 'UTC', 5, $1, $1)`, now); err != nil {
				t.Fatal(err)
			}
			e := &vigil.AuditEvent{Time: ts(now), Actor: "cli:ops", Action: "org.create", ObjectType: "org", ObjectID: "1", New: json.RawMessage(`{"name":"Acme"}`)}
			audit.Seal(e, vigil.AuditCheckpoint{})
			if _, err := old.SQL().Exec(`INSERT INTO audit_events (seq, time, actor, action, object_type, object_id, new, reason, prev_hash, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9)`, e.Seq, now, e.Actor, e.Action, e.ObjectType, e.ObjectID, string(e.New), e.PrevHash, e.Hash); err != nil {
				t.Fatal(err)
			}
			old.Close()

			db, err := store.Open(ctx, dsn, storetest.NewClock(ts("2025-06-02T09:00:00Z")))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			admin := storetest.Admin()
			rep, err := db.Verify(admin, nil)
			if err != nil || rep.Count != 2 || rep.Records != 1 {
				t.Fatalf("verify after upgrade = %+v, %v; want 2 events (the org's and the attestation), 1 record", rep, err)
			}
			evs, err := db.Events(admin, vigil.AuditFilter{Action: "audit.attest"})
			if err != nil || len(evs) != 1 {
				t.Fatalf("attest events = %v, %v", evs, err)
			}
			if a := evs[0]; a.Actor != "system:migrate" || a.ObjectID != "16" || !strings.Contains(a.Reason, "attested as found at the upgrade") ||
				len(a.Records) != 1 || a.Records[0].Table != "orgs" || a.Records[0].Key != "1" {
				t.Fatalf("attestation = %+v", a)
			}
			// Opening again attests nothing more.
			db.Close()
			if db, err = store.Open(ctx, dsn, nil); err != nil {
				t.Fatal(err)
			}
			if cp, _ := db.Checkpoint(admin); cp.Count != 2 {
				t.Fatalf("second open: %d events, want 2", cp.Count)
			}
			tamperRecords(t, db, "UPDATE orgs SET cvd_ack_days = 30")
			if _, err := db.Verify(admin, nil); err == nil || !strings.Contains(err.Error(), "orgs 1: the row differs from the state audit event 2 recorded") {
				t.Fatalf("verify after edit = %v", err)
			}
		})
	}
}

// signedActFixture writes the signing policy's and a signed act's records (issue 18), apart from auditedFixture,
// whose signatures' ids other tests name: signature requirement 1, act record 1 and its signature 2.
func signedActFixture(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := storetest.Admin()
	if err := db.SetSignatureRequirement(ctx, &vigil.SignatureRequirement{Act: vigil.ActPremarket, Reason: "signed on paper"}); err != nil {
		t.Fatal(err)
	}
	closing := vigil.WithSigning(ctx, vigil.ProvenSigner{UserID: 1, Name: "alice", Role: vigil.RoleRegulatory, Kind: string(vigil.ActCaseClosure),
		Meaning: vigil.MeaningApproval, Method: vigil.SignedWithPassword})
	if err := db.SetCaseState(closing, 1, vigil.CaseClosed, "fixed in the field"); err != nil {
		t.Fatal(err)
	}
}

// rawTamper returns a connection to db's audited fixture, verified intact, with the append-only triggers dropped and
// foreign keys off: an attacker with the database, free to edit any row.
func rawTamper(t *testing.T, db *store.DB) *sql.Conn {
	t.Helper()
	auditedFixture(t, db)
	signedActFixture(t, db)
	if rep, err := db.Verify(storetest.Admin(), nil); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify the intact store = %+v, %v", rep, err)
	}
	tamperRecords(t, db) // the append-only triggers off
	conn, err := db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	off := "PRAGMA foreign_keys = OFF"
	if db.Engine() == store.Postgres {
		off = "SET session_replication_role = replica"
	}
	if _, err := conn.ExecContext(context.Background(), off); err != nil {
		t.Fatal(err)
	}
	return conn
}

// tamperKey is the row of an audited table the fixture surely wrote (tm_threats' first is a built-in).
func tamperKey(table string) string {
	if table == "tm_threats" {
		return "2"
	}
	return "1"
}

// TestAuditRecordsDeletedEveryTable deletes one row of every audited table directly in the database (foreign keys
// and the append-only triggers off, as an attacker with the database could) and checks that verification reports
// each as missing, against its own record, on both engines.
func TestAuditRecordsDeletedEveryTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		conn := rawTamper(t, db)
		var want []problemKey
		for _, name := range store.AuditedTables() {
			key := tamperKey(name)
			res, err := conn.ExecContext(context.Background(), "DELETE FROM "+name+" WHERE id = "+key)
			if err != nil {
				t.Fatalf("delete from %s: %v", name, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("audited table %s has no row %s to delete: add a write of it to auditedFixture", name, key)
			}
			want = append(want, problemKey{name, key})
		}
		rep, err := db.Verify(ctx, nil)
		if vigil.ErrorCode(err) != vigil.EINVALID {
			t.Fatalf("verify after the deletes = %v, want EINVALID", err)
		}
		got := map[problemKey]string{}
		for _, p := range rep.Problems {
			if !strings.Contains(p.Problem, "the signature is broken") {
				got[problemKey{p.Table, p.Key}] = p.Problem
			}
		}
		for _, k := range want {
			if p, ok := got[k]; !ok || !strings.Contains(p, "the row is missing") {
				t.Errorf("%s %s deleted: reported %q, want the row missing", k.table, k.key, p)
			}
		}
	})
}

// TestAuditRecordsInsertedEveryTable inserts a row into every audited table directly in the database (foreign keys
// and the append-only triggers off): a copy of a row the fixture wrote under an id no audit event names. Where the
// copy breaks one of the table's unique constraints, the attacker's insert must displace the original, so the
// original is moved to the new id instead (its old id then reads as deleted too). Verification must report each new
// id as inserted outside Vigil, on both engines.
func TestAuditRecordsInsertedEveryTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		conn := rawTamper(t, db)
		bg := context.Background()
		const newID = "900001"
		var want []problemKey
		for _, name := range store.AuditedTables() {
			key := tamperKey(name)
			copyRow := []string{
				"CREATE TEMP TABLE forged AS SELECT * FROM " + name + " WHERE id = " + key,
				"UPDATE forged SET id = " + newID,
				"INSERT INTO " + name + " SELECT * FROM forged",
			}
			var err error
			for _, q := range copyRow {
				if _, err = conn.ExecContext(bg, q); err != nil {
					break
				}
			}
			if err != nil && strings.Contains(strings.ToLower(err.Error()), "unique") {
				t.Logf("%s: the copy breaks a unique constraint; the original moves to id %s", name, newID)
				_, err = conn.ExecContext(bg, "UPDATE "+name+" SET id = "+newID+" WHERE id = "+key)
			}
			if err != nil {
				t.Fatalf("insert into %s: %v", name, err)
			}
			if _, err := conn.ExecContext(bg, "DROP TABLE forged"); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := conn.QueryRowContext(bg, "SELECT count(*) FROM "+name+" WHERE id = "+newID).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%s holds %d rows of id %s (%v), want the forged one", name, n, newID, err)
			}
			want = append(want, problemKey{name, newID})
		}
		rep, err := db.Verify(ctx, nil)
		if vigil.ErrorCode(err) != vigil.EINVALID {
			t.Fatalf("verify after the inserts = %v, want EINVALID", err)
		}
		got := map[problemKey]string{}
		for _, p := range rep.Problems {
			got[problemKey{p.Table, p.Key}] = p.Problem
		}
		for _, k := range want {
			if p, ok := got[k]; !ok || !strings.Contains(p, "inserted outside Vigil") {
				t.Errorf("%s %s inserted: reported %q, want a row with no entry in the trail", k.table, k.key, p)
			}
		}
	})
}
