-- +goose Up
-- Single sign-on: the OpenID Connect identity (issuer, subject) each SSO user signs in as. A user created by SSO
-- has no password (its password_hash is 'sso', which no password matches); a local account's name is never bound
-- to an identity, so an identity provider cannot take over the break-glass admin by naming it. Audited with the
-- user ("user.create" and "user.identity").
CREATE TABLE user_identities (
	issuer TEXT NOT NULL,
	subject TEXT NOT NULL,
	user_id BIGINT NOT NULL REFERENCES users(id),
	created_at TEXT NOT NULL,
	PRIMARY KEY (issuer, subject)
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
