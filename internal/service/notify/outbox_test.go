package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/mailer"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func dial(url string) (notify.Sender, error) {
	cfg, err := mailer.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return mailer.New(cfg), nil
}

var (
	system = vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "outbox"})
	psirt  = storetest.As("pat", vigil.RolePSIRT)
	viewer = storetest.As("vic", vigil.RoleViewer)
)

// outbox is an instance's outbox on db, sending through the Mailpit.
func outbox(db *store.DB, clock vigil.Clock, mp *testfix.Mailpit, owner string) *notify.Outbox {
	return &notify.Outbox{Store: db, Dial: dial, URL: mp.URL("psirt@acme.example"), Clock: clock, Owner: owner}
}

// notice is a message about what to one recipient, keyed by both.
func notice(about, to string) vigil.MailInput {
	return vigil.MailInput{To: to, Subject: "Cybersecurity notice CN-2026-14", Text: "Update to 3.2.2.", HTML: "<p>Update to <b>3.2.2</b>.</p>",
		Key: about + ":to:" + to, About: about}
}

// fixture is one engine's store, shared by the outbox's cases in turn (a PostgreSQL store takes seconds to
// migrate on a shared machine), and one Mailpit, emptied before each case. Each case queues its own keys and
// leaves no message pending.
type fixture struct {
	db    *store.DB
	dsn   string
	clock *storetest.Clock
	mp    *testfix.Mailpit
}

// TestOutbox runs the outbox's cases on both engines against a real SMTP server.
func TestOutbox(t *testing.T) {
	mp := testfix.StartMailpit(t)
	cases := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"settings", testSettings}, // first: the store has no SMTP setting yet
		{"delivers once", testDeliversOnce},
		{"refusals", testRefusals},
		{"two instances", testTwoInstances},
		{"interrupted", testInterrupted},
	}
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) {
			clock := storetest.NewClock(time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))
			dsn := storetest.MigratedDSN(t, e)
			db, err := store.Open(context.Background(), dsn, clock, store.WithSecretKey(secretKey))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					mp.Reset(t)
					c.fn(t, &fixture{db: db, dsn: dsn, clock: clock, mp: mp})
				})
			}
		})
	}
}

// secretKey seals the stored SMTP password (the secret key file's SHA-256 in production).
var secretKey = bytes.Repeat([]byte{7}, 32)

func log(t *testing.T, o *notify.Outbox, id int64) (*vigil.Mail, []vigil.MailAttempt) {
	t.Helper()
	m, attempts, err := o.Mail(system, id)
	if err != nil {
		t.Fatal(err)
	}
	return m, attempts
}

