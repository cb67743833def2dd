-- One row per attempt under a throttle key that failed (or is under way),
-- kept until it no longer counts. A refused attempt leaves no row, so a key
-- holds about as many rows as its rule's limit. The id orders attempts:
-- each counts only those that came before it.
CREATE TABLE throttle_failures (
	id {{.ID}},
	key TEXT NOT NULL,
	expires_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX throttle_failures_key ON throttle_failures (key, expires_at);
