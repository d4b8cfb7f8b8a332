package intake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/mailer"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestReporterEmails: the reporter who left an address is e-mailed the acknowledgement and every later message
// through the outbox (a real SMTP server reads them back); an anonymous reporter is e-mailed nothing.
func TestReporterEmails(t *testing.T) {
	mp := testfix.StartMailpit(t)
	each(t, func(t *testing.T, f *fixture) {
		mp.Reset(t)
		ob := &notify.Outbox{Store: f.db, Clock: f.clock, URL: mp.URL("psirt@acme.example"), Dial: func(url string) (notify.Sender, error) {
			cfg, err := mailer.ParseURL(url)
			if err != nil {
				return nil, err
			}
			return mailer.New(cfg), nil
		}}
		f.svc.Outbox = ob
		in := goodInput(f.dev.ID)
		in.Title = "Unauthenticated dose change\r\nBcc: eve@evil.example"
		in.Attachments = nil
		r, _, err := f.svc.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		anon := goodInput(f.dev.ID)
		anon.ReporterEmail, anon.ReporterName, anon.Attachments = "", "", nil
		a, _, err := f.svc.Submit(context.Background(), anon)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Acknowledge(psirt(), r.ID, "Thank you: we are reproducing it."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Acknowledge(psirt(), a.ID, "Thank you (anonymous)."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Message(psirt(), r.ID, "Which firmware build did you test?"); err != nil {
			t.Fatal(err)
		}
		if _, err := ob.DeliverDue(vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "outbox"})); err != nil {
			t.Fatal(err)
		}
		got := mp.Messages(t)
		if len(got) != 2 {
			t.Fatalf("%d e-mails, want 2 (the acknowledgement, the message; none to the anonymous reporter)", len(got))
		}
		want := []struct{ subject, body string }{
			{"[" + r.Number + "] Your report is acknowledged: Unauthenticated dose change Bcc: eve@evil.example", "Thank you: we are reproducing it."},
			{"[" + r.Number + "] A message about your report: Unauthenticated dose change Bcc: eve@evil.example", "Which firmware build did you test?"},
		}
		for i, m := range got {
			if m.To[0].Address != "rae@lab.example" || len(m.To) != 1 || m.Subject != want[i].subject || !strings.Contains(m.Text, want[i].body) ||
				!strings.Contains(m.Text, "follow-up link") {
				t.Errorf("e-mail %d: to %v, %q\n%s", i, m.To, m.Subject, m.Text)
			}
			if _, ok := m.Headers["Bcc"]; ok {
				t.Errorf("the title injected a header: %v", m.Headers)
			}
		}
		ms, err := ob.Mails(viewer(), vigil.MailFilter{About: "report:" + r.Number})
		if err != nil || len(ms) != 2 || ms[0].State != vigil.MailAccepted {
			t.Errorf("the outbox about %s: %+v %v", r.Number, ms, err)
		}
	})
}
