// Package notify is how Vigil tells people things: the outbox every e-mail goes through (customer notices, team
// notifications, the acknowledgement to a researcher), sent by whichever server instance claims each message, once.
// A caller enqueues messages with an idempotency key in one call; each instance's delivery loop claims a due
// message in the database, hands it to the SMTP server, and records the server's answer in the delivery log:
// accepted (done), refused for good (failed, with the answer), or a failure that may pass (retrying with backoff,
// up to MaxAttempts). An instance that dies mid-delivery leaves its claim to expire; the message is then marked
// failed as interrupted, not sent again, because the server may have accepted it: a person resends it after
// checking. The SMTP server comes from $VIGIL_SMTP_URL or the organization's settings; its password is never
// logged, stored in the trail or shown back.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/jobs"
)

// OutboxStore is the storage the outbox needs (internal/store implements it).
type OutboxStore interface {
	EnqueueMail(ctx context.Context, msgs []vigil.MailInput, domain string) ([]*vigil.Mail, error)
	Mails(ctx context.Context, f vigil.MailFilter) ([]*vigil.Mail, error)
	Mail(ctx context.Context, id int64) (*vigil.Mail, []vigil.MailAttempt, error)
	ClaimMail(ctx context.Context, owner string, ttl time.Duration, channels ...string) (*vigil.Mail, error)
	RecordMail(ctx context.Context, id int64, owner string, outcome vigil.MailState, answer string, next time.Time) (bool, error)
	FailInterrupted(ctx context.Context, by string) (int, error)
	ResendMail(ctx context.Context, id int64, reason string) error
	SMTPURL(ctx context.Context) (string, error)
	SetSMTPURL(ctx context.Context, url, shown, reason string) error
	NotifyRuleSecret(ctx context.Context, id int64) (string, error)
}

// Sender is one configured SMTP server (internal/mailer implements it).
type Sender interface {
	// Send delivers one message and says how the server took it: accepted, retrying or failed, with its answer.
	Send(ctx context.Context, m *vigil.Mail) (vigil.MailState, string)
	// Check connects and authenticates without sending.
	Check(ctx context.Context) error
	// String names the server with its password hidden.
	String() string
	// From is the sender address.
	From() string
}

// Delivery defaults.
const (
	MaxAttempts  = 8                // then the message fails with the last answer
	FirstBackoff = time.Minute      // the wait before the first retry; it doubles with each further failure
	MaxBackoff   = 6 * time.Hour    // the longest wait between attempts
	ClaimTTL     = 5 * time.Minute  // how long a claim outlasts a delivery's timeout (mailer.DefaultTimeout)
	PollEvery    = 15 * time.Second // how often a delivery loop looks for due messages when not woken
	// WebhookTimeout bounds one webhook POST.
	WebhookTimeout = 15 * time.Second
)

// Outbox is the outbox use case. It implements vigil.OutboxService.
type Outbox struct {
	Store OutboxStore
	// Dial makes a Sender from an SMTP URL (mailer.ParseURL + mailer.New); its errors never quote the password.
	Dial func(url string) (Sender, error)
	// URL is $VIGIL_SMTP_URL: when set it wins over the organization's settings.
	URL   string
	Clock vigil.Clock
	Log   *slog.Logger
	// Owner names this instance in claims and the delivery log (jobs.DefaultOwner when empty).
	Owner string
	// Backoff is the wait before the first retry (FirstBackoff when zero).
	Backoff time.Duration
	// HTTP posts webhooks (a client with WebhookTimeout that follows no redirect when nil).
	HTTP *http.Client

	once sync.Once
	wake chan struct{}
}

var _ vigil.OutboxService = (*Outbox)(nil)

func (o *Outbox) init() {
	o.once.Do(func() {
		o.wake = make(chan struct{}, 1)
		if o.Owner == "" {
			o.Owner = jobs.DefaultOwner()
		}
		if o.Log == nil {
			o.Log = slog.New(slog.DiscardHandler)
		}
		if o.Clock == nil {
			o.Clock = vigil.SystemClock{}
		}
		if o.Backoff <= 0 {
			o.Backoff = FirstBackoff
		}
		if o.HTTP == nil {
			o.HTTP = WebhookClient(&http.Client{})
		}
	})
}

