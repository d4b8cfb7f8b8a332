package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/service/isao"
)

// ---- ISAO participation (G2016 §IX): the memberships with their evidence documents (uploaded with their SHA-256
// and date, downloaded only as attachments), the sharing log (a case or a customer notice shared over TAXII or
// exported, a pending TAXII status asked again), the signals inbox with the cases each touches and the
// assessments that cite it, and the evidence of a membership over a period (JSON, CSV). The screens and the API
// go through the ISAO service, which checks every permission.

func (s *Server) isao() (ISAO, error) {
	if s.svc.ISAO == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "ISAO participation is not served here")
	}
	return s.svc.ISAO, nil
}

// membershipOf is the membership named by the route's {id}.
func (s *Server) membershipOf(r *http.Request) (ISAO, *vigil.ISAOMembership, error) {
	svc, err := s.isao()
	if err != nil {
		return nil, nil, err
	}
	id, err := idParam(r, "id")
	if err != nil {
		return nil, nil, err
	}
	m, err := svc.MembershipByID(r.Context(), id)
	return svc, m, err
}

// deviceArg names a membership's device line to the service ("" for the organization's).
func deviceArg(m *vigil.ISAOMembership) string {
	if m.DeviceID == 0 {
		return ""
	}
	return strconv.FormatInt(m.DeviceID, 10)
}

// membershipIn is a membership created or changed through the API: the fields given (absent ones are left as
// they are). The password is sealed with the server's secret key; "" removes it.
type membershipIn struct {
	Name       string      `json:"name"`
	Device     string      `json:"device,omitempty"` // a device line's own membership (its name or id)
	Since      *vigil.Date `json:"since,omitempty"`
	Until      *vigil.Date `json:"until,omitempty"`
	Contact    *string     `json:"contact,omitempty"`
	TLP        *string     `json:"tlp,omitempty"`
	TAXIIURL   *string     `json:"taxii_url,omitempty"`
	Collection *string     `json:"collection,omitempty"`
	User       *string     `json:"user,omitempty"`
	Password   *string     `json:"password,omitempty"`
	Reason     string      `json:"reason,omitempty"`
}

func (in membershipIn) input() isao.SetInput {
	return isao.SetInput{Name: in.Name, Device: in.Device, Since: in.Since, Until: in.Until, Contact: in.Contact, TLP: in.TLP, TAXIIURL: in.TAXIIURL,
		Collection: in.Collection, User: in.User, Password: in.Password, Reason: in.Reason}
}

// documentIn is a document attached through the API: its content base64-encoded (at most 16 MiB decoded).
type documentIn struct {
	Item     int        `json:"item"`
	Kind     string     `json:"kind"`
	Title    string     `json:"title"`
	FileName string     `json:"file_name,omitempty"`
	Date     vigil.Date `json:"date,omitzero"`
	Expires  vigil.Date `json:"expires,omitzero"`
	Content  string     `json:"content"` // base64
	Reason   string     `json:"reason,omitempty"`
}

// documentOut is a document with its content, base64-encoded.
type documentOut struct {
	vigil.ISAODocument
	Content string `json:"content"`
}

// citeIn records that an assessment considered signals.
type citeIn struct {
	Assessment int64   `json:"assessment"`
	Signals    []int64 `json:"signals"`
	Reason     string  `json:"reason,omitempty"`
}

// shareIn is a share asked for through the API: the ISAO ("" for the membership covering the case) and whether to
// export the bundle instead of sending it over TAXII.
type shareIn struct {
	ISAO   string `json:"isao,omitempty"`
	Export bool   `json:"export,omitempty"`
}

// ---- screens

// caseISAO is the ISAO panel of a case's page.
type caseISAO struct {
	Memberships []vigil.ISAOMembership // covering the case's device
	Shares      []*vigil.ISAOShare
	Signals     []*vigil.ISAOSignal
}

// caseISAO reads the case's ISAO panel; without the service, or when a read fails, the page goes without it (the
// failure is logged).
func (s *Server) caseISAO(ctx context.Context, v *cases.View) *caseISAO {
	if s.svc.ISAO == nil || v.Case == nil {
		return nil
	}
	d := &caseISAO{}
	ms, err := s.svc.ISAO.Memberships(ctx)
	if err == nil {
		d.Memberships = vigil.ISAOsFor(ms, v.Device.ID)
		if d.Shares, err = s.svc.ISAO.Shares(ctx, "", v.Case.ID); err == nil {
			d.Signals, err = s.svc.ISAO.Signals(ctx, "", v.Case.ID)
		}
	}
	if err != nil {
		s.opt.Log.Error("the case's ISAO panel", "case", v.Case.ID, "err", err)
		return nil
	}
	return d
}

