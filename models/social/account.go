package social

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/models"

	"github.com/uptrace/bun"
)

// Account is an account at a provider, tied to a Gatehouse user.
type Account struct {
	bun.BaseModel `bun:"table:social_accounts,alias:s"`

	ID         int64     `bun:"id,pk,autoincrement"`
	UserID     int64     `bun:"user_id,notnull"`
	Provider   string    `bun:"provider,notnull"`
	Subject    string    `bun:"subject,notnull"`
	Email      string    `bun:"email,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
}

// ErrNoAccount is a provider account tied to no user.
var ErrNoAccount = errors.New("social: no account")

// AccountOf returns the account at provider with this subject.
func AccountOf(ctx context.Context, db bun.IDB, provider, subject string) (*Account, error) {
	a := new(Account)
	err := db.NewSelect().Model(a).Where("provider = ?", provider).Where("subject = ?", subject).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoAccount
	}
	if err != nil {
		return nil, fmt.Errorf("social: unable to find a %s account: %w", provider, err)
	}
	return a, nil
}

// ErrLinked is Link's answer for an account at a provider that is tied to
// a user already.
var ErrLinked = errors.New("social: that account is linked already")

// Link ties the account at provider with subject to the user.
func Link(ctx context.Context, db bun.IDB, userID int64, provider, subject, email string, now time.Time) error {
	a := &Account{UserID: userID, Provider: provider, Subject: subject, Email: email, CreatedAt: now.UTC(), LastUsedAt: now.UTC()}
	if _, err := db.NewInsert().Model(a).Exec(ctx); models.IsUniqueViolation(err) {
		return ErrLinked
	} else if err != nil {
		return fmt.Errorf("social: unable to link a %s account to user #%d: %w", provider, userID, err)
	}
	return nil
}

// Used notes a login with the account, and the address it has now.
func Used(ctx context.Context, db bun.IDB, id int64, email string, now time.Time) error {
	_, err := db.NewUpdate().Model((*Account)(nil)).Set("last_used_at = ?", now.UTC()).Set("email = ?", email).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("social: unable to note the use of account #%d: %w", id, err)
	}
	return nil
}

// Accounts returns the user's accounts at providers, oldest first.
func Accounts(ctx context.Context, db bun.IDB, userID int64) ([]Account, error) {
	var accounts []Account
	if err := db.NewSelect().Model(&accounts).Where("user_id = ?", userID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("social: unable to list the accounts of user #%d: %w", userID, err)
	}
	return accounts, nil
}

// Unlink removes the user's provider account with id; it returns the
// provider's name, or ErrNoAccount.
func Unlink(ctx context.Context, db bun.IDB, userID, id int64) (string, error) {
	var removed []Account
	err := db.NewDelete().Model((*Account)(nil)).Where("user_id = ?", userID).Where("id = ?", id).Returning("provider").Scan(ctx, &removed)
	if err != nil {
		return "", fmt.Errorf("social: unable to unlink account #%d of user #%d: %w", id, userID, err)
	}
	if len(removed) == 0 {
		return "", ErrNoAccount
	}
	return removed[0].Provider, nil
}
