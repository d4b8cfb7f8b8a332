-- +goose Up
-- The reverse index: which device versions hold a package, by the same keys the affected index files advisories
-- under, so an import re-matches only the versions its changed keys touch.
CREATE TABLE component_keys (
	version_id BIGINT NOT NULL REFERENCES device_versions(id),
	kind TEXT NOT NULL,
	ecosystem TEXT NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (version_id, kind, ecosystem, name)
);
CREATE INDEX component_keys_key ON component_keys(kind, ecosystem, name);
CREATE TABLE kv (
	k TEXT PRIMARY KEY,
	v TEXT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
