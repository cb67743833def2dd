DROP TABLE login_codes;
{{- if not .PostgreSQL}}

--bun:split

DELETE FROM cache_versions WHERE name = 'login_codes';
{{- end}}
