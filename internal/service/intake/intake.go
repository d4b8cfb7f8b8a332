// Package intake is the intake use case (ISO/IEC 30111 handling, ISO/IEC 29147 disclosure): the public report a
// researcher files without an account and follows through a secret link, the other signals that join the same
// queue (complaints, service records, ISAO and CISA tips, CSAF advisories naming our devices), the PSIRT's steps
// (acknowledge within the CVD policy's working days, triage into findings or cases, remediation, disclosure,
// close with a reason the reporter reads), and the published policy behind /.well-known/security.txt. Submit and
// the follow-up calls are the only ones open to the public; the secret link is stored as a SHA-256 hash, so a
// stolen database does not reveal working links, and it grants only its own report.
package intake

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/calendar"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Store is the storage the intake use case needs (internal/store implements it).
type Store interface {
	CreateReport(ctx context.Context, r *vigil.Report, atts []vigil.Attachment, tokenHash string, queueCap int) error
	Reports(ctx context.Context, f vigil.ReportFilter) ([]*vigil.Report, error)
	Report(ctx context.Context, id int64) (*vigil.Report, error)
	ReportMessages(ctx context.Context, id int64) ([]vigil.ReportMessage, error)
	FollowReport(ctx context.Context, tokenHash string) (*vigil.Report, []vigil.ReportMessage, error)
	ReporterReply(ctx context.Context, tokenHash, body string) error
	ChangeReport(ctx context.Context, id int64, ch vigil.ReportChange) error
	Attachment(ctx context.Context, reportID, attachmentID int64) (*vigil.Attachment, error)
	MarketedProducts(ctx context.Context) ([]vigil.ReportProduct, error)
	UnreportedSignals(ctx context.Context, limit int) ([]*vigil.Signal, error)
	CVDPolicy(ctx context.Context) (*vigil.CVDPolicy, error)
	SetCVDPolicy(ctx context.Context, p *vigil.CVDPolicy, reason string) error
}

// Service is the intake use case. It implements vigil.IntakeService.
type Service struct {
	Store Store
	Clock vigil.Clock
	// Outbox e-mails the reporter each message the PSIRT sends (the acknowledgement first) when the reporter left an
	// address; nil sends nothing (the follow-up link still shows every message).
	Outbox vigil.OutboxService
	// Cases opens the cases triage asks for and moves a case's D0 to a report's receipt when the report came first
	// (internal/cases.Service); nil refuses a case link without an id.
	Cases CaseDesk
}

// CaseDesk is what triage needs of the case service.
type CaseDesk interface {
	Cases(ctx context.Context, f vigil.CaseFilter) ([]*vigil.Case, error)
	CaseView(ctx context.Context, id int64, asOf vigil.Date) (*cases.View, error)
	OpenCase(ctx context.Context, c *vigil.Case, reason string) error
	SetLearned(ctx context.Context, caseID int64, learned vigil.Date, reason, evidence string) error
}

var _ vigil.IntakeService = (*Service)(nil)

// tokenBytes is the follow-up secret's entropy: 256 bits, beyond guessing at any request rate.
const tokenBytes = 32

func newToken() (secret, hash string) {
	b := make([]byte, tokenBytes)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, tokenHash(secret)
}

func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// validToken says whether a presented secret has the shape of one we issue, so that nothing else reaches a query.
func validToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}

