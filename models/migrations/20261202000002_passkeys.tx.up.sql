-- WebAuthn credentials (passkeys): credential is go-webauthn's record of
-- one (public key, sign count, flags) as JSON; credential_id is its id,
-- by which a discoverable login finds it.
CREATE TABLE passkeys (
	id {{.ID}},
	user_id {{.IDType}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id {{.Bytes}} NOT NULL,
	name TEXT NOT NULL,
	credential TEXT NOT NULL,
	created_at {{.Time}} NOT NULL,
	last_used_at {{.Time}}
);

--bun:split

CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);

--bun:split

CREATE INDEX passkeys_user ON passkeys (user_id, created_at);
{{- if .PostgreSQL}}

--bun:split

CREATE TRIGGER passkeys_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON passkeys
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- end}}
