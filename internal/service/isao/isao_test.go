package isao_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/secret"
	"github.com/vigil-dev/vigil/internal/service/isao"
	"github.com/vigil-dev/vigil/internal/service/notices"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix/stixschema"
	"github.com/vigil-dev/vigil/internal/testfix/taxiiserver"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture: Acme Medical, an evidenced Health-ISAC member, with an infusion pump whose version 3.2 carries wolfSSL
// 4.8.1: the case of CVE-2025-0001, learned 2025-06-02, assessed uncontrolled with a compensating control, the
// customers notified on 2025-06-05; a TAXII server with the collection "shares" and the clock at 2025-06-10.
type fixture struct {
	db      *store.DB
	clock   *storetest.Clock
	cases   *cases.Service
	svc     *isao.Service
	caseID  int64
	taxii   *taxiiserver.Server
	url     string
	notices *notices.Service
}

func setup(t *testing.T, engine string) *fixture {
	t.Helper()
	clock := storetest.NewClock(time.Date(2025, 6, 2, 17, 0, 0, 0, time.UTC))
	db := storetest.Open(t, engine, clock)
	ctx := storetest.Admin()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("org", db.CreateOrg(ctx, &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago", CVDContact: "psirt@acme.example",
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 15), TLP: vigil.TLPAmber,
			Documents: vigil.EvidenceNotes("membership MA-7", "participant agreement PA-2024", "SOP-PSIRT-07", "SOP-PSIRT-03")}}}))
	d := &vigil.Device{Name: "Infusion Pump IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k,
		Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}}}
	must("device", db.CreateDevice(ctx, d))
	v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2", UnitsFielded: 100}
	must("version", db.CreateVersion(ctx, v))
	lib := vigil.Component{Name: "wolfssl", Version: "4.8.1", Purl: "pkg:generic/wolfssl@4.8.1"}
	_, _, err := db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: lib, Vulnerability: "CVE-2025-0001"}})
	must("match", err)
	fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID})
	must("findings", err)
	cs := &cases.Service{Store: db, Clock: clock}
	fx := &fixture{db: db, clock: clock, cases: cs, caseID: fs[0].CaseID}
	_, err = cs.Assess(ctx, cases.AssessInput{CaseID: fx.caseID, Risk: vigil.RiskUncontrolled, RiskReason: "dose programming reachable", Severity: vigil.HarmCatastrophic,
		SeverityReason: "dose delivery", Controls: []string{"segment the pump network from the hospital LAN"}, Rationale: "a client without a certificate reaches dose programming"})
	must("assess", err)
	fx.at("2025-06-05")
	must("notice", cs.RecordEvent(ctx, &vigil.CaseEvent{CaseID: fx.caseID, Type: regulatory.EventCustomerNotified, Date: vigil.NewDate(2025, 6, 5),
		Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}, Note: "Customer notice CN-2025-14: segment the pumps; a fix follows in 3.3 <script>alert(1)</script>"}))
	fx.at("2025-06-10")
	fx.taxii = taxiiserver.New("acme", "pw-123456", map[string]string{"shares": "Member shares"})
	ts := httptest.NewServer(fx.taxii.Handler())
	t.Cleanup(ts.Close)
	fx.url = ts.URL
	key := filepath.Join(t.TempDir(), "secret.key")
	must("key", os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef"), 0o600))
	k, err := secret.LoadKey(key)
	must("load key", err)
	must("consignee", db.CreateConsignee(ctx, &vigil.Consignee{Name: "General Hospital", Contact: "biomed@general.example", Emails: []string{"biomed@general.example"},
		Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 12}}}))
	fx.notices = &notices.Service{Store: db, Cases: cs, Outbox: &notify.Outbox{Store: db, Clock: clock}} // queued, never delivered here
	now := make(chan time.Time)
	close(now)
	fx.svc = &isao.Service{Store: db, Cases: cs, Key: k, HTTP: ts.Client(), Clock: clock, Notices: fx.notices,
		Wait: func(time.Duration) <-chan time.Time { return now }}
	return fx
}

func (fx *fixture) at(day string) {
	d, _ := vigil.ParseDate(day)
	fx.clock.T = d.Time().Add(17 * time.Hour)
}