// WebhookClient makes c (a copy) fit for webhook deliveries: bounded by WebhookTimeout, and never following a
// redirect, which would send a signed body where the rule did not say. The application gives it the feeds'
// SSRF-guarded client, so a webhook URL cannot reach the network Vigil runs in (internal/app).
func WebhookClient(c *http.Client) *http.Client {
	cp := *c
	cp.Timeout = WebhookTimeout
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// maySend: queueing mail is part of an action on a case (a customer notice: PermEvent) or on a report (the
// acknowledgement to its reporter: PermIntake).
func maySend(ctx context.Context) error {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err == nil {
		return nil
	}
	_, err := vigil.Authorize(ctx, vigil.PermIntake)
	return err
}

// Enqueue queues the messages (all or none); a key queued before returns its message as it stands. Needs
// PermEvent or PermIntake. This instance's delivery loop is woken at once; any instance may deliver them.
func (o *Outbox) Enqueue(ctx context.Context, msgs []vigil.MailInput) ([]*vigil.Mail, error) {
	o.init()
	if err := maySend(ctx); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return []*vigil.Mail{}, nil
	}
	keys := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		m.To = strings.TrimSpace(m.To)
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("messages[%d].%w", i, err)
		}
		if keys[m.Key] {
			return nil, vigil.Errorf(vigil.EINVALID, "messages[%d].key: %q appears twice in one call", i, m.Key)
		}
		keys[m.Key] = true
	}
	domain := "vigil.localdomain"
	if s, err := o.sender(ctx); err == nil && s != nil {
		domain = s.From()[strings.LastIndexByte(s.From(), '@')+1:]
	}
	out, err := o.Store.EnqueueMail(ctx, msgs, domain)
	if err != nil {
		return nil, err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return out, nil
}

// Mails lists messages, newest first. Needs PermRead.
func (o *Outbox) Mails(ctx context.Context, f vigil.MailFilter) ([]*vigil.Mail, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return o.Store.Mails(ctx, f)
}

// Mail returns one message and its delivery log. Needs PermRead.
func (o *Outbox) Mail(ctx context.Context, id int64) (*vigil.Mail, []vigil.MailAttempt, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, nil, err
	}
	return o.Store.Mail(ctx, id)
}

// Resend queues a failed message again (after its refusal was fixed, or an interrupted delivery was found lost).
// Needs PermEvent or PermIntake and a reason.
func (o *Outbox) Resend(ctx context.Context, id int64, reason string) error {
	o.init()
	if err := maySend(ctx); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required (a resent message may arrive twice)")
	}
	if err := o.Store.ResendMail(ctx, id, reason); err != nil {
		return err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// SMTP describes the SMTP server in use, its password hidden, and where it comes from: "environment"
// ($VIGIL_SMTP_URL), "settings", or "" with server "" when none is configured. Needs PermRead.
func (o *Outbox) SMTP(ctx context.Context) (server, source string, err error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return "", "", err
	}
	s, err := o.sender(ctx)
	if err != nil || s == nil {
		return "", "", err
	}
	source = "settings"
	if o.URL != "" {
		source = "environment"
	}
	return s.String(), source, nil
}

// SetSMTP stores the organization's SMTP server ("" removes it) after checking the URL's form; $VIGIL_SMTP_URL,
// when set, still wins. Needs PermPortfolio and a reason. The audit trail records the URL with its password
// hidden.
func (o *Outbox) SetSMTP(ctx context.Context, url, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	shown := ""
	if url != "" {
		s, err := o.Dial(url)
		if err != nil {
			return err
		}
		shown = s.String()
	}
	return o.Store.SetSMTPURL(ctx, url, shown, reason)
}

