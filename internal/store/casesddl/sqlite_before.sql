-- Migration 20, before the records move: cases, and the case-level tables the records move into.
CREATE TABLE cases (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices(id),
	vuln_id TEXT NOT NULL,
	aliases TEXT NOT NULL DEFAULT '[]',
	provisional INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL,
	learned TEXT NOT NULL,
	learned_how TEXT NOT NULL,
	learned_evidence TEXT NOT NULL DEFAULT '',
	merged_into INTEGER REFERENCES cases(id),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX cases_device ON cases(device_id, vuln_id);
CREATE INDEX cases_merged ON cases(merged_into);
ALTER TABLE findings ADD COLUMN case_id INTEGER REFERENCES cases(id);
CREATE INDEX findings_case ON findings(case_id);
-- finding_id: the finding a record migrated from was entered on (NULL for records entered on the case).
CREATE TABLE assessments_next (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	finding_id INTEGER REFERENCES findings(id),
	date TEXT NOT NULL,
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL,
	data TEXT NOT NULL,
	risk TEXT NOT NULL
);
CREATE TABLE assessment_threats_next (
	assessment_id INTEGER NOT NULL REFERENCES assessments_next(id),
	threat_id INTEGER NOT NULL REFERENCES tm_threats(id),
	PRIMARY KEY (assessment_id, threat_id)
);
CREATE TABLE case_events (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	finding_id INTEGER REFERENCES findings(id),
	type TEXT NOT NULL,
	date TEXT NOT NULL,
	details TEXT NOT NULL DEFAULT '{}',
	note TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL
);
-- A correction is a record too: it names the record it withdraws and why.
CREATE TABLE case_retractions (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	kind TEXT NOT NULL,
	record_id INTEGER NOT NULL,
	superseded_by TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL,
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL,
	UNIQUE (kind, record_id)
);
CREATE INDEX case_retractions_case ON case_retractions(case_id, id);
