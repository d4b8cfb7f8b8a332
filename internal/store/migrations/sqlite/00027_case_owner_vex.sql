-- +goose Up
-- A case's owner (the user who works it; NULL: nobody yet, so earlier records' states are unchanged).
ALTER TABLE cases ADD COLUMN owner TEXT;
CREATE INDEX cases_owner ON cases(owner);
-- Every id a case is known by (its vulnerability and each alias), lower-cased: searching the case queue for any
-- alias is an index look-up on both engines instead of a scan of the aliases' JSON. Derived from cases.vuln_id and
-- cases.aliases, which the audit trail records; kept with them in the same transactions.
CREATE TABLE case_ids (
	vid TEXT NOT NULL,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	PRIMARY KEY (vid, case_id)
);
INSERT INTO case_ids (vid, case_id)
	SELECT lower(vuln_id), id FROM cases
	UNION SELECT lower(j.value), c.id FROM cases c, json_each(c.aliases) j;
-- Each version's VEX status on a case, as a person decided it (vigil.VersionVEX): appended, never edited; the
-- newest for a version stands.
CREATE TABLE case_vex (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	version_id INTEGER NOT NULL REFERENCES device_versions(id),
	status TEXT NOT NULL,
	justification TEXT NOT NULL DEFAULT '',
	impact_statement TEXT NOT NULL DEFAULT '',
	action_statement TEXT NOT NULL DEFAULT '',
	fixed_in TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL,
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL
);
CREATE INDEX case_vex_case ON case_vex(case_id, version_id, id);
CREATE TRIGGER case_vex_no_update BEFORE UPDATE ON case_vex BEGIN SELECT RAISE(ABORT, 'case VEX statuses are append-only'); END;
CREATE TRIGGER case_vex_no_delete BEFORE DELETE ON case_vex BEGIN SELECT RAISE(ABORT, 'case VEX statuses are append-only'); END;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
