{{- if .PostgreSQL -}}
-- A session's last-seen touch (the only write to last_seen_at alone) is no
-- longer announced: nothing cached depends on last_seen_at but the session
-- itself, whose holder keeps it up to date (see models.Cache). Every other
-- change to sessions still is. A column added to sessions must be named in
-- the UPDATE OF list here and in the SQLite trigger below (a test checks).
DROP TRIGGER sessions_cache_notify ON sessions;

--bun:split

CREATE TRIGGER sessions_cache_notify AFTER INSERT OR DELETE OR TRUNCATE ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER sessions_cache_notify_update AFTER UPDATE OF key, user_id, created_at, expires_at, ip, user_agent ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- else -}}
-- Each table the cache tells apart counts its changes here, whoever makes
-- them (the app, a gatehouse command, a sqlite3 shell), in the writer's own
-- transaction. When PRAGMA data_version says another connection committed,
-- the cache reads these counts to know which tables changed (see
-- models.Cache): this process's own writes, made on other connections of
-- its pool, then no longer drop every cached value. A table added later
-- gets its row and triggers in its own migration; one without them counts
-- as changed at every commit of another connection. A session's last-seen
-- touch (a write to last_seen_at alone) is not counted: nothing cached
-- depends on it but the session, whose holder keeps it up to date.
CREATE TABLE cache_versions (
	name TEXT PRIMARY KEY,
	version INTEGER NOT NULL DEFAULT 0
);

--bun:split

INSERT INTO cache_versions (name) VALUES ('users'), ('sessions'), ('settings'), ('articles'), ('session_data'), ('throttle_failures'), ('security_events'), ('mail_outbox'), ('two_factor'), ('recovery_codes'), ('passkeys'), ('admin_log');

--bun:split

CREATE TRIGGER users_cache_version_insert AFTER INSERT ON users
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'users';
END;

--bun:split

CREATE TRIGGER users_cache_version_update AFTER UPDATE ON users
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'users';
END;

--bun:split

CREATE TRIGGER users_cache_version_delete AFTER DELETE ON users
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'users';
END;

--bun:split

CREATE TRIGGER sessions_cache_version_insert AFTER INSERT ON sessions
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'sessions';
END;

--bun:split

CREATE TRIGGER sessions_cache_version_update AFTER UPDATE OF key, user_id, created_at, expires_at, ip, user_agent ON sessions
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'sessions';
END;

--bun:split

CREATE TRIGGER sessions_cache_version_delete AFTER DELETE ON sessions
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'sessions';
END;

--bun:split

CREATE TRIGGER settings_cache_version_insert AFTER INSERT ON settings
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'settings';
END;

--bun:split

CREATE TRIGGER settings_cache_version_update AFTER UPDATE ON settings
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'settings';
END;

--bun:split

CREATE TRIGGER settings_cache_version_delete AFTER DELETE ON settings
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'settings';
END;

--bun:split

CREATE TRIGGER articles_cache_version_insert AFTER INSERT ON articles
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'articles';
END;

--bun:split

CREATE TRIGGER articles_cache_version_update AFTER UPDATE ON articles
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'articles';
END;

--bun:split

CREATE TRIGGER articles_cache_version_delete AFTER DELETE ON articles
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'articles';
END;

--bun:split

CREATE TRIGGER session_data_cache_version_insert AFTER INSERT ON session_data
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'session_data';
END;

--bun:split

CREATE TRIGGER session_data_cache_version_update AFTER UPDATE ON session_data
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'session_data';
END;

--bun:split

CREATE TRIGGER session_data_cache_version_delete AFTER DELETE ON session_data
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'session_data';
END;

--bun:split

CREATE TRIGGER throttle_failures_cache_version_insert AFTER INSERT ON throttle_failures
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'throttle_failures';
END;

--bun:split

CREATE TRIGGER throttle_failures_cache_version_update AFTER UPDATE ON throttle_failures
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'throttle_failures';
END;

--bun:split

CREATE TRIGGER throttle_failures_cache_version_delete AFTER DELETE ON throttle_failures
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'throttle_failures';
END;

--bun:split

CREATE TRIGGER security_events_cache_version_insert AFTER INSERT ON security_events
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'security_events';
END;

--bun:split

CREATE TRIGGER security_events_cache_version_update AFTER UPDATE ON security_events
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'security_events';
END;

--bun:split

CREATE TRIGGER security_events_cache_version_delete AFTER DELETE ON security_events
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'security_events';
END;

--bun:split

CREATE TRIGGER mail_outbox_cache_version_insert AFTER INSERT ON mail_outbox
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'mail_outbox';
END;

--bun:split

CREATE TRIGGER mail_outbox_cache_version_update AFTER UPDATE ON mail_outbox
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'mail_outbox';
END;

--bun:split

CREATE TRIGGER mail_outbox_cache_version_delete AFTER DELETE ON mail_outbox
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'mail_outbox';
END;
--bun:split

CREATE TRIGGER two_factor_cache_version_insert AFTER INSERT ON two_factor
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'two_factor';
END;

--bun:split

CREATE TRIGGER two_factor_cache_version_update AFTER UPDATE ON two_factor
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'two_factor';
END;

--bun:split

CREATE TRIGGER two_factor_cache_version_delete AFTER DELETE ON two_factor
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'two_factor';
END;

--bun:split

CREATE TRIGGER recovery_codes_cache_version_insert AFTER INSERT ON recovery_codes
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'recovery_codes';
END;

--bun:split

CREATE TRIGGER recovery_codes_cache_version_update AFTER UPDATE ON recovery_codes
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'recovery_codes';
END;

--bun:split

CREATE TRIGGER recovery_codes_cache_version_delete AFTER DELETE ON recovery_codes
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'recovery_codes';
END;

--bun:split

CREATE TRIGGER passkeys_cache_version_insert AFTER INSERT ON passkeys
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'passkeys';
END;

--bun:split

CREATE TRIGGER passkeys_cache_version_update AFTER UPDATE ON passkeys
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'passkeys';
END;

--bun:split

CREATE TRIGGER passkeys_cache_version_delete AFTER DELETE ON passkeys
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'passkeys';
END;
--bun:split

CREATE TRIGGER admin_log_cache_version_insert AFTER INSERT ON admin_log
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'admin_log';
END;

--bun:split

CREATE TRIGGER admin_log_cache_version_update AFTER UPDATE ON admin_log
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'admin_log';
END;

--bun:split

CREATE TRIGGER admin_log_cache_version_delete AFTER DELETE ON admin_log
BEGIN
	UPDATE cache_versions SET version = version + 1 WHERE name = 'admin_log';
END;
{{- end}}
