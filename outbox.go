package vigil

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// MailState is where a message in the outbox stands.
type MailState string

const (
	MailQueued   MailState = "queued"   // waiting for its first attempt
	MailRetrying MailState = "retrying" // an attempt failed for a reason that may pass (4xx, no connection): tried again later
	MailAccepted MailState = "accepted" // the SMTP server accepted it: done, never sent again
	MailFailed   MailState = "failed"   // refused for good (5xx), out of attempts, or interrupted mid-delivery
)

// MailStates lists the states in their order.
var MailStates = []MailState{MailQueued, MailRetrying, MailAccepted, MailFailed}

// Pending reports whether the outbox still tries to deliver a message in state s.
func (s MailState) Pending() bool { return s == MailQueued || s == MailRetrying }

// MailInput is one message to one recipient, as a caller (a customer notice, a notification, the acknowledgement
// to a researcher) hands it to the outbox.
type MailInput struct {
	To      string `json:"to"`      // one address: each recipient has its own message, its own state and delivery log
	Subject string `json:"subject"` //
	Text    string `json:"text"`    // the plain-text body (required: every client can read it)
	HTML    string `json:"html,omitempty"`
	// Key makes the message idempotent: enqueuing a key the outbox holds already returns the message queued under
	// it and sends nothing more, however often a caller retries. Name what the message is for and who gets it,
	// e.g. "notice:12:to:ops@hospital.example".
	Key string `json:"key"`
	// About is what the message is about, for the delivery log and the links back ("case:7", "notice:12",
	// "report:3").
	About string `json:"about"`
	// Headers are the message's own header lines: In-Reply-To and References (message ids in angle brackets),
	// which thread a follow-up under the message it follows in the recipient's mail client.
	Headers map[string]string `json:"headers,omitempty"`
}

// MailHeaders are the header lines a message may set itself; the outbox and the mailer write every other one.
var MailHeaders = []string{"In-Reply-To", "References"}

// Mail limits: a subject is one line; a body is a notice, not an attachment store.
const (
	MaxMailSubject = 998 // RFC 5322's line limit
	MaxMailBody    = 1 << 20
)

// Validate checks the message before it is queued; errors name the field.
func (m *MailInput) Validate() error {
	if _, err := ParseMailAddress(m.To); err != nil {
		return Errorf(EINVALID, "to: %v", err)
	}
	if strings.TrimSpace(m.Subject) == "" {
		return Errorf(EINVALID, "subject: required")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return Errorf(EINVALID, "subject: one line (no line breaks)")
	}
	if strings.TrimSpace(m.Text) == "" {
		return Errorf(EINVALID, "text: required (the plain-text body every mail client reads)")
	}
	if strings.TrimSpace(m.Key) == "" {
		return Errorf(EINVALID, "key: required (it keeps a retried enqueue from sending twice)")
	}
	for k, v := range m.Headers {
		if !slices.Contains(MailHeaders, k) {
			return Errorf(EINVALID, "headers: %q: a message may set only %s", Clip(40, k), strings.Join(MailHeaders, ", "))
		}
		if strings.ContainsAny(v, "\r\n") || len(v) > MaxMailSubject || !strings.HasPrefix(v, "<") || !strings.HasSuffix(v, ">") {
			return Errorf(EINVALID, "headers.%s: message ids in angle brackets on one line (<id@example.org>)", k)
		}
	}
	return texts(field{"subject", m.Subject, MaxMailSubject}, field{"text", m.Text, MaxMailBody}, field{"html", m.HTML, MaxMailBody},
		field{"key", m.Key, MaxIdent}, field{"about", m.About, MaxName})
}

// ParseMailAddress checks one bare e-mail address (no display name, no list) and returns it.
func ParseMailAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(s) {
		return "", Errorf(EINVALID, "%q is not one e-mail address (user@example.org)", s)
	}
	return a.Address, nil
}

// Mail is a message in the outbox with its delivery state.
type Mail struct {
	ID int64 `json:"id"`
	MailInput
	// Channel is email, or webhook (To is the URL, Subject the event, Text the JSON body) for a notification rule's.
	Channel  string    `json:"channel"`
	RuleID   int64     `json:"rule_id,omitempty"` // the notification rule that made it
	State    MailState `json:"state"`
	Attempts int       `json:"attempts"`
	// Answer is the SMTP server's last answer (or why there was none: the connection failed).
	Answer    string    `json:"answer,omitempty"`
	MessageID string    `json:"message_id"` // the Message-ID header, the same on every attempt
	Queued    time.Time `json:"queued"`
	Next      time.Time `json:"next,omitzero"` // when it is tried next (pending messages)
	Sent      time.Time `json:"sent,omitzero"` // when the server accepted it
}

// MailAttempt is one line of the delivery log: one attempt to hand a message to the SMTP server.
type MailAttempt struct {
	MailID int64     `json:"mail_id"`
	At     time.Time `json:"at"`
	By     string    `json:"by"` // the server instance that made it
	// Outcome is the state the attempt left the message in: accepted, retrying or failed.
	Outcome MailState `json:"outcome"`
	Answer  string    `json:"answer"`
}

// MailFilter selects messages from the outbox, newest first.
type MailFilter struct {
	About  string      // what they are about ("notice:12"); empty for all
	States []MailState // empty for all
	Limit  int         // 0 for the default (100)
}

// OutboxService queues e-mail and reports how its delivery went. Messages are sent by the server instances'
// delivery loops, each message to its recipient once: a retried enqueue finds the message by its key, and an
// instance sends a message only while it holds its claim in the database.
type OutboxService interface {
	// Enqueue queues the messages in one transaction (all or none) and returns them as stored: a message whose key
	// is queued already is returned as it stands, not queued again. Needs PermEvent (sending to customers is an
	// action on their cases) or a system actor. EINVALID names the message (messages[i].field).
	Enqueue(ctx context.Context, msgs []MailInput) ([]*Mail, error)
	// Mails lists messages, newest first. Needs PermRead.
	Mails(ctx context.Context, f MailFilter) ([]*Mail, error)
	// Mail returns one message and its delivery log, oldest attempt first. Needs PermRead. ENOTFOUND.
	Mail(ctx context.Context, id int64) (*Mail, []MailAttempt, error)
}
