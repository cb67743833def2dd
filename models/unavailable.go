package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	goredis "github.com/redis/go-redis/v9"
)

// ErrUnavailable is a store (the database, the session store) that is down,
// refuses connections or did not answer within the request's deadline: the
// request may succeed later, unchanged.
var ErrUnavailable = errors.New("models: a store is unavailable")

// Unavailable reports whether err comes from a store being down or silent
// rather than from the request or the code: the one place that reads the
// drivers' errors for it, so the error handler can answer 503.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var (
		netErr     net.Error
		connectErr *pgconn.ConnectError
		pgErr      *pgconn.PgError
		sqliteErr  sqlite3.Error
	)
	switch {
	case errors.Is(err, ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, goredis.ErrPoolTimeout),
		errors.Is(err, goredis.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr),
		errors.As(err, &connectErr),
		pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		// Connection exceptions, the server shutting down or starting up,
		// too many connections, a full disk or out of memory.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") ||
			strings.HasPrefix(pgErr.Code, "53")
	case errors.As(err, &sqliteErr):
		switch sqliteErr.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrCantOpen:
			return true
		}
	}
	// pgx reports a connection that was closed under a query in words only.
	return strings.Contains(err.Error(), "conn closed")
}
