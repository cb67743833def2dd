package models

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
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

	sync syncPoints // see beforeSnapshot
}

// syncPoints are the notifications a listener sends itself so that a
// snapshot sees every change committed before it was taken.
//
// PostgreSQL delivers notifications in the order their transactions
// committed. A write acknowledged by another instance committed before this
// instance's request arrived; a notification this instance sends after that
// comes back after the write's own. So a snapshot waits for the echo of a
// sync point sent after it began. Requests arriving while one is on its way
// share the next one: one is on its way at a time.
type syncPoints struct {
	id     string                                          // this listener's, in the payloads
	notify func(ctx context.Context, payload string) error // sends a notification on cacheChannel

	mu       sync.Mutex
	seq      uint64
	inFlight *syncPoint // sent, its echo awaited
	queued   *syncPoint // to send when inFlight comes back
}

// syncPoint is one notification sent to oneself; done closes when it comes
// back, or failed it.
type syncPoint struct {
	seq    uint64
	done   chan struct{}
	failed bool
}

// syncPrefix starts the payload of a sync point; the rest is the listener's
// id, a colon and the point's number.
const syncPrefix = "sync:"

// syncTimeout bounds the wait for a sync point: past it the snapshot treats
// every table as changed, which is always correct.
const syncTimeout = 2 * time.Second

// listen connects and listens, then keeps listening in the background until
// Close, connecting again whenever the connection is lost.
func listen(ctx context.Context, c *Cache, config *pgx.ConnConfig, schema string, notify func(context.Context, string) error) (changeWatcher, error) {
	config = config.Copy()
	if config.RuntimeParams["application_name"] == "" {
		config.RuntimeParams["application_name"] = "gatehouse cache listener"
	}
	l := &listener{cache: c, config: config, prefix: schema + ".", done: make(chan struct{})}
	l.sync.id, l.sync.notify = rand.Text(), notify
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

// beforeSnapshot waits until every change committed before it began has
// been announced: a write acknowledged on another instance is seen on this
// one's very next request. A distrusted cache needs no wait (snapshots
// miss); a sync point that fails or takes too long changes every table.
func (l *listener) beforeSnapshot(ctx context.Context) error {
	if l.cache.distrusted.Load() {
		return nil
	}
	p := l.sync.join(ctx)
	timer := time.NewTimer(syncTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		if p.failed {
			l.cache.changed(AllTables)
		}
		return nil
	case <-timer.C:
		l.cache.changed(AllTables)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// join returns a sync point sent after it was called: the queued one, or a
// new one, sent at once if none is on its way.
func (s *syncPoints) join(ctx context.Context) *syncPoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued == nil {
		s.seq++
		s.queued = &syncPoint{seq: s.seq, done: make(chan struct{})}
	}
	p := s.queued
	if s.inFlight == nil {
		s.sendQueued(context.WithoutCancel(ctx))
	}
	return p
}

// sendQueued sends the queued point; s.mu is held.
func (s *syncPoints) sendQueued(ctx context.Context) {
	p := s.queued
	s.inFlight, s.queued = p, nil
	go func() {
		ctx, cancel := context.WithTimeout(ctx, syncTimeout)
		defer cancel()
		if err := s.notify(ctx, syncPrefix+s.id+":"+strconv.FormatUint(p.seq, 10)); err != nil {
			s.finish(p.seq, true)
		}
	}()
}

// finish ends the point on its way if it is number seq, and sends the
// queued one.
func (s *syncPoints) finish(seq uint64, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.inFlight
	if p == nil || p.seq != seq {
		return
	}
	p.failed = failed
	close(p.done)
	s.inFlight = nil
	if s.queued != nil {
		s.sendQueued(context.Background())
	}
}

// failAll ends every point on its way or queued, as failed: the connection
// they would come back on is gone.
func (s *syncPoints) failAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range []*syncPoint{s.inFlight, s.queued} {
		if p != nil {
			p.failed = true
			close(p.done)
		}
	}
	s.inFlight, s.queued = nil, nil
}

// echo handles a notification's payload if it is a sync point of this
// listener's, and says whether it was one of anyone's.
func (s *syncPoints) echo(payload string) bool {
	rest, isSync := strings.CutPrefix(payload, syncPrefix)
	if !isSync {
		return false
	}
	if number, mine := strings.CutPrefix(rest, s.id+":"); mine {
		if seq, err := strconv.ParseUint(number, 10, 64); err == nil {
			s.finish(seq, false)
		}
	}
	return true
}

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
		l.sync.failAll()
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
			case l.sync.echo(notification.Payload):
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
