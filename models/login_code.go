package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Sign-in codes by mail: a code stands for the password (one factor).
const (
	// LoginCodeTimeout is how long a mailed sign-in code works.
	LoginCodeTimeout = 5 * time.Minute
	// LoginCodeTries is how many wrong tries void a code.
	LoginCodeTries = 3
	// loginCodeLength is a code's characters: 8 of 31 give 2^39 codes.
	loginCodeLength = 8
	// loginCodeAlphabet has no 0/O, 1/I/L, which readers confuse.
	loginCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
)

// loginCode is a user's live sign-in code.
type loginCode struct {
	bun.BaseModel `bun:"table:login_codes"`

	UserID    int64     `bun:"user_id,pk"`
	CodeHash  string    `bun:"code_hash,notnull"`
	Tries     int       `bun:"tries,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
}

// hashLoginCode is what is stored of a code: a database reader gets no
// live code from it (within its five minutes, it could be brute-forced:
// the code is short so that people can type it).
func hashLoginCode(userID int64, code string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d:%s", userID, code))
	return hex.EncodeToString(sum[:])
}

// NewLoginCode makes a sign-in code for the user, replacing any live one,
// valid until now + LoginCodeTimeout.
func NewLoginCode(ctx context.Context, db bun.IDB, userID int64, now time.Time) (string, error) {
	random := make([]byte, loginCodeLength)
	rand.Read(random)
	code := make([]byte, loginCodeLength)
	for i, b := range random {
		code[i] = loginCodeAlphabet[int(b)%len(loginCodeAlphabet)] // 256 % 31 = 8: a bias of at most 1/32
	}
	row := &loginCode{UserID: userID, CodeHash: hashLoginCode(userID, string(code)), ExpiresAt: now.Add(LoginCodeTimeout).UTC()}
	_, err := db.NewInsert().Model(row).On("CONFLICT (user_id) DO UPDATE").
		Set("code_hash = EXCLUDED.code_hash, tries = 0, expires_at = EXCLUDED.expires_at").Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("models: unable to store a sign-in code for user #%d: %w", userID, err)
	}
	return string(code), nil
}

// NormalizeLoginCode reads a code as typed: any letter case, spaces and
// dashes ignored.
func NormalizeLoginCode(typed string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(typed)))
}

// ErrLoginCodeWrong is a sign-in code that is not the user's live one: wrong,
// expired, used, or voided by wrong tries.
var ErrLoginCodeWrong = errors.New("models: sign-in code wrong or expired")

// UseLoginCode checks code against the user's live one and, if it matches,
// uses it up. A wrong code counts a try; the last try voids the code.
func UseLoginCode(ctx context.Context, db *bun.DB, userID int64, code string, now time.Time) error {
	used := false
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row := new(loginCode)
		q := tx.NewSelect().Model(row).Where("user_id = ?", userID)
		if tx.Dialect().Name() == dialect.PG {
			q = q.For("UPDATE") // two tries at once count twice
		}
		err := q.Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("models: unable to read the sign-in code of user #%d: %w", userID, err)
		}
		right := subtle.ConstantTimeCompare([]byte(row.CodeHash), []byte(hashLoginCode(userID, NormalizeLoginCode(code)))) == 1
		if right && now.Before(row.ExpiresAt) {
			if _, err := tx.NewDelete().Model(row).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("models: unable to use the sign-in code of user #%d: %w", userID, err)
			}
			used = true
			return nil
		}
		if row.Tries+1 >= LoginCodeTries || !now.Before(row.ExpiresAt) {
			_, err = tx.NewDelete().Model(row).WherePK().Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(row).Set("tries = tries + 1").WherePK().Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("models: unable to count a wrong sign-in code of user #%d: %w", userID, err)
		}
		return nil // the try is counted, and kept
	})
	if err == nil && !used {
		err = ErrLoginCodeWrong
	}
	return err
}