// received dates a report: D0 is the day it arrived in the organization's time zone, and the acknowledgement is
// due the CVD policy's working days later, counted on the organization's working-day calendar
// (regulatory.Policy.CVDAckDue).
func received(pol *vigil.CVDPolicy, at time.Time) (vigil.Date, vigil.Date) {
	loc, err := time.LoadLocation(pol.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	on := vigil.DateOf(at, loc)
	return on, regulatory.Policy{WorkingDays: calendar.Policy(pol.WorkingDays), CVDAckWorkingDays: pol.AckDays}.CVDAckDue(on)
}

// file validates in, checks each attachment's bytes against its declared type, and stores the report.
func (s *Service) file(ctx context.Context, in *vigil.ReportInput, tokenHash string) (*vigil.Report, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if in.CVSS != "" {
		if _, err := risk.ParseCVSS(in.CVSS); err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "cvss: %s", vigil.ErrorMessage(err))
		}
	}
	atts := make([]vigil.Attachment, len(in.Attachments))
	for i, a := range in.Attachments {
		if err := sniff(i, a); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(a.Data)
		atts[i] = vigil.Attachment{AttachmentMeta: vigil.AttachmentMeta{Name: a.Name, ContentType: a.ContentType, SHA256: hex.EncodeToString(sum[:])}, Data: a.Data}
	}
	pol, err := s.Store.CVDPolicy(ctx)
	if err != nil {
		return nil, err
	}
	r := &vigil.Report{Source: in.Source, DeviceID: in.DeviceID, Product: in.Product, Version: in.Version, Title: in.Title,
		Description: in.Description, Impact: in.Impact, Steps: in.Steps, CVSS: in.CVSS, ReporterName: in.ReporterName,
		ReporterEmail: in.ReporterEmail, Disclosure: in.Disclosure, EmbargoRequested: in.EmbargoRequested, Credit: in.Credit,
		Reference: in.Reference, SignalID: in.SignalID, Received: s.now().UTC()}
	r.ReceivedOn, r.AckDue = received(pol, r.Received)
	queue := pol.QueueCap
	if queue == 0 {
		queue = vigil.DefaultIntakeQueue
	}
	if err := s.Store.CreateReport(ctx, r, atts, tokenHash, queue); err != nil {
		return nil, err
	}
	return r, nil
}

// sniff refuses an attachment whose bytes say it is something other than what it claims, or something a browser
// would render as a page: a report's evidence is never HTML or script, whatever its name says.
func sniff(i int, a vigil.AttachmentInput) error {
	got, _, _ := strings.Cut(http.DetectContentType(a.Data), ";")
	ok := got == a.ContentType
	switch a.ContentType {
	case "text/plain":
		ok = got == "text/plain"
	case "application/octet-stream", "application/zip":
		// Binary evidence (a pcap, a firmware dump, an archive): anything but what a browser would render.
		ok = !strings.HasPrefix(got, "text/") || got == "text/plain"
		if a.ContentType == "application/zip" {
			ok = got == "application/zip"
		}
	}
	if !ok {
		return vigil.Errorf(vigil.EINVALID, "attachments[%d]: %s is declared %s but its content is %s", i, a.Name, a.ContentType, got)
	}
	// The sniffer knows HTML but not SVG or other XML: a text or binary file that opens with a tag is markup.
	if got == "text/plain" && bytes.HasPrefix(bytes.TrimLeft(a.Data, " \t\r\n\ufeff"), []byte("<")) {
		return vigil.Errorf(vigil.EINVALID, "attachments[%d]: %s looks like markup (HTML, SVG or XML): attach it inside a .zip", i, a.Name)
	}
	return nil
}

// Submit files a researcher's report from the public page or API. Anyone may call it: it acts as a reporter,
// whoever the context says, so a signed-in colleague's permissions never reach a public form.
func (s *Service) Submit(ctx context.Context, in *vigil.ReportInput) (*vigil.Report, string, error) {
	if in.Source != "" && in.Source != vigil.ReportResearcher {
		return nil, "", vigil.Errorf(vigil.EINVALID, "source: the public report takes researcher reports only")
	}
	in.SignalID = 0
	secret, hash := newToken()
	r, err := s.file(vigil.WithActor(ctx, vigil.ReporterActor("public")), in, hash)
	if err != nil {
		return nil, "", err
	}
	return r, secret, nil
}

// Add files a report from another source. Needs PermIntake.
func (s *Service) Add(ctx context.Context, in *vigil.ReportInput) (*vigil.Report, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermIntake); err != nil {
		return nil, err
	}
	if in.Source == "" || in.Source == vigil.ReportResearcher {
		return nil, vigil.Errorf(vigil.EINVALID, "source: want complaint, service, isao, cisa or internal (researchers use the public report page)")
	}
	return s.file(ctx, in, "")
}

