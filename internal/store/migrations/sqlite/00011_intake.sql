-- +goose Up
-- The published CVD policy of each organization (security.txt and the policy page); the contact and the
-- acknowledgement days stay on orgs, where the organization's settings already keep them.
CREATE TABLE intake_policy (
	org_id INTEGER PRIMARY KEY REFERENCES orgs(id),
	expires TEXT,
	languages TEXT NOT NULL DEFAULT '[]',
	base_url TEXT NOT NULL DEFAULT '',
	statement TEXT NOT NULL DEFAULT '',
	queue_cap INTEGER NOT NULL DEFAULT 0,
	updated_at TEXT NOT NULL
);

-- The intake queue (ISO/IEC 30111): researchers' reports and every other signal to triage. token_hash is the
-- SHA-256 of the reporter's follow-up secret (NULL once revoked); the secret itself is never stored.
CREATE TABLE intake_reports (
	id INTEGER PRIMARY KEY,
	source TEXT NOT NULL,
	status TEXT NOT NULL,
	resolution TEXT NOT NULL DEFAULT '',
	device_id INTEGER REFERENCES devices(id),
	product TEXT NOT NULL DEFAULT '',
	version TEXT NOT NULL DEFAULT '',
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	impact TEXT NOT NULL DEFAULT '',
	steps TEXT NOT NULL DEFAULT '',
	cvss TEXT NOT NULL DEFAULT '',
	reporter_name TEXT NOT NULL DEFAULT '',
	reporter_email TEXT NOT NULL DEFAULT '',
	disclosure TEXT NOT NULL,
	embargo_requested TEXT,
	credit TEXT NOT NULL DEFAULT '',
	reference TEXT NOT NULL DEFAULT '',
	signal_id INTEGER UNIQUE REFERENCES intel_signals(id),
	received_at TEXT NOT NULL,
	received_on TEXT NOT NULL,
	ack_due TEXT NOT NULL,
	acknowledged_at TEXT,
	token_hash TEXT UNIQUE,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX intake_reports_status ON intake_reports(status, ack_due);

-- A report's thread: the reporter's and the PSIRT's messages and each status change with its reason. Append-only.
CREATE TABLE intake_messages (
	id INTEGER PRIMARY KEY,
	report_id INTEGER NOT NULL REFERENCES intake_reports(id),
	sender TEXT NOT NULL,
	author TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT '',
	body TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX intake_messages_report ON intake_messages(report_id, id);
-- +goose StatementBegin
CREATE TRIGGER intake_messages_no_update BEFORE UPDATE ON intake_messages BEGIN SELECT RAISE(ABORT, 'report messages are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER intake_messages_no_delete BEFORE DELETE ON intake_messages BEGIN SELECT RAISE(ABORT, 'report messages are append-only'); END;
-- +goose StatementEnd

-- Attachments live in the database, never under a directory the web server serves.
CREATE TABLE intake_attachments (
	id INTEGER PRIMARY KEY,
	report_id INTEGER NOT NULL REFERENCES intake_reports(id),
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	data BLOB NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX intake_attachments_report ON intake_attachments(report_id);

-- What triage linked a report to: findings, or cases.
CREATE TABLE intake_links (
	report_id INTEGER NOT NULL REFERENCES intake_reports(id),
	kind TEXT NOT NULL,
	target_id INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (report_id, kind, target_id)
);
CREATE INDEX intake_links_target ON intake_links(kind, target_id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
