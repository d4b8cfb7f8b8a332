package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ---- customer notices and CSAF advisories: the builder and advisory screens and their JSON twins, over
// vigil.NoticeService and Advisories (the same calls `vigil notice` and `vigil advisory` make).

var (
	exampleNoticeForm = url.Values{"subject": {"Cybersecurity notice: CVE-2021-44228 in Infusio IP-3"},
		"a": {"CVE-2021-44228 affects Infusio IP-3 3.1.0: remote code execution on the pump's network service."},
		"b": {"Fixture Medical is working to address the risk of patient harm."},
		"c": {"Until the fix is installed, keep the pumps on their own VLAN (IFU §7.1)."},
		"d": {"Release 3.1.1 will fix it; we will tell you when it is available."}, "reason": {"Controls and fix written by the PSIRT."}}
	exampleNoticeEdit = map[string]any{"elements": map[string]string{"c": "Until the fix is installed, keep the pumps on their own VLAN (IFU §7.1).",
		"d": "Release 3.1.1 will fix it; we will tell you when it is available."}, "reason": "Controls and fix written by the PSIRT."}
)

// noticeRoutes are the notice builder and the advisory screens, and the API that does the same.
func (s *Server) noticeRoutes() []route {
	return []route{
		{Method: "GET", Pattern: "/notices", Perm: vigil.PermRead, Summary: "customer notices and CSAF advisories, with the forms that draft them", h: s.noticesPage},
		{Method: "POST", Pattern: "/notices", Perm: vigil.PermEvent, Summary: "draft a customer notice for one or more cases (case, repeatable), or a follow-up of a sent notice (follow_up_of); its four elements are prefilled from the records",
			Example: url.Values{"case": {"1"}}, h: s.noticeDraftForm},
		{Method: "GET", Pattern: "/notices/{id}", Perm: vigil.PermRead, Summary: "the notice builder: the four elements (editable while a draft) and their check, the recipients, the plain-text and HTML preview, sending, and each recipient's delivery log once sent", h: s.noticePage},
		{Method: "GET", Pattern: "/notices/{id}/preview", Perm: vigil.PermRead, Summary: "the notice's HTML body exactly as recipients will receive it", h: s.noticeHTML},
		{Method: "POST", Pattern: "/notices/{id}", Perm: vigil.PermEvent, Summary: "edit a draft notice's subject and elements (a)–(d), with a reason", Example: exampleNoticeForm, h: s.noticeEditForm},
		{Method: "POST", Pattern: "/notices/{id}/send", Perm: vigil.PermEvent, Summary: "send a notice to every contact of the consignees of the affected versions and record customer_notified on its cases (a reason is required when an element is missing); the release is signed (21 CFR Part 11) unless the organization switched that off",
			Example: url.Values{"reason": {"The fix is not scheduled yet; the next notice will say when."}, "meaning": {"approval"}, "signer": {"SIGNER"}, "password": {"PASSWORD"}}, h: s.noticeSendForm},
		{Method: "POST", Pattern: "/advisories", Perm: vigil.PermEvent, Summary: "draft a CSAF advisory for cases (case, repeatable) or a notice's cases (notice), with a TLP label",
			Example: url.Values{"case": {"1"}, "tlp": {"WHITE"}}, h: s.advisoryDraftForm},
		{Method: "GET", Pattern: "/advisories/{id}", Perm: vigil.PermRead, Summary: "a CSAF advisory: its revisions, its CSAF 2.0 document (a draft rendered from the live records) and the publish form", h: s.advisoryPage},
		{Method: "POST", Pattern: "/advisories/{id}/publish", Perm: vigil.PermEvent, Summary: "publish a revision of an advisory (interim or final), validated, to the CSAF provider",
			Example: url.Values{"status": {"interim"}, "summary": {"Initial release"}}, h: s.advisoryPublishForm},

		{API: true, Method: "GET", Pattern: "/api/v1/notices", Perm: vigil.PermRead, Query: []param{{"case", "integer", "only the notices covering this case"}}, Summary: "customer notices, newest first", Resp: []*vigil.Notice{}, h: s.apiNotices},
		{API: true, Method: "POST", Pattern: "/api/v1/notices", Perm: vigil.PermEvent, Summary: "draft a customer notice for cases, or a follow-up of a sent notice (follow_up_of: its cases and recipients are kept); elements prefilled from the records",
			Example: map[string]any{"cases": []int64{1}}, In: noticeDraftIn{}, Resp: noticeOut{}, Status: 201, h: s.apiNoticeDraft},
		{API: true, Method: "GET", Pattern: "/api/v1/notices/{id}", Perm: vigil.PermRead, Summary: "a notice with its missing elements and, once sent, each recipient's delivery and its log", Resp: noticeOut{}, h: s.apiNotice},
		{API: true, Method: "POST", Pattern: "/api/v1/notices/{id}", Perm: vigil.PermEvent, Summary: "edit a draft: the subject and the elements given (a, b, c, d; an empty text clears one), with a reason",
			Example: exampleNoticeEdit, In: noticeEditIn{}, Resp: noticeOut{}, h: s.apiNoticeEdit},
		{API: true, Method: "GET", Pattern: "/api/v1/notices/{id}/preview", Perm: vigil.PermRead, Summary: "the notice as recipients will read it (subject, plain text, HTML), who will receive it and which consignees have no address", Resp: &vigil.NoticePreview{}, h: s.apiNoticePreview},
		{API: true, Method: "POST", Pattern: "/api/v1/notices/{id}/send", Perm: vigil.PermEvent, Summary: "send the notice (once: a retry sends nothing twice) and record customer_notified on its cases; reason is required when an element is missing; signature (meaning, signer, password) signs the release unless the organization switched that off",
			Example: map[string]any{"reason": "The fix is not scheduled yet; the next notice will say when.", "signature": exampleSig}, In: noticeSendIn{}, Resp: noticeOut{}, h: s.apiNoticeSend},
		{API: true, Method: "GET", Pattern: "/api/v1/advisories", Perm: vigil.PermRead, Summary: "CSAF advisories, newest first", Resp: []*vigil.SecurityAdvisory{}, h: s.apiAdvisories},
		{API: true, Method: "POST", Pattern: "/api/v1/advisories", Perm: vigil.PermEvent, Summary: "draft a CSAF advisory for cases or a notice's cases (notice_id), TLP WHITE (public) unless given",
			Example: map[string]any{"cases": []int64{1}, "tlp": "WHITE"}, In: advisoryDraftIn{}, Resp: &vigil.SecurityAdvisory{}, Status: 201, h: s.apiAdvisoryDraft},
		{API: true, Method: "GET", Pattern: "/api/v1/advisories/{id}", Perm: vigil.PermRead, Summary: "an advisory: tracking id, status, TLP, revisions", Resp: &vigil.SecurityAdvisory{}, h: s.apiAdvisory},
		{API: true, Method: "GET", Pattern: "/api/v1/advisories/{id}/document", Perm: vigil.PermRead, Summary: "the advisory's CSAF 2.0 JSON document (`vigil advisory show`): the last published, or a draft rendered now", Resp: map[string]any{}, h: s.apiAdvisoryDocument},
		{API: true, Method: "POST", Pattern: "/api/v1/advisories/{id}/publish", Perm: vigil.PermEvent, Summary: "publish a revision (interim or final; validated against CSAF 2.0 and its mandatory tests)",
			Example: map[string]any{"status": "interim", "summary": "Initial release"}, In: advisoryPublishIn{}, Resp: &vigil.SecurityAdvisory{}, h: s.apiAdvisoryPublish},
	}
}

