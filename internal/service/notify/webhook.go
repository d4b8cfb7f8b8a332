package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Webhook headers. The signature is HMAC-SHA256, keyed with the rule's secret, over "TIMESTAMP.BODY": a receiver
// recomputes it, compares in constant time, and refuses a timestamp older than a few minutes (a replay).
const (
	HeaderSignature = "X-Vigil-Signature" // t=UNIX-SECONDS,v1=HEX
	HeaderEvent     = "X-Vigil-Event"
	HeaderDelivery  = "X-Vigil-Delivery" // the outbox message id: the same on every retry of one message
)

// Sign returns the X-Vigil-Signature value for body sent at unix time ts.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(body)
	return fmt.Sprintf("t=%d,v1=%s", ts, hex.EncodeToString(mac.Sum(nil)))
}

// post delivers a webhook message: a 2xx is accepted; 408, 429, a 5xx or no answer may pass (retrying); any other
// answer is final (failed). Each attempt is signed afresh, with its own timestamp.
func (o *Outbox) post(ctx context.Context, m *vigil.Mail) (vigil.MailState, string) {
	secret, err := o.Store.NotifyRuleSecret(ctx, m.RuleID)
	if vigil.ErrorCode(err) == vigil.ENOTFOUND {
		return vigil.MailFailed, err.Error()
	} else if err != nil {
		return vigil.MailRetrying, "reading the rule's secret: " + vigil.ErrorMessage(err)
	}
	body := []byte(m.Text)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.To, strings.NewReader(m.Text))
	if err != nil {
		return vigil.MailFailed, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Vigil")
	req.Header.Set(HeaderEvent, m.Subject)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(m.ID, 10))
	req.Header.Set(HeaderSignature, Sign(secret, o.Clock.Now().Unix(), body))
	resp, err := o.HTTP.Do(req)
	if err != nil {
		return vigil.MailRetrying, err.Error()
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	answer := strings.TrimSpace("HTTP " + resp.Status + " " + strings.ToValidUTF8(string(head), "?"))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return vigil.MailAccepted, answer
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		return vigil.MailRetrying, answer
	}
	return vigil.MailFailed, answer
}
