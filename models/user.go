package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// User is an account, with the fields of Django's auth_user.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID          int64  `bun:"id,pk,autoincrement"`
	Username    string `bun:"username,notnull"`
	UsernameKey string `bun:"username_key,notnull"`
	Password    string `bun:"password,notnull"`
	Email       string `bun:"email,notnull"`
	// EmailVerified is set once the user followed a link mailed to Email;
	// only a verified address receives password resets and notices.
	EmailVerified bool `bun:"email_verified,notnull"`
	// NotifyNewDevice asks for a mail on a login from a new browser.
	NotifyNewDevice bool      `bun:"notify_new_device,notnull"`
	FirstName       string    `bun:"first_name,notnull"`
	LastName        string    `bun:"last_name,notnull"`
	IsActive        bool      `bun:"is_active,notnull"`
	IsStaff         bool      `bun:"is_staff,notnull"`
	IsSuperuser     bool      `bun:"is_superuser,notnull"`
	LastLogin       time.Time `bun:"last_login,nullzero"`
	DateJoined      time.Time `bun:"date_joined,notnull"`
	// TwoFactorExempt: a superuser excused the user from the two-factor policy.
	TwoFactorExempt bool `bun:"two_factor_exempt,notnull"`
	// Language is the code of the language the user reads the site and
	// their mail in ("ko"), or "" for none chosen yet.
	Language string `bun:"language,notnull"`
}

// UsernameMaxLength is the longest username, as Django's auth_user allows.
const UsernameMaxLength = 150

// What can be wrong with a username, as codes for the views to put into
// words (Django's messages): too long (more than UsernameMaxLength
// characters), a character other than a letter, a digit or @.+-_, or taken.
const (
	UsernameTooLong   = "username.too_long"
	UsernameInvalid   = "username.invalid"
	UsernameDuplicate = "username.duplicate"
)

// MisleadingRune reports whether r changes how the text around it shows
// rather than being text: a control character, or a bidirectional
// override, embedding, isolate or mark (which can make a name read
// backwards). Names shown to others refuse them.
func MisleadingRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	}
	return false
}

// Isolated is s between a first-strong isolate and its pop (U+2068,
// U+2069), Unicode's <bdi> for plain text: put into a sentence, a
// right-to-left name or title cannot reorder the words around it.
func Isolated(s string) string { return "\u2068" + s + "\u2069" }

// NormalizeUsername applies NFKC, as Django does, so that look-alike forms of
// one name are stored and compared as one: composed and decomposed Hangul
// (정우 typed as syllables or as jamo), full-width and plain letters.
func NormalizeUsername(username string) string {
	return norm.NFKC.String(username)
}

// UsernameProblem returns the code of what is wrong with a normalized,
// non-empty username, or "" for a good one. As Django's
// UnicodeUsernameValidator (^[\w.@+-]+\Z, Python's Unicode \w), letters
// and digits of any script are allowed: 정우, José, 李白, ٣.
func UsernameProblem(username string) string {
	if utf8.RuneCountInString(username) > UsernameMaxLength {
		return UsernameTooLong
	}
	for _, r := range username {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune("@.+-_", r) {
			return UsernameInvalid
		}
	}
	return ""
}

// UsernameKey is the case-folded form of a username that the unique index
// compares: one key for every spelling of one account name.
func UsernameKey(username string) string {
	return cases.Fold().String(NormalizeUsername(username))
}

// CreateUser inserts u, filling in its key, id and join date. A username taken
// in any letter case gives ErrDuplicateUsername.
func CreateUser(ctx context.Context, db bun.IDB, u *User) error {
	u.Username = NormalizeUsername(u.Username)
	u.UsernameKey = UsernameKey(u.Username)
	if u.DateJoined.IsZero() {
		u.DateJoined = time.Now().UTC()
	}
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		if IsUniqueViolation(err) {
			return ErrDuplicateUsername
		}
		return fmt.Errorf("models: unable to create user %q: %w", u.Username, err)
	}
	return nil
}