// FileSignals files a report for every cybersecurity signal (a CSAF advisory naming one of our devices, which
// the intelligence import records) that has none yet, so that each is triaged instead of sitting in a list. The
// intelligence service calls it after every import; `vigil intake signals` runs it by hand. Needs PermIntake.
// It returns the reports filed.
func (s *Service) FileSignals(ctx context.Context) ([]*vigil.Report, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermIntake); err != nil {
		return nil, err
	}
	filed := []*vigil.Report{}
	for {
		sigs, err := s.Store.UnreportedSignals(ctx, 200)
		if err != nil || len(sigs) == 0 {
			return filed, err
		}
		for _, sg := range sigs {
			in := &vigil.ReportInput{Source: vigil.ReportCSAF, DeviceID: sg.DeviceID, SignalID: sg.ID, Reference: vigil.Clip(vigil.MaxName, sg.Document),
				Title: vigil.Clip(vigil.MaxReportTitle, fmt.Sprintf("CSAF %s names %s (%s)", sg.Document, sg.Device, sg.Vuln)),
				Description: fmt.Sprintf("The CSAF advisory %s, released %s, names %s by its %s: %q. Vulnerability: %s. Triage it: does it affect our device, and which versions?",
					sg.Document, sg.ReleaseDate, sg.Device, sg.MatchedBy, sg.Matched, sg.Vuln)}
			r, err := s.file(ctx, in, "")
			if vigil.ErrorCode(err) == vigil.ECONFLICT {
				continue // filed meanwhile by another server
			} else if err != nil {
				return filed, fmt.Errorf("signal %d (%s): %w", sg.ID, sg.Document, err)
			}
			filed = append(filed, r)
		}
	}
}

var errLink = vigil.Errorf(vigil.EUNAUTHORIZED, "this follow-up link is not valid (it may have been revoked): write to the contact in /.well-known/security.txt")

// Follow is the reporter's view through a follow-up token.
func (s *Service) Follow(ctx context.Context, token string) (*vigil.ReporterView, error) {
	if !validToken(token) {
		return nil, errLink
	}
	r, ms, err := s.Store.FollowReport(ctx, tokenHash(token))
	if vigil.ErrorCode(err) == vigil.ENOTFOUND {
		return nil, errLink
	} else if err != nil {
		return nil, err
	}
	v := &vigil.ReporterView{Number: r.Number, Title: r.Title, Product: r.Product, Status: r.Status, Resolution: string(r.Resolution),
		Received: r.Received, Acknowledged: r.Acknowledged, Coordination: make([]vigil.Disclosure, 0, len(r.Coordination)),
		Messages: make([]vigil.ReportMessage, 0, len(ms))}
	for _, d := range r.Coordination {
		v.Coordination = append(v.Coordination, d.Disclosure) // without the case, the reason or who recorded it
	}
	for _, m := range ms {
		m.Author = "" // staff names stay inside
		v.Messages = append(v.Messages, m)
	}
	return v, nil
}

// Reply adds the reporter's message through a follow-up token.
func (s *Service) Reply(ctx context.Context, token, body string) error {
	if !validToken(token) {
		return errLink
	}
	if strings.TrimSpace(body) == "" {
		return vigil.Errorf(vigil.EINVALID, "message: required")
	}
	err := s.Store.ReporterReply(vigil.WithActor(ctx, vigil.ReporterActor("follow-up")), tokenHash(token), body)
	if vigil.ErrorCode(err) == vigil.EUNAUTHORIZED {
		return errLink
	}
	return err
}

// Products lists the devices a reporter may pick. Anyone may call it.
func (s *Service) Products(ctx context.Context) ([]vigil.ReportProduct, error) {
	return s.Store.MarketedProducts(ctx)
}

func read(ctx context.Context) error {
	_, err := vigil.Authorize(ctx, vigil.PermRead)
	return err
}

