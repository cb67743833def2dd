package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// externalChangeDelay bounds how long a change made by another process (a
// management command, a sqlite3 shell) may go unseen by the cache on SQLite.
const externalChangeDelay = 100 * time.Millisecond

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
	tableCount = iota

	// AllTables is every table, known or not.
	AllTables Tables = 1<<tableCount - 1
)

// cacheTables maps the tables' names to their bits.
var cacheTables = map[string]Tables{
	"users":             TableUsers,
	"sessions":          TableSessions,
	"articles":          TableArticles,
	SessionDataTable:    TableSessionData,
	"throttle_failures": TableThrottleFailures,
	"security_events":   TableSecurityEvents,
	"mail_outbox":       TableMailOutbox,
	"settings":          TableSettings,
	"two_factor":        TableTwoFactor,
	"recovery_codes":    TableRecoveryCodes,
	"passkeys":          TablePasskeys,
	"admin_log":         TableAdminLog,
}

// cascades says which tables a write to a table may change too: deleting a
// user deletes their sessions, articles, security events and second
// factors (ON DELETE CASCADE) and unnames them in the admin log (SET NULL).
var cascades = map[Tables]Tables{
	TableUsers: TableSessions | TableArticles | TableSecurityEvents | TableTwoFactor | TableRecoveryCodes | TablePasskeys | TableAdminLog,
}

// tableNamed returns the table of this name, all tables for a name it does
// not know.
func tableNamed(name string) Tables {
	t, ok := cacheTables[name]
	if !ok {
		return AllTables
	}
	return t | cascades[t]
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

// dataVersionWatcher reads SQLite's data_version, which changes when another
// connection has committed, and then the cache_versions table, which counts
// the changes of each table (see the cache_versions migration): so the
// commits of this process's other connections, which its hook has already
// seen, change nothing more than their tables again.
type dataVersionWatcher struct {
	cache    *Cache
	polledAt atomic.Int64 // unix nanoseconds of the last data_version read

	mu            sync.Mutex
	conn          *sql.Conn
	dataVersion   *sql.Stmt // PRAGMA data_version, prepared once on conn
	schemaVersion *sql.Stmt // PRAGMA schema_version
	versions      *sql.Stmt // the counts of cache_versions
	last          sqliteVersions
	// untracked are the tables whose changes cache_versions does not count:
	// they change at every commit of another connection.
	untracked Tables
}

// sqliteVersions is what the watcher last read.
type sqliteVersions struct {
	data, schema int64
	tables       map[string]int64
}

// watchDataVersion takes a connection from the store's pool for reading
// data_version and the tables' counts.
func watchDataVersion(ctx context.Context, db *bun.DB, c *Cache) (changeWatcher, error) {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open the cache's connection: %w", err)
	}
	w := &dataVersionWatcher{cache: c, conn: conn}
	for stmt, query := range map[**sql.Stmt]string{
		&w.dataVersion:   "PRAGMA data_version",
		&w.schemaVersion: "PRAGMA schema_version",
		&w.versions:      "SELECT name, version FROM cache_versions",
	} {
		if *stmt, err = conn.PrepareContext(ctx, query); err != nil {
			w.Close()
			return nil, fmt.Errorf("models: unable to prepare %q: %w", query, err)
		}
	}
	if w.last, err = w.read(ctx); err != nil {
		w.Close()
		return nil, err
	}
	w.untracked = AllTables
	for name := range w.last.tables {
		w.untracked &^= cacheTables[name]
	}
	return w, nil
}

func (w *dataVersionWatcher) Close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{w.dataVersion, w.schemaVersion, w.versions} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(append(errs, w.conn.Close())...)
}

