package twofactor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/uptrace/bun"

	"gatehouse/models"
)

// PasskeyNameMaxLength bounds the name a user gives a passkey.
const PasskeyNameMaxLength = 64

// ErrDuplicatePasskey is returned when a credential is registered twice.
var ErrDuplicatePasskey = errors.New("twofactor: passkey already registered")

// ErrPasskeyNotFound is returned for a credential no user has.
var ErrPasskeyNotFound = errors.New("twofactor: no such passkey")

// Passkey is one WebAuthn credential of a user, named by them.
type Passkey struct {
	bun.BaseModel `bun:"table:passkeys"`

	ID           int64     `bun:"id,pk,autoincrement"`
	UserID       int64     `bun:"user_id,notnull"`
	CredentialID []byte    `bun:"credential_id,notnull"`
	Name         string    `bun:"name,notnull"`
	Record       string    `bun:"credential,notnull"` // webauthn.Credential as JSON
	CreatedAt    time.Time `bun:"created_at,notnull"`
	LastUsedAt   time.Time `bun:"last_used_at,nullzero"`
}

// Credential is the passkey's WebAuthn record.
func (p Passkey) Credential() (webauthn.Credential, error) {
	var c webauthn.Credential
	if err := json.Unmarshal([]byte(p.Record), &c); err != nil {
		return c, fmt.Errorf("twofactor: unable to read passkey #%d: %w", p.ID, err)
	}
	return c, nil
}

// UserHandle is the user's WebAuthn user handle: derived from their id
// under a key of the site, so it names no one to anyone else and needs no
// column of its own.
func (s *Store) UserHandle(userID int64) []byte {
	mac := hmac.New(sha256.New, s.keys.handleMAC)
	mac.Write([]byte(strconv.FormatInt(userID, 10)))
	return mac.Sum(nil)
}

// PasskeyUser is a user as go-webauthn sees one: a handle, names and the
// credentials they registered.
type PasskeyUser struct {
	ID          int64
	Handle      []byte
	Username    string
	Credentials []webauthn.Credential
}

func (u *PasskeyUser) WebAuthnID() []byte                         { return u.Handle }
func (u *PasskeyUser) WebAuthnName() string                       { return u.Username }
func (u *PasskeyUser) WebAuthnDisplayName() string                { return u.Username }
func (u *PasskeyUser) WebAuthnCredentials() []webauthn.Credential { return u.Credentials }

// PasskeyUserOf returns the user with their passkeys, for a ceremony.
func (s *Store) PasskeyUserOf(ctx context.Context, db bun.IDB, userID int64, username string) (*PasskeyUser, error) {
	keys, err := Passkeys(ctx, db, userID)
	if err != nil {
		return nil, err
	}
	u := &PasskeyUser{ID: userID, Handle: s.UserHandle(userID), Username: username}
	for _, p := range keys {
		c, err := p.Credential()
		if err != nil {
			return nil, err
		}
		u.Credentials = append(u.Credentials, c)
	}
	return u, nil
}

// Passkeys lists the user's passkeys, oldest first.
func Passkeys(ctx context.Context, db bun.IDB, userID int64) ([]Passkey, error) {
	var keys []Passkey
	if err := db.NewSelect().Model(&keys).Where("user_id = ?", userID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("twofactor: unable to list the passkeys of user #%d: %w", userID, err)
	}
	return keys, nil
}

// AddPasskey stores a newly registered credential under the name given.
func AddPasskey(ctx context.Context, db bun.IDB, userID int64, name string, c *webauthn.Credential, now time.Time) (*Passkey, error) {
	record, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("twofactor: unable to encode a passkey: %w", err)
	}
	p := &Passkey{UserID: userID, CredentialID: c.ID, Name: name, Record: string(record), CreatedAt: now.UTC()}
	if _, err := db.NewInsert().Model(p).On("CONFLICT (credential_id) DO NOTHING").Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("twofactor: unable to add a passkey for user #%d: %w", userID, err)
	}
	if p.ID == 0 {
		return nil, ErrDuplicatePasskey
	}
	return p, nil
}

// PasskeyByCredentialID finds the passkey with this credential id.
func PasskeyByCredentialID(ctx context.Context, db bun.IDB, credentialID []byte) (*Passkey, error) {
	p := new(Passkey)
	err := db.NewSelect().Model(p).Where("credential_id = ?", credentialID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrPasskeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("twofactor: unable to find a passkey: %w", err)
	}
	return p, nil
}

// PasskeyUsed records a login with the credential: its new sign count and flags, and the time.
func PasskeyUsed(ctx context.Context, db bun.IDB, userID int64, c *webauthn.Credential, now time.Time) error {
	record, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("twofactor: unable to encode a passkey: %w", err)
	}
	_, err = db.NewUpdate().Model((*Passkey)(nil)).Set("credential = ?", string(record)).Set("last_used_at = ?", now.UTC()).
		Where("user_id = ?", userID).Where("credential_id = ?", c.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("twofactor: unable to record the use of a passkey of user #%d: %w", userID, err)
	}
	return nil
}

// RemovePasskey deletes one of the user's passkeys and returns its name;
// ErrPasskeyNotFound if the user has none with this id.
func RemovePasskey(ctx context.Context, db bun.IDB, userID, id int64) (string, error) {
	var names []string
	err := db.NewDelete().Model((*Passkey)(nil)).Where("user_id = ?", userID).Where("id = ?", id).Returning("name").Scan(ctx, &names)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("twofactor: unable to remove passkey #%d of user #%d: %w", id, userID, err)
	}
	if len(names) == 0 {
		return "", ErrPasskeyNotFound
	}
	return names[0], nil
}

// RemovePasskeys deletes every passkey of the user and returns their names.
func RemovePasskeys(ctx context.Context, db bun.IDB, userID int64) ([]string, error) {
	var names []string
	err := db.NewDelete().Model((*Passkey)(nil)).Where("user_id = ?", userID).Returning("name").Scan(ctx, &names)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("twofactor: unable to remove the passkeys of user #%d: %w", userID, err)
	}
	return names, nil
}

// PasskeyNames returns the names of the user's passkeys, oldest first.
func PasskeyNames(ctx context.Context, db bun.IDB, userID int64) ([]string, error) {
	keys, err := Passkeys(ctx, db, userID)
	names := make([]string, len(keys))
	for i, key := range keys {
		names[i] = key.Name
	}
	return names, err
}

// CleanPasskeyName drops the characters that would change how the list
// shows (models.MisleadingRune), trims the name and cuts it to
// PasskeyNameMaxLength characters.
func CleanPasskeyName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case models.MisleadingRune(r):
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	if runes := []rune(name); len(runes) > PasskeyNameMaxLength {
		name = string(runes[:PasskeyNameMaxLength])
	}
	return name
}
