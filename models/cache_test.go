package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"gatehouse/models/dbtest"
)

// cacheFixture is a database holding one user and two articles, with a cache
// whose data_version poll (on SQLite) is off unless the test turns it back on.
type cacheFixture struct {
	url       string
	store     *Store
	db        *bun.DB
	cache     *Cache
	userID    int64
	articleID int64
}

// newCacheFixture opens a fresh SQLite database and its cache. The poll is
// pushed into the far future: it reads the data_version of in-process writes
// too, so a write the hook missed would otherwise pass whenever the test is
// slow.
func newCacheFixture(t *testing.T, limit int) *cacheFixture {
	t.Helper()
	return newCacheFixtureAt(t, limit, dbtest.SQLite(t))
}

// openTestStore opens and migrates the database at url, closed when t ends.
func openTestStore(t *testing.T, url string) *Store {
	t.Helper()
	store, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// newCacheFixtureAt is newCacheFixture on the database at url.
func newCacheFixtureAt(t *testing.T, limit int, url string) *cacheFixture {
	t.Helper()
	ctx := context.Background()
	store := openTestStore(t, url)
	db := store.DB
	u := &User{Username: "alice", Password: "x", IsActive: true}
	if err := CreateUser(ctx, db, u); err != nil {
		t.Fatal(err)
	}
	a, err := CreateArticle(ctx, db, u.ID, "first", "body", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CreateArticle(ctx, db, u.ID, "second", "body", time.Now()); err != nil {
		t.Fatal(err)
	}
	cache, err := NewCache(ctx, store, limit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	if w, ok := cache.watcher.(*dataVersionWatcher); ok {
		w.polledAt.Store(math.MaxInt64)
	}
	return &cacheFixture{url: url, store: store, db: db, cache: cache, userID: u.ID, articleID: a.ID}
}

// waitTrusted waits until the cache trusts its watcher (a listener that
// has connected), failing the test if it does not within 10 s.
func waitTrusted(t *testing.T, c *Cache) {
	t.Helper()
	for start := time.Now(); c.distrusted.Load(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the cache's watcher was not trusted within 10 s")
		}
	}
}

// snapshot takes a snapshot or fails the test.
func (f *cacheFixture) snapshot(t *testing.T) Snapshot {
	t.Helper()
	s, err := f.cache.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// titlesKey is the cache key of the article titles.
type titlesKey struct{}

// titles loads every article title in id order, joined by commas.
func titles(ctx context.Context, db bun.IDB) (string, error) {
	var titles []string
	err := db.NewSelect().Model((*Article)(nil)).Column("title").Order("id").Scan(ctx, &titles)
	return strings.Join(titles, ","), err
}

// cachedTitles reads the titles through a new snapshot.
func (f *cacheFixture) cachedTitles(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	got, err := Cached(f.snapshot(t), titlesKey{}, func() (string, error) { return titles(ctx, f.db) })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestCacheSeesWrites caches the titles, writes through each path that
// reaches the database from this process, and expects the next snapshot to
// load them again.
func TestCacheSeesWrites(t *testing.T) {
	t.Parallel()
	const insertReturning = "INSERT INTO articles (title, content, author_id, created_at, updated_at) " +
		"VALUES ('third', '', ?, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00') RETURNING id"
	tests := []struct {
		name  string
		write func(ctx context.Context, f *cacheFixture) error
	}{
		{"NewUpdate", func(ctx context.Context, f *cacheFixture) error {
			return UpdateArticle(ctx, f.db, f.articleID, "renamed", "", time.Now())
		}},
		{"NewInsert", func(ctx context.Context, f *cacheFixture) error {
			_, err := CreateArticle(ctx, f.db, f.userID, "third", "", time.Now())
			return err
		}},
		{"NewDelete", func(ctx context.Context, f *cacheFixture) error {
			return DeleteArticle(ctx, f.db, f.articleID)
		}},
		{"NewRaw Exec", func(ctx context.Context, f *cacheFixture) error {
			_, err := f.db.NewRaw("UPDATE articles SET title = 'renamed' WHERE id = ?", f.articleID).Exec(ctx)
			return err
		}},
		{"NewRaw Exec with a comment", func(ctx context.Context, f *cacheFixture) error {
			_, err := f.db.NewRaw("UPDATE articles SET title = 'renamed' WHERE id = ?", f.articleID).Comment("rename").Exec(ctx)
			return err
		}},
		{"NewRaw Exec of WITH … DELETE", func(ctx context.Context, f *cacheFixture) error {
			_, err := f.db.NewRaw("WITH doomed AS (SELECT ? AS id) DELETE FROM articles WHERE id IN (SELECT id FROM doomed)", f.articleID).Exec(ctx)
			return err
		}},
		{"NewRaw Exec of SELECT then UPDATE", func(ctx context.Context, f *cacheFixture) error {
			_, err := f.db.NewRaw("SELECT 1; UPDATE articles SET title = 'renamed' WHERE id = ?", f.articleID).Exec(ctx)
			return err
		}},
		{"NewRaw Scan of INSERT … RETURNING", func(ctx context.Context, f *cacheFixture) error {
			var id int64
			return f.db.NewRaw(insertReturning, f.userID).Scan(ctx, &id)
		}},
		{"NewRaw Scan of WITH … UPDATE … RETURNING", func(ctx context.Context, f *cacheFixture) error {
			var id int64
			return f.db.NewRaw("WITH target AS (SELECT ? AS id) UPDATE articles SET title = 'renamed' WHERE id IN (SELECT id FROM target) RETURNING id", f.articleID).Scan(ctx, &id)
		}},
		{"ExecContext", func(ctx context.Context, f *cacheFixture) error {
			_, err := f.db.ExecContext(ctx, "UPDATE articles SET title = 'renamed' WHERE id = ?", f.articleID)
			return err
		}},
		{"QueryContext of INSERT … RETURNING", func(ctx context.Context, f *cacheFixture) error {
			rows, err := f.db.QueryContext(ctx, insertReturning, f.userID)
			if err != nil {
				return err
			}
			return rows.Close()
		}},
		{"RunInTx", func(ctx context.Context, f *cacheFixture) error {
			return f.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return UpdateArticle(ctx, tx, f.articleID, "renamed", "", time.Now())
			})
		}},
		{"RunInTx with NewRaw Exec", func(ctx context.Context, f *cacheFixture) error {
			return f.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.NewRaw("UPDATE articles SET title = 'renamed' WHERE id = ?", f.articleID).Exec(ctx)
				return err
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newCacheFixture(t, 10)
			stale := f.cachedTitles(t)
			if err := tt.write(ctx, f); err != nil {
				t.Fatal(err)
			}
			fresh, err := titles(ctx, f.db)
			if err != nil {
				t.Fatal(err)
			}
			if fresh == stale {
				t.Fatalf("the write left the titles at %q", fresh)
			}
			if got := f.cachedTitles(t); got != fresh {
				t.Errorf("after the write the cache served %q, want %q", got, fresh)
			}
		})
	}
}

// TestCacheLoadDuringTransaction loads a value while a transaction has
// written but not committed: it must not be served once the commit is visible.
func TestCacheLoadDuringTransaction(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			testCacheLoadDuringTransaction(t, newCacheFixtureAt(t, 10, engine.URL(t)))
		})
	}
}

