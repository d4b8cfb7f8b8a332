-- +goose Up
-- The CSAF 2.0 security advisories Vigil publishes: for one or more cases (ids as a JSON array) or a customer
-- notice's, with their TLP, status (draft until first published, then interim or final), revision history, and the
-- last document published (NULL for a draft, which is rendered from the live records when shown). The provider
-- (/.well-known/csaf/) serves the published ones.
CREATE TABLE advisories (
	id INTEGER PRIMARY KEY,
	tracking_id TEXT NOT NULL UNIQUE,
	cases TEXT NOT NULL,
	notice_id INTEGER REFERENCES notices(id),
	tlp TEXT NOT NULL,
	status TEXT NOT NULL,
	revisions TEXT NOT NULL,
	document TEXT,
	published_at TEXT,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
