package web

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

// ---- sources and imports

type sourcesData struct {
	Available bool
	Sources   []Source
	Runs      []*vigil.IntelRun
	Now       time.Time
	sourcesExtra
	ImportSources []string
}

// sourcesExtra is what an action adds to the sources page: what a sync or an upload did, or the new feed's form as
// sent when it was refused.
type sourcesExtra struct {
	Result  *feedResult
	Rematch *portfolio.RematchResult
	Form    *feedForm
}

func (s *Server) sources(r *http.Request) ([]Source, error) {
	if _, err := vigil.Authorize(r.Context(), vigil.PermRead); err != nil {
		return nil, err
	}
	if s.svc.Sources == nil {
		return []Source{}, nil
	}
	src, err := s.svc.Sources.Sources(r.Context())
	if src == nil {
		src = []Source{}
	}
	return src, err
}

func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSources(w, r, http.StatusOK, page{}, sourcesExtra{})
}

func (s *Server) renderSources(w http.ResponseWriter, r *http.Request, status int, p page, extra sourcesExtra) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	src, err := s.sources(r)
	if err != nil {
		return err
	}
	if format != "" {
		t := table{Header: []string{"name", "url", "schedule", "last_attempt", "last_success", "failures", "last_error", "next_run"}}
		for _, x := range src {
			t.Rows = append(t.Rows, []string{x.Name, x.URL, x.Schedule, fmtTimeCSV(x.LastAttempt), fmtTimeCSV(x.LastSuccess), strconv.Itoa(x.Failures), x.LastError, fmtTimeCSV(x.NextRun)})
		}
		return export(w, format, "sources", src, t)
	}
	data := sourcesData{Available: s.svc.Sources != nil, Sources: src, Now: s.opt.Clock.Now(), sourcesExtra: extra, ImportSources: importSources}
	if data.Form == nil {
		data.Form = newFeedForm(url.Values{"every": {"24h"}, "enabled": {"1"}}, false)
	}
	data.Form.withCSRF(r)
	if s.svc.Sources != nil {
		if data.Runs, err = s.svc.Sources.Runs(r.Context(), 20); err != nil {
			return err
		}
	}
	p.Title, p.Nav, p.Data = "Sources", "sources", data
	s.render(w, r, status, "sources", p)
	return nil
}

func (s *Server) apiSources(w http.ResponseWriter, r *http.Request) error {
	src, err := s.sources(r)
	return reply(w, http.StatusOK, src, err)
}

var importSources = []string{"auto", vigil.SourceNVD, vigil.SourceOSV, vigil.SourceKEV, vigil.SourceEPSS, vigil.SourceCSAF, vigil.SourceSTIX}

func (s *Server) apiImport(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Importer == nil {
		return vigil.Errorf(vigil.ENOTFOUND, "feed import through the API is not available in this server")
	}
	src := r.URL.Query().Get("source")
	if src == "" {
		src = "auto"
	}
	if err := vigil.OneOf("source", src, importSources); err != nil {
		return err
	}
	b, name, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	release, err := s.reserveParse(r.Context(), int64(len(b)), importAmplification)
	if err != nil {
		return err
	}
	defer release()
	res, err := s.svc.Importer.Upload(r.Context(), src, bytes.NewReader(b), name)
	return reply(w, http.StatusCreated, res, err)
}

// ---- audit trail

func (s *Server) auditFilter(r *http.Request) (vigil.AuditFilter, error) {
	q := r.URL.Query()
	f := vigil.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id"))}
	for _, v := range []string{f.Actor, f.Action, f.ObjectType, f.ObjectID} {
		if len(v) > 200 {
			return f, vigil.Errorf(vigil.EINVALID, "filter: longer than 200 characters")
		}
	}
	since, err := dateQuery(r, "since")
	if err != nil {
		return f, err
	}
	// Days are the organization's: "since 2025-06-02" starts at its midnight there.
	zone := s.zone(r.Context())
	f.Since = since.In(zone)
	if u := strings.TrimSpace(q.Get("until")); u != "" {
		// A full time is the "older" cursor; a date is a day filter (exclusive).
		if t, err := time.Parse(time.RFC3339Nano, u); err == nil {
			f.Until = t
		} else if d, err := vigil.ParseDate(u); err == nil {
			f.Until = d.In(zone)
		} else {
			return f, vigil.Errorf(vigil.EINVALID, "until: %q is not a date (YYYY-MM-DD) or an RFC 3339 time", clipText(40, u))
		}
	}
	limit, err := intQuery(r, "limit")
	if err != nil {
		return f, err
	}
	f.Limit = int(min(limit, 1000))
	if f.Limit == 0 {
		f.Limit = 100
	}
	return f, nil
}

