-- The number of articles, kept by triggers on articles so that the index
-- need not count the table after each write (every instance does, and on
-- PostgreSQL a count is a scan of the table: 2 ms at 25,000 articles).
-- The count is the sum of the rows: on PostgreSQL each connection adds to
-- its own of eight (by backend process), so that concurrent inserts do not
-- queue on one row's lock; on SQLite, which writes one at a time, slot 0.
-- The table is derived: Copy leaves it alone (the triggers count what it
-- copies) and the cache needs no word of its writes (they come with those
-- to articles).
CREATE TABLE article_counts (
	slot INTEGER PRIMARY KEY,
	n BIGINT NOT NULL
);

--bun:split

INSERT INTO article_counts (slot, n) SELECT 0, count(*) FROM articles;
{{- if .PostgreSQL}}

--bun:split

CREATE FUNCTION gatehouse_article_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		UPDATE article_counts SET n = 0;
	ELSE
		INSERT INTO article_counts AS c (slot, n)
			VALUES (pg_backend_pid() % 8, CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END)
			ON CONFLICT (slot) DO UPDATE SET n = c.n + EXCLUDED.n;
	END IF;
	RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER articles_count AFTER INSERT OR DELETE ON articles
	FOR EACH ROW EXECUTE FUNCTION gatehouse_article_count();

--bun:split

CREATE TRIGGER articles_count_truncate AFTER TRUNCATE ON articles
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_article_count();
{{- else}}

--bun:split

CREATE TRIGGER articles_count_insert AFTER INSERT ON articles
BEGIN
	UPDATE article_counts SET n = n + 1 WHERE slot = 0;
END;

--bun:split

CREATE TRIGGER articles_count_delete AFTER DELETE ON articles
BEGIN
	UPDATE article_counts SET n = n - 1 WHERE slot = 0;
END;
{{- end}}
