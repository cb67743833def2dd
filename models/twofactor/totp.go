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
	// code; after that the setup page makes a new one.
	SetupTimeout = time.Hour
)

// Setup is a new secret waiting to be confirmed by a code from the user's app.
type Setup struct {
	Secret string // base32, for typing into the app
	URL    string // otpauth:// URL, for the QR code
	// Sealed is the secret sealed for its user: what whoever showed the
	// secret keeps (the session of the setup page) until Enable.
	Sealed []byte
}

// NewSetup makes a fresh secret for the user. It is not stored: the
// session that shows it keeps it until a code confirms it, so a secret
// one visitor saw is never the one another visit enables (a secret kept
// in the database for an hour was).
func (s *Store) NewSetup(userID int64, accountName string) (Setup, error) {
	fresh := make([]byte, secretSize)
	rand.Read(fresh)
	return s.OpenSetup(userID, accountName, s.keys.sealFor(sealContext(userID), fresh))
}

// OpenSetup is the setup of a secret NewSetup sealed, shown again.
func (s *Store) OpenSetup(userID int64, accountName string, sealed []byte) (Setup, error) {
	secret, err := s.keys.openFor(sealContext(userID), sealed)
	if err != nil {
		return Setup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.issuer, AccountName: accountName, Period: period, Secret: secret, Digits: digits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return Setup{}, fmt.Errorf("twofactor: unable to describe the secret: %w", err)
	}
	return Setup{Secret: key.Secret(), URL: key.URL(), Sealed: sealed}, nil
}

// Enable turns two-factor authentication on with the secret NewSetup
// sealed, when code is a current code of it, and returns the user's first
// recovery codes. A wrong code gives ok false; a user whose two-factor is
// on already gets ErrEnabled. The code used cannot be used again to log in.
func (s *Store) Enable(ctx context.Context, db bun.IDB, userID int64, sealed []byte, code string, now time.Time) (codes []string, ok bool, err error) {
	pending := record{UserID: userID, Secret: sealed, CreatedAt: now.UTC(), EnabledAt: now.UTC()}
	step, matched, err := s.matchStep(userID, pending, code, now)
	if err != nil || !matched {
		return nil, false, err
	}
	pending.LastStep = step
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// A setup row of an older version, never confirmed, gives way.
		if _, err := tx.NewDelete().Model((*record)(nil)).Where("user_id = ?", userID).Where("enabled_at IS NULL").Exec(ctx); err != nil {
			return fmt.Errorf("twofactor: unable to drop an old setup of user #%d: %w", userID, err)
		}
		res, err := tx.NewInsert().Model(&pending).On("CONFLICT (user_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("twofactor: unable to enable for user #%d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrEnabled // by another request, perhaps meanwhile
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
