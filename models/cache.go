package models

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// The cache, in four files: cache.go (this one: the Cache, its snapshots,
// Cached, and knownTables, the one list of the database's tables),
// cache_sqlite.go (the watcher of other connections' commits on SQLite:
// PRAGMA data_version and the cache_versions counts), cache_postgres.go
// (the watcher on PostgreSQL: a listener on the gatehouse_cache channel)
// and sqlscan.go (which tables a statement writes, read from its SQL).
// How the cache stays right is in the comment on Cache, below.
//
// Adding a table:
//
//  1. A new migration (models/migrations) creates it on both engines and,
//     in the same migration, tells the cache of its writes: on PostgreSQL a
//     trigger "<table>_cache_notify AFTER INSERT OR UPDATE OR DELETE OR
//     TRUNCATE ... EXECUTE FUNCTION gatehouse_cache_notify()" (see
//     20261201000001_cache_notify); on SQLite its row in cache_versions and
//     the triggers <table>_cache_version_insert, _update and _delete (see
//     20261204000001_cache_versions). Never edit a migration that has run.
//  2. A Table constant for it below, before tableCount.
//  3. Its entry in knownTables: after the tables it refers to (Copy fills
//     them in that order), and its bit in the cascades of a table whose
//     delete reaches it (ON DELETE CASCADE or SET NULL).
//  4. go test ./models -run TestKnownTables, on both engines: it compares
//     the migrations (tables, foreign keys, triggers) with knownTables and
//     says what disagrees. Cache keys that read the new table name it in
//     their DependsOn.
//
// A table whose rows triggers keep from another's (article_counts, from
// articles) is derived: no cache trigger, skipped by Copy, and keys that
// read it depend on the table it is kept from.

// Tables is a set of the database's tables, as far as the cache tells them
// apart: a cache key says which it depends on (see DependsOn), and a write
// drops only the values that depend on a table it wrote.
type Tables uint64

// The tables the cache tells apart. A write to any other table, or one whose
// table the cache cannot read from its SQL, counts as a write to all.
const (
	// tableOther is every table the cache does not know: a write to one
	// changes it, and only keys that depend on every table depend on it.
	tableOther Tables = 1 << iota
	TableUsers
	TableSessions
	TableArticles
	TableSessionData
	TableThrottleFailures
	TableSecurityEvents
	TableMailOutbox
	TableSettings
	TableTwoFactor
	TableRecoveryCodes
	TablePasskeys
	TableAdminLog
	TableLoginCodes
	TableSocialAccounts
	TableTrustedBrowsers
	TableArticleCounts
	tableCount = iota

	// AllTables is every table, known or not.
	AllTables Tables = 1<<tableCount - 1
)

// knownTable is one of the database's tables as the cache and Copy know it.
type knownTable struct {
	name string
	bit  Tables
	// cascades are the tables a write to this one may change too: deleting
	// a user deletes their sessions, articles, security events and second
	// factors (ON DELETE CASCADE) and unnames them in the admin log (SET NULL).
	cascades Tables
	// unannounced: no PostgreSQL trigger announces its writes (the session
	// payloads, which nothing caches).
	unannounced bool
	// derived: its rows are kept by triggers on another table, whose
	// writes it changes with (the article count): Copy leaves it to them,
	// and no trigger tells the cache of it on either engine.
	derived bool
}

