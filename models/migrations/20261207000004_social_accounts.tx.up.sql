-- Accounts at other sites (OpenID Connect or OAuth 2 providers) that log a
-- user in: one per provider account (provider, subject), each tied to one
-- user. The address is the provider's, as last seen, for the settings page.
CREATE TABLE social_accounts (
	id {{.ID}},
	user_id {{.IDType}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	provider TEXT NOT NULL,
	subject TEXT NOT NULL,
	email TEXT NOT NULL DEFAULT '',
	created_at {{.Time}} NOT NULL,
	last_used_at {{.Time}}
);

--bun:split

CREATE UNIQUE INDEX social_accounts_subject ON social_accounts (provider, subject);

--bun:split

CREATE INDEX social_accounts_user ON social_accounts (user_id, created_at);
{{- if .PostgreSQL}}

--bun:split

CREATE TRIGGER social_accounts_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON social_accounts
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- else}}

--bun:split

INSERT INTO cache_versions (name) VALUES ('social_accounts');

--bun:split

CREATE TRIGGER social_accounts_cache_version_insert AFTER INSERT ON social_accounts
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'social_accounts';
END;

--bun:split

CREATE TRIGGER social_accounts_cache_version_update AFTER UPDATE ON social_accounts
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'social_accounts';
END;

--bun:split

CREATE TRIGGER social_accounts_cache_version_delete AFTER DELETE ON social_accounts
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'social_accounts';
END;
{{- end}}
