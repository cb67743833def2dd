package models

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/models/dbtest"
)

// poll makes the next snapshot read data_version (and the tables' counts),
// takes it, and reports whether data_version had moved.
func (f *cacheFixture) poll(t *testing.T) (moved bool) {
	t.Helper()
	w := f.cache.watcher.(*dataVersionWatcher)
	w.mu.Lock()
	before := w.last.data
	w.mu.Unlock()
	w.polledAt.Store(0)
	f.snapshot(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last.data != before
}

// fillKeys stores a value under a key of the articles, of a session, and of
// every table.
func (f *cacheFixture) fillKeys(t *testing.T) {
	t.Helper()
	s := f.snapshot(t)
	s.Put(articlesKey, "articles")
	s.Put(sessionKey, "session")
	s.Put("everything", "everything")
}

// expectKeys checks which of fillKeys' keys a new snapshot finds.
func (f *cacheFixture) expectKeys(t *testing.T, what string, want map[any]bool) {
	t.Helper()
	s := f.snapshot(t)
	for key, kept := range want {
		if _, found := s.Get(key); found != kept {
			t.Errorf("after %s, %v found %v, want %v", what, key, found, kept)
		}
	}
}

// TestCacheWatcherKeepsOwnWrites writes articles from this process on
// several connections of its pool, through Bun and past its hooks, and the
// session storage writes its payloads: SQLite's data_version moves for all
// of them, and the cached session must survive the poll that sees it.
func TestCacheWatcherKeepsOwnWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 10)
	f.addSession(t, "k")
	f.poll(t) // the setup's own commits

	f.fillKeys(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := CreateArticle(ctx, f.db, f.userID, fmt.Sprintf("concurrent %d", i), "", time.Now())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Past Bun's hooks: only the watcher sees these.
	if _, err := f.db.DB.ExecContext(ctx, "UPDATE articles SET title = 'past the hook' WHERE id = ?", f.articleID); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Sessions.Set("k", []byte("payload"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if !f.poll(t) {
		t.Fatal("data_version did not move: the poll saw nothing to tell apart")
	}
	f.expectKeys(t, "this process's writes on other connections", map[any]bool{articlesKey: false, sessionKey: true, "everything": false})
	if got := f.cachedTitles(t); !strings.HasPrefix(got, "past the hook,second,concurrent") {
		t.Errorf("the cache served %q after the writes", got)
	}

	// A write past the hooks is seen by its table alone.
	f.poll(t)
	f.fillKeys(t)
	if _, err := f.db.DB.ExecContext(ctx, "UPDATE sessions SET expires_at = ? WHERE key = 'k'", time.Now().Add(2*time.Hour).UTC()); err != nil {
		t.Fatal(err)
	}
	f.poll(t)
	f.expectKeys(t, "a session write past the hook", map[any]bool{articlesKey: true, sessionKey: false, "everything": false})
}

// TestCacheWatcherSeesForeignWrites writes through a second *sql.DB, as
// another process would, and checks that each write drops the values that
// depend on its table, and only those.
func TestCacheWatcherSeesForeignWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 10)
	f.addSession(t, "k")
	if _, err := f.db.ExecContext(ctx, "CREATE TABLE extra (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", strings.TrimPrefix(f.url, "sqlite:")+"?_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if !f.poll(t) {
		t.Fatal("the setup's writes did not move data_version")
	}
	if untracked := f.cache.watcher.(*dataVersionWatcher).untracked; untracked&(TableSessions|TableUsers|TableArticles) != 0 || untracked&tableOther == 0 {
		t.Fatalf("tables without counts: %b, want the unknown ones and not sessions, users or articles", untracked)
	}

	writes := []struct {
		name      string
		statement string
		want      map[any]bool
	}{
		{"an article write", "UPDATE articles SET title = 'renamed'",
			map[any]bool{articlesKey: false, sessionKey: true, "everything": false}},
		{"a session write", "UPDATE sessions SET expires_at = '2999-01-01 00:00:00+00:00'",
			map[any]bool{articlesKey: true, sessionKey: false, "everything": false}},
		{"a new session", "INSERT INTO sessions (key, user_id, created_at, last_seen_at, expires_at) SELECT 'k2', user_id, created_at, last_seen_at, expires_at FROM sessions",
			map[any]bool{articlesKey: true, sessionKey: false, "everything": false}},
		// A key of every table depends on those without counts too, which
		// change at every foreign commit.
		{"a last-seen touch", "UPDATE sessions SET last_seen_at = '2999-01-01 00:00:00+00:00'",
			map[any]bool{articlesKey: true, sessionKey: true, "everything": false}},
		{"a user write", "UPDATE users SET first_name = 'Alice'",
			map[any]bool{articlesKey: false, sessionKey: false, "everything": false}},
		{"a write to a table the cache does not know", "INSERT INTO extra VALUES (1)",
			map[any]bool{articlesKey: true, sessionKey: true, "everything": false}},
		{"a schema change", "CREATE INDEX extra_x ON extra (x)",
			map[any]bool{articlesKey: false, sessionKey: false, "everything": false}},
		{"a deleted user (cascading)", "DELETE FROM users",
			map[any]bool{articlesKey: false, sessionKey: false, "everything": false}},
	}
	for _, w := range writes {
		f.fillKeys(t)
		if _, err := other.ExecContext(ctx, w.statement); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if !f.poll(t) {
			t.Errorf("%s: data_version did not move", w.name)
		}
		f.expectKeys(t, w.name, w.want)
	}
}

