package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

// The public door (issue 12): the report page and API a researcher uses without an account, the follow-up page
// their secret link opens, security.txt and the CVD policy page, and the PSIRT's inbox and report page. Every
// public write passes, in order: the per-address and global rate limits (before the body is read), a bounded
// body, CSRF (a double-submit cookie for the page; a JSON content type, which a cross-site form cannot send, for
// the API), the honeypot, and the service's own validation; a refusal at any step stores nothing.

// reportCSRFCookie carries the public forms' double-submit token (there is no session to hold one).
const reportCSRFCookie = "vigil_report_csrf"

// honeypot is a form field people never see (hidden by the stylesheet, labelled for screen readers to leave
// empty): a bot that fills every field gives itself away without a third-party captcha.
const honeypot = "website"

// Public write bounds: a report's text fields fit in 1 MiB; its attachments add at most MaxAttachmentsTotal (and
// base64 in JSON a third more).
const (
	maxReportForm = vigil.MaxAttachmentsTotal + 1<<20
	maxReportJSON = vigil.MaxAttachmentsTotal*4/3 + 1<<20
	maxReplyForm  = 64 << 10
)

// reportGate holds the public write limits: per client address, and for everyone together, so that a flood from
// many addresses is bounded too. A refusal costs no database work.
type reportGate struct {
	addr, all *limiter
}

func newReportGate(perAddr, perHour int, clock vigil.Clock) *reportGate {
	return &reportGate{addr: newLimiter(perAddr, time.Hour, clock), all: newLimiter(perHour, time.Hour, clock)}
}

// admitReport takes one token from the address's bucket and one from the global one in this server's memory (a
// refusal there costs no database work), then counts the write in the database's hour window of each, which
// every server on the database shares: with several servers behind a load balancer the limits hold for them
// together, not once per server. Only a digest of the address is stored.
func (s *Server) admitReport(r *http.Request) error {
	addr := s.clientAddr(r)
	if !s.reports.addr.allow(addr) {
		return &busyError{what: "too many reports from your address", after: time.Hour / time.Duration(s.opt.ReportsPerAddr)}
	}
	if !s.reports.all.allow("") {
		return &busyError{what: "too many reports arrive right now", after: time.Hour / time.Duration(s.opt.ReportsPerHour)}
	}
	if s.svc.Rates == nil {
		return nil
	}
	now := s.opt.Clock.Now().UTC()
	window := now.Truncate(time.Hour)
	sum := sha256.Sum256([]byte(addr))
	for _, l := range []struct {
		bucket, what string
		limit        int
	}{
		{"report-addr:" + hex.EncodeToString(sum[:16]), "too many reports from your address", s.opt.ReportsPerAddr},
		{"report-all", "too many reports arrive right now", s.opt.ReportsPerHour},
	} {
		n, err := s.svc.Rates.Hit(r.Context(), l.bucket, window, window.Add(-time.Hour))
		if err != nil {
			return err
		}
		if n > l.limit {
			return &busyError{what: l.what, after: window.Add(time.Hour).Sub(now)}
		}
	}
	return nil
}

func (s *Server) intake() (vigil.IntakeService, error) {
	if s.svc.Intake == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "reporting is not available on this server")
	}
	return s.svc.Intake, nil
}

// publicCSRF returns the token a public form carries: the session's when a colleague is signed in (the session's
// check in authenticate already covers their writes), else a double-submit cookie's, set here.
func (s *Server) publicCSRF(w http.ResponseWriter, r *http.Request) string {
	if sess := sessionFrom(r.Context()); sess != nil {
		return sess.CSRF
	}
	if c, err := r.Cookie(reportCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: reportCSRFCookie, Value: tok, Path: "/report", HttpOnly: true, Secure: s.opt.SecureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: 12 * 3600})
	return tok
}

// publicCSRFOK checks a public form: refused when the browser marks it cross-site, accepted when a session
// already passed its own check, else the field must equal the cookie.
func (s *Server) publicCSRFOK(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return vigil.Errorf(vigil.EFORBIDDEN, "CSRF check failed: reload the report page and try again")
	}
	if sessionFrom(r.Context()) != nil {
		return nil
	}
	c, err := r.Cookie(reportCSRFCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return vigil.Errorf(vigil.EFORBIDDEN, "CSRF check failed: reload the report page and try again")
	}
	return nil
}