// Reports lists the inbox. Needs PermRead.
func (s *Service) Reports(ctx context.Context, f vigil.ReportFilter) ([]*vigil.Report, error) {
	if err := read(ctx); err != nil {
		return nil, err
	}
	for _, st := range f.Statuses {
		if err := st.Validate(); err != nil {
			return nil, err
		}
	}
	if f.Source != "" {
		if err := f.Source.Validate(); err != nil {
			return nil, err
		}
	}
	return s.Store.Reports(ctx, f)
}

// Report returns one report. Needs PermRead.
func (s *Service) Report(ctx context.Context, id int64) (*vigil.Report, error) {
	if err := read(ctx); err != nil {
		return nil, err
	}
	return s.Store.Report(ctx, id)
}

// Messages returns a report's thread. Needs PermRead.
func (s *Service) Messages(ctx context.Context, id int64) ([]vigil.ReportMessage, error) {
	if err := read(ctx); err != nil {
		return nil, err
	}
	if _, err := s.Store.Report(ctx, id); err != nil {
		return nil, err
	}
	return s.Store.ReportMessages(ctx, id)
}

// Attachment returns one attachment with its bytes. Needs PermRead (staff only: a reporter's link never reaches it).
func (s *Service) Attachment(ctx context.Context, reportID, attachmentID int64) (*vigil.Attachment, error) {
	if err := read(ctx); err != nil {
		return nil, err
	}
	return s.Store.Attachment(ctx, reportID, attachmentID)
}

// step checks a workflow step on the report as stored and applies it.
func (s *Service) step(ctx context.Context, id int64, to vigil.ReportStatus, ch vigil.ReportChange) error {
	if _, err := vigil.Authorize(ctx, vigil.PermIntake); err != nil {
		return err
	}
	r, err := s.Store.Report(ctx, id)
	if err != nil {
		return err
	}
	if !r.Status.CanMoveTo(to) {
		return vigil.Errorf(vigil.ECONFLICT, "report %s is %s: it cannot move to %s (%s)", r.Number, r.Status, to, nextSteps(r.Status))
	}
	ch.From, ch.To = r.Status, to
	if err := s.Store.ChangeReport(ctx, id, ch); err != nil {
		return err
	}
	return s.mailReporter(ctx, r, ch)
}

func nextSteps(st vigil.ReportStatus) string {
	if st == vigil.ReportClosed {
		return "a closed report stays closed"
	}
	i := slices.Index(vigil.ReportStatuses, st)
	return "next: " + string(vigil.ReportStatuses[i+1]) + ", or closed with a resolution"
}

func message(field, body string) error {
	if strings.TrimSpace(body) == "" {
		return vigil.Errorf(vigil.EINVALID, "%s: required (the reporter reads it)", field)
	}
	return vigil.Text(field, body, vigil.MaxReportText)
}

// Acknowledge moves a received report to acknowledged with a message to the reporter. Needs PermIntake.
func (s *Service) Acknowledge(ctx context.Context, id int64, msg string) error {
	if err := message("message", msg); err != nil {
		return err
	}
	return s.step(ctx, id, vigil.ReportAcknowledged, vigil.ReportChange{Action: "intake.ack", Message: msg})
}

// Triage links an acknowledged report to one or more findings or cases. Needs PermIntake.
func (s *Service) Triage(ctx context.Context, id int64, links []vigil.ReportLink, msg string) error {
	if err := message("message", msg); err != nil {
		return err
	}
	if len(links) == 0 {
		return vigil.Errorf(vigil.EINVALID, "links: triage links the report to at least one finding or case (or close it with a resolution)")
	}
	if _, err := vigil.Authorize(ctx, vigil.PermIntake); err != nil {
		return err
	}
	r, err := s.Store.Report(ctx, id)
	if err != nil {
		return err
	}
	if !r.Status.CanMoveTo(vigil.ReportTriaged) {
		return vigil.Errorf(vigil.ECONFLICT, "report %s is %s: it cannot move to %s (%s)", r.Number, r.Status, vigil.ReportTriaged, nextSteps(r.Status))
	}
	links = slices.Clone(links)
	for i := range links {
		if links[i].Kind != vigil.LinkCase {
			continue
		}
		if links[i].ID, err = s.caseOf(ctx, r, i, links[i]); err != nil {
			return err
		}
	}
	return s.step(ctx, id, vigil.ReportTriaged, vigil.ReportChange{Action: "intake.triage", Links: links, Message: msg})
}