type noticesData struct {
	Notices    []*vigil.Notice
	Advisories []*vigil.SecurityAdvisory
	Cases      []*vigil.Case // the open cases a notice or advisory may be drafted for
	Form       url.Values
	FormName   string
	// Unpublished says why the CSAF provider is not served yet; empty once it is.
	Unpublished string
}

func (s *Server) notices() (vigil.NoticeService, error) {
	if s.svc.Notices == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "customer notices are not available in this server")
	}
	return s.svc.Notices, nil
}

func (s *Server) advisories() (Advisories, error) {
	if s.svc.Advisories == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "CSAF advisories are not available in this server")
	}
	return s.svc.Advisories, nil
}

func (s *Server) noticesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderNotices(w, r, http.StatusOK, "", "", nil)
}

func (s *Server) renderNotices(w http.ResponseWriter, r *http.Request, status int, formName, problem string, form url.Values) error {
	ns, err := s.notices()
	if err != nil {
		return err
	}
	as, err := s.advisories()
	if err != nil {
		return err
	}
	list, err := ns.Notices(r.Context(), 0)
	if err != nil {
		return err
	}
	advs, err := as.Advisories(r.Context())
	if err != nil {
		return err
	}
	cs, err := s.svc.Cases.Cases(r.Context(), vigil.CaseFilter{States: []vigil.CaseState{vigil.CaseOpen, vigil.CaseNeedsReview}})
	if err != nil {
		return err
	}
	d := noticesData{Notices: list, Advisories: advs, Cases: cs, Form: form, FormName: formName}
	if _, err := as.Publisher(r.Context()); err != nil {
		d.Unpublished = vigil.ErrorMessage(err)
	}
	s.render(w, r, status, "notices", page{Title: "Notices and advisories", Nav: "notices", Error: problem, Data: d})
	return nil
}

