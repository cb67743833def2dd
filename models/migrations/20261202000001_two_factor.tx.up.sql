-- A user's authenticator app (TOTP): its secret sealed with a key derived
-- from the site secret, and the last time step a code was accepted for, so
-- that each code works once. enabled_at is NULL while setup awaits its
-- first code.
CREATE TABLE two_factor (
	user_id {{.IDType}} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret {{.Bytes}} NOT NULL,
	last_step BIGINT NOT NULL DEFAULT 0,
	created_at {{.Time}} NOT NULL,
	enabled_at {{.Time}}
);

--bun:split

-- Single-use recovery codes, stored as keyed hashes: a used one is deleted.
CREATE TABLE recovery_codes (
	id {{.ID}},
	user_id {{.IDType}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash {{.Bytes}} NOT NULL,
	created_at {{.Time}} NOT NULL
);

--bun:split

CREATE UNIQUE INDEX recovery_codes_user_hash ON recovery_codes (user_id, code_hash);
{{- if .PostgreSQL}}

--bun:split

CREATE TRIGGER two_factor_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON two_factor
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER recovery_codes_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recovery_codes
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- end}}
