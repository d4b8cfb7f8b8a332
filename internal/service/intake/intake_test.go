package intake_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/service/intake"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is the intake service on a fresh store of one engine, with the organization (Chicago, 5 working days
// to acknowledge) and one device, and a clock at Friday 2025-06-06 20:00 in Chicago (Saturday 01:00 UTC).
type fixture struct {
	svc   *intake.Service
	db    *store.DB
	clock *storetest.Clock
	dev   *vigil.Device
	ver   *vigil.DeviceVersion
}

var staff = storetest.Admin()

func psirt() context.Context {
	return vigil.WithActor(context.Background(), vigil.Actor{UserID: 2, Name: "pat", Role: vigil.RolePSIRT})
}

func viewer() context.Context {
	return vigil.WithActor(context.Background(), vigil.Actor{UserID: 3, Name: "vic", Role: vigil.RoleViewer})
}

func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) {
			clock := storetest.NewClock(time.Date(2025, 6, 7, 1, 0, 0, 0, time.UTC))
			db := storetest.Open(t, e, clock)
			o := &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago", CVDAckDays: 5, CVDContact: "mailto:psirt@acme.example"}
			if err := db.CreateOrg(staff, o); err != nil {
				t.Fatal(err)
			}
			d := &vigil.Device{Name: "Infusio IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k}
			if err := db.CreateDevice(staff, d); err != nil {
				t.Fatal(err)
			}
			v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2.1"}
			if err := db.CreateVersion(staff, v); err != nil {
				t.Fatal(err)
			}
			fn(t, &fixture{svc: &intake.Service{Store: db, Clock: clock}, db: db, clock: clock, dev: d, ver: v})
		})
	}
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func goodInput(dev int64) *vigil.ReportInput {
	return &vigil.ReportInput{DeviceID: dev, Version: "3.2.1", Title: "Unauthenticated dose change over REST",
		Description: "POST /api/dose accepts a new rate without a session.", Impact: "A patient could be over-infused.",
		Steps: "curl -X POST http://pump/api/dose -d rate=999", CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		ReporterName: "Rae Searcher", ReporterEmail: "rae@lab.example", Credit: "Rae Searcher (Lab)",
		Attachments: []vigil.AttachmentInput{{Name: "poc.txt", ContentType: "text/plain", Data: []byte("curl -X POST ...\n")},
			{Name: "screen.png", ContentType: "image/png", Data: png}}}
}