// formIDs reads a repeatable id field (case=1&case=2, or "1, 2" in one field).
func formIDs(r *http.Request, name string) ([]int64, error) {
	var out []int64
	for _, v := range r.PostForm[name] {
		for _, f := range strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' }) {
			n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(f), "N-"), 10, 64)
			if err != nil || n <= 0 {
				return nil, vigil.Errorf(vigil.EINVALID, "%s: %q is not an id", name, clipText(40, f))
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// formID reads an optional id field ("" is 0; a notice may be written N-7).
func formID(r *http.Request, name string) (int64, error) {
	ids, err := formIDs(r, name)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if len(ids) > 1 {
		return 0, vigil.Errorf(vigil.EINVALID, "%s: one id", name)
	}
	return ids[0], nil
}

// noticeDraftForm drafts a notice (from the list, a case's page or a sent notice's follow-up button) and opens the
// builder on it.
func (s *Server) noticeDraftForm(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.notices()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ids, err := formIDs(r, "case")
	var follow int64
	if err == nil {
		follow, err = formID(r, "follow_up_of")
	}
	var n *vigil.Notice
	if err == nil {
		n, err = ns.DraftNotice(r.Context(), ids, follow)
	}
	if err == nil {
		return redirect(w, r, "/notices/"+itoa(n.ID), "notice-drafted")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderNotices(w, r, http.StatusUnprocessableEntity, "notice", vigil.ErrorMessage(err), r.PostForm)
}

// builderData is the notice builder.
type builderData struct {
	Notice     *vigil.Notice
	Preview    *vigil.NoticePreview
	Deliveries []vigil.NoticeDelivery
	Elements   []builderElement
	FollowUps  []*vigil.Notice // notices that follow this one
	Advisories []*vigil.SecurityAdvisory
	FormName   string
}

// builderElement is one element's field: its letter, what the guidance asks, the text (as posted after a failed
// save) and whether it is missing.
type builderElement struct {
	Letter, Name, Text string
	Missing            bool
}

func (s *Server) noticePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderNotice(w, r, http.StatusOK, "", "", nil)
}

func (s *Server) renderNotice(w http.ResponseWriter, r *http.Request, status int, formName, problem string, form url.Values) error {
	ns, id, err := withID(r, s.notices)
	if err != nil {
		return err
	}
	p, err := ns.PreviewNotice(r.Context(), id)
	if err != nil {
		return err
	}
	d := builderData{Notice: p.Notice, Preview: p, FormName: formName}
	if d.Deliveries, err = ns.NoticeDeliveries(r.Context(), id); err != nil {
		return err
	}
	for _, e := range []string{vigil.ElementVulnerability, vigil.ElementEfforts, vigil.ElementControls, vigil.ElementFix} {
		text := p.Notice.Elements.Get(e)
		if form != nil && formName == "edit" {
			text = form.Get(e)
		}
		d.Elements = append(d.Elements, builderElement{Letter: e, Name: vigil.NoticeElementNames[e], Text: text, Missing: strings.TrimSpace(text) == ""})
	}
	all, err := ns.Notices(r.Context(), 0)
	if err != nil {
		return err
	}
	for _, n := range all {
		if n.FollowUpOf == id {
			d.FollowUps = append(d.FollowUps, n)
		}
	}
	if as, err := s.advisories(); err == nil {
		advs, err := as.Advisories(r.Context())
		if err != nil {
			return err
		}
		for _, a := range advs {
			if a.NoticeID == id {
				d.Advisories = append(d.Advisories, a)
			}
		}
	}
	if form != nil && formName == "edit" {
		d.Notice = &vigil.Notice{}
		*d.Notice = *p.Notice
		d.Notice.Subject = form.Get("subject")
	}
	s.render(w, r, status, "notice", page{Title: "Notice N-" + itoa(id), Nav: "notices", Error: problem, Data: d})
	return nil
}

// noticeHTML serves the HTML body a recipient receives: the builder links to it, since the page itself cannot
// frame it (frame-ancestors 'none').
func (s *Server) noticeHTML(w http.ResponseWriter, r *http.Request) error {
	ns, id, err := withID(r, s.notices)
	if err != nil {
		return err
	}
	p, err := ns.PreviewNotice(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err = w.Write([]byte(p.HTML))
	return err
}

func (s *Server) noticeEditForm(w http.ResponseWriter, r *http.Request) error {
	ns, id, err := withID(r, s.notices)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	n, err := ns.Notice(r.Context(), id)
	if err != nil {
		return err
	}
	n.Subject = strings.TrimSpace(r.PostFormValue("subject"))
	for _, e := range []string{vigil.ElementVulnerability, vigil.ElementEfforts, vigil.ElementControls, vigil.ElementFix} {
		n.Elements.Set(e, strings.TrimSpace(r.PostFormValue(e)))
	}
	err = ns.EditNotice(r.Context(), n, strings.TrimSpace(r.PostFormValue("reason")))
	if err == nil {
		return redirect(w, r, "/notices/"+itoa(id)+"#elements", "notice-saved")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderNotice(w, r, http.StatusUnprocessableEntity, "edit", vigil.ErrorMessage(err), r.PostForm)
}

func (s *Server) noticeSendForm(w http.ResponseWriter, r *http.Request) error {
	ns, id, err := withID(r, s.notices)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	sig := formSignature(r)
	err = s.signed(r, sig, func() error {
		_, err := ns.SendNotice(r.Context(), id, strings.TrimSpace(r.PostFormValue("reason")), sig)
		return err
	})
	if err == nil {
		return redirect(w, r, "/notices/"+itoa(id)+"#deliveries", "notice-sent")
	}
	status := http.StatusUnprocessableEntity
	switch vigil.ErrorCode(err) {
	case vigil.ECONFLICT: // sent already, perhaps by another tab or instance: the page shows how it went
		status = http.StatusConflict
	case vigil.EINVALID, vigil.EUNAVAILABLE: // no mailer configured: the page says how to configure one
	default:
		return err
	}
	return s.renderNotice(w, r, status, "send", vigil.ErrorMessage(err), nil)
}

func (s *Server) advisoryDraftForm(w http.ResponseWriter, r *http.Request) error {
	as, err := s.advisories()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ids, err := formIDs(r, "case")
	var notice int64
	if err == nil {
		notice, err = formID(r, "notice")
	}
	var a *vigil.SecurityAdvisory
	if err == nil {
		a, err = as.DraftAdvisory(r.Context(), ids, notice, strings.TrimSpace(r.PostFormValue("tlp")))
	}
	if err == nil {
		return redirect(w, r, "/advisories/"+itoa(a.ID), "advisory-drafted")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderNotices(w, r, http.StatusUnprocessableEntity, "advisory", vigil.ErrorMessage(err), r.PostForm)
}

// advisoryData is an advisory's page.
type advisoryData struct {
	A        *vigil.SecurityAdvisory
	Document string // the CSAF JSON, indented
	Problem  string // why the document cannot be rendered now (a draft whose records fail the validator)
	Form     url.Values
}

func (s *Server) advisoryPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdvisory(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderAdvisory(w http.ResponseWriter, r *http.Request, status int, problem string, form url.Values) error {
	as, id, err := withID(r, s.advisories)
	if err != nil {
		return err
	}
	a, err := as.Advisory(r.Context(), id)
	if err != nil {
		return err
	}
	d := advisoryData{A: a, Form: form}
	doc, err := as.AdvisoryDocument(r.Context(), id)
	switch {
	case err == nil:
		var b bytes.Buffer
		if json.Indent(&b, doc, "", "  ") == nil {
			d.Document = b.String()
		} else {
			d.Document = string(doc)
		}
	case vigil.ErrorCode(err) == vigil.EINVALID:
		d.Problem = vigil.ErrorMessage(err)
	default:
		return err
	}
	s.render(w, r, status, "advisory", page{Title: "Advisory " + a.TrackingID, Nav: "notices", Error: problem, Data: d})
	return nil
}

func (s *Server) advisoryPublishForm(w http.ResponseWriter, r *http.Request) error {
	as, id, err := withID(r, s.advisories)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	_, err = as.PublishAdvisory(r.Context(), id, r.PostFormValue("status"), strings.TrimSpace(r.PostFormValue("summary")))
	if err == nil {
		return redirect(w, r, "/advisories/"+itoa(id), "advisory-published")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderAdvisory(w, r, http.StatusUnprocessableEntity, vigil.ErrorMessage(err), r.PostForm)
}

// ---- the JSON API

// noticeDraftIn drafts a notice.
type noticeDraftIn struct {
	Cases      []int64 `json:"cases"`
	FollowUpOf int64   `json:"follow_up_of,omitempty"`
}

// noticeEditIn edits a draft: the subject when given, and each element given (by letter).
type noticeEditIn struct {
	Subject  *string           `json:"subject,omitempty"`
	Elements map[string]string `json:"elements,omitempty"`
	Reason   string            `json:"reason"`
}

// noticeSendIn sends a notice.
type noticeSendIn struct {
	Reason string `json:"reason,omitempty"`
	// Signature signs the release (meaning, signer, password): required unless the organization switched it off.
	Signature *vigil.SignRequest `json:"signature,omitempty"`
}

// noticeOut is a notice as `vigil notice show --format json` prints it.
type noticeOut struct {
	*vigil.Notice
	Missing    []string               `json:"missing_elements"`
	Deliveries []vigil.NoticeDelivery `json:"deliveries"`
}

func (s *Server) writeNotice(w http.ResponseWriter, r *http.Request, status int, id int64) error {
	ns, err := s.notices()
	if err != nil {
		return err
	}
	n, err := ns.Notice(r.Context(), id)
	if err != nil {
		return err
	}
	ds, err := ns.NoticeDeliveries(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, status, noticeOut{Notice: n, Missing: n.Elements.Missing(), Deliveries: ds})
	return nil
}

func (s *Server) apiNotices(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.notices()
	if err != nil {
		return err
	}
	c, err := intQuery(r, "case")
	if err != nil {
		return err
	}
	list, err := ns.Notices(r.Context(), c)
	return reply(w, http.StatusOK, list, err)
}

func (s *Server) apiNoticeDraft(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.notices()
	if err != nil {
		return err
	}
	var in noticeDraftIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := ns.DraftNotice(r.Context(), in.Cases, in.FollowUpOf)
	if err != nil {
		return err
	}
	return s.writeNotice(w, r, http.StatusCreated, n.ID)
}

func (s *Server) apiNotice(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	return s.writeNotice(w, r, http.StatusOK, id)
}

func (s *Server) apiNoticeEdit(w http.ResponseWriter, r *http.Request) error {
	ns, id, err := withID(r, s.notices)
	if err != nil {
		return err
	}
	var in noticeEditIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := ns.Notice(r.Context(), id)
	if err != nil {
		return err
	}
	if in.Subject != nil {
		n.Subject = strings.TrimSpace(*in.Subject)
	}
	for e, text := range in.Elements {
		if err := n.Elements.Set(strings.ToLower(e), strings.TrimSpace(text)); err != nil {
			return vigil.Errorf(vigil.EINVALID, "elements: %q is not an element (a, b, c or d)", clipText(20, e))
		}
	}
	if err := ns.EditNotice(r.Context(), n, in.Reason); err != nil {
		return err
	}
	return s.writeNotice(w, r, http.StatusOK, id)
}

func (s *Server) apiNoticePreview(w http.ResponseWriter, r *http.Request) error {
	ns, id, err := withID(r, s.notices)
	if err != nil {
		return err
	}
	p, err := ns.PreviewNotice(r.Context(), id)
	return reply(w, http.StatusOK, p, err)
}

func (s *Server) apiNoticeSend(w http.ResponseWriter, r *http.Request) error {
	ns, id, err := withID(r, s.notices)
	if err != nil {
		return err
	}
	var in noticeSendIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.signed(r, in.Signature, func() error { _, err := ns.SendNotice(r.Context(), id, in.Reason, in.Signature); return err }); err != nil {
		return err
	}
	return s.writeNotice(w, r, http.StatusOK, id)
}

// advisoryDraftIn drafts an advisory.
type advisoryDraftIn struct {
	Cases    []int64 `json:"cases,omitempty"`
	NoticeID int64   `json:"notice_id,omitempty"`
	TLP      string  `json:"tlp,omitempty"` // WHITE (default), GREEN, AMBER or RED
}

// advisoryPublishIn publishes a revision.
type advisoryPublishIn struct {
	Status  string `json:"status"` // interim or final (default)
	Summary string `json:"summary,omitempty"`
}

func (s *Server) apiAdvisories(w http.ResponseWriter, r *http.Request) error {
	as, err := s.advisories()
	if err != nil {
		return err
	}
	list, err := as.Advisories(r.Context())
	return reply(w, http.StatusOK, list, err)
}

func (s *Server) apiAdvisoryDraft(w http.ResponseWriter, r *http.Request) error {
	as, err := s.advisories()
	if err != nil {
		return err
	}
	var in advisoryDraftIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := as.DraftAdvisory(r.Context(), in.Cases, in.NoticeID, in.TLP)
	return reply(w, http.StatusCreated, a, err)
}

func (s *Server) apiAdvisory(w http.ResponseWriter, r *http.Request) error {
	as, id, err := withID(r, s.advisories)
	if err != nil {
		return err
	}
	a, err := as.Advisory(r.Context(), id)
	return reply(w, http.StatusOK, a, err)
}

func (s *Server) apiAdvisoryDocument(w http.ResponseWriter, r *http.Request) error {
	as, id, err := withID(r, s.advisories)
	if err != nil {
		return err
	}
	doc, err := as.AdvisoryDocument(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(doc)
	return err
}

func (s *Server) apiAdvisoryPublish(w http.ResponseWriter, r *http.Request) error {
	as, id, err := withID(r, s.advisories)
	if err != nil {
		return err
	}
	var in advisoryPublishIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := as.PublishAdvisory(r.Context(), id, in.Status, in.Summary)
	return reply(w, http.StatusOK, a, err)
}
