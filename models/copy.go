package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
)

// copyBatch is how many rows go in one INSERT.
const copyBatch = 500

// ErrNotEmpty is returned by Copy when the target already holds data.
var ErrNotEmpty = errors.New("models: the target database is not empty")

// TableCount is how many rows of a table were copied.
type TableCount struct {
	Table string
	Rows  int
}

// Copy copies every row of every table (knownTables, in its order) from
// one migrated database to another (SQLite to PostgreSQL, or any other way), ids, secret key and
// session payloads included, in one transaction on the target; sequences
// are then set past the copied ids. A target holding any row gives
// ErrNotEmpty, unless replace is set: its rows are then deleted first, in
// the same transaction.
func Copy(ctx context.Context, from, to *bun.DB, replace bool) ([]TableCount, error) {
	for _, db := range []*bun.DB{from, to} {
		tables, err := tableNames(ctx, db)
		if err != nil {
			return nil, err
		}
		for _, table := range tables {
			if tableBit(table) == 0 {
				return nil, fmt.Errorf("models: unable to copy: table %s is not known to the copy", table)
			}
		}
	}
	source, err := from.BeginTx(ctx, &sql.TxOptions{ReadOnly: from.Dialect().Name().String() == "pg"})
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the source: %w", err)
	}
	defer source.Rollback()
	var counts []TableCount
	err = to.RunInTx(ctx, nil, func(ctx context.Context, target bun.Tx) error {
		if err := emptyTarget(ctx, target, replace); err != nil {
			return err
		}
		for _, t := range knownTables {
			if t.derived {
				continue // its triggers count what is copied
			}
			n, err := copyTable(ctx, source, target, t.name)
			if err != nil {
				return err
			}
			counts = append(counts, TableCount{Table: t.name, Rows: n})
		}
		return resetSequences(ctx, target)
	})
	return counts, err
}

// tableNames lists the tables of the app's schema, leaving out Bun's
// bookkeeping, SQLite's own and the cache's (cache_versions, on SQLite only,
// whose counts belong to the database they count).
func tableNames(ctx context.Context, db *bun.DB) ([]string, error) {
	query := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if db.Dialect().Name().String() == "pg" {
		query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	}
	var names []string
	if err := db.NewRaw(query).Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("models: unable to list tables: %w", err)
	}
	return slices.DeleteFunc(names, func(name string) bool {
		return strings.HasPrefix(name, "bun_") || name == "cache_versions"
	}), nil
}

// emptyTarget fails with ErrNotEmpty if a table holds rows, or deletes them
// all if replace is set.
func emptyTarget(ctx context.Context, target bun.Tx, replace bool) error {
	for _, t := range slices.Backward(knownTables) {
		table := t.name
		if t.derived {
			continue // emptied by its triggers, and never empty of rows
		}
		if replace {
			if _, err := target.NewDelete().TableExpr("?", bun.Ident(table)).Where("TRUE").Exec(ctx); err != nil {
				return fmt.Errorf("models: unable to empty %s: %w", table, err)
			}
			continue
		}
		n, err := target.NewSelect().TableExpr("?", bun.Ident(table)).Count(ctx)
		if err != nil {
			return fmt.Errorf("models: unable to count the rows of %s: %w", table, err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %s has %d rows", ErrNotEmpty, table, n)
		}
	}
	return nil
}

// copyTable copies every row of table, in batches, and returns how many.
func copyTable(ctx context.Context, source, target bun.Tx, table string) (int, error) {
	rows, err := source.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return 0, fmt.Errorf("models: unable to read %s: %w", table, err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("models: unable to read %s: %w", table, err)
	}
	copied := 0
	var batch [][]any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := insertRows(ctx, target, table, columns, batch); err != nil {
			return err
		}
		copied += len(batch)
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		values := make([]any, len(columns))
		pointers := make([]any, len(columns))
		for i := range values {
			pointers[i] = &values[i]
		}
		if err := rows.Scan(pointers...); err != nil {
			return 0, fmt.Errorf("models: unable to read %s: %w", table, err)
		}
		if batch = append(batch, values); len(batch) == copyBatch {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("models: unable to read %s: %w", table, err)
	}
	return copied, flush()
}

// insertRows writes rows, each of the columns' values, in one statement.
func insertRows(ctx context.Context, target bun.Tx, table string, columns []string, rows [][]any) error {
	var query strings.Builder
	args := []any{bun.Ident(table)}
	query.WriteString("INSERT INTO ? (")
	for i, column := range columns {
		if i > 0 {
			query.WriteString(", ")
		}
		query.WriteString("?")
		args = append(args, bun.Ident(column))
	}
	query.WriteString(") VALUES ")
	row := "(" + strings.Repeat("?, ", len(columns)-1) + "?)"
	for i, values := range rows {
		if i > 0 {
			query.WriteString(", ")
		}
		query.WriteString(row)
		args = append(args, values...)
	}
	if _, err := target.NewRaw(query.String(), args...).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to write %s: %w", table, err)
	}
	return nil
}

// resetSequences moves PostgreSQL's id sequences past the ids copied in;
// SQLite keeps its own count of the largest id as rows are inserted.
func resetSequences(ctx context.Context, target bun.Tx) error {
	if target.Dialect().Name().String() != "pg" {
		return nil
	}
	var sequences []struct {
		Table    string `bun:"table_name"`
		Sequence string `bun:"sequence"`
	}
	err := target.NewRaw(`SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), 'id') AS sequence
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'id' AND table_name NOT LIKE 'bun\_%'`).Scan(ctx, &sequences)
	if err != nil {
		return fmt.Errorf("models: unable to find the id sequences: %w", err)
	}
	for _, s := range sequences {
		_, err := target.NewRaw("SELECT setval(?, COALESCE((SELECT max(id) FROM ?), 0) + 1, false)", s.Sequence, bun.Ident(s.Table)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("models: unable to reset the id sequence of %s: %w", s.Table, err)
		}
	}
	return nil
}
