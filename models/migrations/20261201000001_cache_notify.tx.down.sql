{{- if .PostgreSQL -}}
DROP TRIGGER users_cache_notify ON users;

--bun:split

DROP TRIGGER sessions_cache_notify ON sessions;

--bun:split

DROP TRIGGER settings_cache_notify ON settings;

--bun:split

DROP TRIGGER articles_cache_notify ON articles;

--bun:split

DROP TRIGGER throttle_failures_cache_notify ON throttle_failures;

--bun:split

DROP TRIGGER security_events_cache_notify ON security_events;

--bun:split

DROP TRIGGER mail_outbox_cache_notify ON mail_outbox;

--bun:split

DROP FUNCTION gatehouse_cache_notify();
{{- end}}