type auditData struct {
	Filter vigil.AuditFilter
	Events []*vigil.AuditEvent
	Older  string // the cursor of the next page
	Query  url.Values
	Link   string
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	f, err := s.auditFilter(r)
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	if format != "" {
		f.Limit = 10000
	}
	evs, err := s.svc.Audit.Events(r.Context(), f)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []*vigil.AuditEvent{}
	}
	if format != "" {
		t := table{Header: []string{"seq", "time", "actor", "action", "object_type", "object_id", "reason", "old", "new", "hash"}}
		for _, e := range evs {
			t.Rows = append(t.Rows, []string{itoa(e.Seq), e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Reason, string(e.Old), string(e.New), e.Hash})
		}
		return export(w, format, "audit", evs, t)
	}
	data := auditData{Filter: f, Events: evs, Query: r.URL.Query()}
	if len(evs) == f.Limit && len(evs) > 0 {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "until" && k != "done" {
				q[k] = v
			}
		}
		q.Set("until", evs[len(evs)-1].Time.UTC().Format(time.RFC3339Nano))
		data.Older = "/audit?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", page{Title: "Audit trail", Nav: "audit", Data: data})
	return nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.auditFilter(r)
	if err != nil {
		return err
	}
	evs, err := s.svc.Audit.Events(r.Context(), f)
	return reply(w, http.StatusOK, orEmpty(evs), err)
}

func (s *Server) auditVerifyForm(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.svc.Audit.VerifyChain(r.Context())
	if err != nil {
		if vigil.ErrorCode(err) == vigil.EINVALID {
			// A broken chain is the finding, not a form mistake: say it loudly on the audit page.
			evs, _ := s.svc.Audit.Events(r.Context(), vigil.AuditFilter{Limit: 100})
			s.render(w, r, http.StatusConflict, "audit", page{Title: "Audit trail", Nav: "audit", Error: "THE AUDIT CHAIN DID NOT VERIFY: " + vigil.ErrorMessage(err),
				Data: auditData{Events: evs, Query: url.Values{}}})
			return nil
		}
		return err
	}
	evs, err := s.svc.Audit.Events(r.Context(), vigil.AuditFilter{Limit: 100})
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "audit", page{Title: "Audit trail", Nav: "audit",
		Notice: "The audit chain verified: " + strconv.FormatInt(cp.Count, 10) + " events, head " + clipText(16, cp.Head) + "; " +
			strconv.FormatInt(cp.Records, 10) + " records match the trail.",
		Data: auditData{Events: evs, Query: url.Values{}}})
	return nil
}

func (s *Server) apiAuditVerify(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.svc.Audit.VerifyChain(r.Context())
	return reply(w, http.StatusOK, cp, err)
}

// ---- users

type usersData struct {
	Users  []*vigil.User
	Roles  []string
	Form   url.Values
	Secret string // a token secret just created, shown once
	Token  string
	Tokens []*vigil.Token // the signed-in user's own tokens (account page)
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderUsers(w, r, http.StatusOK, page{}, nil)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, p page, form url.Values) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	us, err := s.svc.Users.Users(r.Context())
	if err != nil {
		return err
	}
	if us == nil {
		us = []*vigil.User{}
	}
	if format != "" {
		t := table{Header: []string{"id", "name", "role", "disabled", "created_at"}}
		for _, u := range us {
			t.Rows = append(t.Rows, []string{itoa(u.ID), u.Name, u.Role, strconv.FormatBool(u.Disabled), fmtTimeCSV(u.CreatedAt)})
		}
		return export(w, format, "users", us, t)
	}
	data, _ := p.Data.(usersData)
	data.Users, data.Roles, data.Form = us, vigil.Roles, form
	p.Title, p.Nav, p.Data = "Users", "users", data
	s.render(w, r, status, "users", p)
	return nil
}

