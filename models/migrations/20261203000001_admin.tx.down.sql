{{- if .PostgreSQL}}
DROP INDEX users_username_key_prefix;

--bun:split

{{end -}}
DROP INDEX users_last_name_prefix;

--bun:split

DROP INDEX users_first_name_prefix;

--bun:split

DROP INDEX users_email_prefix;

--bun:split

DROP INDEX users_last_login;

--bun:split

DROP INDEX users_date_joined;

--bun:split

DROP TABLE admin_log;
