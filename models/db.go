// Package models holds Gatehouse's Bun models and the queries on them.
package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/storage/postgres/v3"
	"github.com/gofiber/storage/redis/v3"
	"github.com/gofiber/storage/sqlite3/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver, shared with the session storage
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/migrate"

	"gatehouse/models/migrations"
)

// SessionDataTable is the table in which Fiber's session storage keeps session payloads.
const SessionDataTable = "session_data"

// sessionGCInterval is how often the session storage deletes expired payloads.
const sessionGCInterval = time.Minute

// SessionStorage keeps the payloads of Fiber's sessions: it has the methods
// of fiber.Storage, which Fiber's session middleware takes.
type SessionStorage interface {
	Get(key string) ([]byte, error)
	Set(key string, val []byte, exp time.Duration) error
	Delete(key string) error
	Reset() error
	Close() error
}

// Store is an open database, with the storage of session payloads that goes
// with it. Open chooses both; nothing else needs to know which engine it is.
type Store struct {
	// DB is the database: SQLite or PostgreSQL.
	DB *bun.DB
	// Sessions is the storage for Fiber's session middleware: the
	// database's SessionDataTable, or Redis. The functions that end
	// sessions take it too, to delete payloads wherever they live.
	Sessions SessionStorage

	// newWatcher starts what tells a Cache of the writes its query hook
	// cannot see: those of other processes, or other app instances.
	newWatcher func(ctx context.Context, c *Cache) (changeWatcher, error)
	close      func() error
}

// Close closes the session storage and the database.
func (s *Store) Close() error { return s.close() }

// Option is a choice Open takes besides the database.
type Option func(*options)

type options struct {
	sessionStore string
	timeout      time.Duration
	logger       *slog.Logger
}

// StoreTimeout is how long a request's work with the stores may take by
// default (Open's WithTimeout, the handlers' deadline): past it, the store
// counts as unavailable and the request answers 503.
const StoreTimeout = 10 * time.Second

// WithTimeout bounds each connection attempt and each call on the session
// storage (which Fiber gives no context) to d, StoreTimeout if zero.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithLogger sends what the Redis client reports (a failed dial, a broken
// connection) to logger as structured lines, instead of raw lines on stderr.
func WithLogger(logger *slog.Logger) Option {
	return func(o *options) { o.logger = logger }
}

// WithSessionStore keeps session payloads in the Redis at url
// (redis://host:port/db, or rediss:// for TLS) instead of the database. The
// index of sessions stays in the database. An empty url changes nothing.
func WithSessionStore(url string) Option {
	return func(o *options) { o.sessionStore = url }
}

// isPostgres reports whether url names a PostgreSQL database rather than a
// SQLite file.
func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// LocalDir is the folder holding the database at url if it is a file on
// this machine (SQLite), or "" if it is a server's.
func LocalDir(url string) string {
	if isPostgres(url) {
		return ""
	}
	return filepath.Dir(strings.TrimPrefix(url, "sqlite:"))
}

// Open opens the database at url and applies pending migrations. A
// postgres:// or postgresql:// URL is PostgreSQL; anything else is a SQLite
// file, given as a path or as sqlite:path, created if needed. Session
// payloads go in the database unless an option says otherwise.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{timeout: StoreTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if isPostgres(url) {
		return openPostgres(ctx, url, o)
	}
	return openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"), o)
}

// openSQLite opens (creating if needed) the SQLite database at path, in WAL
// mode with a busy timeout and foreign keys on.
func openSQLite(ctx context.Context, path string, o options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("models: unable to create %s: %w", dir, err)
		}
	}
	// _txlock=immediate takes the write lock at BEGIN, so a transaction waits
	// on the busy timeout instead of failing when it later upgrades to write.
	// Each connection keeps a page cache of 1 MiB (_cache_size, in KiB when
	// negative): hot reads are served by models.Cache, not by SQLite.
	dsn := path + "?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_cache_size=-1024"
	sqldb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open %s: %w", path, err)
	}
	// SQLite has one writer at a time and reads are mostly cached: a few
	// connections serve, and each holds its own page cache in memory.
	sqldb.SetMaxOpenConns(4)
	sqldb.SetMaxIdleConns(4)
	sqldb.SetConnMaxLifetime(0)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	store := &Store{DB: db, newWatcher: func(ctx context.Context, c *Cache) (changeWatcher, error) {
		return watchDataVersion(ctx, db, c)
	}}
	// The storage leaves the database open when it closes.
	err = store.openSessions(o, db.Close, func() contextStorage {
		return sqlite3.NewFromConnection(db.DB, sqlite3.Config{Table: SessionDataTable, GCInterval: sessionGCInterval})
	})
	if err != nil {
		return nil, err
	}
	return store, nil
}

