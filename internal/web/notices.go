package web

import (
	"net/http"

	"github.com/vigil-dev/vigil"
)

// ---- customer notices and CSAF advisories: the list screen and the list API, over vigil.NoticeService and
// Advisories (drafting, sending and publishing are on the command line for now).

type noticesData struct {
	Notices    []*vigil.Notice
	Advisories []*vigil.SecurityAdvisory
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
	return s.renderNotices(w, r, http.StatusOK, "")
}

func (s *Server) renderNotices(w http.ResponseWriter, r *http.Request, status int, problem string) error {
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
	d := noticesData{Notices: list, Advisories: advs}
	if _, err := as.Publisher(r.Context()); err != nil {
		d.Unpublished = vigil.ErrorMessage(err)
	}
	s.render(w, r, status, "notices", page{Title: "Notices and advisories", Nav: "notices", Error: problem, Data: d})
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) apiAdvisories(w http.ResponseWriter, r *http.Request) error {
	as, err := s.advisories()
	if err != nil {
		return err
	}
	list, err := as.Advisories(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}