// knownTables is the one list of the database's tables (Bun's own
// migration tables and SQLite's cache_versions aside), in the order Copy
// fills them: parents before children. TestKnownTables checks the
// migrations against it: the tables they create, their foreign keys (the
// order, the cascades), the triggers of both engines.
var knownTables = []knownTable{
	{name: "users", bit: TableUsers, cascades: TableSessions | TableArticles | TableSecurityEvents | TableTwoFactor | TableRecoveryCodes | TablePasskeys | TableAdminLog | TableLoginCodes | TableSocialAccounts | TableTrustedBrowsers},
	{name: "settings", bit: TableSettings},
	{name: "articles", bit: TableArticles},
	{name: "article_counts", bit: TableArticleCounts, derived: true},
	{name: "sessions", bit: TableSessions},
	{name: SessionDataTable, bit: TableSessionData, unannounced: true},
	{name: "security_events", bit: TableSecurityEvents},
	{name: "throttle_failures", bit: TableThrottleFailures},
	{name: "mail_outbox", bit: TableMailOutbox},
	{name: "two_factor", bit: TableTwoFactor},
	{name: "recovery_codes", bit: TableRecoveryCodes},
	{name: "passkeys", bit: TablePasskeys},
	{name: "admin_log", bit: TableAdminLog},
	{name: "login_codes", bit: TableLoginCodes},
	{name: "social_accounts", bit: TableSocialAccounts},
	{name: "trusted_browsers", bit: TableTrustedBrowsers},
}

// tableBit is the bit of the table of this name, 0 for a name it does not know.
func tableBit(name string) Tables {
	for _, t := range knownTables {
		if t.name == name {
			return t.bit
		}
	}
	return 0
}

// tableNamed returns the table of this name, all tables for a name it does
// not know.
func tableNamed(name string) Tables {
	for _, t := range knownTables {
		if t.name == name {
			return t.bit | t.cascades
		}
	}
	return AllTables
}

// DependsOn is implemented by cache keys that depend on some tables only.
// A key that does not implement it depends on every table.
type DependsOn interface {
	DependsOn() Tables
}

// dependencies returns the tables key depends on.
func dependencies(key any) Tables {
	if d, ok := key.(DependsOn); ok {
		return d.DependsOn()
	}
	return AllTables
}

// Cache keeps query results for as long as the tables they depend on are
// unchanged.
//
// A clock counts changes; each table remembers the clock's value at its last
// change. A query hook on the app's Bun queries marks the tables a statement
// wrote as changed after it has run, COMMIT included (then the tables written
// by the transactions open since none was, see AfterQuery), so after its
// commit is visible. The tables come from the SQL text (INSERT INTO t,
// UPDATE t, DELETE FROM t, after a WITH clause or not); a statement the hook
// cannot read, or a table it does not know, changes every table. A watcher,
// chosen by the Store, marks changes when anyone else has committed:
//
//   - On SQLite, data_version, read on a connection of the cache's own at
//     most every externalChangeDelay, changes when any other connection has
//     committed: another process, or this one on another connection of its
//     pool (its hook saw those) or past Bun's hooks (db.DB, as the session
//     storage does). Triggers count each known table's changes in
//     cache_versions, whoever writes; when data_version has moved, the
//     watcher reads the counts and changes the tables whose count moved,
//     and the tables that have no count. So this process's own writes
//     change only their tables, however many connections make them.
//   - On PostgreSQL, triggers announce every committed change on the channel
//     gatehouse_cache with the table's name, and the cache listens on a
//     connection of its own: each notification changes that table. Each
//     snapshot first waits for a notification it sent itself to come back
//     (PostgreSQL delivers them in commit order), so another instance's
//     acknowledged write is seen on the very next request, without polling.
//     While that connection is down, and until it listens
//     again, notifications may be lost: every snapshot then misses, and
//     every table changes once it is back.
//
// A value is stored with the clock its Snapshot saw before loading it, and
// only while none of the tables it depends on has changed since; it is
// served to a snapshot only while none of them has changed since the value's
// clock or the snapshot's, so nothing loaded before a commit is served after
// it, and a snapshot never sees a value newer than its own view.
//
// One write is not seen by the hook on purpose: a session's last-seen touch
// (TouchSession, marked by its context). Nothing cached depends on
// last_seen_at but the session itself, whose holder keeps it up to date in
// memory (see handlers.loadUser); the triggers leave a write to
// last_seen_at alone out too, on both engines.
//
// A request takes one snapshot when it starts and reads the cache through
// it, as if in a read transaction: a handler must not read cached values
// after its own writes. Cached values are shared between requests: callers
// must not modify them.
type Cache struct {
	clock     atomic.Int64
	changedAt [tableCount]atomic.Int64 // the clock at each table's last change
	// distrusted is set while the watcher may be missing changes.
	distrusted atomic.Bool
	watcher    changeWatcher

	txMu    sync.Mutex
	openTxs int    // transactions begun and not yet ended, as the hook saw them
	pending Tables // tables written since openTxs was last 0

	mu      sync.Mutex
	entries map[any]cacheEntry
	loading map[loadKey]*loadCall // loads under way, see Cached
	limit   int
}

