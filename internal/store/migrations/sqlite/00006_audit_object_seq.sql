-- +goose Up
-- "The newest events of this object" (a finding's state changes on its page, a user's previous sign-in on the
-- dashboard) walks the index backwards and stops at the limit, instead of reading every event of the object and
-- sorting them: a user signs in every day for years.
CREATE INDEX audit_object_seq ON audit_events(object_type, object_id, seq);
DROP INDEX audit_object;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
