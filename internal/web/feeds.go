package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/service/intel"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

// The feed sources screen's actions, as `vigil feeds set|sync` and `vigil import` do them: configure a feed (its
// source, URL, schedule, on or off), sync one now (recorded like a scheduled sync, the portfolio re-matched), and
// import an uploaded feed file. Each goes through the intel service, which checks PermImport and audits the
// configuration; an import run records itself.

// Feeds configures and syncs the feed sources (internal/service/intel.Service). Each call authorizes itself:
// reads need PermRead, changes and syncs PermImport. EINVALID names the field.
type Feeds interface {
	Feed(ctx context.Context, name string) (*vigil.Feed, error)
	SetFeed(ctx context.Context, f *vigil.Feed) error
	// SyncFeed syncs one feed now and re-matches the portfolio; the attempt is recorded either way.
	SyncFeed(ctx context.Context, name string) (*intel.Result, error)
}

// feedResult is what a sync or an upload just did, shown at the top of the sources page.
type feedResult struct {
	What   string
	Result *intel.Result
}

// feedForm is the configuration form, stored or as sent.
type feedForm struct {
	Values  url.Values
	Sources []string
	Editing bool   // an existing feed: its name is fixed
	CSRF    string // the session's token, for the form's partial template
}

func newFeedForm(v url.Values, editing bool) *feedForm {
	return &feedForm{Values: v, Sources: vigil.FeedSources, Editing: editing}
}

func (f *feedForm) withCSRF(r *http.Request) {
	if sess := sessionFrom(r.Context()); sess != nil {
		f.CSRF = sess.CSRF
	}
}

func (s *Server) feeds() (Feeds, error) {
	if s.svc.Feeds == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "feed configuration is not available in this server")
	}
	return s.svc.Feeds, nil
}

func (s *Server) feedPage(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.feeds()
	if err != nil {
		return err
	}
	f, err := fs.Feed(r.Context(), chiParam(r, "feed"))
	if err != nil {
		return err
	}
	v := url.Values{"name": {f.Name}, "source": {f.Source}, "url": {f.URL}, "every": {vigil.ScheduleText(f.Every)}}
	if f.Enabled {
		v.Set("enabled", "1")
	}
	return s.renderFeed(w, r, http.StatusOK, "", f.Name, newFeedForm(v, true))
}

func (s *Server) renderFeed(w http.ResponseWriter, r *http.Request, status int, formErr, name string, f *feedForm) error {
	f.withCSRF(r)
	s.render(w, r, status, "feed", page{Title: "Feed " + name, Nav: "sources", Error: formErr, Data: f})
	return nil
}

