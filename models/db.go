// Package models holds Gatehouse's Bun models and the queries on them.
package models

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver, shared with the session storage
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/migrate"

	"gatehouse/models/migrations"
)

// SessionDataTable is the table in which Fiber's session storage keeps session payloads.
const SessionDataTable = "session_data"

// Open opens (creating if needed) the SQLite database at path, in WAL mode with
// a busy timeout and foreign keys on, and applies pending migrations.
func Open(ctx context.Context, path string) (*bun.DB, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("models: unable to create %s: %w", dir, err)
		}
	}
	// _txlock=immediate takes the write lock at BEGIN, so a transaction waits
	// on the busy timeout instead of failing when it later upgrades to write.
	// Each connection keeps a page cache of 1 MiB (_cache_size, in KiB when
	// negative): hot reads are served by models.Cache, not by SQLite.
	dsn := path + "?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_cache_size=-1024"
	sqldb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open %s: %w", path, err)
	}
	// SQLite has one writer at a time and reads are mostly cached: a few
	// connections serve, and each holds its own page cache in memory.
	sqldb.SetMaxOpenConns(4)
	sqldb.SetMaxIdleConns(4)
	sqldb.SetConnMaxLifetime(0)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Migrate applies every migration that has not run yet.
func Migrate(ctx context.Context, db *bun.DB) error {
	migrator := migrate.NewMigrator(db, migrations.All, migrate.WithMarkAppliedOnSuccess(true))
	if err := migrator.Init(ctx); err != nil {
		return fmt.Errorf("models: unable to prepare migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx); err != nil {
		return fmt.Errorf("models: unable to migrate: %w", err)
	}
	return nil
}

// Ping reports whether the database answers a query.
func Ping(ctx context.Context, db bun.IDB) error {
	var one int
	return db.NewRaw("SELECT 1").Scan(ctx, &one)
}
