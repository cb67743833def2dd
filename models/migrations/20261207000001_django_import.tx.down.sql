DROP INDEX articles_django_id;
DROP INDEX users_django_id;
ALTER TABLE articles DROP COLUMN django_id;
ALTER TABLE users DROP COLUMN django_id;
