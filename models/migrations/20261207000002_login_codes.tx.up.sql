-- Sign-in codes by mail: at most one live code per account (a new one
-- replaces it), stored as its SHA-256, with the wrong tries counted.
CREATE TABLE login_codes (
	user_id {{.IDType}} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	code_hash TEXT NOT NULL,
	tries INTEGER NOT NULL DEFAULT 0,
	expires_at {{.Time}} NOT NULL
);
{{- if .PostgreSQL}}

--bun:split

CREATE TRIGGER login_codes_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON login_codes
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- else}}

--bun:split

INSERT INTO cache_versions (name) VALUES ('login_codes');

--bun:split

CREATE TRIGGER login_codes_cache_version_insert AFTER INSERT ON login_codes
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'login_codes';
END;

--bun:split

CREATE TRIGGER login_codes_cache_version_update AFTER UPDATE ON login_codes
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'login_codes';
END;

--bun:split

CREATE TRIGGER login_codes_cache_version_delete AFTER DELETE ON login_codes
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'login_codes';
END;
{{- end}}