// validate runs a bundle through the OASIS schemas and STIX's rules.
func validate(t *testing.T, what string, raw []byte) {
	t.Helper()
	for _, err := range append(stixschema.Load(t).Errors(raw), stix.Check(raw, stix.Known)...) {
		t.Errorf("%s: %v", what, err)
	}
}

func criterion4(t *testing.T, fx *fixture) regulatory.Criterion {
	t.Helper()
	v, err := fx.cases.CaseView(storetest.Admin(), fx.caseID, vigil.Date{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Determination.EnforcementDiscretion.Criteria {
		if c.N == 4 {
			return c
		}
	}
	t.Fatal("no criterion 4")
	return regulatory.Criterion{}
}

// TestShare shares a case with the ISAO over TAXII (to a server that follows the specification) and by export:
// every bundle validates against the OASIS schemas, the sharing log records each, the case gets its isao_shared
// event through the case service and criterion 4 is met without a typed event; a re-share updates the ISAO's
// objects (same ids, later versions); a refused object, a missing TAXII server or the wrong secret key record
// nothing.
func TestShare(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			fx := setup(t, engine)
			ctx := storetest.Admin()
			if c := criterion4(t, fx); c.Status != regulatory.StatusPending {
				t.Fatalf("criterion 4 before the share: %+v", c)
			}
			if _, err := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID}); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "--export") {
				t.Errorf("a share without a TAXII server = %v, want EINVALID naming --export", err)
			}
			pw := "pw-123456"
			taxiiURL, coll, user := fx.url+"/taxii2/", "shares", "acme"
			m, err := fx.svc.Set(ctx, isao.SetInput{Name: "health-isac", TAXIIURL: &taxiiURL, Collection: &coll, User: &user, Password: &pw, Reason: "the ISAO's TAXII server"})
			if err != nil || !m.TAXII.PasswordSet {
				t.Fatalf("set TAXII = %+v, %v", m, err)
			}
			sealed, _ := fx.db.ISAOSecret(ctx, m.ID)
			if strings.Contains(sealed, pw) || !strings.HasPrefix(sealed, "v1:") {
				t.Errorf("the password is stored as %q", sealed)
			}
			// A server that refuses an object: nothing is recorded.
			fx.taxii.Check = func(obj json.RawMessage) error {
				if strings.Contains(string(obj), `"type":"report"`) {
					return errors.New("reports need a member agreement")
				}
				return nil
			}
			if _, err := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID}); err == nil || !strings.Contains(err.Error(), "reports need a member agreement") {
				t.Errorf("a refused report = %v", err)
			}
			if log, _ := fx.svc.Shares(ctx, "", 0); len(log) != 0 {
				t.Errorf("a refused share was logged: %+v", log)
			}
			fx.taxii.Check = nil
			first, err := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID})
			if err != nil {
				t.Fatal(err)
			}
			sh := first.Shares[0]
			if sh.Method != vigil.ShareTAXII || sh.Status != "complete" || sh.StatusID == "" || sh.EventID == 0 || sh.TLP != vigil.TLPAmber || sh.Date.String() != "2025-06-10" {
				t.Errorf("share = %+v", sh)
			}
			validate(t, "the bundle sent", first.Bundle)
			held := fx.taxii.Objects("shares")
			b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.ID("bundle", "held"), "objects": held})
			validate(t, "what the server holds", b)
			if c := criterion4(t, fx); c.Status != regulatory.StatusMet || !strings.Contains(c.Reason, "Health-ISAC") {
				t.Errorf("criterion 4 after the share: %+v", c)
			}
			es, _ := fx.db.CaseEvents(ctx, fx.caseID)
			last := es[len(es)-1]
			if last.Type != regulatory.EventISAOShared || last.ID != sh.EventID || !strings.Contains(last.Note, sh.StatusID) || !strings.Contains(last.Note, sh.BundleID) {
				t.Errorf("the isao_shared event = %+v", last)
			}
			var bundle struct{ Objects []map[string]any }
			json.Unmarshal(first.Bundle, &bundle)
			types := map[string]int{}
			for _, o := range bundle.Objects {
				types[o["type"].(string)]++
			}
			if types["vulnerability"] != 1 || types["course-of-action"] != 1 || types["report"] != 2 || types["identity"] != 1 || types["marking-definition"] != 1 {
				t.Errorf("object types = %v", types)
			}
			// A re-share after a follow-up: the same objects, later versions, one more communication.
			fx.at("2025-06-12")
			if err := fx.cases.RecordEvent(ctx, &vigil.CaseEvent{CaseID: fx.caseID, Type: regulatory.EventCustomerNotified, Date: vigil.NewDate(2025, 6, 12),
				Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}, Note: "Follow-up notice CN-2025-15"}); err != nil {
				t.Fatal(err)
			}
			second, err := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID})
			if err != nil {
				t.Fatal(err)
			}
			validate(t, "the re-share", second.Bundle)
			versions := map[string][]string{}
			for _, raw := range fx.taxii.Objects("shares") {
				var h struct{ ID, Type, Modified string }
				json.Unmarshal(raw, &h)
				versions[h.ID] = append(versions[h.ID], h.Modified)
			}
			vulns := 0
			for id, vs := range versions {
				if strings.HasPrefix(id, "vulnerability--") {
					vulns++
					if len(vs) != 2 || vs[1] <= vs[0] {
						t.Errorf("the vulnerability's versions at the ISAO: %v", vs)
					}
				}
			}
			if vulns != 1 {
				t.Errorf("%d vulnerability objects at the ISAO after a re-share, want 1 updated", vulns)
			}
			// Exported for upload by hand: logged and recorded the same way.
			exp, err := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID, Export: true})
			if err != nil || len(exp.Shares) != 1 || exp.Shares[0].Method != vigil.ShareExported || exp.Shares[0].Status != "exported" || exp.Shares[0].StatusID != "" {
				t.Fatalf("export = %+v, %v", exp, err)
			}
			validate(t, "the export", exp.Bundle)
			if log, _ := fx.svc.Shares(ctx, "Health-ISAC", fx.caseID); len(log) != 3 || log[0].Method != vigil.ShareExported {
				t.Errorf("sharing log = %+v", log)
			}
			// Without a client of its own, the service dials public addresses only: the loopback server is refused.
			guarded := *fx.svc
			guarded.HTTP = nil
			if _, err := guarded.Share(ctx, isao.ShareInput{CaseID: fx.caseID}); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("a share to a loopback TAXII server with the default client = %v", err)
			}
			// The wrong secret key does not open the password: nothing is sent.
			other := *fx.svc
			other.Key = make([]byte, 32)
			if _, err := other.Share(ctx, isao.ShareInput{CaseID: fx.caseID}); err == nil || !strings.Contains(err.Error(), "does not open") {
				t.Errorf("the wrong key = %v", err)
			}
			if rep, err := fx.db.Verify(ctx, nil); err != nil || len(rep.Problems) != 0 {
				t.Errorf("verify: %+v, %v", rep, err)
			}
		})
	}
}