type reportFormData struct {
	CSRF     string
	Products []vigil.ReportProduct
	Policy   *vigil.CVDPolicy
	In       vigil.ReportInput
	Max      map[string]int
	Types    string
	// Filed is the report just filed and FollowURL its secret link, shown once.
	Filed     *vigil.Report
	FollowURL string
}

var reportMax = map[string]int{"title": vigil.MaxReportTitle, "text": vigil.MaxReportText, "name": vigil.MaxName,
	"files": vigil.MaxAttachments, "mib": vigil.MaxAttachmentSize >> 20, "total": vigil.MaxAttachmentsTotal >> 20}

func (s *Server) reportForm(w http.ResponseWriter, r *http.Request, status int, in vigil.ReportInput, msg string) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	products, err := svc.Products(r.Context())
	if err != nil {
		return err
	}
	pol, err := svc.Policy(r.Context())
	if err != nil && vigil.ErrorCode(err) != vigil.ENOTFOUND {
		return err
	}
	d := reportFormData{CSRF: s.publicCSRF(w, r), Products: products, Policy: pol, In: in, Max: reportMax, Types: strings.Join(vigil.AttachmentTypes, ", ")}
	s.render(w, r, status, "report", page{Title: "Report a vulnerability", Error: msg, Data: d})
	return nil
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) error {
	return s.reportForm(w, r, http.StatusOK, vigil.ReportInput{}, "")
}

// reportSubmit files the public form. A refusal re-renders the form with what was typed (never the files) and
// says why, with the status the error maps to.
func (s *Server) reportSubmit(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	if err := s.admitReport(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxReportForm)
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.publicCSRFOK(r); err != nil {
		return err
	}
	in, err := reportInput(r)
	if err == nil && strings.Join(r.PostForm[honeypot], "") != "" {
		err = vigil.Errorf(vigil.EINVALID, "%s: leave this field empty (it is there to catch automated submissions)", honeypot)
	}
	var filed *vigil.Report
	var token string
	if err == nil {
		filed, token, err = svc.Submit(r.Context(), &in)
	}
	if err != nil {
		if code := vigil.ErrorCode(err); code == vigil.EINTERNAL {
			return err
		}
		in.Attachments = nil
		return s.reportForm(w, r, StatusOf(err), in, vigil.ErrorMessage(err))
	}
	pol, _ := svc.Policy(r.Context())
	d := reportFormData{Filed: filed, FollowURL: s.followURL(pol, token), Policy: pol}
	s.render(w, r, http.StatusCreated, "report", page{Title: "Report received", Data: d})
	return nil
}

// followURL is the reporter's secret link: absolute when the policy names the public base URL.
func (s *Server) followURL(pol *vigil.CVDPolicy, token string) string {
	p := "/report/follow/" + token
	if pol != nil && pol.BaseURL != "" {
		return pol.BaseURL + p
	}
	return p
}

// reportInput reads the public form's fields and files.
func reportInput(r *http.Request) (vigil.ReportInput, error) {
	f := r.PostFormValue
	in := vigil.ReportInput{Product: f("product"), Version: f("version"), Title: f("title"), Description: f("description"), Impact: f("impact"),
		Steps: f("steps"), CVSS: strings.TrimSpace(f("cvss")), ReporterName: f("reporter_name"), ReporterEmail: f("reporter_email"),
		Disclosure: vigil.DisclosurePreference(f("disclosure")), Credit: f("credit")}
	if v := f("device_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return in, vigil.Errorf(vigil.EINVALID, "device_id: %q is not a device", clipText(20, v))
		}
		in.DeviceID = id
	}
	var err error
	if in.EmbargoRequested, err = formDate(r, "embargo_requested"); err != nil {
		return in, err
	}
	if r.MultipartForm == nil {
		return in, nil
	}
	files := r.MultipartForm.File["attachments"]
	if len(files) > vigil.MaxAttachments {
		return in, vigil.Errorf(vigil.EINVALID, "attachments: %d files, more than %d", len(files), vigil.MaxAttachments)
	}
	for i, fh := range files {
		if fh.Filename == "" && fh.Size == 0 {
			continue // the empty file input of a form sent without files
		}
		data, err := readPart(fh)
		if err != nil {
			return in, vigil.Errorf(vigil.EINVALID, "attachments[%d]: %v", i, err)
		}
		ct, _, _ := strings.Cut(fh.Header.Get("Content-Type"), ";")
		in.Attachments = append(in.Attachments, vigil.AttachmentInput{Name: fh.Filename, ContentType: strings.TrimSpace(ct), Data: data})
	}
	return in, nil
}

