-- +goose Up
-- A report's disclosure coordination (ISO/IEC 29147) as JSON (vigil.Disclosure: embargo, partners, CVE request and
-- assignment, publication, credit line); NULL until the PSIRT records any, so earlier records' states are unchanged.
ALTER TABLE intake_reports ADD COLUMN coordination TEXT;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
