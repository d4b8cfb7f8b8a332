-- +goose Up
-- When a periodic job (the re-match of imports a killed server left unmatched; checkpoint exports) last completed,
-- kept with its lease so that neither a restarted server nor another one runs it again before its interval.
ALTER TABLE job_leases ADD COLUMN completed_at TEXT;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
