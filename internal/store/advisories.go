package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/vigil-dev/vigil"
)

const advisoryCols = "id, tracking_id, cases, notice_id, tlp, status, revisions, document, published_at, created_at, created_by, updated_at"

func scanAdvisory(row interface{ Scan(...any) error }) (*vigil.SecurityAdvisory, error) {
	var a vigil.SecurityAdvisory
	var cases, revs string
	var notice sql.NullInt64
	var doc, pub, created, updated sql.NullString
	if err := row.Scan(&a.ID, &a.TrackingID, &cases, &notice, &a.TLP, &a.Status, &revs, &doc, &pub, &created, &a.CreatedBy, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cases), &a.Cases); err != nil {
		return nil, fmt.Errorf("advisory %d cases: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(revs), &a.Revisions); err != nil {
		return nil, fmt.Errorf("advisory %d revisions: %w", a.ID, err)
	}
	a.NoticeID = notice.Int64
	if doc.Valid {
		a.Document = json.RawMessage(doc.String)
	}
	if t := parseTime(pub); !t.IsZero() {
		a.PublishedAt = &t
	}
	a.CreatedAt, a.UpdatedAt = parseTime(created), parseTime(updated)
	return &a, nil
}

// CreateAdvisory stores a draft advisory; its tracking id is prefix followed by its id on four digits.
func (db *DB) CreateAdvisory(ctx context.Context, a *vigil.SecurityAdvisory, prefix string) (err error) {
	defer vigil.Wrap(&err, "store.CreateAdvisory", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if err := vigil.OneOf("tlp", a.TLP, vigil.AdvisoryTLPs); err != nil {
		return err
	}
	if err := vigil.Text("tracking_id", prefix, vigil.MaxName-8); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.casesExist(ctx, a.Cases); err != nil {
			return err
		}
		a.Status, a.Revisions, a.CreatedAt, a.UpdatedAt, a.CreatedBy = vigil.AdvisoryDraft, []vigil.AdvisoryRevision{}, tx.Now(), tx.Now(), tx.actor.String()
		id, err := tx.insertID(ctx, `INSERT INTO advisories (tracking_id, cases, notice_id, tlp, status, revisions, created_at, created_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)`, prefix+"-pending", mustJSON(a.Cases), nullID(a.NoticeID), a.TLP, a.Status, mustJSON(a.Revisions), tx.NowText(), a.CreatedBy)
		if err != nil {
			return err
		}
		a.ID, a.TrackingID = id, fmt.Sprintf("%s%04d", prefix, id)
		if _, err := tx.ExecContext(ctx, "UPDATE advisories SET tracking_id = $1 WHERE id = $2", a.TrackingID, id); err != nil {
			return mapErr(err)
		}
		tx.wrote("advisories", id)
		return tx.Audit(ctx, "advisory.draft", "advisory", idText(id), nil, a, "")
	})
}

// PublishAdvisory records a publication: the status, the revision history and the document published. rev is
// the number of revisions the caller rendered on top of (ECONFLICT when another publication came first).
func (db *DB) PublishAdvisory(ctx context.Context, id int64, rev int, status string, revs []vigil.AdvisoryRevision, doc []byte) (_ *vigil.SecurityAdvisory, err error) {
	defer vigil.Wrap(&err, "store.PublishAdvisory", id)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	var out *vigil.SecurityAdvisory
	err = db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanAdvisory, "advisory", advisoryCols, "advisories", id)
		if err != nil {
			return err
		}
		if len(old.Revisions) != rev {
			return vigil.Errorf(vigil.ECONFLICT, "advisory %s was published meanwhile (revision %d): render it again", old.TrackingID, len(old.Revisions))
		}
		if _, err := tx.ExecContext(ctx, "UPDATE advisories SET status = $1, revisions = $2, document = $3, published_at = $4, updated_at = $4 WHERE id = $5",
			status, mustJSON(revs), string(doc), tx.NowText(), id); err != nil {
			return err
		}
		if out, err = scanAdvisory(tx.QueryRowContext(ctx, "SELECT "+advisoryCols+" FROM advisories WHERE id = $1", id)); err != nil {
			return err
		}
		tx.wrote("advisories", id)
		old.Document = nil
		return tx.Audit(ctx, "advisory.publish", "advisory", idText(id), old, map[string]any{"status": status, "revision": revs[len(revs)-1]}, "")
	})
	return out, err
}

// Advisory returns one advisory.
func (db *DB) Advisory(ctx context.Context, id int64) (_ *vigil.SecurityAdvisory, err error) {
	defer vigil.Wrap(&err, "store.Advisory", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryByID(ctx, db.db, scanAdvisory, "advisory", advisoryCols, "advisories", id)
}

// Advisories lists every advisory, newest first.
func (db *DB) Advisories(ctx context.Context) (_ []*vigil.SecurityAdvisory, err error) {
	defer vigil.Wrap(&err, "store.Advisories", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, scanAdvisory, "SELECT "+advisoryCols+" FROM advisories ORDER BY id DESC")
}

// PublicAdvisories lists the published TLP:WHITE advisories, oldest first. It needs no actor: it is what the
// CSAF provider serves to anyone.
func (db *DB) PublicAdvisories(ctx context.Context) (_ []*vigil.SecurityAdvisory, err error) {
	defer vigil.Wrap(&err, "store.PublicAdvisories", nil)
	return queryAll(ctx, db.db, scanAdvisory, "SELECT "+advisoryCols+" FROM advisories WHERE tlp = $1 AND document IS NOT NULL ORDER BY id", "WHITE")
}