// TestSharePending: a TAXII server that takes objects in asynchronously answers pending past the share's own
// polls; the share is logged pending with its isao_shared event, and asking again later (the isao-status job)
// moves the log to complete, or to failed with the server's words when it refused an object.
func TestSharePending(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			fx := setup(t, engine)
			ctx := storetest.Admin()
			pw := "pw-123456"
			taxiiURL, coll, user := fx.url+"/taxii2/", "shares", "acme"
			if _, err := fx.svc.Set(ctx, isao.SetInput{Name: "Health-ISAC", TAXIIURL: &taxiiURL, Collection: &coll, User: &user, Password: &pw}); err != nil {
				t.Fatal(err)
			}
			fx.taxii.Pending = 6 // the answer to the POST and the share's 4 polls read pending, then one more
			res, err := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID})
			if err != nil {
				t.Fatal(err)
			}
			sh := res.Shares[0]
			if sh.Status != vigil.SharePending || sh.EventID == 0 {
				t.Fatalf("share = %+v, want pending with its event", sh)
			}
			if c := criterion4(t, fx); c.Status != regulatory.StatusMet {
				t.Errorf("criterion 4 with the share pending: %+v", c)
			}
			if al, _ := fx.svc.Alerts(ctx); len(al) != 0 {
				t.Errorf("alerts on the day of a pending share = %+v", al)
			}
			fx.at("2025-06-11")
			al, _ := fx.svc.Alerts(ctx)
			if !slices.ContainsFunc(al, func(a isao.Alert) bool { return strings.Contains(a.What, "still pending") }) {
				t.Errorf("alerts with a share pending since yesterday = %+v", al)
			}
			got, err := fx.svc.RefreshPending(ctx)
			if err != nil || len(got) != 1 || got[0].Status != vigil.SharePending || !got[0].CheckedAt.After(sh.CheckedAt) {
				t.Fatalf("first re-poll = %+v, %v", got, err)
			}
			if err := fx.svc.Periodic().Run(context.Background()); err != nil { // the job, as the system
				t.Fatal(err)
			}
			now, err := fx.db.ISAOShare(ctx, sh.ID)
			if err != nil || now.Status != vigil.ShareComplete {
				t.Fatalf("after the job = %+v, %v", now, err)
			}
			if again, err := fx.svc.RefreshStatus(ctx, sh.ID); err != nil || again.Status != vigil.ShareComplete || !again.CheckedAt.Equal(now.CheckedAt) {
				t.Errorf("a complete share asked again = %+v, %v", again, err)
			}
			// A request that ends refused: failed, with the server's words, and an alert to share again.
			fx.taxii.Check = func(json.RawMessage) error { return errors.New("not a member of this trust group") }
			fx.taxii.Pending = 5
			res, err = fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID})
			if err != nil || res.Shares[0].Status != vigil.SharePending {
				t.Fatalf("second share = %+v, %v", res, err)
			}
			if _, err := fx.svc.RefreshStatus(ctx, res.Shares[0].ID); err != nil {
				t.Fatal(err)
			}
			failed, _ := fx.db.ISAOShare(ctx, res.Shares[0].ID)
			if failed.Status != vigil.ShareFailed || !strings.Contains(failed.StatusText, "not a member of this trust group") {
				t.Errorf("refused share = %+v", failed)
			}
			al, _ = fx.svc.Alerts(ctx)
			if !slices.ContainsFunc(al, func(a isao.Alert) bool { return strings.Contains(a.What, "refused") }) {
				t.Errorf("alerts with a failed share = %+v", al)
			}
			// The refused share's isao_shared event is withdrawn by the system with the server's words; the first
			// share's stands, so criterion 4 is still met.
			withdrawn := func() map[int64]string {
				v, err := fx.cases.CaseView(ctx, fx.caseID, vigil.Date{})
				if err != nil {
					t.Fatal(err)
				}
				w := map[int64]string{}
				for _, x := range v.Withdrawn {
					if x.Event != nil && x.Event.Type == regulatory.EventISAOShared {
						w[x.Event.ID] = x.Retraction.Actor + ": " + x.Retraction.Reason
					}
				}
				return w
			}
			if w := withdrawn(); len(w) != 1 || !strings.HasPrefix(w[failed.EventID], "system:isao-status: ") || !strings.Contains(w[failed.EventID], "not a member of this trust group") ||
				!strings.Contains(w[failed.EventID], "asked by system") {
				t.Errorf("withdrawn isao_shared events = %v, want the refused share's event %d, by isao-status, naming the asker", w, failed.EventID)
			}
			if c := criterion4(t, fx); c.Status != regulatory.StatusMet {
				t.Errorf("criterion 4 after one refused share beside a complete one: %+v", c)
			}
			exp, _ := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID, Export: true})
			if _, err := fx.svc.RefreshStatus(ctx, exp.Shares[0].ID); vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("the status of an exported share = %v", err)
			}
			if rep, err := fx.db.Verify(ctx, nil); err != nil || len(rep.Problems) != 0 {
				t.Errorf("verify: %+v, %v", rep, err)
			}
		})
	}
}

