DROP TABLE trusted_browsers;
{{- if not .PostgreSQL}}

--bun:split

DELETE FROM cache_versions WHERE name = 'trusted_browsers';
{{- end}}