// readPart reads one uploaded file, at most one byte past the attachment limit (so the service can say it is too
// large).
func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, vigil.MaxAttachmentSize+1))
}

// reportOut is the API's answer to a filed report: the number and the secret follow-up link, shown once.
type reportOut struct {
	Number   string             `json:"number"`
	Status   vigil.ReportStatus `json:"status"`
	Received time.Time          `json:"received"`
	AckDue   vigil.Date         `json:"ack_due"`
	Token    string             `json:"token"`
	FollowUp string             `json:"follow_up"`
}

func (s *Server) apiReportSubmit(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	if err := s.admitReport(r); err != nil {
		return err
	}
	// A cross-site page can post a form or text/plain without asking; application/json it cannot.
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/json" {
		return vigil.Errorf(vigil.EINVALID, "Content-Type: want application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxReportJSON)
	var in vigil.ReportInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	filed, token, err := svc.Submit(r.Context(), &in)
	if err != nil {
		return err
	}
	pol, _ := svc.Policy(r.Context())
	writeJSON(w, http.StatusCreated, reportOut{Number: filed.Number, Status: filed.Status, Received: filed.Received, AckDue: filed.AckDue,
		Token: token, FollowUp: s.followURL(pol, token)})
	return nil
}

type followData struct {
	CSRF   string
	Token  string
	View   *vigil.ReporterView
	Max    int
	Policy *vigil.CVDPolicy
}

func (s *Server) followPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderFollow(w, r, http.StatusOK, "")
}

func (s *Server) renderFollow(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	tok := chiParam(r, "token")
	v, err := svc.Follow(r.Context(), tok)
	if err != nil {
		return linkError(err)
	}
	pol, _ := svc.Policy(r.Context())
	s.render(w, r, status, "report_follow", page{Title: "Report " + v.Number, Error: msg,
		Data: followData{CSRF: s.publicCSRF(w, r), Token: tok, View: v, Max: vigil.MaxReportText, Policy: pol}})
	return nil
}

func (s *Server) followReply(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	if err := s.admitReport(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxReplyForm)
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.publicCSRFOK(r); err != nil {
		return err
	}
	if err := svc.Reply(r.Context(), chiParam(r, "token"), r.PostFormValue("message")); err != nil {
		if c := vigil.ErrorCode(err); c == vigil.EINVALID || c == vigil.ECONFLICT {
			return s.renderFollow(w, r, StatusOf(err), vigil.ErrorMessage(err))
		}
		return linkError(err)
	}
	return redirect(w, r, "/report/follow/"+url.PathEscape(chiParam(r, "token"))+"#thread", "reply")
}

// linkError shows a bad follow-up link as a page that says so: a 401 would send the reporter to staff sign-in.
func linkError(err error) error {
	if vigil.ErrorCode(err) == vigil.EUNAUTHORIZED {
		return vigil.Errorf(vigil.ENOTFOUND, "%s", vigil.ErrorMessage(err))
	}
	return err
}

type followIn struct {
	Token string `json:"token"`
}

type replyIn struct {
	Token   string `json:"token"`
	Message string `json:"message"`
}

func (s *Server) apiFollow(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	var in followIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := svc.Follow(r.Context(), in.Token)
	return reply(w, http.StatusOK, v, err)
}

