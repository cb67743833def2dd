package models

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/uptrace/bun"
)

// SecretKey returns the site's secret key, creating it on first use. It signs
// CSRF tokens and derives session auth hashes, like Django's SECRET_KEY.
func SecretKey(ctx context.Context, db bun.IDB) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("models: unable to generate secret key: %w", err)
	}
	if _, err := db.NewRaw("INSERT INTO settings (key, value) VALUES ('secret_key', ?) ON CONFLICT DO NOTHING", fresh).Exec(ctx); err != nil {
		return nil, fmt.Errorf("models: unable to store secret key: %w", err)
	}
	var key []byte
	if err := db.NewRaw("SELECT value FROM settings WHERE key = 'secret_key'").Scan(ctx, &key); err != nil {
		return nil, fmt.Errorf("models: unable to read secret key: %w", err)
	}
	return key, nil
}
