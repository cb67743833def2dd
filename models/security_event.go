package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// SecurityEvent is one entry in the security log: a login, a failed or
// refused one, or a change to an account.
type SecurityEvent struct {
	bun.BaseModel `bun:"table:security_events,alias:e"`

	ID        int64     `bun:"id,pk,autoincrement"`
	UserID    int64     `bun:"user_id,nullzero"` // 0 (NULL) when no account has Username
	Username  string    `bun:"username,notnull"`
	Kind      string    `bun:"kind,notnull"`
	IP        string    `bun:"ip,notnull"`
	UserAgent string    `bun:"user_agent,notnull"`
	Detail    string    `bun:"detail,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`

	User *User `bun:"rel:belongs-to,join:user_id=id"`
}

// Kinds of security events. The log stores the kind; the views say it in
// words, in the reader's language.
const (
	EventLogin           = "login"
	EventLoginFailed     = "login_failed"
	EventThrottled       = "throttled"
	EventLogout          = "logout"
	EventPasswordChanged = "password_changed"
	EventEmailChanged    = "email_changed"
	EventSessionRevoked  = "session_revoked"
	EventProfileChanged  = "profile_changed"
	EventSignup          = "signup"
	EventImported        = "imported" // brought from a Django site by gatehouse importdjango
	// Two-factor authentication.
	EventTwoFactorEnabled     = "two_factor_enabled"
	EventTwoFactorDisabled    = "two_factor_disabled"
	EventTwoFactorFailed      = "two_factor_failed"
	EventRecoveryCodeUsed     = "recovery_code_used"
	EventRecoveryCodesRenewed = "recovery_codes_renewed"
	EventPasskeyAdded         = "passkey_added"
	EventPasskeyRemoved       = "passkey_removed"
	// Accounts at other sites that log the user in.
	EventSocialConnected    = "social_connected"
	EventSocialDisconnected = "social_disconnected"
)

// SecurityLogRetention is how long security events are kept.
const SecurityLogRetention = 90 * 24 * time.Hour

// eventTextMaxLength bounds, in characters, each text field of an event: the
// username and user agent are whatever a client sent.
const eventTextMaxLength = 512

// EventFilter narrows a listing of security events; a zero field matches any.
type EventFilter struct {
	UserID int64
	Kind   string
	Since  time.Time
}

func (f EventFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.UserID != 0 {
		q = q.Where("e.user_id = ?", f.UserID)
	}
	if f.Kind != "" {
		q = q.Where("e.kind = ?", f.Kind)
	}
	if !f.Since.IsZero() {
		q = q.Where("e.created_at >= ?", f.Since.UTC())
	}
	return q
}

// RecordEvent adds e to the security log, filling in its id and, if zero, its
// time. Its text is cut to a bounded length and made storable first.
func RecordEvent(ctx context.Context, db bun.IDB, e *SecurityEvent) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	for _, text := range []*string{&e.Username, &e.IP, &e.UserAgent, &e.Detail} {
		*text = storableText(*text, eventTextMaxLength)
	}
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to record %s event of user #%d: %w", e.Kind, e.UserID, err)
	}
	return nil
}

// storableText returns s as valid UTF-8 without NUL, which Bun and PostgreSQL
// refuse in text, cut to at most maxChars characters.
func storableText(s string, maxChars int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
	for i := range s {
		if maxChars == 0 {
			return s[:i]
		}
		maxChars--
	}
	return s
}

// UserEvents returns up to limit of the user's events, newest first, skipping offset.
func UserEvents(ctx context.Context, db bun.IDB, userID int64, offset, limit int) ([]SecurityEvent, error) {
	var events []SecurityEvent
	err := db.NewSelect().Model(&events).Where("e.user_id = ?", userID).
		OrderExpr("e.created_at DESC, e.id DESC").Offset(int64(offset)).Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list events of user #%d: %w", userID, err)
	}
	return events, nil
}

// CountUserEvents counts the user's events.
func CountUserEvents(ctx context.Context, db bun.IDB, userID int64) (int, error) {
	n, err := db.NewSelect().Model((*SecurityEvent)(nil)).Where("e.user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count events of user #%d: %w", userID, err)
	}
	return int(n), nil
}

// Events returns up to limit events that match filter, newest first, skipping
// offset, each with the id and username of its user if it has one.
func Events(ctx context.Context, db bun.IDB, filter EventFilter, offset, limit int) ([]SecurityEvent, error) {
	var events []SecurityEvent
	q := db.NewSelect().Model(&events).Relation("User", withUsername)
	err := filter.apply(q).OrderExpr("e.created_at DESC, e.id DESC").Offset(int64(offset)).Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list events: %w", err)
	}
	return events, nil
}

// CountEvents counts the events that match filter.
func CountEvents(ctx context.Context, db bun.IDB, filter EventFilter) (int, error) {
	n, err := filter.apply(db.NewSelect().Model((*SecurityEvent)(nil))).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count events: %w", err)
	}
	return int(n), nil
}

// DeleteEventsBefore deletes the events older than before; callers pass
// now minus SecurityLogRetention.
func DeleteEventsBefore(ctx context.Context, db bun.IDB, before time.Time) error {
	_, err := db.NewDelete().Model((*SecurityEvent)(nil)).Where("created_at < ?", before.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to delete events before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return nil
}
