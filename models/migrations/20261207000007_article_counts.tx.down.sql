{{- if .PostgreSQL -}}
DROP TRIGGER articles_count_truncate ON articles;

--bun:split

DROP TRIGGER articles_count ON articles;

--bun:split

DROP FUNCTION gatehouse_article_count();
{{- else -}}
DROP TRIGGER articles_count_delete;

--bun:split

DROP TRIGGER articles_count_insert;
{{- end}}

--bun:split

DROP TABLE article_counts;