// count returns the rows of a table, to prove a refusal stored nothing.
func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReportLifecycle files a report as the public, follows it through the link, and walks it through the
// ISO/IEC 30111 steps as the PSIRT, checking what the reporter sees after each.
func TestReportLifecycle(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		r, token, err := f.svc.Submit(context.Background(), goodInput(f.dev.ID))
		if err != nil {
			t.Fatal(err)
		}
		// Received Friday evening in Chicago: D0 is Friday 2025-06-06, and 5 working days later is Friday
		// 2025-06-13 (no federal holiday in between).
		if r.ReceivedOn.String() != "2025-06-06" || r.AckDue.String() != "2025-06-13" {
			t.Errorf("received on %s, ack due %s; want 2025-06-06 and 2025-06-13", r.ReceivedOn, r.AckDue)
		}
		if r.Product != "Infusio IP-3" || r.Number != vigil.ReportNumber(r.ID) || len(r.Attachments) != 2 || !r.LinkActive {
			t.Errorf("report as filed: %+v", r)
		}
		v, err := f.svc.Follow(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != vigil.ReportReceived || v.Number != r.Number || len(v.Messages) != 0 {
			t.Errorf("reporter view: %+v", v)
		}
		clocks, err := f.svc.Clocks(viewer())
		if err != nil {
			t.Fatal(err)
		}
		if len(clocks) != 1 || clocks[0].Due.String() != "2025-06-13" || clocks[0].DaysLeft != 7 || clocks[0].Overdue {
			t.Errorf("clocks: %+v", clocks)
		}

		// Out of order: triage before the acknowledgement is refused and changes nothing.
		if err := f.svc.Triage(psirt(), r.ID, []vigil.ReportLink{{Kind: vigil.LinkFinding, ID: 1}}, "x"); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Fatalf("triage before ack: %v, want ECONFLICT", err)
		}
		if err := f.svc.Acknowledge(viewer(), r.ID, "Thanks"); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Fatalf("a viewer acknowledging: %v, want EFORBIDDEN", err)
		}
		if err := f.svc.Acknowledge(psirt(), r.ID, "Thank you, we are looking at it."); err != nil {
			t.Fatal(err)
		}
		if clocks, _ := f.svc.Clocks(viewer()); len(clocks) != 0 {
			t.Errorf("clock still open after the acknowledgement: %+v", clocks)
		}
		if err := f.svc.Reply(context.Background(), token, "The firmware I tested was 3.2.1 build 77."); err != nil {
			t.Fatal(err)
		}
		fnd := &vigil.Finding{VersionID: f.ver.ID, Component: vigil.Component{Name: "dose-api", Version: "3.2.1"}, Vulnerability: r.Number, Learned: r.ReceivedOn}
		if err := f.db.CreateFinding(staff, fnd, "researcher report "+r.Number); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Triage(psirt(), r.ID, []vigil.ReportLink{{Kind: vigil.LinkFinding, ID: fnd.ID + 100}}, "Confirmed."); vigil.ErrorCode(err) != vigil.EINVALID ||
			!strings.Contains(err.Error(), "links[0]") {
			t.Fatalf("triage to a missing finding: %v, want EINVALID naming links[0]", err)
		}
		if err := f.svc.Triage(psirt(), r.ID, []vigil.ReportLink{{Kind: vigil.LinkFinding, ID: fnd.ID}}, "Confirmed on 3.2.1; tracked as a finding."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Advance(psirt(), r.ID, vigil.ReportDisclosure, "skip"); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Fatalf("skipping remediation: %v, want ECONFLICT", err)
		}
		for _, st := range []vigil.ReportStatus{vigil.ReportRemediation, vigil.ReportDisclosure} {
			if err := f.svc.Advance(psirt(), r.ID, st, "Now "+string(st)+"."); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.Close(psirt(), r.ID, vigil.ResolutionResolved, "Fixed in 3.2.2; advisory ACME-2025-01 credits you."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Reply(context.Background(), token, "late"); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("a reply to a closed report: %v, want ECONFLICT", err)
		}
		v, err = f.svc.Follow(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		type line struct {
			From   string
			Status vigil.ReportStatus
			Body   string
		}
		var got []line
		for _, m := range v.Messages {
			if m.Author != "" {
				t.Errorf("the reporter sees a staff name: %+v", m)
			}
			got = append(got, line{m.From, m.Status, m.Body})
		}
		want := []line{{"psirt", "acknowledged", "Thank you, we are looking at it."}, {"reporter", "", "The firmware I tested was 3.2.1 build 77."},
			{"psirt", "triaged", "Confirmed on 3.2.1; tracked as a finding."}, {"psirt", "remediation", "Now remediation."},
			{"psirt", "disclosure", "Now disclosure."}, {"psirt", "closed", "Fixed in 3.2.2; advisory ACME-2025-01 credits you."}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("thread as the reporter sees it (-want +got):\n%s", diff)
		}
		if v.Status != vigil.ReportClosed || v.Resolution != "resolved" || v.Acknowledged.IsZero() {
			t.Errorf("reporter view at the end: %+v", v)
		}
		got2, err := f.svc.Report(viewer(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]vigil.ReportLink{{Kind: vigil.LinkFinding, ID: fnd.ID}}, got2.Links); diff != "" {
			t.Errorf("links (-want +got):\n%s", diff)
		}
		ms, err := f.svc.Messages(viewer(), r.ID)
		if err != nil || len(ms) != 6 || ms[0].Author != "pat" {
			t.Errorf("staff thread: %v %+v", err, ms)
		}
		a, err := f.svc.Attachment(viewer(), r.ID, got2.Attachments[1].ID)
		if err != nil || !bytes.Equal(a.Data, png) || a.ContentType != "image/png" || a.Size != int64(len(png)) {
			t.Errorf("attachment: %v %+v", err, a)
		}
		if _, err := f.svc.Attachment(context.Background(), r.ID, got2.Attachments[1].ID); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("attachment without signing in: %v, want EUNAUTHORIZED", err)
		}
		evs, err := f.db.Events(staff, vigil.AuditFilter{ObjectType: "report"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range evs {
			actions = append(actions, e.Actor+" "+e.Action)
		}
		wantActions := []string{"user:pat intake.close", "user:pat intake.advance", "user:pat intake.advance", "user:pat intake.triage",
			"reporter:follow-up intake.reply", "user:pat intake.ack", "reporter:public intake.report.create"}
		if diff := cmp.Diff(wantActions, actions); diff != "" {
			t.Errorf("audit trail (-want +got):\n%s", diff)
		}
	})
}

