package notify

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/jobs"
)

// RulesStore is the storage the notifier needs besides the outbox's.
type RulesStore interface {
	CreateNotifyRule(ctx context.Context, r *vigil.NotifyRule, secret string) error
	DeleteNotifyRule(ctx context.Context, id int64, reason string) error
	NotifyRules(ctx context.Context) ([]*vigil.NotifyRule, error)
	NotifyRule(ctx context.Context, id int64) (*vigil.NotifyRule, error)
	EnqueueOutbox(ctx context.Context, channel string, rule int64, msgs []vigil.MailInput, domain string) ([]*vigil.Mail, error)
	KEVHits(ctx context.Context) ([]vigil.KEVHitRow, error)
}

// Notifier tells the team what needs them: on every run it computes the events standing now (KEV-listed
// vulnerabilities on versions in the field, clocks at risk or overdue, reports awaiting acknowledgement), and for
// each rule queues each matching event it has not told before: an e-mail or a signed webhook per event, or one
// digest e-mail a day. "Not told before" is the outbox's idempotency key (rule, event key): a run repeated, retried
// or made by another instance finds the message already queued. The scheduler runs it as the periodic job
// "notify", under a lease, so one instance does it.
type Notifier struct {
	Store  RulesStore
	Outbox *Outbox
	// Deadlines are the sources of clocks: the case service's and the intake service's Deadlines.
	Deadlines []func(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error)
	// AckClocks lists the reports awaiting acknowledgement (intake.Service.Clocks).
	AckClocks func(ctx context.Context) ([]vigil.IntakeClock, error)
	// Cases lists the cases (cases.Service.Cases), for new_case; Feeds the intelligence feeds (intel.Service.Feeds),
	// for feed_failing. Either may be nil.
	Cases func(ctx context.Context, f vigil.CaseFilter) ([]*vigil.Case, error)
	Feeds func(ctx context.Context) ([]*vigil.Feed, error)
	// Policy gives the organization's time zone (the digest's day) and base URL (absolute links).
	Policy func(ctx context.Context) (*vigil.CVDPolicy, error)
	Clock  vigil.Clock
}

// NotifyEvery is how often the periodic job "notify" runs.
const NotifyEvery = 5 * time.Minute

// DigestHour is the hour of the organization's day after which the day's digest is sent.
const DigestHour = 7

// Periodic is the notifier as a scheduled job, run as the system actor "notify".
func (n *Notifier) Periodic() jobs.Periodic {
	return jobs.Periodic{Name: "notify", Every: NotifyEvery, Run: func(ctx context.Context) error {
		_, err := n.Run(vigil.WithActor(ctx, vigil.Actor{System: true, Name: "notify"}))
		return err
	}}
}

// mayManage: an organization's rule, and any webhook (it posts to a URL the server reaches), needs PermPortfolio;
// a user's e-mail rule for themself needs PermRead; an admin (PermUsers) manages anyone's.
func mayManage(ctx context.Context, r *vigil.NotifyRule) error {
	a, err := vigil.Authorize(ctx, vigil.PermRead)
	if err != nil {
		return err
	}
	switch {
	case r.Owner == "" || r.Channel == vigil.ChannelWebhook:
		_, err = vigil.Authorize(ctx, vigil.PermPortfolio)
	case r.Owner != a.Name:
		_, err = vigil.Authorize(ctx, vigil.PermUsers)
	}
	return err
}

// AddRule stores a rule; for a webhook it generates the signing secret and returns it, to be shown once. Needs
// PermPortfolio for the organization's rules and any webhook, PermRead for one's own e-mail or digest rule.
func (n *Notifier) AddRule(ctx context.Context, r *vigil.NotifyRule) (secret string, err error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	if err := mayManage(ctx, r); err != nil {
		return "", err
	}
	if r.Channel == vigil.ChannelWebhook {
		b := make([]byte, 32)
		rand.Read(b)
		secret = "whsec_" + base64.RawURLEncoding.EncodeToString(b)
	}
	if err := n.Store.CreateNotifyRule(ctx, r, secret); err != nil {
		return "", err
	}
	return secret, nil
}

// RemoveRule removes a rule, with a reason, under the same permissions as AddRule.
func (n *Notifier) RemoveRule(ctx context.Context, id int64, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	r, err := n.rule(ctx, id)
	if err != nil {
		return err
	}
	if err := mayManage(ctx, r); err != nil {
		return err
	}
	return n.Store.DeleteNotifyRule(ctx, id, reason)
}

func (n *Notifier) rule(ctx context.Context, id int64) (*vigil.NotifyRule, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return n.Store.NotifyRule(ctx, id)
}

