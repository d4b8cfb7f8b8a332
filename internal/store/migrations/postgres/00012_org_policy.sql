-- +goose Up
-- The organization's regulatory policy (vigil.OrgPolicy as JSON: working-day calendar, roll deadlines,
-- re-assessment clock, acceptance matrix). Every determination runs under it; '{}' is the documented defaults,
-- which is what every determination used before the policy could be set.
ALTER TABLE orgs ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
