{{- if .PostgreSQL -}}
DROP TRIGGER sessions_cache_notify_update ON sessions;

--bun:split

DROP TRIGGER sessions_cache_notify ON sessions;

--bun:split

CREATE TRIGGER sessions_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- else -}}
DROP TRIGGER users_cache_version_insert;

--bun:split

DROP TRIGGER users_cache_version_update;

--bun:split

DROP TRIGGER users_cache_version_delete;

--bun:split

DROP TRIGGER sessions_cache_version_insert;

--bun:split

DROP TRIGGER sessions_cache_version_update;

--bun:split

DROP TRIGGER sessions_cache_version_delete;

--bun:split

DROP TRIGGER settings_cache_version_insert;

--bun:split

DROP TRIGGER settings_cache_version_update;

--bun:split

DROP TRIGGER settings_cache_version_delete;

--bun:split

DROP TRIGGER articles_cache_version_insert;

--bun:split

DROP TRIGGER articles_cache_version_update;

--bun:split

DROP TRIGGER articles_cache_version_delete;

--bun:split

DROP TRIGGER session_data_cache_version_insert;

--bun:split

DROP TRIGGER session_data_cache_version_update;

--bun:split

DROP TRIGGER session_data_cache_version_delete;

--bun:split

DROP TRIGGER throttle_failures_cache_version_insert;

--bun:split

DROP TRIGGER throttle_failures_cache_version_update;

--bun:split

DROP TRIGGER throttle_failures_cache_version_delete;

--bun:split

DROP TRIGGER security_events_cache_version_insert;

--bun:split

DROP TRIGGER security_events_cache_version_update;

--bun:split

DROP TRIGGER security_events_cache_version_delete;

--bun:split

DROP TRIGGER mail_outbox_cache_version_insert;

--bun:split

DROP TRIGGER mail_outbox_cache_version_update;

--bun:split

DROP TRIGGER mail_outbox_cache_version_delete;

--bun:split

DROP TRIGGER two_factor_cache_version_insert;

--bun:split

DROP TRIGGER two_factor_cache_version_update;

--bun:split

DROP TRIGGER two_factor_cache_version_delete;

--bun:split

DROP TRIGGER recovery_codes_cache_version_insert;

--bun:split

DROP TRIGGER recovery_codes_cache_version_update;

--bun:split

DROP TRIGGER recovery_codes_cache_version_delete;

--bun:split

DROP TRIGGER passkeys_cache_version_insert;

--bun:split

DROP TRIGGER passkeys_cache_version_update;

--bun:split

DROP TRIGGER passkeys_cache_version_delete;

--bun:split

DROP TRIGGER admin_log_cache_version_insert;

--bun:split

DROP TRIGGER admin_log_cache_version_update;

--bun:split

DROP TRIGGER admin_log_cache_version_delete;

--bun:split

DROP TABLE cache_versions;
{{- end}}
