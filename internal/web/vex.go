package web

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ---- supplier VEX: the screen and the API over vigil.VEXService

type vexData struct {
	Proposals []*vigil.VEXProposal
	State     string // the list's filter: proposed (default), accepted, rejected or all
	Import    *vigil.VEXImport
}

func vexStates(q string) ([]vigil.VEXProposalState, error) {
	switch q {
	case "", "proposed":
		return []vigil.VEXProposalState{vigil.VEXProposed}, nil
	case "all":
		return nil, nil
	}
	s := vigil.VEXProposalState(q)
	if err := vigil.OneOf("state", s, vigil.VEXProposalStates); err != nil {
		return nil, err
	}
	return []vigil.VEXProposalState{s}, nil
}

func (s *Server) vexService() (vigil.VEXService, error) {
	if s.svc.VEX == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "supplier VEX is not available in this server")
	}
	return s.svc.VEX, nil
}

func (s *Server) vexPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderVEX(w, r, http.StatusOK, nil, "")
}

func (s *Server) renderVEX(w http.ResponseWriter, r *http.Request, status int, imp *vigil.VEXImport, problem string) error {
	svc, err := s.vexService()
	if err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	states, err := vexStates(state)
	if err != nil {
		return err
	}
	ps, err := svc.VEXProposals(r.Context(), vigil.VEXFilter{States: states})
	if err != nil {
		return err
	}
	if state == "" {
		state = "proposed"
	}
	s.render(w, r, status, "vex", page{Title: "Supplier VEX", Nav: "vex", Error: problem, Data: vexData{Proposals: ps, State: state, Import: imp}})
	return nil
}

// importVEX reads the upload (multipart field "file" or the raw body) and imports it, for one version when the
// query or form names it.
func (s *Server) importVEX(w http.ResponseWriter, r *http.Request) (*vigil.VEXImport, error) {
	svc, err := s.vexService()
	if err != nil {
		return nil, err
	}
	b, name, err := s.readUpload(w, r)
	if err != nil {
		return nil, err
	}
	version, err := intQuery(r, "version")
	if err != nil {
		return nil, err
	}
	return svc.ImportVEX(r.Context(), name, bytes.NewReader(b), version)
}

func (s *Server) vexUploadForm(w http.ResponseWriter, r *http.Request) error {
	res, err := s.importVEX(w, r)
	if err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderVEX(w, r, StatusOf(err), nil, "The VEX document was not imported: "+vigil.ErrorMessage(err))
	}
	return s.renderVEX(w, r, http.StatusOK, res, "")
}

func (s *Server) vexDecideForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	svc, err := s.vexService()
	if err != nil {
		return err
	}
	d := r.PostFormValue("decision")
	if d != "accept" && d != "reject" {
		return vigil.Errorf(vigil.EINVALID, "decision: accept or reject")
	}
	if _, err := svc.DecideVEX(r.Context(), id, d == "accept", strings.TrimSpace(r.PostFormValue("reason"))); err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderVEX(w, r, StatusOf(err), nil, "The proposal was not decided: "+vigil.ErrorMessage(err))
	}
	return redirect(w, r, "/vex", "vex-"+d)
}

func (s *Server) apiVEXImport(w http.ResponseWriter, r *http.Request) error {
	res, err := s.importVEX(w, r)
	return reply(w, http.StatusCreated, res, err)
}

func (s *Server) apiVEXProposals(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.vexService()
	if err != nil {
		return err
	}
	states, err := vexStates(r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	finding, err := intQuery(r, "finding")
	if err != nil {
		return err
	}
	ps, err := svc.VEXProposals(r.Context(), vigil.VEXFilter{States: states, FindingID: finding})
	return reply(w, http.StatusOK, ps, err)
}

// vexDecisionIn accepts or rejects a proposal.
type vexDecisionIn struct {
	Accept bool   `json:"accept"` // true accepts (not_affected and fixed close the finding), false rejects
	Reason string `json:"reason"` // required
}

func (s *Server) apiVEXDecide(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var in vexDecisionIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	svc, err := s.vexService()
	if err != nil {
		return err
	}
	p, err := svc.DecideVEX(r.Context(), id, in.Accept, in.Reason)
	return reply(w, http.StatusOK, p, err)
}