// TestOutboxDeliversOnce queues a notice to two recipients, queues it again (a retried call), and delivers: each
// recipient gets it once, with both bodies and the Message-ID the outbox gave it, and the delivery log says
// accepted. A second round sends nothing.
func testDeliversOnce(t *testing.T, f *fixture) {
	db, clock, mp := f.db, f.clock, f.mp
	{
		o := outbox(db, clock, mp, "a")
		msgs := []vigil.MailInput{notice("notice:14", "biomed@hospital.example"), notice("notice:14", "it@clinic.example")}
		first, err := o.Enqueue(psirt, msgs)
		if err != nil {
			t.Fatal(err)
		}
		again, err := o.Enqueue(psirt, msgs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range first {
			if again[i].ID != first[i].ID || first[i].State != vigil.MailQueued || !strings.HasSuffix(first[i].MessageID, "@acme.example") {
				t.Fatalf("enqueue again: %+v, first %+v", again[i], first[i])
			}
		}
		if n, err := o.DeliverDue(system); err != nil || n != 2 {
			t.Fatalf("DeliverDue = %d, %v; want 2", n, err)
		}
		if n, err := o.DeliverDue(system); err != nil || n != 0 {
			t.Fatalf("second DeliverDue = %d, %v; want 0", n, err)
		}
		got := mp.Messages(t)
		var to []string
		for _, m := range got {
			to = append(to, m.To[0].Address)
			if m.Subject != "Cybersecurity notice CN-2026-14" || strings.TrimSpace(m.Text) != "Update to 3.2.2." ||
				!strings.Contains(m.HTML, "<b>3.2.2</b>") || m.Headers["X-Vigil-About"][0] != "notice:14" {
				t.Errorf("arrived: %+v", m)
			}
		}
		sort.Strings(to)
		if fmt.Sprint(to) != "[biomed@hospital.example it@clinic.example]" {
			t.Fatalf("arrived to %v, want each recipient once", to)
		}
		for i, q := range first {
			m, attempts := log(t, o, q.ID)
			if m.State != vigil.MailAccepted || m.Sent.IsZero() || m.Attempts != 1 || len(attempts) != 1 || attempts[0].Outcome != vigil.MailAccepted || attempts[0].By != "a" {
				t.Errorf("message %d: %+v, log %+v", i, m, attempts)
			}
			if got[0].MessageID != m.MessageID && got[1].MessageID != m.MessageID {
				t.Errorf("message %d: Message-ID %s did not arrive", i, m.MessageID)
			}
		}
		if ms, err := o.Mails(viewer, vigil.MailFilter{About: "notice:14", States: []vigil.MailState{vigil.MailAccepted}}); err != nil || len(ms) != 2 {
			t.Errorf("Mails(about notice:14, accepted) = %d, %v", len(ms), err)
		}
	}
}

// TestOutboxRefusals: a temporary refusal is logged with the server's answer and retried after the backoff (not
// before); a permanent one fails at once, with the answer, and is never retried; a message out of attempts fails.
func testRefusals(t *testing.T, f *fixture) {
	db, clock, mp := f.db, f.clock, f.mp
	{
		o := outbox(db, clock, mp, "a")
		q, err := o.Enqueue(psirt, []vigil.MailInput{notice("notice:16", "biomed@hospital.example")})
		if err != nil {
			t.Fatal(err)
		}
		mp.Refuse(t, 451)
		if n, err := o.DeliverDue(system); err != nil || n != 1 {
			t.Fatalf("DeliverDue = %d, %v", n, err)
		}
		m, attempts := log(t, o, q[0].ID)
		if m.State != vigil.MailRetrying || !strings.Contains(m.Answer, "451") || len(attempts) != 1 || !strings.Contains(attempts[0].Answer, "451") {
			t.Fatalf("after a 451: %+v, log %+v", m, attempts)
		}
		if wait := m.Next.Sub(attempts[0].At); wait < notify.FirstBackoff-time.Second || wait > notify.FirstBackoff+time.Second {
			t.Errorf("retry due %s after the attempt, want %s", wait, notify.FirstBackoff)
		}
		mp.Refuse(t, 0)
		if n, _ := o.DeliverDue(system); n != 0 {
			t.Fatalf("retried %d before its backoff", n)
		}
		clock.T = clock.T.Add(notify.FirstBackoff)
		if n, err := o.DeliverDue(system); err != nil || n != 1 {
			t.Fatalf("DeliverDue after the backoff = %d, %v", n, err)
		}
		m, attempts = log(t, o, q[0].ID)
		if m.State != vigil.MailAccepted || m.Attempts != 2 || len(attempts) != 2 || attempts[1].Outcome != vigil.MailAccepted {
			t.Fatalf("after the retry: %+v, log %+v", m, attempts)
		}
		if got := len(mp.Messages(t)); got != 1 {
			t.Fatalf("%d arrived, want 1", got)
		}

		mp.Refuse(t, 550)
		q, err = o.Enqueue(psirt, []vigil.MailInput{notice("notice:16", "gone@hospital.example")})
		if err != nil {
			t.Fatal(err)
		}
		o.DeliverDue(system)
		clock.T = clock.T.Add(notify.MaxBackoff)
		if n, _ := o.DeliverDue(system); n != 0 {
			t.Errorf("a permanent refusal was retried")
		}
		if m, attempts := log(t, o, q[0].ID); m.State != vigil.MailFailed || !strings.Contains(m.Answer, "550") || len(attempts) != 1 {
			t.Fatalf("after a 550: %+v, log %+v", m, attempts)
		}

		mp.Refuse(t, 421)
		q, err = o.Enqueue(psirt, []vigil.MailInput{notice("notice:16", "busy@hospital.example")})
		if err != nil {
			t.Fatal(err)
		}
		for range notify.MaxAttempts {
			if n, err := o.DeliverDue(system); err != nil || n != 1 {
				t.Fatalf("DeliverDue = %d, %v", n, err)
			}
			clock.T = clock.T.Add(notify.MaxBackoff)
		}
		m, attempts = log(t, o, q[0].ID)
		if m.State != vigil.MailFailed || !strings.Contains(m.Answer, fmt.Sprintf("gave up after %d attempts", notify.MaxAttempts)) || len(attempts) != notify.MaxAttempts {
			t.Fatalf("out of attempts: %+v, %d attempts logged", m, len(attempts))
		}
	}
}

// TestOutboxTwoInstances runs two instances' delivery rounds at once on one database (two store handles, as two
// servers have): every message arrives once, and each was attempted once.
func testTwoInstances(t *testing.T, f *fixture) {
	second, err := store.Open(context.Background(), f.dsn, f.clock, store.WithSecretKey(secretKey))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	dbs := []*store.DB{f.db, second}
	var msgs []vigil.MailInput
	for i := range 24 {
		msgs = append(msgs, notice("notice:15", fmt.Sprintf("r%02d@hospital.example", i)))
	}
	if _, err := outbox(dbs[0], f.clock, f.mp, "a").Enqueue(psirt, msgs); err != nil {
		t.Fatal(err)
	}
	// Both handles connected before the race starts, so that neither instance has the queue to itself.
	for _, db := range dbs {
		if _, err := db.Mails(system, vigil.MailFilter{Limit: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, owner := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := outbox(dbs[i], f.clock, f.mp, owner).DeliverDue(system)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != len(msgs) {
		t.Errorf("attempted %v, want %d in all", counts, len(msgs))
	}
	seen := map[string]int{}
	for _, m := range f.mp.Messages(t) {
		seen[m.To[0].Address]++
	}
	if len(seen) != len(msgs) {
		t.Errorf("%d recipients got mail, want %d", len(seen), len(msgs))
	}
	for to, n := range seen {
		if n != 1 {
			t.Errorf("%s got %d copies", to, n)
		}
	}
	ms, err := second.Mails(system, vigil.MailFilter{About: "notice:15"})
	if err != nil || len(ms) != len(msgs) {
		t.Fatalf("Mails = %d, %v", len(ms), err)
	}
	for _, m := range ms {
		if m.State != vigil.MailAccepted || m.Attempts != 1 {
			t.Errorf("message %d: %s after %d attempts", m.ID, m.State, m.Attempts)
		}
	}
	t.Logf("instance a sent %d, b sent %d", counts[0], counts[1])
}

// TestOutboxInterrupted: an instance that claimed a message and died leaves it to its claim's expiry; the message
// is then failed as interrupted (the server may have it), never sent again on its own; a person resends it.
func testInterrupted(t *testing.T, f *fixture) {
	db, clock, mp := f.db, f.clock, f.mp
	{
		o := outbox(db, clock, mp, "b")
		q, err := o.Enqueue(psirt, []vigil.MailInput{notice("notice:17", "biomed@hospital.example")})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := db.ClaimMail(system, "dead", notify.ClaimTTL, "email"); err != nil || m == nil || m.ID != q[0].ID {
			t.Fatalf("claim by the instance that dies: %v, %v", m, err)
		}
		if n, _ := o.DeliverDue(system); n != 0 {
			t.Fatalf("a claimed message was sent by another instance")
		}
		clock.T = clock.T.Add(notify.ClaimTTL)
		if n, _ := o.DeliverDue(system); n != 0 {
			t.Fatalf("an interrupted message was sent again")
		}
		m, attempts := log(t, o, q[0].ID)
		if m.State != vigil.MailFailed || m.Answer != store.InterruptedAnswer || len(attempts) != 1 || !strings.HasPrefix(attempts[0].By, "dead") {
			t.Fatalf("interrupted: %+v, log %+v", m, attempts)
		}
		if err := o.Resend(viewer, m.ID, "checked"); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("a viewer resent: %v", err)
		}
		if err := o.Resend(psirt, m.ID, ""); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("resend without a reason: %v", err)
		}
		if err := o.Resend(psirt, m.ID, "the hospital's mail log shows it never arrived"); err != nil {
			t.Fatal(err)
		}
		if err := o.Resend(psirt, m.ID, "twice"); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("resend of a queued message: %v", err)
		}
		if n, err := o.DeliverDue(system); err != nil || n != 1 {
			t.Fatalf("DeliverDue after resend = %d, %v", n, err)
		}
		if got := len(mp.Messages(t)); got != 1 {
			t.Fatalf("%d arrived, want 1", got)
		}
	}
}

// TestOutboxSettings: without an SMTP server messages wait, queued; the organization's setting is audited and
// shown with its password hidden; $VIGIL_SMTP_URL wins over it; bad input is refused naming the field.
func testSettings(t *testing.T, f *fixture) {
	db, clock, mp := f.db, f.clock, f.mp
	{
		o := &notify.Outbox{Store: db, Dial: dial, Clock: clock}
		if srv, src, err := o.SMTP(viewer); err != nil || srv != "" || src != "" {
			t.Fatalf("SMTP() unconfigured = %q %q %v", srv, src, err)
		}
		if err := o.CheckSMTP(viewer); vigil.ErrorCode(err) != vigil.EUNAVAILABLE {
			t.Errorf("CheckSMTP unconfigured: %v", err)
		}
		q, err := o.Enqueue(psirt, []vigil.MailInput{notice("notice:13", "biomed@hospital.example")})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := o.DeliverDue(system); err != nil || n != 0 {
			t.Fatalf("DeliverDue without SMTP = %d, %v", n, err)
		}
		if m, _ := log(t, o, q[0].ID); m.State != vigil.MailQueued {
			t.Fatalf("without SMTP: %s", m.State)
		}
		url := mp.URL("psirt@acme.example")
		if err := o.SetSMTP(psirt, url, ""); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("no reason: %v", err)
		}
		if err := o.SetSMTP(viewer, url, "mail relay"); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("viewer: %v", err)
		}
		if err := o.SetSMTP(psirt, "smtp://u:secret-password@host?tls=sometimes", "mail relay"); vigil.ErrorCode(err) != vigil.EINVALID || strings.Contains(err.Error(), "secret-password") {
			t.Errorf("bad URL: %v", err)
		}
		keyless, err := store.Open(context.Background(), f.dsn, clock)
		if err != nil {
			t.Fatal(err)
		}
		err = (&notify.Outbox{Store: keyless, Dial: dial, Clock: clock}).SetSMTP(psirt, url, "the hospital-facing relay")
		keyless.Close()
		if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "--secret-key") {
			t.Errorf("a password without the secret key: %v", err)
		}
		if err := o.SetSMTP(psirt, url, "the hospital-facing relay"); err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := db.SQL().QueryRow("SELECT url FROM smtp_settings").Scan(&stored); err != nil || strings.Contains(stored, "secret-password") || !strings.HasPrefix(stored, "v1:") {
			t.Fatalf("the database holds %q (%v), want it sealed", stored, err)
		}
		srv, src, err := o.SMTP(viewer)
		if err != nil || src != "settings" || strings.Contains(srv, "secret-password") || !strings.Contains(srv, "vigil:xxxxx@"+mp.SMTP) {
			t.Fatalf("SMTP() = %q %q %v", srv, src, err)
		}
		if err := o.CheckSMTP(viewer); err != nil {
			t.Errorf("CheckSMTP: %v", err)
		}
		events, err := db.Events(system, vigil.AuditFilter{Action: "smtp.configure"})
		if err != nil || len(events) != 1 || strings.Contains(string(events[0].New), "secret-password") || !strings.Contains(string(events[0].New), "xxxxx") {
			t.Fatalf("audit of smtp.configure: %v %v", events, err)
		}
		if n, err := o.DeliverDue(system); err != nil || n != 1 {
			t.Fatalf("DeliverDue with settings = %d, %v", n, err)
		}
		env := &notify.Outbox{Store: db, Dial: dial, Clock: clock, URL: "smtp://relay.local:25?tls=none"}
		if srv, src, _ := env.SMTP(viewer); src != "environment" || !strings.HasPrefix(srv, "smtp://relay.local:25") {
			t.Errorf("environment over settings: %q %q", srv, src)
		}
		for _, bad := range []struct {
			in   vigil.MailInput
			code string
			msg  string
		}{
			{vigil.MailInput{To: "Bob <bob@x.example>", Subject: "s", Text: "t", Key: "k"}, vigil.EINVALID, "messages[0].to"},
			{vigil.MailInput{To: "bob@x.example", Subject: "a\r\nBcc: eve@x.example", Text: "t", Key: "k"}, vigil.EINVALID, "messages[0].subject"},
			{vigil.MailInput{To: "bob@x.example", Subject: "s", Text: " ", Key: "k"}, vigil.EINVALID, "messages[0].text"},
			{vigil.MailInput{To: "bob@x.example", Subject: "s", Text: "t"}, vigil.EINVALID, "messages[0].key"},
			{vigil.MailInput{To: "bob@x.example", Subject: "s", Text: "t\x00", Key: "k"}, vigil.EINVALID, "messages[0].text"},
		} {
			if _, err := o.Enqueue(psirt, []vigil.MailInput{bad.in}); vigil.ErrorCode(err) != bad.code || !strings.Contains(err.Error(), bad.msg) {
				t.Errorf("Enqueue(%+v) = %v, want %s naming %s", bad.in, err, bad.code, bad.msg)
			}
		}
		if _, err := o.Enqueue(viewer, []vigil.MailInput{notice("notice:13", "x@y.example")}); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("viewer enqueued: %v", err)
		}
	}
}