// Rules lists every rule (secrets never leave the database). Needs PermRead.
func (n *Notifier) Rules(ctx context.Context) ([]*vigil.NotifyRule, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return n.Store.NotifyRules(ctx)
}

// Test queues a test message through the rule's channel now (delivered by the next delivery round) and returns it.
// Needs what managing the rule needs.
func (n *Notifier) Test(ctx context.Context, id int64) (*vigil.Mail, error) {
	r, err := n.rule(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := mayManage(ctx, r); err != nil {
		return nil, err
	}
	now := n.now()
	nt := vigil.Notification{Key: vigil.NotificationKey("test:" + now.Format(time.RFC3339Nano)), Event: "test", Subject: "Vigil: test notification",
		Text: fmt.Sprintf("This is a test of notification rule %d (%s to %s), sent %s.", r.ID, r.Channel, r.Target, now.UTC().Format(time.RFC3339)), Link: "/"}
	ms, err := n.queue(ctx, r, []vigil.Notification{nt}, n.baseURL(ctx))
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return ms[0], nil
}

// SendTest queues a test message through the rule's channel (Test) and delivers it now, with whatever else is due,
// as the delivery loop would (each message is claimed, so none is sent twice); it returns the message as the
// delivery left it and its delivery log. A refused or unreachable channel is EUNAVAILABLE naming the answer, the
// message and its log still returned. Needs what managing the rule needs.
func (n *Notifier) SendTest(ctx context.Context, id int64) (*vigil.Mail, []vigil.MailAttempt, error) {
	m, err := n.Test(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if _, err := n.Outbox.DeliverDue(vigil.WithActor(ctx, vigil.Actor{System: true, Name: "outbox"})); err != nil {
		return nil, nil, err
	}
	m, log, err := n.Outbox.Mail(ctx, m.ID)
	if err != nil {
		return nil, nil, err
	}
	if m.State != vigil.MailAccepted {
		return m, log, vigil.Errorf(vigil.EUNAVAILABLE, "test message %d to %s: %s: %s", m.ID, m.To, m.State, cmp.Or(m.Answer, "no answer yet (no SMTP server configured?)"))
	}
	return m, log, nil
}

func (n *Notifier) now() time.Time {
	if n.Clock == nil {
		return time.Now()
	}
	return n.Clock.Now()
}

// Events lists the events standing now, each with its key for good. Needs PermRead.
func (n *Notifier) Events(ctx context.Context) ([]vigil.Notification, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var out []vigil.Notification
	hits, err := n.Store.KEVHits(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		link := fmt.Sprintf("/cases/%d", h.CaseID)
		if h.CaseID == 0 {
			link = fmt.Sprintf("/findings/%d", h.FindingID)
		}
		out = append(out, vigil.Notification{Key: vigil.NotificationKey(fmt.Sprintf("kev_hit:finding:%d", h.FindingID)), Event: vigil.EventKEVHit, CaseID: h.CaseID,
			Subject: fmt.Sprintf("Known exploited: %s on %s %s", h.CVE, h.Device, h.Version),
			Text: fmt.Sprintf("%s is in CISA's Known Exploited Vulnerabilities catalog and affects %s version %s in the field (%d units).",
				h.CVE, h.Device, h.Version, h.Units), Link: link})
	}
	for _, src := range n.Deadlines {
		ds, err := src(ctx, cases.DeadlineFilter{Within: 365})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.Due.IsZero() {
				continue
			}
			ev, word := vigil.EventClockDue, fmt.Sprintf("due in %d day(s)", d.DaysLeft)
			if d.Overdue {
				ev, word = vigil.EventClockOverdue, fmt.Sprintf("overdue by %d day(s)", -d.DaysLeft)
			}
			due := d.Due
			whose, link := fmt.Sprintf("case:%d", d.CaseID), fmt.Sprintf("/cases/%d", d.CaseID)
			if d.Report != "" {
				whose, link = "report:"+d.Report, ""
			}
			nt := vigil.Notification{Key: vigil.NotificationKey(fmt.Sprintf("%s:%s:%s:%s", ev, whose, d.Clock, d.Due)), Event: ev, CaseID: d.CaseID, Report: d.Report, Due: &due, DaysLeft: d.DaysLeft,
				Subject: fmt.Sprintf("%s, %s: %s %s", d.Vulnerability, d.Device, strings.ReplaceAll(d.Clock, "_", " "), word),
				Text:    fmt.Sprintf("%s (%s) on %s is %s (due %s). %s", d.Vulnerability, d.Device, d.Clock, word, d.Due, d.What), Link: link}
			out = append(out, nt)
		}
	}
	if n.Cases != nil {
		cs, err := n.Cases(ctx, vigil.CaseFilter{States: vigil.CaseStates})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out = append(out, vigil.Notification{Key: vigil.NotificationKey(fmt.Sprintf("new_case:case:%d", c.ID)), Event: vigil.EventNewCase, CaseID: c.ID, At: c.CreatedAt,
				Subject: fmt.Sprintf("New case: %s on %s", c.Vulnerability, c.Device),
				Text:    fmt.Sprintf("A case was opened for %s on %s (learned %s). Assess it: its clocks run from that day.", c.Vulnerability, c.Device, c.Learned),
				Link:    fmt.Sprintf("/cases/%d", c.ID)})
		}
	}
	if n.Feeds != nil {
		fs, err := n.Feeds(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if !f.Enabled || !f.Failing() {
				continue
			}
			// One run of failures is one event: it starts after the last success, which stays put until it ends.
			out = append(out, vigil.Notification{Key: vigil.NotificationKey(fmt.Sprintf("feed_failing:feed:%s:%d", f.Name, f.LastSuccess.Unix())), Event: vigil.EventFeedFailing,
				Subject: fmt.Sprintf("Feed %s is failing (%d attempt(s))", f.Name, f.Failures),
				Text: fmt.Sprintf("The %s feed %s failed its last %d sync(s); the last said: %s. Intelligence from it is not arriving: matches and KEV hits may be missed.",
					f.Source, f.Name, f.Failures, vigil.Clip(300, f.LastError)),
				Link: "/sources"})
		}
	}
	if n.AckClocks != nil {
		acks, err := n.AckClocks(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range acks {
			due := c.Due
			link := fmt.Sprintf("/intake/%d", c.ReportID)
			out = append(out, vigil.Notification{Key: vigil.NotificationKey("report_awaiting_ack:report:" + c.Number), Event: vigil.EventReportAck, Report: c.Number, Due: &due, DaysLeft: c.DaysLeft,
				Subject: fmt.Sprintf("Report %s awaits acknowledgement (due %s)", c.Number, c.Due),
				Text:    fmt.Sprintf("The researcher's report %s (%s, %s) awaits acknowledgement, due %s.", c.Number, c.Title, c.Product, c.Due), Link: link})
			// The acknowledgement clock's own deadline rows link to the report too.
			for i := range out {
				if out[i].Report == c.Number && out[i].Link == "" {
					out[i].Link = link
				}
			}
		}
	}
	return out, nil
}

// matches says whether rule r tells nt: a clock is at risk once it is within the rule's days.
func matches(r *vigil.NotifyRule, nt vigil.Notification) bool {
	if !slices.Contains(r.Events, nt.Event) {
		return false
	}
	if nt.Event == vigil.EventNewCase && nt.At.Before(r.Created) {
		return false // a rule tells the cases opened from its making on, not the whole backlog
	}
	if nt.Event == vigil.EventClockDue {
		within := r.Within
		if within == 0 {
			within = vigil.DefaultWithin
		}
		return nt.DaysLeft <= within
	}
	return true
}

// RunResult counts what a run found.
type RunResult struct {
	Events   int `json:"events"`   // standing now
	Messages int `json:"messages"` // the rules' messages for them, in the outbox (queued now or told before)
}

// Run computes the events standing now and queues, for each rule, those it has not told yet (and the day's digest,
// after DigestHour in the organization's zone). Needs PermRead and PermEvent (the scheduler runs it as the
// system).
func (n *Notifier) Run(ctx context.Context) (RunResult, error) {
	if err := maySend(ctx); err != nil {
		return RunResult{}, err
	}
	evs, err := n.Events(ctx)
	if err != nil {
		return RunResult{}, err
	}
	rules, err := n.Store.NotifyRules(ctx)
	if err != nil {
		return RunResult{}, err
	}
	res := RunResult{Events: len(evs)}
	base := n.baseURL(ctx)
	for _, r := range rules {
		var mine []vigil.Notification
		for _, nt := range evs {
			if matches(r, nt) {
				mine = append(mine, nt)
			}
		}
		if len(mine) == 0 {
			continue
		}
		var ms []*vigil.Mail
		if r.Channel == vigil.ChannelDigest {
			ms, err = n.digest(ctx, r, mine, base)
		} else {
			ms, err = n.queue(ctx, r, mine, base)
		}
		if err != nil {
			return res, fmt.Errorf("rule %d: %w", r.ID, err)
		}
		res.Messages += len(ms)
	}
	return res, nil
}

func (n *Notifier) baseURL(ctx context.Context) string {
	if n.Policy == nil {
		return ""
	}
	p, err := n.Policy(ctx)
	if err != nil || p == nil {
		return ""
	}
	return p.BaseURL
}

func (n *Notifier) zone(ctx context.Context) *time.Location {
	if n.Policy != nil {
		if p, err := n.Policy(ctx); err == nil && p != nil {
			if loc, err := time.LoadLocation(p.TimeZone); err == nil {
				return loc
			}
		}
	}
	return time.UTC
}

// queue queues one message per notice through the rule's channel, keyed by rule and notice.
func (n *Notifier) queue(ctx context.Context, r *vigil.NotifyRule, nts []vigil.Notification, base string) ([]*vigil.Mail, error) {
	var msgs []vigil.MailInput
	for _, nt := range nts {
		key := fmt.Sprintf("rule:%d:%s", r.ID, nt.Key)
		about := about(nt)
		if r.Channel == vigil.ChannelWebhook {
			body, err := json.Marshal(webhookBody{Event: nt.Event, Key: nt.Key, Subject: nt.Subject, Text: nt.Text, Link: base + nt.Link,
				CaseID: nt.CaseID, Report: nt.Report, Due: nt.Due, Rule: r.ID})
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, vigil.MailInput{To: r.Target, Subject: string(nt.Event), Text: string(body), Key: key, About: about})
			continue
		}
		msgs = append(msgs, vigil.MailInput{To: r.Target, Subject: "[Vigil] " + nt.Subject, Text: nt.Text + "\n\n" + base + nt.Link + "\n" + footer(r),
			Key: key, About: about})
	}
	if r.Channel == vigil.ChannelWebhook {
		return n.Store.EnqueueOutbox(ctx, string(vigil.ChannelWebhook), r.ID, msgs, "vigil.localdomain")
	}
	return n.Outbox.Enqueue(ctx, msgs)
}

