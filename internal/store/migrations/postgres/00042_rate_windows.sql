-- +goose Up
-- The public intake's rate limits, shared by every `vigil serve` on one database: hits counted per bucket (a
-- client address's SHA-256, or everyone) per fixed window (its start, in the stored time text). Each server also
-- keeps its own in-memory limit, which refuses a flood without database work; these rows make the limit hold
-- across servers. Operational state, not audited: windows are deleted an hour after they end. No address is
-- stored, only its digest.
CREATE TABLE rate_windows (
	bucket TEXT NOT NULL,
	window_start TEXT NOT NULL,
	hits INTEGER NOT NULL,
	PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
