-- +goose Up
CREATE TABLE orgs (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	fei_number TEXT NOT NULL DEFAULT '',
	time_zone TEXT NOT NULL,
	isaos TEXT NOT NULL DEFAULT '[]',
	cvd_ack_days INTEGER NOT NULL,
	cvd_contact TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE TABLE devices (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id),
	name TEXT NOT NULL UNIQUE,
	model TEXT NOT NULL DEFAULT '',
	class TEXT NOT NULL,
	pathway TEXT NOT NULL,
	submission_number TEXT NOT NULL DEFAULT '',
	cyber_device INTEGER NOT NULL DEFAULT 0,
	intended_use TEXT NOT NULL DEFAULT '',
	safety_performance TEXT NOT NULL DEFAULT '',
	functions TEXT NOT NULL DEFAULT '[]',
	udi_di TEXT NOT NULL DEFAULT '',
	pma_anniversary TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE TABLE device_versions (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices(id),
	version TEXT NOT NULL,
	release_date TEXT,
	status TEXT NOT NULL,
	status_date TEXT,
	units_fielded INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (device_id, version)
);
CREATE TABLE sboms (
	id INTEGER PRIMARY KEY,
	version_id INTEGER NOT NULL REFERENCES device_versions(id),
	source TEXT NOT NULL,
	format TEXT NOT NULL DEFAULT '',
	digest TEXT NOT NULL DEFAULT '',
	imported_at TEXT NOT NULL,
	current INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX sboms_version ON sboms(version_id, current);
CREATE TABLE components (
	id INTEGER PRIMARY KEY,
	sbom_id INTEGER NOT NULL REFERENCES sboms(id),
	version_id INTEGER NOT NULL REFERENCES device_versions(id),
	name TEXT NOT NULL,
	grp TEXT NOT NULL DEFAULT '',
	version TEXT NOT NULL DEFAULT '',
	purl TEXT NOT NULL DEFAULT '',
	cpe TEXT NOT NULL DEFAULT '',
	supplier TEXT NOT NULL DEFAULT '',
	hashes TEXT NOT NULL DEFAULT '{}',
	support TEXT NOT NULL DEFAULT 'unknown',
	end_of_support TEXT,
	support_note TEXT NOT NULL DEFAULT '',
	type TEXT NOT NULL DEFAULT '',
	current INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX components_version ON components(version_id, current);
CREATE INDEX components_name ON components(name);
CREATE TABLE consignees (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id),
	name TEXT NOT NULL,
	contact TEXT NOT NULL DEFAULT '',
	address TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (org_id, name)
);
CREATE TABLE consignee_units (
	consignee_id INTEGER NOT NULL REFERENCES consignees(id),
	version_id INTEGER NOT NULL REFERENCES device_versions(id),
	units INTEGER NOT NULL,
	lots TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (consignee_id, version_id)
);
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL
);
CREATE TABLE tokens (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	name TEXT NOT NULL,
	hash TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	expires_at TEXT,
	last_used TEXT
);
CREATE TABLE sessions (
	id_hash TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	csrf TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE TABLE audit_events (
	seq INTEGER PRIMARY KEY,
	time TEXT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id TEXT NOT NULL,
	old TEXT,
	new TEXT,
	reason TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_events(object_type, object_id);
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