// caseOf is the case a triage link names, through the case service: an existing case, whose D0 moves to the
// report's receipt when the report came first (D0 is the earliest evidence of learning); or, for a link without
// an id, the device's case of the vulnerability, else a new case learned on the day the report was received.
func (s *Service) caseOf(ctx context.Context, r *vigil.Report, i int, l vigil.ReportLink) (int64, error) {
	if s.Cases == nil {
		if l.ID == 0 {
			return 0, vigil.Errorf(vigil.EINVALID, "links[%d].id: required (no case service to open a case with)", i)
		}
		return l.ID, nil
	}
	evidence := fmt.Sprintf("report %s received %s", r.Number, r.ReceivedOn)
	var c *vigil.Case
	if l.ID != 0 {
		v, err := s.Cases.CaseView(ctx, l.ID, vigil.Date{})
		if vigil.ErrorCode(err) == vigil.ENOTFOUND {
			return 0, vigil.Errorf(vigil.EINVALID, "links[%d]: case %d does not exist", i, l.ID)
		} else if err != nil {
			return 0, err
		}
		c = v.Case
	} else {
		dev := l.DeviceID
		if dev == 0 {
			dev = r.DeviceID
		}
		if dev == 0 {
			return 0, vigil.Errorf(vigil.EINVALID, "links[%d].device_id: the report names no marketed device: say which device the case is on", i)
		}
		vuln := strings.TrimSpace(l.Vulnerability)
		if vuln == "" {
			vuln = r.Number // a provisional id until a CVE is assigned
		}
		found, err := s.Cases.Cases(ctx, vigil.CaseFilter{DeviceID: dev, Vuln: vuln, States: vigil.CaseStates})
		if err != nil {
			return 0, err
		}
		if len(found) == 0 {
			nc := &vigil.Case{DeviceID: dev, Vulnerability: vuln, Provisional: vuln == r.Number, Learned: r.ReceivedOn, LearnedHow: vigil.LearnedReport, LearnedEvidence: evidence}
			if err := s.Cases.OpenCase(ctx, nc, fmt.Sprintf("triage of report %s: %s", r.Number, r.Title)); err != nil {
				return 0, fmt.Errorf("links[%d]: %w", i, err)
			}
			return nc.ID, nil
		}
		c = found[0]
	}
	if r.ReceivedOn.Before(c.Learned) {
		if err := s.Cases.SetLearned(ctx, c.ID, r.ReceivedOn, fmt.Sprintf("report %s came before the case's D0 (%s)", r.Number, c.Learned), evidence); err != nil {
			return 0, err
		}
	}
	return c.ID, nil
}

// Advance moves a report on to remediation or disclosure. Needs PermIntake.
func (s *Service) Advance(ctx context.Context, id int64, to vigil.ReportStatus, msg string) error {
	if to != vigil.ReportRemediation && to != vigil.ReportDisclosure {
		return vigil.Errorf(vigil.EINVALID, "status: advance to remediation or disclosure (acknowledge, triage and close have their own steps)")
	}
	if err := message("message", msg); err != nil {
		return err
	}
	return s.step(ctx, id, to, vigil.ReportChange{Action: "intake.advance", Message: msg})
}

// Close closes a report with a resolution and the reason the reporter reads. Needs PermIntake.
func (s *Service) Close(ctx context.Context, id int64, res vigil.ReportResolution, reason string) error {
	if err := res.Validate(); err != nil {
		return err
	}
	if err := message("reason", reason); err != nil {
		return err
	}
	return s.step(ctx, id, vigil.ReportClosed, vigil.ReportChange{Action: "intake.close", Resolution: res, Message: reason, Reason: reason})
}

