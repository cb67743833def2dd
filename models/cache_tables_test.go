package models

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models/dbtest"
)

// tablesKey is a cache key that depends on some tables only.
type tablesKey struct {
	name   string
	tables Tables
}

func (k tablesKey) DependsOn() Tables { return k.tables }

var (
	articlesKey = tablesKey{"articles", TableArticles | TableUsers}
	sessionKey  = tablesKey{"session", TableSessions | TableUsers}
)

// TestClassify checks which tables a statement is taken to write.
func TestClassify(t *testing.T) {
	t.Parallel()
	cascade := TableUsers | TableSessions | TableArticles | TableSecurityEvents | TableTwoFactor | TableRecoveryCodes | TablePasskeys | TableAdminLog | TableLoginCodes | TableSocialAccounts | TableTrustedBrowsers
	tests := []struct {
		query  string
		kind   statementKind
		tables Tables
	}{
		{"SELECT 1", statementRead, 0},
		{"WITH t AS (SELECT 1) SELECT * FROM t", statementRead, 0},
		{`INSERT INTO "articles" ("title") VALUES ('x') RETURNING "id"`, statementWrite, TableArticles},
		{`insert or ignore into throttle_failures (k) values (1)`, statementWrite, TableThrottleFailures},
		{`REPLACE INTO settings VALUES (1)`, statementWrite, TableSettings},
		{`UPDATE "sessions" AS "s" SET last_seen_at = '2026-01-01' WHERE (key = 'k')`, statementWrite, TableSessions},
		{`UPDATE OR ROLLBACK articles SET title = 'x'`, statementWrite, TableArticles},
		{`UPDATE ONLY public.articles SET title = 'x'`, statementWrite, TableArticles},
		{`UPDATE "public"."mail_outbox" SET sent = 1`, statementWrite, TableMailOutbox},
		{`DELETE FROM "security_events" WHERE id = 1`, statementWrite, TableSecurityEvents},
		{`UPDATE "two_factor" SET last_step = 3`, statementWrite, TableTwoFactor},
		{`DELETE FROM "recovery_codes" WHERE id = 1`, statementWrite, TableRecoveryCodes},
		{`INSERT INTO "admin_log" ("id") VALUES (DEFAULT)`, statementWrite, TableAdminLog},
		{`DELETE FROM session_data WHERE e < 1`, statementWrite, TableSessionData},
		{`DELETE FROM [articles]`, statementWrite, TableArticles},
		{"/* c */ WITH d AS (SELECT 1 AS id) DELETE FROM articles WHERE id IN (SELECT id FROM d)", statementWrite, TableArticles},
		{"UPDATE users SET last_login = 1", statementWrite, cascade},
		{"DELETE FROM users WHERE id = 1", statementWrite, cascade},

		// Doubtful or unknown: every table.
		{"INSERT INTO other VALUES (1)", statementWrite, AllTables},
		{"INSERT INTO articles VALUES (1); DELETE FROM users", statementWrite, AllTables},
		{"SELECT 1; DELETE FROM articles", statementWrite, AllTables},
		{"WITH d AS (DELETE FROM users RETURNING id) SELECT * FROM d", statementWrite, AllTables},
		{"WITH d AS (SELECT 1) INSERT INTO articles SELECT * FROM d; UPDATE users SET x = 1", statementWrite, AllTables},
		{"INSERT articles VALUES (1)", statementWrite, AllTables},
		{"DELETE articles", statementWrite, AllTables},
		{"UPDATE 'articles' SET x = 1", statementWrite, AllTables},
		{"UPDATE", statementWrite, AllTables},
		{"CREATE TABLE articles (id int)", statementWrite, AllTables},
		{"PRAGMA user_version = 2", statementWrite, AllTables},
		{"TRUNCATE articles", statementWrite, AllTables},
		{"", statementWrite, AllTables},

		// Transactions.
		{"BEGIN", statementBegin, 0},
		{"BEGIN IMMEDIATE", statementBegin, 0},
		{"BEGIN; DELETE FROM users", statementWrite, AllTables},
		{"COMMIT", statementEnd, 0},
		{"END TRANSACTION", statementEnd, 0},
		{"ROLLBACK", statementEnd, 0},
		{"ROLLBACK TO SAVEPOINT sp", statementWrite, 0},
		{"ROLLBACK TRANSACTION TO sp", statementWrite, 0},
		{"SAVEPOINT sp", statementWrite, 0},
		{"RELEASE SAVEPOINT sp", statementWrite, 0},
	}
	for _, tt := range tests {
		kind, tables := classify(tt.query)
		if kind != tt.kind || tables != tt.tables {
			t.Errorf("classify(%q) = %v, %b; want %v, %b", tt.query, kind, tables, tt.kind, tt.tables)
		}
	}
}

