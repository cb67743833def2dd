// Package twofactor keeps users' second factors: an authenticator app's TOTP
// secret (RFC 6238), sealed at rest, whose codes each work once, and
// single-use recovery codes, stored as keyed hashes.
package twofactor

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// ErrNotEnabled is returned for a user whose two-factor authentication is off.
var ErrNotEnabled = errors.New("twofactor: not enabled")

// ErrEnabled is returned by setup steps for a user whose two-factor authentication is on.
var ErrEnabled = errors.New("twofactor: already enabled")

// Store checks and changes users' second factors, with keys derived from
// the site secret.
type Store struct {
	keys   keys
	issuer string
	hasher Hasher
}

// Hasher hashes recovery codes as passwords are (salted argon2id): a code
// of 50 bits is too short for a fast hash (ASVS 6.5.2).
type Hasher interface {
	Hash(secret string) (string, error)
	Check(secret, encoded string) (ok, upgrade bool, err error)
}

// New returns a Store whose keys come from siteSecret and that hashes
// recovery codes with hasher; issuer names the site in authenticator apps.
func New(siteSecret []byte, issuer string, hasher Hasher) (*Store, error) {
	k, err := deriveKeys(siteSecret)
	if err != nil {
		return nil, err
	}
	return &Store{keys: k, issuer: issuer, hasher: hasher}, nil
}

// record is a user's row in two_factor.
type record struct {
	bun.BaseModel `bun:"table:two_factor"`

	UserID    int64     `bun:"user_id,pk"`
	Secret    []byte    `bun:"secret,notnull"`
	LastStep  int64     `bun:"last_step,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	EnabledAt time.Time `bun:"enabled_at,nullzero"`
}

// recoveryCode is one unused recovery code of a user.
type recoveryCode struct {
	bun.BaseModel `bun:"table:recovery_codes"`

	ID        int64     `bun:"id,pk,autoincrement"`
	UserID    int64     `bun:"user_id,notnull"`
	CodeHash  []byte    `bun:"code_hash,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// sealContext binds a sealed secret to its user's row.
func sealContext(userID int64) string { return "two_factor:" + strconv.FormatInt(userID, 10) }

// Status is what the settings page shows of a user's second factors.
type Status struct {
	Enabled       bool
	EnabledAt     time.Time
	RecoveryCodes int // unused ones left
}

// StatusOf returns the user's two-factor status.
func StatusOf(ctx context.Context, db bun.IDB, userID int64) (Status, error) {
	var r record
	err := db.NewSelect().Model(&r).Where("user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.EnabledAt.IsZero()) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("twofactor: unable to read the status of user #%d: %w", userID, err)
	}
	n, err := db.NewSelect().Model((*recoveryCode)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("twofactor: unable to count the recovery codes of user #%d: %w", userID, err)
	}
	return Status{Enabled: true, EnabledAt: r.EnabledAt, RecoveryCodes: int(n)}, nil
}

// Enabled reports whether the user's two-factor authentication is on.
func Enabled(ctx context.Context, db bun.IDB, userID int64) (bool, error) {
	n, err := db.NewSelect().Model((*record)(nil)).Where("user_id = ?", userID).Where("enabled_at IS NOT NULL").Count(ctx)
	if err != nil {
		return false, fmt.Errorf("twofactor: unable to read the status of user #%d: %w", userID, err)
	}
	return n > 0, nil
}

// Disable turns the user's two-factor authentication off: the secret and the
// recovery codes are deleted. It reports whether it was on.
func Disable(ctx context.Context, db bun.IDB, userID int64) (bool, error) {
	var was bool
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*record)(nil)).Where("user_id = ?", userID).Where("enabled_at IS NOT NULL").Exec(ctx)
		if err != nil {
			return fmt.Errorf("twofactor: unable to disable for user #%d: %w", userID, err)
		}
		n, _ := res.RowsAffected()
		was = n > 0
		if _, err := tx.NewDelete().Model((*recoveryCode)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("twofactor: unable to delete the recovery codes of user #%d: %w", userID, err)
		}
		return nil
	})
	return was, err
}

// CodeCheck is what checking a second-factor code found.
type CodeCheck struct {
	// OK: the code was right, and is used up.
	OK bool
	// Recovery: it was taken for a recovery code (it does not look like an
	// authenticator's code).
	Recovery bool
	// Left is how many recovery codes are left after a right one.
	Left int
}

// CheckSecondFactor checks code as the user's authenticator code or, when
// it does not look like one, as one of their recovery codes, and uses it
// up if it is right: the one check of the login's second step and of every
// form that takes a second factor. An authenticator code for a user whose
// two-factor is off is ErrNotEnabled.
func (s *Store) CheckSecondFactor(ctx context.Context, db bun.IDB, userID int64, code string, now time.Time) (CodeCheck, error) {
	if LooksLikeTOTP(code) {
		ok, err := s.CheckCode(ctx, db, userID, code, now)
		return CodeCheck{OK: ok}, err
	}
	ok, left, err := s.UseRecoveryCode(ctx, db, userID, code)
	return CodeCheck{OK: ok, Recovery: true, Left: left}, err
}

// HasFactor reports whether the user has a second factor: TOTP turned on,
// or a passkey.
func HasFactor(ctx context.Context, db bun.IDB, userID int64) (bool, error) {
	var has bool
	err := db.NewRaw(`SELECT EXISTS (SELECT 1 FROM two_factor WHERE user_id = ? AND enabled_at IS NOT NULL)
		OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?)`, userID, userID).Scan(ctx, &has)
	if err != nil {
		return false, fmt.Errorf("twofactor: unable to read the factors of user #%d: %w", userID, err)
	}
	return has, nil
}

// Fingerprint sums up how the user logs in: the password's hash, when TOTP
// was turned on, the recovery codes left and the passkeys. Any change of
// them (a new password, two-factor off and on, a recovery code used or
// renewed, a passkey added or removed) changes it.
func Fingerprint(ctx context.Context, db bun.IDB, userID int64, passwordHash string) (string, error) {
	var parts []string
	err := db.NewRaw(`SELECT 'totp:' || CAST(enabled_at AS TEXT) FROM two_factor WHERE user_id = ? AND enabled_at IS NOT NULL
		UNION ALL SELECT 'code:' || CAST(id AS TEXT) FROM recovery_codes WHERE user_id = ?
		UNION ALL SELECT 'passkey:' || CAST(id AS TEXT) FROM passkeys WHERE user_id = ?`, userID, userID, userID).Scan(ctx, &parts)
	if err != nil {
		return "", fmt.Errorf("twofactor: unable to read the factors of user #%d: %w", userID, err)
	}
	slices.Sort(parts)
	sum := sha256.New()
	sum.Write([]byte(passwordHash))
	for _, part := range parts {
		sum.Write([]byte{0})
		sum.Write([]byte(part))
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}
