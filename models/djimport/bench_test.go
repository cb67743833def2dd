package djimport_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"gatehouse/models/dbtest"
	"gatehouse/models/djimport"
	"gatehouse/models/djimport/djangotest"
)

// BenchmarkImport100k imports 100,000 people and 100,000 articles from a
// Django SQLite file (the lecture's site's schema, grown by SQL) into a new
// Gatehouse SQLite file: the bar is under a minute.
//
//	go test -run '^$' -bench Import100k -benchtime 1x ./models/djimport/
func BenchmarkImport100k(b *testing.B) {
	const people, articles = 100_000, 100_000
	from := djangotest.SQLite(b)
	grow(b, strings.TrimPrefix(from, "sqlite:"), people, articles)
	for b.Loop() {
		b.StopTimer()
		db := openB(b, dbtest.SQLite(b))
		b.StartTimer()
		s, err := djimport.Import(context.Background(), db, from, djimport.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if s.Imported < people || s.ArticlesImported < articles {
			b.Fatalf("imported %d people and %d articles", s.Imported, s.ArticlesImported)
		}
	}
	b.ReportMetric(float64(people+articles)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// grow adds people and articles to a Django SQLite file, as Django would
// store them: one PBKDF2 hash for all (nothing is hashed at import).
func grow(b *testing.B, path string, people, articles int) {
	b.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	user, err := tx.Prepare(`INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
		VALUES ('pbkdf2_sha256$260000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=', NULL, 0, ?, '', '', ?, 0, 1, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	joined := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range people {
		if _, err := user.Exec(fmt.Sprintf("person%06d", i), fmt.Sprintf("person%06d@example.com", i), joined); err != nil {
			b.Fatal(err)
		}
	}
	article, err := tx.Prepare(`INSERT INTO articles_article (title, content, created_at, updated_at, author_id)
		VALUES (?, 'Some words of an article, as the lecture''s form takes them.', ?, ?, (SELECT max(id) FROM auth_user) - ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range articles {
		if _, err := article.Exec(fmt.Sprintf("Article %d", i), joined, joined, i%people); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
