-- One row per failed attempt under a throttle key, kept until it no longer
-- counts. A refused attempt adds no row, so a key holds about as many rows as
-- its rule's limit.
CREATE TABLE throttle_failures (
	key TEXT NOT NULL,
	expires_at TIMESTAMP NOT NULL
);

--bun:split

CREATE INDEX throttle_failures_key ON throttle_failures (key, expires_at);
