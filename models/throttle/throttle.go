// Package throttle slows password guessing: it counts failed attempts per key
// in the database and refuses a key that has failed too often lately.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"gatehouse/models"
)

// Rule allows Limit failures under a key within Window; further attempts are
// refused until enough of those failures are older than Window.
type Rule struct {
	Name   string
	Limit  int
	Window time.Duration
}

// The brute-force defence's rules, the one place their numbers live.
var (
	// LoginPerAccount counts failed logins as a username from browsers that
	// have not logged in as that user before.
	LoginPerAccount = Rule{"login-account", 5, 15 * time.Minute}
	// LoginPerDevice is the own allowance of a browser that has logged in as
	// the user before (OWASP's device cookies): its failures are counted apart,
	// so an attacker locking out LoginPerAccount does not lock out the user.
	LoginPerDevice = Rule{"login-device", 5, 15 * time.Minute}
	// LoginPerAddress counts failed logins from one client address, whatever the usernames.
	LoginPerAddress = Rule{"login-address", 10, 15 * time.Minute}
	// SignupPerAddress counts signups from one client address that hit a
	// taken username: signup would otherwise tell who has an account.
	SignupPerAddress = Rule{"signup-address", 10, time.Hour}
	// PasswordCheckPerUser counts wrong current passwords typed by a logged-in
	// user: on the password change and the account deletion forms.
	PasswordCheckPerUser = Rule{"password-check", 5, 15 * time.Minute}
	// PasswordResetPerAddress counts password reset requests from one client address.
	PasswordResetPerAddress = Rule{"reset-address", 10, time.Hour}
	// SignupsPerAddress counts accounts made from one client address: each
	// signup may mail a chosen address with chosen text (the username in
	// the greeting), and fills the database.
	SignupsPerAddress = Rule{"signups-address", 10, time.Hour}
	// LoginCodePerAddress counts sign-in codes asked for from one client address.
	LoginCodePerAddress = Rule{"login-code-address", 10, time.Hour}
	// MailPerRecipient counts mails that anyone may trigger (password
	// resets, verification links) to one address: no mail-bombing.
	MailPerRecipient = Rule{"mail-recipient", 3, time.Hour}
	// MailPerAddress counts the confirmation links one client address sets
	// off (signups, address changes, resends), to whatever recipients: no
	// spamming many addresses through the site.
	MailPerAddress = Rule{"mail-address", 10, time.Hour}
	// EmailChangesPerUser counts changes of an account's own address: each
	// mails a notice and a confirmation link.
	EmailChangesPerUser = Rule{"email-change", 5, 24 * time.Hour}
	// TwoFactorPerUser counts wrong second-factor codes of a user.
	TwoFactorPerUser = Rule{"two-factor", 5, 15 * time.Minute}
	// TwoFactorPerUserDay caps them over a day: five every fifteen minutes
	// alone let someone who has the password try 480 codes a day, and with
	// three codes valid at a time (the ±1 step window) a six-digit code
	// would fall within about two years (NIST SP 800-63B 5.2.2 limits
	// failures over time, not only bursts). A success does not clear it.
	TwoFactorPerUserDay = Rule{"two-factor-day", 30, 24 * time.Hour}
	// PasskeyPromptsPerAddress counts passkey logins begun from one client
	// address, each of which stores a session for its challenge: without
	// it, anyone could fill the session store as fast as they can post.
	PasskeyPromptsPerAddress = Rule{"passkey-prompt-address", 100, 15 * time.Minute}
	// SocialStartsPerAddress counts logins at other sites begun from one
	// client address: each stores a session for its state, as a passkey
	// prompt does.
	SocialStartsPerAddress = Rule{"social-start-address", 100, 15 * time.Minute}
	// SocialLoginsPerAccount counts logins through one account at another
	// site: each makes a session, and a stolen provider account (or a
	// provider gone wrong) should not open hundreds.
	SocialLoginsPerAccount = Rule{"social-account", 10, 15 * time.Minute}
)

// Key is one subject counted under a rule: a case-folded username, a client
// address, a device id with its username.
type Key struct {
	Rule    Rule
	Subject string
}

// Key returns the key that counts subject under the rule.
func (r Rule) Key(subject string) Key { return Key{Rule: r, Subject: subject} }

// stored is the key as the database holds it.
func (k Key) stored() string { return k.Rule.Name + ":" + k.Subject }

// failure is one failed attempt, counted until ExpiresAt. Storing the end of
// the window rather than the time of failure makes Check's answer a stored
// value and lets DeleteExpired ignore which rule a row belongs to.
type failure struct {
	bun.BaseModel `bun:"table:throttle_failures"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Key       string    `bun:"key,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
}

// Limiter counts failures in the database, so that app instances sharing it
// share the counts, and they outlive a restart.
//
// Begin records an attempt as a failure before it is tried and counts only
// the attempts recorded before it, so a burst of guesses cannot all pass
// while none has failed yet: of simultaneous attempts, Limit go ahead, on
// SQLite and PostgreSQL alike.
// Check and Fail count failures after the fact, for attempts that only
// sometimes fail (a signup that hits a taken username).
type Limiter struct {
	db  bun.IDB
	now func() time.Time
	// snapshot, if set, keeps the refusals Check finds (see In).
	snapshot *models.Snapshot
}

