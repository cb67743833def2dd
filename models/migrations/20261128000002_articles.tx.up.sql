CREATE TABLE articles (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	title TEXT NOT NULL,
	content TEXT NOT NULL,
	author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

--bun:split

-- Newest-first paging reads this index alone (id, the rowid, is in every index).
CREATE INDEX articles_newest ON articles (created_at DESC, id DESC);

--bun:split

CREATE INDEX articles_author_id ON articles (author_id);