// TestShareNotice: a customer notice is shared as the customer communication (§IX item 3): one bundle, valid
// against the OASIS schemas, carrying the notice's text, logged and recorded as isao_shared on its case; a draft is
// refused.
func TestShareNotice(t *testing.T) {
	fx := setup(t, store.SQLite)
	ctx := storetest.Admin()
	n, err := fx.notices.DraftNotice(ctx, []int64{fx.caseID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.svc.ShareNotice(ctx, isao.NoticeShareInput{NoticeID: n.ID, Export: true}); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "vigil notice send") {
		t.Errorf("sharing a draft = %v", err)
	}
	if _, err := fx.notices.SendNotice(ctx, n.ID, "elements checked", nil); err != nil {
		t.Fatal(err)
	}
	res, err := fx.svc.ShareNotice(ctx, isao.NoticeShareInput{NoticeID: n.ID, ISAO: "health-isac", Export: true})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, "the notice's bundle", res.Bundle)
	if len(res.Shares) != 1 || res.Shares[0].NoticeID != n.ID || res.Shares[0].CaseID != fx.caseID || res.Shares[0].Method != vigil.ShareExported {
		t.Errorf("shares = %+v", res.Shares)
	}
	p, _ := fx.notices.PreviewNotice(ctx, n.ID)
	var b struct{ Objects []map[string]any }
	json.Unmarshal(res.Bundle, &b)
	last := b.Objects[len(b.Objects)-1]
	if last["name"] != fmt.Sprintf("Customer communication N-%d", n.ID) || !strings.Contains(last["description"].(string), p.Text) {
		t.Errorf("the notice's report = %v", last)
	}
	es, _ := fx.db.CaseEvents(ctx, fx.caseID)
	if e := es[len(es)-1]; e.Type != regulatory.EventISAOShared || !strings.Contains(e.Note, fmt.Sprintf("customer notice N-%d", n.ID)) {
		t.Errorf("the case's last event = %+v", e)
	}
	if log, _ := fx.db.ISAOShares(ctx, vigil.ISAOShareFilter{NoticeID: n.ID}); len(log) != 1 {
		t.Errorf("the notice's shares = %+v", log)
	}
}