// TestEveryKnownTableCounted checks that each table counted in
// cache_versions is one the cache tells apart and has a trigger for each
// kind of write, and that the tables the hot keys depend on (sessions,
// users, articles) are counted. A known table without a count is correct,
// only slower: it changes at every commit of another connection.
func TestEveryKnownTableCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 10)
	var triggers []string
	if err := f.db.NewRaw("SELECT name FROM sqlite_master WHERE type = 'trigger'").Scan(ctx, &triggers); err != nil {
		t.Fatal(err)
	}
	counted := f.cache.watcher.(*dataVersionWatcher).last.tables
	for name := range counted {
		if tableBit(name) == 0 {
			t.Errorf("cache_versions counts %s, which the cache does not know", name)
		}
		for _, op := range []string{"insert", "update", "delete"} {
			if !slices.Contains(triggers, name+"_cache_version_"+op) {
				t.Errorf("%s has no %s trigger", name, op)
			}
		}
	}
	for _, name := range []string{"sessions", "users", "articles"} {
		if _, ok := counted[name]; !ok {
			t.Errorf("%s has no row in cache_versions", name)
		}
	}
}

// TestSessionTriggersNameEveryColumn checks that the triggers on sessions
// leave out last_seen_at only: a column added later must be counted (on
// SQLite) and announced (on PostgreSQL) when it changes.
func TestSessionTriggersNameEveryColumn(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := openTestStore(t, engine.URL(t))
			var columns, named []string
			var err error
			if engine.Name == "sqlite" {
				err = store.DB.NewRaw("SELECT name FROM pragma_table_info('sessions')").Scan(ctx, &columns)
				if err != nil {
					t.Fatal(err)
				}
				var trigger string
				err = store.DB.NewRaw("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'sessions_cache_version_update'").Scan(ctx, &trigger)
				if err != nil {
					t.Fatal(err)
				}
				m := regexp.MustCompile(`UPDATE OF ([^\n]*) ON sessions`).FindStringSubmatch(trigger)
				if m == nil {
					t.Fatalf("the trigger names no columns: %s", trigger)
				}
				named = strings.Split(m[1], ", ")
			} else {
				err = store.DB.NewRaw("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'sessions'").Scan(ctx, &columns)
				if err != nil {
					t.Fatal(err)
				}
				err = store.DB.NewRaw(`SELECT event_object_column FROM information_schema.triggered_update_columns
					WHERE trigger_schema = current_schema() AND trigger_name = 'sessions_cache_notify_update'`).Scan(ctx, &named)
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, column := range columns {
				if column != "last_seen_at" && !slices.Contains(named, column) {
					t.Errorf("a change to sessions.%s is not seen by the cache's trigger (it names %q)", column, named)
				}
			}
			if slices.Contains(named, "last_seen_at") {
				t.Error("the trigger counts last-seen touches")
			}
		})
	}
}

// TestCacheNoStaleReadsOfForeignWrites runs, at once, a writer on another
// *sql.DB (another process, to the cache) that changes a session, this
// process writing articles, and readers of both that make their snapshot
// read data_version first, as it does every externalChangeDelay: once a
// foreign write is acknowledged, a reader whose snapshot polls after it
// never gets a value from before it, whatever this process's own writes
// did to data_version meanwhile.
func TestCacheNoStaleReadsOfForeignWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCacheFixture(t, 100)
	f.addSession(t, "k")
	other, err := sql.Open("sqlite3", strings.TrimPrefix(f.url, "sqlite:")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	readSession := func() (int64, error) {
		s, err := SessionWithUser(ctx, f.db, "k", time.Now())
		if err != nil {
			return 0, err
		}
		var n int64
		_, err = fmt.Sscan(s.UserAgent, &n)
		return n, err
	}
	if _, err := other.ExecContext(ctx, "UPDATE sessions SET user_agent = '0' WHERE key = 'k'"); err != nil {
		t.Fatal(err)
	}
	w := f.cache.watcher.(*dataVersionWatcher)
	const writes = 60
	var acknowledged, reads atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		for n := int64(1); n <= writes; n++ {
			if _, err := other.ExecContext(ctx, "UPDATE sessions SET user_agent = ? WHERE key = 'k'", fmt.Sprint(n)); err != nil {
				t.Error(err)
				return
			}
			acknowledged.Store(n)
			// The readers read between writes: the next write waits for a
			// read begun after this one was acknowledged.
			for after := reads.Load() + 1; reads.Load() <= after && !t.Failed(); {
				runtime.Gosched()
			}
		}
	})
	wg.Go(func() {
		for n := 0; !done.Load(); n++ {
			if _, err := CreateArticle(ctx, f.db, f.userID, fmt.Sprint("own ", n), "", time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				before := acknowledged.Load()
				w.polledAt.Store(0)
				s, err := f.cache.Snapshot(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := Cached(s, sessionKey, readSession)
				if err != nil {
					t.Error(err)
					return
				}
				if got < before {
					t.Errorf("read session %d after foreign write %d was acknowledged", got, before)
					return
				}
				if _, err := Cached(s, articlesKey, func() (string, error) { return titles(ctx, f.db) }); err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		})
	}
	wg.Wait()
}