// UsernameTaken reports whether an account has this username in any letter case.
func UsernameTaken(ctx context.Context, db bun.IDB, username string) (bool, error) {
	exists, err := db.NewSelect().Model((*User)(nil)).Where("username_key = ?", UsernameKey(username)).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("models: unable to look up username: %w", err)
	}
	return exists, nil
}

// UserByUsername finds the account with this username in any letter case.
func UserByUsername(ctx context.Context, db bun.IDB, username string) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Where("username_key = ?", UsernameKey(username)).Scan(ctx)
	return u, notFound(err, "user by username")
}

// EmailKey is the form in which an address is looked up (password resets)
// and kept unique among confirmed ones: ASCII letters lower-cased, nothing
// else folded, as SQLite's lower() does and PostgreSQL's under the "C"
// collation (emailKeyColumn). Folding more would make the Kelvin sign K one
// with k. Whether an address changed is never asked of its key: any change
// of the stored string is a change, to be confirmed.
func EmailKey(email string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, email)
}

// emailKeyColumn is EmailKey of the email column in db's SQL.
func emailKeyColumn(db bun.IDB) string {
	if db.Dialect().Name() == dialect.PG {
		return `lower(email COLLATE "C")`
	}
	return "lower(email)"
}

// keepVerified is the SET clause that keeps an address confirmed only if
// the new one is the same string, to the letter.
const keepVerified = "email_verified = email_verified AND email = ?"

// UpdateProfile sets the fields a user may edit on their own account. A new
// email address is unverified until its link is followed.
func UpdateProfile(ctx context.Context, db bun.IDB, id int64, email, firstName, lastName string, notifyNewDevice bool) error {
	_, err := db.NewUpdate().Model((*User)(nil)).
		Set(keepVerified, email).
		Set("email = ?", email).Set("first_name = ?", firstName).Set("last_name = ?", lastName).
		Set("notify_new_device = ?", notifyNewDevice).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to update profile of user #%d: %w", id, err)
	}
	return nil
}

// SetPassword stores a new password hash for the user.
func SetPassword(ctx context.Context, db bun.IDB, id int64, hash string) error {
	_, err := db.NewUpdate().Model((*User)(nil)).Set("password = ?", hash).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to set password of user #%d: %w", id, err)
	}
	return nil
}

// setLastLogin records the time of a successful login.
func setLastLogin(ctx context.Context, db bun.IDB, id int64, at time.Time) error {
	_, err := db.NewUpdate().Model((*User)(nil)).Set("last_login = ?", at.UTC()).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to set last login of user #%d: %w", id, err)
	}
	return nil
}

// SetLanguage stores the language the user chose (its code).
func SetLanguage(ctx context.Context, db bun.IDB, id int64, code string) error {
	_, err := db.NewUpdate().Model((*User)(nil)).Set("language = ?", code).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to set the language of user #%d: %w", id, err)
	}
	return nil
}

// UserByID finds the account with this id.
func UserByID(ctx context.Context, db bun.IDB, id int64) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, notFound(err, fmt.Sprintf("user #%d", id))
}

// UsersWithVerifiedEmail finds the active accounts whose verified address
// is email, compared by EmailKey: where password resets go.
func UsersWithVerifiedEmail(ctx context.Context, db bun.IDB, email string) ([]User, error) {
	var users []User
	err := db.NewSelect().Model(&users).
		Where(emailKeyColumn(db)+" = ?", EmailKey(email)).Where("email_verified").Where("is_active").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to find users by email: %w", err)
	}
	return users, nil
}