// cacheEntry is a stored value, the clock it was loaded at and the tables it
// depends on.
type cacheEntry struct {
	value any
	at    int64
	deps  Tables
}

// changeWatcher tells a cache of the commits its query hook cannot see.
type changeWatcher interface {
	// beforeSnapshot runs as a snapshot is taken, and may change tables.
	beforeSnapshot(ctx context.Context) error
	Close() error
}

// NewCache hooks a cache of up to limit results to the store's queries and
// starts watching for the store's other writers.
func NewCache(ctx context.Context, store *Store, limit int) (*Cache, error) {
	c := &Cache{entries: make(map[any]cacheEntry), loading: make(map[loadKey]*loadCall), limit: limit}
	watcher, err := store.newWatcher(ctx, c)
	if err != nil {
		return nil, err
	}
	c.watcher = watcher
	store.DB.AddQueryHook(c)
	return c, nil
}

// Close stops watching and gives back the cache's connection.
func (c *Cache) Close() error { return c.watcher.Close() }

// changed marks tables as changed now: values loaded before no longer serve.
func (c *Cache) changed(tables Tables) {
	if tables == 0 {
		return
	}
	now := c.clock.Add(1)
	for i := range tableCount {
		if tables&(1<<i) == 0 {
			continue
		}
		// Two changes may race: keep the later clock.
		for at := &c.changedAt[i]; ; {
			old := at.Load()
			if old >= now || at.CompareAndSwap(old, now) {
				break
			}
		}
	}
}

// lastChange is the clock at the last change of any of tables.
func (c *Cache) lastChange(tables Tables) int64 {
	var last int64
	for i := range tableCount {
		if tables&(1<<i) != 0 {
			last = max(last, c.changedAt[i].Load())
		}
	}
	return last
}

// BeforeQuery is part of bun.QueryHook; the cache acts after queries only.
func (c *Cache) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery marks the tables a statement may have changed once it has run.
//
// The SQL text decides, not event.Operation: Bun names every raw query a
// SELECT, whether run by Exec or by Scan. Bun calls the hook after Exec and
// Scan have finished their statement, and after COMMIT, so the change
// follows the commit. Through QueryContext and QueryRowContext it calls it
// before the rows are read, so a write issued that way commits after its
// hook, and the watcher is what sees the commit.
//
// A write in a transaction is visible only once it commits, and the hook
// cannot tell which transaction a COMMIT ends: so it counts the transactions
// open, and a COMMIT (or ROLLBACK) changes every table written since that
// count was last zero. A count gone wrong (a transaction ended past the hook)
// only makes COMMITs change more tables.
func (c *Cache) AfterQuery(ctx context.Context, event *bun.QueryEvent) {
	if ctx.Value(touchContextKey{}) != nil {
		return
	}
	kind, tables := classify(event.Query)
	switch kind {
	case statementRead:
		return
	case statementBegin:
		if event.Err == nil {
			c.txMu.Lock()
			c.openTxs++
			c.txMu.Unlock()
		}
		return
	case statementEnd:
		c.txMu.Lock()
		c.openTxs = max(c.openTxs-1, 0)
		tables = c.pending
		if c.openTxs == 0 {
			c.pending = 0
		}
		c.txMu.Unlock()
	default:
		// Kept even with no transaction seen open: one begun past the hook
		// may commit through it.
		c.txMu.Lock()
		c.pending |= tables
		c.txMu.Unlock()
	}
	c.changed(tables)
}

