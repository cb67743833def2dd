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

// Cache keeps query results for as long as the database is unchanged.
//
// It counts generations of the data. A query hook on the app's Bun queries
// starts a new generation after every statement that may write has run,
// COMMIT included, so after its commit is visible. A watcher, chosen by the
// Store, starts one when anyone else has committed:
//
//   - On SQLite, data_version, read on a connection of the cache's own at
//     most every externalChangeDelay, changes when any other connection has
//     committed: another process, or this one writing past Bun's hooks
//     (db.DB, as the session storage does).
//   - On PostgreSQL, triggers announce every committed change on the channel
//     gatehouse_cache, and the cache listens on a connection of its own: each
//     notification starts a generation, so other instances' writes are seen
//     as soon as PostgreSQL delivers them, without polling. While that
//     connection is down, and until it listens again, notifications may be
//     lost: every snapshot then misses, and a new generation starts once it
//     is back.
//
// A value is stored under the generation its Snapshot saw before loading it
// and is only served to snapshots of that generation, so nothing loaded
// before a commit is served after it.
//
// A request takes one snapshot when it starts and reads the cache through
// it, as if in a read transaction: a handler must not read cached values
// after its own writes. Cached values are shared between requests: callers
// must not modify them.
type Cache struct {
	generation atomic.Int64
	// distrusted is set while the watcher may be missing changes.
	distrusted atomic.Bool
	watcher    changeWatcher

	mu         sync.Mutex
	entries    map[any]any
	entriesGen int64 // the generation entries belong to
	limit      int
}

// changeWatcher tells a cache of the commits its query hook cannot see.
type changeWatcher interface {
	// beforeSnapshot runs as a snapshot is taken, and may start a generation.
	beforeSnapshot(ctx context.Context) error
	Close() error
}

// NewCache hooks a cache of up to limit results to the store's queries and
// starts watching for the store's other writers.
func NewCache(ctx context.Context, store *Store, limit int) (*Cache, error) {
	c := &Cache{entries: make(map[any]any), limit: limit}
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

// BeforeQuery is part of bun.QueryHook; the cache acts after queries only.
func (c *Cache) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery starts a new generation once a statement that may have changed
// data has run.
//
// The SQL text decides, not event.Operation: Bun names every raw query a
// SELECT, whether run by Exec or by Scan. Bun calls the hook after Exec and
// Scan have finished their statement, and after COMMIT, so the bump follows
// the commit. Through QueryContext and QueryRowContext it calls it before the
// rows are read, so a write issued that way commits after its bump, and the
// watcher is what sees the commit.
func (c *Cache) AfterQuery(_ context.Context, event *bun.QueryEvent) {
	if mayWrite(event.Query) {
		c.generation.Add(1)
	}
}

// distrust makes every snapshot miss until trust is called, and starts a
// generation, so that no value being loaded now is stored.
func (c *Cache) distrust() {
	c.distrusted.Store(true)
	c.generation.Add(1)
}

// trust starts a generation, so that nothing stored before is served again,
// and lets snapshots hit.
func (c *Cache) trust() {
	c.generation.Add(1)
	c.distrusted.Store(false)
}

// Snapshot is a view of the cache as of one generation.
type Snapshot struct {
	cache      *Cache
	generation int64
	bypass     bool // the cache was not to be trusted: nothing hits, nothing is stored
}

// Snapshot returns a view of the cache as of now, first asking the watcher
// for changes (on SQLite, reading data_version if it has not been read for
// externalChangeDelay).
func (c *Cache) Snapshot(ctx context.Context) (Snapshot, error) {
	if err := c.watcher.beforeSnapshot(ctx); err != nil {
		return Snapshot{}, err
	}
	// Trust is read first: trust bumps the generation before it is restored,
	// so a snapshot that sees it restored sees the new generation.
	bypass := c.distrusted.Load()
	return Snapshot{cache: c, generation: c.generation.Load(), bypass: bypass}, nil
}

// dataVersionWatcher reads SQLite's data_version, which changes when another
// connection has committed.
type dataVersionWatcher struct {
	cache    *Cache
	polledAt atomic.Int64 // unix nanoseconds of the last data_version read

	mu          sync.Mutex
	conn        *sql.Conn
	query       *sql.Stmt // PRAGMA data_version, prepared once on conn
	dataVersion int64
}

// watchDataVersion takes a connection from the store's pool for reading
// data_version.
func watchDataVersion(ctx context.Context, db *bun.DB, c *Cache) (changeWatcher, error) {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open the cache's connection: %w", err)
	}
	query, err := conn.PrepareContext(ctx, "PRAGMA data_version")
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("models: unable to prepare data_version: %w", err)
	}
	return &dataVersionWatcher{cache: c, conn: conn, query: query}, nil
}

func (w *dataVersionWatcher) Close() error { return errors.Join(w.query.Close(), w.conn.Close()) }

func (w *dataVersionWatcher) beforeSnapshot(ctx context.Context) error {
	if time.Now().UnixNano()-w.polledAt.Load() < int64(externalChangeDelay) {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var version int64
	if err := w.query.QueryRowContext(ctx).Scan(&version); err != nil {
		return fmt.Errorf("models: unable to read data_version: %w", err)
	}
	if version != w.dataVersion {
		w.dataVersion = version
		w.cache.generation.Add(1)
	}
	w.polledAt.Store(time.Now().UnixNano())
	return nil
}

// Get returns the value stored under key for the snapshot's generation.
func (s Snapshot) Get(key any) (value any, found bool) {
	if s.bypass {
		return nil, false
	}
	c := s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.generation != c.entriesGen {
		return nil, false
	}
	value, found = c.entries[key]
	return value, found
}

// Put stores value under key, unless a new generation has started since the
// snapshot: the value may then predate it.
func (s Snapshot) Put(key, value any) {
	if s.bypass {
		return
	}
	c := s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.generation != c.generation.Load() {
		return
	}
	if s.generation != c.entriesGen || len(c.entries) >= c.limit {
		clear(c.entries)
		c.entriesGen = s.generation
	}
	c.entries[key] = value
}

// Cached returns the value stored under key, or calls load and stores what
// it returns. Keys are comparable values of types private to their caller,
// so callers cannot collide.
func Cached[T any](s Snapshot, key any, load func() (T, error)) (T, error) {
	if cached, found := s.Get(key); found {
		return cached.(T), nil
	}
	value, err := load()
	if err != nil {
		return value, err
	}
	s.Put(key, value)
	return value, nil
}

// mayWrite reports whether a statement may change data. Only one SELECT,
// bare or after a WITH clause, cannot: SQLite allows no INSERT, UPDATE or
// DELETE inside a SELECT, its subqueries or its common table expressions.
// Everything else counts as a write, BEGIN and COMMIT included, and so does
// whatever the scan is unsure of: a wrong guess that way costs a cache miss,
// the other way a stale page.
func mayWrite(query string) bool {
	sc := sqlScanner{text: query}
	token := sc.next()
	if token.isKeyword("WITH") {
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
				return true
			}
		}
	}
	if !token.isKeyword("SELECT") {
		return true
	}
	// The driver runs every statement in the text, so only empty ones may follow.
	for token = sc.next(); token.kind != tokenSemicolon; token = sc.next() {
		switch token.kind {
		case tokenEnd:
			return false
		case tokenBad:
			return true
		}
	}
	for token.kind == tokenSemicolon {
		token = sc.next()
	}
	return token.kind != tokenEnd
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