// VerifyEmail marks the user's address verified if it is still email. An
// address another account has verified gives ErrEmailTaken; one the user no
// longer has, ErrNotFound.
func VerifyEmail(ctx context.Context, db bun.IDB, id int64, email string) error {
	res, err := db.NewUpdate().Model((*User)(nil)).Set("email_verified = TRUE").
		Where("id = ?", id).Where("email = ?", email).Exec(ctx)
	if IsUniqueViolation(err) {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("models: unable to verify the email of user #%d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteUser deletes the user with everything that belongs to them: their
// rows cascade, and their sessions end with their payloads, in sessions (the
// store's session storage) wherever that keeps them.
func DeleteUser(ctx context.Context, db bun.IDB, sessions SessionStorage, id int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := endOtherSessions(ctx, tx, sessions, id, ""); err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*User)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("models: unable to delete user #%d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// UndoSignup deletes a new account whose signup could not be finished,
// with what went with it (its log entry, its session row), so that the
// signup can be tried again. Its session payload was never stored.
func UndoSignup(ctx context.Context, db bun.IDB, id int64) error {
	if _, err := db.NewDelete().Model((*User)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to undo the signup of user #%d: %w", id, err)
	}
	return nil
}

// notFound turns sql.ErrNoRows into ErrNotFound and wraps other errors.
func notFound(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	default:
		return fmt.Errorf("models: unable to fetch %s: %w", what, err)
	}
}

// PostgreSQL's codes for the constraint violations told apart.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// IsUniqueViolation reports whether err is a write refused by a unique
// index, on either engine.
func IsUniqueViolation(err error) bool {
	var sqliteErr sqlite3.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.ExtendedCode == sqlite3.ErrConstraintUnique
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation
}

func isForeignKeyViolation(err error) bool {
	var sqliteErr sqlite3.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.ExtendedCode == sqlite3.ErrConstraintForeignKey
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgForeignKeyViolation
}

// DeleteOwnAccount deletes the user with id as they asked from their own
// settings, unless they are the last superuser who can open the admin:
// then ErrLastSuperuser, as the admin's own delete refuses.
func DeleteOwnAccount(ctx context.Context, db bun.IDB, sessions SessionStorage, id int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		superusers, err := lockSuperusers(ctx, tx)
		if err != nil {
			return err
		}
		target, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if adminSuperuser(target) && superusers.last(target.ID) {
			return ErrLastSuperuser
		}
		return DeleteUser(ctx, tx, sessions, id)
	})
}

// ChangePassword stores a new password hash and ends every other session of
// the user, together. The session with oldKey, which made the change, goes
// on as current under a new key, as Django's update_session_auth_hash
// cycles it; with current nil, every session ends. sessions is the store's
// session storage: payloads are deleted there too (see EndOtherSessions). It
// returns how many other live sessions were ended.
func ChangePassword(ctx context.Context, db bun.IDB, sessions SessionStorage, userID int64, hash, oldKey string, current *Session) (int, error) {
	var ended int
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := SetPassword(ctx, tx, userID, hash); err != nil {
			return err
		}
		var err error
		if ended, err = endOtherSessions(ctx, tx, sessions, userID, oldKey); err != nil {
			return err
		}
		if err := deleteSession(ctx, tx, sessions, oldKey); err != nil || current == nil {
			return err
		}
		return createSession(ctx, tx, current)
	})
	return ended, err
}

// ResetPassword stores the hash set through a reset link, which was signed
// with the user's hash oldHash, and ends every session of the user,
// together. The link is used up by this very update: of two uses racing,
// the second finds the hash changed, gets ErrLinkUsed and changes nothing.
func ResetPassword(ctx context.Context, db bun.IDB, sessions SessionStorage, userID int64, oldHash, hash string) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*User)(nil)).Set("password = ?", hash).
			Where("id = ?", userID).Where("password = ?", oldHash).Exec(ctx)
		if err != nil {
			return fmt.Errorf("models: unable to reset the password of user #%d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLinkUsed
		}
		_, err = endOtherSessions(ctx, tx, sessions, userID, "")
		return err
	})
}

// EmailInUse reports whether any account, confirmed or not, has this
// address, compared by EmailKey.
func EmailInUse(ctx context.Context, db bun.IDB, email string) (bool, error) {
	exists, err := db.NewSelect().Model((*User)(nil)).Where(emailKeyColumn(db)+" = ?", EmailKey(email)).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("models: unable to look up an address: %w", err)
	}
	return exists, nil
}