func (s *Server) apiReply(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	if err := s.admitReport(r); err != nil {
		return err
	}
	var in replyIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := svc.Reply(r.Context(), in.Token, in.Message); err != nil {
		return err
	}
	v, err := svc.Follow(r.Context(), in.Token)
	return reply(w, http.StatusCreated, v, err)
}

// securityTxt serves RFC 9116's file from the published policy, cleartext-signed when an OpenPGP key is
// configured. Without an expiry or a contact there is no valid
// file to serve (both fields are required), so it answers 404 saying what to set.
func (s *Server) securityTxt(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	pol, err := svc.Policy(r.Context())
	if err != nil {
		return err
	}
	fingerprint := ""
	if s.svc.OpenPGP != nil {
		fingerprint = s.svc.OpenPGP.Fingerprint()
	}
	body, err := SecurityTxt(pol, fingerprint)
	if err != nil {
		return err
	}
	out := []byte(body)
	if s.svc.OpenPGP != nil {
		// RFC 9116 §2.3: the file itself is the cleartext-signed message, at the same address.
		if out, err = s.svc.OpenPGP.ClearSign(out, s.opt.Clock.Now()); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write(out)
	return err
}

// SecurityTxt writes the RFC 9116 file for a policy: Contact (the organization's CVD contact, and the report
// page), Expires, Preferred-Languages, Canonical and Policy (both need the public base URL), and Encryption when
// the organization has an OpenPGP key (fingerprint, "" for none): the key that signs the file and the CSAF
// documents, published beside them, is the one a researcher encrypts a report to. ENOTFOUND saying what is
// missing when the file would lack a required field.
func SecurityTxt(p *vigil.CVDPolicy, fingerprint string) (string, error) {
	var contacts []string
	if c := strings.TrimSpace(p.Contact); c != "" {
		switch {
		case strings.HasPrefix(c, "https://"), strings.HasPrefix(c, "mailto:"), strings.HasPrefix(c, "tel:"):
		case strings.Contains(c, "@") && !strings.ContainsAny(c, " :/"):
			c = "mailto:" + c
		default:
			c = ""
		}
		if c != "" && !strings.ContainsAny(c, "\r\n") {
			contacts = append(contacts, c)
		}
	}
	if p.BaseURL != "" {
		contacts = append(contacts, p.BaseURL+"/report")
	}
	switch {
	case len(contacts) == 0:
		return "", vigil.Errorf(vigil.ENOTFOUND, "security.txt is not published: set the organization's CVD contact (an e-mail address or https URL) or the base URL (vigil intake policy set --base-url)")
	case p.Expires.IsZero():
		return "", vigil.Errorf(vigil.ENOTFOUND, "security.txt is not published: set its expiry (vigil intake policy set --expires)")
	}
	var b strings.Builder
	b.WriteString("# Vulnerability disclosure for " + oneLine(p.OrgName) + ". Reports are acknowledged within " + strconv.Itoa(p.AckDays) + " working days.\n")
	for _, c := range contacts {
		b.WriteString("Contact: " + c + "\n")
	}
	b.WriteString("Expires: " + p.Expires.UTC().Format(time.RFC3339) + "\n")
	if len(p.Languages) > 0 {
		b.WriteString("Preferred-Languages: " + strings.Join(p.Languages, ", ") + "\n")
	}
	if p.BaseURL != "" {
		b.WriteString("Canonical: " + p.BaseURL + "/.well-known/security.txt\n")
		b.WriteString("Policy: " + p.BaseURL + "/security/policy\n")
		b.WriteString("CSAF: " + p.BaseURL + "/.well-known/csaf/provider-metadata.json\n")
		if fingerprint != "" {
			b.WriteString("Encryption: " + p.BaseURL + "/.well-known/csaf/openpgp/" + fingerprint + ".asc\n")
		}
	}
	return b.String(), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type policyData struct {
	Policy   *vigil.CVDPolicy
	Steps    []vigil.ReportStatus
	Contact  string
	Expired  bool
	Products []vigil.ReportProduct
}

func (s *Server) policyPage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	pol, err := svc.Policy(r.Context())
	if err != nil {
		return err
	}
	products, err := svc.Products(r.Context())
	if err != nil {
		return err
	}
	d := policyData{Policy: pol, Steps: vigil.ReportStatuses, Expired: !pol.Expires.IsZero() && !pol.Expires.After(s.opt.Clock.Now()), Products: products}
	s.render(w, r, http.StatusOK, "report_policy", page{Title: "Coordinated vulnerability disclosure policy", Data: d})
	return nil
}

// ---- The PSIRT's side.

type inboxData struct {
	Awaiting, Open, Closed []*vigil.Report
	Clocks                 map[int64]vigil.IntakeClock
	Source                 string
	Sources                []vigil.ReportSource
}

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	src := vigil.ReportSource(r.URL.Query().Get("source"))
	list := func(st ...vigil.ReportStatus) ([]*vigil.Report, error) {
		return svc.Reports(r.Context(), vigil.ReportFilter{Statuses: st, Source: src, Limit: 200})
	}
	d := inboxData{Source: string(src), Sources: vigil.ReportSources, Clocks: map[int64]vigil.IntakeClock{}}
	if d.Awaiting, err = list(vigil.ReportReceived); err != nil {
		return err
	}
	if d.Open, err = list(vigil.ReportAcknowledged, vigil.ReportTriaged, vigil.ReportRemediation, vigil.ReportDisclosure); err != nil {
		return err
	}
	if d.Closed, err = list(vigil.ReportClosed); err != nil {
		return err
	}
	clocks, err := svc.Clocks(r.Context())
	if err != nil {
		return err
	}
	for _, c := range clocks {
		d.Clocks[c.ReportID] = c
	}
	s.render(w, r, http.StatusOK, "intake", page{Title: "Reports", Nav: "intake", Data: d})
	return nil
}