func (s *Server) userCreateForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	u := &vigil.User{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role")}
	err := s.svc.Users.CreateUser(r.Context(), u, r.PostFormValue("password"))
	if err == nil {
		return redirect(w, r, "/users", "user")
	}
	if !formRecoverable(err) {
		return err
	}
	form := url.Values{"name": {u.Name}, "role": {u.Role}} // never echo the password
	return s.renderUsers(w, r, StatusOf(err), page{Error: "The user was not created: " + vigil.ErrorMessage(err)}, form)
}

// back returns where a user form should land: the users page for an admin, the account page otherwise.
func back(r *http.Request) string {
	if can(r, vigil.PermUsers) {
		return "/users"
	}
	return "/account"
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	name := chiParam(r, "name")
	err := s.svc.Users.SetPassword(r.Context(), name, r.PostFormValue("password"))
	if err == nil {
		if a, _ := vigil.ActorFrom(r.Context()); a.Name == name {
			// Changing one's own password ends every session, this one included.
			return redirect(w, r, "/login", "password")
		}
		return redirect(w, r, back(r), "password")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderUserError(w, r, err, "The password was not changed: ")
}

func (s *Server) renderUserError(w http.ResponseWriter, r *http.Request, err error, prefix string) error {
	if can(r, vigil.PermUsers) {
		return s.renderUsers(w, r, StatusOf(err), page{Error: prefix + vigil.ErrorMessage(err)}, nil)
	}
	return s.renderAccount(w, r, StatusOf(err), page{Error: prefix + vigil.ErrorMessage(err)})
}

// renderAccount renders the account page with the signed-in user's own tokens.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, p page) error {
	data, _ := p.Data.(usersData)
	if a, ok := vigil.ActorFrom(r.Context()); ok {
		ts, err := s.svc.Users.Tokens(r.Context(), a.Name)
		if err != nil {
			return err
		}
		data.Tokens = ts
	}
	p.Title, p.Nav, p.Data = "Your account", "account", data
	s.render(w, r, status, "account", p)
	return nil
}

func (s *Server) tokenForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	name := chiParam(r, "name")
	tokName := strings.TrimSpace(r.PostFormValue("token_name"))
	var exp time.Time
	if d, err := formDate(r, "expires"); err != nil {
		return s.renderUserError(w, r, err, "The token was not created: ")
	} else if d != nil {
		exp = d.Time()
	}
	t, secret, err := s.svc.Users.CreateToken(r.Context(), name, tokName, exp)
	if err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderUserError(w, r, err, "The token was not created: ")
	}
	data := usersData{Secret: secret, Token: name + " / " + t.Name}
	p := page{Notice: "Token created. Copy the secret now: it is not shown again.", Data: data}
	if can(r, vigil.PermUsers) {
		return s.renderUsers(w, r, http.StatusCreated, p, nil)
	}
	return s.renderAccount(w, r, http.StatusCreated, p)
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, page{})
}

// ---- account lifecycle: role, disable/enable, token revocation. The forms answer with the page and a notice
// rather than a redirect: the notices a redirect may carry are a fixed list, and these name the user.

func (s *Server) roleForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	name, role := chiParam(r, "name"), r.PostFormValue("role")
	err := s.svc.Users.SetUserRole(r.Context(), name, role, r.PostFormValue("reason"))
	if err == nil {
		return s.renderUsers(w, r, http.StatusOK, page{Notice: "The role of " + name + " is now " + role + ". It applies from their next request."}, nil)
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderUsers(w, r, StatusOf(err), page{Error: "The role was not changed: " + vigil.ErrorMessage(err)}, nil)
}

func parseBool(field, v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, vigil.Errorf(vigil.EINVALID, "%s: want true or false, got %q", field, clipText(20, v))
}

func (s *Server) disabledForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	name := chiParam(r, "name")
	disabled, err := parseBool("disabled", r.PostFormValue("disabled"))
	if err == nil {
		err = s.svc.Users.SetUserDisabled(r.Context(), name, disabled, r.PostFormValue("reason"))
	}
	if err == nil {
		notice := name + " is enabled again and may sign in."
		if disabled {
			notice = name + " is disabled: their sessions have ended and their API tokens are refused."
		}
		return s.renderUsers(w, r, http.StatusOK, page{Notice: notice}, nil)
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderUsers(w, r, StatusOf(err), page{Error: "The account was not changed: " + vigil.ErrorMessage(err)}, nil)
}

