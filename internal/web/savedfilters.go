package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/vigil-dev/vigil"
)

// Saved filters: a user saves the case queue's filter (and order) under a name and gets it back from a link. They
// are the user's own (vigil.SavedFilterService keeps them per user and audits each save and delete); the queue
// shows them in its own block ("saved-filters" in partials.html), apart from the queue's template.

// savedFiltersBlock is the saved-filter control: the caller's filters and the form saving the filter shown.
type savedFiltersBlock struct {
	Filters []savedFilterLink
	Query   string // the filter shown, as it would be saved
	CSRF    string
}

type savedFilterLink struct {
	*vigil.SavedFilter
	Href string
}

// caseFilterKeys are the case queue's query parameters a saved filter keeps: its filters and order, not its page.
var caseFilterKeys = func() []string {
	var keys []string
	for _, p := range caseQ {
		if p.Name != "offset" && p.Name != "limit" {
			keys = append(keys, p.Name)
		}
	}
	return keys
}()

// filterQuery keeps the case queue's filter keys of q, encoded in a stable order.
func filterQuery(q url.Values) string {
	keep := url.Values{}
	for k, vs := range q {
		if slices.Contains(caseFilterKeys, k) {
			keep[k] = vs
		}
	}
	return keep.Encode()
}

// savedFilters is the block for the queue shown with filter; nil without the service or a browser session.
func (s *Server) savedFilters(r *http.Request, filter url.Values) *savedFiltersBlock {
	sess := sessionFrom(r.Context())
	if s.svc.Filters == nil || sess == nil {
		return nil
	}
	fs, err := s.svc.Filters.SavedFilters(r.Context(), "cases")
	if err != nil {
		s.opt.Log.Warn("saved filters", "err", err)
		return nil
	}
	b := &savedFiltersBlock{Query: filterQuery(filter), CSRF: sess.CSRF}
	for _, f := range fs {
		b.Filters = append(b.Filters, savedFilterLink{SavedFilter: f, Href: "/cases?" + f.Query})
	}
	return b
}

func (s *Server) filters() (vigil.SavedFilterService, error) {
	if s.svc.Filters == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "saved filters are not available in this server")
	}
	return s.svc.Filters, nil
}

// filterSaveForm saves the filter shown under a name and shows the queue with it.
func (s *Server) filterSaveForm(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.filters()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	q, err := url.ParseQuery(r.PostFormValue("query"))
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "query: not a query string: %v", err)
	}
	f := &vigil.SavedFilter{Screen: "cases", Name: r.PostFormValue("name"), Query: filterQuery(q)}
	r.URL.RawQuery = f.Query // the queue as it was shown, to show again
	if _, err := s.caseQuery(r); err != nil {
		return err
	}
	if err := fs.SaveFilter(r.Context(), f); err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderCases(w, r, StatusOf(err), "", "The filter was not saved: "+vigil.ErrorMessage(err))
	}
	target := "/cases"
	if f.Query != "" {
		target += "?" + f.Query
	}
	return redirect(w, r, target, "filter-saved")
}

// filterDeleteForm deletes one of the caller's saved filters.
func (s *Server) filterDeleteForm(w http.ResponseWriter, r *http.Request) error {
	fs, id, err := withID(r, s.filters)
	if err != nil {
		return err
	}
	if err := fs.DeleteSavedFilter(r.Context(), id); err != nil {
		return err
	}
	return redirect(w, r, "/cases", "filter-deleted")
}