type reportPageData struct {
	R           *vigil.Report
	Messages    []vigil.ReportMessage
	Clock       *vigil.IntakeClock
	Resolutions []vigil.ReportResolution
	Next        vigil.ReportStatus // the advance step open now (remediation or disclosure), if any
	NewLink     string             // a new follow-up link, shown once
}

func (s *Server) intakeReportPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderReport(w, r, http.StatusOK, "", "", "")
}

func (s *Server) renderReport(w http.ResponseWriter, r *http.Request, status int, notice, msg, newLink string) error {
	svc, id, err := withID(r, s.intake)
	if err != nil {
		return err
	}
	rep, err := svc.Report(r.Context(), id)
	if err != nil {
		return err
	}
	ms, err := svc.Messages(r.Context(), id)
	if err != nil {
		return err
	}
	d := reportPageData{R: rep, Messages: ms, Resolutions: vigil.ReportResolutions, NewLink: newLink}
	switch rep.Status {
	case vigil.ReportTriaged:
		d.Next = vigil.ReportRemediation
	case vigil.ReportRemediation:
		d.Next = vigil.ReportDisclosure
	case vigil.ReportReceived:
		clocks, err := svc.Clocks(r.Context())
		if err != nil {
			return err
		}
		for _, c := range clocks {
			if c.ReportID == id {
				d.Clock = &c
			}
		}
	}
	s.render(w, r, status, "intake_report", page{Title: rep.Number + " " + rep.Title, Nav: "intake", Notice: notice, Error: msg, Data: d})
	return nil
}

// reportAction runs one PSIRT form on a report and answers with the page: a refusal the user can fix (a missing
// message, a step out of order) is shown on the page with its status, anything else is the error page.
func (s *Server) reportAction(fn func(r *http.Request, svc vigil.IntakeService, id int64) error, done string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.intake()
		if err != nil {
			return err
		}
		id, err := idParam(r, "id")
		if err != nil {
			return err
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		if err := fn(r, svc, id); err != nil {
			if c := vigil.ErrorCode(err); c == vigil.EINVALID || c == vigil.ECONFLICT {
				return s.renderReport(w, r, StatusOf(err), "", vigil.ErrorMessage(err), "")
			}
			return err
		}
		return redirect(w, r, fmt.Sprintf("/intake/%d#thread", id), done)
	}
}

