package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigil-dev/vigil"
)

const noticeCols = "id, cases, subject, elements, follow_up_of, state, missing_reason, recipients, sent_date, sent_at, sent_by, created_at, created_by, updated_at"

func scanNotice(row interface{ Scan(...any) error }) (*vigil.Notice, error) {
	var n vigil.Notice
	var cases, elems string
	var follow sql.NullInt64
	var recips, sentDate, sentAt, created, updated sql.NullString
	if err := row.Scan(&n.ID, &cases, &n.Subject, &elems, &follow, &n.State, &n.MissingReason, &recips, &sentDate, &sentAt, &n.SentBy, &created, &n.CreatedBy, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cases), &n.Cases); err != nil {
		return nil, fmt.Errorf("notice %d cases: %w", n.ID, err)
	}
	if err := json.Unmarshal([]byte(elems), &n.Elements); err != nil {
		return nil, fmt.Errorf("notice %d elements: %w", n.ID, err)
	}
	if recips.Valid {
		if err := json.Unmarshal([]byte(recips.String), &n.Recipients); err != nil {
			return nil, fmt.Errorf("notice %d recipients: %w", n.ID, err)
		}
	}
	n.FollowUpOf = follow.Int64
	n.SentDate = parseDate(sentDate)
	if t := parseTime(sentAt); !t.IsZero() {
		n.SentAt = &t
	}
	n.CreatedAt, n.UpdatedAt = parseTime(created), parseTime(updated)
	return &n, nil
}