// TestAlerts: what will cost criterion 4 shows before it does: a membership lapsing within 60 days, an item
// without evidence, a document about to expire with nothing to replace it; and a lapsed membership fails.
func TestAlerts(t *testing.T) {
	fx := setup(t, store.SQLite)
	ctx := storetest.Admin()
	if al, err := fx.svc.Alerts(ctx); err != nil || len(al) != 0 {
		t.Fatalf("alerts of an evidenced membership = %+v, %v", al, err)
	}
	until := vigil.NewDate(2025, 7, 31)
	if _, err := fx.svc.Set(ctx, isao.SetInput{Name: "Health-ISAC", Until: &until}); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.svc.Set(ctx, isao.SetInput{Name: "MDISS", Device: "Infusion Pump IP-3"}); err != nil {
		t.Fatal(err)
	}
	doc := &vigil.ISAODocument{Item: 2, Kind: vigil.DocAgreement, Title: "MDISS participant agreement", FileName: "pa.pdf", Content: []byte("%PDF agreement"),
		Date: vigil.NewDate(2025, 1, 1), Expires: vigil.NewDate(2025, 6, 30)}
	if err := fx.svc.AddDocument(ctx, "MDISS", "Infusion Pump IP-3", doc, ""); err != nil {
		t.Fatal(err)
	}
	undated := &vigil.ISAODocument{Item: 1, Kind: vigil.DocAgreement, Title: "x", Content: []byte("x")}
	if err := fx.svc.AddDocument(ctx, "MDISS", "Infusion Pump IP-3", undated, ""); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("a document without its date = %v", err)
	}
	al, err := fx.svc.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range al {
		got = append(got, a.Severity+" "+a.Membership+": "+a.What)
	}
	want := []string{"failing MDISS: §IX item 1", "failing MDISS: §IX item 3", "failing MDISS: §IX item 4", "warning MDISS: §IX item 2: MDISS participant agreement expires on 2025-06-30",
		"warning Health-ISAC: the membership lapses after 2025-07-31"}
	if len(got) != len(want) {
		t.Fatalf("alerts:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("alert %d = %q, want %q...", i, got[i], want[i])
		}
	}
	// The pump's own membership, not evidenced, is the one criterion 4 reads: it fails.
	if c := criterion4(t, fx); c.Status != regulatory.StatusFailed || !strings.Contains(c.Reason, "not evidenced") {
		t.Errorf("criterion 4 with the line's own unevidenced membership: %+v", c)
	}
	fx.at("2025-08-01")
	al, _ = fx.svc.Alerts(ctx)
	if len(al) == 0 || al[0].Severity != "failing" {
		t.Errorf("after the lapse: %+v", al)
	}
	lapsed := false
	for _, a := range al {
		lapsed = lapsed || (a.Membership == "Health-ISAC" && strings.Contains(a.What, "lapsed on 2025-07-31"))
	}
	if !lapsed {
		t.Errorf("no lapse alert: %+v", al)
	}
}

