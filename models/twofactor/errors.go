package twofactor

import (
	"database/sql"
	"errors"
	"fmt"
)

// notFound turns sql.ErrNoRows into sentinel and wraps other errors.
func notFound(err, sentinel error, what string, userID int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return sentinel
	}
	return fmt.Errorf("twofactor: unable to read %s #%d: %w", what, userID, err)
}
