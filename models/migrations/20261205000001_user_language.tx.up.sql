-- The language the user chose to read the site in ("ko", "en"), or '' for
-- none yet: their pages and their mail use it. No trigger needs changing:
-- every change to users is announced whatever its columns.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
