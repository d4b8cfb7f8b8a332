-- +goose Up
-- Regulatory records (issue 15): 806.10 reports and 806.10(d) amendments marked filed (with their report number,
-- REGNO-M/D/YY-SEQ-C, from a per-year sequence), 806.20 records signed off, premarket-submission decisions, and the
-- documents' settings. Records are append-only: a later record supersedes an earlier one, both stay. The sequence
-- is unique per year, so two reports filed at once cannot share a number.
CREATE TABLE regdoc_records (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	case_id INTEGER REFERENCES cases(id),
	device_id INTEGER REFERENCES devices(id),
	report_number TEXT NOT NULL DEFAULT '',
	report_year INTEGER,
	report_seq INTEGER,
	amends INTEGER REFERENCES regdoc_records(id),
	date TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL
);
CREATE UNIQUE INDEX regdoc_records_seq ON regdoc_records(report_year, report_seq) WHERE kind = 'part806_report';
CREATE INDEX regdoc_records_case ON regdoc_records(case_id, id);
CREATE INDEX regdoc_records_device ON regdoc_records(device_id, id);
CREATE TRIGGER regdoc_records_no_update BEFORE UPDATE ON regdoc_records BEGIN SELECT RAISE(ABORT, 'regulatory records are append-only'); END;
CREATE TRIGGER regdoc_records_no_delete BEFORE DELETE ON regdoc_records BEGIN SELECT RAISE(ABORT, 'regulatory records are append-only'); END;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