// TestHostileReports sends hostile or oversized text in every field, too many and too large attachments, and
// attachments whose bytes are not what they claim: each is refused naming the field, and nothing is stored.
func TestHostileReports(t *testing.T) {
	long := strings.Repeat("a", vigil.MaxReportText+1)
	cases := []struct {
		name  string
		edit  func(in *vigil.ReportInput)
		field string
	}{
		{"title too long", func(in *vigil.ReportInput) { in.Title = strings.Repeat("t", vigil.MaxReportTitle+1) }, "title"},
		{"title missing", func(in *vigil.ReportInput) { in.Title = "  " }, "title"},
		{"description invalid UTF-8", func(in *vigil.ReportInput) { in.Description = "ok \xff\xfe" }, "description"},
		{"description NUL", func(in *vigil.ReportInput) { in.Description = "a\x00b" }, "description"},
		{"impact too long", func(in *vigil.ReportInput) { in.Impact = long }, "impact"},
		{"steps too long", func(in *vigil.ReportInput) { in.Steps = long }, "steps"},
		{"product missing", func(in *vigil.ReportInput) { in.DeviceID, in.Product = 0, "" }, "product"},
		{"unknown device", func(in *vigil.ReportInput) { in.DeviceID = 999 }, "device_id"},
		{"version too long", func(in *vigil.ReportInput) { in.Version = strings.Repeat("9", vigil.MaxName+1) }, "version"},
		{"bad CVSS", func(in *vigil.ReportInput) { in.CVSS = "<script>alert(1)</script>" }, "cvss"},
		{"name NUL", func(in *vigil.ReportInput) { in.ReporterName = "\x00" }, "reporter_name"},
		{"e-mail with a header", func(in *vigil.ReportInput) { in.ReporterEmail = "a@b.example\r\nBcc: all@x.example" }, "reporter_email"},
		{"e-mail javascript", func(in *vigil.ReportInput) { in.ReporterEmail = "javascript:alert(1)" }, "reporter_email"},
		{"unknown disclosure", func(in *vigil.ReportInput) { in.Disclosure = "tomorrow" }, "disclosure"},
		{"another source", func(in *vigil.ReportInput) { in.Source = vigil.ReportCISA }, "source"},
		{"too many attachments", func(in *vigil.ReportInput) {
			for range vigil.MaxAttachments {
				in.Attachments = append(in.Attachments, vigil.AttachmentInput{Name: "x.txt", ContentType: "text/plain", Data: []byte("x")})
			}
		}, "attachments"},
		{"attachment too large", func(in *vigil.ReportInput) {
			in.Attachments[0].Data = bytes.Repeat([]byte("a"), vigil.MaxAttachmentSize+1)
		}, "attachments[0]"},
		{"attachments too large together", func(in *vigil.ReportInput) {
			in.Attachments = nil
			for range 3 {
				in.Attachments = append(in.Attachments, vigil.AttachmentInput{Name: "big.bin", ContentType: "application/octet-stream", Data: bytes.Repeat([]byte{1}, vigil.MaxAttachmentSize)})
			}
		}, "attachments"},
		{"HTML declared", func(in *vigil.ReportInput) { in.Attachments[0].ContentType = "text/html" }, "attachments[0].content_type"},
		{"HTML as text", func(in *vigil.ReportInput) { in.Attachments[0].Data = []byte("<html><script>alert(1)</script>") }, "attachments[0]"},
		{"HTML as PNG", func(in *vigil.ReportInput) { in.Attachments[1].Data = []byte("<!DOCTYPE html><script>x</script>") }, "attachments[1]"},
		{"HTML as binary", func(in *vigil.ReportInput) {
			in.Attachments[0] = vigil.AttachmentInput{Name: "a.bin", ContentType: "application/octet-stream", Data: []byte("<svg onload=alert(1)>")}
		}, "attachments[0]"},
		{"path in a name", func(in *vigil.ReportInput) { in.Attachments[0].Name = "../../etc/passwd" }, "attachments[0].name"},
		{"newline in a name", func(in *vigil.ReportInput) { in.Attachments[0].Name = "a\r\nContent-Type: text/html" }, "attachments[0].name"},
		{"empty attachment", func(in *vigil.ReportInput) { in.Attachments[0].Data = nil }, "attachments[0]"},
	}
	each(t, func(t *testing.T, f *fixture) {
		for _, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				in := goodInput(f.dev.ID)
				tt.edit(in)
				_, tok, err := f.svc.Submit(context.Background(), in)
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(vigil.ErrorMessage(err), tt.field) {
					t.Fatalf("got %v (%s), want EINVALID naming %s", err, vigil.ErrorCode(err), tt.field)
				}
				if tok != "" {
					t.Errorf("a refused report returned a token")
				}
			})
		}
		for _, table := range []string{"intake_reports", "intake_attachments", "intake_messages"} {
			if n := count(t, f.db, table); n != 0 {
				t.Errorf("%s has %d rows after only refusals", table, n)
			}
		}
		// Hostile text that is valid text is stored as it came: escaping is the screens' job, tested there.
		in := goodInput(f.dev.ID)
		in.Title = `<script>alert("t")</script>`
		in.Description = `<img src=x onerror=alert(1)> [x](javascript:alert(1))`
		r, _, err := f.svc.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Report(viewer(), r.ID)
		if err != nil || got.Title != in.Title || got.Description != in.Description {
			t.Errorf("stored hostile text changed: %v %q %q", err, got.Title, got.Description)
		}
	})
}

