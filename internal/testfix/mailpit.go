package testfix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Mailpit is a real SMTP server (github.com/axllent/mailpit, installed by .ci/run with `go install`) started for
// one test, with its HTTP API to read back what arrived. It accepts any user name and password over plain SMTP, and
// its chaos triggers make it refuse on demand.
type Mailpit struct {
	SMTP string // host:port of its SMTP listener
	API  string // base URL of its HTTP API
}

// URL is the smtp:// URL Vigil sends through to reach this server (user and password are accepted as any).
func (m *Mailpit) URL(from string) string {
	return "smtp://vigil:secret-password@" + m.SMTP + "?tls=none&from=" + from
}

// mailpitBinary finds the mailpit binary: $VIGIL_MAILPIT, PATH, then $(go env GOPATH)/bin.
func mailpitBinary() string {
	if p := os.Getenv("VIGIL_MAILPIT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = string(bytes.TrimSpace(out))
		}
	}
	if p := filepath.Join(gopath, "bin", "mailpit"); gopath != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// StartMailpit starts a Mailpit for the test and stops it at its end. Without the binary the test is skipped,
// except under CI=1, where it fails: `go install github.com/axllent/mailpit@v1.33.1` (.ci/run does).
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin := mailpitBinary()
	if bin == "" {
		msg := "mailpit not installed: go install github.com/axllent/mailpit@v1.33.1"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	smtpAddr, apiAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", apiAddr, "--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--enable-chaos", "--smtp-disable-rdns", "--quiet")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	m := &Mailpit{SMTP: smtpAddr, API: "http://" + apiAddr}
	// Ready once both listeners answer (a few hundred milliseconds); the wait is bounded, never asserted on.
	for i := 0; ; i++ {
		select {
		case <-done:
			t.Fatalf("mailpit exited: %s", out.String())
		default:
		}
		resp, err := http.Get(m.API + "/readyz")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", smtpAddr); err == nil {
				c.Close()
				if resp.StatusCode == http.StatusOK {
					return m
				}
			}
		}
		if i == 200 {
			t.Fatalf("mailpit did not start within 10 s: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr picks a free loopback port (Mailpit takes ports, not listeners).
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// MailpitAddress is one address as Mailpit's API reports it.
type MailpitAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// MailpitMessage is a message as Mailpit received it: the envelope's and headers' view, both bodies, every header.
type MailpitMessage struct {
	ID        string              `json:"ID"`
	MessageID string              `json:"MessageID"`
	From      MailpitAddress      `json:"From"`
	To        []MailpitAddress    `json:"To"`
	Subject   string              `json:"Subject"`
	Text      string              `json:"Text"`
	HTML      string              `json:"HTML"`
	Headers   map[string][]string `json:"-"`
}

// Messages returns every message received, oldest first, each read in full (bodies and headers).
func (m *Mailpit) Messages(t testing.TB) []MailpitMessage {
	t.Helper()
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	m.get(t, "/api/v1/messages?limit=1000", &list)
	out := make([]MailpitMessage, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		var msg MailpitMessage
		m.get(t, "/api/v1/message/"+list.Messages[i].ID, &msg)
		m.get(t, "/api/v1/message/"+list.Messages[i].ID+"/headers", &msg.Headers)
		out = append(out, msg)
	}
	return out
}

// Refuse makes the server answer every RCPT TO with code (e.g. 451, a temporary refusal; 550, a permanent one);
// 0 accepts again.
func (m *Mailpit) Refuse(t testing.TB, code int) {
	t.Helper()
	prob := 100
	if code == 0 {
		code, prob = 451, 0
	}
	body := fmt.Sprintf(`{"Recipient":{"ErrorCode":%d,"Probability":%d}}`, code, prob)
	req, err := http.NewRequest(http.MethodPut, m.API+"/api/v1/chaos", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit chaos: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit chaos: %s", resp.Status)
	}
}

// Reset deletes every message received and accepts again, so one server serves a test's subtests in turn.
func (m *Mailpit) Reset(t testing.TB) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, m.API+"/api/v1/messages", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit reset: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit reset: %s", resp.Status)
	}
	m.Refuse(t, 0)
}

func (m *Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}
