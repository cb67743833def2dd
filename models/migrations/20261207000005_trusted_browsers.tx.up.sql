-- Browsers a user trusted for 30 days at the second step: the token in
-- the browser's cookie is stored as its SHA-256. A record also holds the
-- fingerprint of the account's password and factors when it was made: any
-- change of them (a new password, two-factor on or off, a passkey, new
-- recovery codes, one used) makes every record stale.
CREATE TABLE trusted_browsers (
	id {{.ID}},
	user_id {{.IDType}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	created_at {{.Time}} NOT NULL,
	expires_at {{.Time}} NOT NULL,
	last_used_at {{.Time}}
);

--bun:split

CREATE UNIQUE INDEX trusted_browsers_token ON trusted_browsers (token_hash);

--bun:split

CREATE INDEX trusted_browsers_user ON trusted_browsers (user_id, created_at);
{{- if .PostgreSQL}}

--bun:split

CREATE TRIGGER trusted_browsers_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON trusted_browsers
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- else}}

--bun:split

INSERT INTO cache_versions (name) VALUES ('trusted_browsers');

--bun:split

CREATE TRIGGER trusted_browsers_cache_version_insert AFTER INSERT ON trusted_browsers
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'trusted_browsers';
END;

--bun:split

CREATE TRIGGER trusted_browsers_cache_version_update AFTER UPDATE ON trusted_browsers
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'trusted_browsers';
END;

--bun:split

CREATE TRIGGER trusted_browsers_cache_version_delete AFTER DELETE ON trusted_browsers
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'trusted_browsers';
END;
{{- end}}