// Message sends the reporter a message. Needs PermIntake.
func (s *Service) Message(ctx context.Context, id int64, body string) error {
	if err := message("message", body); err != nil {
		return err
	}
	return s.keep(ctx, id, vigil.ReportChange{Action: "intake.message", Message: body})
}

// keep applies a change that leaves the status as it is.
func (s *Service) keep(ctx context.Context, id int64, ch vigil.ReportChange) error {
	if _, err := vigil.Authorize(ctx, vigil.PermIntake); err != nil {
		return err
	}
	r, err := s.Store.Report(ctx, id)
	if err != nil {
		return err
	}
	ch.From, ch.To = r.Status, r.Status
	if err := s.Store.ChangeReport(ctx, id, ch); err != nil {
		return err
	}
	return s.mailReporter(ctx, r, ch)
}

// mailReporter e-mails the reporter the message a change just sent them, when they left an address. The message
// is keyed by its id in the thread, so it is queued once whatever retries. The thread is the record: when queueing
// fails the message stands, and the error says only its e-mail is missing.
func (s *Service) mailReporter(ctx context.Context, r *vigil.Report, ch vigil.ReportChange) error {
	if s.Outbox == nil || strings.TrimSpace(ch.Message) == "" {
		return nil
	}
	if _, err := vigil.ParseMailAddress(r.ReporterEmail); err != nil {
		return nil // anonymous, or no address mail can go to: the link is the way
	}
	msgs, err := s.Store.ReportMessages(ctx, r.ID)
	if err != nil {
		return err
	}
	var last *vigil.ReportMessage
	for i := range msgs {
		if msgs[i].From == "psirt" && msgs[i].Body == ch.Message {
			last = &msgs[i]
		}
	}
	if last == nil {
		return nil
	}
	what := "A message about your report"
	switch ch.To {
	case vigil.ReportAcknowledged:
		if ch.From == vigil.ReportReceived {
			what = "Your report is acknowledged"
		}
	case vigil.ReportClosed:
		what = "Your report is closed"
	}
	subject := fmt.Sprintf("[%s] %s: %s", r.Number, what, vigil.Clip(120, strings.Join(strings.Fields(r.Title), " ")))
	text := fmt.Sprintf("%s\n\n%s\n\n-- \nReport %s (%s) is now %s. Reply through the follow-up link you were given when you filed it: it shows the whole thread. Do not reply to this e-mail.\n",
		what+".", last.Body, r.Number, r.Title, ch.To)
	if _, err := s.Outbox.Enqueue(ctx, []vigil.MailInput{{To: r.ReporterEmail, Subject: subject, Text: text,
		Key: fmt.Sprintf("report:%d:message:%d", r.ID, last.ID), About: "report:" + r.Number}}); err != nil {
		return vigil.Errorf(vigil.EUNAVAILABLE, "the message to the reporter of %s is recorded (they read it through their link), but its e-mail could not be queued: %s",
			r.Number, vigil.ErrorMessage(err))
	}
	return nil
}

// RevokeLink stops the follow-up link working. Needs PermIntake and a reason.
func (s *Service) RevokeLink(ctx context.Context, id int64, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	return s.keep(ctx, id, vigil.ReportChange{Action: "intake.link.revoke", SetToken: true, Reason: reason})
}

