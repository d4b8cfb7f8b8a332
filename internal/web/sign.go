package web

import (
	"cmp"
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

// Part 11 electronic signatures: the case page's signing dialog (the determination, signed with the password typed
// again), the API's sign and list calls, and the manifestation shown under each signed record of the timeline.

func (s *Server) signing() (vigil.SignatureService, error) {
	if s.svc.Signing == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "electronic signatures are not available in this server")
	}
	return s.svc.Signing, nil
}

// signTimeline puts the manifestation of every signature under the record it signs (A1, E2, a signed act ...).
func (s *Server) signTimeline(ctx context.Context, items []timelineItem) {
	if s.svc.Signing == nil {
		return
	}
	ids := map[string][]int64{}
	for _, it := range items {
		if it.signKind != "" {
			ids[it.signKind] = append(ids[it.signKind], it.signID)
		}
	}
	type rec struct {
		kind string
		id   int64
	}
	lines := map[rec][]string{}
	zone := s.zone(ctx)
	for kind, list := range ids {
		sigs, err := s.svc.Signing.Signatures(ctx, kind, list...)
		if err != nil {
			continue // the timeline still shows the records; the signatures' own page is the API
		}
		for _, sg := range sigs {
			lines[rec{kind, sg.RecordID}] = append(lines[rec{kind, sg.RecordID}], sg.Manifest(zone))
		}
	}
	for i := range items {
		items[i].Signatures = lines[rec{items[i].signKind, items[i].signID}]
	}
}

// sign re-authenticates and signs through the sign-in limits, so that a session cannot be used to guess its
// user's password (or a colleague's) by signing: wrong passwords count and back off as at sign-in.
func (s *Server) sign(r *http.Request, req vigil.SignRequest) (*vigil.Signature, error) {
	svc, err := s.signing()
	if err != nil {
		return nil, err
	}
	addr := s.clientAddr(r)
	if ok, wait := s.login.admit(req.Signer, addr); !ok {
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "too many wrong passwords: try again in %d seconds", int((wait+time.Second-1)/time.Second))
	}
	sig, err := svc.Sign(r.Context(), req)
	switch vigil.ErrorCode(err) {
	case "":
		s.login.succeeded(req.Signer, addr)
	case vigil.EUNAUTHORIZED:
		s.login.failed(req.Signer, addr)
	}
	return sig, err
}

// caseSign signs the case's determination (its latest standing assessment) from the case page's dialog.
func (s *Server) caseSign(r *http.Request, id int64) error {
	if _, err := vigil.Authorize(r.Context(), vigil.PermSign); err != nil {
		return err // a role that may not sign is refused as on every form, before the dialog's own answers
	}
	v, err := s.svc.Cases.CaseView(r.Context(), id, vigil.Date{})
	if err != nil {
		return err
	}
	if len(v.Assessments) == 0 {
		return vigil.Errorf(vigil.EINVALID, "the case has no assessment to sign: assess it first")
	}
	req := signRequestForm(r)
	req.Kind, req.RecordID = "assessment", v.Assessments[len(v.Assessments)-1].ID
	_, err = s.sign(r, req)
	if c := vigil.ErrorCode(err); c == vigil.EUNAUTHORIZED || c == vigil.EFORBIDDEN {
		// A refused signature is the dialog's answer, not the session's: the page says why (the session stays).
		return vigil.Errorf(vigil.EINVALID, "%s", vigil.ErrorMessage(err))
	}
	return err
}

// signRequestForm reads a signing form's fields (the "signfields" partial): the meaning, the signer's user name,
// and the password or the one-time signing code. The caller names the record.
func signRequestForm(r *http.Request) vigil.SignRequest {
	return vigil.SignRequest{Meaning: vigil.SignatureMeaning(r.PostFormValue("meaning")), Signer: strings.TrimSpace(r.PostFormValue("signer")),
		Password: r.PostFormValue("password"), Code: strings.TrimSpace(r.PostFormValue("code"))}
}

// StepUp issues one-time signing codes after a fresh sign-in at the organization's OpenID Connect provider
// (esign.Service with its provider): how a user who signs in through single sign-on, and has no Vigil password,
// signs, in the browser, on the command line or through the API.
type StepUp interface {
	// Kinds lists the kinds of record a signature may sign.
	Kinds() []string
	StartStepUp(ctx context.Context, kind, next string) (authURL string, p vigil.StepUp, err error)
	FinishStepUp(ctx context.Context, p vigil.StepUp, state, code string) (signingCode string, expires time.Time, err error)
}

