package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ---- notifications: the settings screen and the API over the notifier and the outbox (internal/service/notify)

// Notify is the notifications use case: rules, the SMTP server in use, and the outbox with its delivery log. Every
// call authorizes itself (a rule of the organization, or any webhook, needs PermPortfolio).
type Notify interface {
	Rules(ctx context.Context) ([]*vigil.NotifyRule, error)
	AddRule(ctx context.Context, r *vigil.NotifyRule) (secret string, err error)
	RemoveRule(ctx context.Context, id int64, reason string) error
	// SendTest sends one test message through the rule's channel now; EUNAVAILABLE (the message and its delivery
	// log still returned) when the channel did not accept it.
	SendTest(ctx context.Context, id int64) (*vigil.Mail, []vigil.MailAttempt, error)
	SMTP(ctx context.Context) (server, source string, err error)
	Mails(ctx context.Context, f vigil.MailFilter) ([]*vigil.Mail, error)
}

type notifyData struct {
	Rules  []*vigil.NotifyRule
	SMTP   string // the server in use, password hidden; "" when none
	Source string
	Mails  []*vigil.Mail
	Events []vigil.NotifyEvent
	Secret string // a new webhook rule's signing secret, shown once
}

func (s *Server) notifyService() (Notify, error) {
	if s.svc.Notify == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "notifications are not available in this server")
	}
	return s.svc.Notify, nil
}

func (s *Server) notifyPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderNotify(w, r, http.StatusOK, "", "")
}

func (s *Server) renderNotify(w http.ResponseWriter, r *http.Request, status int, secret, problem string) error {
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	d := notifyData{Secret: secret, Events: vigil.NotifyEvents}
	if d.Rules, err = svc.Rules(r.Context()); err != nil {
		return err
	}
	if d.SMTP, d.Source, err = svc.SMTP(r.Context()); err != nil {
		return err
	}
	if d.Mails, err = svc.Mails(r.Context(), vigil.MailFilter{Limit: 50}); err != nil {
		return err
	}
	s.render(w, r, status, "notify", page{Title: "Notifications", Nav: "settings", Error: problem, Data: d})
	return nil
}

// ruleIn is a new rule, from the form or the API.
type ruleIn struct {
	Channel vigil.NotifyChannel `json:"channel"`
	Target  string              `json:"target"`
	Events  []vigil.NotifyEvent `json:"events"`
	Within  int                 `json:"within_days"`
	Owner   string              `json:"owner"`
}

func (in ruleIn) rule() *vigil.NotifyRule {
	return &vigil.NotifyRule{Channel: in.Channel, Target: strings.TrimSpace(in.Target), Events: in.Events, Within: in.Within, Owner: strings.TrimSpace(in.Owner)}
}

func (s *Server) notifyRuleForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	in := ruleIn{Channel: vigil.NotifyChannel(r.PostFormValue("channel")), Target: r.PostFormValue("target"), Owner: r.PostFormValue("owner")}
	for _, e := range r.PostForm["events"] {
		in.Events = append(in.Events, vigil.NotifyEvent(e))
	}
	if v := strings.TrimSpace(r.PostFormValue("within_days")); v != "" {
		if in.Within, err = strconv.Atoi(v); err != nil {
			return s.renderNotify(w, r, http.StatusBadRequest, "", "The rule was not added: within_days: not a number")
		}
	}
	secret, err := svc.AddRule(r.Context(), in.rule())
	if err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderNotify(w, r, StatusOf(err), "", "The rule was not added: "+vigil.ErrorMessage(err))
	}
	if secret != "" {
		return s.renderNotify(w, r, http.StatusOK, secret, "") // shown this once
	}
	return redirect(w, r, "/settings/notifications", "rule-added")
}

// ruleOut is a new rule and, for a webhook, its signing secret (shown this once).
type ruleOut struct {
	Rule   *vigil.NotifyRule `json:"rule"`
	Secret string            `json:"secret,omitempty"`
}

func (s *Server) apiNotifyRules(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	rs, err := svc.Rules(r.Context())
	return reply(w, http.StatusOK, rs, err)
}

func (s *Server) apiNotifyRuleAdd(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	var in ruleIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rule := in.rule()
	secret, err := svc.AddRule(r.Context(), rule)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ruleOut{Rule: rule, Secret: secret})
	return nil
}

// notifyRuleRemoveForm removes a rule with the reason typed.
func (s *Server) notifyRuleRemoveForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	if err := svc.RemoveRule(r.Context(), id, r.PostFormValue("reason")); err != nil {
		if !formRecoverable(err) {
			return err
		}
		return s.renderNotify(w, r, StatusOf(err), "", "The rule was not removed: "+vigil.ErrorMessage(err))
	}
	return redirect(w, r, "/settings/notifications", "rule-removed")
}

// notifyRuleTestForm sends a test message through a rule's channel now; the outbox below shows it with the
// server's answer, and a channel that did not accept it is said on the page.
func (s *Server) notifyRuleTestForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	if _, _, err := svc.SendTest(r.Context(), id); err != nil {
		if c := vigil.ErrorCode(err); c != vigil.EUNAVAILABLE && !formRecoverable(err) {
			return err
		}
		return s.renderNotify(w, r, StatusOf(err), "", "The test message was not delivered: "+vigil.ErrorMessage(err))
	}
	return redirect(w, r, "/settings/notifications#outbox-panel", "rule-tested")
}

// ruleRemoveIn is why a rule is removed.
type ruleRemoveIn struct {
	Reason string `json:"reason"`
}

func (s *Server) apiNotifyRuleRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	var in ruleRemoveIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := svc.RemoveRule(r.Context(), id, in.Reason); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ruleRemoveOut{ID: id, Removed: true})
	return nil
}

// ruleRemoveOut says which rule was removed.
type ruleRemoveOut struct {
	ID      int64 `json:"id"`
	Removed bool  `json:"removed"`
}

// ruleTestOut is a test message as its delivery left it, with the delivery log.
type ruleTestOut struct {
	Mail *vigil.Mail         `json:"mail"`
	Log  []vigil.MailAttempt `json:"log"`
}

func (s *Server) apiNotifyRuleTest(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	m, log, err := svc.SendTest(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ruleTestOut{Mail: m, Log: log})
	return nil
}

func (s *Server) apiOutbox(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.notifyService()
	if err != nil {
		return err
	}
	f := vigil.MailFilter{About: r.URL.Query().Get("about")}
	for _, st := range r.URL.Query()["state"] {
		if err := vigil.OneOf("state", vigil.MailState(st), vigil.MailStates); err != nil {
			return err
		}
		f.States = append(f.States, vigil.MailState(st))
	}
	ms, err := svc.Mails(r.Context(), f)
	return reply(w, http.StatusOK, ms, err)
}
