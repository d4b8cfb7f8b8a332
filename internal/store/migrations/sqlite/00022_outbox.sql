-- +goose Up
-- The outbox: one row per message to one recipient (e-mail now; the channel names it), sent by whichever server
-- instance claims it. idem_key is unique, so a caller retrying its enqueue finds its message instead of queueing
-- it twice. A pending message has next_at (when it is due); an instance claims it with one conditional update
-- (claimed_by is NULL and it is due), sends it, then records the outcome and clears the claim: two instances
-- never both send it. A claim that outlives claim_until means its instance died mid-delivery: the message is
-- marked failed (interrupted) rather than sent again, since the server may have accepted it. outbox_attempts is
-- the delivery log, one line per attempt with the server's answer. smtp_settings is the organization's SMTP
-- server (one row), used when $VIGIL_SMTP_URL is not set. Operational state, not reconciled by audit verify:
-- queueing and configuring are audited events.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	idem_key TEXT NOT NULL UNIQUE,
	channel TEXT NOT NULL DEFAULT 'email',
	about TEXT NOT NULL DEFAULT '',
	recipient TEXT NOT NULL,
	subject TEXT NOT NULL,
	text_body TEXT NOT NULL,
	html_body TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL,
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	answer TEXT NOT NULL DEFAULT '',
	queued_at TEXT NOT NULL,
	queued_by TEXT NOT NULL,
	next_at TEXT,
	sent_at TEXT,
	claimed_by TEXT,
	claim_until TEXT
);
CREATE INDEX outbox_due ON outbox(next_at) WHERE next_at IS NOT NULL;
CREATE INDEX outbox_claimed ON outbox(claim_until) WHERE claimed_by IS NOT NULL;
CREATE INDEX outbox_about ON outbox(about, id);
CREATE TABLE outbox_attempts (
	id INTEGER PRIMARY KEY,
	mail_id INTEGER NOT NULL REFERENCES outbox(id),
	at TEXT NOT NULL,
	by_instance TEXT NOT NULL,
	outcome TEXT NOT NULL,
	answer TEXT NOT NULL
);
CREATE INDEX outbox_attempts_mail ON outbox_attempts(mail_id, id);
CREATE TABLE smtp_settings (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	url TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	updated_by TEXT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