type isaoData struct {
	Today       vigil.Date
	Alerts      []isao.Alert
	Memberships []vigil.ISAOMembership
	Shares      []*vigil.ISAOShare // the latest
	Signals     int
	TLPLevels   []string
}

func (s *Server) isaoPage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := isaoData{Today: svc.Today(ctx), TLPLevels: vigil.TLPLevels}
	if d.Memberships, err = svc.Memberships(ctx); err != nil {
		return err
	}
	if d.Alerts, err = svc.Alerts(ctx); err != nil {
		return err
	}
	if d.Shares, err = svc.Shares(ctx, "", 0); err != nil {
		return err
	}
	d.Shares = d.Shares[:min(len(d.Shares), 10)]
	sigs, err := svc.Signals(ctx, "", 0)
	if err != nil {
		return err
	}
	d.Signals = len(sigs)
	s.render(w, r, http.StatusOK, "isao", page{Title: "ISAO participation", Nav: "isao", Data: d})
	return nil
}

// membershipForm creates or changes a membership from the form: the fields sent replace the stored ones; the
// password only when one is typed (or removed with the box ticked).
func (s *Server) membershipForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	in := isao.SetInput{Name: strings.TrimSpace(f.Get("name")), Device: strings.TrimSpace(f.Get("device")), Reason: strings.TrimSpace(f.Get("reason"))}
	str := func(key string) *string {
		if _, ok := f[key]; !ok {
			return nil
		}
		v := strings.TrimSpace(f.Get(key))
		return &v
	}
	in.Contact, in.TLP, in.TAXIIURL, in.Collection, in.User = str("contact"), str("tlp"), str("taxii_url"), str("collection"), str("user")
	for _, x := range []struct {
		key string
		dst **vigil.Date
	}{{"since", &in.Since}, {"until", &in.Until}} {
		if _, ok := f[x.key]; !ok {
			continue
		}
		var day vigil.Date
		if v := strings.TrimSpace(f.Get(x.key)); v != "" {
			if day, err = vigil.ParseDate(v); err != nil {
				return s.membershipRefused(w, r, vigil.Errorf(vigil.EINVALID, "%s: %q is not a date (YYYY-MM-DD)", x.key, clipText(40, v)))
			}
		}
		*x.dst = &day
	}
	if pw := f.Get("password"); pw != "" {
		in.Password = &pw
	} else if f.Get("clear_password") != "" {
		in.Password = new(string)
	}
	m, err := svc.Set(r.Context(), in)
	if err != nil {
		return s.membershipRefused(w, r, err)
	}
	return redirect(w, r, "/isao/memberships/"+itoa(m.ID), "isao-membership")
}

func (s *Server) membershipRefused(w http.ResponseWriter, r *http.Request, err error) error {
	if !formRecoverable(err) {
		return err
	}
	svc, _ := s.isao()
	ctx := r.Context()
	d := isaoData{Today: svc.Today(ctx), TLPLevels: vigil.TLPLevels}
	var lerr error
	if d.Memberships, lerr = svc.Memberships(ctx); lerr != nil {
		return lerr
	}
	s.render(w, r, StatusOf(err), "isao", page{Title: "ISAO participation", Nav: "isao", Error: "The membership was not saved: " + vigil.ErrorMessage(err), Data: d})
	return nil
}

type membershipData struct {
	M         *vigil.ISAOMembership
	Today     vigil.Date
	Items     [4]membershipItem
	Kinds     []string
	TLPLevels []string
	MaxMiB    int
}

type membershipItem struct {
	N         int
	Asks      string
	Documents []vigil.ISAODocument
	Evidenced bool
}

func (s *Server) membershipPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderMembership(w, r, http.StatusOK, "")
}

func (s *Server) renderMembership(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	svc, m, err := s.membershipOf(r)
	if err != nil {
		return err
	}
	d := membershipData{M: m, Today: svc.Today(r.Context()), Kinds: vigil.ISAODocKinds, TLPLevels: vigil.TLPLevels, MaxMiB: vigil.MaxISAODocument >> 20}
	for i := range d.Items {
		d.Items[i] = membershipItem{N: i + 1, Asks: vigil.ISAOItems[i]}
	}
	for _, doc := range m.Documents {
		it := &d.Items[doc.Item-1]
		it.Documents = append(it.Documents, doc)
		it.Evidenced = it.Evidenced || doc.Counts(d.Today)
	}
	s.render(w, r, status, "isao_membership", page{Title: m.Name, Nav: "isao", Error: problem, Data: d})
	return nil
}

