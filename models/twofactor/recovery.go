package twofactor

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// recoveryAlphabet is Crockford's base32, lower case: no i, l, o or u to
// mistake for 1, 1, 0 or v when typing a code back from paper.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// recoveryCodeLength is the characters of a code, 50 bits: out of reach of
// online guessing, which the second step throttles; offline, each is a
// salted argon2id hash, as a password is.
const recoveryCodeLength = 10

// newRecoveryCode returns a random code as it is shown: "xxxxx-xxxxx".
func newRecoveryCode() string {
	raw := make([]byte, recoveryCodeLength)
	rand.Read(raw)
	var b strings.Builder
	for i, r := range raw {
		if i == recoveryCodeLength/2 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[r&31])
	}
	return b.String()
}

// normalizeRecoveryCode reads a code as typed: any case, with or without
// its hyphen and spaces, and the letters Crockford's alphabet leaves out
// taken for the digits they look like. It returns "" for what cannot be a code.
func normalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch r {
		case ' ', '-':
			continue
		case 'i', 'l':
			r = '1'
		case 'o':
			r = '0'
		}
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryCodeLength {
		return ""
	}
	return b.String()
}

// RegenerateRecoveryCodes replaces the user's recovery codes with a new
// set and returns it; ErrNotEnabled if two-factor is off.
func (s *Store) RegenerateRecoveryCodes(ctx context.Context, db bun.IDB, userID int64, now time.Time) ([]string, error) {
	var codes []string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		on, err := Enabled(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !on {
			return ErrNotEnabled
		}
		codes, err = s.replaceRecoveryCodes(ctx, tx, userID, now)
		return err
	})
	return codes, err
}

// replaceRecoveryCodes deletes the user's codes and stores a new set.
func (s *Store) replaceRecoveryCodes(ctx context.Context, tx bun.Tx, userID int64, now time.Time) ([]string, error) {
	if _, err := tx.NewDelete().Model((*recoveryCode)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("twofactor: unable to delete the recovery codes of user #%d: %w", userID, err)
	}
	codes := make([]string, RecoveryCodeCount)
	rows := make([]recoveryCode, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hash, err := s.hasher.Hash(normalizeRecoveryCode(codes[i]))
		if err != nil {
			return nil, err
		}
		rows[i] = recoveryCode{UserID: userID, CodeHash: []byte(hash), CreatedAt: now.UTC()}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return nil, fmt.Errorf("twofactor: unable to store the recovery codes of user #%d: %w", userID, err)
	}
	return codes, nil
}

// UseRecoveryCode reports whether code is one of the user's unused recovery
// codes, and uses it up: of two requests racing with one code, one succeeds.
// It also returns how many codes are left.
func (s *Store) UseRecoveryCode(ctx context.Context, db bun.IDB, userID int64, code string) (ok bool, left int, err error) {
	normalized := normalizeRecoveryCode(code)
	if normalized == "" {
		return false, 0, nil
	}
	on, err := Enabled(ctx, db, userID)
	if err != nil || !on {
		return false, 0, err
	}
	var rows []recoveryCode
	if err := db.NewSelect().Model(&rows).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return false, 0, fmt.Errorf("twofactor: unable to read the recovery codes of user #%d: %w", userID, err)
	}
	// Each code has its own salt: the typed one is checked against each
	// (ten at most) until one matches; the delete decides between racers.
	for _, row := range rows {
		match, _, err := s.hasher.Check(normalized, string(row.CodeHash))
		if err != nil {
			return false, 0, err
		}
		if !match {
			continue
		}
		res, err := db.NewDelete().Model((*recoveryCode)(nil)).Where("id = ?", row.ID).Exec(ctx)
		if err != nil {
			return false, 0, fmt.Errorf("twofactor: unable to use a recovery code of user #%d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return false, 0, nil // used by another request meanwhile
		}
		return true, len(rows) - 1, nil
	}
	return false, 0, nil
}

// SealCodes seals a fresh set of codes for the page that shows them once,
// so that they wait for it in the session store (a table, Redis) unreadable.
func (s *Store) SealCodes(userID int64, codes []string) []byte {
	return s.keys.sealFor("fresh-codes:"+strconv.FormatInt(userID, 10), []byte(strings.Join(codes, "\n")))
}

// OpenCodes opens what SealCodes sealed for the user.
func (s *Store) OpenCodes(userID int64, sealed []byte) ([]string, error) {
	plain, err := s.keys.openFor("fresh-codes:"+strconv.FormatInt(userID, 10), sealed)
	if err != nil {
		return nil, err
	}
	return strings.Split(string(plain), "\n"), nil
}