// addSession records a session of the fixture's user.
func (f *cacheFixture) addSession(t *testing.T, key string) {
	t.Helper()
	now := time.Now().UTC()
	s := &Session{Key: key, UserID: f.userID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := RecordLogin(context.Background(), f.db, s); err != nil {
		t.Fatal(err)
	}
}

// TestCacheKeepsWhatAWriteDoesNotTouch checks that a write drops only the
// values that depend on the tables it wrote.
func TestCacheKeepsWhatAWriteDoesNotTouch(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newCacheFixtureAt(t, 10, engine.URL(t))
			f.addSession(t, "k")
			// A snapshot waits for the notifications of every write before
			// it (a sync point), once the listener is up: wait for that.
			waitTrusted(t, f.cache)
			fill := func() {
				s := f.snapshot(t)
				s.Put(articlesKey, "articles")
				s.Put(sessionKey, "session")
				s.Put("everything", "everything")
			}
			expect := func(what string, want map[any]bool) {
				t.Helper()
				s := f.snapshot(t)
				for key, kept := range want {
					if _, found := s.Get(key); found != kept {
						t.Errorf("after %s, %v found %v, want %v", what, key, found, kept)
					}
				}
			}

			fill()
			if _, err := CreateArticle(ctx, f.db, f.userID, "third", "", time.Now()); err != nil {
				t.Fatal(err)
			}
			expect("an article write", map[any]bool{articlesKey: false, sessionKey: true, "everything": false})

			fill()
			if err := TouchSession(ctx, f.db, "k", time.Now()); err != nil {
				t.Fatal(err)
			}
			// Neither the hook nor the triggers count it.
			expect("a last-seen touch", map[any]bool{articlesKey: true, sessionKey: true, "everything": true})

			fill()
			if _, err := f.db.NewRaw("INSERT INTO throttle_failures (key, expires_at) VALUES ('x', ?)", time.Now().UTC()).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			expect("a throttle write", map[any]bool{articlesKey: true, sessionKey: true, "everything": false})

			fill()
			err := f.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return UpdateArticle(ctx, tx, f.articleID, "renamed", "", time.Now())
			})
			if err != nil {
				t.Fatal(err)
			}
			expect("an article write in a transaction", map[any]bool{articlesKey: false, sessionKey: true, "everything": false})

			fill()
			if err := SetPassword(ctx, f.db, f.userID, "new"); err != nil {
				t.Fatal(err)
			}
			expect("a user write", map[any]bool{articlesKey: false, sessionKey: false, "everything": false})
		})
	}
}

