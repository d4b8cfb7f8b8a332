-- +goose Up
-- Issue 13. outbox.headers: a message's own header lines (JSON object; NULL for none), the In-Reply-To and
-- References that thread a follow-up notice under the first one in each recipient's mailbox. fix_releases:
-- retraction (JSON: reason, when, by whom) withdraws a fix release entered in error or recalled, and vv_retractions
-- (JSON list) keeps every V&V record withdrawn from it with its reason, so a retracted record is never lost. The
-- columns are NULL until used, so existing rows keep their audit hash.
ALTER TABLE outbox ADD COLUMN headers TEXT;
ALTER TABLE fix_releases ADD COLUMN retraction TEXT;
ALTER TABLE fix_releases ADD COLUMN vv_retractions TEXT;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