// TestFollowUpLinks checks that a guessed, malformed or revoked token reads nothing, that a reporter's link
// reaches only its own report, and that a new link replaces the old one.
func TestFollowUpLinks(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a, tokA, err := f.svc.Submit(context.Background(), goodInput(f.dev.ID))
		if err != nil {
			t.Fatal(err)
		}
		inB := goodInput(f.dev.ID)
		inB.Title = "Another researcher's report"
		b, tokB, err := f.svc.Submit(context.Background(), inB)
		if err != nil {
			t.Fatal(err)
		}
		if va, _ := f.svc.Follow(context.Background(), tokA); va == nil || va.Number != a.Number {
			t.Fatalf("link A shows %+v", va)
		}
		if vb, _ := f.svc.Follow(context.Background(), tokB); vb == nil || vb.Number != b.Number || vb.Title != inB.Title {
			t.Fatalf("link B shows %+v", vb)
		}
		// A guess of the right shape, the other report's number, a hash, SQL, an empty string: none reads anything.
		guess := strings.Repeat("A", len(tokA))
		for _, bad := range []string{guess, tokA[:len(tokA)-1], tokA + "A", a.Number, "", "' OR 1=1 --", strings.Repeat("x", 10000)} {
			if _, err := f.svc.Follow(context.Background(), bad); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
				t.Errorf("Follow(%.20q) = %v, want EUNAUTHORIZED", bad, err)
			}
			if err := f.svc.Reply(context.Background(), bad, "hi"); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
				t.Errorf("Reply(%.20q) = %v, want EUNAUTHORIZED", bad, err)
			}
		}
		// Reporter A writes through link A: the message lands on A only.
		if err := f.svc.Reply(context.Background(), tokA, "only for A"); err != nil {
			t.Fatal(err)
		}
		if vb, _ := f.svc.Follow(context.Background(), tokB); len(vb.Messages) != 0 {
			t.Errorf("report B shows A's message: %+v", vb.Messages)
		}
		if err := f.svc.RevokeLink(psirt(), a.ID, ""); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("revoke without a reason: %v", err)
		}
		if err := f.svc.RevokeLink(psirt(), a.ID, "The reporter's mailbox was compromised."); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Follow(context.Background(), tokA); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("revoked link: %v, want EUNAUTHORIZED", err)
		}
		if err := f.svc.Reply(context.Background(), tokA, "still here?"); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("reply through a revoked link: %v, want EUNAUTHORIZED", err)
		}
		tokA2, err := f.svc.NewLink(psirt(), a.ID, "New address confirmed by phone.")
		if err != nil {
			t.Fatal(err)
		}
		if v, err := f.svc.Follow(context.Background(), tokA2); err != nil || v.Number != a.Number || len(v.Messages) != 1 {
			t.Errorf("new link: %v %+v", err, v)
		}
		if r, _ := f.svc.Report(viewer(), a.ID); !r.LinkActive {
			t.Errorf("report A's link is not active after NewLink")
		}
		// The store keeps hashes only: no token appears in any row.
		var n int
		if err := f.db.SQL().QueryRow("SELECT COUNT(*) FROM intake_reports WHERE token_hash IN ($1, $2, $3)", tokA, tokB, tokA2).Scan(&n); err != nil || n != 0 {
			t.Errorf("a token is stored in clear: %v %d", err, n)
		}
	})
}

