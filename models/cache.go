package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// ExternalChangeDelay bounds how long a change made by another process (a
// management command, a sqlite3 shell) may go unseen by the cache.
const ExternalChangeDelay = 100 * time.Millisecond

// Cache keeps query results for as long as the database is unchanged.
//
// It counts generations of the data. A query hook on the app's own
// connections starts a new generation after every statement that is not a
// SELECT has run (so after its commit is visible); SQLite's data_version,
// read on a connection of the cache's own at most every ExternalChangeDelay,
// starts one when another process has committed. A value is stored under the
// generation its Snapshot saw before loading it and is only served to
// snapshots of that generation, so nothing loaded before a commit is served
// after it.
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
func (c *Cache) AfterQuery(_ context.Context, event *bun.QueryEvent) {
	if event.Operation() != "SELECT" {
		c.generation.Add(1)
	}
}

// Snapshot is a view of the cache as of one generation.
type Snapshot struct {
	cache      *Cache
	generation int64
}

// Snapshot returns a view of the cache as of now, first reading data_version
// if it has not been read for ExternalChangeDelay.
func (c *Cache) Snapshot(ctx context.Context) (Snapshot, error) {
	if time.Now().UnixNano()-c.polledAt.Load() >= int64(ExternalChangeDelay) {
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
