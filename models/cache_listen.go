package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// cacheChannel is the channel on which PostgreSQL announces committed
// changes (see the cache_notify migration).
const cacheChannel = "gatehouse_cache"

const (
	// listenIdleCheck is how long the listening connection may stay silent
	// before it is pinged: a connection that died without a word (a host
	// gone, a cable pulled) is found out within this and listenPingTimeout.
	listenIdleCheck   = 5 * time.Second
	listenPingTimeout = 2 * time.Second
	// listenConnectTimeout bounds one attempt to connect; attempts that fail
	// are retried after a wait that doubles up to listenMaxRetry.
	listenConnectTimeout = 5 * time.Second
	listenFirstRetry     = 50 * time.Millisecond
	listenMaxRetry       = 2 * time.Second
)

// listener keeps a PostgreSQL connection listening on cacheChannel and
// marks a table of its cache as changed on every notification about it.
// While it is not listening the cache is distrusted.
type listener struct {
	cache  *Cache
	config *pgx.ConnConfig
	prefix string // of the payloads that concern this schema: "schema."
	stop   context.CancelFunc
	done   chan struct{}

	pid           atomic.Uint32               // the listening backend's, for tests
	holdReconnect atomic.Pointer[func() bool] // for tests: holds reconnection back while it returns true
}

// listen connects and listens, then keeps listening in the background until
// Close, connecting again whenever the connection is lost.
func listen(ctx context.Context, c *Cache, config *pgx.ConnConfig, schema string) (changeWatcher, error) {
	config = config.Copy()
	if config.RuntimeParams["application_name"] == "" {
		config.RuntimeParams["application_name"] = "gatehouse cache listener"
	}
	l := &listener{cache: c, config: config, prefix: schema + ".", done: make(chan struct{})}
	c.distrusted.Store(true)
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	l.stop = stop
	go l.run(runCtx, conn)
	return l, nil
}

// Close stops listening.
func (l *listener) Close() error {
	l.stop()
	<-l.done
	return nil
}

// beforeSnapshot has nothing to do: notifications arrive on their own.
func (l *listener) beforeSnapshot(context.Context) error { return nil }

// connect opens a connection, listens on it and trusts the cache again.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, listenConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, l.config)
	if err != nil {
		return nil, fmt.Errorf("models: unable to connect the cache's listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+cacheChannel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("models: unable to listen for changes: %w", err)
	}
	l.pid.Store(conn.PgConn().PID())
	// Changes made while nobody listened went unannounced: every table
	// changes now, which leaves behind everything stored before.
	l.cache.trust()
	return conn, nil
}

// run waits for notifications on conn until ctx ends; when the connection
// fails it distrusts the cache and connects again.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	for {
		l.serve(ctx, conn)
		l.cache.distrust()
		closeCtx, cancel := context.WithTimeout(context.Background(), listenPingTimeout)
		conn.Close(closeCtx)
		cancel()
		if conn = l.reconnect(ctx); conn == nil {
			return
		}
	}
}

// serve marks the table of every notification about this schema as
// changed (every table, for a notification with no payload, as an operator's
// NOTIFY gatehouse_cache sends), and
// returns when the connection fails or ctx ends.
func (l *listener) serve(ctx context.Context, conn *pgx.Conn) {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenIdleCheck)
		notification, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			switch table, ours := strings.CutPrefix(notification.Payload, l.prefix); {
			case notification.Payload == "":
				l.cache.changed(AllTables)
			case ours:
				l.cache.changed(tableNamed(table))
			}
		case ctx.Err() != nil:
			return
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			pingCtx, cancel := context.WithTimeout(ctx, listenPingTimeout)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return
			}
		default:
			return
		}
	}
}

// reconnect connects again, waiting longer after each failure, until it
// succeeds or ctx ends (then it returns nil).
func (l *listener) reconnect(ctx context.Context) *pgx.Conn {
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(max(2*wait, listenFirstRetry), listenMaxRetry)
		if hold := l.holdReconnect.Load(); hold != nil && (*hold)() {
			continue
		}
		if conn, err := l.connect(ctx); err == nil {
			return conn
		}
	}
}