// TestReporterMessageCap bounds what one link can add.
func TestReporterMessageCap(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		_, tok, err := f.svc.Submit(context.Background(), goodInput(f.dev.ID))
		if err != nil {
			t.Fatal(err)
		}
		for i := range vigil.MaxReporterMessages {
			if err := f.svc.Reply(context.Background(), tok, "m"); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		if err := f.svc.Reply(context.Background(), tok, "one more"); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("message beyond the cap: %v, want EINVALID", err)
		}
		if err := f.svc.Reply(context.Background(), tok, strings.Repeat("m", vigil.MaxReportText+1)); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("oversized message: %v", err)
		}
	})
}

// TestQueueCap fills the queue from many goroutines at once: exactly the cap is accepted, every other submission
// is refused with EUNAVAILABLE, and acknowledging one makes room for one more.
func TestQueueCap(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		const capN = 6
		if err := f.svc.SetPolicy(staff, &vigil.CVDPolicy{QueueCap: capN}, "small queue for the test"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3*capN)
		for range 3 * capN {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := goodInput(f.dev.ID)
				in.Attachments = nil
				_, _, err := f.svc.Submit(context.Background(), in)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok, full := 0, 0
		for err := range errs {
			switch vigil.ErrorCode(err) {
			case "":
				ok++
			case vigil.EUNAVAILABLE:
				full++
				if !strings.Contains(vigil.ErrorMessage(err), "queue is full") {
					t.Errorf("refusal: %v", err)
				}
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		if ok != capN || full != 2*capN || count(t, f.db, "intake_reports") != capN {
			t.Fatalf("accepted %d, refused %d, stored %d; want %d, %d, %d", ok, full, count(t, f.db, "intake_reports"), capN, 2*capN, capN)
		}
		// Reports from other sources are the PSIRT's own: the cap does not hold them back.
		if _, err := f.svc.Add(staff, &vigil.ReportInput{Source: vigil.ReportComplaint, Product: "IP-3", Title: "Pump rebooted after a scan", Description: "Complaint CMP-88", Reference: "CMP-88"}); err != nil {
			t.Fatal(err)
		}
		rs, _ := f.svc.Reports(viewer(), vigil.ReportFilter{Source: vigil.ReportResearcher})
		if err := f.svc.Acknowledge(psirt(), rs[0].ID, "Received."); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Submit(context.Background(), goodInput(f.dev.ID)); err != nil {
			t.Errorf("after one acknowledgement the queue has room: %v", err)
		}
	})
}

// TestOtherSources files complaints and tips into the same queue; they need PermIntake and have no link.
func TestOtherSources(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		in := &vigil.ReportInput{Source: vigil.ReportService, DeviceID: f.dev.ID, Title: "Service: unknown SSH key on unit 4411", Description: "Field engineer found an extra authorized_keys entry.", Reference: "SR-2025-0042"}
		if _, err := f.svc.Add(viewer(), in); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("a viewer adding: %v", err)
		}
		if _, err := f.svc.Add(psirt(), &vigil.ReportInput{Source: vigil.ReportResearcher, Product: "x", Title: "x", Description: "x"}); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("staff adding a researcher report: %v", err)
		}
		r, err := f.svc.Add(psirt(), in)
		if err != nil {
			t.Fatal(err)
		}
		if r.LinkActive || r.Source != vigil.ReportService || r.Reference != "SR-2025-0042" {
			t.Errorf("service report: %+v", r)
		}
		rs, err := f.svc.Reports(viewer(), vigil.ReportFilter{Statuses: []vigil.ReportStatus{vigil.ReportReceived}})
		if err != nil || len(rs) != 1 || rs[0].ID != r.ID {
			t.Errorf("inbox: %v %+v", err, rs)
		}
		// A reporter actor cannot file another source even by calling the store.
		if err := f.db.CreateReport(vigil.WithActor(context.Background(), vigil.ReporterActor("x")), &vigil.Report{Source: vigil.ReportCISA, Title: "x", Description: "x"}, nil, "", 0); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("reporter filing a CISA report at the store: %v", err)
		}
		if err := f.db.ChangeReport(vigil.WithActor(context.Background(), vigil.ReporterActor("x")), r.ID, vigil.ReportChange{Action: "x", From: "received", To: "closed"}); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("reporter changing a report at the store: %v", err)
		}
	})
}

