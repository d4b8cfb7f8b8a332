package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/vigil-dev/vigil"
)

var _ vigil.SavedFilterService = (*DB)(nil)

// filterOwner is the user a saved filter belongs to: the signed-in caller (a system actor has no filters).
func filterOwner(ctx context.Context) (vigil.Actor, error) {
	a, err := vigil.Authorize(ctx, vigil.PermRead)
	if err != nil {
		return a, err
	}
	if a.UserID == 0 {
		return a, vigil.Errorf(vigil.EFORBIDDEN, "saved filters belong to a user: %s has none", a)
	}
	return a, nil
}

const savedFilterCols = "id, user_id, screen, name, query, created_at"

func scanSavedFilter(row interface{ Scan(...any) error }) (*vigil.SavedFilter, error) {
	var f vigil.SavedFilter
	var created sql.NullString
	if err := row.Scan(&f.ID, &f.UserID, &f.Screen, &f.Name, &f.Query, &created); err != nil {
		return nil, err
	}
	f.CreatedAt = parseTime(created)
	return &f, nil
}

// SavedFilters lists the caller's saved filters of a screen, by name.
func (db *DB) SavedFilters(ctx context.Context, screen string) (_ []*vigil.SavedFilter, err error) {
	defer vigil.Wrap(&err, "store.SavedFilters", screen)
	a, err := filterOwner(ctx)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, scanSavedFilter, "SELECT "+savedFilterCols+" FROM saved_filters WHERE user_id = $1 AND screen = $2 ORDER BY name, id", a.UserID, screen)
}

// SaveFilter saves the caller's filter under its name, replacing the caller's filter of that name on that screen.
func (db *DB) SaveFilter(ctx context.Context, f *vigil.SavedFilter) (err error) {
	defer vigil.Wrap(&err, "store.SaveFilter", f.Name)
	a, err := filterOwner(ctx)
	if err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	f.UserID = a.UserID
	return db.transact(ctx, func(tx *Tx) error {
		old, err := scanSavedFilter(tx.QueryRowContext(ctx, "SELECT "+savedFilterCols+" FROM saved_filters WHERE user_id = $1 AND screen = $2 AND name = $3",
			f.UserID, f.Screen, f.Name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			old = nil
			f.CreatedAt = tx.Now()
			if f.ID, err = tx.insertID(ctx, "INSERT INTO saved_filters (user_id, screen, name, query, created_at) VALUES ($1, $2, $3, $4, $5)",
				f.UserID, f.Screen, f.Name, f.Query, tx.NowText()); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			f.ID, f.CreatedAt = old.ID, old.CreatedAt
			if _, err := tx.ExecContext(ctx, "UPDATE saved_filters SET query = $1 WHERE id = $2", f.Query, f.ID); err != nil {
				return err
			}
		}
		tx.wrote("saved_filters", f.ID)
		return tx.Audit(ctx, "filter.save", "saved_filter", idText(f.ID), old, f, "")
	})
}

// DeleteSavedFilter deletes one of the caller's saved filters.
func (db *DB) DeleteSavedFilter(ctx context.Context, id int64) (err error) {
	defer vigil.Wrap(&err, "store.DeleteSavedFilter", id)
	a, err := filterOwner(ctx)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := scanSavedFilter(tx.QueryRowContext(ctx, "SELECT "+savedFilterCols+" FROM saved_filters WHERE id = $1 AND user_id = $2", id, a.UserID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("saved filter", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM saved_filters WHERE id = $1", id); err != nil {
			return err
		}
		tx.wrote("saved_filters", id)
		return tx.Audit(ctx, "filter.delete", "saved_filter", idText(id), old, nil, "")
	})
}
