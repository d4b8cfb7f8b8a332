-- +goose Up
-- Per import run, the ids of the advisories it added, revised or withdrawn (the id a finding names its
-- vulnerability by), beside intel_changes' package keys: a re-match after a small import matches only the
-- advisories with these ids against the components carrying the run's changed keys, where it used to reload every
-- advisory of those packages. Runs before this migration recorded no ids: kv 'intel.changed_ids_after' is the last
-- of them, and a re-match reaching back past it matches by package as before.
CREATE TABLE intel_changed_ids (
	run_id BIGINT NOT NULL,
	adv_id TEXT NOT NULL,
	PRIMARY KEY (run_id, adv_id)
);
INSERT INTO kv (k, v) SELECT 'intel.changed_ids_after', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM intel_runs;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
