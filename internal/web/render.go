package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

// funcsIn are the template helpers, with dates and times shown in loc (the organization's zone). None of them
// returns template.HTML or another "trusted" type: everything a page shows goes through html/template's contextual
// escaping, so a feed, an SBOM or a user cannot inject markup.
func funcsIn(loc *time.Location) template.FuncMap {
	fs := template.FuncMap{
		"date":     func(v any) string { return fmtDate(v, loc) },
		"datetime": func(t time.Time) string { return fmtTime(t, loc) },
	}
	for k, f := range funcs {
		fs[k] = f
	}
	return fs
}

var funcs = template.FuncMap{
	"join":         strings.Join,
	"httpURL":      httpURL,
	"add":          func(a, b int) int { return a + b },
	"pct":          func(n, of int) int { return pct(n, of) },
	"title":        func(s any) string { return humanize(fmt.Sprint(s)) }, // a string or a word of a vigil vocabulary
	"days":         fmtDays,
	"score":        func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"epss":         func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	"clip":         clipText,
	"lower":        strings.ToLower,
	"upper":        strings.ToUpper,
	"mib":          func(n int64) int64 { return n >> 20 },
	"list":         func(xs ...string) []string { return xs },
	"cvssMetrics":  func() []cvssMetric { return cvss31Metrics },
	"has":          has,
	"clockShort":   func(c string) string { return clockShort[c] },
	"deadlineLink": deadlineLink,
	"clockName": func(c string) string {
		if n, ok := clockNames[c]; ok {
			return n
		}
		return humanize(c)
	},
}

var clockShort = map[string]string{cases.ClockAssess: "Assess", cases.ClockPart806Start: "806 NOW", "ed_communication": "ED 30d", "ed_fix": "ED 60d", "part806": "806", "mdr": "MDR", "mdr_5_day": "MDR 5d", "cvd_ack": "Ack"}

var clockNames = map[string]string{
	cases.ClockAssess:       "Assess before (provisional)",
	cases.ClockPart806Start: "Part 806: start the correction — report due 10 working days after",
	"ed_communication":      "ED 30-day communication",
	"ed_fix":                "ED 60-day fix",
	"part806":               "Part 806 report",
	"mdr":                   "MDR 30-day",
	"mdr_5_day":             "MDR 5-day",
	"cvd_ack":               "CVD acknowledgement",
}

// has reports whether list (a slice of strings or of a vigil vocabulary's words) holds v, for templates.
func has(list, v any) bool {
	l := reflect.ValueOf(list)
	if l.Kind() != reflect.Slice {
		return false
	}
	for i := range l.Len() {
		if fmt.Sprint(l.Index(i).Interface()) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func pct(n, of int) int {
	if of <= 0 {
		return 0
	}
	return int(math.Round(float64(n) * 100 / float64(of)))
}

// fmtDate renders a Date, *Date or time.Time as YYYY-MM-DD ("" for zero or nil); a time is the day it falls on
// in loc.
func fmtDate(v any, loc *time.Location) string {
	switch d := v.(type) {
	case vigil.Date:
		return d.String()
	case *vigil.Date:
		if d == nil {
			return ""
		}
		return d.String()
	case time.Time:
		if d.IsZero() {
			return ""
		}
		return d.In(loc).Format(time.DateOnly)
	}
	return ""
}

// fmtTime renders an instant to the minute in loc, naming the zone.
func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func fmtDays(n int) string {
	switch {
	case n == 0:
		return "due today"
	case n == 1:
		return "1 day left"
	case n > 1:
		return fmt.Sprintf("%d days left", n)
	case n == -1:
		return "1 day overdue"
	default:
		return fmt.Sprintf("%d days overdue", -n)
	}
}

// humanize turns an identifier such as could_not_evaluate into words.
func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func clipText(n int, s string) string { return vigil.Clip(n, s) }

// httpURL returns u when it is an absolute http or https URL and "" otherwise, so that a feed's javascript:,
// data: or relative "link" is shown as text, never as a link.
func httpURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

// parseTemplates builds one template set per page showing times in loc: the layout, the shared partials and the
// page, so that pages can each define "content" without clashing.
func parseTemplates(loc *time.Location) (map[string]*template.Template, error) {
	sets := map[string]*template.Template{}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcsIn(loc)).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", p)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		sets[name] = t
	}
	return sets, nil
}

// templates returns the template sets showing dates and times in the organization's zone (UTC's are parsed at
// start; another zone's on first use, once).
func (s *Server) templates(ctx context.Context) map[string]*template.Template {
	loc := s.zone(ctx)
	if loc.String() == time.UTC.String() {
		return s.tmpl
	}
	if sets, ok := s.zoned.Load(loc.String()); ok {
		return sets.(map[string]*template.Template)
	}
	sets, err := parseTemplates(loc)
	if err != nil {
		return s.tmpl // the same files parsed at start: cannot fail here
	}
	s.zoned.Store(loc.String(), sets)
	return sets
}