// digest queues the day's digest of the rule (once a day, after DigestHour in the organization's zone): every event
// standing that the rule matches, most pressing first.
func (n *Notifier) digest(ctx context.Context, r *vigil.NotifyRule, nts []vigil.Notification, base string) ([]*vigil.Mail, error) {
	now := n.now().In(n.zone(ctx))
	if now.Hour() < DigestHour {
		return nil, nil
	}
	day := now.Format(time.DateOnly)
	order := map[vigil.NotifyEvent]int{vigil.EventClockOverdue: 0, vigil.EventKEVHit: 1, vigil.EventReportAck: 2, vigil.EventClockDue: 3}
	slices.SortStableFunc(nts, func(a, b vigil.Notification) int { return order[a.Event] - order[b.Event] })
	var b strings.Builder
	fmt.Fprintf(&b, "Vigil digest for %s: %d item(s) need attention.\n", day, len(nts))
	for _, nt := range nts {
		fmt.Fprintf(&b, "\n- %s\n  %s\n", nt.Subject, base+nt.Link)
	}
	b.WriteString("\n" + footer(r))
	return n.Outbox.Enqueue(ctx, []vigil.MailInput{{To: r.Target, Subject: fmt.Sprintf("[Vigil] Digest %s: %d item(s)", day, len(nts)), Text: b.String(),
		Key: fmt.Sprintf("rule:%d:digest:%s", r.ID, day), About: "digest"}})
}

func footer(r *vigil.NotifyRule) string {
	return fmt.Sprintf("-- \nSent by Vigil notification rule %d (vigil notify rule list; remove with vigil notify rule remove %d).", r.ID, r.ID)
}

// about links a message to what it is about.
func about(nt vigil.Notification) string {
	switch {
	case nt.CaseID != 0:
		return fmt.Sprintf("case:%d", nt.CaseID)
	case nt.Report != "":
		return "report:" + nt.Report
	}
	return string(nt.Event)
}

// webhookBody is what a webhook receives (JSON, signed; see Outbox's webhook delivery).
type webhookBody struct {
	Event   vigil.NotifyEvent     `json:"event"`
	Key     vigil.NotificationKey `json:"key"` // the same event always has the same key: receivers can deduplicate on it
	Subject string                `json:"subject"`
	Text    string                `json:"text"`
	Link    string                `json:"link"`
	CaseID  int64                 `json:"case_id,omitempty"`
	Report  string                `json:"report,omitempty"`
	Due     *vigil.Date           `json:"due,omitempty"`
	Rule    int64                 `json:"rule"`
}
