-- +goose Up
-- The sharing log (migration 28) gains what issue 14 left out: the customer notice a share carried (a notice is
-- shared once for all its cases, one log entry per case), the TAXII server's words when it refused objects, and
-- when the status was last asked for (a share still pending after its first polls is asked again by the
-- isao-status job or `vigil isao status`, and its entry moves from pending to complete or failed).
ALTER TABLE isao_shares ADD COLUMN notice_id BIGINT REFERENCES notices(id);
ALTER TABLE isao_shares ADD COLUMN status_text TEXT NOT NULL DEFAULT '';
ALTER TABLE isao_shares ADD COLUMN checked_at TEXT;
CREATE INDEX isao_shares_pending ON isao_shares(status);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
