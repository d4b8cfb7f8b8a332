-- +goose Up
-- Part 11 electronic signatures (21 CFR 11.50, 11.70): who signed which record, when, meaning what, bound to the
-- hash of the record's state at signing. A signature is a record: never changed or removed. users.full_name is the
-- printed name a signature shows; NULL until set, so earlier users' record states are unchanged.
ALTER TABLE users ADD COLUMN full_name TEXT;
CREATE TABLE signatures (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	record_id INTEGER NOT NULL,
	record_hash TEXT NOT NULL,
	meaning TEXT NOT NULL,
	signer_id INTEGER NOT NULL REFERENCES users(id),
	signer TEXT NOT NULL,
	printed_name TEXT NOT NULL,
	signed_at TEXT NOT NULL,
	method TEXT NOT NULL,
	UNIQUE (kind, record_id, record_hash, signer_id, meaning)
);
CREATE INDEX signatures_record ON signatures(kind, record_id, id);
CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
