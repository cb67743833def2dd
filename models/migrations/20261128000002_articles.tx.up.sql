CREATE TABLE articles (
	id {{.ID}},
	title TEXT NOT NULL,
	content TEXT NOT NULL,
	author_id {{.IDType}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at {{.Time}} NOT NULL,
	updated_at {{.Time}} NOT NULL
);

--bun:split

-- Newest-first paging reads this index alone (id, the rowid, is in every index).
CREATE INDEX articles_newest ON articles (created_at DESC, id DESC);

--bun:split

CREATE INDEX articles_author_id ON articles (author_id);
