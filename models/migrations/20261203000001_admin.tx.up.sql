-- The staff admin's audit trail, after Django's django_admin_log: who did
-- what to which object, with the fields an edit changed (JSON, never a
-- password or its hash). The actor's name is kept as it was, so an entry
-- still says who acted once that account is gone; no one edits or deletes
-- entries through the app.
CREATE TABLE admin_log (
	id {{.ID}},
	actor_id {{.IDType}} NULL REFERENCES users (id) ON DELETE SET NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id {{.IDType}} NOT NULL,
	object_repr TEXT NOT NULL,
	changes TEXT NOT NULL DEFAULT '',
	created_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX admin_log_newest ON admin_log (created_at DESC, id DESC);

--bun:split

CREATE INDEX admin_log_object ON admin_log (object_type, object_id, created_at DESC);

--bun:split

CREATE INDEX admin_log_actor ON admin_log (actor_id, created_at DESC);

--bun:split

CREATE INDEX admin_log_action ON admin_log (action, created_at DESC);

--bun:split

-- The admin's list of users sorts by these; last_login newest first with
-- the never-logged-in last, as SQLite orders NULLs in DESC on its own.
CREATE INDEX users_date_joined ON users (date_joined DESC, id DESC);

--bun:split

CREATE INDEX users_last_login ON users (last_login DESC{{if .PostgreSQL}} NULLS LAST{{end}}, id DESC);

--bun:split

-- The admin's search matches the start of the username (its case-folded
-- key, whose unique index serves SQLite), the email address and the names,
-- case-insensitively, along these indexes: SQLite compares ranges of
-- lower(…) in byte order; PostgreSQL runs LIKE 'prefix%' on pattern-ops
-- indexes, which work whatever the database's collation.
CREATE INDEX users_email_prefix ON users (lower(email){{if .PostgreSQL}} text_pattern_ops{{end}});

--bun:split

CREATE INDEX users_first_name_prefix ON users (lower(first_name){{if .PostgreSQL}} text_pattern_ops{{end}});

--bun:split

CREATE INDEX users_last_name_prefix ON users (lower(last_name){{if .PostgreSQL}} text_pattern_ops{{end}});
{{- if .PostgreSQL}}

--bun:split

CREATE INDEX users_username_key_prefix ON users (username_key text_pattern_ops);

--bun:split

CREATE TRIGGER admin_log_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_log
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_cache_notify();
{{- end}}