// read reads data_version, schema_version and the tables' counts, in that
// order: counts read after a data_version are at least as new.
func (w *dataVersionWatcher) read(ctx context.Context) (sqliteVersions, error) {
	v := sqliteVersions{tables: make(map[string]int64, len(cacheTables))}
	if err := w.dataVersion.QueryRowContext(ctx).Scan(&v.data); err != nil {
		return v, fmt.Errorf("models: unable to read data_version: %w", err)
	}
	if err := w.schemaVersion.QueryRowContext(ctx).Scan(&v.schema); err != nil {
		return v, fmt.Errorf("models: unable to read schema_version: %w", err)
	}
	rows, err := w.versions.QueryContext(ctx)
	if err != nil {
		return v, fmt.Errorf("models: unable to read cache_versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var version int64
		if err := rows.Scan(&name, &version); err != nil {
			return v, fmt.Errorf("models: unable to read cache_versions: %w", err)
		}
		v.tables[name] = version
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("models: unable to read cache_versions: %w", err)
	}
	return v, nil
}

func (w *dataVersionWatcher) beforeSnapshot(ctx context.Context) error {
	if time.Now().UnixNano()-w.polledAt.Load() < int64(externalChangeDelay) {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var dataVersion int64
	if err := w.dataVersion.QueryRowContext(ctx).Scan(&dataVersion); err != nil {
		return fmt.Errorf("models: unable to read data_version: %w", err)
	}
	if dataVersion != w.last.data {
		now, err := w.read(ctx)
		if err != nil {
			return err
		}
		w.cache.changed(w.last.changedSince(now) | w.untracked)
		w.last = now
	}
	w.polledAt.Store(time.Now().UnixNano())
	return nil
}

// changedSince returns the tables whose counts differ between v and now:
// every table if the schema changed.
func (v sqliteVersions) changedSince(now sqliteVersions) Tables {
	if now.schema != v.schema || len(now.tables) != len(v.tables) {
		return AllTables
	}
	var changed Tables
	for name, version := range now.tables {
		if before, ok := v.tables[name]; !ok || before != version {
			changed |= tableNamed(name)
		}
	}
	return changed
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

// statementKind is what classify makes of a statement.
type statementKind int

const (
	statementRead  statementKind = iota // changes nothing
	statementWrite                      // changes its tables
	statementBegin                      // begins a transaction
	statementEnd                        // commits or rolls back a transaction
)

// mayWrite reports whether a statement may change data.
func mayWrite(query string) bool {
	kind, _ := classify(query)
	return kind != statementRead
}

// classify tells what a statement does and, for a write, which tables it
// may change. Only one SELECT, bare or after a WITH clause whose common table
// expressions hold no INSERT, UPDATE or DELETE, cannot write. A write is one
// INSERT, REPLACE, UPDATE or DELETE whose table the scan reads; anything else
// (several statements, DDL, PRAGMA, what the scan is unsure of) changes
// every table: a wrong guess that way costs cache misses, the other way a
// stale page.
func classify(query string) (statementKind, Tables) {
	sc := sqlScanner{text: query}
	token := sc.next()
	switch {
	case token.isKeyword("BEGIN"):
		return sc.single(statementBegin, 0)
	case token.isKeyword("COMMIT", "END"):
		return sc.single(statementEnd, 0)
	case token.isKeyword("ROLLBACK"):
		// ROLLBACK [TRANSACTION] TO [SAVEPOINT] name ends no transaction.
		for token = sc.next(); token.isKeyword("TRANSACTION", "WORK"); token = sc.next() {
		}
		if token.isKeyword("TO") {
			return statementWrite, 0
		}
		return statementEnd, 0
	case token.isKeyword("SAVEPOINT", "RELEASE"):
		// Within a transaction, they commit nothing.
		return statementWrite, 0
	case token.isKeyword("WITH"):
		// The statement is what its first keyword outside the common table
		// expressions' parentheses says. REPLACE may also name a table
		// expression; taken for the statement, it errs toward a write.
		depth := 0
		for token = sc.next(); depth > 0 || !token.isKeyword("SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"); token = sc.next() {
			switch token.kind {
			case tokenOpen:
				depth++
			case tokenClose:
				depth--
			case tokenEnd, tokenSemicolon, tokenBad:
				return statementWrite, AllTables
			case tokenWord:
				// PostgreSQL allows data-modifying common table expressions.
				if token.isKeyword("INSERT", "UPDATE", "DELETE") {
					return statementWrite, AllTables
				}
			}
		}
	}
	var tables Tables
	switch {
	case token.isKeyword("SELECT"):
		return sc.single(statementRead, 0)
	case token.isKeyword("INSERT", "REPLACE", "UPDATE", "DELETE"):
		tables = sc.writtenTable(token)
	default:
		return statementWrite, AllTables
	}
	if tables == AllTables {
		return statementWrite, AllTables
	}
	return sc.single(statementWrite, tables)
}

// single returns kind and tables if only empty statements follow, and a
// write to every table otherwise: the driver runs every statement in the text.
func (sc *sqlScanner) single(kind statementKind, tables Tables) (statementKind, Tables) {
	token := sc.next()
	for ; token.kind != tokenSemicolon; token = sc.next() {
		switch token.kind {
		case tokenEnd:
			return kind, tables
		case tokenBad:
			return statementWrite, AllTables
		}
	}
	for token.kind == tokenSemicolon {
		token = sc.next()
	}
	if token.kind != tokenEnd {
		return statementWrite, AllTables
	}
	return kind, tables
}

// writtenTable reads the table of INSERT [OR …] INTO t, REPLACE INTO t,
// UPDATE [OR …] t or DELETE FROM t, verb being the statement's first keyword,
// and returns it (with what it cascades to), or every table.
func (sc *sqlScanner) writtenTable(verb sqlToken) Tables {
	token := sc.next()
	if verb.isKeyword("INSERT", "UPDATE") && token.isKeyword("OR") {
		sc.next() // ROLLBACK, ABORT, REPLACE, FAIL or IGNORE
		token = sc.next()
	}
	switch {
	case verb.isKeyword("INSERT", "REPLACE"):
		if !token.isKeyword("INTO") {
			return AllTables
		}
		token = sc.next()
	case verb.isKeyword("DELETE"):
		if !token.isKeyword("FROM") {
			return AllTables
		}
		token = sc.next()
	}
	if token.isKeyword("ONLY") { // PostgreSQL's UPDATE ONLY t, DELETE FROM ONLY t
		token = sc.next()
	}
	name, ok := token.name()
	if !ok {
		return AllTables
	}
	// A schema-qualified name: the table is the last part.
	rest := *sc
	if dot := rest.next(); dot.kind == tokenOther && dot.text == "." {
		if name, ok = rest.next().name(); !ok {
			return AllTables
		}
		*sc = rest
	}
	return tableNamed(name)
}

// name returns the name a word or a double-quoted or backquoted token
// spells, folding an unquoted word to lower case as both engines do.
func (t sqlToken) name() (string, bool) {
	switch {
	case t.kind == tokenWord:
		return strings.ToLower(t.text), true
	case t.kind == tokenOther && len(t.text) >= 2 && (t.text[0] == '"' || t.text[0] == '`'):
		q := t.text[:1]
		return strings.ReplaceAll(t.text[1:len(t.text)-1], q+q, q), true
	case t.kind == tokenOther && len(t.text) >= 2 && t.text[0] == '[':
		return t.text[1 : len(t.text)-1], true
	}
	return "", false
}

// sqlScanner splits SQL text into tokens, just finely enough for mayWrite.
type sqlScanner struct {
	text string
	pos  int
}

type sqlToken struct {
	kind tokenKind
	text string
}

type tokenKind int

const (
	tokenEnd       tokenKind = iota
	tokenWord                // a keyword or a bare name
	tokenOpen                // (
	tokenClose               // )
	tokenSemicolon           // ;
	tokenOther               // a literal, a quoted name or an operator
	tokenBad                 // an unterminated literal or quoted name
)

// isKeyword reports whether the token is one of keywords, given in upper
// case. Only ASCII letters fold: SQLite reads "ſelect" as a name, not SELECT.
func (t sqlToken) isKeyword(keywords ...string) bool {
	if t.kind != tokenWord {
		return false
	}
	for _, keyword := range keywords {
		if len(t.text) == len(keyword) && asciiUpperEqual(t.text, keyword) {
			return true
		}
	}
	return false
}

func asciiUpperEqual(text, upper string) bool {
	for i := range len(text) {
		c := text[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// next returns the token after whitespace and comments.
func (sc *sqlScanner) next() sqlToken {
	sc.skipSpace()
	if sc.pos == len(sc.text) {
		return sqlToken{kind: tokenEnd}
	}
	start := sc.pos
	c := sc.text[sc.pos]
	sc.pos++
	kind := tokenOther
	switch {
	case c == '(':
		kind = tokenOpen
	case c == ')':
		kind = tokenClose
	case c == ';':
		kind = tokenSemicolon
	case c == '\'' || c == '"' || c == '`':
		if !sc.skipQuoted(c, true) {
			kind = tokenBad
		}
	case c == '[':
		if !sc.skipQuoted(']', false) {
			kind = tokenBad
		}
	case isWordByte(c):
		for sc.pos < len(sc.text) && isWordByte(sc.text[sc.pos]) {
			sc.pos++
		}
		kind = tokenWord
	}
	return sqlToken{kind: kind, text: sc.text[start:sc.pos]}
}

// skipQuoted moves past the closing quote; doubled, a quote stands for itself.
func (sc *sqlScanner) skipQuoted(closing byte, doubles bool) bool {
	for {
		i := strings.IndexByte(sc.text[sc.pos:], closing)
		if i < 0 {
			sc.pos = len(sc.text)
			return false
		}
		sc.pos += i + 1
		if !doubles || sc.pos == len(sc.text) || sc.text[sc.pos] != closing {
			return true
		}
		sc.pos++
	}
}

func (sc *sqlScanner) skipSpace() {
	for sc.pos < len(sc.text) {
		rest := sc.text[sc.pos:]
		switch {
		case strings.IndexByte(" \t\n\v\f\r", rest[0]) >= 0:
			sc.pos++
		case strings.HasPrefix(rest, "--"):
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				sc.pos += i + 1
			} else {
				sc.pos = len(sc.text)
			}
		case strings.HasPrefix(rest, "/*"):
			// SQLite ends an unclosed comment at the end of the text.
			if i := strings.Index(rest[2:], "*/"); i >= 0 {
				sc.pos += 2 + i + 2
			} else {
				sc.pos = len(sc.text)
			}
		default:
			return
		}
	}
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$' || c >= 0x80
}
