package vigil

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// NotifyEvent is a kind of thing the team is told about.
type NotifyEvent string

const (
	// EventKEVHit: a vulnerability in CISA's Known Exploited Vulnerabilities catalog is found (open) on a version
	// in the field (any status but in development).
	EventKEVHit NotifyEvent = "kev_hit"
	// EventClockDue: an obligation's clock (a case's, or a report's acknowledgement) is due within the rule's days.
	EventClockDue NotifyEvent = "clock_due"
	// EventClockOverdue: an obligation's clock has passed its due date.
	EventClockOverdue NotifyEvent = "clock_overdue"
	// EventReportAck: a researcher's report awaits acknowledgement.
	EventReportAck NotifyEvent = "report_awaiting_ack"
	// EventNewCase: a case was opened (by a match, a report's triage, or by hand) after the rule was made.
	EventNewCase NotifyEvent = "new_case"
	// EventFeedFailing: an enabled intelligence feed's last sync failed (told once per run of failures).
	EventFeedFailing NotifyEvent = "feed_failing"
)

// NotifyEvents lists the events in their order.
var NotifyEvents = []NotifyEvent{EventKEVHit, EventNewCase, EventClockDue, EventClockOverdue, EventReportAck, EventFeedFailing}

// notifyEventList is NotifyEvents as errors and help name them.
func notifyEventList() string {
	var b []string
	for _, e := range NotifyEvents {
		b = append(b, string(e))
	}
	return strings.Join(b, ", ")
}

// NotifyChannel is how a rule tells: an e-mail per event, a signed webhook per event, or one e-mail a day.
type NotifyChannel string

const (
	ChannelEmail   NotifyChannel = "email"
	ChannelWebhook NotifyChannel = "webhook"
	ChannelDigest  NotifyChannel = "digest"
)

// NotifyChannels lists the channels.
var NotifyChannels = []NotifyChannel{ChannelEmail, ChannelWebhook, ChannelDigest}

// DefaultWithin is how many days ahead a clock counts as at risk when a rule does not say.
const DefaultWithin = 7

// NotifyRule says who is told what, and how. A rule belongs to a user (Owner, told about what they chose) or to
// the organization (Owner empty: the team's shared address or endpoint).
type NotifyRule struct {
	ID      int64         `json:"id"`
	Owner   string        `json:"owner,omitempty"`
	Channel NotifyChannel `json:"channel"`
	// Target is an e-mail address (email, digest) or an https:// URL (webhook; http:// only to a loopback host).
	Target string        `json:"target"`
	Events []NotifyEvent `json:"events"`
	// Within is how many days ahead a clock is at risk (clock_due); DefaultWithin when zero.
	Within int `json:"within_days"`
	// HasSecret: a webhook rule signs its bodies with a secret Vigil generated, shown once at creation, never again.
	HasSecret bool      `json:"has_secret,omitempty"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// Validate checks a rule as given by a person; errors name the field.
func (r *NotifyRule) Validate() error {
	if !slices.Contains(NotifyChannels, r.Channel) {
		return Errorf(EINVALID, "channel: %q is not one of email, webhook, digest", r.Channel)
	}
	if len(r.Events) == 0 {
		return Errorf(EINVALID, "events: at least one of %s", notifyEventList())
	}
	for i, e := range r.Events {
		if !slices.Contains(NotifyEvents, e) {
			return Errorf(EINVALID, "events[%d]: %q is not one of %s", i, e, notifyEventList())
		}
		if slices.Contains(r.Events[:i], e) {
			return Errorf(EINVALID, "events[%d]: %q twice", i, e)
		}
	}
	if r.Within < 0 || r.Within > 365 {
		return Errorf(EINVALID, "within_days: %d: 0 (the default, %d) to 365", r.Within, DefaultWithin)
	}
	if err := texts(field{"owner", r.Owner, MaxName}, field{"target", r.Target, MaxIdent}); err != nil {
		return err
	}
	if r.Channel == ChannelWebhook {
		return webhookURL(r.Target)
	}
	a, err := ParseMailAddress(r.Target)
	if err != nil {
		return Errorf(EINVALID, "target: %v", err)
	}
	r.Target = a
	return nil
}

// webhookURL accepts https:// URLs, and http:// to a loopback host (a relay on the same machine, a test).
func webhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return Errorf(EINVALID, "target: %q is not a webhook URL (https://host/path, no user or fragment)", s)
	}
	host := u.Hostname()
	loopback := host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return Errorf(EINVALID, "target: %q: webhooks go over https (http only to a loopback host)", s)
	}
	return nil
}

// Notification is one event to tell: what happened, once. Key identifies it for good (the same KEV hit, the same clock
// due on the same date, the same report), so each rule tells it once, however often the notifier runs.
type Notification struct {
	Key     NotificationKey `json:"key"`
	Event   NotifyEvent     `json:"event"`
	Subject string          `json:"subject"` // one line
	Text    string          `json:"text"`    // a few lines, ending with the link
	// Link is the page to act on, as a path (/cases/7, /intake/reports/3); the notifier makes it absolute with the
	// organization's base URL when one is set.
	Link   string `json:"link"`
	CaseID int64  `json:"case_id,omitempty"`
	Report string `json:"report,omitempty"`
	Due    *Date  `json:"due,omitempty"`
	// DaysLeft is how many days remain until Due (negative when overdue), as of when the notice was computed.
	DaysLeft int `json:"days_left,omitempty"`
	// At is when a new case was opened: a rule made after it does not tell it.
	At time.Time `json:"at,omitzero"`
}

// NotificationKey identifies an event for good: "kev_hit:case:7:version:3", "clock_due:case:7:ed_fix:2026-02-01".
type NotificationKey string

// KEVHitRow is an open finding on a version in the field whose vulnerability is KEV-listed, as storage reads it.
type KEVHitRow struct {
	FindingID     int64
	CaseID        int64
	Vulnerability string // the finding's id
	CVE           string // the listed CVE: the id itself, or the alias that is listed
	Device        string
	VersionID     int64
	Version       string
	Units         int
}
