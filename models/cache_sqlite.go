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

// externalChangeDelay bounds how long a change made by another process (a
// management command, a sqlite3 shell) may go unseen by the cache on SQLite.
const externalChangeDelay = 100 * time.Millisecond

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
		w.untracked &^= tableBit(name)
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
	v := sqliteVersions{tables: make(map[string]int64, len(knownTables))}
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
