-- +goose Up
-- A device's own risk acceptance matrix (JSON, internal/risk's form); NULL means the program's default matrix.
ALTER TABLE devices ADD COLUMN acceptance_matrix TEXT;

-- The threat model of each device: assets, threats (STRIDE), designed-in mitigations and compensating controls.
-- Refs ("T-1") are what people type and what assessments record; unique per device regardless of case, never changed.
CREATE TABLE tm_assets (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices(id),
	ref TEXT NOT NULL,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tm_assets_ref ON tm_assets(device_id, lower(ref));
CREATE TABLE tm_threats (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices(id),
	ref TEXT NOT NULL,
	title TEXT NOT NULL,
	category TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	functions TEXT NOT NULL DEFAULT '[]',
	entry_points TEXT NOT NULL DEFAULT '[]',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tm_threats_ref ON tm_threats(device_id, lower(ref));
CREATE TABLE tm_threat_assets (
	threat_id INTEGER NOT NULL REFERENCES tm_threats(id),
	asset_id INTEGER NOT NULL REFERENCES tm_assets(id),
	PRIMARY KEY (threat_id, asset_id)
);
CREATE TABLE tm_controls (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices(id),
	ref TEXT NOT NULL,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	reference TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tm_controls_ref ON tm_controls(device_id, lower(ref));
CREATE TABLE tm_control_threats (
	control_id INTEGER NOT NULL REFERENCES tm_controls(id),
	threat_id INTEGER NOT NULL REFERENCES tm_threats(id),
	PRIMARY KEY (control_id, threat_id)
);
CREATE INDEX tm_control_threats_threat ON tm_control_threats(threat_id);
-- The threats an assessment named: its trace to the threat model. Append-only like the assessment itself.
CREATE TABLE assessment_threats (
	assessment_id INTEGER NOT NULL REFERENCES assessments(id),
	threat_id INTEGER NOT NULL REFERENCES tm_threats(id),
	PRIMARY KEY (assessment_id, threat_id)
);
-- +goose StatementBegin
CREATE TRIGGER assessment_threats_no_update BEFORE UPDATE ON assessment_threats BEGIN SELECT RAISE(ABORT, 'assessment threats are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assessment_threats_no_delete BEFORE DELETE ON assessment_threats BEGIN SELECT RAISE(ABORT, 'assessment threats are append-only'); END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