// TestCaseEvidence: what a case's evidence package carries of ISAO participation: the case's shares, the signals
// touching it with the assessment citing them, and the covering membership's §IX evidence from D0 to today as JSON
// and CSV with the documents in force, byte for byte; the audited records it carries are named.
func TestCaseEvidence(t *testing.T) {
	fx := setup(t, store.SQLite)
	ctx := storetest.Admin()
	agreement := []byte("%PDF-1.7 Health-ISAC participant agreement 2024")
	doc := &vigil.ISAODocument{Item: 2, Kind: vigil.DocAgreement, Title: "Participant agreement", FileName: "H-ISAC agreement (2024).pdf", Date: vigil.NewDate(2024, 2, 1), Content: agreement}
	if err := fx.svc.AddDocument(ctx, "Health-ISAC", "", doc, "renewed"); err != nil {
		t.Fatal(err)
	}
	in, err := fx.svc.ImportSTIX(ctx, "Health-ISAC", "bulletin.json", strings.NewReader(`{"type":"bundle","id":"bundle--5d0c8f52-6f1c-4a55-8d7e-2f4b9c1e3a70","objects":[`+
		string(isaoObjects("2025-06-01T00:00:00.000Z")[0])+`]}`))
	if err != nil || len(in.Linked) != 1 {
		t.Fatalf("import = %+v, %v", in, err)
	}
	sigs, _ := fx.svc.Signals(ctx, "", fx.caseID)
	a, err := fx.cases.Assess(ctx, cases.AssessInput{CaseID: fx.caseID, Risk: vigil.RiskUncontrolled, RiskReason: "exploited", Severity: vigil.HarmCatastrophic,
		SeverityReason: "dose delivery", Rationale: "the ISAO reports exploitation", Signals: []int64{sigs[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := fx.svc.Share(ctx, isao.ShareInput{CaseID: fx.caseID, Export: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := fx.svc.CaseEvidence(ctx, fx.caseID)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range p.Files {
		files[f.Name] = f.Content
		names = append(names, f.Name)
	}
	docName := fmt.Sprintf("isao/Health-ISAC/documents/%d-H-ISAC-agreement--2024-.pdf", doc.ID)
	for _, want := range []string{"isao/shares.json", "isao/signals.json", "isao/Health-ISAC/evidence.json", "isao/Health-ISAC/evidence.csv", docName} {
		if files[want] == nil {
			t.Errorf("no %s in %v", want, names)
		}
	}
	if !bytes.Equal(files[docName], agreement) {
		t.Errorf("%s = %q", docName, files[docName])
	}
	var shares []vigil.ISAOShare
	var signals []vigil.ISAOSignal
	var ev isao.ParticipationEvidence
	json.Unmarshal(files["isao/shares.json"], &shares)
	json.Unmarshal(files["isao/signals.json"], &signals)
	json.Unmarshal(files["isao/Health-ISAC/evidence.json"], &ev)
	if len(shares) != 1 || shares[0].ID != res.Shares[0].ID {
		t.Errorf("shares.json = %+v", shares)
	}
	if len(signals) != 1 || !slices.Equal(signals[0].Assessments, []int64{a.ID}) {
		t.Errorf("signals.json = %+v", signals)
	}
	if ev.From.String() != "2025-06-02" || ev.To.String() != "2025-06-10" || len(ev.Shares) != 1 || ev.Cited != 1 || !ev.Items[1].Evidenced {
		t.Errorf("evidence.json = %+v", ev)
	}
	if !strings.Contains(string(files["isao/Health-ISAC/evidence.csv"]), "share,3,2025-06-10") {
		t.Errorf("evidence.csv:\n%s", files["isao/Health-ISAC/evidence.csv"])
	}
	if !slices.Equal(p.Records["isao_shares"], []int64{res.Shares[0].ID}) || !slices.Contains(p.Records["isao_documents"], doc.ID) || len(p.Records["isao_memberships"]) != 1 {
		t.Errorf("records = %v", p.Records)
	}
}
