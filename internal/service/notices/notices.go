// Package notices is the customer-notice use case (G2016 §VII.B criterion 2): a notice covers one or more cases;
// the builder prefills its four elements from the cases (the vulnerability and the assessed impact, the efforts
// underway, the compensating controls in place, the fixed versions) for the PSIRT to edit, and checks them: a
// notice missing an element is sent only with a recorded reason, and the customer_notified event it records then
// names only the elements it had, so criterion 2 is not met by it and the determination says which is missing.
// Recipients are the e-mail contacts of the consignees holding an affected version. Sending claims the notice once
// (a conditional update in the store), queues one message per recipient in the outbox under a key derived from
// the notice and the address (vigil.OutboxService queues a key once and delivers each message once), then records customer_notified on every case through
// the case service; a retry or a second instance resumes those steps and repeats none of them.
package notices

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
)

// Store is what the use case needs of storage.
type Store interface {
	CreateNotice(ctx context.Context, n *vigil.Notice) error
	UpdateNotice(ctx context.Context, n *vigil.Notice, reason string) error
	Notice(ctx context.Context, id int64) (*vigil.Notice, error)
	Notices(ctx context.Context) ([]*vigil.Notice, error)
	ClaimNoticeSend(ctx context.Context, id int64, recipients []vigil.NoticeRecipient, date vigil.Date, reason string) (*vigil.Notice, bool, error)
	FinishNoticeSend(ctx context.Context, id int64) error
	Consignees(ctx context.Context) ([]*vigil.Consignee, error)
	ThreatModel(ctx context.Context, deviceID int64) (*vigil.ThreatModel, error)
	Orgs(ctx context.Context) ([]*vigil.Organization, error)
}

// Cases is the case service: the views the builder reads and the events a sent notice records.
type Cases interface {
	CaseView(ctx context.Context, id int64, asOf vigil.Date) (*cases.View, error)
	RecordEvent(ctx context.Context, e *vigil.CaseEvent) error
	Today(ctx context.Context) vigil.Date
}

// Service implements vigil.NoticeService.
type Service struct {
	Store  Store
	Cases  Cases
	Outbox vigil.OutboxService // nil: sending is refused until a mailer is configured
	// Signing gates the release of a notice, which needs a Part 11 signature unless the organization switched
	// that off; nil only in tests that are not about signing (vigil.GateAct).
	Signing vigil.ActSigner
}

var _ vigil.NoticeService = (*Service)(nil)