// New returns a limiter keeping its counts in db, at the times now reads.
func New(db bun.IDB, now func() time.Time) *Limiter { return &Limiter{db: db, now: now} }

// Check returns the time until which any of the keys is refused under its
// rule, the latest if several are, or the zero time if none is.
func (l *Limiter) Check(ctx context.Context, keys ...Key) (retryAt time.Time, err error) {
	now := l.now().UTC()
	for _, key := range keys {
		until, err := l.refusedUntil(ctx, key, now)
		if err != nil {
			return time.Time{}, fmt.Errorf("throttle: unable to check %s: %w", key.Rule.Name, err)
		}
		if until.After(retryAt) {
			retryAt = until
		}
	}
	return retryAt, nil
}

// In returns the limiter reading through the cache snapshot s: a refusal
// it finds is kept until the failures table changes or the refusal ends,
// so a flood of refused attempts costs one query a key between writes
// rather than one an attempt. Keys not refused are read each time: a flood
// of made-up usernames must not fill the cache.
func (l *Limiter) In(s models.Snapshot) *Limiter {
	return &Limiter{db: l.db, now: l.now, snapshot: &s}
}

// refusalKey caches a key's refusal; a write to the failures table (a new
// failure, a success or a clear, by any instance) drops it.
type refusalKey string

func (refusalKey) DependsOn() models.Tables { return models.TableThrottleFailures }

// refusedUntil returns the time until which key is refused, or the zero
// time if it is not. Failures are only added by writes, so a refusal read
// from the cache can end early only by a write (which drops it) or by time.
func (l *Limiter) refusedUntil(ctx context.Context, key Key, now time.Time) (time.Time, error) {
	if l.snapshot != nil {
		if until, ok := l.snapshot.Get(refusalKey(key.stored())); ok && until.(time.Time).After(now) {
			return until.(time.Time), nil
		}
	}
	// With Limit or more failures counting, the Limit-th newest is the
	// one whose expiry brings the count back under Limit.
	var expiries []time.Time
	err := l.db.NewSelect().Model((*failure)(nil)).Column("expires_at").
		Where("key = ?", key.stored()).Where("expires_at > ?", now).
		OrderExpr("expires_at DESC").Limit(1).Offset(int64(key.Rule.Limit-1)).
		Scan(ctx, &expiries)
	if err != nil || len(expiries) == 0 {
		return time.Time{}, err
	}
	until := expiries[0].UTC()
	if l.snapshot != nil {
		l.snapshot.Put(refusalKey(key.stored()), until)
	}
	return until, nil
}

// Attempt is an attempt under way, recorded by Begin as failed until it
// succeeds.
type Attempt struct {
	limiter *Limiter
	ids     []int64
}

// Begin records an attempt under each key and returns it, or the time
// until which one of the keys is refused, counting the attempts recorded
// before this one; a refused attempt leaves no record.
func (l *Limiter) Begin(ctx context.Context, keys ...Key) (*Attempt, time.Time, error) {
	// A key already over its limit is refused by a read, without the write
	// transaction (on SQLite, the database's one write lock) that recording
	// takes: a flood of refused attempts costs reads only. Every attempt the
	// read counts was recorded before this one, so the transaction would
	// refuse it too.
	if retryAt, err := l.Check(ctx, keys...); err != nil || !retryAt.IsZero() {
		return nil, retryAt, err
	}
	now := l.now().UTC()
	failures := make([]failure, len(keys))
	for i, key := range keys {
		failures[i] = failure{Key: key.stored(), ExpiresAt: now.Add(key.Rule.Window)}
	}
	var retryAt time.Time
	err := l.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockKeys(ctx, tx, failures); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&failures).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("throttle: unable to record attempt: %w", err)
		}
		for i, key := range keys {
			var expiries []time.Time
			err := tx.NewSelect().Model((*failure)(nil)).Column("expires_at").
				Where("key = ?", key.stored()).Where("expires_at > ?", now).Where("id < ?", failures[i].ID).
				OrderExpr("expires_at DESC").Limit(1).Offset(int64(key.Rule.Limit-1)).
				Scan(ctx, &expiries)
			if err != nil {
				return fmt.Errorf("throttle: unable to check %s: %w", key.Rule.Name, err)
			}
			if len(expiries) > 0 && expiries[0].After(retryAt) {
				retryAt = expiries[0].UTC()
			}
		}
		if !retryAt.IsZero() {
			return errRefused // rolled back: a refused attempt leaves no record
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		return nil, retryAt, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	attempt := &Attempt{limiter: l, ids: make([]int64, len(failures))}
	for i := range failures {
		attempt.ids[i] = failures[i].ID
	}
	return attempt, time.Time{}, nil
}

var errRefused = errors.New("throttle: refused")

