CREATE TABLE users (
	id {{.ID}},
	username TEXT NOT NULL,
	-- username_key is the case-folded username: the unique index on it makes
	-- "Alice" and "alice" the same account name, whoever inserts first.
	username_key TEXT NOT NULL,
	password TEXT NOT NULL,
	email TEXT NOT NULL DEFAULT '',
	first_name TEXT NOT NULL DEFAULT '',
	last_name TEXT NOT NULL DEFAULT '',
	is_active BOOLEAN NOT NULL DEFAULT TRUE,
	is_staff BOOLEAN NOT NULL DEFAULT FALSE,
	is_superuser BOOLEAN NOT NULL DEFAULT FALSE,
	last_login {{.Time}},
	date_joined {{.Time}} NOT NULL
);

--bun:split

CREATE UNIQUE INDEX users_username_key ON users (username_key);

--bun:split

CREATE TABLE sessions (
	key TEXT PRIMARY KEY,
	user_id {{.IDType}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at {{.Time}} NOT NULL,
	last_seen_at {{.Time}} NOT NULL,
	expires_at {{.Time}} NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
);

--bun:split

CREATE INDEX sessions_user_id ON sessions (user_id);

--bun:split

CREATE INDEX sessions_expires_at ON sessions (expires_at);

--bun:split

CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value {{.Bytes}} NOT NULL
);

--bun:split

-- The payload table of Fiber's session storage (gofiber/storage/sqlite3),
-- created here with the storage's own schema so that models can end a
-- user's sessions in the same transaction that changes the user.
CREATE TABLE IF NOT EXISTS session_data (
	k VARCHAR(64) PRIMARY KEY NOT NULL DEFAULT '',
	v {{.Bytes}} NOT NULL,
	e BIGINT NOT NULL DEFAULT '0'
);
{{- if .PostgreSQL}}

--bun:split

-- The index gofiber/storage/postgres creates with its table, for its collector.
CREATE INDEX session_data_e ON session_data (e);
{{- end}}
