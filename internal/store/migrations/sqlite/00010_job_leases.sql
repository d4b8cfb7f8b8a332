-- +goose Up
-- Leases of scheduled jobs (a feed sync is the job "feed:NAME"), so that several `vigil serve` on one database run
-- each job once: a server runs a job only while it holds the job's row, taken when it is free or its expiry has
-- passed (one conditional upsert, atomic on both engines) and renewed by a heartbeat while the job runs. A server
-- killed mid-job stops renewing; once its lease expires another server takes the job. Operational state: not
-- audited. Times are the stored text format, so they compare as text.
CREATE TABLE job_leases (
	name TEXT PRIMARY KEY,
	owner TEXT NOT NULL,
	acquired_at TEXT NOT NULL,
	renewed_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
