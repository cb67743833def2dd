DROP TABLE social_accounts;
{{- if not .PostgreSQL}}

--bun:split

DELETE FROM cache_versions WHERE name = 'social_accounts';
{{- end}}
