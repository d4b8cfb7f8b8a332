// Package benchdb holds the small queries the bench harnesses make of a store they loaded, beside the ones the
// store's own API answers: the harnesses pick their targets (versions, findings) by id straight from the tables.
package benchdb

import (
	"context"
	"database/sql"
)

// IDs returns the ids a one-column query lists, in its order.
func IDs(ctx context.Context, db *sql.DB, query string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
