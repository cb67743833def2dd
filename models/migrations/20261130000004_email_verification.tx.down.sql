DROP INDEX users_verified_email;

--bun:split

ALTER TABLE users DROP COLUMN notify_new_device;

--bun:split

ALTER TABLE users DROP COLUMN email_verified;