// documentUploadForm attaches an uploaded file (or a note's words) to the membership as evidence of a §IX item.
func (s *Server) documentUploadForm(w http.ResponseWriter, r *http.Request) error {
	svc, m, err := s.membershipOf(r)
	if err != nil {
		return err
	}
	err = s.addDocument(w, r, svc, m)
	if err == nil {
		return redirect(w, r, "/isao/memberships/"+itoa(m.ID)+"#documents", "isao-document")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderMembership(w, r, StatusOf(err), "The document was not attached: "+vigil.ErrorMessage(err))
}

func (s *Server) addDocument(w http.ResponseWriter, r *http.Request, svc ISAO, m *vigil.ISAOMembership) error {
	if !isMultipart(r) {
		return vigil.Errorf(vigil.EINVALID, "form: send the document as multipart/form-data")
	}
	r.Body = http.MaxBytesReader(w, r.Body, vigil.MaxISAODocument+64<<10)
	if err := parseMultipart(r); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return vigil.Errorf(vigil.EINVALID, "file: larger than %d MiB", vigil.MaxISAODocument>>20)
		}
		return vigil.Errorf(vigil.EINVALID, "form: %v", err)
	}
	f := r.MultipartForm.Value
	get := func(k string) string {
		if vs := f[k]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	item, err := strconv.Atoi(get("item"))
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "item: the §IX item it evidences, 1 to 4")
	}
	d := &vigil.ISAODocument{Item: item, Kind: get("kind"), Title: get("title")}
	for _, x := range []struct {
		key string
		dst *vigil.Date
	}{{"date", &d.Date}, {"expires", &d.Expires}} {
		if v := get(x.key); v != "" {
			if *x.dst, err = vigil.ParseDate(v); err != nil {
				return vigil.Errorf(vigil.EINVALID, "%s: %q is not a date (YYYY-MM-DD)", x.key, clipText(40, v))
			}
		}
	}
	if file, hdr, ferr := r.FormFile("file"); ferr == nil {
		defer file.Close()
		if d.Content, err = readBounded(file, vigil.MaxISAODocument, "file"); err != nil {
			return err
		}
		d.FileName = displayName(hdr.Filename)
	} else if note := get("note"); note != "" {
		d.Content = []byte(note)
	} else {
		return vigil.Errorf(vigil.EINVALID, "file: choose the document to attach (or write a note)")
	}
	if d.Title == "" {
		d.Title = vigil.Clip(vigil.MaxName, strings.TrimSpace(d.FileName+" "+get("note")))
	}
	return svc.AddDocument(r.Context(), m.Name, deviceArg(m), d, get("reason"))
}

// documentDownload serves a document's content, never inline: an attachment in a sandbox, named by its file.
func (s *Server) documentDownload(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.isao)
	if err != nil {
		return err
	}
	d, err := svc.Document(r.Context(), id)
	if err != nil {
		return err
	}
	name := d.FileName
	if name == "" {
		name = fmt.Sprintf("isao-document-%d.txt", d.ID)
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", attachmentDisposition(name))
	h.Set("Content-Security-Policy", csp+"; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(d.Content)))
	h.Set("Digest", "sha-256="+d.SHA256)
	w.Write(d.Content)
	return nil
}

// evidenceRange reads the period of an evidence view (from, to; zero when not given).
func evidenceRange(r *http.Request) (from, to vigil.Date, err error) {
	if from, err = dateQuery(r, "from"); err != nil {
		return
	}
	to, err = dateQuery(r, "to")
	return
}

func (s *Server) evidence(r *http.Request) (*isao.ParticipationEvidence, error) {
	svc, m, err := s.membershipOf(r)
	if err != nil {
		return nil, err
	}
	from, to, err := evidenceRange(r)
	if err != nil {
		return nil, err
	}
	return svc.Evidence(r.Context(), m.Name, deviceArg(m), from, to)
}

// writeEvidence exports the evidence as JSON or CSV (an attachment named by the membership and the period).
func writeEvidence(w http.ResponseWriter, ev *isao.ParticipationEvidence, format string) error {
	name := fmt.Sprintf("isao-evidence-%d-%s-%s.%s", ev.Membership.ID, ev.From, ev.To, format)
	w.Header().Set("Content-Disposition", attachmentDisposition(name))
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return ev.WriteCSV(w)
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request) error {
	ev, err := s.evidence(r)
	if err != nil {
		return err
	}
	switch f := r.URL.Query().Get("format"); f {
	case "csv", "json":
		return writeEvidence(w, ev, f)
	case "":
	default:
		return vigil.Errorf(vigil.EINVALID, "format: %q is not csv or json", clipText(20, f))
	}
	s.render(w, r, http.StatusOK, "isao_evidence", page{Title: "§IX evidence: " + ev.Membership.Name, Nav: "isao", Data: ev})
	return nil
}

type sharesData struct {
	Shares      []*vigil.ISAOShare
	Notices     []*vigil.Notice // sent notices, to share one
	Memberships []vigil.ISAOMembership
	Pending     int
}

func (s *Server) sharesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderShares(w, r, http.StatusOK, "")
}

