-- +goose Up
-- Supplier VEX documents, imported as VEX (not as an SBOM), and the statuses they propose for the findings they
-- match. A proposal is decided once, by a person, with a reason (accepting not_affected or fixed closes the
-- finding); every insert and decision is audited. The document's SHA-256 is unique: the same file is imported once.
CREATE TABLE vex_documents (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	format TEXT NOT NULL,
	author TEXT NOT NULL DEFAULT '',
	sha256 TEXT NOT NULL UNIQUE,
	statements INTEGER NOT NULL,
	imported_at TEXT NOT NULL,
	imported_by TEXT NOT NULL
);
CREATE TABLE vex_proposals (
	id INTEGER PRIMARY KEY,
	document_id INTEGER NOT NULL REFERENCES vex_documents(id),
	finding_id INTEGER NOT NULL REFERENCES findings(id),
	statement TEXT NOT NULL,
	state TEXT NOT NULL,
	created_at TEXT NOT NULL,
	decided_by TEXT NOT NULL DEFAULT '',
	decided_at TEXT,
	reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX vex_proposals_state ON vex_proposals(state, id);
CREATE INDEX vex_proposals_finding ON vex_proposals(finding_id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
