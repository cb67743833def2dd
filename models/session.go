package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Session indexes one live login. Its payload lives in SessionDataTable under
// the same key; this row is what lets a user's sessions be listed and ended.
type Session struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	Key        string    `bun:"key,pk"`
	UserID     int64     `bun:"user_id,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastSeenAt time.Time `bun:"last_seen_at,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
	IP         string    `bun:"ip,notnull"`
	UserAgent  string    `bun:"user_agent,notnull"`

	User *User `bun:"rel:belongs-to,join:user_id=id"`
}

// createSession records a new login.
func createSession(ctx context.Context, db bun.IDB, s *Session) error {
	if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to create session for user #%d: %w", s.UserID, err)
	}
	return nil
}

// RecordLogin indexes a new login and sets the user's last_login, together.
func RecordLogin(ctx context.Context, db bun.IDB, s *Session) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := createSession(ctx, tx, s); err != nil {
			return err
		}
		return setLastLogin(ctx, tx, s.UserID, s.CreatedAt)
	})
}

// SessionWithUser loads the live session with this key and its user, in one query.
func SessionWithUser(ctx context.Context, db bun.IDB, key string, now time.Time) (*Session, error) {
	s := new(Session)
	err := db.NewSelect().Model(s).Relation("User").
		Where("s.key = ?", key).Where("s.expires_at > ?", now.UTC()).Scan(ctx)
	return s, notFound(err, "session")
}

// TouchSession records that the session was just used.
func TouchSession(ctx context.Context, db bun.IDB, key string, now time.Time) error {
	// The cache lets this write pass (see Cache): nothing it keeps depends on
	// last_seen_at but the session, which loadUser keeps up to date.
	ctx = context.WithValue(ctx, touchContextKey{}, true)
	_, err := db.NewUpdate().Model((*Session)(nil)).Set("last_seen_at = ?", now.UTC()).Where("key = ?", key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session: its index row and its payload, in
// sessions (the store's session storage) wherever that keeps it.
func DeleteSession(ctx context.Context, db bun.IDB, sessions SessionStorage, key string) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return deleteSession(ctx, tx, sessions, key)
	})
}

func deleteSession(ctx context.Context, tx bun.Tx, sessions SessionStorage, key string) error {
	if _, err := tx.NewDelete().Table(SessionDataTable).Where("k = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to delete session data: %w", err)
	}
	if _, err := tx.NewDelete().Model((*Session)(nil)).Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to delete session: %w", err)
	}
	return deleteOutside(ctx, sessions, []string{key})
}

// UserSessions lists the user's live sessions, most recently seen first.
func UserSessions(ctx context.Context, db bun.IDB, userID int64, now time.Time) ([]Session, error) {
	var sessions []Session
	err := db.NewSelect().Model(&sessions).
		Where("s.user_id = ?", userID).Where("s.expires_at > ?", now.UTC()).
		OrderExpr("s.last_seen_at DESC, s.created_at DESC, s.key").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list sessions of user #%d: %w", userID, err)
	}
	return sessions, nil
}

// EndUserSession ends the session with key, its index row and its payload, if
// it belongs to the user; otherwise it gives ErrNotFound and ends nothing, so
// that a user cannot end someone else's session by guessing its key.
func EndUserSession(ctx context.Context, db bun.IDB, sessions SessionStorage, userID int64, key string) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*Session)(nil)).Where("key = ?", key).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("models: unable to end a session of user #%d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.NewDelete().Table(SessionDataTable).Where("k = ?", key).Exec(ctx); err != nil {
			return fmt.Errorf("models: unable to delete session data of user #%d: %w", userID, err)
		}
		return deleteOutside(ctx, sessions, []string{key})
	})
}

// EndOtherSessions ends every session of the user but the one with keepKey
// and returns how many live ones it ended. Payloads go from the database in
// the same transaction; those in Redis are deleted before it commits, so
// whatever becomes of it, no ended session keeps its payload.
func EndOtherSessions(ctx context.Context, db bun.IDB, sessions SessionStorage, userID int64, keepKey string) (int, error) {
	var ended int
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ended, err = endOtherSessions(ctx, tx, sessions, userID, keepKey)
		return err
	})
	return ended, err
}

// endOtherSessions ends every session of the user except the one with keepKey
// and forgets the browsers they trusted,
// expired ones too, and returns how many were live: the only ones the user
// was ever shown.
func endOtherSessions(ctx context.Context, tx bun.IDB, sessions SessionStorage, userID int64, keepKey string) (int, error) {
	if err := deleteSessionData(ctx, tx, userID, keepKey); err != nil {
		return 0, err
	}
	// Whoever ends a user's sessions (a new password, "log out everywhere",
	// the admin) means to shut other browsers out: those the user trusted
	// to skip the second step too.
	if err := StopTrusting(ctx, tx, userID, 0); err != nil {
		return 0, err
	}
	var ended []Session
	err := tx.NewDelete().Model((*Session)(nil)).Where("user_id = ?", userID).Where("key <> ?", keepKey).
		Returning("key, expires_at").Scan(ctx, &ended)
	if err != nil {
		return 0, fmt.Errorf("models: unable to end sessions of user #%d: %w", userID, err)
	}
	now := time.Now()
	live := 0
	keys := make([]string, len(ended))
	for i, s := range ended {
		keys[i] = s.Key
		if s.ExpiresAt.After(now) {
			live++
		}
	}
	return live, deleteOutside(ctx, sessions, keys)
}

// DeleteExpiredSessions removes index rows whose sessions have expired; the
// session storage collects their payloads on its own.
func DeleteExpiredSessions(ctx context.Context, db bun.IDB, now time.Time) error {
	_, err := db.NewDelete().Model((*Session)(nil)).Where("expires_at <= ?", now.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to delete expired sessions: %w", err)
	}
	return nil
}

// deleteSessionData removes from the database the payloads of the user's
// sessions, but for keepKey.
func deleteSessionData(ctx context.Context, tx bun.IDB, userID int64, keepKey string) error {
	keys := tx.NewSelect().Model((*Session)(nil)).Column("key").Where("user_id = ?", userID).Where("key <> ?", keepKey)
	if _, err := tx.NewDelete().Table(SessionDataTable).Where("k IN (?)", keys).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to delete session data of user #%d: %w", userID, err)
	}
	return nil
}