func (s *Server) renderShares(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	ctx := r.Context()
	caseID, err := intQuery(r, "case")
	if err != nil {
		return err
	}
	d := sharesData{}
	if d.Shares, err = svc.Shares(ctx, "", caseID); err != nil {
		return err
	}
	for _, sh := range d.Shares {
		if sh.Status == vigil.SharePending {
			d.Pending++
		}
	}
	if d.Memberships, err = svc.Memberships(ctx); err != nil {
		return err
	}
	if s.svc.Notices != nil {
		ns, err := s.svc.Notices.Notices(ctx, 0)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if n.State == vigil.NoticeSent {
				d.Notices = append(d.Notices, n)
			}
		}
	}
	s.render(w, r, status, "isao_shares", page{Title: "Sharing log", Nav: "isao", Error: problem, Data: d})
	return nil
}

// shareBundleDownload answers an exported share with its bundle, as an attachment to upload to the ISAO by hand.
func shareBundleDownload(w http.ResponseWriter, name string, res *isao.ShareResult) {
	h := w.Header()
	h.Set("Content-Type", "application/stix+json;version=2.1")
	h.Set("Content-Disposition", attachmentDisposition(name))
	h.Set("Content-Security-Policy", csp+"; sandbox")
	w.WriteHeader(http.StatusOK)
	w.Write(append(res.Bundle, '\n'))
}

func (s *Server) shareNoticeForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("notice")), 10, 64)
	if err != nil || id <= 0 {
		err = vigil.Errorf(vigil.EINVALID, "notice: choose the customer notice to share")
	}
	export := r.PostFormValue("export") != ""
	var res *isao.ShareResult
	if err == nil {
		res, err = svc.ShareNotice(r.Context(), isao.NoticeShareInput{NoticeID: id, ISAO: strings.TrimSpace(r.PostFormValue("isao")), Export: export})
	}
	if err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderShares(w, r, StatusOf(err), "The notice was not shared: "+vigil.ErrorMessage(err))
	}
	if export {
		shareBundleDownload(w, fmt.Sprintf("notice-%d.stix.json", id), res)
		return nil
	}
	return redirect(w, r, "/isao/shares", "isao-shared")
}

func (s *Server) sharesStatusForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := svc.RefreshPending(r.Context()); err != nil {
		if !formRecoverable(err) && vigil.ErrorCode(err) != vigil.EUNAVAILABLE {
			return err
		}
		return s.renderShares(w, r, StatusOf(err), vigil.ErrorMessage(err))
	}
	return redirect(w, r, "/isao/shares", "isao-status")
}

// caseShareForm shares the case from its page: over TAXII (back to the case), or exported (the bundle as a
// download).
func (s *Server) caseShareForm(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.isao)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	export := r.PostFormValue("export") != ""
	res, err := svc.Share(r.Context(), isao.ShareInput{CaseID: id, ISAO: strings.TrimSpace(r.PostFormValue("isao")), Export: export})
	if err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderCase(w, r, StatusOf(err), "isao-share", "The case was not shared: "+vigil.ErrorMessage(err), r.PostForm)
	}
	if export {
		shareBundleDownload(w, fmt.Sprintf("case-%d.stix.json", id), res)
		return nil
	}
	return redirect(w, r, "/cases/"+itoa(id)+"#isao", "isao-shared")
}