// feedSaveForm configures a feed: a new one from the sources page, or an existing one from its page.
func (s *Server) feedSaveForm(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.feeds()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := r.PostForm
	f := &vigil.Feed{Name: strings.TrimSpace(v.Get("name")), Source: v.Get("source"), URL: strings.TrimSpace(v.Get("url")), Enabled: v.Get("enabled") != ""}
	every := strings.TrimSpace(v.Get("every"))
	if f.Every, err = time.ParseDuration(every); err != nil {
		err = vigil.Errorf(vigil.EINVALID, "every: %q is not a duration such as 2h or 24h", clipText(40, every))
	}
	if err == nil {
		if err = fs.SetFeed(r.Context(), f); err == nil {
			return redirect(w, r, "/sources", "feed-saved")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	msg := "The feed was not saved: " + vigil.ErrorMessage(err)
	if v.Get("editing") != "" {
		return s.renderFeed(w, r, StatusOf(err), msg, f.Name, newFeedForm(v, true))
	}
	return s.renderSources(w, r, StatusOf(err), page{Error: msg}, sourcesExtra{Form: newFeedForm(v, false)})
}

// feedSyncForm syncs one feed now. A failed sync is recorded on the feed (its row shows the error) and said on the
// page; it is not a form the user can correct.
func (s *Server) feedSyncForm(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.feeds()
	if err != nil {
		return err
	}
	name := chiParam(r, "feed")
	res, err := fs.SyncFeed(r.Context(), name)
	if err != nil {
		code := vigil.ErrorCode(err)
		if code == vigil.EFORBIDDEN || code == vigil.ENOTFOUND || code == vigil.EUNAUTHORIZED {
			return err
		}
		return s.renderSources(w, r, StatusOf(err), page{Error: "The sync of " + name + " failed: " + vigil.ErrorMessage(err)}, sourcesExtra{})
	}
	return s.renderSources(w, r, http.StatusOK, page{}, sourcesExtra{Result: &feedResult{What: "Synced " + name, Result: res}})
}

// rematchForm re-matches every device version now (or a device's, or one version: the same fields as the API's),
// as `vigil portfolio rematch` does, and shows what it did.
func (s *Server) rematchForm(w http.ResponseWriter, r *http.Request) error {
	res, err := s.rematch(r)
	if err != nil {
		return err
	}
	return s.renderSources(w, r, http.StatusOK, page{}, sourcesExtra{Rematch: &res})
}

// apiRematch re-matches every device version, a device's (device) or one version (version), as `vigil portfolio
// rematch [--device D [--version V]]` does.
func (s *Server) apiRematch(w http.ResponseWriter, r *http.Request) error {
	res, err := s.rematch(r)
	return reply(w, http.StatusOK, res, err)
}

// rematch re-matches the versions the request names (device and version ids, from the query or the form; none:
// every version). A version of another device than device is EINVALID, an unknown one ENOTFOUND.
func (s *Server) rematch(r *http.Request) (portfolio.RematchResult, error) {
	if s.svc.Rematch == nil {
		return portfolio.RematchResult{}, vigil.Errorf(vigil.ENOTFOUND, "re-matching is not available in this server")
	}
	var ids [2]int64
	for i, name := range []string{"device", "version"} {
		v := strings.TrimSpace(r.FormValue(name))
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return portfolio.RematchResult{}, vigil.Errorf(vigil.EINVALID, "%s: %q is not an id", name, clipText(40, v))
		}
		ids[i] = n
	}
	device, version := ids[0], ids[1]
	var opt portfolio.RematchOptions
	switch {
	case version != 0:
		v, err := s.svc.Portfolio.Version(r.Context(), version)
		if err != nil {
			return portfolio.RematchResult{}, err
		}
		if device != 0 && v.DeviceID != device {
			return portfolio.RematchResult{}, vigil.Errorf(vigil.EINVALID, "version: version %d is not one of device %d's", version, device)
		}
		opt.VersionIDs = []int64{v.ID}
	case device != 0:
		if _, err := s.svc.Portfolio.Device(r.Context(), device); err != nil {
			return portfolio.RematchResult{}, err
		}
		vs, err := s.svc.Portfolio.Versions(r.Context(), device)
		if err != nil {
			return portfolio.RematchResult{}, err
		}
		opt.VersionIDs = make([]int64, len(vs))
		for i, v := range vs {
			opt.VersionIDs[i] = v.ID
		}
	}
	return s.svc.Rematch.Rematch(r.Context(), opt)
}

// feedUploadForm imports an uploaded feed file (OSV, NVD, KEV, EPSS, CSAF or STIX; .zip and .gz accepted) in one
// transaction, then re-matches the portfolio, as the API's /api/v1/imports does.
func (s *Server) feedUploadForm(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Importer == nil {
		return vigil.Errorf(vigil.ENOTFOUND, "feed import is not available in this server")
	}
	b, name, err := s.readUpload(w, r)
	src := r.FormValue("source")
	if src == "" {
		src = "auto"
	}
	if err == nil {
		err = vigil.OneOf("source", src, importSources)
	}
	var res *intel.Result
	if err == nil {
		var release func()
		if release, err = s.reserveParse(r.Context(), int64(len(b)), importAmplification); err == nil {
			res, err = s.svc.Importer.Upload(r.Context(), src, bytes.NewReader(b), name)
			release()
		}
	}
	if err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderSources(w, r, StatusOf(err), page{Error: "The file was not imported (nothing was kept): " + vigil.ErrorMessage(err)}, sourcesExtra{})
	}
	return s.renderSources(w, r, http.StatusOK, page{}, sourcesExtra{Result: &feedResult{What: "Imported " + name, Result: res}})
}
