// Package dbtest gives each test a database of its own: a SQLite file, a
// PostgreSQL schema or a Redis database, removed when the test ends. Only
// tests import it.
//
// PostgreSQL and Redis are found at GATEHOUSE_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable) and
// GATEHOUSE_TEST_REDIS (default redis://127.0.0.1:6379/0). When one does not
// answer, the tests that need it skip, saying how to run them; with CI=true
// they fail instead.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"gatehouse/models/pgschema"
)

const (
	defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultRedis    = "redis://127.0.0.1:6379/0"
	// reachTimeout bounds the first look for a server, so that a machine
	// without one skips quickly.
	reachTimeout = 3 * time.Second
)

// Engine is a database engine the app runs on.
type Engine struct {
	Name string
	// URL returns the address of a new, empty database of the engine, for
	// models.Open; it is removed when t ends.
	URL func(t testing.TB) string
}

// Engines are SQLite and PostgreSQL, for tests that run on both.
var Engines = []Engine{{"sqlite", SQLite}, {"postgres", Postgres}}

// SQLite returns a new SQLite file in t's temporary directory.
func SQLite(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
}

// Postgres returns the URL of a new schema in the test server's database,
// dropped when t ends. Its search_path puts the schema first, and its
// commits do not wait for the disk (synchronous_commit=off): the tests
// need no durability.
func Postgres(t testing.TB) string {
	t.Helper()
	base := envOr("GATEHOUSE_TEST_POSTGRES", defaultPostgres)
	if err := reachPostgres(); err != nil {
		unavailable(t, "PostgreSQL", "GATEHOUSE_TEST_POSTGRES", base, err)
	}
	schema, err := pgschema.New(base, "test_", reachTimeout, map[string]string{"synchronous_commit": "off"})
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := schema.Drop(reachTimeout); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return schema.URL
}

// reachPostgres tells, once for all the process's tests, whether the server answers.
var reachPostgres = sync.OnceValue(func() error {
	return pgschema.Exec(envOr("GATEHOUSE_TEST_POSTGRES", defaultPostgres), reachTimeout, "SELECT 1")
})

// redisDatabases is how many numbered databases a Redis server has by
// default; the test's own is one of 1 to 15.
const redisDatabases = 16

// Redis returns the URL of a Redis database that no other test uses until t
// ends, empty at first and emptied afterwards. Tests in other processes
// claim theirs with a key in the server's URL database.
func Redis(t testing.TB) string {
	t.Helper()
	base := envOr("GATEHOUSE_TEST_REDIS", defaultRedis)
	options, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("dbtest: GATEHOUSE_TEST_REDIS: %v", err)
	}
	// Redis 7 refuses to be asked for maintenance notifications, and the
	// client would log each refusal.
	options.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	locks := redis.NewClient(options)
	defer locks.Close()
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	err = locks.Ping(ctx).Err()
	cancel()
	if err != nil {
		unavailable(t, "Redis", "GATEHOUSE_TEST_REDIS", base, err)
	}
	token := randomHex(8)
	number := 0
	for deadline := time.Now().Add(time.Minute); number == 0; {
		for n := 1; n < redisDatabases; n++ {
			if n == options.DB {
				continue
			}
			claimed, err := locks.SetNX(context.Background(), lockKey(n), token, 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("dbtest: claim a Redis database: %v", err)
			}
			if claimed {
				number = n
				break
			}
		}
		if number == 0 {
			if time.Now().After(deadline) {
				t.Fatal("dbtest: every Redis database stayed claimed by other tests for a minute")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	own := *options
	own.DB = number
	flush := func() error {
		client := redis.NewClient(&own)
		defer client.Close()
		return client.FlushDB(context.Background()).Err()
	}
	if err := flush(); err != nil {
		t.Fatalf("dbtest: empty Redis database %d: %v", number, err)
	}
	t.Cleanup(func() {
		if err := flush(); err != nil {
			t.Errorf("dbtest: empty Redis database %d: %v", number, err)
		}
		unlock := redis.NewClient(options)
		defer unlock.Close()
		if current, _ := unlock.Get(context.Background(), lockKey(number)).Result(); current == token {
			unlock.Del(context.Background(), lockKey(number))
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: GATEHOUSE_TEST_REDIS: %v", err)
	}
	u.Path = "/" + strconv.Itoa(number)
	return u.String()
}

func lockKey(n int) string { return "gatehouse-test:database:" + strconv.Itoa(n) }

// unavailable skips the test, or fails it under CI, for want of a server.
func unavailable(t testing.TB, server, variable, address string, err error) {
	t.Helper()
	if u, parseErr := url.Parse(address); parseErr == nil {
		address = u.Redacted()
	}
	message := fmt.Sprintf("%s is not reachable at %s (%v). To run this test, start %s there (README: Running on PostgreSQL), or set %s to the URL of one.",
		server, address, err, server, variable)
	if os.Getenv("CI") == "true" {
		t.Fatal(message + " CI=true: failing rather than skipping.")
	}
	t.Skip(message)
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
