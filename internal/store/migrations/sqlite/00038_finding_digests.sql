-- +goose Up
-- The digest of the matched findings (component key, vulnerability id, state) that the last full sync of a device
-- version applied (issue 19): a full re-match whose result has the same digest would change nothing, so it neither
-- reads nor rewrites the version's findings. The digest stays true only while nobody else changes the version's
-- findings, so every change to them, by any writer, drops it in the same transaction (the triggers below); the
-- next full sync writes it again.
CREATE TABLE finding_digests (
	version_id INTEGER PRIMARY KEY REFERENCES device_versions(id),
	digest TEXT NOT NULL
);
-- +goose StatementBegin
CREATE TRIGGER findings_digest_insert AFTER INSERT ON findings BEGIN
	DELETE FROM finding_digests WHERE version_id = NEW.version_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER findings_digest_update AFTER UPDATE ON findings BEGIN
	DELETE FROM finding_digests WHERE version_id IN (OLD.version_id, NEW.version_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER findings_digest_delete AFTER DELETE ON findings BEGIN
	DELETE FROM finding_digests WHERE version_id = OLD.version_id;
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