// openPostgres opens the PostgreSQL database at url. Bun and the session
// storage share one pool of connections; a Cache takes one more of its own.
func openPostgres(ctx context.Context, url string, o options) (*Store, error) {
	config, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the database URL: %w", err)
	}
	// Bun writes every value into the SQL text, so nearly every statement is
	// new: preparing and caching each would cost a round trip and memory for
	// nothing. The simple protocol sends it as it is, in one round trip.
	config.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	// Sized for a 2-core machine running the app and PostgreSQL side by
	// side: a few busy connections keep both cores working, and more would
	// only queue inside PostgreSQL. Each instance takes this many at most;
	// the URL's pool_max_conns overrides it.
	if !strings.Contains(url, "pool_max_conns=") {
		config.MaxConns = 8
	}
	config.MaxConnIdleTime = 5 * time.Minute
	config.MaxConnLifetime = time.Hour
	// A server that does not answer a connection, or stops acknowledging
	// what is sent on one (a partition), fails it within the timeout
	// instead of the kernel's minutes; the request's deadline covers a
	// server that acknowledges but stays silent.
	if config.ConnConfig.ConnectTimeout == 0 {
		config.ConnConfig.ConnectTimeout = o.timeout
	}
	config.ConnConfig.DialFunc = dialer(o.timeout).DialContext
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open the database: %w", err)
	}
	db := bun.NewDB(stdlib.OpenDBFromPool(pool), pgdialect.New())
	// Closing db leaves the pool open: it closes last.
	closeDB := func() error {
		err := db.Close()
		pool.Close()
		return err
	}
	if err := Migrate(ctx, db); err != nil {
		closeDB()
		return nil, err
	}
	// The storage looks for its table in the schema its name gives, or else
	// in public: name the schema the migrations created it in.
	var schema string
	if err := db.NewRaw("SELECT current_schema()").Scan(ctx, &schema); err != nil {
		closeDB()
		return nil, fmt.Errorf("models: unable to read the current schema: %w", err)
	}
	if !plainIdentifier.MatchString(schema) {
		closeDB()
		return nil, fmt.Errorf("models: schema %q: use a name of lower-case letters, digits and _", schema)
	}
	listenConfig := config.ConnConfig.Copy()
	store := &Store{DB: db, newWatcher: func(ctx context.Context, c *Cache) (changeWatcher, error) {
		return listen(ctx, c, listenConfig, schema, func(ctx context.Context, payload string) error {
			_, err := pool.Exec(ctx, "SELECT pg_notify($1, $2)", cacheChannel, payload)
			return err
		})
	}}
	// The storage closes the pool when it closes; closing it again does nothing.
	err = store.openSessions(o, closeDB, func() contextStorage {
		table := schema + "." + SessionDataTable
		return pgSessions{postgres.New(postgres.Config{DB: pool, Table: table, GCInterval: sessionGCInterval}), pool, table}
	})
	if err != nil {
		return nil, err
	}
	return store, nil
}

// plainIdentifier matches a PostgreSQL name that needs no quotes.
var plainIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// openSessions sets the store's session storage: Redis if the options name
// one, else the database's own, which inDB opens. closeDB closes the database
// alone; on failure it is called here.
func (s *Store) openSessions(o options, closeDB func() error, inDB func() contextStorage) error {
	if o.sessionStore != "" {
		sessions, err := openRedis(o)
		if err != nil {
			closeDB()
			return err
		}
		s.Sessions = timedSessions{redisSessions{sessions}, o.timeout}
		s.close = func() error { return errors.Join(closeDB(), sessions.Close()) }
		return nil
	}
	var storage contextStorage
	if err := catchPanic("open the session storage", func() { storage = inDB() }); err != nil {
		closeDB()
		return err
	}
	s.Sessions = timedSessions{storage, o.timeout}
	s.close = func() error { return errors.Join(storage.Close(), closeDB()) }
	return nil
}

// openRedis connects to the Redis at o.sessionStore for the session storage.
func openRedis(o options) (*redis.Storage, error) {
	options, err := goredis.ParseURL(o.sessionStore)
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the session store URL: %w", err)
	}
	if o.logger != nil {
		// The client's one logger is global: the last store opened names it.
		goredis.SetLogger(redisLogger{o.logger})
	}
	// A Redis that is down or silent fails a call within the timeout, and
	// a call's context (its deadline) is kept to as well.
	options.DialTimeout = o.timeout
	options.ReadTimeout = o.timeout
	options.WriteTimeout = o.timeout
	options.PoolTimeout = o.timeout
	options.ContextTimeoutEnabled = true
	// Maintenance notifications are for Redis clusters that move shards; a
	// Redis 7 server refuses to be asked, and each refusal would be logged.
	options.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	client := goredis.NewClient(options)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("models: unable to reach the session store: %w", err)
	}
	return redis.NewFromConnection(client), nil
}

// redisSessions keeps session payloads in Redis, outside the database: the
// functions that end sessions delete them there as well.
type redisSessions struct{ *redis.Storage }

// deleteOutside deletes the payloads of keys from sessions unless they live
// in the database, where the caller's SQL deletes them in its transaction.
func deleteOutside(ctx context.Context, sessions SessionStorage, keys []string) error {
	if timed, ok := sessions.(timedSessions); ok {
		sessions = timed.contextStorage
	}
	external, ok := sessions.(redisSessions)
	keys = slices.DeleteFunc(keys, func(key string) bool { return key == "" })
	if !ok || len(keys) == 0 {
		return nil
	}
	if err := external.Conn().Del(ctx, keys...).Err(); err != nil {
		return sessionError("delete", err)
	}
	return nil
}

// catchPanic runs open, turning a panic (the session storages panic when
// they cannot connect) into an error.
func catchPanic(what string, open func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("models: unable to %s: %v", what, r)
		}
	}()
	open()
	return nil
}

// Migrate applies every migration that has not run yet. On PostgreSQL an
// advisory lock makes instances that start together migrate one at a time.
func Migrate(ctx context.Context, db *bun.DB) error {
	dialect := migrations.SQLite
	if db.Dialect().Name().String() == "pg" {
		dialect = migrations.PostgreSQL
		conn, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("models: unable to prepare migrations: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('gatehouse migrate'))"); err != nil {
			return fmt.Errorf("models: unable to lock migrations: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('gatehouse migrate'))")
	}
	migrator := migrate.NewMigrator(db, migrations.All, migrate.WithMarkAppliedOnSuccess(true), migrate.WithTemplateData(dialect))
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