// formLinks reads triage links: finding ids and case ids, space- or comma-separated.
func formLinks(r *http.Request) ([]vigil.ReportLink, error) {
	var out []vigil.ReportLink
	for _, k := range []string{vigil.LinkFinding, vigil.LinkCase} {
		for _, f := range strings.FieldsFunc(r.PostFormValue(k+"s"), func(c rune) bool { return c == ',' || c == ' ' }) {
			id, err := strconv.ParseInt(strings.TrimPrefix(f, "#"), 10, 64)
			if err != nil || id <= 0 {
				return nil, vigil.Errorf(vigil.EINVALID, "%ss: %q is not an id", k, clipText(20, f))
			}
			out = append(out, vigil.ReportLink{Kind: k, ID: id})
		}
	}
	if r.PostFormValue("new_case") != "" {
		out = append(out, vigil.ReportLink{Kind: vigil.LinkCase, Vulnerability: strings.TrimSpace(r.PostFormValue("new_case_vuln"))})
	}
	return out, nil
}

func (s *Server) ackForm() handler {
	return s.reportAction(func(r *http.Request, svc vigil.IntakeService, id int64) error {
		return svc.Acknowledge(r.Context(), id, r.PostFormValue("message"))
	}, "report-ack")
}

func (s *Server) triageForm() handler {
	return s.reportAction(func(r *http.Request, svc vigil.IntakeService, id int64) error {
		links, err := formLinks(r)
		if err != nil {
			return err
		}
		return svc.Triage(r.Context(), id, links, r.PostFormValue("message"))
	}, "report-triage")
}

func (s *Server) advanceForm() handler {
	return s.reportAction(func(r *http.Request, svc vigil.IntakeService, id int64) error {
		return svc.Advance(r.Context(), id, vigil.ReportStatus(r.PostFormValue("to")), r.PostFormValue("message"))
	}, "report-step")
}

func (s *Server) messageForm() handler {
	return s.reportAction(func(r *http.Request, svc vigil.IntakeService, id int64) error {
		return svc.Message(r.Context(), id, r.PostFormValue("message"))
	}, "report-message")
}

func (s *Server) closeForm() handler {
	return s.reportAction(func(r *http.Request, svc vigil.IntakeService, id int64) error {
		return svc.Close(r.Context(), id, vigil.ReportResolution(r.PostFormValue("resolution")), r.PostFormValue("reason"))
	}, "report-closed")
}

// linkForm revokes the follow-up link, or replaces it and shows the new one once (on the page, never in a URL).
func (s *Server) linkForm(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.intake)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	reason := r.PostFormValue("reason")
	if r.PostFormValue("action") == "revoke" {
		if err := svc.RevokeLink(r.Context(), id, reason); err != nil {
			return err
		}
		return redirect(w, r, fmt.Sprintf("/intake/%d", id), "link-revoked")
	}
	tok, err := svc.NewLink(r.Context(), id, reason)
	if err != nil {
		return err
	}
	pol, _ := svc.Policy(r.Context())
	return s.renderReport(w, r, http.StatusOK, "A new follow-up link replaces the old one. Send it to the reporter; it is shown only now.", "", s.followURL(pol, tok))
}

// attachmentDownload serves an attachment to staff as a download: never inline, never sniffed, sandboxed if a
// browser opened it anyway.
func (s *Server) attachmentDownload(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.intake)
	if err != nil {
		return err
	}
	aid, err := idParam(r, "aid")
	if err != nil {
		return err
	}
	a, err := svc.Attachment(r.Context(), id, aid)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", attachmentDisposition(a.Name))
	h.Set("Content-Security-Policy", csp+"; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	w.Write(a.Data)
	return nil
}

// attachmentDisposition names the download: an ASCII fallback with anything unusual replaced, and the real name
// percent-encoded (RFC 6266), so a name can neither break the header nor smuggle a path.
func attachmentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || strings.ContainsRune(`"\/;%<>`, r) {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}

// ---- The PSIRT's API.

type reportsOut struct {
	Reports []*vigil.Report     `json:"reports"`
	Clocks  []vigil.IntakeClock `json:"clocks"`
}

