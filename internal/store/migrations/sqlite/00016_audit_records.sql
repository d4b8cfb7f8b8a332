-- +goose Up
-- Each audit event carries the state every audited row it wrote was left in (records: [table, key, hash]
-- triples, covered by the event's hash) so that `vigil audit verify` reconciles the live tables with the trail,
-- and, once the trail is signed, the Ed25519 signature of its hash by the audit key kept outside the database.
-- The rows written before this migration are attested by one audit.attest event when it is applied (store.Migrate).
ALTER TABLE audit_events ADD COLUMN records TEXT;
ALTER TABLE audit_events ADD COLUMN sig TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
