package notices_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/mailer"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/service/notices"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var system = vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "outbox"})

// flaky is the real outbox behind a connection that fails once when fail is set, before queuing anything.
type flaky struct {
	*notify.Outbox
	fail bool
}

func (o *flaky) Enqueue(ctx context.Context, ms []vigil.MailInput) ([]*vigil.Mail, error) {
	if o.fail {
		o.fail = false
		return nil, errors.New("outbox unavailable")
	}
	return o.Outbox.Enqueue(ctx, ms)
}

func dial(url string) (notify.Sender, error) {
	cfg, err := mailer.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return mailer.New(cfg), nil
}

type fixture struct {
	db     *store.DB
	cases  *cases.Service
	svc    *notices.Service
	outbox *flaky
	mp     *testfix.Mailpit
	caseID int64
}

// setup: an organization, a pump with a compensating control in its threat model, versions 3.2 (affected, one
// finding) and 3.3 (not), and three consignees: one of 3.2 with two contacts, one of 3.2 with none, one of 3.3.
func setup(t *testing.T, engine string, mp *testfix.Mailpit) *fixture {
	clock := storetest.NewClock(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	db := storetest.Open(t, engine, clock)
	ctx := storetest.Admin()
	must := storetest.Must(t)
	must(db.CreateOrg(ctx, &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago", CVDContact: "psirt@acme.example"}))
	must(db.SetCVDPolicy(ctx, &vigil.CVDPolicy{Languages: []string{"en"}, BaseURL: "https://acme.example"}, "publish"))
	d := &vigil.Device{Name: "Infusion Pump IP-3", Class: "II", Pathway: vigil.Pathway510k, Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}}}
	must(db.CreateDevice(ctx, d))
	v32 := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2", UnitsFielded: 100}
	v33 := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.3", UnitsFielded: 10}
	must(db.CreateVersion(ctx, v32))
	must(db.CreateVersion(ctx, v33))
	must(db.CreateControl(ctx, &vigil.Control{DeviceID: d.ID, Kind: vigil.ControlCompensating, Name: "Pumps on a dedicated VLAN", Description: "block the service port at the VLAN boundary", Reference: "IFU §7.3"}))
	for _, c := range []*vigil.Consignee{
		{Name: "General Hospital", Emails: []string{"biomed@general.example", "ciso@general.example"}, Units: []vigil.ConsigneeUnit{{VersionID: v32.ID, Units: 40}}},
		{Name: "Rural Clinic", Units: []vigil.ConsigneeUnit{{VersionID: v32.ID, Units: 2}}},
		{Name: "New Clinic", Emails: []string{"it@new.example"}, Units: []vigil.ConsigneeUnit{{VersionID: v33.ID, Units: 5}}},
	} {
		must(db.CreateConsignee(ctx, c))
	}
	f := &vigil.Finding{VersionID: v32.ID, Vulnerability: "CVE-2022-25640", Component: vigil.Component{Name: "wolfssl", Version: "4.8.1"}, Learned: vigil.NewDate(2026, 3, 1)}
	must(db.CreateFinding(ctx, f, "matched"))
	cs := &cases.Service{Store: db, Clock: clock}
	url := "" // queued, never delivered
	if mp != nil {
		url = mp.URL("psirt@acme.example")
	}
	ob := &flaky{Outbox: &notify.Outbox{Store: db, Dial: dial, URL: url, Clock: clock}}
	return &fixture{db: db, cases: cs, svc: &notices.Service{Store: db, Cases: cs, Outbox: ob}, outbox: ob, mp: mp, caseID: f.CaseID}
}

func (fx *fixture) assess(t *testing.T) {
	t.Helper()
	_, err := fx.cases.Assess(storetest.Admin(), cases.AssessInput{CaseID: fx.caseID, CVSS: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
		Functions: []string{"dose delivery"}, Controls: []string{"CC-1"}, Rationale: "a client without a certificate reaches dose programming"})
	if err != nil {
		t.Fatal(err)
	}
}

func events(t *testing.T, fx *fixture) []*vigil.CaseEvent {
	t.Helper()
	v, err := fx.cases.CaseView(storetest.Admin(), fx.caseID, vigil.Date{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*vigil.CaseEvent
	for _, e := range v.Events {
		if e.Type == regulatory.EventCustomerNotified {
			out = append(out, e)
		}
	}
	return out
}

// TestNoticeFlow walks a notice from draft to sent on both engines: the builder prefills what the records
// support and the check names what is missing; sending reaches every contact of the affected versions' consignees
// once, records customer_notified with the four elements, and a second send, or one resumed after the outbox
// failed, sends nothing twice.
func TestNoticeFlow(t *testing.T) {
	mp := testfix.StartMailpit(t)
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			mp.Reset(t)
			fx := setup(t, engine, mp)
			ctx := storetest.Admin()

			// Unassessed: nothing but the fix can be prefilled, and there is no fix either.
			n0, err := fx.svc.DraftNotice(ctx, []int64{fx.caseID}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := n0.Elements.Missing(); !cmp.Equal(got, []string{"a", "b", "c", "d"}) {
				t.Errorf("unassessed draft missing %v", got)
			}

			fx.assess(t)
			n, err := fx.svc.DraftNotice(ctx, []int64{fx.caseID}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Elements.Missing(); !cmp.Equal(got, []string{"d"}) {
				t.Errorf("assessed draft missing %v, want [d]", got)
			}
			for el, want := range map[string]string{"a": "severity of patient harm catastrophic", "c": "Pumps on a dedicated VLAN: block the service port at the VLAN boundary (see IFU §7.3)"} {
				if !strings.Contains(n.Elements.Get(el), want) {
					t.Errorf("element %s = %q, want it to say %q", el, n.Elements.Get(el), want)
				}
			}
			if n.Subject != "Cybersecurity notice: CVE-2022-25640 in Infusion Pump IP-3" {
				t.Errorf("subject %q", n.Subject)
			}

			// Missing d: refused without a reason, naming the element.
			if _, err := fx.svc.SendNotice(ctx, n.ID, "", nil); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "(d) a fix is coming") {
				t.Fatalf("send with d missing: %v", err)
			}
			n.Elements.D = "Version 3.3.1 will fix it in April 2026; we will tell you when it is available. <script>alert(1)</script>"
			if err := fx.svc.EditNotice(ctx, n, "fix plan agreed"); err != nil {
				t.Fatal(err)
			}

			p, err := fx.svc.PreviewNotice(ctx, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			var to []string
			for _, r := range p.Recipients {
				to = append(to, r.Email)
			}
			if !cmp.Equal(to, []string{"biomed@general.example", "ciso@general.example"}) || !cmp.Equal(p.NoAddress, []string{"Rural Clinic"}) || len(p.Missing) != 0 {
				t.Errorf("preview to %v, no address %v, missing %v", to, p.NoAddress, p.Missing)
			}
			for _, want := range []string{"What you can do now: compensating controls", "Infusion Pump IP-3 3.2: CVE-2022-25640", "Questions and reports: psirt@acme.example"} {
				if !strings.Contains(p.Text, want) || !strings.Contains(p.HTML, want) {
					t.Errorf("preview lacks %q:\n%s\n%s", want, p.Text, p.HTML)
				}
			}
			if strings.Contains(p.HTML, "<script>") || !strings.Contains(p.HTML, "&lt;script&gt;") || !strings.Contains(p.Text, "<script>") {
				t.Errorf("the HTML part must escape what the PSIRT typed, the text part keep it:\n%s", p.HTML)
			}

			// The outbox fails once: the notice is claimed, nothing recorded; the retry completes it.
			fx.outbox.fail = true
			if _, err := fx.svc.SendNotice(ctx, n.ID, "", nil); err == nil {
				t.Fatal("send with a failing outbox succeeded")
			}
			if got, _ := fx.svc.Notice(ctx, n.ID); got.State != vigil.NoticeSending || len(events(t, fx)) != 0 {
				t.Fatalf("after a failed send: state %s, %d events", got.State, len(events(t, fx)))
			}
			sent, err := fx.svc.SendNotice(ctx, n.ID, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if sent.State != vigil.NoticeSent || sent.SentDate.String() != "2026-03-02" {
				t.Errorf("sent: %s on %v", sent.State, sent.SentDate)
			}
			if _, err := fx.svc.SendNotice(ctx, n.ID, "", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
				t.Errorf("second send: %v, want ECONFLICT", err)
			}
			ds, err := fx.svc.NoticeDeliveries(ctx, n.ID)
			if err != nil || len(ds) != 2 || ds[0].State != string(vigil.MailQueued) {
				t.Fatalf("deliveries before the outbox ran: %+v %v", ds, err)
			}
			if sentNow, err := fx.outbox.DeliverDue(system); err != nil || sentNow != 2 {
				t.Fatalf("delivered %d, %v; want 2", sentNow, err)
			}
			got := fx.mp.Messages(t)
			if len(got) != 2 {
				t.Fatalf("%d messages arrived, want 2", len(got))
			}
			ds, _ = fx.svc.NoticeDeliveries(ctx, n.ID)
			for i, m := range got {
				d := ds[i]
				if m.To[0].Address != d.Recipient.Email || m.Subject != n.Subject || m.From.Address != "psirt@acme.example" ||
					!strings.Contains(m.Text, "What you can do now: compensating controls") || !strings.Contains(m.HTML, "<h2>The fix</h2>") ||
					!strings.Contains(m.HTML, "&lt;script&gt;") || m.Headers["X-Vigil-About"][0] != "notice:2" || strings.Trim(m.MessageID, "<>") != strings.Trim(d.MessageID, "<>") {
					t.Errorf("arrived %+v\nfor delivery %+v", m, d)
				}
				if d.State != string(vigil.MailAccepted) || d.Attempts != 1 {
					t.Errorf("delivery %+v, want accepted at the first attempt", d)
				}
			}
			evs := events(t, fx)
			if len(evs) != 1 || !cmp.Equal(evs[0].Details.Elements, []string{"a", "b", "c", "d"}) || evs[0].Date.String() != "2026-03-02" || !strings.HasPrefix(evs[0].Note, "Customer notice N-2:") {
				t.Fatalf("customer_notified events: %+v", evs)
			}
			if err := fx.svc.EditNotice(ctx, n, "late"); vigil.ErrorCode(err) != vigil.ECONFLICT {
				t.Errorf("edit after sending: %v, want ECONFLICT", err)
			}

			// A follow-up keeps the first's recipients and names its messages.
			fu, err := fx.svc.DraftNotice(ctx, nil, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(fu.Cases, n.Cases) || !strings.HasPrefix(fu.Subject, "Cybersecurity notice update:") {
				t.Errorf("follow-up %+v", fu)
			}
			fu.Elements = n.Elements
			fu.Elements.D = "Version 3.3.1 is available: install it (release notes RN-331)."
			if err := fx.svc.EditNotice(ctx, fu, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := fx.svc.SendNotice(ctx, fu.ID, "", nil); err != nil {
				t.Fatal(err)
			}
			if sentNow, err := fx.outbox.DeliverDue(system); err != nil || sentNow != 2 {
				t.Fatalf("follow-up delivered %d, %v; want 2", sentNow, err)
			}
			got = fx.mp.Messages(t)
			if last := got[len(got)-1]; len(got) != 4 || !strings.Contains(last.Text, "This notice updates our notice N-2 of 2026-03-02") ||
				last.Headers["X-Vigil-About"][0] != "notice:3" {
				t.Errorf("%d messages; the follow-up arrived as %+v", len(got), last)
			}
			if got := events(t, fx); len(got) != 2 || !strings.Contains(got[1].Note, "follow-up of N-2") {
				t.Errorf("follow-up event %+v", got)
			}
		})
	}
}

// TestNoticeSentWithoutAnElement: with a reason, a notice lacking (c) is sent; the event records a, b and d only,
// so criterion 2 is not met by it and the determination names the missing element.
func TestNoticeSentWithoutAnElement(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			fx := setup(t, engine, nil)
			ctx := storetest.Admin()
			fx.assess(t)
			n, err := fx.svc.DraftNotice(ctx, []int64{fx.caseID}, 0)
			if err != nil {
				t.Fatal(err)
			}
			n.Elements.C, n.Elements.D = "", "A fix is planned; you will be told."
			if err := fx.svc.EditNotice(ctx, n, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := fx.svc.SendNotice(ctx, n.ID, "the compensating control is still being validated", nil); err != nil {
				t.Fatal(err)
			}
			evs := events(t, fx)
			if len(evs) != 1 || !cmp.Equal(evs[0].Details.Elements, []string{"a", "b", "d"}) || !strings.Contains(evs[0].Note, "sent without element(s) c: the compensating control is still being validated") {
				t.Fatalf("event %+v", evs)
			}
			v, err := fx.cases.CaseView(ctx, fx.caseID, vigil.Date{})
			if err != nil {
				t.Fatal(err)
			}
			c2 := v.Determination.EnforcementDiscretion.Criteria[1]
			if c2.Status != regulatory.StatusPending || !strings.Contains(c2.Reason, "the notice of 2026-03-02 lacks element c") {
				t.Errorf("criterion 2: %s: %s", c2.Status, c2.Reason)
			}
		})
	}
}

// TestSendRefuses: no outbox, no recipient, unknown notice.
func TestSendRefuses(t *testing.T) {
	fx := setup(t, store.SQLite, nil)
	ctx := storetest.Admin()
	fx.assess(t)
	n, err := fx.svc.DraftNotice(ctx, []int64{fx.caseID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	noMail := &notices.Service{Store: fx.db, Cases: fx.cases}
	for _, tt := range []struct {
		name string
		svc  *notices.Service
		id   int64
		code string
	}{
		{"no mailer", noMail, n.ID, vigil.EUNAVAILABLE},
		{"unknown", fx.svc, 99, vigil.ENOTFOUND},
	} {
		if _, err := tt.svc.SendNotice(ctx, tt.id, "x", nil); vigil.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	if _, err := fx.svc.DraftNotice(ctx, []int64{fx.caseID, 77}, 0); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "cases[1]") {
		t.Errorf("draft with an unknown case: %v", err)
	}
	if _, err := fx.svc.DraftNotice(storetest.As("rita", vigil.RoleViewer), []int64{fx.caseID}, 0); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
		t.Errorf("viewer drafting: %v", err)
	}
}