// Outcome is how an attempt made through Try ended.
type Outcome int

const (
	// Refused: not made, a key being over its limit.
	Refused Outcome = iota
	// Counted: the attempt counts against its keys (a wrong guess, or an
	// action that counts whatever comes of it).
	Counted
	// Succeeded: the attempt is taken back, and the failures under the
	// keys to clear are forgotten.
	Succeeded
	// Untried: the attempt could not be made after all (an error, or
	// nothing left to try): it is taken back, and counts for nothing.
	Untried
)

// Try makes one attempt under keys, the one sequence every guarded form
// follows: a key over its limit refuses it (Refused, and the time until
// which) without calling attempt; otherwise the attempt is recorded as
// failed, attempt runs, and unless it says Counted, the record is taken
// back (and on Succeeded, the failures under clear are forgotten). An
// error from attempt means Untried; it is returned, joined with any error
// taking the attempt back.
func (l *Limiter) Try(ctx context.Context, keys, clear []Key, attempt func() (Outcome, error)) (Outcome, time.Time, error) {
	a, retryAt, err := l.Begin(ctx, keys...)
	if err != nil {
		return Untried, time.Time{}, err
	}
	if a == nil {
		return Refused, retryAt, nil
	}
	outcome, err := attempt()
	if err != nil {
		outcome = Untried
	}
	switch outcome {
	case Succeeded:
		err = errors.Join(err, a.Succeeded(ctx, clear...))
	case Untried:
		err = errors.Join(err, a.Succeeded(ctx))
	}
	return outcome, time.Time{}, err
}

// Count records an action under keys that counts whatever comes of it (a
// mail sent, a passkey prompt begun), unless a key is over its limit: then
// it records nothing and returns the time until which it is refused.
func (l *Limiter) Count(ctx context.Context, keys ...Key) (retryAt time.Time, err error) {
	_, retryAt, err = l.Try(ctx, keys, nil, func() (Outcome, error) { return Counted, nil })
	return retryAt, err
}

// lockKeys makes the transactions of attempts under the same key take turns
// on PostgreSQL, whose concurrent transactions do not see each other's
// inserts until they commit: one attempt would not count another that took
// an id before it but committed after it. SQLite needs no lock: its
// transactions write one at a time (BEGIN IMMEDIATE).
func lockKeys(ctx context.Context, tx bun.Tx, failures []failure) error {
	if tx.Dialect().Name() != dialect.PG {
		return nil
	}
	keys := make([]string, len(failures))
	for i, f := range failures {
		keys[i] = f.Key
	}
	// One order for every transaction, so that none waits on another in a circle.
	slices.Sort(keys)
	for _, key := range slices.Compact(keys) {
		if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtext(?))", key).Exec(ctx); err != nil {
			return fmt.Errorf("throttle: unable to lock %s: %w", key, err)
		}
	}
	return nil
}

// Succeeded takes back the attempt's record, and forgets the failures under
// clear (after a login, those of the account or device that logged in).
func (a *Attempt) Succeeded(ctx context.Context, clear ...Key) error {
	if err := a.forget(ctx); err != nil {
		return err
	}
	return a.limiter.Clear(ctx, clear...)
}

func (a *Attempt) forget(ctx context.Context) error {
	if _, err := a.limiter.db.NewDelete().Model((*failure)(nil)).Where("id IN (?)", bun.In(a.ids)).Exec(ctx); err != nil {
		return fmt.Errorf("throttle: unable to take back an attempt: %w", err)
	}
	return nil
}

// Fail records one failure under each key, in one statement.
func (l *Limiter) Fail(ctx context.Context, keys ...Key) error {
	if len(keys) == 0 {
		return nil
	}
	now := l.now().UTC()
	failures := make([]failure, len(keys))
	for i, key := range keys {
		failures[i] = failure{Key: key.stored(), ExpiresAt: now.Add(key.Rule.Window)}
	}
	if _, err := l.db.NewInsert().Model(&failures).Exec(ctx); err != nil {
		return fmt.Errorf("throttle: unable to record failure: %w", err)
	}
	return nil
}

// Clear forgets the failures under the keys: after a successful login, those
// of the account or device that logged in. Never a client address's: an
// attacker would log in to an account of their own between guesses.
func (l *Limiter) Clear(ctx context.Context, keys ...Key) error {
	if len(keys) == 0 {
		return nil
	}
	stored := make([]string, len(keys))
	for i, key := range keys {
		stored[i] = key.stored()
	}
	if _, err := l.db.NewDelete().Model((*failure)(nil)).Where("key IN (?)", bun.In(stored)).Exec(ctx); err != nil {
		return fmt.Errorf("throttle: unable to clear failures: %w", err)
	}
	return nil
}

// DeleteExpired removes the failures that no longer count under any rule.
func (l *Limiter) DeleteExpired(ctx context.Context, now time.Time) error {
	if _, err := l.db.NewDelete().Model((*failure)(nil)).Where("expires_at <= ?", now.UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("throttle: unable to delete expired failures: %w", err)
	}
	return nil
}