// TestPolicy checks the published policy's settings and their validation.
func TestPolicy(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		p, err := f.svc.Policy(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if p.Contact != "mailto:psirt@acme.example" || p.AckDays != 5 || p.OrgName != "Acme Medical" || !p.Expires.IsZero() {
			t.Errorf("default policy: %+v", p)
		}
		now := f.clock.Now()
		for _, bad := range []struct {
			p     vigil.CVDPolicy
			field string
		}{
			{vigil.CVDPolicy{Expires: now.Add(-time.Hour)}, "expires"},
			{vigil.CVDPolicy{Expires: now.Add(400 * 24 * time.Hour)}, "expires"},
			{vigil.CVDPolicy{BaseURL: "http://psirt.example"}, "base_url"},
			{vigil.CVDPolicy{BaseURL: "javascript:alert(1)"}, "base_url"},
			{vigil.CVDPolicy{Languages: []string{"en", "<b>"}}, "languages[1]"},
			{vigil.CVDPolicy{QueueCap: -1}, "queue_cap"},
		} {
			if err := f.svc.SetPolicy(staff, &bad.p, "x"); vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(vigil.ErrorMessage(err), bad.field) {
				t.Errorf("SetPolicy(%+v) = %v, want EINVALID naming %s", bad.p, err, bad.field)
			}
		}
		if err := f.svc.SetPolicy(psirt(), &vigil.CVDPolicy{}, "x"); err != nil {
			t.Errorf("the PSIRT (portfolio.write) setting the policy: %v", err)
		}
		if err := f.svc.SetPolicy(viewer(), &vigil.CVDPolicy{}, "x"); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("a viewer setting the policy: %v", err)
		}
		want := vigil.CVDPolicy{Expires: now.Add(180 * 24 * time.Hour).Truncate(time.Second), Languages: []string{"en", "de"},
			BaseURL: "https://psirt.acme.example", Statement: "Good-faith research is welcome.", QueueCap: 50}
		if err := f.svc.SetPolicy(staff, &want, "annual review"); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Policy(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !got.Expires.Equal(want.Expires) || !cmp.Equal(got.Languages, want.Languages) || got.BaseURL != want.BaseURL || got.QueueCap != 50 || got.Statement != want.Statement {
			t.Errorf("policy read back: %+v", got)
		}
	})
}

// TestAckClockCalendar counts the acknowledgement's working days on the organization's calendar: across
// Independence Day the federal calendar takes a day more than plain weekdays.
func TestAckClockCalendar(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.clock.T = time.Date(2025, 6, 30, 15, 0, 0, 0, time.UTC) // Monday, 10:00 in Chicago
		in := goodInput(f.dev.ID)
		in.Attachments = nil
		r, _, err := f.svc.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if r.AckDue.String() != "2025-07-08" {
			t.Errorf("federal calendar: ack due %s, want 2025-07-08 (July 4 is not a working day)", r.AckDue)
		}
		orgs, err := f.db.Orgs(staff)
		if err != nil {
			t.Fatal(err)
		}
		orgs[0].Policy.WorkingDays = "weekdays"
		if err := f.db.UpdateOrg(staff, orgs[0], "count plain weekdays"); err != nil {
			t.Fatal(err)
		}
		if r, _, err = f.svc.Submit(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		if r.AckDue.String() != "2025-07-07" {
			t.Errorf("weekdays calendar: ack due %s, want 2025-07-07", r.AckDue)
		}
	})
}