// DraftNotice prefills a draft for the cases; a follow-up (followUpOf) covers the first notice's cases when none
// are given.
func (s *Service) DraftNotice(ctx context.Context, caseIDs []int64, followUpOf int64) (*vigil.Notice, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	if followUpOf != 0 {
		first, err := s.Store.Notice(ctx, followUpOf)
		if err != nil {
			return nil, err
		}
		if len(caseIDs) == 0 {
			caseIDs = first.Cases
		}
	}
	if len(caseIDs) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "cases: at least one case")
	}
	views, err := s.views(ctx, caseIDs)
	if err != nil {
		return nil, err
	}
	n := &vigil.Notice{Cases: caseIDs, FollowUpOf: followUpOf, Subject: subject(views, followUpOf != 0), Elements: s.prefill(ctx, views)}
	if err := s.Store.CreateNotice(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

func (s *Service) views(ctx context.Context, ids []int64) ([]*cases.View, error) {
	var out []*cases.View
	seen := map[int64]bool{}
	for i, id := range ids {
		v, err := s.Cases.CaseView(ctx, id, vigil.Date{})
		if vigil.ErrorCode(err) == vigil.ENOTFOUND {
			return nil, vigil.Errorf(vigil.EINVALID, "cases[%d]: case %d not found", i, id)
		} else if err != nil {
			return nil, err
		}
		if seen[v.Case.ID] {
			return nil, vigil.Errorf(vigil.EINVALID, "cases[%d]: case %d is listed twice (or merged into another listed case)", i, id)
		}
		seen[v.Case.ID] = true
		out = append(out, v)
	}
	return out, nil
}

func subject(views []*cases.View, followUp bool) string {
	var parts []string
	for _, v := range views {
		parts = append(parts, v.Case.Vulnerability+" in "+v.Device.Name)
	}
	prefix := "Cybersecurity notice: "
	if followUp {
		prefix = "Cybersecurity notice update: "
	}
	return vigil.Clip(vigil.MaxName, prefix+strings.Join(parts, "; "))
}

// affectedVersions are the versions a notice is about: affected, or still under investigation.
func affectedVersions(v *cases.View) []cases.VersionStatus {
	var out []cases.VersionStatus
	for _, vs := range v.Versions {
		if vs.Status == "affected" || vs.Status == "under_investigation" {
			out = append(out, vs)
		}
	}
	return out
}

func versionList(vs []cases.VersionStatus) string {
	var names []string
	for _, x := range vs {
		if !slices.Contains(names, x.Version) {
			names = append(names, x.Version)
		}
	}
	return strings.Join(names, ", ")
}

// prefill writes what the records say for each element; an element the records cannot support stays empty, so
// that the check sends the PSIRT to write it rather than letting boilerplate pass for it.
func (s *Service) prefill(ctx context.Context, views []*cases.View) vigil.NoticeElements {
	org := ""
	if orgs, err := s.Store.Orgs(ctx); err == nil && len(orgs) > 0 {
		org = orgs[0].Name
	}
	if org == "" {
		org = "The manufacturer"
	}
	var a, c, d []string
	assessed := 0
	for _, v := range views {
		last := lastAssessment(v)
		vers := affectedVersions(v)
		if last != nil {
			assessed++
			p := fmt.Sprintf("%s affects %s", v.Case.Vulnerability, v.Device.Name)
			if len(vers) > 0 {
				p += " versions " + versionList(vers)
			}
			if len(v.Case.Aliases) > 0 {
				p += " (also known as " + strings.Join(v.Case.Aliases, ", ") + ")"
			}
			p += ". Impact assessment (" + last.Date.String() + "): "
			var facts []string
			if last.Severity != "" {
				harm := "severity of patient harm " + last.Severity
				if len(last.Functions) > 0 {
					harm += " (clinical functions it can reach: " + strings.Join(last.Functions, ", ") + ")"
				}
				facts = append(facts, harm)
			}
			if last.Exploitability != "" {
				facts = append(facts, "exploitability "+string(last.Exploitability))
			}
			if last.CVSS != "" {
				facts = append(facts, "CVSS "+last.CVSS)
			}
			facts = append(facts, "risk of patient harm "+string(last.Risk))
			p += strings.Join(facts, "; ") + "."
			if last.Rationale != "" {
				p += " " + strings.TrimSpace(last.Rationale)
				if !strings.HasSuffix(p, ".") {
					p += "."
				}
			}
			a = append(a, p)
			if ctl := s.controls(ctx, v, last); ctl != "" {
				c = append(c, ctl)
			}
		}
		var fixed []string
		for _, vs := range v.Versions {
			if vs.FixedIn != "" && !slices.Contains(fixed, vs.FixedIn) {
				fixed = append(fixed, vs.FixedIn)
			}
		}
		if len(fixed) > 0 {
			d = append(d, fmt.Sprintf("For %s, the component is fixed in %s; %s will tell you when the %s update that carries the fix is available to install.",
				v.Case.Vulnerability, strings.Join(fixed, ", "), org, v.Device.Name))
		}
	}
	var el vigil.NoticeElements
	if assessed == len(views) {
		el.A = strings.Join(a, "\n\n")
		el.B = org + " has assessed the risk of patient harm from this vulnerability and is working to address it: the remediation is underway and its progress is tracked until every affected device is remediated."
	}
	if len(c) == len(views) {
		el.C = strings.Join(c, "\n\n")
	}
	if len(d) == len(views) {
		el.D = strings.Join(d, "\n\n")
	}
	return el
}

func lastAssessment(v *cases.View) *vigil.Assessment {
	if len(v.Assessments) == 0 {
		return nil
	}
	return v.Assessments[len(v.Assessments)-1]
}

// controls describes the controls in place the assessment names: the threat model's control with where it is
// documented for users (the IFU section), or the free text written.
func (s *Service) controls(ctx context.Context, v *cases.View, a *vigil.Assessment) string {
	if len(a.Controls) == 0 {
		return ""
	}
	tm, _ := s.Store.ThreatModel(ctx, v.Device.ID)
	var parts []string
	for _, ref := range a.Controls {
		var ctl *vigil.Control
		if tm != nil {
			ctl = tm.Control(ref)
		}
		if ctl == nil {
			parts = append(parts, ref)
			continue
		}
		p := ctl.Name
		if ctl.Description != "" {
			p += ": " + ctl.Description
		}
		if ctl.Reference != "" {
			p += " (see " + ctl.Reference + ")"
		}
		parts = append(parts, p)
	}
	return "Until the fix is installed, for " + v.Case.Vulnerability + ": " + strings.Join(parts, "; ") + "."
}

// EditNotice replaces a draft's subject and elements.
func (s *Service) EditNotice(ctx context.Context, n *vigil.Notice, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	return s.Store.UpdateNotice(ctx, n, reason)
}

// Notice returns one notice.
func (s *Service) Notice(ctx context.Context, id int64) (*vigil.Notice, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Notice(ctx, id)
}

// Notices lists notices, newest first; caseID (when not 0) keeps those covering that case.
func (s *Service) Notices(ctx context.Context, caseID int64) ([]*vigil.Notice, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	all, err := s.Store.Notices(ctx)
	if err != nil {
		return nil, err
	}
	out := []*vigil.Notice{}
	for _, n := range all {
		if caseID == 0 || slices.Contains(n.Cases, caseID) {
			out = append(out, n)
		}
	}
	return out, nil
}

// recipients are the contacts of every consignee holding units of an affected version of the notice's cases, one
// per address (the first consignee naming it), plus, for a follow-up, everyone the first notice went to; noAddress
// lists those consignees with no address.
func (s *Service) recipients(ctx context.Context, n *vigil.Notice, views []*cases.View) ([]vigil.NoticeRecipient, []string, error) {
	versions := map[int64]bool{}
	for _, v := range views {
		for _, vs := range affectedVersions(v) {
			versions[vs.VersionID] = true
		}
	}
	cs, err := s.Store.Consignees(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []vigil.NoticeRecipient
	seen := map[string]bool{}
	add := func(r vigil.NoticeRecipient) {
		k := strings.ToLower(r.Email)
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	noAddress := []string{}
	for _, c := range cs {
		holds := false
		for _, u := range c.Units {
			if versions[u.VersionID] && (u.Units > 0 || len(u.Lots) > 0) {
				holds = true
			}
		}
		if !holds {
			continue
		}
		if len(c.Emails) == 0 {
			noAddress = append(noAddress, c.Name)
		}
		for _, e := range c.Emails {
			add(vigil.NoticeRecipient{ConsigneeID: c.ID, Consignee: c.Name, Email: e})
		}
	}
	if n.FollowUpOf != 0 {
		first, err := s.Store.Notice(ctx, n.FollowUpOf)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range first.Recipients {
			add(r)
		}
	}
	return out, noAddress, nil
}

// PreviewNotice renders a notice as its recipients will read it, with who will receive it.
func (s *Service) PreviewNotice(ctx context.Context, id int64) (*vigil.NoticePreview, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	n, err := s.Store.Notice(ctx, id)
	if err != nil {
		return nil, err
	}
	views, err := s.views(ctx, n.Cases)
	if err != nil {
		return nil, err
	}
	p := &vigil.NoticePreview{Notice: n, Subject: n.Subject, Missing: n.Elements.Missing(), NoAddress: []string{}}
	if n.State == vigil.NoticeDraft {
		if p.Recipients, p.NoAddress, err = s.recipients(ctx, n, views); err != nil {
			return nil, err
		}
	} else {
		p.Recipients = n.Recipients
	}
	if p.Recipients == nil {
		p.Recipients = []vigil.NoticeRecipient{}
	}
	body, err := s.body(ctx, n, views)
	if err != nil {
		return nil, err
	}
	if p.Text, p.HTML, err = render(body); err != nil {
		return nil, err
	}
	return p, nil
}

// SendNotice sends a notice: see the package comment for why it can be retried safely.
// The release (the claim of a draft) carries the sender's Part 11 signature (sig), recorded with it; resuming a
// release already claimed needs none.
func (s *Service) SendNotice(ctx context.Context, id int64, reason string, sig *vigil.SignRequest) (*vigil.Notice, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	n, err := s.Store.Notice(ctx, id)
	if err != nil {
		return nil, err
	}
	if n.State == vigil.NoticeSent {
		return nil, vigil.Errorf(vigil.ECONFLICT, "notice %d was already sent on %s", n.ID, n.SentDate)
	}
	reason = strings.TrimSpace(reason)
	if miss := n.Elements.Missing(); len(miss) > 0 && reason == "" && n.State == vigil.NoticeDraft {
		return nil, vigil.Errorf(vigil.EINVALID, "elements: %s missing: a notice without all four elements does not meet G2016 criterion 2; complete it (vigil notice edit), or send it anyway with a reason", elementList(miss))
	}
	if s.Outbox == nil {
		return nil, vigil.Errorf(vigil.EUNAVAILABLE, "no mailer is configured: set VIGIL_SMTP_URL (or the organization's SMTP settings) to send notices")
	}
	views, err := s.views(ctx, n.Cases)
	if err != nil {
		return nil, err
	}
	if n.State == vigil.NoticeDraft {
		recips, _, err := s.recipients(ctx, n, views)
		if err != nil {
			return nil, err
		}
		if len(recips) == 0 {
			return nil, vigil.Errorf(vigil.EINVALID, "recipients: no consignee holding an affected version has an e-mail address (vigil consignee update ID --email ADDR)")
		}
		sctx, err := vigil.GateAct(ctx, s.Signing, vigil.ActNoticeRelease, sig)
		if err != nil {
			return nil, err
		}
		claimed, ok, err := s.Store.ClaimNoticeSend(sctx, n.ID, recips, s.Cases.Today(ctx), reason)
		if err != nil {
			return nil, err
		}
		if !ok && claimed.State == vigil.NoticeSent {
			return nil, vigil.Errorf(vigil.ECONFLICT, "notice %d was already sent on %s", n.ID, claimed.SentDate)
		}
		n = claimed
	}
	// From here every step is idempotent: a retry, or a second instance that lost the claim, completes it.
	msgs, err := s.messages(ctx, n, views)
	if err != nil {
		return nil, err
	}
	if _, err := s.Outbox.Enqueue(ctx, msgs); err != nil {
		return nil, err
	}
	for _, v := range views {
		if err := s.recordNotified(ctx, n, v); err != nil {
			return nil, err
		}
	}
	if err := s.Store.FinishNoticeSend(ctx, n.ID); err != nil {
		return nil, err
	}
	return s.Store.Notice(ctx, n.ID)
}

func elementList(es []string) string {
	var out []string
	for _, e := range es {
		out = append(out, vigil.NoticeElementNames[e])
	}
	return strings.Join(out, ", ")
}

// noticeTag marks the customer_notified event a notice recorded, so a resumed send finds it.
func noticeTag(id int64) string { return "Customer notice N-" + strconv.FormatInt(id, 10) }

func (s *Service) recordNotified(ctx context.Context, n *vigil.Notice, v *cases.View) error {
	tag := noticeTag(n.ID)
	for _, e := range v.Events {
		if e.Type == regulatory.EventCustomerNotified && strings.HasPrefix(e.Note, tag+":") {
			return nil
		}
	}
	note := fmt.Sprintf("%s: %q, sent to %d recipient(s)", tag, n.Subject, len(n.Recipients))
	if miss := n.Elements.Missing(); len(miss) > 0 {
		note += fmt.Sprintf("; sent without element(s) %s: %s", strings.Join(miss, ", "), n.MissingReason)
	}
	if n.FollowUpOf != 0 {
		note += fmt.Sprintf("; follow-up of N-%d", n.FollowUpOf)
	}
	return s.Cases.RecordEvent(ctx, &vigil.CaseEvent{CaseID: v.Case.ID, Type: regulatory.EventCustomerNotified, Date: *n.SentDate,
		Details: vigil.EventData{Elements: n.Elements.Present()}, Note: vigil.Clip(vigil.MaxText, note)})
}

// MessageKey is the outbox key of notice id's message to addr: the same on every retry, so it is queued once.
func MessageKey(id int64, addr string) string {
	return About(id) + ":to:" + strings.ToLower(addr)
}

// About is what the outbox records a notice's messages as being about.
func About(id int64) string { return "notice:" + strconv.FormatInt(id, 10) }

func (s *Service) messages(ctx context.Context, n *vigil.Notice, views []*cases.View) ([]vigil.MailInput, error) {
	body, err := s.body(ctx, n, views)
	if err != nil {
		return nil, err
	}
	text, html, err := render(body)
	if err != nil {
		return nil, err
	}
	threads, err := s.threads(ctx, n)
	if err != nil {
		return nil, err
	}
	var out []vigil.MailInput
	for _, r := range n.Recipients {
		out = append(out, vigil.MailInput{To: r.Email, Subject: n.Subject, Text: text, HTML: html, Key: MessageKey(n.ID, r.Email), About: About(n.ID),
			Headers: threads[strings.ToLower(r.Email)]})
	}
	return out, nil
}

// threads are, for a follow-up, the In-Reply-To and References of each recipient's message: the message the first
// notice sent to that address, and the thread it was in, so the follow-up lands under it in the recipient's mail
// client. A recipient the first notice did not reach starts a thread of its own.
func (s *Service) threads(ctx context.Context, n *vigil.Notice) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	if n.FollowUpOf == 0 {
		return out, nil
	}
	first, err := s.Store.Notice(ctx, n.FollowUpOf)
	if err != nil {
		return nil, err
	}
	ms, err := s.Outbox.Mails(ctx, vigil.MailFilter{About: About(first.ID), Limit: len(first.Recipients) + 1})
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.MessageID == "" {
			continue
		}
		id := "<" + m.MessageID + ">"
		refs := strings.TrimSpace(m.Headers["References"] + " " + id)
		out[strings.ToLower(m.To)] = map[string]string{"In-Reply-To": id, "References": refs}
	}
	return out, nil
}

// NoticeDeliveries reports each recipient's message as the outbox has it.
func (s *Service) NoticeDeliveries(ctx context.Context, id int64) ([]vigil.NoticeDelivery, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	n, err := s.Store.Notice(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []vigil.NoticeDelivery{}
	if len(n.Recipients) == 0 {
		return out, nil
	}
	byKey := map[string]*vigil.Mail{}
	if s.Outbox != nil {
		ms, err := s.Outbox.Mails(ctx, vigil.MailFilter{About: About(n.ID), Limit: len(n.Recipients) + 1})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			byKey[m.Key] = m
		}
	}
	for _, r := range n.Recipients {
		d := vigil.NoticeDelivery{Recipient: r, Key: MessageKey(n.ID, r.Email), State: "not_queued", Log: []vigil.MailAttempt{}}
		if m := byKey[d.Key]; m != nil {
			d.MailID, d.State, d.Answer, d.MessageID, d.Attempts = m.ID, string(m.State), m.Answer, m.MessageID, m.Attempts
			if m.Attempts > 0 {
				_, log, err := s.Outbox.Mail(ctx, m.ID)
				if err != nil {
					return nil, err
				}
				d.Log = append(d.Log, log...)
			}
		}
		out = append(out, d)
	}
	return out, nil
}
