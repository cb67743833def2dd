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
// management command, a sqlite3 shell) may go unseen by the cache.
const externalChangeDelay = 100 * time.Millisecond

// Cache keeps query results for as long as the database is unchanged.
//
// It counts generations of the data. A query hook on the app's Bun queries
// starts a new generation after every statement that may write has run,
// COMMIT included, so after its commit is visible. SQLite's data_version,
// read on a connection of the cache's own at most every externalChangeDelay,
// starts one when any other connection has committed: another process, or
// this one writing past Bun's hooks (db.DB, as the session storage does). A
// value is stored under the generation its Snapshot saw before loading it
// and is only served to snapshots of that generation, so nothing loaded
// before a commit is served after it.
//
// A request takes one snapshot when it starts and reads the cache through
// it, as if in a read transaction: a handler must not read cached values
// after its own writes. Cached values are shared between requests: callers
// must not modify them.
type Cache struct {
	generation atomic.Int64
	polledAt   atomic.Int64 // unix nanoseconds of the last data_version read

	mu          sync.Mutex
	conn        *sql.Conn
	query       *sql.Stmt // PRAGMA data_version, prepared once on conn
	dataVersion int64
	entries     map[any]any
	entriesGen  int64 // the generation entries belong to
	limit       int
}

// NewCache hooks the cache to db's queries, takes a connection from db for
// reading data_version, and holds up to limit results.
func NewCache(ctx context.Context, db *bun.DB, limit int) (*Cache, error) {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open the cache's connection: %w", err)
	}
	query, err := conn.PrepareContext(ctx, "PRAGMA data_version")
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("models: unable to prepare data_version: %w", err)
	}
	c := &Cache{conn: conn, query: query, entries: make(map[any]any), limit: limit}
	db.AddQueryHook(c)
	return c, nil
}

// Close returns the cache's connection to the pool.
func (c *Cache) Close() error { return errors.Join(c.query.Close(), c.conn.Close()) }

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
// data_version poll is what sees the commit.
func (c *Cache) AfterQuery(_ context.Context, event *bun.QueryEvent) {
	if mayWrite(event.Query) {
		c.generation.Add(1)
	}
}

// Snapshot is a view of the cache as of one generation.
type Snapshot struct {
	cache      *Cache
	generation int64
}

// Snapshot returns a view of the cache as of now, first reading data_version
// if it has not been read for externalChangeDelay.
func (c *Cache) Snapshot(ctx context.Context) (Snapshot, error) {
	if time.Now().UnixNano()-c.polledAt.Load() >= int64(externalChangeDelay) {
		if err := c.pollDataVersion(ctx); err != nil {
			return Snapshot{}, err
		}
	}
	return Snapshot{cache: c, generation: c.generation.Load()}, nil
}

func (c *Cache) pollDataVersion(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var version int64
	if err := c.query.QueryRowContext(ctx).Scan(&version); err != nil {
		return fmt.Errorf("models: unable to read data_version: %w", err)
	}
	if version != c.dataVersion {
		c.dataVersion = version
		c.generation.Add(1)
	}
	c.polledAt.Store(time.Now().UnixNano())
	return nil
}

// Get returns the value stored under key for the snapshot's generation.
func (s Snapshot) Get(key any) (value any, found bool) {
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