// NewLink replaces the follow-up link (the old one stops working) and returns the new secret, shown once.
func (s *Service) NewLink(ctx context.Context, id int64, reason string) (string, error) {
	if strings.TrimSpace(reason) == "" {
		return "", vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	secret, hash := newToken()
	if err := s.keep(ctx, id, vigil.ReportChange{Action: "intake.link.new", SetToken: true, TokenHash: hash, Reason: reason}); err != nil {
		return "", err
	}
	return secret, nil
}

// Clocks lists the open acknowledgement clocks, soonest first. Needs PermRead.
func (s *Service) Clocks(ctx context.Context) ([]vigil.IntakeClock, error) {
	return s.clocks(ctx, vigil.Date{})
}

// clocks lists the acknowledgement clocks open on asOf (today when zero): reports received by then and not yet
// acknowledged that day.
func (s *Service) clocks(ctx context.Context, asOf vigil.Date) ([]vigil.IntakeClock, error) {
	if err := read(ctx); err != nil {
		return nil, err
	}
	pol, err := s.Store.CVDPolicy(ctx)
	if vigil.ErrorCode(err) == vigil.ENOTFOUND {
		return []vigil.IntakeClock{}, nil // no organization, no report
	} else if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(pol.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	f := vigil.ReportFilter{Statuses: []vigil.ReportStatus{vigil.ReportReceived}, Limit: 1000}
	if asOf.IsZero() {
		asOf = vigil.DateOf(s.now(), loc)
	} else {
		f.Statuses = nil // a report acknowledged since may have been waiting that day
	}
	rs, err := s.Store.Reports(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]vigil.IntakeClock, 0, len(rs))
	for _, r := range rs {
		if r.ReceivedOn.After(asOf) || !r.Acknowledged.IsZero() && !vigil.DateOf(r.Acknowledged, loc).After(asOf) {
			continue
		}
		left := r.AckDue.Sub(asOf)
		out = append(out, vigil.IntakeClock{ReportID: r.ID, Number: r.Number, DeviceID: r.DeviceID, Title: r.Title, Product: r.Product, Due: r.AckDue,
			DaysLeft: left, Overdue: left < 0})
	}
	slices.SortStableFunc(out, func(a, b vigil.IntakeClock) int { return a.Due.Sub(b.Due) })
	return out, nil
}

// Deadlines lists the acknowledgement clocks as deadlines (clock cvd_ack), under the same filter as every other
// clock, so that `vigil deadlines`, GET /api/v1/deadlines and the deadlines screen show them alongside. Needs
// PermRead.
func (s *Service) Deadlines(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error) {
	clocks, err := s.clocks(ctx, f.AsOf)
	if err != nil {
		return nil, err
	}
	out := []cases.Deadline{}
	for _, c := range clocks {
		if f.DeviceID != 0 && c.DeviceID != f.DeviceID || f.OverdueOnly && !c.Overdue || f.Within > 0 && c.DaysLeft > f.Within {
			continue
		}
		standing := "pending"
		if c.Overdue {
			standing = "overdue"
		}
		out = append(out, cases.Deadline{Report: c.Number, Device: c.Product, Vulnerability: c.Title, Clock: AckClock, Due: c.Due, DaysLeft: c.DaysLeft,
			Overdue: c.Overdue, Status: "awaiting acknowledgement", Standing: standing, What: "CVD policy: acknowledge the reporter"})
	}
	return out, nil
}

// AckClock names the acknowledgement clock among the deadlines.
const AckClock = "cvd_ack"

// Policy returns the published CVD policy. Anyone may read it: it is what security.txt publishes.
func (s *Service) Policy(ctx context.Context) (*vigil.CVDPolicy, error) {
	return s.Store.CVDPolicy(ctx)
}

// SetPolicy changes the published CVD policy. Needs PermPortfolio (it is an organization setting) and a reason.
func (s *Service) SetPolicy(ctx context.Context, p *vigil.CVDPolicy, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if !p.Expires.IsZero() && !p.Expires.After(s.now()) {
		return vigil.Errorf(vigil.EINVALID, "expires: %s is not in the future", p.Expires.UTC().Format(time.RFC3339))
	}
	if !p.Expires.IsZero() && p.Expires.Sub(s.now()) > 366*24*time.Hour {
		return vigil.Errorf(vigil.EINVALID, "expires: %s is more than a year away (RFC 9116 §2.5.5)", p.Expires.UTC().Format(time.RFC3339))
	}
	return s.Store.SetCVDPolicy(ctx, p, reason)
}
