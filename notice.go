package vigil

import (
	"context"
	"strings"
	"time"
)

// Notice elements of G2016 §VII.B criterion 2: what a customer notice must say for the 30-day step.
const (
	ElementVulnerability = "a" // the vulnerability, with an impact assessment
	ElementEfforts       = "b" // efforts are underway to address the risk of patient harm
	ElementControls      = "c" // the compensating controls
	ElementFix           = "d" // a fix is coming (or the defense-in-depth strategy), and users will be told
)

// NoticeElementNames names the four elements as the builder and the determination show them.
var NoticeElementNames = map[string]string{
	ElementVulnerability: "(a) the vulnerability and an impact assessment",
	ElementEfforts:       "(b) efforts underway to address the risk of patient harm",
	ElementControls:      "(c) compensating controls",
	ElementFix:           "(d) a fix is coming, or the defense-in-depth strategy, and users will be told when it is available",
}

// NoticeElements holds the text of each element, as prefilled from the cases and edited by the PSIRT.
type NoticeElements struct {
	A string `json:"a"`
	B string `json:"b"`
	C string `json:"c"`
	D string `json:"d"`
}

// Get returns the text of element e ("a".."d").
func (n NoticeElements) Get(e string) string {
	switch e {
	case ElementVulnerability:
		return n.A
	case ElementEfforts:
		return n.B
	case ElementControls:
		return n.C
	case ElementFix:
		return n.D
	}
	return ""
}

// Set sets the text of element e; EINVALID for another letter.
func (n *NoticeElements) Set(e, text string) error {
	switch e {
	case ElementVulnerability:
		n.A = text
	case ElementEfforts:
		n.B = text
	case ElementControls:
		n.C = text
	case ElementFix:
		n.D = text
	default:
		return Errorf(EINVALID, "element: %q (want a, b, c or d)", Clip(20, e))
	}
	return nil
}

// Missing lists the elements with no text, in order: a notice with any missing does not meet criterion 2.
func (n NoticeElements) Missing() []string {
	out := []string{}
	for _, e := range []string{ElementVulnerability, ElementEfforts, ElementControls, ElementFix} {
		if strings.TrimSpace(n.Get(e)) == "" {
			out = append(out, e)
		}
	}
	return out
}

// Present lists the elements with text, in order: what a sent notice's customer_notified event records.
func (n NoticeElements) Present() []string {
	out := []string{}
	for _, e := range []string{ElementVulnerability, ElementEfforts, ElementControls, ElementFix} {
		if strings.TrimSpace(n.Get(e)) != "" {
			out = append(out, e)
		}
	}
	return out
}

// Notice states.
const (
	NoticeDraft   = "draft"
	NoticeSending = "sending" // claimed by one send; its messages are queued, its events being recorded
	NoticeSent    = "sent"
)

// Notice is a customer notice: one or more cases, four elements, sent by e-mail to the contacts of the
// consignees holding affected versions. A follow-up (the fix is available) names the notice it follows.
type Notice struct {
	ID         int64          `json:"id"`
	Cases      []int64        `json:"cases"`
	Subject    string         `json:"subject"`
	Elements   NoticeElements `json:"elements"`
	FollowUpOf int64          `json:"follow_up_of,omitempty"`
	State      string         `json:"state"`
	// MissingReason is why the notice was sent with elements missing (required then); the cases' events record
	// only the elements it had, so criterion 2 is not met by it.
	MissingReason string `json:"missing_reason,omitempty"`
	// Recipients are fixed when the notice is sent.
	Recipients []NoticeRecipient `json:"recipients,omitempty"`
	SentDate   *Date             `json:"sent_date,omitempty"`
	SentAt     *time.Time        `json:"sent_at,omitempty"`
	SentBy     string            `json:"sent_by,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	CreatedBy  string            `json:"created_by"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// NoticeRecipient is one address a notice goes to, and the consignee it is for.
type NoticeRecipient struct {
	ConsigneeID int64  `json:"consignee_id"`
	Consignee   string `json:"consignee"`
	Email       string `json:"email"`
}

// Validate checks a notice's fields as stored.
func (n *Notice) Validate() error {
	if len(n.Cases) == 0 {
		return Errorf(EINVALID, "cases: at least one case")
	}
	if err := required("subject", n.Subject); err != nil {
		return err
	}
	return texts(field{"subject", n.Subject, MaxName}, field{"elements.a", n.Elements.A, MaxText}, field{"elements.b", n.Elements.B, MaxText},
		field{"elements.c", n.Elements.C, MaxText}, field{"elements.d", n.Elements.D, MaxText}, field{"missing_reason", n.MissingReason, MaxText})
}

// NoticePreview is a notice as its recipients will read it.
type NoticePreview struct {
	Notice     *Notice           `json:"notice"`
	Subject    string            `json:"subject"`
	Text       string            `json:"text"`
	HTML       string            `json:"html"`
	Recipients []NoticeRecipient `json:"recipients"`
	// NoAddress lists consignees of affected versions with no e-mail address: they will not receive it.
	NoAddress []string `json:"no_address"`
	Missing   []string `json:"missing_elements"`
}

// NoticeDelivery is one recipient's message and where it stands in the outbox (OutboxService; its delivery log
// is Mail(MailID)).
type NoticeDelivery struct {
	Recipient NoticeRecipient `json:"recipient"`
	Key       string          `json:"key"`
	MailID    int64           `json:"mail_id,omitempty"`
	MessageID string          `json:"message_id,omitempty"`
	State     string          `json:"state"` // a MailState, or not_queued
	Attempts  int             `json:"attempts"`
	Answer    string          `json:"answer,omitempty"` // the SMTP server's last answer
	// Log is the message's delivery log: every attempt, oldest first.
	Log []MailAttempt `json:"log"`
}

// NoticeService builds and sends customer notices. Reads need PermRead; drafting, editing and sending need
// PermEvent (sending records customer_notified on every case). Unknown ids are ENOTFOUND, a notice already sent
// ECONFLICT, bad input EINVALID naming the field.
type NoticeService interface {
	// DraftNotice prefills a notice for the cases (a follow-up of followUpOf when not 0).
	DraftNotice(ctx context.Context, cases []int64, followUpOf int64) (*Notice, error)
	// EditNotice replaces a draft's subject and elements, with a reason.
	EditNotice(ctx context.Context, n *Notice, reason string) error
	Notice(ctx context.Context, id int64) (*Notice, error)
	Notices(ctx context.Context, caseID int64) ([]*Notice, error)
	PreviewNotice(ctx context.Context, id int64) (*NoticePreview, error)
	// SendNotice queues one message per recipient and records customer_notified on each case. A notice with an
	// element missing is sent only with a reason. Sending again, or from a second instance, sends nothing twice.
	// Releasing a draft carries the sender's Part 11 signature (sig) unless the organization switched that off.
	SendNotice(ctx context.Context, id int64, reason string, sig *SignRequest) (*Notice, error)
	NoticeDeliveries(ctx context.Context, id int64) ([]NoticeDelivery, error)
}