// stepUpCookie carries the step-up to the provider and back, like ssoCookie a sign-in: HttpOnly, Lax (it comes
// back on the provider's top-level redirect), one use. Its fields are bound by the nonce the ID token holds.
const stepUpCookie = "vigil_stepup"

// signCodeCookie brings the one-time signing code a step-up issued to the page the signer came from, which fills
// it into its signing form, or to the step-up page, which shows it: HttpOnly (no script reads it), Lax, read once
// (the page that shows it clears it) and gone when the code expires. The code is never in a URL, so no log or
// Referer holds it.
const signCodeCookie = "vigil_signcode"

// signCode is a one-time signing code a step-up issued to this browser's user.
type signCode struct {
	Code    string
	Kind    string
	Expires time.Time
}

// pendingSignCode reads the browser's signing code, nil when none or expired.
func pendingSignCode(r *http.Request) *signCode {
	c, err := r.Cookie(signCodeCookie)
	if err != nil {
		return nil
	}
	f := strings.SplitN(c.Value, " ", 3)
	if len(f) != 3 {
		return nil
	}
	exp, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || time.Now().Unix() >= exp {
		return nil
	}
	return &signCode{Kind: f[0], Expires: time.Unix(exp, 0).UTC(), Code: f[2]}
}

// stepUpStart sends the browser to the provider for a fresh sign-in that issues a one-time signing code for a
// signature of the posted kind (stepup_kind), and then back to stepup_next (a page of this server; the step-up
// page by default). A signing form posts here with its button "Re-authenticate with SSO".
func (s *Server) stepUpStart(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := vigil.Authorize(r.Context(), vigil.PermSign); err != nil {
		return err // a role that may not sign is told so, with or without single sign-on
	}
	if s.svc.StepUp == nil {
		return vigil.Errorf(vigil.ENOTFOUND, "signing through the provider needs single sign-on: sign with your password")
	}
	next := "/sign/step-up"
	if n := r.PostFormValue("stepup_next"); n != "" {
		next = safeNext(n)
	}
	u, p, err := s.svc.StepUp.StartStepUp(r.Context(), strings.TrimSpace(r.PostFormValue("stepup_kind")), next)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: stepUpCookie, Value: strings.Join([]string{p.State, p.Nonce, p.Verifier, p.Kind,
		strconv.FormatInt(p.Asked.Unix(), 10), p.Next}, " "),
		Path: "/login/sso", HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// stepUpBack finishes a step-up when the provider's answer belongs to one (its state is the step-up cookie's); ok
// is false when it does not (a sign-in's answer). The code issued goes back to the page the step-up came from.
func (s *Server) stepUpBack(w http.ResponseWriter, r *http.Request) (ok bool, err error) {
	c, err := r.Cookie(stepUpCookie)
	if err != nil || s.svc.StepUp == nil {
		return false, nil
	}
	f := strings.SplitN(c.Value, " ", 6)
	state := r.URL.Query().Get("state")
	if len(f) != 6 || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f[0])) != 1 {
		return false, nil
	}
	// One use: the pending step-up is cleared whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: stepUpCookie, Value: "", Path: "/login/sso", MaxAge: -1})
	asked, _ := strconv.ParseInt(f[4], 10, 64)
	p := vigil.StepUp{State: f[0], Nonce: f[1], Verifier: f[2], Kind: f[3], Asked: time.Unix(asked, 0).UTC(), Next: safeNext(f[5])}
	if e := r.URL.Query().Get("error"); e != "" {
		return true, vigil.Errorf(vigil.EFORBIDDEN, "no signing code was issued: the provider answered %s", vigil.Clip(100, e))
	}
	code, expires, err := s.svc.StepUp.FinishStepUp(r.Context(), p, state, r.URL.Query().Get("code"))
	if err != nil {
		if vigil.ErrorCode(err) == vigil.EUNAUTHORIZED {
			// A refused step-up is the signing's answer, not the session's: the session stays.
			return true, vigil.Errorf(vigil.EFORBIDDEN, "%s", vigil.ErrorMessage(err))
		}
		return true, err
	}
	http.SetCookie(w, &http.Cookie{Name: signCodeCookie, Value: strings.Join([]string{p.Kind, strconv.FormatInt(expires.Unix(), 10), code}, " "),
		Path: "/", HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: expires})
	return true, redirect(w, r, p.Next, "step-up")
}

