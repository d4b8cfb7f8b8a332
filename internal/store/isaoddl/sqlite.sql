-- Migration 28 (ISAO participation, isaomigration.go): the schema; the Go migration moves the organization's
-- JSON memberships into it and drops the column.
CREATE TABLE isao_memberships (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id),
	device_id INTEGER REFERENCES devices(id),
	name TEXT NOT NULL,
	since TEXT,
	until TEXT,
	contact TEXT NOT NULL DEFAULT '',
	tlp TEXT NOT NULL DEFAULT 'green',
	taxii_url TEXT NOT NULL DEFAULT '',
	taxii_collection TEXT NOT NULL DEFAULT '',
	taxii_user TEXT NOT NULL DEFAULT '',
	taxii_secret TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX isao_memberships_name ON isao_memberships(org_id, COALESCE(device_id, 0), name);
CREATE TABLE isao_document_contents (
	sha256 TEXT PRIMARY KEY,
	content BLOB NOT NULL
);
CREATE TABLE isao_documents (
	id INTEGER PRIMARY KEY,
	membership_id INTEGER NOT NULL REFERENCES isao_memberships(id),
	item INTEGER NOT NULL,
	kind TEXT NOT NULL,
	title TEXT NOT NULL,
	file_name TEXT NOT NULL DEFAULT '',
	sha256 TEXT NOT NULL REFERENCES isao_document_contents(sha256),
	size INTEGER NOT NULL,
	date TEXT,
	expires TEXT,
	added_at TEXT NOT NULL,
	added_by TEXT NOT NULL
);
CREATE INDEX isao_documents_membership ON isao_documents(membership_id, item);
CREATE TABLE isao_shares (
	id INTEGER PRIMARY KEY,
	membership_id INTEGER NOT NULL REFERENCES isao_memberships(id),
	case_id INTEGER NOT NULL REFERENCES cases(id),
	method TEXT NOT NULL,
	bundle_id TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	objects INTEGER NOT NULL,
	tlp TEXT NOT NULL,
	status_id TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	date TEXT NOT NULL,
	event_id INTEGER NOT NULL,
	shared_at TEXT NOT NULL,
	shared_by TEXT NOT NULL
);
CREATE INDEX isao_shares_case ON isao_shares(case_id);
CREATE TABLE isao_signals (
	id INTEGER PRIMARY KEY,
	membership_id INTEGER REFERENCES isao_memberships(id),
	source TEXT NOT NULL,
	stix_id TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	modified TEXT NOT NULL,
	cves TEXT NOT NULL DEFAULT '[]',
	named TEXT NOT NULL DEFAULT '[]',
	received TEXT NOT NULL
);
CREATE TABLE isao_signal_cases (
	signal_id INTEGER NOT NULL REFERENCES isao_signals(id),
	case_id INTEGER NOT NULL REFERENCES cases(id),
	PRIMARY KEY (signal_id, case_id)
);
CREATE INDEX isao_signal_cases_case ON isao_signal_cases(case_id);
CREATE TABLE isao_citations (
	id INTEGER PRIMARY KEY,
	signal_id INTEGER NOT NULL REFERENCES isao_signals(id),
	assessment_id INTEGER NOT NULL REFERENCES assessments(id),
	cited_at TEXT NOT NULL,
	cited_by TEXT NOT NULL,
	UNIQUE (signal_id, assessment_id)
);
CREATE INDEX isao_citations_assessment ON isao_citations(assessment_id);
