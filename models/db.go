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
	dsn := path + "?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate"
	sqldb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
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
