-- +goose Up
-- The compiled match index: per advisory, what matching reads of it (ids, affected ranges and versions, CPE
-- configurations, CSAF products) as a match.EncodeRecord record, so a re-match of the portfolio finds advisories
-- through intel_affected and decodes only these records, never the JSON documents. Migration 9 fills it for the
-- advisories already stored; imports write it with each advisory.
CREATE TABLE intel_match (
	advisory_id INTEGER PRIMARY KEY REFERENCES intel_advisories(id),
	record BLOB NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