// TestCacheNoStaleReadsUnderLoad runs writers and readers at once, on
// several tables: a reader that starts after a write was acknowledged must
// never be served a value from before it.
func TestCacheNoStaleReadsUnderLoad(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newCacheFixtureAt(t, 100, engine.URL(t))
			f.addSession(t, "k")
			tables := []struct {
				key   tablesKey
				write func(ctx context.Context, db bun.IDB, n int64) error
				read  func(ctx context.Context, db bun.IDB) (int64, error)
			}{
				{articlesKey, func(ctx context.Context, db bun.IDB, n int64) error {
					return UpdateArticle(ctx, db, f.articleID, strconv.FormatInt(n, 10), "", time.Now())
				}, func(ctx context.Context, db bun.IDB) (int64, error) {
					a, err := ArticleByID(ctx, db, f.articleID)
					if err != nil {
						return 0, err
					}
					return strconv.ParseInt(a.Title, 10, 64)
				}},
				{sessionKey, func(ctx context.Context, db bun.IDB, n int64) error {
					_, err := db.NewUpdate().Model((*Session)(nil)).Set("user_agent = ?", strconv.FormatInt(n, 10)).Where("key = 'k'").Exec(ctx)
					return err
				}, func(ctx context.Context, db bun.IDB) (int64, error) {
					s, err := SessionWithUser(ctx, db, "k", time.Now())
					if err != nil {
						return 0, err
					}
					return strconv.ParseInt(s.UserAgent, 10, 64)
				}},
			}
			const writes = 60
			for _, table := range tables {
				if err := table.write(ctx, f.db, 0); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			var stale atomic.Int64
			for _, table := range tables {
				var acknowledged atomic.Int64
				var done atomic.Bool
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer done.Store(true)
					for n := int64(1); n <= writes; n++ {
						var err error
						if n%2 == 0 {
							err = f.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return table.write(ctx, tx, n) })
						} else {
							err = table.write(ctx, f.db, n)
						}
						if err != nil {
							t.Error(err)
							return
						}
						acknowledged.Store(n)
					}
				}()
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for !done.Load() {
							before := acknowledged.Load()
							s, err := f.cache.Snapshot(ctx)
							if err != nil {
								t.Error(err)
								return
							}
							got, err := Cached(s, table.key, func() (int64, error) { return table.read(ctx, f.db) })
							if err != nil {
								t.Error(err)
								return
							}
							if got < before {
								stale.Add(1)
								t.Errorf("%s: read %d after write %d was acknowledged", table.key.name, got, before)
								return
							}
						}
					}()
				}
			}
			wg.Wait()
			if n := stale.Load(); n > 0 {
				t.Errorf("%d stale reads", n)
			}
		})
	}
}

// TestCachedSharesConcurrentLoads checks that concurrent misses of one key
// through one snapshot load once, and that a panicking load leaves the
// others an error.
func TestCachedSharesConcurrentLoads(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 10)
	s := f.snapshot(t)
	var loads atomic.Int64
	loading, release := make(chan struct{}), make(chan struct{})
	calling := make(chan struct{}, 8)
	var wg sync.WaitGroup
	get := func() {
		got, err := Cached(s, "shared", func() (int, error) {
			if loads.Add(1) == 1 {
				close(loading)
			}
			<-release
			return 42, nil
		})
		if err != nil || got != 42 {
			t.Errorf("Cached = %d, %v", got, err)
		}
	}
	// One load is under way, and stays so until seven more callers have
	// come: each of them either waits for it or, if it comes as the load
	// ends, finds its value; none loads again.
	wg.Go(get)
	<-loading
	for range 7 {
		wg.Go(func() {
			calling <- struct{}{}
			get()
		})
	}
	for range 7 {
		<-calling
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads, want 1", n)
	}

	started, panicking := make(chan struct{}), make(chan struct{})
	go func() {
		defer func() { recover() }()
		Cached(s, "panics", func() (int, error) {
			close(started)
			<-panicking
			panic("load")
		})
	}()
	<-started
	// The load panics as this caller comes: it waits for the load and gets
	// an error, or, coming after it, loads itself; both are right.
	go func() { close(panicking) }()
	if _, err := Cached(s, "panics", func() (int, error) { return 1, nil }); err == nil {
		// The load may have ended before this call: then it loads itself.
		t.Log("the panicking load had ended")
	}
}
