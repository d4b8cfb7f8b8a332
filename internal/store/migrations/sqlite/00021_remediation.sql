-- +goose Up
-- Remediation of a case (issue 13): the plan's versions (never edited: a change is the next version, with its
-- reason), the releases that fix the case with their V&V record (21 CFR 820.30(g)) and distribution, and the
-- deployment reports from the field (a running total of units updated per consignee and affected version). Every
-- write is audited; a distributed fix names the fix_distributed case event it recorded.
CREATE TABLE remediation_plans (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	version INTEGER NOT NULL,
	date TEXT NOT NULL,
	controls TEXT NOT NULL DEFAULT '[]',
	fix_release TEXT NOT NULL DEFAULT '',
	target_date TEXT NOT NULL DEFAULT '',
	cycle TEXT NOT NULL DEFAULT '',
	ssvc TEXT NOT NULL DEFAULT '',
	rationale TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL,
	UNIQUE (case_id, version)
);
CREATE TABLE fix_releases (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	release_name TEXT NOT NULL,
	version_id INTEGER REFERENCES device_versions(id),
	remediation TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	vv TEXT,
	distributed TEXT,
	channel TEXT NOT NULL DEFAULT '',
	event_id INTEGER REFERENCES case_events(id),
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL
);
CREATE INDEX fix_releases_case ON fix_releases(case_id, id);
CREATE TABLE remediation_deployments (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	consignee_id INTEGER NOT NULL REFERENCES consignees(id),
	version_id INTEGER NOT NULL REFERENCES device_versions(id),
	date TEXT NOT NULL,
	units INTEGER NOT NULL,
	source TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL
);
CREATE INDEX remediation_deployments_case ON remediation_deployments(case_id, date, id);
-- Plan versions and deployment reports are records: never changed or removed.
-- +goose StatementBegin
CREATE TRIGGER remediation_plans_no_update BEFORE UPDATE ON remediation_plans BEGIN SELECT RAISE(ABORT, 'remediation plans are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER remediation_plans_no_delete BEFORE DELETE ON remediation_plans BEGIN SELECT RAISE(ABORT, 'remediation plans are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER remediation_deployments_no_update BEFORE UPDATE ON remediation_deployments BEGIN SELECT RAISE(ABORT, 'deployment reports are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER remediation_deployments_no_delete BEFORE DELETE ON remediation_deployments BEGIN SELECT RAISE(ABORT, 'deployment reports are append-only'); END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
