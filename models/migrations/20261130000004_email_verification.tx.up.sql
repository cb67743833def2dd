ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

--bun:split

ALTER TABLE users ADD COLUMN notify_new_device BOOLEAN NOT NULL DEFAULT TRUE;

--bun:split

-- A verified address belongs to one account: password resets go to it.
CREATE UNIQUE INDEX users_verified_email ON users (lower(email)) WHERE email_verified;
