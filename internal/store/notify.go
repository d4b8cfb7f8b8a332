package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/secret"
)

const ruleCols = "id, owner, channel, target, events, within_days, secret <> '', created_at, created_by"

func scanRule(row interface{ Scan(...any) error }) (*vigil.NotifyRule, error) {
	var r vigil.NotifyRule
	var events string
	var created sql.NullString
	if err := row.Scan(&r.ID, &r.Owner, &r.Channel, &r.Target, &events, &r.Within, &r.HasSecret, &created, &r.CreatedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &r.Events); err != nil {
		return nil, fmt.Errorf("notify rule %d: events: %w", r.ID, err)
	}
	r.Created = parseTime(created)
	return &r, nil
}

// CreateNotifyRule stores a notification rule with its webhook secret ("" for none), the secret sealed under the
// secret key and bound to the rule (EINVALID without the key: a secret is never stored in clear), audited (the
// secret is not in the event, only its sealed form in the row's hash).
func (db *DB) CreateNotifyRule(ctx context.Context, r *vigil.NotifyRule, plain string) (err error) {
	defer vigil.Wrap(&err, "store.CreateNotifyRule", r.Target)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		r.Created, r.CreatedBy, r.HasSecret = tx.Now(), tx.actor.String(), plain != ""
		var err error
		if r.ID, err = tx.insertID(ctx, `INSERT INTO notify_rules (owner, channel, target, events, within_days, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.Owner, string(r.Channel), r.Target, mustJSON(r.Events), r.Within, tx.NowText(), r.CreatedBy); err != nil {
			return err
		}
		if plain != "" {
			sealed, err := secret.Seal(db.secretKey, webhookBound(r.ID), plain)
			if errors.Is(err, secret.ErrNoKey) {
				return vigil.Errorf(vigil.EINVALID, "a webhook's signing secret is stored sealed with the secret key: give --secret-key FILE or $VIGIL_SECRET_KEY")
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE notify_rules SET secret = $1 WHERE id = $2", sealed, r.ID); err != nil {
				return err
			}
		}
		tx.wrote("notify_rules", r.ID)
		return tx.Audit(ctx, "notify.rule.create", "notify_rule", idText(r.ID), nil, r, "")
	})
}

// webhookBound binds a sealed webhook secret to its rule: it opens for no other.
func webhookBound(id int64) string { return "notify_rules/" + idText(id) }

// DeleteNotifyRule removes a rule, audited with the reason. Its messages already queued stay in the outbox.
func (db *DB) DeleteNotifyRule(ctx context.Context, id int64, reason string) (err error) {
	defer vigil.Wrap(&err, "store.DeleteNotifyRule", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		r, err := scanRule(tx.QueryRowContext(ctx, "SELECT "+ruleCols+" FROM notify_rules WHERE id = $1", id))
		if errors.Is(err, sql.ErrNoRows) {
			return vigil.Errorf(vigil.ENOTFOUND, "notification rule %d: not found", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM notify_rules WHERE id = $1", id); err != nil {
			return err
		}
		tx.wrote("notify_rules", id)
		return tx.Audit(ctx, "notify.rule.delete", "notify_rule", idText(id), r, nil, reason)
	})
}

// NotifyRules lists the rules by id (secrets stay in the database).
func (db *DB) NotifyRules(ctx context.Context) ([]*vigil.NotifyRule, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+ruleCols+" FROM notify_rules ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("notify rules: %w", err)
	}
	defer rows.Close()
	out := []*vigil.NotifyRule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// NotifyRule returns one rule.
func (db *DB) NotifyRule(ctx context.Context, id int64) (*vigil.NotifyRule, error) {
	r, err := scanRule(db.db.QueryRowContext(ctx, "SELECT "+ruleCols+" FROM notify_rules WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "notification rule %d: not found", id)
	}
	return r, err
}

// NotifyRuleSecret is a webhook rule's signing secret, opened with the secret key, for the outbox to sign with;
// ENOTFOUND when the rule is gone, EINVALID when the secret does not open (no key, another key, or altered).
func (db *DB) NotifyRuleSecret(ctx context.Context, id int64) (string, error) {
	var s string
	err := db.db.QueryRowContext(ctx, "SELECT secret FROM notify_rules WHERE id = $1", id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", vigil.Errorf(vigil.ENOTFOUND, "notification rule %d was removed", id)
	} else if err != nil || s == "" {
		return "", err
	}
	plain, err := secret.Open(db.secretKey, webhookBound(id), s)
	switch {
	case errors.Is(err, secret.ErrNoKey):
		return "", vigil.Errorf(vigil.EINVALID, "notification rule %d: its webhook signing secret is stored sealed: give the secret key (--secret-key FILE or $VIGIL_SECRET_KEY)", id)
	case err != nil:
		return "", vigil.Errorf(vigil.EINVALID, "notification rule %d: its stored webhook signing secret %v: remove the rule and add it again (a new secret)", id, err)
	}
	return plain, nil
}

// KEVHits lists each open (or could-not-evaluate) finding on a version in the field (any status but in
// development) whose vulnerability, or one of its CVE aliases, is listed (not removed) in the KEV catalog, with
// its case, device and version.
func (db *DB) KEVHits(ctx context.Context) (_ []vigil.KEVHitRow, err error) {
	defer vigil.Wrap(&err, "store.KEVHits", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT f.id, COALESCE(f.case_id, 0), f.vuln_id, f.aliases, d.name, v.id, v.version, v.units_fielded
		FROM findings f JOIN device_versions v ON v.id = f.version_id JOIN devices d ON d.id = v.device_id
		WHERE f.state IN ($1, $2) AND v.status <> $3
			AND (f.vuln_id IN (SELECT cve FROM intel_kev WHERE removed = $4) OR (f.vuln_id NOT LIKE 'CVE-%' AND f.aliases LIKE '%CVE-%'))
		ORDER BY f.id`, vigil.FindingOpen, vigil.FindingCouldNotEval, vigil.VersionInDevelopment, false)
	if err != nil {
		return nil, err
	}
	var out []vigil.KEVHitRow
	var viaAlias []int
	for rows.Next() {
		var h vigil.KEVHitRow
		var aliases string
		if err := rows.Scan(&h.FindingID, &h.CaseID, &h.Vulnerability, &aliases, &h.Device, &h.VersionID, &h.Version, &h.Units); err != nil {
			rows.Close()
			return nil, err
		}
		h.CVE = h.Vulnerability
		if !strings.HasPrefix(h.Vulnerability, "CVE-") {
			var as []string
			json.Unmarshal([]byte(aliases), &as) // damaged aliases name no listed CVE
			h.CVE = strings.Join(slices.DeleteFunc(as, func(a string) bool { return !strings.HasPrefix(a, "CVE-") }), " ")
			viaAlias = append(viaAlias, len(out))
		}
		out = append(out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(viaAlias) == 0 {
		return out, err
	}
	// A finding named otherwise (GHSA-...) counts when one of its CVE aliases is listed.
	listed := map[string]bool{}
	krows, err := db.db.QueryContext(ctx, "SELECT cve FROM intel_kev WHERE removed = $1", false)
	if err != nil {
		return nil, err
	}
	defer krows.Close()
	for krows.Next() {
		var c string
		if err := krows.Scan(&c); err != nil {
			return nil, err
		}
		listed[c] = true
	}
	keep := out[:0]
	for i, h := range out {
		if !slices.Contains(viaAlias, i) {
			keep = append(keep, h)
			continue
		}
		for _, c := range strings.Fields(h.CVE) {
			if listed[c] {
				h.CVE = c
				keep = append(keep, h)
				break
			}
		}
	}
	return keep, krows.Err()
}