// zone is the organization's time zone (UTC without the case service).
func (s *Server) zone(ctx context.Context) *time.Location {
	if s.svc.Cases != nil {
		return s.svc.Cases.Zone(ctx)
	}
	return time.UTC
}

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // the menu entry to highlight
	User   *vigil.User
	Actor  vigil.Actor
	CSRF   string
	Notice string // a confirmation from the action just done
	Error  string // why the action just tried failed
	Data   any
	// stepUp: single sign-on is configured, so signing forms offer a fresh sign-in there (a one-time signing
	// code); signCode is the code a step-up just issued to this browser's user, which they fill in.
	stepUp   bool
	signCode *signCode
}

// signFields is what a signing form's fields (the "signfields" partial) show: the meanings with the one chosen,
// the signer's user name, and either a password field or the one-time signing code a step-up issued for this
// kind of record, with the button that asks the provider for one when single sign-on is configured.
type signFields struct {
	Kind     string
	Next     string // where the step-up comes back to: the form's page and anchor
	Meanings []vigil.SignatureMeaning
	Meaning  string
	Signer   string
	StepUp   bool
	Code     *signCode
	// Optional: the form's act may go unsigned; the fields are asked only of who signs (no signer prefilled).
	Optional bool
}

// SignFields are the signing fields of a form that signs a record of kind, on the page next (with its anchor);
// form is the form as posted when the page shows it again (nil when fresh).
func (p page) SignFields(kind, next string, form url.Values) signFields {
	f := signFields{Kind: kind, Next: next, Meanings: vigil.SignatureMeanings, Meaning: form.Get("meaning"), Signer: form.Get("signer"), StepUp: p.stepUp}
	if f.Meaning == "" {
		f.Meaning = string(vigil.MeaningApproval)
	}
	if f.Signer == "" && p.User != nil {
		f.Signer = p.User.Name
	}
	switch {
	case p.signCode != nil && p.signCode.Kind == kind:
		f.Code = p.signCode
	case form.Get("code") != "":
		f.Code = &signCode{Code: form.Get("code"), Kind: kind}
	}
	return f
}

// OptionalSignFields are SignFields for a form whose act may go unsigned.
func (p page) OptionalSignFields(kind, next string, form url.Values) signFields {
	f := p.SignFields(kind, next, form)
	f.Optional, f.Signer = true, form.Get("signer")
	return f
}

// SSOSigning says whether signers may step up at the organization's provider for a one-time signing code.
func (p page) SSOSigning() bool { return p.stepUp }

// HasSignCode says whether a step-up just issued a signing code for kind: its form opens with the code filled in.
func (p page) HasSignCode(kind string) bool { return p.signCode != nil && p.signCode.Kind == kind }

// Can reports whether the signed-in user holds perm, to hide what the role cannot use.
func (p page) Can(perm string) bool { return p.Actor.Can(perm) }