// TestDisclosureCoordination: disclosure is coordinated on the case a report was triaged into, through the case
// service; bad fields are refused naming them, a viewer may not record it, and the reporter reads the case's
// standing coordination through the follow-up link (without the case, the reason or who recorded it); the audit
// trail keeps every earlier state.
func TestDisclosureCoordination(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		cs := &cases.Service{Store: f.db, Clock: f.clock}
		f.svc.Cases = cs
		r, token, err := f.svc.Submit(context.Background(), goodInput(f.dev.ID))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Acknowledge(psirt(), r.ID, "Thank you."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Triage(psirt(), r.ID, []vigil.ReportLink{{Kind: vigil.LinkCase}}, "A case is open."); err != nil {
			t.Fatal(err)
		}
		r, err = f.svc.Report(psirt(), r.ID)
		if err != nil || len(r.Links) != 1 || len(r.Coordination) != 0 {
			t.Fatalf("triaged report = %+v, %v", r, err)
		}
		caseID := r.Links[0].ID
		embargo, published := vigil.NewDate(2025, 9, 1), vigil.NewDate(2025, 9, 2)
		for _, bad := range []struct {
			d     vigil.Disclosure
			field string
		}{
			{vigil.Disclosure{CVE: "CVE-25-1", CVEAssignedBy: "MITRE"}, "cve"},
			{vigil.Disclosure{CVE: "CVE-2025-12345"}, "cve_assigned_by"},
			{vigil.Disclosure{Partners: []string{"cisa", "CISA"}}, "partners[1]"},
			{vigil.Disclosure{Partners: []string{"a\x00"}}, "partners[0]"},
			{vigil.Disclosure{Credit: strings.Repeat("c", vigil.MaxName+1)}, "credit"},
			{vigil.Disclosure{Credit: "<script>alert(1)</script>\xff"}, "credit"},
		} {
			if _, err := cs.SetDisclosure(psirt(), caseID, bad.d, "x"); vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(vigil.ErrorMessage(err), bad.field) {
				t.Errorf("SetDisclosure(%+v) = %v, want EINVALID naming %s", bad.d, err, bad.field)
			}
		}
		if _, err := cs.SetDisclosure(psirt(), caseID, vigil.Disclosure{}, " "); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("without a reason: %v", err)
		}
		if _, err := cs.SetDisclosure(viewer(), caseID, vigil.Disclosure{}, "x"); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("a viewer: %v", err)
		}
		plan := vigil.Disclosure{Embargo: &embargo, Partners: []string{vigil.PartnerCISA, vigil.PartnerReporter}, CVERequestedFrom: "CISA", Credit: "Rae Searcher (Lab)"}
		if _, err := cs.SetDisclosure(psirt(), caseID, plan, "Embargo agreed with the reporter."); err != nil {
			t.Fatal(err)
		}
		done := plan
		done.CVE, done.CVEAssignedBy, done.Published, done.Advisory = "CVE-2025-12345", "CISA", &published, "ACME-SA-2025-01"
		if _, err := cs.SetDisclosure(psirt(), caseID, done, "Published."); err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.Follow(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]vigil.Disclosure{done}, v.Coordination); diff != "" {
			t.Errorf("the reporter's view of the disclosure (-want +got):\n%s", diff)
		}
		view, err := cs.CaseView(viewer(), caseID, vigil.Date{})
		if err != nil || len(view.Disclosures) != 2 || view.Disclosures[0].Reason != "Embargo agreed with the reporter." || !strings.Contains(view.Disclosures[1].Actor, "pat") {
			t.Fatalf("the case's records = %+v, %v", view.Disclosures, err)
		}
		if out := cases.NewOut(view); len(out.Disclosures) != 2 {
			t.Errorf("case show --format json carries %d disclosure records, want 2", len(out.Disclosures))
		}
		evs, err := f.db.Events(staff, vigil.AuditFilter{ObjectType: "case", Action: "case.disclosure"})
		if err != nil || len(evs) != 2 || evs[0].Reason != "Published." || !strings.Contains(string(evs[0].Old), `"cve_requested_from":"CISA"`) ||
			!strings.Contains(string(evs[0].New), `"cve":"CVE-2025-12345"`) {
			t.Errorf("audit trail of the coordination: %v %d", err, len(evs))
		}
	})
}

