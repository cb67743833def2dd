package models

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gatehouse/models/dbtest"
)

// TestArticleCountFollowsEveryWrite: the count the triggers keep equals
// COUNT(*) after every kind of write to articles, on both engines — one
// article, many in one statement, concurrent inserts (on PostgreSQL, rows of
// several connections), a delete, a user deleted with theirs, and on
// PostgreSQL a TRUNCATE — and a copy of the database counts the same.
func TestArticleCountFollowsEveryWrite(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := openTestStore(t, engine.URL(t))
			db := store.DB
			check := func(after string) {
				t.Helper()
				kept, err := CountArticles(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				counted, err := db.NewSelect().Model((*Article)(nil)).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if kept != int64(counted) {
					t.Errorf("after %s: the kept count is %d, COUNT(*) %d", after, kept, counted)
				}
			}
			check("nothing")
			alice, bob := &User{Username: "alice"}, &User{Username: "bob"}
			for _, u := range []*User{alice, bob} {
				if err := CreateUser(ctx, db, u); err != nil {
					t.Fatal(err)
				}
			}
			first, err := CreateArticle(ctx, db, alice.ID, "one", "body", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			check("one article")
			_, err = db.NewRaw(`INSERT INTO articles (title, content, author_id, created_at, updated_at)
				SELECT title, content, ?, created_at, updated_at FROM articles`, bob.ID).Exec(ctx)
			if err != nil {
				t.Fatal(err)
			}
			check("an insert of several rows")
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					for j := range 5 {
						if _, err := CreateArticle(ctx, db, bob.ID, fmt.Sprint(i, j), "body", time.Now()); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			check("40 concurrent inserts")
			if _, err := db.NewDelete().Model((*Article)(nil)).Where("id = ?", first.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			check("a delete")
			if err := DeleteUser(ctx, db, store.Sessions, bob.ID); err != nil {
				t.Fatal(err)
			}
			check("a user deleted with their articles")

			copied := openTestStore(t, engine.URL(t))
			if _, err := Copy(ctx, db, copied.DB, false); err != nil {
				t.Fatal(err)
			}
			if want, got := must(CountArticles(ctx, db)), must(CountArticles(ctx, copied.DB)); got != want {
				t.Errorf("the copy counts %d articles, the original %d", got, want)
			}

			if engine.Name == "postgres" {
				if _, err := db.NewRaw("TRUNCATE articles").Exec(ctx); err != nil {
					t.Fatal(err)
				}
				check("a TRUNCATE")
			}
		})
	}
}

func must(n int64, err error) int64 {
	if err != nil {
		panic(err)
	}
	return n
}
