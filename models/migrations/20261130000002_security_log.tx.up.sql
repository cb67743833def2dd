CREATE TABLE security_events (
	id {{.ID}},
	-- NULL for a failed login with a username no account has: username then
	-- keeps what was typed.
	user_id {{.IDType}} NULL REFERENCES users (id) ON DELETE CASCADE,
	username TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	created_at {{.Time}} NOT NULL
);

--bun:split

-- A user's own log pages newest first along this index.
CREATE INDEX security_events_user_newest ON security_events (user_id, created_at DESC, id DESC);

--bun:split

-- Retention deletes by age.
CREATE INDEX security_events_created_at ON security_events (created_at);

--bun:split

CREATE INDEX security_events_kind ON security_events (kind, created_at);
