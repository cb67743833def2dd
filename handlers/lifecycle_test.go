package handlers_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/mail"
	"gatehouse/models/pgschema"
)

// TestNewLeavesNothingRunningOnError makes New fail (a base URL that is no
// domain name refuses the passkey relying party) on PostgreSQL, whose cache
// listens for other instances' writes on a connection of its own: once the
// store is closed, no connection of the app may remain. New used to make
// the cache, and so start the listener, before steps that can fail.
func TestNewLeavesNothingRunningOnError(t *testing.T) {
	t.Parallel()
	base := dbtest.Postgres(t)
	name := "gatehouse_leak_" + strings.ToLower(rand.Text()[:10])
	ctx := context.Background()
	store, err := models.Open(ctx, base+"&application_name="+name)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := mail.NewTransport("", filepath.Join(t.TempDir(), "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = handlers.New(ctx, store, handlers.Config{MailTransport: transport, MailFrom: "gatehouse@localhost", BaseURL: "http://bad..example"})
	if err == nil {
		t.Fatal("New accepted a base URL whose host is no domain name")
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed connection's backend leaves pg_stat_activity a moment after
	// the client hangs up: wait for that, not for a leaked one.
	var left int
	for deadline := time.Now().Add(10 * time.Second); ; {
		query := "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name + "'"
		if err := pgschema.Query(base, 5*time.Second, query, &left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connection(s) of the app are still open after New failed and the store closed (the cache's listener?)", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
