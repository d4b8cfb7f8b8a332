-- +goose Up
-- Account lifecycle: a revoked token stays in the table (the audit trail names it) but TokenActor refuses it; a
-- session records when it was last used (written at most once a minute) so that an idle one ends before its
-- absolute expiry. Sessions and tokens are looked up by user when a user is disabled or lists their tokens.
ALTER TABLE tokens ADD COLUMN revoked_at TEXT;
ALTER TABLE sessions ADD COLUMN last_seen TEXT;
CREATE INDEX tokens_user ON tokens(user_id);
CREATE INDEX sessions_user ON sessions(user_id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
