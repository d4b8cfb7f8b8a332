-- +goose Up
-- Part 11 signatures required (issue 18): the organization's setting of the acts that need a signature. Every act
-- needs one until an admin switches it off with a reason; each change is a row (the newest per act stands), so
-- the evidence package states who changed it, when and why.
CREATE TABLE signature_requirements (
	id INTEGER PRIMARY KEY,
	act TEXT NOT NULL,
	required BOOLEAN NOT NULL,
	reason TEXT NOT NULL,
	actor TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX signature_requirements_act ON signature_requirements(act, id);
CREATE TRIGGER signature_requirements_no_update BEFORE UPDATE ON signature_requirements BEGIN SELECT RAISE(ABORT, 'signature requirement changes are append-only'); END;
CREATE TRIGGER signature_requirements_no_delete BEFORE DELETE ON signature_requirements BEGIN SELECT RAISE(ABORT, 'signature requirement changes are append-only'); END;

-- The record a signed act leaves where it has no append-only record of its own (a case's state, a fix release and
-- a notice change after the act): what was done to which object, as it was at that moment (body, JSON). A
-- signature signs this row, so it stays valid when the object changes later.
CREATE TABLE act_records (
	id INTEGER PRIMARY KEY,
	act TEXT NOT NULL,
	case_id INTEGER REFERENCES cases(id),
	object_type TEXT NOT NULL,
	object_id INTEGER NOT NULL,
	body TEXT NOT NULL,
	actor TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX act_records_case ON act_records(case_id, id);
CREATE INDEX act_records_object ON act_records(object_type, object_id, id);
CREATE TRIGGER act_records_no_update BEFORE UPDATE ON act_records BEGIN SELECT RAISE(ABORT, 'act records are append-only'); END;
CREATE TRIGGER act_records_no_delete BEFORE DELETE ON act_records BEGIN SELECT RAISE(ABORT, 'act records are append-only'); END;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
