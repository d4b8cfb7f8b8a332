-- +goose Up
-- The digest of the matched findings (component key, vulnerability id, state) that the last full sync of a device
-- version applied (issue 19): a full re-match whose result has the same digest would change nothing, so it neither
-- reads nor rewrites the version's findings. The digest stays true only while nobody else changes the version's
-- findings, so every change to them, by any writer, drops it in the same transaction (the triggers below); the
-- next full sync writes it again. The triggers run once per statement (a re-match writes findings hundreds per
-- statement). They take the version's findings lock (advisory lock 7319, version), which a full sync holds from
-- its first read: a change committed while a sync runs then drops the digest the sync wrote instead of slipping
-- under it (read committed would let it).
CREATE TABLE finding_digests (
	version_id BIGINT PRIMARY KEY REFERENCES device_versions(id),
	digest TEXT NOT NULL
);
-- +goose StatementBegin
CREATE FUNCTION finding_digests_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(7319, (v.version_id % 2147483647)::integer) FROM (SELECT DISTINCT version_id FROM changed ORDER BY version_id) v;
	DELETE FROM finding_digests WHERE version_id IN (SELECT version_id FROM changed);
	RETURN NULL;
END $$;
-- +goose StatementEnd
-- Findings never move between versions, so an update's new rows name every version it changed.
CREATE TRIGGER findings_digest_insert AFTER INSERT ON findings REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION finding_digests_stale();
CREATE TRIGGER findings_digest_update AFTER UPDATE ON findings REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION finding_digests_stale();
CREATE TRIGGER findings_digest_delete AFTER DELETE ON findings REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION finding_digests_stale();

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