// CheckSMTP connects to the SMTP server in use and authenticates, sending nothing. Needs PermRead.
func (o *Outbox) CheckSMTP(ctx context.Context) error {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return err
	}
	s, err := o.sender(ctx)
	if err != nil {
		return err
	}
	if s == nil {
		return errNoSMTP
	}
	return s.Check(ctx)
}

var errNoSMTP = vigil.Errorf(vigil.EUNAVAILABLE, "no SMTP server: set $VIGIL_SMTP_URL (smtp://user:password@host:port?tls=starttls) or vigil notify smtp set URL")

// sender is the SMTP server in use: $VIGIL_SMTP_URL, else the organization's settings; nil when neither is set.
func (o *Outbox) sender(ctx context.Context) (Sender, error) {
	url := o.URL
	if url == "" {
		var err error
		if url, err = o.Store.SMTPURL(ctx); err != nil || url == "" {
			return nil, err
		}
	}
	return o.Dial(url)
}

// DeliverDue delivers every message due now, one claim at a time, until none is due or ctx ends, and returns how
// many it attempted. First it marks failed the messages whose instance died mid-delivery. Without a usable SMTP
// server e-mail waits, queued, until one is configured (webhooks go on). Run as the system (the delivery loop).
func (o *Outbox) DeliverDue(ctx context.Context) (int, error) {
	o.init()
	if n, err := o.Store.FailInterrupted(ctx, o.Owner); err != nil {
		return 0, err
	} else if n > 0 {
		o.Log.Warn("outbox: deliveries interrupted by a stopped instance marked failed; check and resend them", "messages", n)
	}
	channels := []string{string(vigil.ChannelWebhook)}
	s, err := o.sender(ctx)
	if err != nil {
		o.Log.Error("outbox: the SMTP server's configuration is unusable; e-mail waits", "err", err)
	} else if s != nil {
		channels = append(channels, "email")
	}
	n := 0
	for ctx.Err() == nil {
		m, err := o.Store.ClaimMail(ctx, o.Owner, ClaimTTL, channels...)
		if err != nil || m == nil {
			return n, err
		}
		n++
		var state vigil.MailState
		var answer string
		if m.Channel == string(vigil.ChannelWebhook) {
			state, answer = o.post(ctx, m)
		} else {
			state, answer = s.Send(ctx, m)
		}
		next := time.Time{}
		if state == vigil.MailRetrying {
			if m.Attempts >= MaxAttempts {
				state, answer = vigil.MailFailed, fmt.Sprintf("gave up after %d attempts; last answer: %s", m.Attempts, answer)
			} else {
				next = o.Clock.Now().Add(o.backoff(m.Attempts))
			}
		}
		log := o.Log.With("message", m.ID, "about", m.About, "attempt", m.Attempts, "outcome", state, "answer", answer)
		if state == vigil.MailAccepted {
			log.Info("outbox: delivered")
		} else {
			log.Warn("outbox: not delivered", "next", next)
		}
		ok, err := o.Store.RecordMail(context.WithoutCancel(ctx), m.ID, o.Owner, state, answer, next)
		if err != nil {
			return n, err
		}
		if !ok {
			log.Error("outbox: the claim had expired before the answer was recorded; the message was marked interrupted")
		}
	}
	return n, nil
}

// backoff is the wait after the attempt-th failed attempt: Backoff doubled for each earlier failure, at most
// MaxBackoff.
func (o *Outbox) backoff(attempt int) time.Duration {
	d := o.Backoff
	for i := 1; i < attempt && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Run delivers due messages until ctx ends: at once, whenever this instance queues a message, and every
// PollEvery (messages other instances queued, retries coming due). Failures are logged and tried again at the next
// round.
func (o *Outbox) Run(ctx context.Context) {
	o.init()
	ctx = vigil.WithActor(ctx, vigil.Actor{System: true, Name: "outbox"})
	t := time.NewTicker(PollEvery)
	defer t.Stop()
	for {
		if _, err := o.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			o.Log.Error("outbox: delivery round failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-t.C:
		}
	}
}