// TestTriageIntoCases: triage links a report to cases through the case service. A link without an id opens the
// report's device's case, learned the day the report came in (a provisional id, the report number, when no CVE is
// named); a case that exists already (found by any alias) is linked instead, and its D0 moves back to the report's
// receipt when the report came first, audited with the reason. The case lists the report; a report naming no
// device, or a case that does not exist, is refused naming the link.
func TestTriageIntoCases(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.svc.Cases = &cases.Service{Store: f.db, Clock: f.clock}
		r, _, err := f.svc.Submit(context.Background(), goodInput(f.dev.ID)) // received Friday 2025-06-06 (Chicago)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Acknowledge(psirt(), r.ID, "Thank you."); err != nil {
			t.Fatal(err)
		}
		// Monday, a feed's advisory matches the same flaw: a case learned 2025-06-09.
		f.clock.T = time.Date(2025, 6, 9, 15, 0, 0, 0, time.UTC)
		comp := vigil.Component{Name: "pump-rest", Version: "1.0", Purl: "pkg:generic/pump-rest@1.0"}
		if _, _, err := f.db.SyncFindings(staff, f.ver.ID, []vigil.Finding{{Component: comp, Vulnerability: "CVE-2025-7777", Aliases: []string{"GHSA-pump-rest-0001"}}}); err != nil {
			t.Fatal(err)
		}
		matched, err := f.svc.Cases.Cases(staff, vigil.CaseFilter{Vuln: "CVE-2025-7777"})
		if err != nil || len(matched) != 1 || matched[0].Learned.String() != "2025-06-09" {
			t.Fatalf("the matched case: %+v %v", matched, err)
		}
		for _, tt := range []struct {
			name  string
			links []vigil.ReportLink
			want  string
		}{
			{"a case that does not exist", []vigil.ReportLink{{Kind: vigil.LinkCase, ID: 999}}, "links[0]: case 999"},
			{"another device that does not exist", []vigil.ReportLink{{Kind: vigil.LinkCase, DeviceID: 999}}, "links[0]"},
		} {
			if err := f.svc.Triage(psirt(), r.ID, tt.links, "x"); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want EINVALID naming %s", tt.name, err, tt.want)
			}
		}
		if err := f.svc.Triage(psirt(), r.ID, []vigil.ReportLink{{Kind: vigil.LinkCase, Vulnerability: "ghsa-pump-rest-0001"}, {Kind: vigil.LinkCase}}, "Confirmed; two issues."); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Report(staff, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != vigil.ReportTriaged || len(got.Links) != 2 {
			t.Fatalf("the triaged report: %s %+v", got.Status, got.Links)
		}
		byVuln := map[string]*vigil.Case{}
		for _, l := range got.Links {
			v, err := f.svc.Cases.CaseView(staff, l.ID, vigil.Date{})
			if err != nil || l.Kind != vigil.LinkCase {
				t.Fatalf("link %+v: %v", l, err)
			}
			byVuln[v.Case.Vulnerability] = v.Case
			linked, err := f.svc.Reports(staff, vigil.ReportFilter{CaseID: l.ID})
			if err != nil || len(linked) != 1 || linked[0].ID != r.ID {
				t.Errorf("reports of case %d: %v %v", l.ID, linked, err)
			}
		}
		if c := byVuln["CVE-2025-7777"]; c == nil || c.ID != matched[0].ID || c.Learned.String() != "2025-06-06" {
			t.Errorf("the matched case after triage: %+v, want D0 moved back to the report's 2025-06-06", c)
		}
		if c := byVuln[r.Number]; c == nil || !c.Provisional || c.Learned.String() != "2025-06-06" || c.LearnedHow != vigil.LearnedReport {
			t.Errorf("the case the report opened: %+v", c)
		}
		evs, err := f.db.Events(staff, vigil.AuditFilter{Action: "case.learned"})
		if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Reason, r.Number) {
			t.Errorf("the D0 correction in the trail: %+v %v", evs, err)
		}
		// A report naming no marketed device cannot open a case without one.
		in := goodInput(0)
		in.Product, in.Attachments = "Some other pump", nil
		r2, _, err := f.svc.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Acknowledge(psirt(), r2.ID, "Thank you."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Triage(psirt(), r2.ID, []vigil.ReportLink{{Kind: vigil.LinkCase}}, "x"); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "links[0].device_id") {
			t.Errorf("a case for a report naming no device: %v", err)
		}
		if err := f.svc.Triage(psirt(), r2.ID, []vigil.ReportLink{{Kind: vigil.LinkCase, DeviceID: f.dev.ID, Vulnerability: "CVE-2025-7777"}}, "Same as VR-1."); err != nil {
			t.Errorf("the same report on a named device: %v", err)
		}
	})
}
