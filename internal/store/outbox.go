package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/secret"
)

const outboxCols = "id, idem_key, channel, rule_id, about, recipient, subject, text_body, html_body, message_id, state, attempts, answer, queued_at, next_at, sent_at, headers"

func scanMail(row interface{ Scan(...any) error }) (*vigil.Mail, error) {
	var m vigil.Mail
	var queued, next, sent, headers sql.NullString
	var rule sql.NullInt64
	if err := row.Scan(&m.ID, &m.Key, &m.Channel, &rule, &m.About, &m.To, &m.Subject, &m.Text, &m.HTML, &m.MessageID, &m.State, &m.Attempts, &m.Answer,
		&queued, &next, &sent, &headers); err != nil {
		return nil, err
	}
	if headers.Valid {
		if err := json.Unmarshal([]byte(headers.String), &m.Headers); err != nil {
			return nil, fmt.Errorf("outbox %d: headers: %w", m.ID, err)
		}
	}
	m.RuleID = rule.Int64
	m.Queued, m.Next, m.Sent = parseTime(queued), parseTime(next), parseTime(sent)
	return &m, nil
}

// EnqueueMail stores e-mail messages in the outbox (EnqueueOutbox's channel email, made by no rule).
func (db *DB) EnqueueMail(ctx context.Context, msgs []vigil.MailInput, domain string) ([]*vigil.Mail, error) {
	return db.EnqueueOutbox(ctx, "email", 0, msgs, domain)
}

// EnqueueOutbox stores the messages of a channel (email: To is an address; webhook: To is the URL, Subject the
// event, Text the JSON body) in one transaction, each due at once, and audits the queueing (one event per call,
// naming each message's recipient, subject and key; the bodies stay in the outbox). rule is the notification rule
// that made them (0 for none). A message whose key is stored already is returned as stored and not queued again.
// domain names the Message-IDs (<random@domain>).
func (db *DB) EnqueueOutbox(ctx context.Context, channel string, rule int64, msgs []vigil.MailInput, domain string) (out []*vigil.Mail, err error) {
	defer vigil.Wrap(&err, "store.EnqueueOutbox", len(msgs))
	if err := mayQueueMail(ctx); err != nil {
		return nil, err
	}
	var ruleID any
	if rule != 0 {
		ruleID = rule
	}
	err = db.transact(ctx, func(tx *Tx) error {
		out = out[:0]
		type queued struct{ To, Subject, Key, About string }
		var fresh []queued
		for _, in := range msgs {
			m, err := scanMail(tx.QueryRowContext(ctx, "SELECT "+outboxCols+" FROM outbox WHERE idem_key = $1", in.Key))
			if err == nil {
				out = append(out, m)
				continue
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			m = &vigil.Mail{MailInput: in, Channel: channel, RuleID: rule, State: vigil.MailQueued, MessageID: messageID(domain), Queued: tx.Now(), Next: tx.Now()}
			var headers any
			if len(in.Headers) > 0 {
				headers = mustJSON(in.Headers)
			}
			if m.ID, err = tx.insertID(ctx, `INSERT INTO outbox (idem_key, channel, rule_id, about, recipient, subject, text_body, html_body, message_id, state, queued_at, queued_by, next_at, headers)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $13)`,
				in.Key, channel, ruleID, in.About, in.To, in.Subject, in.Text, in.HTML, m.MessageID, m.State, tx.NowText(), tx.actor.String(), headers); err != nil {
				return err
			}
			out = append(out, m)
			fresh = append(fresh, queued{in.To, in.Subject, in.Key, in.About})
		}
		if len(fresh) == 0 {
			return nil
		}
		return tx.Audit(ctx, "mail.queue", "outbox", idText(out[len(out)-1].ID), nil, map[string]any{"channel": channel, "messages": fresh}, "")
	})
	return out, err
}

// mayQueueMail is the second line of the outbox service's check: sending is part of an action on a case (a notice:
// PermEvent) or on a report (an acknowledgement: PermIntake).
func mayQueueMail(ctx context.Context) error {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err == nil {
		return nil
	}
	_, err := vigil.Authorize(ctx, vigil.PermIntake)
	return err
}

// messageID returns a fresh Message-ID (without the angle brackets): 128 random bits at the sending domain.
func messageID(domain string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b) + "@" + domain
}