// casesExist refuses, naming the first, the ids of cases that do not exist: what a notice or an advisory is
// drafted from.
func (tx *Tx) casesExist(ctx context.Context, ids []int64) error {
	for i, id := range ids {
		var x int64
		if err := tx.QueryRowContext(ctx, "SELECT id FROM cases WHERE id = $1", id).Scan(&x); errors.Is(err, sql.ErrNoRows) {
			return vigil.Errorf(vigil.EINVALID, "cases[%d]: case %d not found", i, id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreateNotice stores a new draft notice.
func (db *DB) CreateNotice(ctx context.Context, n *vigil.Notice) (err error) {
	defer vigil.Wrap(&err, "store.CreateNotice", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if err := n.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.casesExist(ctx, n.Cases); err != nil {
			return err
		}
		if n.FollowUpOf != 0 {
			if _, err := scanNotice(tx.QueryRowContext(ctx, "SELECT "+noticeCols+" FROM notices WHERE id = $1", n.FollowUpOf)); errors.Is(err, sql.ErrNoRows) {
				return vigil.Errorf(vigil.EINVALID, "follow_up_of: notice %d not found", n.FollowUpOf)
			} else if err != nil {
				return err
			}
		}
		n.State, n.CreatedAt, n.UpdatedAt, n.CreatedBy = vigil.NoticeDraft, tx.Now(), tx.Now(), tx.actor.String()
		id, err := tx.insertID(ctx, `INSERT INTO notices (cases, subject, elements, follow_up_of, state, created_at, created_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $6)`, mustJSON(n.Cases), n.Subject, mustJSON(n.Elements), nullID(n.FollowUpOf), n.State, tx.NowText(), n.CreatedBy)
		if err != nil {
			return err
		}
		n.ID = id
		tx.wrote("notices", id)
		return tx.Audit(ctx, "notice.draft", "notice", idText(id), nil, n, "")
	})
}

// UpdateNotice replaces a draft's subject and elements; a notice no longer a draft is ECONFLICT.
func (db *DB) UpdateNotice(ctx context.Context, n *vigil.Notice, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateNotice", n.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if err := n.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanNotice, "notice", noticeCols, "notices", n.ID)
		if err != nil {
			return err
		}
		if old.State != vigil.NoticeDraft {
			return vigil.Errorf(vigil.ECONFLICT, "notice %d was sent: it cannot be edited (draft a follow-up)", n.ID)
		}
		kept := *old
		kept.Subject, kept.Elements, kept.UpdatedAt = n.Subject, n.Elements, tx.Now()
		if _, err := tx.ExecContext(ctx, "UPDATE notices SET subject = $1, elements = $2, updated_at = $3 WHERE id = $4",
			kept.Subject, mustJSON(kept.Elements), tx.NowText(), n.ID); err != nil {
			return err
		}
		*n = kept
		tx.wrote("notices", n.ID)
		return tx.Audit(ctx, "notice.edit", "notice", idText(n.ID), old, n, reason)
	})
}

// Notice returns one notice.
func (db *DB) Notice(ctx context.Context, id int64) (_ *vigil.Notice, err error) {
	defer vigil.Wrap(&err, "store.Notice", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryByID(ctx, db.db, scanNotice, "notice", noticeCols, "notices", id)
}

// Notices lists every notice, newest first.
func (db *DB) Notices(ctx context.Context) (_ []*vigil.Notice, err error) {
	defer vigil.Wrap(&err, "store.Notices", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, scanNotice, "SELECT "+noticeCols+" FROM notices ORDER BY id DESC")
}

// ClaimNoticeSend moves a draft to sending with its recipients, send date and (for a notice with elements
// missing) the reason, in one conditional update: of two sends racing, on one instance or two, exactly one
// claims it. The notice is returned as it stands either way, with claimed false when it was not a draft.
func (db *DB) ClaimNoticeSend(ctx context.Context, id int64, recipients []vigil.NoticeRecipient, date vigil.Date, reason string) (_ *vigil.Notice, claimed bool, err error) {
	defer vigil.Wrap(&err, "store.ClaimNoticeSend", id)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, false, err
	}
	if err := vigil.Text("reason", reason, vigil.MaxText); err != nil {
		return nil, false, err
	}
	if recipients == nil {
		recipients = []vigil.NoticeRecipient{}
	}
	var out *vigil.Notice
	err = db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanNotice, "notice", noticeCols, "notices", id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE notices SET state = $1, recipients = $2, sent_date = $3, sent_at = $4, sent_by = $5, missing_reason = $6, updated_at = $4
			WHERE id = $7 AND state = $8`, vigil.NoticeSending, mustJSON(recipients), date.String(), tx.NowText(), tx.actor.String(), reason, id, vigil.NoticeDraft)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			out = old
			if _, signing := vigil.SigningFrom(ctx); signing && err == nil {
				return vigil.Errorf(vigil.ECONFLICT, "notice %d is no longer a draft (%s): it was released by another send", id, old.State)
			}
			return err
		}
		claimed = true
		if out, err = scanNotice(tx.QueryRowContext(ctx, "SELECT "+noticeCols+" FROM notices WHERE id = $1", id)); err != nil {
			return err
		}
		tx.wrote("notices", id)
		if err := tx.Audit(ctx, "notice.send", "notice", idText(id), old, out, reason); err != nil {
			return err
		}
		// One release record per case of the notice, each signed: every case's records show its communication signed.
		for _, c := range out.Cases {
			if err := tx.recordAct(ctx, vigil.ActNoticeRelease, c, "notice", id, map[string]any{"notice": id, "subject": out.Subject, "cases": out.Cases,
				"elements": out.Elements, "recipients": out.Recipients, "sent_date": out.SentDate, "missing_reason": reason}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, claimed, err
}

// FinishNoticeSend marks a notice whose messages are queued and events recorded as sent.
func (db *DB) FinishNoticeSend(ctx context.Context, id int64) (err error) {
	defer vigil.Wrap(&err, "store.FinishNoticeSend", id)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE notices SET state = $1 WHERE id = $2 AND state = $3", vigil.NoticeSent, id, vigil.NoticeSending)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already sent: nothing to record
		}
		tx.wrote("notices", id)
		return tx.Audit(ctx, "notice.sent", "notice", idText(id), nil, map[string]string{"state": vigil.NoticeSent}, "")
	})
}
