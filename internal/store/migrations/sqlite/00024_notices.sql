-- +goose Up
-- Customer notices (G2016 §VII.B criterion 2). A notice covers one or more
-- cases (ids as a JSON array); its four elements are edited while it is a draft; sending claims it once
-- (draft → sending → sent, a conditional update) so a retry or a second instance sends nothing twice, and fixes its
-- recipients.
-- Consignees get their contacts' e-mail addresses (a JSON array; NULL for none, so rows written before hash as
-- they did).
ALTER TABLE consignees ADD COLUMN emails TEXT;
CREATE TABLE notices (
	id INTEGER PRIMARY KEY,
	cases TEXT NOT NULL,
	subject TEXT NOT NULL,
	elements TEXT NOT NULL,
	follow_up_of INTEGER REFERENCES notices(id),
	state TEXT NOT NULL,
	missing_reason TEXT NOT NULL DEFAULT '',
	recipients TEXT,
	sent_date TEXT,
	sent_at TEXT,
	sent_by TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
