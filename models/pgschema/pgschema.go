// Package pgschema gives a test or a benchmark a PostgreSQL schema of its
// own in a shared database, and runs the statements that set one up, each
// on a connection of its own.
package pgschema

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// Query reads one value on a connection of its own to the database at
// base, within timeout.
func Query(base string, timeout time.Duration, query string, value any) error {
	return withConn(base, timeout, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, query).Scan(value)
	})
}

// Exec runs one statement on a connection of its own to the database at
// base, within timeout.
func Exec(base string, timeout time.Duration, statement string) error {
	return withConn(base, timeout, func(ctx context.Context, conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, statement); err != nil {
			return fmt.Errorf("%s: %w", statement, err)
		}
		return nil
	})
}

// withConn runs use on a new connection to the database at base, closed
// after it, all within timeout.
func withConn(base string, timeout time.Duration, use func(context.Context, *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return use(ctx, conn)
}

// Schema is a schema of its own in a shared database.
type Schema struct {
	// Name is prefix and random hex.
	Name string
	// URL is the database's address with a search_path that puts the
	// schema first, and the settings given to New.
	URL  string
	base string
}

// New creates a schema named prefix and random hex in the database at
// base, for models.Open to use through its URL with settings (connection
// parameters, e.g. synchronous_commit) added.
func New(base, prefix string, timeout time.Duration, settings map[string]string) (*Schema, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("pgschema: %w", err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	s := &Schema{Name: prefix + hex.EncodeToString(suffix), base: base}
	query := u.Query()
	query.Set("search_path", s.Name)
	for name, value := range settings {
		query.Set(name, value)
	}
	u.RawQuery = query.Encode()
	s.URL = u.String()
	if err := Exec(base, timeout, "CREATE SCHEMA "+s.Name); err != nil {
		return nil, err
	}
	return s, nil
}

// Drop drops the schema with everything in it.
func (s *Schema) Drop(timeout time.Duration) error {
	return Exec(s.base, timeout, "DROP SCHEMA "+s.Name+" CASCADE")
}