func (s *Server) tokenRevokeForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	name := chiParam(r, "name")
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	a, _ := vigil.ActorFrom(r.Context())
	err = s.svc.Users.RevokeToken(r.Context(), name, id, r.PostFormValue("reason"))
	if err != nil && !formRecoverable(err) {
		return err
	}
	p, status := page{Notice: "Token " + itoa(id) + " of " + name + " is revoked."}, http.StatusOK
	if err != nil {
		p, status = page{Error: "The token was not revoked: " + vigil.ErrorMessage(err)}, StatusOf(err)
	}
	if a.Name == name || !can(r, vigil.PermUsers) {
		return s.renderAccount(w, r, status, p)
	}
	return s.renderUsers(w, r, status, p, nil)
}

func (s *Server) apiUserRole(w http.ResponseWriter, r *http.Request) error {
	var in roleIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	name := chiParam(r, "name")
	if err := s.svc.Users.SetUserRole(r.Context(), name, in.Role, in.Reason); err != nil {
		return err
	}
	return s.writeUser(w, r, name)
}

func (s *Server) apiUserDisabled(w http.ResponseWriter, r *http.Request) error {
	var in disabledIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Disabled == nil {
		return vigil.Errorf(vigil.EINVALID, "disabled: required (true or false)")
	}
	name := chiParam(r, "name")
	if err := s.svc.Users.SetUserDisabled(r.Context(), name, *in.Disabled, in.Reason); err != nil {
		return err
	}
	return s.writeUser(w, r, name)
}

// writeUser answers a change with the user as it now is.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, name string) error {
	u, err := s.svc.Users.UserByName(r.Context(), name)
	return reply(w, http.StatusOK, u, err)
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.svc.Users.Tokens(r.Context(), chiParam(r, "name"))
	return reply(w, http.StatusOK, orEmpty(ts), err)
}

// apiTokenRevoke takes the reason from a JSON body ({"reason": ...}) or, since some clients send no body with
// DELETE, from ?reason=.
func (s *Server) apiTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	name := chiParam(r, "name")
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "body: %v", err)
	}
	in := revokeIn{Reason: r.URL.Query().Get("reason")}
	if len(bytes.TrimSpace(b)) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(b))
		var body revokeIn
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		if strings.TrimSpace(body.Reason) != "" {
			in = body
		}
	}
	if err := s.svc.Users.RevokeToken(r.Context(), name, id, in.Reason); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, revokeOut{User: name, ID: id, Revoked: true})
	return nil
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := s.svc.Users.Users(r.Context())
	return reply(w, http.StatusOK, orEmpty(us), err)
}

func (s *Server) apiUserCreate(w http.ResponseWriter, r *http.Request) error {
	var in userIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u := &vigil.User{Name: in.Name, Role: in.Role}
	if err := s.svc.Users.CreateUser(r.Context(), u, in.Password); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) apiPassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.svc.Users.SetPassword(r.Context(), chiParam(r, "name"), in.Password); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "password changed"})
	return nil
}

// tokenOut is a created token with its secret, which is never shown again.
type tokenOut struct {
	Token  *vigil.Token `json:"token"`
	Secret string       `json:"secret"`
}

func (s *Server) apiToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var exp time.Time
	if !in.Expires.IsZero() {
		exp = in.Expires.Time()
	}
	t, secret, err := s.svc.Users.CreateToken(r.Context(), chiParam(r, "name"), in.Name, exp)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenOut{Token: t, Secret: secret})
	return nil
}

// The API's user request bodies.
type (
	userIn struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	passwordIn struct {
		Password string `json:"password"`
	}
	tokenIn struct {
		Name    string     `json:"name"`
		Expires vigil.Date `json:"expires,omitzero"`
	}
	roleIn struct {
		Role   string `json:"role"`
		Reason string `json:"reason"`
	}
	disabledIn struct {
		Disabled *bool  `json:"disabled"`
		Reason   string `json:"reason"`
	}
	revokeIn struct {
		Reason string `json:"reason"`
	}
	revokeOut struct {
		User    string `json:"user"`
		ID      int64  `json:"id"`
		Revoked bool   `json:"revoked"`
	}
)
