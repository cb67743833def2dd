package models_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/faultproxy"
)

// lockedBuffer is a log destination that the Redis client's goroutines
// and the test may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A Redis that is down fails the session storage's calls as ErrUnavailable
// within the timeout, and what its client reports goes to the store's
// structured log, not to stderr.
func TestRedisOutageIsLoggedAndUnavailable(t *testing.T) {
	redisURL := dbtest.Redis(t)
	proxy := faultproxy.New(t, "")
	var logged lockedBuffer
	store, err := models.Open(context.Background(), dbtest.SQLite(t), models.WithSessionStore(proxy.Front(t, redisURL)),
		models.WithTimeout(time.Second), models.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Sessions.Set("key", []byte("value"), time.Minute); err != nil {
		t.Fatal(err)
	}
	proxy.Stop()
	if _, err := store.Sessions.Get("key"); !errors.Is(err, models.ErrUnavailable) || !models.Unavailable(err) {
		t.Fatalf("Get from a stopped Redis: %v, want ErrUnavailable", err)
	}
	if err := models.PingSessions(context.Background(), store.Sessions); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("PingSessions of a stopped Redis: %v, want ErrUnavailable", err)
	}
	if !strings.Contains(logged.String(), "level=WARN msg=\"redis client\"") {
		t.Fatalf("the Redis client's report is not in the structured log:\n%s", logged.String())
	}
}