// touchContextKey marks the context of a session's last-seen touch, which
// the hook lets pass (see Cache).
type touchContextKey struct{}

// distrust makes every snapshot miss until trust is called, and changes
// every table, so that no value being loaded now is stored.
func (c *Cache) distrust() {
	c.distrusted.Store(true)
	c.changed(AllTables)
}

// trust changes every table, so that nothing stored before is served again,
// and lets snapshots hit.
func (c *Cache) trust() {
	c.changed(AllTables)
	c.distrusted.Store(false)
}

// Snapshot is a view of the cache as of one moment.
type Snapshot struct {
	cache  *Cache
	at     int64 // the clock when it was taken
	bypass bool  // the cache was not to be trusted: nothing hits, nothing is stored
}

// Snapshot returns a view of the cache as of now, first asking the watcher
// for changes (on SQLite, reading data_version if it has not been read for
// externalChangeDelay).
func (c *Cache) Snapshot(ctx context.Context) (Snapshot, error) {
	if err := c.watcher.beforeSnapshot(ctx); err != nil {
		return Snapshot{}, err
	}
	// Trust is read first: trust changes the tables before it is restored,
	// so a snapshot that sees it restored sees the change.
	bypass := c.distrusted.Load()
	return Snapshot{cache: c, at: c.clock.Load(), bypass: bypass}, nil
}

// Get returns the value stored under key if none of the tables the key
// depends on has changed since it was loaded or since the snapshot.
func (s Snapshot) Get(key any) (value any, found bool) {
	if s.bypass {
		return nil, false
	}
	c := s.cache
	c.mu.Lock()
	e, found := c.entries[key]
	c.mu.Unlock()
	if !found || c.lastChange(e.deps) > min(s.at, e.at) {
		return nil, false
	}
	return e.value, true
}

// Put stores value under key, unless a table the key depends on has changed
// since the snapshot: the value may then predate the change.
func (s Snapshot) Put(key, value any) {
	if s.bypass {
		return
	}
	c := s.cache
	deps := dependencies(key)
	if c.lastChange(deps) > s.at {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, replaces := c.entries[key]; !replaces && len(c.entries) >= c.limit {
		clear(c.entries)
	}
	c.entries[key] = cacheEntry{value: value, at: s.at, deps: deps}
}

// Cached returns the value stored under key, or calls load and stores what
// it returns. Keys are comparable values of types private to their caller,
// so callers cannot collide.
//
// Concurrent calls for one key through snapshots of the same clock share one
// load: they would all read the same data, and after a write many requests
// miss the same key at once.
func Cached[T any](s Snapshot, key any, load func() (T, error)) (T, error) {
	if cached, found := s.Get(key); found {
		return cached.(T), nil
	}
	if s.bypass {
		return load()
	}
	c := s.cache
	lk := loadKey{key, s.at}
	c.mu.Lock()
	if call, loading := c.loading[lk]; loading {
		c.mu.Unlock()
		<-call.done
		value, _ := call.value.(T)
		return value, call.err
	}
	// Should load panic, those waiting get an error, not a zero value.
	call := &loadCall{done: make(chan struct{}), err: errLoadFailed}
	c.loading[lk] = call
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.loading, lk)
		c.mu.Unlock()
		close(call.done)
	}()
	value, err := load()
	call.value, call.err = value, err
	if err != nil {
		return value, err
	}
	s.Put(key, value)
	return value, nil
}

// errLoadFailed is what those waiting for a load that panicked get.
var errLoadFailed = errors.New("models: a cache load failed")

// loadKey is a key loaded through a snapshot of a clock.
type loadKey struct {
	key any
	at  int64
}

// loadCall is a load under way; done closes when value and err are set.
type loadCall struct {
	done  chan struct{}
	value any
	err   error
}