func (s *Server) apiReports(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	f := vigil.ReportFilter{Source: vigil.ReportSource(r.URL.Query().Get("source"))}
	for _, st := range r.URL.Query()["status"] {
		f.Statuses = append(f.Statuses, vigil.ReportStatus(st))
	}
	rs, err := svc.Reports(r.Context(), f)
	if err != nil {
		return err
	}
	clocks, err := svc.Clocks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reportsOut{Reports: rs, Clocks: clocks})
	return nil
}

type reportDetail struct {
	*vigil.Report
	Messages []vigil.ReportMessage `json:"messages"`
}

func (s *Server) reportDetail(ctx context.Context, svc vigil.IntakeService, id int64) (reportDetail, error) {
	rep, err := svc.Report(ctx, id)
	if err != nil {
		return reportDetail{}, err
	}
	ms, err := svc.Messages(ctx, id)
	return reportDetail{rep, ms}, err
}

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.intake)
	if err != nil {
		return err
	}
	d, err := s.reportDetail(r.Context(), svc, id)
	return reply(w, http.StatusOK, d, err)
}

func (s *Server) apiReportAdd(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	var in vigil.ReportInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rep, err := svc.Add(r.Context(), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, reportDetail{Report: rep, Messages: []vigil.ReportMessage{}})
	return nil
}

// stepIn is the body of a PSIRT step through the API.
type stepIn struct {
	Message    string                 `json:"message,omitempty"`
	Links      []vigil.ReportLink     `json:"links,omitempty"`
	To         vigil.ReportStatus     `json:"to,omitempty"`
	Resolution vigil.ReportResolution `json:"resolution,omitempty"`
	Reason     string                 `json:"reason,omitempty"`
}

func (s *Server) apiStep(fn func(ctx context.Context, svc vigil.IntakeService, id int64, in stepIn) error) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.intake()
		if err != nil {
			return err
		}
		id, err := idParam(r, "id")
		if err != nil {
			return err
		}
		var in stepIn
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if err := fn(r.Context(), svc, id, in); err != nil {
			return err
		}
		d, err := s.reportDetail(r.Context(), svc, id)
		return reply(w, http.StatusOK, d, err)
	}
}

// intakePanel is the dashboard's view of intake: the acknowledgement clocks and whether security.txt is about to
// lapse (a warning from vigil.ExpiryWarning before its expiry) or is not published at all.
type intakePanel struct {
	Clocks      []vigil.IntakeClock
	Overdue     int
	SecurityTxt string // a warning, or "" when security.txt is published and not near its expiry
}

func (s *Server) intakePanel(ctx context.Context) (*intakePanel, error) {
	if s.svc.Intake == nil {
		return nil, nil
	}
	clocks, err := s.svc.Intake.Clocks(ctx)
	if err != nil {
		return nil, err
	}
	p := &intakePanel{Clocks: clocks[:min(len(clocks), dashboardClocks)]}
	for _, c := range clocks {
		if c.Overdue {
			p.Overdue++
		}
	}
	pol, err := s.svc.Intake.Policy(ctx)
	if vigil.ErrorCode(err) == vigil.ENOTFOUND {
		return p, nil // no organization yet: nothing to publish
	} else if err != nil {
		return nil, err
	}
	p.SecurityTxt = securityTxtWarning(pol, s.opt.Clock.Now(), s.zone(ctx))
	return p, nil
}

// securityTxtWarning says what is wrong with the published security.txt as of now, or "".
func securityTxtWarning(pol *vigil.CVDPolicy, now time.Time, zone *time.Location) string {
	if _, err := SecurityTxt(pol, ""); err != nil {
		return vigil.ErrorMessage(err)
	}
	switch left := pol.Expires.Sub(now); {
	case left <= 0:
		return "security.txt expired on " + fmtTime(pol.Expires, zone) + ": researchers are told not to trust it. Renew it: vigil intake policy set --expires DATE."
	case left <= vigil.ExpiryWarning:
		return fmt.Sprintf("security.txt expires on %s (in %d days): renew it (vigil intake policy set --expires DATE).", fmtTime(pol.Expires, zone), int(left.Hours()/24))
	}
	return ""
}
