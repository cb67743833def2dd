//go:build !linux

package models

import (
	"syscall"
	"time"
)

// userTimeout does nothing where TCP_USER_TIMEOUT is not to be had: the
// keepalives and the request's deadline remain.
func userTimeout(time.Duration) func(network, address string, conn syscall.RawConn) error {
	return nil
}
