package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/storage/postgres/v3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// contextStorage is a session storage whose calls take a context.
type contextStorage interface {
	SessionStorage
	GetWithContext(ctx context.Context, key string) ([]byte, error)
	SetWithContext(ctx context.Context, key string, val []byte, exp time.Duration) error
	DeleteWithContext(ctx context.Context, key string) error
}

// timedSessions gives each call on the session storage a deadline: Fiber's
// session middleware passes no context, and a silent store must not hold
// a request (nor pile up connections) past it.
type timedSessions struct {
	contextStorage
	timeout time.Duration
}

func (s timedSessions) Get(key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	val, err := s.GetWithContext(ctx, key)
	return val, sessionError("read", err)
}

func (s timedSessions) Set(key string, val []byte, exp time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return sessionError("write", s.SetWithContext(ctx, key, val, exp))
}

func (s timedSessions) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return sessionError("delete", s.DeleteWithContext(ctx, key))
}

// sessionError marks a failure of the session storage to answer as
// ErrUnavailable: besides what Unavailable knows, a connection the Redis
// client finds cut says only io.EOF.
func sessionError(what string, err error) error {
	if err == nil {
		return nil
	}
	if Unavailable(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("models: unable to %s a session: %w: %w", what, ErrUnavailable, err)
	}
	return fmt.Errorf("models: unable to %s a session: %w", what, err)
}

// pgSessions is Fiber's PostgreSQL session storage with the context its
// calls lack, through the same pool and table (its collector of expired
// rows stays).
type pgSessions struct {
	*postgres.Storage
	pool  *pgxpool.Pool
	table string
}

func (s pgSessions) GetWithContext(ctx context.Context, key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	var val []byte
	var expires int64
	err := s.pool.QueryRow(ctx, "SELECT v, e FROM "+s.table+" WHERE k = $1", key).Scan(&val, &expires)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && expires != 0 && expires <= time.Now().Unix()) {
		return nil, nil
	}
	return val, err
}

func (s pgSessions) SetWithContext(ctx context.Context, key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	var expires int64
	if exp != 0 {
		expires = time.Now().Add(exp).Unix()
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO "+s.table+" (k, v, e) VALUES ($1, $2, $3) ON CONFLICT (k) DO UPDATE SET v = $2, e = $3", key, val, expires)
	return err
}

func (s pgSessions) DeleteWithContext(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	_, err := s.pool.Exec(ctx, "DELETE FROM "+s.table+" WHERE k = $1", key)
	return err
}

// redisLogger writes the Redis client's reports as structured warnings.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, args ...any) {
	l.log.WarnContext(ctx, "redis client", "message", strings.TrimPrefix(fmt.Sprintf(format, args...), "redis: "))
}

// dialer opens the database's connections: within timeout, with TCP
// keepalives, and (where the system has it) a connection whose sent data
// stays unacknowledged for timeout fails, as a partitioned server's would.
func dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout:         timeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3},
		Control:         userTimeout(timeout),
	}
}

// PingSessions reports whether the session storage answers within ctx.
func PingSessions(ctx context.Context, sessions SessionStorage) error {
	timed, ok := sessions.(timedSessions)
	if !ok {
		_, err := sessions.Get("healthz")
		return err
	}
	_, err := timed.GetWithContext(ctx, "healthz")
	return sessionError("read", err)
}