// render writes a page with status. It renders into a buffer first so that a template error cannot send half a
// page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.templates(r.Context())[name]
	if !ok {
		s.opt.Log.Error("no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if sess := sessionFrom(r.Context()); sess != nil {
		p.User, p.CSRF = sess.User, sess.CSRF
	}
	p.Actor, _ = vigil.ActorFrom(r.Context())
	p.stepUp, p.signCode = s.svc.StepUp != nil, pendingSignCode(r)
	if p.signCode != nil {
		// Delivered once: the page it came back to fills it in (a form shown again keeps it as posted).
		http.SetCookie(w, &http.Cookie{Name: signCodeCookie, Value: "", Path: "/", MaxAge: -1})
	}
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		s.opt.Log.Error("render", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderFragment writes one named template of a page's set (an htmx fragment).
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, set, name string, data any) error {
	t, ok := s.templates(r.Context())[set]
	if !ok {
		return fmt.Errorf("no template set %s", set)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", set, name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
	return nil
}

// notices are the fixed confirmations a redirect after a form may ask for (?done=KEY). Only keys travel in the URL,
// so no one can make a page say something of their choosing.
var notices = map[string]string{
	"assessed":           "Assessment recorded. The determination below reflects it.",
	"event":              "Event recorded. The clocks below reflect it.",
	"state":              "Finding state changed.",
	"case-state":         "Case state changed. Its records and every unmet obligation stay.",
	"retracted":          "Record retracted. It stays, struck through, and the determination below is made without it.",
	"learned":            "D0 corrected. The clocks below run from the corrected date.",
	"bulk":               "Done: each case ticked was changed, one audited record each.",
	"merged":             "Case merged: its versions and records count under this case from now on.",
	"device":             "Device created.",
	"version":            "Version added.",
	"user":               "User created.",
	"password":           "Password changed. Existing sessions of that user have ended.",
	"verified":           "The audit chain verified.",
	"signed-out":         "You have signed out.",
	"expired":            "Your session has ended. Sign in again.",
	"seen":               "Marked as seen: \"new\" counts from now.",
	"token-created":      "Token created.",
	"settings":           "Settings saved. Every finding's determination now runs under them; the audit trail records the change and its reason.",
	"reply":              "Your message was sent.",
	"report-ack":         "Report acknowledged; the reporter sees it.",
	"report-triage":      "Report triaged.",
	"report-step":        "Report moved on.",
	"report-message":     "Message sent to the reporter.",
	"report-closed":      "Report closed; the reporter sees the reason.",
	"disclosure":         "Disclosure coordination recorded; the reporters of the case's reports see it.",
	"link-revoked":       "The follow-up link no longer works.",
	"vex-accept":         "Proposal accepted. A not_affected or fixed status closed its finding; the audit trail records it.",
	"vex-reject":         "Proposal rejected. The finding is unchanged; the audit trail records the reason.",
	"device-saved":       "Device saved; the audit trail records the change and its reason.",
	"version-saved":      "Version saved; the audit trail records the change and its reason.",
	"isaos":              "ISAO memberships saved. Every finding's determination now reads them; the audit trail records the change and its reason.",
	"consignee":          "Consignee added. Record the units it holds below.",
	"consignee-saved":    "Consignee saved; the audit trail records the change and its reason.",
	"consignee-deleted":  "Consignee deleted; the audit trail keeps it as it was, with the reason.",
	"feed-saved":         "Feed saved; the scheduler syncs it from now on (the audit trail records the change).",
	"model-added":        "Added to the threat model; the audit trail records it.",
	"model-saved":        "Threat model saved; the audit trail records the change and its reason.",
	"filter-saved":       "Filter saved: it is listed under \"Saved filters\" for you alone.",
	"filter-deleted":     "Saved filter deleted.",
	"notice-drafted":     "Notice drafted: its elements are prefilled from the records. Check and edit them, then send.",
	"notice-saved":       "Notice saved; the audit trail records the change and its reason.",
	"notice-sent":        "Notice sent: one message per recipient is in the outbox, and customer_notified is recorded on its cases.",
	"advisory-drafted":   "Advisory drafted: the document below is rendered from the live records until it is published.",
	"advisory-published": "Revision published: the CSAF provider serves it.",
	"rule-added":         "Rule added.",
	"step-up":            "You signed in again at your organization's provider: your one-time signing code is filled in below. It signs once, within five minutes.",
	"rule-removed":       "Rule removed; the audit trail keeps it as it was, with the reason.",
	"rule-tested":        "Test message sent and accepted: it is in the outbox below with the server's answer.",
	"isao-membership":    "Membership saved. Criterion 4 of every case on the devices it covers now reads it; the audit trail records the change and its reason.",
	"isao-document":      "Document attached, kept with its SHA-256; the audit trail records it.",
	"isao-shared":        "Shared with the ISAO: the sharing log has it and each case its isao_shared event.",
	"isao-status":        "The TAXII servers were asked again about the shares pending; the sharing log shows what they said.",
	"isao-cited":         "Citation recorded: the signal is traced to the assessment (G2016 §IX item 4).",
	"filed":              "Marked filed: the report has its number and the case records part806_filed (the audit trail keeps who and when).",
	"signed-off":         "The 806.20 record is signed off; the signature shows on the record and in the document.",
	"documents-saved":    "The regulatory documents' settings are saved; every document generated from now on uses them (the audit trail keeps the change and its reason).",
	"decided":            "Premarket decision recorded; the document shows it with its basis (earlier decisions stay in its history).",
}

// redirect answers a successful form with 303 See Other to target (post/redirect/get), with a notice key.
func redirect(w http.ResponseWriter, r *http.Request, target, done string) error {
	if done != "" {
		path, frag, hasFrag := strings.Cut(target, "#")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		target = path + sep + "done=" + url.QueryEscape(done)
		if hasFrag {
			target += "#" + frag
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// cvssMetric is one CVSS v3.1 base metric of the calculator.
type cvssMetric struct {
	Key, Name string
	Values    []struct{ Key, Name string }
}

func metric(key, name string, kv ...string) cvssMetric {
	m := cvssMetric{Key: key, Name: name}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Values = append(m.Values, struct{ Key, Name string }{kv[i], kv[i+1]})
	}
	return m
}

var cvss31Metrics = []cvssMetric{
	metric("AV", "Attack vector", "N", "Network", "A", "Adjacent", "L", "Local", "P", "Physical"),
	metric("AC", "Complexity", "L", "Low", "H", "High"),
	metric("PR", "Privileges", "N", "None", "L", "Low", "H", "High"),
	metric("UI", "User interaction", "N", "None", "R", "Required"),
	metric("S", "Scope", "U", "Unchanged", "C", "Changed"),
	metric("C", "Confidentiality", "H", "High", "L", "Low", "N", "None"),
	metric("I", "Integrity", "H", "High", "L", "Low", "N", "None"),
	metric("A", "Availability", "H", "High", "L", "Low", "N", "None"),
}
