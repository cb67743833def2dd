DROP INDEX users_verified_email;

--bun:split

CREATE UNIQUE INDEX users_verified_email ON users (lower(email)) WHERE email_verified;
