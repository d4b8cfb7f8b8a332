-- +goose Up
-- Saved filters: a user's list filter (the query string of a screen's filter form) kept under a name, per user and
-- screen; saving a name again replaces it. Audited (a saved filter is the user's own record, reconciled by audit
-- verify like every other).
CREATE TABLE saved_filters (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	screen TEXT NOT NULL,
	name TEXT NOT NULL,
	query TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (user_id, screen, name)
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
