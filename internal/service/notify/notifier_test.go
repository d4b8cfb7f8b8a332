package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/service/intake"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// hook is a webhook receiver that checks each body's signature and can refuse the next requests.
type hook struct {
	mu     sync.Mutex
	secret string
	fail   int // answer 503 to this many requests first
	got    []map[string]any
	events []string
	bad    []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	sig := r.Header.Get(notify.HeaderSignature)
	var ts int64
	fmt.Sscanf(sig, "t=%d,", &ts)
	if sig != notify.Sign(h.secret, ts, body) || ts == 0 || r.Header.Get(notify.HeaderDelivery) == "" {
		h.bad = append(h.bad, sig)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if h.fail > 0 {
		h.fail--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var v map[string]any
	json.Unmarshal(body, &v)
	h.got = append(h.got, v)
	h.events = append(h.events, r.Header.Get(notify.HeaderEvent))
	w.WriteHeader(http.StatusNoContent)
}

// TestNotifier runs the notifications as the scheduler does, on both engines with a real SMTP server and a webhook
// receiver: a KEV-listed vulnerability on a fielded version, a researcher's report awaiting acknowledgement, then
// (days later) the overdue clocks, each told once per rule by e-mail, signed webhook and the day's digest, however
// often the job runs and from whichever instance.
func TestNotifier(t *testing.T) {
	mp := testfix.StartMailpit(t)
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) {
			mp.Reset(t)
			// Monday 2026-01-05 15:00 UTC, 09:00 in Chicago: past the digest hour.
			clock := storetest.NewClock(time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))
			dsn := storetest.MigratedDSN(t, e)
			db, err := store.Open(context.Background(), dsn, clock, store.WithSecretKey(storetest.SecretKey))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			admin := storetest.Admin()
			must := storetest.Must(t)
			must(db.CreateOrg(admin, &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago", CVDAckDays: 5, CVDContact: "mailto:psirt@acme.example"}))
			d := &vigil.Device{Name: "Infusion Pump IP-3", Class: "II", Pathway: vigil.Pathway510k}
			must(db.CreateDevice(admin, d))
			fielded := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2.1", Status: vigil.VersionMarketed, UnitsFielded: 5100}
			must(db.CreateVersion(admin, fielded))
			dev := &vigil.DeviceVersion{DeviceID: d.ID, Version: "4.0.0-beta", Status: vigil.VersionInDevelopment}
			must(db.CreateVersion(admin, dev))
			_, err = db.SQL().Exec(`INSERT INTO intel_kev (cve, catalog_version, date_added, digest, data, removed, updated_run) VALUES ('CVE-2021-44228', '2026.01.02', '2021-12-10', 'x', '{}', $1, 0)`, false)
			must(err)
			hit := &vigil.Finding{VersionID: fielded.ID, Vulnerability: "CVE-2021-44228"}
			must(db.CreateFinding(admin, hit, "found in the SBOM review"))
			must(db.CreateFinding(admin, &vigil.Finding{VersionID: dev.ID, Vulnerability: "CVE-2021-44228"}, "in development: no KEV notice"))
			must(db.CreateFinding(admin, &vigil.Finding{VersionID: fielded.ID, Vulnerability: "CVE-2024-0001"}, "not KEV-listed"))
			ik := &intake.Service{Store: db, Clock: clock}
			rep, _, err := ik.Submit(context.Background(), &vigil.ReportInput{DeviceID: d.ID, Title: "Dose limit bypass", Description: "The pump accepts a rate above the limit.",
				ReporterEmail: "researcher@example.org"})
			must(err)

			cs := &cases.Service{Store: db, Clock: clock}
			newNotifier := func(db *store.DB, owner string) *notify.Notifier {
				ob := outbox(db, clock, mp, owner)
				return &notify.Notifier{Store: db, Outbox: ob, Clock: clock, AckClocks: ik.Clocks, Policy: ik.Policy,
					Deadlines: []func(context.Context, cases.DeadlineFilter) ([]cases.Deadline, error){cs.Deadlines, ik.Deadlines}}
			}
			n := newNotifier(db, "a")

			// Rules: who may add what, and bad input.
			h := &hook{}
			srv := httptest.NewServer(h)
			defer srv.Close()
			for _, bad := range []struct {
				ctx  context.Context
				r    vigil.NotifyRule
				code string
			}{
				{psirt, vigil.NotifyRule{Channel: "sms", Target: "x@y.example", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, vigil.EINVALID},
				{psirt, vigil.NotifyRule{Channel: vigil.ChannelEmail, Target: "not an address", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, vigil.EINVALID},
				{psirt, vigil.NotifyRule{Channel: vigil.ChannelEmail, Target: "x@y.example"}, vigil.EINVALID},
				{psirt, vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: "http://hooks.example.org/x", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, vigil.EINVALID},
				{viewer, vigil.NotifyRule{Channel: vigil.ChannelEmail, Target: "team@acme.example", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, vigil.EFORBIDDEN},
				{viewer, vigil.NotifyRule{Owner: "vic", Channel: vigil.ChannelWebhook, Target: srv.URL, Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, vigil.EFORBIDDEN},
				{viewer, vigil.NotifyRule{Owner: "pat", Channel: vigil.ChannelEmail, Target: "pat@acme.example", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, vigil.EFORBIDDEN},
			} {
				if _, err := n.AddRule(bad.ctx, &bad.r); vigil.ErrorCode(err) != bad.code {
					t.Errorf("AddRule(%+v) = %v, want %s", bad.r, err, bad.code)
				}
			}
			team := &vigil.NotifyRule{Channel: vigil.ChannelEmail, Target: "psirt@acme.example",
				Events: []vigil.NotifyEvent{vigil.EventKEVHit, vigil.EventClockOverdue, vigil.EventReportAck}}
			if _, err := n.AddRule(psirt, team); err != nil {
				t.Fatal(err)
			}
			wh := &vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: srv.URL + "/vigil", Events: []vigil.NotifyEvent{vigil.EventKEVHit, vigil.EventReportAck}}
			if h.secret, err = n.AddRule(psirt, wh); err != nil || !strings.HasPrefix(h.secret, "whsec_") {
				t.Fatalf("webhook rule: %q %v", h.secret, err)
			}
			// The database holds the secret sealed only: the receiver verifies the deliveries below with it all the same.
			var stored string
			must(db.SQL().QueryRow("SELECT secret FROM notify_rules WHERE id = $1", wh.ID).Scan(&stored))
			if strings.Contains(stored, strings.TrimPrefix(h.secret, "whsec_")) || !strings.HasPrefix(stored, "v1:") {
				t.Fatalf("the webhook's secret is stored as %q", stored)
			}
			mine := &vigil.NotifyRule{Owner: "vic", Channel: vigil.ChannelDigest, Target: "vic@acme.example",
				Events: []vigil.NotifyEvent{vigil.EventKEVHit, vigil.EventClockDue, vigil.EventReportAck}, Within: 10}
			if _, err := n.AddRule(viewer, mine); err != nil {
				t.Fatalf("a viewer's own digest: %v", err)
			}
			rules, err := n.Rules(viewer)
			if err != nil || len(rules) != 3 || !rules[1].HasSecret {
				t.Fatalf("rules: %+v %v", rules, err)
			}
			if b, _ := json.Marshal(rules); strings.Contains(string(b), h.secret) {
				t.Fatalf("the secret is listed: %s", b)
			}
			h.fail = 1 // the receiver's first answer is a 503: retried

			run := func(n *notify.Notifier) {
				t.Helper()
				if _, err := n.Run(system); err != nil {
					t.Fatal(err)
				}
				if _, err := n.Outbox.DeliverDue(system); err != nil {
					t.Fatal(err)
				}
			}
			run(n)
			run(n)
			run(newNotifier(db, "b"))
			byTo := func() map[string][]testfix.MailpitMessage {
				out := map[string][]testfix.MailpitMessage{}
				for _, m := range mp.Messages(t) {
					out[m.To[0].Address] = append(out[m.To[0].Address], m)
				}
				return out
			}
			got := byTo()
			var subjects []string
			for _, m := range got["psirt@acme.example"] {
				subjects = append(subjects, m.Subject)
			}
			want := []string{"[Vigil] Known exploited: CVE-2021-44228 on Infusion Pump IP-3 3.2.1", "[Vigil] Report " + rep.Number + " awaits acknowledgement (due 2026-01-12)"}
			if strings.Join(subjects, "|") != strings.Join(want, "|") {
				t.Errorf("team e-mails:\n%s\nwant\n%s", strings.Join(subjects, "\n"), strings.Join(want, "\n"))
			}
			if len(got["psirt@acme.example"]) > 0 && !strings.Contains(got["psirt@acme.example"][0].Text, fmt.Sprintf("/cases/%d", hit.CaseID)) {
				t.Errorf("the KEV e-mail does not link to its case: %s", got["psirt@acme.example"][0].Text)
			}
			digest := got["vic@acme.example"]
			if len(digest) != 1 || digest[0].Subject != "[Vigil] Digest 2026-01-05: 3 item(s)" || !strings.Contains(digest[0].Text, "Known exploited: CVE-2021-44228") ||
				!strings.Contains(digest[0].Text, "Dose limit bypass, Infusion Pump IP-3: cvd ack due in 7 day(s)") {
				t.Fatalf("digest: %+v", digest)
			}
			// The webhook: refused once (503, logged and retried after the backoff), then delivered, signed.
			if len(h.got) != 1 || len(h.bad) != 0 {
				t.Fatalf("webhook before the retry: %d delivered, bad signatures %v", len(h.got), h.bad)
			}
			ms, err := n.Outbox.Mails(viewer, vigil.MailFilter{States: []vigil.MailState{vigil.MailRetrying}})
			if err != nil || len(ms) != 1 || ms[0].Channel != "webhook" || !strings.Contains(ms[0].Answer, "503") {
				t.Fatalf("retrying webhook: %+v %v", ms, err)
			}
			clock.T = clock.T.Add(notify.FirstBackoff)
			run(n)
			if len(h.got) != 2 || h.events[0] == h.events[1] || h.got[0]["link"] == "" {
				t.Fatalf("webhook bodies: %v (events %v)", h.got, h.events)
			}

			// Days later the clocks are overdue: the acknowledgement (5 working days) and the case's assessment.
			clock.T = time.Date(2026, 2, 10, 15, 0, 0, 0, time.UTC)
			run(n)
			run(n)
			got = byTo()
			overdue := 0
			for _, m := range got["psirt@acme.example"] {
				if strings.Contains(m.Subject, "overdue") {
					overdue++
					if !strings.Contains(m.Text, "/cases/") && !strings.Contains(m.Text, "/intake/") {
						t.Errorf("overdue e-mail without a link: %s", m.Text)
					}
				}
			}
			if overdue != 3 {
				t.Errorf("%d overdue e-mails, want 3 (the two cases' assessments, the acknowledgement)", overdue)
			}
			if len(got["vic@acme.example"]) != 2 {
				t.Errorf("%d digests after two days, want 2", len(got["vic@acme.example"]))
			}

			// A removed rule's pending webhook fails, naming the removal; nothing more is queued for it.
			h.fail = 5
			must(ik.Acknowledge(psirt, rep.ID, "Thank you; we are reproducing it."))
			if _, err := db.SQL().Exec("DELETE FROM intel_kev"); err != nil {
				t.Fatal(err)
			}
			test, err := n.Test(psirt, wh.ID)
			must(err)
			n.Outbox.DeliverDue(system)
			if err := n.RemoveRule(psirt, wh.ID, ""); vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("remove without a reason: %v", err)
			}
			must(n.RemoveRule(psirt, wh.ID, "endpoint retired"))
			clock.T = clock.T.Add(notify.MaxBackoff)
			n.Outbox.DeliverDue(system)
			m, log := mail(t, n.Outbox, test.ID)
			if m.State != vigil.MailFailed || !strings.Contains(m.Answer, "removed") || len(log) != 2 {
				t.Errorf("webhook of a removed rule: %+v %+v", m, log)
			}
		})
	}
}

func mail(t *testing.T, o *notify.Outbox, id int64) (*vigil.Mail, []vigil.MailAttempt) {
	t.Helper()
	m, attempts, err := o.Mail(system, id)
	if err != nil {
		t.Fatal(err)
	}
	return m, attempts
}

// TestNewCaseAndFeedFailing: a case opened after a rule was made is told once (by e-mail and signed webhook),
// one opened before it is not (a rule does not replay the backlog); an enabled feed whose syncs fail is told once
// per run of failures, again when it fails anew after a success, never while disabled. Both engines.
func TestNewCaseAndFeedFailing(t *testing.T) {
	mp := testfix.StartMailpit(t)
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) {
			mp.Reset(t)
			clock := storetest.NewClock(time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))
			db, err := store.Open(context.Background(), storetest.MigratedDSN(t, e), clock, store.WithSecretKey(storetest.SecretKey))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.CreateOrg(storetest.Admin(), &vigil.Organization{Name: "Acme Medical", TimeZone: "UTC"}); err != nil {
				t.Fatal(err)
			}
			old := &vigil.Case{ID: 1, Vulnerability: "CVE-2025-0001", Device: "Pump", CreatedAt: clock.T.Add(-time.Hour)}
			var cs []*vigil.Case
			feeds := []*vigil.Feed{
				{Name: "nvd", Source: vigil.SourceNVD, Enabled: true, Failures: 2, LastError: "503 Service Unavailable", LastSuccess: clock.T.Add(-48 * time.Hour)},
				{Name: "kev", Source: vigil.SourceKEV, Enabled: false, Failures: 9, LastError: "gone"},
				{Name: "osv", Source: vigil.SourceOSV, Enabled: true},
			}
			n := &notify.Notifier{Store: db, Outbox: outbox(db, clock, mp, "a"), Clock: clock,
				Cases: func(context.Context, vigil.CaseFilter) ([]*vigil.Case, error) { return cs, nil },
				Feeds: func(context.Context) ([]*vigil.Feed, error) { return feeds, nil }}
			h := &hook{}
			srv := httptest.NewServer(h)
			defer srv.Close()
			if _, err := n.AddRule(psirt, &vigil.NotifyRule{Channel: vigil.ChannelEmail, Target: "psirt@acme.example", Events: []vigil.NotifyEvent{vigil.EventNewCase, vigil.EventFeedFailing}}); err != nil {
				t.Fatal(err)
			}
			if h.secret, err = n.AddRule(psirt, &vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: srv.URL + "/vigil", Events: []vigil.NotifyEvent{vigil.EventNewCase}}); err != nil {
				t.Fatal(err)
			}
			cs = []*vigil.Case{old, {ID: 2, Vulnerability: "CVE-2025-0002", Device: "Pump", CreatedAt: clock.Now()}}
			run := func() {
				t.Helper()
				for range 2 { // a repeated run tells nothing twice
					if _, err := n.Run(system); err != nil {
						t.Fatal(err)
					}
					if _, err := n.Outbox.DeliverDue(system); err != nil {
						t.Fatal(err)
					}
				}
			}
			subjects := func() []string {
				var out []string
				for _, m := range mp.Messages(t) {
					out = append(out, m.Subject)
				}
				slices.Sort(out)
				return out
			}
			run()
			want := []string{"[Vigil] Feed nvd is failing (2 attempt(s))", "[Vigil] New case: CVE-2025-0002 on Pump"}
			if got := subjects(); !slices.Equal(got, want) {
				t.Fatalf("e-mails:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(h.got) != 1 || h.got[0]["link"] == "" || !strings.Contains(fmt.Sprint(h.got[0]), "CVE-2025-0002") || len(h.bad) != 0 {
				t.Fatalf("webhook: %v (bad signatures %v)", h.got, h.bad)
			}
			feeds[0].Failures = 3 // the same run of failures
			run()
			if got := subjects(); len(got) != 2 {
				t.Fatalf("a longer run of failures was told again: %v", got)
			}
			feeds[0].LastSuccess, feeds[0].Failures = clock.Now(), 1 // recovered, then failed anew
			run()
			if got := subjects(); len(got) != 3 || !slices.Contains(got, "[Vigil] Feed nvd is failing (1 attempt(s))") {
				t.Fatalf("a new run of failures: %v", got)
			}
		})
	}
}