// stepUpPage is where a user who signs in through single sign-on gets a one-time signing code for the command
// line or the API: pick the kind of record, sign in again at the provider, and the code is shown here with its
// expiry.
func (s *Server) stepUpPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := vigil.Authorize(r.Context(), vigil.PermSign); err != nil {
		return err
	}
	d := stepUpData{Enabled: s.svc.StepUp != nil, Code: pendingSignCode(r)}
	if d.Enabled {
		for _, k := range s.svc.StepUp.Kinds() {
			d.Kinds = append(d.Kinds, signKind{Kind: k, Label: cmp.Or(signKindLabels[k], humanize(k))})
		}
	}
	s.render(w, r, http.StatusOK, "stepup", page{Title: "Signing code", Data: d})
	return nil
}

type stepUpData struct {
	Kinds   []signKind
	Enabled bool // single sign-on is configured
	Code    *signCode
}

// signKind is a kind of record a signature may sign, as the step-up page offers it.
type signKind struct{ Kind, Label string }

// signKindLabels say what the kinds of record are that a step-up page names.
var signKindLabels = map[string]string{
	"assessment":    "a determination (a case's assessment)",
	"case_event":    "a case event (customer notified, fix validated, 806 filed ...)",
	"regdoc_record": "a regulatory record (806 report filed, 806.20 sign-off, premarket decision)",
}

func (s *Server) apiSign(w http.ResponseWriter, r *http.Request) error {
	var in vigil.SignRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	sig, err := s.sign(r, in)
	return reply(w, http.StatusCreated, sig, err)
}

func (s *Server) apiSignatures(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.signing()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var ids []int64
	for _, v := range q["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return vigil.Errorf(vigil.EINVALID, "id: %q is not a record id", clipText(40, v))
		}
		ids = append(ids, id)
	}
	if q.Get("kind") == "" || len(ids) == 0 {
		return vigil.Errorf(vigil.EINVALID, "kind and id: name the records (?kind=assessment&id=12)")
	}
	sigs, err := svc.Signatures(r.Context(), q.Get("kind"), ids...)
	return reply(w, http.StatusOK, sigs, err)
}

// formSignature reads the signing fields every form of a signed act carries (meaning, signer, password; the
// signing dialog's pattern): nil when neither a password nor a one-time signing code was typed (the user name
// comes prefilled).
func formSignature(r *http.Request) *vigil.SignRequest {
	sr := signRequestForm(r)
	if sr.Password == "" && sr.Code == "" {
		return nil
	}
	return &sr
}

// signed runs act, whose request carries the signature sig (nil for none), through the sign-in limits as a
// signing is: wrong passwords count and back off. A wrong password is the form's (or call's) answer, not the
// session's: EINVALID with the reason.
func (s *Server) signed(r *http.Request, sig *vigil.SignRequest, act func() error) error {
	if sig == nil {
		return act()
	}
	addr := s.clientAddr(r)
	if ok, wait := s.login.admit(sig.Signer, addr); !ok {
		return vigil.Errorf(vigil.EINVALID, "signature: too many wrong passwords: try again in %d seconds", int((wait+time.Second-1)/time.Second))
	}
	err := act()
	switch vigil.ErrorCode(err) {
	case "":
		s.login.succeeded(sig.Signer, addr)
	case vigil.EUNAUTHORIZED:
		s.login.failed(sig.Signer, addr)
	}
	if vigil.ErrorCode(err) == vigil.EUNAUTHORIZED {
		return vigil.Errorf(vigil.EINVALID, "signature: %s", vigil.ErrorMessage(err))
	}
	return err
}

// signingIn switches the signature requirement of one act on or off, with the reason (`vigil signing-policy`).
type signingIn struct {
	Act      vigil.SignedAct `json:"act"`
	Required bool            `json:"required"`
	Reason   string          `json:"reason"`
}

func (s *Server) setSigning(r *http.Request, in signingIn) error {
	svc, err := s.signing()
	if err != nil {
		return err
	}
	_, err = svc.SetRequirement(r.Context(), in.Act, in.Required, in.Reason)
	return err
}

func (s *Server) signingForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	err := s.setSigning(r, signingIn{Act: vigil.SignedAct(r.PostFormValue("act")), Required: r.PostFormValue("required") == "true", Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	if err == nil {
		return redirect(w, r, "/settings#signing-policy", "")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderSettings(w, r, http.StatusUnprocessableEntity, page{Error: vigil.ErrorMessage(err)}, nil, nil)
}

func (s *Server) apiSigning(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.signing()
	if err != nil {
		return err
	}
	if r.Method == http.MethodPost {
		var in signingIn
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if err := s.setSigning(r, in); err != nil {
			return err
		}
	}
	rs, err := svc.Requirements(r.Context())
	return reply(w, http.StatusOK, rs, err)
}
