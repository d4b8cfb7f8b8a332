-- +goose Up
-- Disclosure coordination (ISO/IEC 29147) is per case: the embargo, the partners, the CVE request and assignment,
-- the publication and the credit line of one vulnerability on one device, whichever reports it came from. Each
-- record is the whole coordination as it stood from then on (vigil.Disclosure as JSON, with the reason); records
-- are appended, the newest stands.
CREATE TABLE case_disclosures (
	id INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	disclosure TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL
);
CREATE INDEX case_disclosures_case ON case_disclosures(case_id, id);
CREATE TRIGGER case_disclosures_no_update BEFORE UPDATE ON case_disclosures BEGIN SELECT RAISE(ABORT, 'case disclosure records are append-only'); END;
CREATE TRIGGER case_disclosures_no_delete BEFORE DELETE ON case_disclosures BEGIN SELECT RAISE(ABORT, 'case disclosure records are append-only'); END;

-- The coordination recorded on a report (migration 19) moves to each case the report was triaged into; the audit
-- trail keeps every state it had (the intake.disclosure events), and the rows are attested after the upgrade.
INSERT INTO case_disclosures (case_id, disclosure, reason, created_at, actor)
	SELECT l.target_id, r.coordination, 'recorded on report VR-' || r.id || ' before coordination moved to cases (migration 32)', r.updated_at, 'migrate'
	FROM intake_reports r JOIN intake_links l ON l.report_id = r.id AND l.kind = 'case'
	WHERE r.coordination IS NOT NULL ORDER BY r.id, l.target_id;
ALTER TABLE intake_reports DROP COLUMN coordination;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
