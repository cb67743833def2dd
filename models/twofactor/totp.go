package twofactor

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"
)

// The authenticator apps' defaults (Google Authenticator reads no others
// reliably): SHA-1, six digits, a 30-second step.
const (
	period     = 30
	digits     = otp.DigitsSix
	secretSize = 20 // bytes: RFC 4226's recommended 160 bits
	// skew is how many steps before and after now a code is accepted in:
	// clocks drift, and typing takes time.
	skew = 1
	// SetupTimeout is how long a secret shown for setup waits for its first
	// code; after that a new one is made.
	SetupTimeout = time.Hour
)

// Setup is a secret waiting to be confirmed by a code from the user's app.
type Setup struct {
	Secret string // base32, for typing into the app
	URL    string // otpauth:// URL, for the QR code
}

// StartSetup returns the user's pending secret, made now if there is none
// younger than SetupTimeout; ErrEnabled if two-factor is on already.
func (s *Store) StartSetup(ctx context.Context, db bun.IDB, userID int64, accountName string, now time.Time) (Setup, error) {
	now = now.UTC()
	var r record
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewDelete().Model((*record)(nil)).Where("user_id = ?", userID).
			Where("enabled_at IS NULL").Where("created_at < ?", now.Add(-SetupTimeout)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("twofactor: unable to drop an old setup of user #%d: %w", userID, err)
		}
		fresh := make([]byte, secretSize)
		rand.Read(fresh)
		pending := &record{UserID: userID, Secret: s.keys.sealFor(sealContext(userID), fresh), CreatedAt: now}
		if _, err := tx.NewInsert().Model(pending).On("CONFLICT (user_id) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("twofactor: unable to start the setup of user #%d: %w", userID, err)
		}
		if err := tx.NewSelect().Model(&r).Where("user_id = ?", userID).Scan(ctx); err != nil {
			return fmt.Errorf("twofactor: unable to read the setup of user #%d: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return Setup{}, err
	}
	if !r.EnabledAt.IsZero() {
		return Setup{}, ErrEnabled
	}
	secret, err := s.keys.openFor(sealContext(userID), r.Secret)
	if err != nil {
		return Setup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.issuer, AccountName: accountName, Period: period, Secret: secret, Digits: digits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return Setup{}, fmt.Errorf("twofactor: unable to describe the secret: %w", err)
	}
	return Setup{Secret: key.Secret(), URL: key.URL()}, nil
}

// Enable turns two-factor authentication on when code is a current code of
// the pending secret, and returns the user's first recovery codes. A wrong
// code gives ok false; a user with no pending setup gets ErrNotEnabled.
// The code used cannot be used again to log in.
func (s *Store) Enable(ctx context.Context, db bun.IDB, userID int64, code string, now time.Time) (codes []string, ok bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var r record
		err := tx.NewSelect().Model(&r).Where("user_id = ?", userID).Where("enabled_at IS NULL").
			Where("created_at >= ?", now.UTC().Add(-SetupTimeout)).Scan(ctx)
		if err != nil {
			return notFound(err, ErrNotEnabled, "the setup of user", userID)
		}
		step, matched, err := s.matchStep(userID, r, code, now)
		if err != nil || !matched {
			return err
		}
		res, err := tx.NewUpdate().Model((*record)(nil)).Set("enabled_at = ?", now.UTC()).Set("last_step = ?", step).
			Where("user_id = ?", userID).Where("enabled_at IS NULL").Exec(ctx)
		if err != nil {
			return fmt.Errorf("twofactor: unable to enable for user #%d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // enabled meanwhile by another request
		}
		codes, err = s.replaceRecoveryCodes(ctx, tx, userID, now)
		ok = err == nil
		return err
	})
	return codes, ok, err
}

// CheckCode reports whether code is a current code of the user's enabled
// authenticator that was not used before, and marks it (and every earlier
// one) used: two requests racing with one code see one success.
func (s *Store) CheckCode(ctx context.Context, db bun.IDB, userID int64, code string, now time.Time) (bool, error) {
	var r record
	err := db.NewSelect().Model(&r).Where("user_id = ?", userID).Where("enabled_at IS NOT NULL").Scan(ctx)
	if err != nil {
		return false, notFound(err, ErrNotEnabled, "the authenticator of user", userID)
	}
	step, matched, err := s.matchStep(userID, r, code, now)
	if err != nil || !matched {
		return false, err
	}
	res, err := db.NewUpdate().Model((*record)(nil)).Set("last_step = ?", step).
		Where("user_id = ?", userID).Where("last_step < ?", step).Where("enabled_at IS NOT NULL").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("twofactor: unable to mark a code of user #%d used: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// matchStep finds the time step, within skew of now and after the last one
// used, whose code is code.
func (s *Store) matchStep(userID int64, r record, code string, now time.Time) (int64, bool, error) {
	code = normalizeTOTP(code)
	if len(code) != digits.Length() {
		return 0, false, nil
	}
	raw, err := s.keys.openFor(sealContext(userID), r.Secret)
	if err != nil {
		return 0, false, err
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	current := now.Unix() / period
	for step := current - skew; step <= current+skew; step++ {
		if step <= r.LastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*period, 0), totp.ValidateOpts{
			Period: period, Digits: digits, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false, fmt.Errorf("twofactor: unable to compute a code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true, nil
		}
	}
	return 0, false, nil
}

// normalizeTOTP drops the spaces and hyphens some apps show in a code.
func normalizeTOTP(code string) string {
	out := make([]byte, 0, len(code))
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c == ' ' || c == '-':
		case c >= '0' && c <= '9':
			out = append(out, c)
		default:
			return "" // not a TOTP code
		}
	}
	return string(out)
}

// LooksLikeTOTP reports whether code has the shape of an authenticator code
// (six digits) rather than of a recovery code.
func LooksLikeTOTP(code string) bool { return len(normalizeTOTP(code)) == digits.Length() }
