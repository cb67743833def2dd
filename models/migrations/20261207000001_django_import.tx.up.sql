-- The Django row each imported user and article came from (gatehouse
-- importdjango), or NULL: a second import matches them, and leaves alone
-- the accounts made here. No trigger needs changing: every change to these
-- tables is announced whatever its columns.
ALTER TABLE users ADD COLUMN django_id {{.IDType}};
ALTER TABLE articles ADD COLUMN django_id {{.IDType}};
CREATE UNIQUE INDEX users_django_id ON users (django_id) WHERE django_id IS NOT NULL;
CREATE UNIQUE INDEX articles_django_id ON articles (django_id) WHERE django_id IS NOT NULL;