func testCacheLoadDuringTransaction(t *testing.T, f *cacheFixture) {
	ctx := context.Background()
	err := f.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("UPDATE articles SET title = 'renamed' WHERE id = ?", f.articleID).Exec(ctx); err != nil {
			return err
		}
		// Read outside the transaction, as a concurrent request does.
		if got := f.cachedTitles(t); got != "first,second" {
			t.Errorf("before the commit the cache served %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.cachedTitles(t); got != "renamed,second" {
		t.Errorf("after the commit the cache served %q, want %q", got, "renamed,second")
	}
}

// TestCacheSeesOtherProcesses writes through a connection pool of its own,
// which the hook does not see: the data_version poll must.
func TestCacheSeesOtherProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 10)
	f.cache.watcher.(*dataVersionWatcher).polledAt.Store(0)
	if got := f.cachedTitles(t); got != "first,second" {
		t.Fatalf("the cache served %q", got)
	}
	other, err := sql.Open("sqlite3", strings.TrimPrefix(f.url, "sqlite:")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, "UPDATE articles SET title = 'renamed' WHERE id = ?", f.articleID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.cachedTitles(t) != "renamed,second" {
		if time.Now().After(deadline) {
			t.Fatal("the cache never saw the other process's write")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForGeneration waits, up to a bound, until the cache's generation has
// moved past before, and returns how long that took: the time PostgreSQL
// took to deliver a notification.
func waitForGeneration(t *testing.T, c *Cache, before int64) time.Duration {
	t.Helper()
	start := time.Now()
	for c.clock.Load() == before {
		if time.Since(start) > 5*time.Second {
			t.Fatal("no notification came within 5 s")
		}
		time.Sleep(100 * time.Microsecond)
	}
	return time.Since(start)
}

// execOutside runs statement on a connection of its own, as psql or a
// process other than the app would.
func execOutside(t *testing.T, url, statement string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, statement, args...); err != nil {
		t.Fatal(err)
	}
}

// TestCacheSeesOtherInstances caches on one instance, writes through
// another (or through psql), and expects the first to load afresh as soon as
// PostgreSQL has delivered the notification: no poll interval.
func TestCacheSeesOtherInstances(t *testing.T) {
	t.Parallel()
	writes := []struct {
		name  string
		write func(t *testing.T, f *cacheFixture, other *bun.DB)
	}{
		{"Bun on another instance", func(t *testing.T, f *cacheFixture, other *bun.DB) {
			if err := UpdateArticle(context.Background(), other, f.articleID, "renamed", "", time.Now()); err != nil {
				t.Fatal(err)
			}
		}},
		{"a transaction on another instance", func(t *testing.T, f *cacheFixture, other *bun.DB) {
			err := other.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
				if err := UpdateArticle(ctx, tx, f.articleID, "renamed", "", time.Now()); err != nil {
					return err
				}
				_, err := CreateArticle(ctx, tx, f.userID, "third", "", time.Now())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"psql", func(t *testing.T, f *cacheFixture, _ *bun.DB) {
			execOutside(t, f.url, "UPDATE articles SET title = 'renamed' WHERE id = $1", f.articleID)
		}},
		{"a deletion cascading from users", func(t *testing.T, f *cacheFixture, other *bun.DB) {
			if err := DeleteUser(context.Background(), other, nil, f.userID); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range writes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newCacheFixtureAt(t, 10, dbtest.Postgres(t))
			other, err := Open(ctx, f.url)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			stale := f.cachedTitles(t)
			if again := f.cachedTitles(t); again != stale {
				t.Fatalf("the cache served %q, then %q", stale, again)
			}
			before := f.cache.clock.Load()
			tt.write(t, f, other.DB)
			delivery := waitForGeneration(t, f.cache, before)
			fresh, err := titles(ctx, f.db)
			if err != nil {
				t.Fatal(err)
			}
			if fresh == stale {
				t.Fatalf("the write left the titles at %q", fresh)
			}
			if got := f.cachedTitles(t); got != fresh {
				t.Errorf("after the notification the cache served %q, want %q", got, fresh)
			}
			t.Logf("notification delivered in %v", delivery)
		})
	}
}

// TestCacheSeesOtherInstancesAtOnce writes from another connection, as
// another instance would, and takes a snapshot right after the write is
// acknowledged, with no wait for the notification: the snapshot must not
// serve what the write changed. Many snapshots at once all come through.
func TestCacheSeesOtherInstancesAtOnce(t *testing.T) {
	t.Parallel()
	f := newCacheFixtureAt(t, 10, dbtest.Postgres(t))
	ctx := context.Background()
	other, err := pgx.Connect(ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	for i := range 50 {
		if got := f.cachedTitles(t); got == "" {
			t.Fatal("no titles")
		}
		title := fmt.Sprintf("title %d", i)
		if _, err := other.Exec(ctx, "UPDATE articles SET title = $1 WHERE id = $2", title, f.articleID); err != nil {
			t.Fatal(err)
		}
		if got, want := f.cachedTitles(t), title+",second"; got != want {
			t.Fatalf("write %d: right after it the cache served %q, want %q", i, got, want)
		}
	}

	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 20 {
				if _, err := f.cache.Snapshot(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCacheDistrustsALostListener kills the cache's listening connection:
// until it listens again, notifications would be lost, so no snapshot may
// hit; once it is back, nothing stored before may be served.
func TestCacheDistrustsALostListener(t *testing.T) {
	t.Parallel()
	f := newCacheFixtureAt(t, 10, dbtest.Postgres(t))
	l := f.cache.watcher.(*listener)
	var holding atomic.Bool
	holding.Store(true)
	hold := holding.Load
	l.holdReconnect.Store(&hold)

	if got := f.cachedTitles(t); got != "first,second" {
		t.Fatalf("the cache served %q", got)
	}
	if _, found := f.snapshot(t).Get(titlesKey{}); !found {
		t.Fatal("the titles were not cached")
	}
	killed := l.pid.Load()
	execOutside(t, f.url, "SELECT pg_terminate_backend($1)", killed)
	for start := time.Now(); !f.cache.distrusted.Load(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the cache went on trusting itself 5 s after its listener was killed")
		}
	}

	// A write now goes unannounced: nobody listens.
	execOutside(t, f.url, "UPDATE articles SET title = 'renamed' WHERE id = $1", f.articleID)
	for range 3 {
		s := f.snapshot(t)
		if value, found := s.Get(titlesKey{}); found {
			t.Fatalf("with its listener down the cache served %q", value)
		}
		s.Put(titlesKey{}, "stored while down")
		if value, found := s.Get(titlesKey{}); found {
			t.Fatalf("with its listener down the cache stored %q", value)
		}
	}

	holding.Store(false)
	waitTrusted(t, f.cache) // the listener is back
	if l.pid.Load() == killed {
		t.Error("the listener is back on the killed connection")
	}
	if got := f.cachedTitles(t); got != "renamed,second" {
		t.Errorf("once the listener was back the cache served %q, want %q", got, "renamed,second")
	}
	if _, found := f.snapshot(t).Get(titlesKey{}); !found {
		t.Error("once the listener was back the cache stored nothing")
	}

	// And it listens again.
	before := f.cache.clock.Load()
	execOutside(t, f.url, "UPDATE articles SET title = 'again' WHERE id = $1", f.articleID)
	waitForGeneration(t, f.cache, before)
	if got := f.cachedTitles(t); got != "again,second" {
		t.Errorf("after another write the cache served %q", got)
	}
}

// TestEveryTableNotifies checks that a trigger announces the changes of
// every table but the session payloads', which nothing caches, and the
// derived article count's, which change with the articles.
func TestEveryTableNotifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := Open(ctx, dbtest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var silent, announced []string
	err = store.DB.NewRaw(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname NOT IN (?) AND c.relname NOT LIKE 'bun\_%'
		AND NOT EXISTS (SELECT 1 FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid
			WHERE tg.tgrelid = c.oid AND p.proname = 'gatehouse_cache_notify')`, bun.In([]string{SessionDataTable, "article_counts"})).Scan(ctx, &silent)
	if err != nil {
		t.Fatal(err)
	}
	if len(silent) > 0 {
		t.Errorf("tables without the gatehouse_cache_notify trigger: %q", silent)
	}
	err = store.DB.NewRaw(`SELECT DISTINCT c.relname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND tg.tgname LIKE '%_cache_notify'`).Scan(ctx, &announced)
	if err != nil {
		t.Fatal(err)
	}
	if len(announced) < 7 {
		t.Errorf("only %q announce their changes", announced)
	}
}

// TestCacheKeepsReads checks that reads start no generation: else the cache
// would never hit.
func TestCacheKeepsReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		read func(ctx context.Context, f *cacheFixture) error
	}{
		{"NewSelect Scan", func(ctx context.Context, f *cacheFixture) error {
			_, err := titles(ctx, f.db)
			return err
		}},
		{"Count", func(ctx context.Context, f *cacheFixture) error {
			_, err := CountArticles(ctx, f.db)
			return err
		}},
		{"Exists", func(ctx context.Context, f *cacheFixture) error {
			_, err := UsernameTaken(ctx, f.db, "alice")
			return err
		}},
		{"Relation with a subquery", func(ctx context.Context, f *cacheFixture) error {
			_, err := NewestArticles(ctx, f.db, 0, 10)
			return err
		}},
		{"NewRaw Scan", func(ctx context.Context, f *cacheFixture) error {
			var n int
			return f.db.NewRaw("SELECT count(*) FROM articles WHERE title <> 'UPDATE; DELETE'").Scan(ctx, &n)
		}},
		{"NewRaw Scan with a comment", func(ctx context.Context, f *cacheFixture) error {
			var n int
			return f.db.NewRaw("select count(*) from articles").Comment("count").Scan(ctx, &n)
		}},
		{"NewRaw Scan of WITH … SELECT", func(ctx context.Context, f *cacheFixture) error {
			var n int
			return f.db.NewRaw("WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 3) SELECT sum(i) FROM seq").Scan(ctx, &n)
		}},
		{"QueryRowContext", func(ctx context.Context, f *cacheFixture) error {
			var n int
			return f.db.QueryRowContext(ctx, "SELECT count(*) FROM articles").Scan(&n)
		}},
	}
	for _, engine := range dbtest.Engines {
		for _, tt := range tests {
			t.Run(engine.Name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := newCacheFixtureAt(t, 10, engine.URL(t))
				before := f.cache.clock.Load()
				if err := tt.read(context.Background(), f); err != nil {
					t.Fatal(err)
				}
				if after := f.cache.clock.Load(); after != before {
					t.Errorf("the read moved the generation from %d to %d", before, after)
				}
			})
		}
	}
}

// TestSnapshot checks which snapshots see which values.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	write := func(t *testing.T, f *cacheFixture) {
		t.Helper()
		if err := UpdateArticle(ctx, f.db, f.articleID, "renamed", "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Put under a snapshot older than a write is dropped", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, 10)
		old := f.snapshot(t)
		write(t, f)
		old.Put("key", "stale")
		if v, found := f.snapshot(t).Get("key"); found {
			t.Errorf("a new snapshot got %v", v)
		}
		if v, found := old.Get("key"); found {
			t.Errorf("the old snapshot got %v", v)
		}
	})

	t.Run("Get from a snapshot older than a write misses", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, 10)
		old := f.snapshot(t)
		write(t, f)
		current := f.snapshot(t)
		current.Put("key", "fresh")
		if v, found := old.Get("key"); found {
			t.Errorf("the old snapshot got %v", v)
		}
		if v, found := current.Get("key"); !found || v != "fresh" {
			t.Errorf("the current snapshot got %v, %v", v, found)
		}
	})

	t.Run("a snapshot of the same generation shares values", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, 10)
		f.snapshot(t).Put("key", "value")
		if v, found := f.snapshot(t).Get("key"); !found || v != "value" {
			t.Errorf("got %v, %v", v, found)
		}
	})

	t.Run("the limit empties the map", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, 2)
		s := f.snapshot(t)
		s.Put("a", 1)
		s.Put("b", 2)
		s.Put("c", 3)
		for key, want := range map[string]bool{"a": false, "b": false, "c": true} {
			if _, found := s.Get(key); found != want {
				t.Errorf("Get(%q) found %v, want %v", key, found, want)
			}
		}
	})
}

// TestCached checks that load runs once per generation and that errors are not kept.
func TestCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 10)
	type countKey struct{}
	loads := 0
	load := func() (int, error) {
		loads++
		return loads, nil
	}
	for range 3 {
		if got, err := Cached(f.snapshot(t), countKey{}, load); err != nil || got != 1 {
			t.Fatalf("Cached = %d, %v; want 1, nil", got, err)
		}
	}
	if err := UpdateArticle(ctx, f.db, f.articleID, "renamed", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := Cached(f.snapshot(t), countKey{}, load); got != 2 {
		t.Errorf("after a write Cached = %d, want 2", got)
	}

	type failKey struct{}
	errLoad := errors.New("load failed")
	fails := 0
	failing := func() (string, error) {
		fails++
		return "", errLoad
	}
	s := f.snapshot(t)
	for range 2 {
		if _, err := Cached(s, failKey{}, failing); !errors.Is(err, errLoad) {
			t.Fatalf("Cached error = %v, want %v", err, errLoad)
		}
	}
	if fails != 2 {
		t.Errorf("a failed load ran %d times, want 2", fails)
	}
}

// TestMayWrite checks which statements count as reads; the doubtful ones must count as writes.
func TestMayWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		write bool
	}{
		{"SELECT 1", false},
		{"  \n\tselect 1", false},
		{"/* bun comment */ SELECT 1", false},
		{"-- note\nSELECT 1", false},
		{"SELECT 1;", false},
		{"SELECT 1; ;\n-- done", false},
		{"SELECT 'a; DELETE FROM users'", false},
		{"SELECT 'it''s; fine'", false},
		{`SELECT "a;b", [c;d], ` + "`e;f`" + ` FROM t`, false},
		{"SELECT 1 /* ; DELETE FROM t */", false},
		{"SELECT 1 -- ; DELETE FROM t", false},
		{"SELECT title FROM articles WHERE title = 'UPDATE'", false},
		{"WITH t AS (SELECT 1) SELECT * FROM t", false},
		{"with recursive t(i) as (select 1 union all select i + 1 from t where i < 3) select i from t", false},
		{`WITH "delete" AS (SELECT 1), u AS NOT MATERIALIZED (SELECT 2) SELECT * FROM "delete", u`, false},

		{"", true},
		{"-- only a comment", true},
		{"INSERT INTO t VALUES (1) RETURNING id", true},
		{"UPDATE t SET a = 'SELECT'", true},
		{"DELETE FROM t", true},
		{"REPLACE INTO t VALUES (1)", true},
		{"/* SELECT */ UPDATE t SET a = 1", true},
		{"SELECT 1; DELETE FROM t", true},
		{"SELECT 1 --\n; DELETE FROM t", true},
		{"SELECT 'a;b'; DELETE FROM t", true},
		{"SELECT 'unterminated; DELETE FROM t", true},
		{`SELECT "unterminated; DELETE FROM t`, true},
		{"SELECT [unterminated; DELETE FROM t", true},
		{"WITH t AS (SELECT 1) INSERT INTO u SELECT * FROM t", true},
		{"WITH t AS (SELECT 1) UPDATE u SET a = (SELECT 1 FROM t)", true},
		{"WITH t AS (SELECT 1) DELETE FROM u WHERE a IN t", true},
		{"WITH t AS (SELECT 1) REPLACE INTO u SELECT * FROM t", true},
		{`WITH "select" AS (SELECT 1) DELETE FROM u`, true},
		{"WITH ſelect AS (SELECT 1) DELETE FROM u", true},
		{"WITH t AS (SELECT 1", true},
		{"WITH replace AS (SELECT 1) SELECT * FROM replace", true}, // a miss, not a stale value
		{"VALUES (1)", true},
		{"EXPLAIN SELECT 1", true},
		{"PRAGMA user_version = 2", true},
		{"BEGIN", true},
		{"COMMIT", true},
		{"ROLLBACK", true},
		{"RELEASE SAVEPOINT sp", true},
		{"(SELECT 1)", true},
		{"ſelect 1", true},
	}
	for _, tt := range tests {
		if got := mayWrite(tt.query); got != tt.write {
			t.Errorf("mayWrite(%q) = %v, want %v", tt.query, got, tt.write)
		}
	}
}