// Mails lists outbox messages, newest first.
func (db *DB) Mails(ctx context.Context, f vigil.MailFilter) ([]*vigil.Mail, error) {
	var where []string
	var args []any
	if f.About != "" {
		args = append(args, f.About)
		where = append(where, fmt.Sprintf("about = $%d", len(args)))
	}
	if len(f.States) > 0 {
		var in []string
		for _, s := range f.States {
			args = append(args, string(s))
			in = append(in, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, "state IN ("+strings.Join(in, ", ")+")")
	}
	q := "SELECT " + outboxCols + " FROM outbox"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.db.QueryContext(ctx, q+fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	out := []*vigil.Mail{}
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Mail returns one outbox message and its delivery log, oldest attempt first.
func (db *DB) Mail(ctx context.Context, id int64) (*vigil.Mail, []vigil.MailAttempt, error) {
	m, err := scanMail(db.db.QueryRowContext(ctx, "SELECT "+outboxCols+" FROM outbox WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, vigil.Errorf(vigil.ENOTFOUND, "message %d: not in the outbox", id)
	} else if err != nil {
		return nil, nil, fmt.Errorf("outbox %d: %w", id, err)
	}
	rows, err := db.db.QueryContext(ctx, "SELECT mail_id, at, by_instance, outcome, answer FROM outbox_attempts WHERE mail_id = $1 ORDER BY id", id)
	if err != nil {
		return nil, nil, fmt.Errorf("delivery log %d: %w", id, err)
	}
	defer rows.Close()
	log := []vigil.MailAttempt{}
	for rows.Next() {
		var a vigil.MailAttempt
		var at sql.NullString
		if err := rows.Scan(&a.MailID, &at, &a.By, &a.Outcome, &a.Answer); err != nil {
			return nil, nil, fmt.Errorf("delivery log %d: %w", id, err)
		}
		a.At = parseTime(at)
		log = append(log, a)
	}
	return m, log, rows.Err()
}

// ClaimMail claims the next due message of the channels for owner until ttl from now and counts the attempt it is
// about to make; nil when nothing is due. The claim is one conditional update (the row must still be unclaimed and
// due), atomic on both engines, so of two instances reaching for the same message one gets it and the other moves
// on.
func (db *DB) ClaimMail(ctx context.Context, owner string, ttl time.Duration, channels ...string) (*vigil.Mail, error) {
	now := db.clock.Now().UTC()
	args := []any{timeText(now)}
	var in []string
	for _, c := range channels {
		args = append(args, c)
		in = append(in, fmt.Sprintf("$%d", len(args)))
	}
	if len(in) == 0 {
		return nil, nil
	}
	for {
		var id int64
		err := db.db.QueryRowContext(ctx, "SELECT id FROM outbox WHERE next_at <= $1 AND claimed_by IS NULL AND channel IN ("+strings.Join(in, ", ")+") ORDER BY next_at, id LIMIT 1",
			args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("outbox claim: %w", err)
		}
		res, err := db.db.ExecContext(ctx, `UPDATE outbox SET claimed_by = $1, claim_until = $2, attempts = attempts + 1
			WHERE id = $3 AND claimed_by IS NULL AND next_at <= $4`, owner, timeText(now.Add(ttl)), id, timeText(now))
		if err != nil {
			return nil, fmt.Errorf("outbox claim %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			continue // another instance claimed it between our look and our update
		}
		m, err := scanMail(db.db.QueryRowContext(ctx, "SELECT "+outboxCols+" FROM outbox WHERE id = $1", id))
		if err != nil {
			return nil, fmt.Errorf("outbox claim %d: %w", id, err)
		}
		return m, nil
	}
}

// RecordMail records the outcome of owner's attempt at a claimed message: the delivery log gains a line, and the
// message becomes accepted, failed, or retrying at next; the claim is released. ok is false when owner no longer
// held the claim (it expired and the message was marked interrupted): the attempt is still logged, as it happened.
func (db *DB) RecordMail(ctx context.Context, id int64, owner string, outcome vigil.MailState, answer string, next time.Time) (ok bool, err error) {
	defer vigil.Wrap(&err, "store.RecordMail", id)
	now := db.clock.Now().UTC()
	answer = clip(answer)
	err = db.transact(ctx, func(tx *Tx) error {
		var sent, due any
		switch outcome {
		case vigil.MailAccepted:
			sent = timeText(now)
		case vigil.MailRetrying:
			due = timeText(next)
		}
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = $1, answer = $2, sent_at = $3, next_at = $4, claimed_by = NULL, claim_until = NULL
			WHERE id = $5 AND claimed_by = $6`, string(outcome), answer, sent, due, id, owner)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		ok = n == 1
		_, err = tx.ExecContext(ctx, "INSERT INTO outbox_attempts (mail_id, at, by_instance, outcome, answer) VALUES ($1, $2, $3, $4, $5)",
			id, timeText(now), owner, string(outcome), answer)
		return err
	})
	return ok, err
}

// InterruptedAnswer is the answer recorded for a message whose instance stopped while delivering it.
const InterruptedAnswer = "delivery interrupted: the instance sending it stopped before recording the server's answer, which may have accepted it; it is not sent again on its own (vigil notify outbox resend ID)"

// FailInterrupted marks failed every message whose claim has expired: its instance died mid-delivery, and since
// the server may have accepted it, sending it again could deliver it twice. It returns how many it marked.
func (db *DB) FailInterrupted(ctx context.Context, by string) (n int, err error) {
	defer vigil.Wrap(&err, "store.FailInterrupted", by)
	now := timeText(db.clock.Now().UTC())
	err = db.transact(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, claimed_by FROM outbox WHERE claimed_by IS NOT NULL AND claim_until <= $1", now)
		if err != nil {
			return err
		}
		type stale struct {
			id    int64
			owner string
		}
		var found []stale
		for rows.Next() {
			var s stale
			if err := rows.Scan(&s.id, &s.owner); err != nil {
				rows.Close()
				return err
			}
			found = append(found, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, s := range found {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = $1, answer = $2, next_at = NULL, claimed_by = NULL, claim_until = NULL
				WHERE id = $3 AND claimed_by = $4 AND claim_until <= $5`, string(vigil.MailFailed), InterruptedAnswer, s.id, s.owner, now)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil || k == 0 {
				continue // its instance recorded it after all
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO outbox_attempts (mail_id, at, by_instance, outcome, answer) VALUES ($1, $2, $3, $4, $5)",
				s.id, now, s.owner+" (marked by "+by+")", string(vigil.MailFailed), InterruptedAnswer); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// ResendMail queues a failed message again, due now (a person decided it: after a refusal was fixed, or an
// interrupted delivery was found lost). Audited with the reason.
func (db *DB) ResendMail(ctx context.Context, id int64, reason string) (err error) {
	defer vigil.Wrap(&err, "store.ResendMail", id)
	if err := mayQueueMail(ctx); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		m, err := scanMail(tx.QueryRowContext(ctx, "SELECT "+outboxCols+" FROM outbox WHERE id = $1", id))
		if errors.Is(err, sql.ErrNoRows) {
			return vigil.Errorf(vigil.ENOTFOUND, "message %d: not in the outbox", id)
		} else if err != nil {
			return err
		}
		if m.State != vigil.MailFailed {
			return vigil.Errorf(vigil.ECONFLICT, "message %d is %s: only a failed message is sent again", id, m.State)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE outbox SET state = $1, next_at = $2 WHERE id = $3 AND state = $4",
			string(vigil.MailRetrying), tx.NowText(), id, string(vigil.MailFailed)); err != nil {
			return err
		}
		return tx.Audit(ctx, "mail.resend", "outbox", idText(id), map[string]any{"state": m.State, "answer": m.Answer},
			map[string]any{"state": vigil.MailRetrying, "to": m.To, "key": m.Key}, reason)
	})
}

// SMTPURL returns the organization's SMTP server URL, password included ("" when none is set), opening it with
// the secret key when it is sealed. Only the mailer may see it: services hand it to mailer.ParseURL and show
// Config.String.
func (db *DB) SMTPURL(ctx context.Context) (string, error) {
	var u string
	err := db.db.QueryRowContext(ctx, "SELECT url FROM smtp_settings WHERE id = 1").Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("smtp settings: %w", err)
	}
	if !secret.IsSealed(u) {
		return u, nil
	}
	plain, err := secret.Open(db.secretKey, smtpBound, u)
	switch {
	case errors.Is(err, secret.ErrNoKey):
		return "", vigil.Errorf(vigil.EINVALID, "the organization's SMTP password is stored sealed: give the secret key (--secret-key FILE or $VIGIL_SECRET_KEY)")
	case err != nil:
		return "", vigil.Errorf(vigil.EINVALID, "the organization's stored SMTP server %v: set it again (vigil notify smtp set)", err)
	}
	return plain, nil
}

// SetSMTPURL stores the organization's SMTP server URL ("" removes it), sealed with the secret key when it
// carries a password (EINVALID without the key: a password is never stored in clear); shown is what the audit
// event records, the URL with its password hidden.
func (db *DB) SetSMTPURL(ctx context.Context, url, shown, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetSMTPURL", shown)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	stored := url
	if clearPassword(url) {
		if stored, err = secret.Seal(db.secretKey, smtpBound, url); errors.Is(err, secret.ErrNoKey) {
			return vigil.Errorf(vigil.EINVALID, "the SMTP password is stored sealed with the secret key: give --secret-key FILE or $VIGIL_SECRET_KEY (or set $VIGIL_SMTP_URL instead)")
		} else if err != nil {
			return err
		}
	}
	return db.transact(ctx, func(tx *Tx) error {
		if url == "" {
			if _, err := tx.ExecContext(ctx, "DELETE FROM smtp_settings WHERE id = 1"); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO smtp_settings (id, url, updated_at, updated_by) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			stored, tx.NowText(), tx.actor.String()); err != nil {
			return err
		}
		return tx.Audit(ctx, "smtp.configure", "settings", "smtp", nil, map[string]any{"smtp": shown}, reason)
	})
}

// clip bounds a server's answer before it is stored: a hostile or broken server may send a lot.
func clip(s string) string {
	const max = 2000
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "?")
}
