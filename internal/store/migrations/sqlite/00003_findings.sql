-- +goose Up
CREATE TABLE findings (
	id INTEGER PRIMARY KEY,
	version_id INTEGER NOT NULL REFERENCES device_versions(id),
	comp_key TEXT NOT NULL,
	component TEXT NOT NULL,
	vuln_id TEXT NOT NULL,
	aliases TEXT NOT NULL DEFAULT '[]',
	state TEXT NOT NULL,
	evidence TEXT NOT NULL DEFAULT '{}',
	source TEXT NOT NULL DEFAULT 'match',
	first_seen TEXT NOT NULL,
	resolved_at TEXT,
	learned TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (version_id, comp_key, vuln_id)
);
CREATE INDEX findings_state ON findings(state, version_id);
CREATE INDEX findings_vuln ON findings(vuln_id);
CREATE TABLE assessments (
	id INTEGER PRIMARY KEY,
	finding_id INTEGER NOT NULL REFERENCES findings(id),
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL,
	data TEXT NOT NULL,
	risk TEXT NOT NULL
);
CREATE INDEX assessments_finding ON assessments(finding_id, id);
CREATE TABLE finding_events (
	id INTEGER PRIMARY KEY,
	finding_id INTEGER NOT NULL REFERENCES findings(id),
	type TEXT NOT NULL,
	date TEXT NOT NULL,
	details TEXT NOT NULL DEFAULT '{}',
	note TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL
);
CREATE INDEX finding_events_finding ON finding_events(finding_id, id);
-- Decisions are events: assessments and regulatory events are never changed or removed.
-- +goose StatementBegin
CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments BEGIN SELECT RAISE(ABORT, 'assessments are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assessments_no_delete BEFORE DELETE ON assessments BEGIN SELECT RAISE(ABORT, 'assessments are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER finding_events_no_update BEFORE UPDATE ON finding_events BEGIN SELECT RAISE(ABORT, 'finding events are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER finding_events_no_delete BEFORE DELETE ON finding_events BEGIN SELECT RAISE(ABORT, 'finding events are append-only'); END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
