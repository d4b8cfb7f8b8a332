package mailer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/mailer"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		want    mailer.Config
		shown   string
		wantErr string
	}{
		{url: "smtp://alice:s3cret@mail.acme.example:587?tls=starttls",
			want:  mailer.Config{Host: "mail.acme.example", Port: 587, User: "alice", Password: "s3cret", TLS: "starttls", From: "vigil@mail.acme.example"},
			shown: "smtp://alice:xxxxx@mail.acme.example:587?from=vigil%40mail.acme.example&tls=starttls"},
		{url: "smtp://psirt%40acme.example:p%40ss@mail.acme.example?tls=tls",
			want:  mailer.Config{Host: "mail.acme.example", Port: 465, User: "psirt@acme.example", Password: "p@ss", TLS: "tls", From: "psirt@acme.example"},
			shown: "smtp://psirt%40acme.example:xxxxx@mail.acme.example:465?from=psirt%40acme.example&tls=tls"},
		{url: "smtp://relay.local:25?tls=none&from=noreply@acme.example",
			want:  mailer.Config{Host: "relay.local", Port: 25, TLS: "none", From: "noreply@acme.example"},
			shown: "smtp://relay.local:25?from=noreply%40acme.example&tls=none"},
		{url: "smtp://relay.local", want: mailer.Config{Host: "relay.local", Port: 587, TLS: "starttls", From: "vigil@relay.local"},
			shown: "smtp://relay.local:587?from=vigil%40relay.local&tls=starttls"},
		{url: "http://mail.acme.example", wantErr: `scheme "http"`},
		{url: "smtp://:25", wantErr: "host: required"},
		{url: "smtp://a:hunter2@mail.acme.example?tls=maybe", wantErr: `tls="maybe"`},
		{url: "smtp://a:hunter2@mail.acme.example:99999", wantErr: "port"},
		{url: "smtp://a:hunter2@mail.acme.example?from=not-an-address", wantErr: "from:"},
		{url: "smtp://a:hunter2@mail.acme.example?verify=no", wantErr: `unknown parameter "verify"`},
		{url: "smtp://a:hunter2@mail acme\x7f", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := mailer.ParseURL(tt.url)
			if tt.wantErr != "" {
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if got.String() != tt.shown {
				t.Errorf("String() = %s, want %s", got.String(), tt.shown)
			}
		})
	}
}

func mail(to string) *vigil.Mail {
	return &vigil.Mail{ID: 1, MailInput: vigil.MailInput{To: to, Subject: "Cybersecurity notice CN-2026-14: Infusion Pump IP-3",
		Text: "Dear customer,\nupdate to 3.2.2.\n", HTML: "<p>Dear customer,</p><p>update to <b>3.2.2</b>.</p>", Key: "k1", About: "notice:14"},
		MessageID: "0123abcd@acme.example", Queued: time.Date(2026, 1, 5, 15, 4, 5, 0, time.UTC)}
}

// TestSendToMailpit sends through a real SMTP server and reads back what arrived: the recipient, the subject,
// both bodies, and the headers the outbox relies on (the Message-ID kept across attempts, Auto-Submitted).
func TestSendToMailpit(t *testing.T) {
	mp := testfix.StartMailpit(t)
	cfg, err := mailer.ParseURL(mp.URL("psirt@acme.example"))
	if err != nil {
		t.Fatal(err)
	}
	s := mailer.New(cfg)
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	state, answer := s.Send(ctx, mail("biomed@hospital.example"))
	if state != vigil.MailAccepted {
		t.Fatalf("Send = %s %q, want accepted", state, answer)
	}
	got := mp.Messages(t)
	if len(got) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(got))
	}
	m := got[0]
	if m.From.Address != "psirt@acme.example" || len(m.To) != 1 || m.To[0].Address != "biomed@hospital.example" {
		t.Errorf("from %v to %v", m.From, m.To)
	}
	if m.Subject != "Cybersecurity notice CN-2026-14: Infusion Pump IP-3" {
		t.Errorf("subject %q", m.Subject)
	}
	if strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n")) != "Dear customer,\nupdate to 3.2.2." { // SMTP lines end in CRLF
		t.Errorf("text body %q", m.Text)
	}
	if !strings.Contains(m.HTML, "update to <b>3.2.2</b>") {
		t.Errorf("html body %q", m.HTML)
	}
	if m.MessageID != "0123abcd@acme.example" {
		t.Errorf("Message-ID %q", m.MessageID)
	}
	for h, want := range map[string]string{"Auto-Submitted": "auto-generated", "X-Vigil-About": "notice:14", "Date": "Mon, 05 Jan 2026 15:04:05 +0000"} {
		if v := m.Headers[h]; len(v) != 1 || v[0] != want {
			t.Errorf("header %s = %q, want %q", h, v, want)
		}
	}
}

// TestSendRefusals sorts the server's refusals: a 4xx may pass (retrying), a 5xx is final (failed), a server that
// does not answer may come back (retrying); each outcome keeps the server's answer.
func TestSendRefusals(t *testing.T) {
	mp := testfix.StartMailpit(t)
	cfg, err := mailer.ParseURL(mp.URL("psirt@acme.example"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		code   int
		want   vigil.MailState
		answer string
	}{{451, vigil.MailRetrying, "451"}, {550, vigil.MailFailed, "550"}} {
		mp.Refuse(t, tt.code)
		state, answer := mailer.New(cfg).Send(ctx, mail("biomed@hospital.example"))
		if state != tt.want || !strings.Contains(answer, tt.answer) {
			t.Errorf("refused with %d: %s %q, want %s with the server's answer", tt.code, state, answer, tt.want)
		}
	}
	if got := mp.Messages(t); len(got) != 0 {
		t.Errorf("%d messages arrived through refusals", len(got))
	}
	down := cfg
	down.Port = 1 // nothing listens there
	if state, answer := mailer.New(down).Send(ctx, mail("biomed@hospital.example")); state != vigil.MailRetrying || answer == "" {
		t.Errorf("no server: %s %q, want retrying with why", state, answer)
	}
	if err := mailer.New(down).Check(ctx); vigil.ErrorCode(err) != vigil.EUNAVAILABLE || strings.Contains(err.Error(), "secret-password") {
		t.Errorf("Check without a server = %v, want EUNAVAILABLE without the password", err)
	}
}
