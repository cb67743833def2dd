{{- if .PostgreSQL -}}
-- Every committed change to a table the app reads is announced on the
-- channel gatehouse_cache, with the schema and table as the payload, so that
-- each instance's models.Cache (listening on it) drops what it holds.
-- PostgreSQL sends a notification when its transaction commits, never
-- before, and whoever wrote: an app instance, a gatehouse command, psql.
-- A table added later needs its trigger in its own migration (a test checks
-- that every table has one). session_data is left out: session payloads are
-- never cached. SQLite needs none of this: its cache reads PRAGMA
-- data_version, and this migration does nothing there.
CREATE FUNCTION gatehouse_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('gatehouse_cache', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
	RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER users_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER sessions_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER settings_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER articles_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON articles
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER throttle_failures_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON throttle_failures
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER security_events_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON security_events
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();

--bun:split

CREATE TRIGGER mail_outbox_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mail_outbox
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- end}}
