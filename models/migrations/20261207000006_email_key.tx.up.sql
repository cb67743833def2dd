-- One confirmed address an account, compared as models.EmailKey compares
-- them: ASCII letters in any case, nothing else folded. PostgreSQL's lower()
-- folds every script under the database's collation (the Kelvin sign K to
-- k), SQLite's and PostgreSQL's under "C" only ASCII.
DROP INDEX users_verified_email;

--bun:split

CREATE UNIQUE INDEX users_verified_email ON users ({{if .PostgreSQL}}lower(email COLLATE "C"){{else}}lower(email){{end}}) WHERE email_verified;