type signalsData struct {
	Signals     []*vigil.ISAOSignal
	Case        int64
	Memberships []vigil.ISAOMembership // to name the ISAO a file came from
	Intake      *isao.Intake           // what a poll or a file just brought
}

func (s *Server) signalsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSignals(w, r, http.StatusOK, "")
}

func (s *Server) renderSignals(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	d := signalsData{}
	if d.Case, err = intQuery(r, "case"); err != nil {
		return err
	}
	if d.Signals, err = svc.Signals(r.Context(), "", d.Case); err != nil {
		return err
	}
	if d.Memberships, err = svc.Memberships(r.Context()); err != nil {
		return err
	}
	s.render(w, r, status, "isao_signals", page{Title: "ISAO intelligence", Nav: "isao", Error: problem, Data: d})
	return nil
}

// citeForm records that an assessment (A<id> or its number) considered the signal.
func (s *Server) citeForm(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.isao)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ref := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(r.PostFormValue("assessment"))), "A")
	aid, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || aid <= 0 {
		err = vigil.Errorf(vigil.EINVALID, "assessment: the assessment that considered it (A<number>, as the case's timeline shows it)")
	} else {
		err = svc.Cite(r.Context(), aid, []int64{id}, strings.TrimSpace(r.PostFormValue("reason")))
	}
	if err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderSignals(w, r, StatusOf(err), "The citation was not recorded: "+vigil.ErrorMessage(err))
	}
	return redirect(w, r, "/isao/signals", "isao-cited")
}

// pollForm polls the membership's TAXII collection now (everything it holds: signals already held are left as they
// are unless newer).
func (s *Server) pollForm(w http.ResponseWriter, r *http.Request) error {
	svc, m, err := s.membershipOf(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	in, err := svc.Poll(r.Context(), m.Name, "")
	if err != nil {
		if !formRecoverable(err) && vigil.ErrorCode(err) != vigil.EUNAVAILABLE {
			return err
		}
		return s.renderMembership(w, r, StatusOf(err), "The TAXII collection was not polled: "+vigil.ErrorMessage(err))
	}
	return s.renderIntake(w, r, in)
}

// signalsImportForm takes in a STIX file an ISAO sent.
func (s *Server) signalsImportForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	b, name, err := s.readUpload(w, r)
	if err == nil {
		var in *isao.Intake
		if in, err = svc.ImportSTIX(r.Context(), strings.TrimSpace(r.FormValue("isao")), name, bytes.NewReader(b)); err == nil {
			return s.renderIntake(w, r, in)
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderSignals(w, r, StatusOf(err), "The STIX file was not taken in: "+vigil.ErrorMessage(err))
}

// renderIntake shows the inbox with what a poll or a file brought.
func (s *Server) renderIntake(w http.ResponseWriter, r *http.Request, in *isao.Intake) error {
	svc, _ := s.isao()
	d := signalsData{Intake: in}
	var err error
	if d.Signals, err = svc.Signals(r.Context(), "", 0); err != nil {
		return err
	}
	d.Memberships, err = svc.Memberships(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "isao_signals", page{Title: "ISAO intelligence", Nav: "isao", Data: d})
	return nil
}

// ---- API

func (s *Server) apiPoll(w http.ResponseWriter, r *http.Request) error {
	svc, m, err := s.membershipOf(r)
	if err != nil {
		return err
	}
	in, err := svc.Poll(r.Context(), m.Name, r.URL.Query().Get("after"))
	return reply(w, http.StatusOK, in, err)
}

func (s *Server) apiSignalsImport(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	b, name, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	in, err := svc.ImportSTIX(r.Context(), r.URL.Query().Get("isao"), name, bytes.NewReader(b))
	return reply(w, http.StatusCreated, in, err)
}

func (s *Server) apiMemberships(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	ms, err := svc.Memberships(r.Context())
	return reply(w, http.StatusOK, orEmpty(ms), err)
}

func (s *Server) apiMembershipSet(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	var in membershipIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	m, err := svc.Set(r.Context(), in.input())
	return reply(w, http.StatusOK, m, err)
}

func (s *Server) apiMembership(w http.ResponseWriter, r *http.Request) error {
	_, m, err := s.membershipOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) apiDocumentAdd(w http.ResponseWriter, r *http.Request) error {
	svc, m, err := s.membershipOf(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, vigil.MaxISAODocument*4/3+64<<10) // base64 of the largest document
	var in documentIn
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return vigil.Errorf(vigil.EINVALID, "content: larger than %d MiB", vigil.MaxISAODocument>>20)
		}
		return jsonError(err)
	}
	content, err := base64.StdEncoding.DecodeString(in.Content)
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "content: not base64: %v", err)
	}
	d := &vigil.ISAODocument{Item: in.Item, Kind: in.Kind, Title: in.Title, FileName: displayName(in.FileName), Date: in.Date, Expires: in.Expires, Content: content}
	if err := svc.AddDocument(r.Context(), m.Name, deviceArg(m), d, in.Reason); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) apiDocument(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.isao)
	if err != nil {
		return err
	}
	d, err := svc.Document(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, documentOut{ISAODocument: *d, Content: base64.StdEncoding.EncodeToString(d.Content)})
	return nil
}

