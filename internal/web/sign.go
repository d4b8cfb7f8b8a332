package web

import (
	"context"
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

// signTimeline puts the manifestation of every signature under the record it signs (A1, E2 ...).
func (s *Server) signTimeline(ctx context.Context, items []timelineItem) {
	if s.svc.Signing == nil {
		return
	}
	ids := map[string][]int64{}
	kinds := map[string]string{vigil.RecordAssessment: "assessment", vigil.RecordEvent: "case_event"}
	for _, it := range items {
		if ref, err := vigil.ParseRecordRef(it.Ref); err == nil {
			ids[kinds[ref.Kind]] = append(ids[kinds[ref.Kind]], ref.ID)
		}
	}
	lines := map[string][]string{}
	zone := s.zone(ctx)
	for kind, list := range ids {
		sigs, err := s.svc.Signing.Signatures(ctx, kind, list...)
		if err != nil {
			continue // the timeline still shows the records; the signatures' own page is the API
		}
		for _, sg := range sigs {
			ref := vigil.RecordRef{Kind: vigil.RecordAssessment, ID: sg.RecordID}
			if kind == "case_event" {
				ref.Kind = vigil.RecordEvent
			}
			lines[ref.String()] = append(lines[ref.String()], sg.Manifest(zone))
		}
	}
	for i := range items {
		items[i].Signatures = lines[items[i].Ref]
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
	_, err = s.sign(r, vigil.SignRequest{Kind: "assessment", RecordID: v.Assessments[len(v.Assessments)-1].ID,
		Meaning: vigil.SignatureMeaning(r.PostFormValue("meaning")), Signer: strings.TrimSpace(r.PostFormValue("signer")), Password: r.PostFormValue("password")})
	if c := vigil.ErrorCode(err); c == vigil.EUNAUTHORIZED || c == vigil.EFORBIDDEN {
		// A refused signature is the dialog's answer, not the session's: the page says why (the session stays).
		return vigil.Errorf(vigil.EINVALID, "%s", vigil.ErrorMessage(err))
	}
	return err
}

func (s *Server) apiSign(w http.ResponseWriter, r *http.Request) error {
	var in vigil.SignRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	sig, err := s.sign(r, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sig)
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sigs)
	return nil
}
