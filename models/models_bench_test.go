package models_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
)

// BenchmarkSessionWithUser is the query behind a cache miss of "session →
// current user": the session index row joined with its user.
func BenchmarkSessionWithUser(b *testing.B) {
	ctx := context.Background()
	db, u := benchDB(b)
	now := time.Now().UTC()
	for i := range 100 {
		s := &models.Session{Key: fmt.Sprintf("key-%d", i), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := models.RecordLogin(ctx, db, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := models.SessionWithUser(ctx, db, fmt.Sprintf("key-%d", i%100), now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewestArticles loads one index page, the first and a deep one, of
// 100,000 articles: the query behind a cache miss of the index.
func BenchmarkNewestArticles(b *testing.B) {
	ctx := context.Background()
	db, u := benchDB(b)
	_, err := db.NewRaw(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 100000)
		INSERT INTO articles (title, content, author_id, created_at, updated_at)
		SELECT 'Article ' || i, 'Body', ?, strftime('%Y-%m-%d %H:%M:%S+00:00', 1767225600 + i, 'unixepoch'),
			strftime('%Y-%m-%d %H:%M:%S+00:00', 1767225600 + i, 'unixepoch') FROM seq`, u.ID).Exec(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, offset := range []int64{0, 99_980} {
		b.Run(fmt.Sprintf("offset=%d", offset), func(b *testing.B) {
			for b.Loop() {
				if _, err := models.NewestArticles(ctx, db, offset, 20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchDB opens a fresh database holding one user.
func benchDB(b *testing.B) (*bun.DB, *models.User) {
	b.Helper()
	ctx := context.Background()
	db := openStore(b, filepath.Join(b.TempDir(), "bench.db")).DB
	u := &models.User{Username: "bench", Password: "x", IsActive: true}
	if err := models.CreateUser(ctx, db, u); err != nil {
		b.Fatal(err)
	}
	return db, u
}