func (s *Server) apiEvidence(w http.ResponseWriter, r *http.Request) error {
	ev, err := s.evidence(r)
	if err != nil {
		return err
	}
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return writeEvidence(w, ev, f)
	case "", "json":
	default:
		return vigil.Errorf(vigil.EINVALID, "format: %q is not csv or json", clipText(20, f))
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

func (s *Server) apiISAOAlerts(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	al, err := svc.Alerts(r.Context())
	return reply(w, http.StatusOK, orEmpty(al), err)
}

func (s *Server) apiShares(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	c, err := intQuery(r, "case")
	if err != nil {
		return err
	}
	log, err := svc.Shares(r.Context(), r.URL.Query().Get("isao"), c)
	return reply(w, http.StatusOK, orEmpty(log), err)
}

func (s *Server) apiSharesStatus(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	log, err := svc.RefreshPending(r.Context())
	return reply(w, http.StatusOK, log, err)
}

func (s *Server) apiSignals(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	c, err := intQuery(r, "case")
	if err != nil {
		return err
	}
	sigs, err := svc.Signals(r.Context(), r.URL.Query().Get("isao"), c)
	return reply(w, http.StatusOK, orEmpty(sigs), err)
}

func (s *Server) apiCite(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.isao()
	if err != nil {
		return err
	}
	var in citeIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := svc.Cite(r.Context(), in.Assessment, in.Signals, in.Reason); err != nil {
		return err
	}
	all, err := svc.Signals(r.Context(), "", 0)
	if err != nil {
		return err
	}
	out := []*vigil.ISAOSignal{}
	for _, sg := range all {
		for _, id := range in.Signals {
			if sg.ID == id {
				out = append(out, sg)
			}
		}
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) apiCaseShare(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.isao)
	if err != nil {
		return err
	}
	var in shareIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := svc.Share(r.Context(), isao.ShareInput{CaseID: id, ISAO: in.ISAO, Export: in.Export})
	return reply(w, http.StatusCreated, res, err)
}

func (s *Server) apiNoticeShare(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.isao)
	if err != nil {
		return err
	}
	var in shareIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := svc.ShareNotice(r.Context(), isao.NoticeShareInput{NoticeID: id, ISAO: in.ISAO, Export: in.Export})
	return reply(w, http.StatusCreated, res, err)
}

// isaoExamples are the API examples of the ISAO routes (the role walk sends them).
var (
	exampleMembership = map[string]any{"name": "MDISS", "since": "2024-01-01", "until": "2027-12-31", "tlp": "amber", "contact": "members@mdiss.example",
		"reason": "Joined MDISS for the imaging line."}
	exampleDocument = map[string]any{"item": 2, "kind": "policy", "title": "Health-ISAC TLP and privacy policy 2025", "file_name": "h-isac-policies-2025.txt",
		"date": "2025-01-15", "content": "SGVhbHRoLUlTQUMgcG9saWNpZXMgMjAyNQo=", "reason": "Policies reissued."}
	exampleShare = map[string]any{"isao": "Health-ISAC", "export": true}
	exampleCite  = map[string]any{"assessment": 1, "signals": []int64{1}, "reason": "The bulletin raised the exploitability."}
)

// isaoQuery are the sharing log's and the signals' filters.
var isaoQuery = []param{{"isao", "string", "only this ISAO (its membership's name)"}, {"case", "integer", "only this case"}}

// evidenceQuery is an evidence view's period and format.
var evidenceQuery = []param{{"from", "string", "first day of the period (YYYY-MM-DD; default the membership's start)"},
	{"to", "string", "last day of the period (YYYY-MM-DD; default today)"}, {"format", "string", "json (default) or csv"}}
