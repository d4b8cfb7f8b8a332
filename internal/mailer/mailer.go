// Package mailer hands one message at a time to an SMTP server (through github.com/wneessen/go-mail) and says how
// the server answered, sorted the way the outbox needs it: accepted, refused for good (a 5xx reply: retrying would
// be refused again), or failed for a reason that may pass (a 4xx reply, no connection, a timeout). The server is
// named by one URL, smtp://user:password@host:port?tls=starttls|tls|none&from=ADDR, from $VIGIL_SMTP_URL or the
// organization's settings; the password never leaves a Config except to the server (String redacts it), so it is
// never logged or shown back.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/vigil-dev/vigil"
)

// TLS modes: how the connection to the server is protected.
const (
	STARTTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer (default; port 587)
	TLS      = "tls"      // TLS from the first byte (SMTPS; port 465)
	NoTLS    = "none"     // no encryption: only for a relay on the same host or a test server
)

// Config names an SMTP server and how to reach it.
type Config struct {
	Host     string
	Port     int
	User     string
	Password string
	TLS      string
	From     string // the sender address (default: the user when it is an address, else vigil@HOST)
	// Timeout bounds one delivery, connection to QUIT (default 30 s); the outbox's claim on a message outlasts it.
	Timeout time.Duration
}

// DefaultTimeout bounds one delivery when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// ParseURL reads smtp://[user[:password]@]host[:port][?tls=starttls|tls|none][&from=ADDR]. Errors name the part
// and never repeat the password.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		// url's error quotes the whole URL, password and all.
		return Config{}, vigil.Errorf(vigil.EINVALID, "smtp url: not a URL (smtp://user:password@host:port?tls=starttls|tls|none)")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return Config{}, vigil.Errorf(vigil.EINVALID, "smtp url: scheme %q: use smtp://", u.Scheme)
	}
	c := Config{Host: u.Hostname(), TLS: STARTTLS}
	if u.Scheme == "smtps" {
		c.TLS = TLS
	}
	if c.Host == "" {
		return Config{}, vigil.Errorf(vigil.EINVALID, "smtp url: host: required")
	}
	q := u.Query()
	for k := range q {
		if k != "tls" && k != "from" {
			return Config{}, vigil.Errorf(vigil.EINVALID, "smtp url: unknown parameter %q (tls, from)", k)
		}
	}
	if t := q.Get("tls"); t != "" {
		if t != STARTTLS && t != TLS && t != NoTLS {
			return Config{}, vigil.Errorf(vigil.EINVALID, "smtp url: tls=%q: starttls, tls or none", t)
		}
		c.TLS = t
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	switch p := u.Port(); {
	case p != "":
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return Config{}, vigil.Errorf(vigil.EINVALID, "smtp url: port %q: 1 to 65535", p)
		}
	case c.TLS == TLS:
		c.Port = 465
	default:
		c.Port = 587
	}
	c.From = q.Get("from")
	if c.From == "" {
		if a, err := vigil.ParseMailAddress(c.User); err == nil {
			c.From = a
		} else {
			c.From = "vigil@" + c.Host
		}
	}
	if _, err := vigil.ParseMailAddress(c.From); err != nil {
		return Config{}, vigil.Errorf(vigil.EINVALID, "smtp url: from: %v", err)
	}
	return c, nil
}

// String is the URL with the password replaced by "xxxxx": what logs, settings screens and errors show.
func (c Config) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.User != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.User, "xxxxx")
		} else {
			u.User = url.User(c.User)
		}
	}
	u.RawQuery = url.Values{"tls": {c.TLS}, "from": {c.From}}.Encode()
	return u.String()
}

// Sender delivers messages through one SMTP server.
type Sender struct {
	cfg Config
}

// New returns a sender for cfg.
func New(cfg Config) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Sender{cfg: cfg}
}

// String is the server's URL with the password hidden.
func (s *Sender) String() string { return s.cfg.String() }

// From is the sender address.
func (s *Sender) From() string { return s.cfg.From }

// Send hands m to the server in its own connection and returns how the server took it: accepted, retrying (it
// may pass) or failed (refused for good), with the server's reply or what went wrong before there was one. A
// failure that is no
// answer of the server's (a refused connection, a timeout, a TLS failure) is a retrying outcome: the server may
// be back later. Every message carries the same Message-ID on every attempt (m.MessageID), so a recipient can tell
// a resent copy from a new message.
func (s *Sender) Send(ctx context.Context, m *vigil.Mail) (vigil.MailState, string) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.cfg.From); err != nil {
		return vigil.MailFailed, fmt.Sprintf("sender %s: %v", s.cfg.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return vigil.MailFailed, fmt.Sprintf("recipient %s: %v", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Queued)
	msg.SetUserAgent("Vigil")
	// An automated message: out-of-office replies and auto-responders should not answer it (RFC 3834).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	if m.About != "" {
		msg.SetGenHeader("X-Vigil-About", m.About)
	}
	for _, h := range vigil.MailHeaders { // threading (a follow-up notice under the first); the outbox checked them
		if v := m.Headers[h]; v != "" {
			msg.SetGenHeader(gomail.Header(h), v)
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := s.client()
	if err != nil {
		return vigil.MailFailed, err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return vigil.MailAccepted, "accepted by " + net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
}

// Check connects, authenticates and says goodbye without sending: `vigil notify test` and the settings screen
// check a configuration with it before any message depends on it.
func (s *Sender) Check(ctx context.Context) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := c.DialWithContext(ctx); err != nil {
		return vigil.Errorf(vigil.EUNAVAILABLE, "smtp %s: %s", s.cfg, redact(err.Error(), s.cfg.Password))
	}
	return c.Close()
}

func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.TLS {
	case TLS:
		opts = append(opts, gomail.WithSSL())
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.User != "" {
		// The strongest mechanism the server offers; without TLS, plain text is what "tls=none" asked for.
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.TLS == NoTLS {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "smtp %s: %s", s.cfg, redact(err.Error(), s.cfg.Password))
	}
	return c, nil
}

// classify sorts a failed delivery: the server's 5xx reply is final, anything else may pass.
func classify(err error) (vigil.MailState, string) {
	var se *gomail.SendError
	answer := err.Error()
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code >= 500 && code < 600 && !se.IsTemp() {
			return vigil.MailFailed, answer
		}
	}
	return vigil.MailRetrying, answer
}

// redact removes a password that an error may quote.
func redact(s, password string) string {
	if password == "" {
		return s
	}
	return strings.ReplaceAll(s, password, "xxxxx")
}
