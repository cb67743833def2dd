package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// TrustedBrowserAge is how long a browser trusted at the second step skips it.
const TrustedBrowserAge = 30 * 24 * time.Hour

// TrustedBrowser is a browser in which a user's second step is skipped: the
// cookie holds its token, the record what it stands for.
type TrustedBrowser struct {
	bun.BaseModel `bun:"table:trusted_browsers,alias:tb"`

	ID          int64     `bun:"id,pk,autoincrement"`
	UserID      int64     `bun:"user_id,notnull"`
	TokenHash   string    `bun:"token_hash,notnull"`
	Fingerprint string    `bun:"fingerprint,notnull"`
	UserAgent   string    `bun:"user_agent,notnull"`
	IP          string    `bun:"ip,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	ExpiresAt   time.Time `bun:"expires_at,notnull"`
	LastUsedAt  time.Time `bun:"last_used_at,nullzero"`
}

func hashBrowserToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TrustBrowser records a browser the user trusts until now +
// TrustedBrowserAge, for the account as fingerprint says it is; it returns
// the token for the browser's cookie.
func TrustBrowser(ctx context.Context, db bun.IDB, userID int64, fingerprint, userAgent, ip string, now time.Time) (string, error) {
	token := rand.Text()
	b := &TrustedBrowser{UserID: userID, TokenHash: hashBrowserToken(token), Fingerprint: fingerprint,
		UserAgent: storableText(userAgent, eventTextMaxLength), IP: ip, CreatedAt: now.UTC(), ExpiresAt: now.Add(TrustedBrowserAge).UTC()}
	if _, err := db.NewInsert().Model(b).Exec(ctx); err != nil {
		return "", fmt.Errorf("models: unable to trust a browser of user #%d: %w", userID, err)
	}
	return token, nil
}

// BrowserTrusted reports whether token is a live trust of the user's,
// made while the account was as fingerprint says it is now; a stale or
// expired record is deleted, a live one noted as used.
func BrowserTrusted(ctx context.Context, db bun.IDB, userID int64, token, fingerprint string, now time.Time) (bool, error) {
	if token == "" {
		return false, nil
	}
	b := new(TrustedBrowser)
	err := db.NewSelect().Model(b).Where("token_hash = ?", hashBrowserToken(token)).Where("user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("models: unable to read a trusted browser: %w", err)
	}
	if b.Fingerprint != fingerprint || !now.Before(b.ExpiresAt) {
		_, err := db.NewDelete().Model(b).WherePK().Exec(ctx)
		return false, err
	}
	_, err = db.NewUpdate().Model(b).Set("last_used_at = ?", now.UTC()).WherePK().Exec(ctx)
	return err == nil, err
}

// TrustedBrowsers returns the user's trusted browsers that are still live
// for the account as fingerprint says it is, newest first.
func TrustedBrowsers(ctx context.Context, db bun.IDB, userID int64, fingerprint string, now time.Time) ([]TrustedBrowser, error) {
	var browsers []TrustedBrowser
	err := db.NewSelect().Model(&browsers).Where("user_id = ?", userID).Where("fingerprint = ?", fingerprint).
		Where("expires_at > ?", now.UTC()).OrderExpr("created_at DESC, id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list the trusted browsers of user #%d: %w", userID, err)
	}
	return browsers, nil
}

// StopTrusting forgets one of the user's trusted browsers (id), or all of
// them (id 0).
func StopTrusting(ctx context.Context, db bun.IDB, userID, id int64) error {
	q := db.NewDelete().Model((*TrustedBrowser)(nil)).Where("user_id = ?", userID)
	if id != 0 {
		q = q.Where("id = ?", id)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to stop trusting browsers of user #%d: %w", userID, err)
	}
	return nil
}
