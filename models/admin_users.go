package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// UserQuery is a search of the admin's user list: words, each matching the
// start of the username, email address, first or last name, in any letter
// case; a nil filter matches either value.
type UserQuery struct {
	Search    string
	Active    *bool
	Staff     *bool
	Superuser *bool
	Verified  *bool
	Sort      string // one of UserSorts' names; "" for the first
}

// UserSorts are the orders of the user list, the default first, by name
// and SQL order. The views put the names into words (admin.sort.<name>).
var UserSorts = []struct{ Name, order string }{
	{"joined", "u.date_joined DESC, u.id DESC"},
	{"oldest", "u.date_joined ASC, u.id ASC"},
	{"login", "u.last_login DESC NULLS LAST, u.id DESC"},
	{"username", "u.username_key ASC"},
}

// searchWords bounds the words of a search, each of which costs an OR of
// four index lookups.
const searchWords = 5

func (q UserQuery) apply(db bun.IDB, s *bun.SelectQuery) *bun.SelectQuery {
	pg := db.Dialect().Name() == dialect.PG
	words := strings.Fields(q.Search)
	if len(words) > searchWords {
		words = words[:searchWords]
	}
	for _, word := range words {
		s = s.WhereGroup(" AND ", func(s *bun.SelectQuery) *bun.SelectQuery {
			s = prefixMatch(s, pg, "u.username_key", UsernameKey(word))
			for _, column := range []string{"u.email", "u.first_name", "u.last_name"} {
				s = prefixMatch(s, pg, "lower("+column+")", lowerLike(pg, word))
			}
			return s
		})
	}
	filters := []struct {
		column string
		value  *bool
	}{{"u.is_active", q.Active}, {"u.is_staff", q.Staff}, {"u.is_superuser", q.Superuser}, {"u.email_verified", q.Verified}}
	for _, f := range filters {
		if f.value != nil {
			s = s.Where(f.column+" = ?", *f.value)
		}
	}
	return s
}

// prefixMatch ORs to s a match of expression (one the migrations index)
// starting with prefix, in a form the engine answers from that index.
func prefixMatch(s *bun.SelectQuery, pg bool, expression, prefix string) *bun.SelectQuery {
	condition, args := prefixCondition(pg, expression, prefix)
	return s.WhereOr(condition, args...)
}

// prefixCondition is the SQL, and its arguments, of expression starting
// with prefix: on PostgreSQL LIKE 'prefix%', which a pattern-ops index
// turns into a range; on SQLite the range itself, in byte order.
func prefixCondition(pg bool, expression, prefix string) (string, []any) {
	if pg {
		escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
		return expression + " LIKE ?", []any{escaped + "%"}
	}
	return expression + " >= ? AND " + expression + " < ?", []any{prefix, prefix + "\U0010FFFF"}
}

// lowerLike is word as the database's lower() makes it: SQLite's lowers
// ASCII letters only.
func lowerLike(pg bool, word string) string {
	if pg {
		return strings.ToLower(word)
	}
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, word)
}

func (q UserQuery) order() string {
	for _, s := range UserSorts {
		if s.Name == q.Sort {
			return s.order
		}
	}
	return UserSorts[0].order
}

// SearchUsers returns up to limit users that match q, in its order, skipping offset.
func SearchUsers(ctx context.Context, db bun.IDB, q UserQuery, offset, limit int64) ([]User, error) {
	var users []User
	err := q.apply(db, db.NewSelect().Model(&users)).OrderExpr(q.order()).Offset(offset).Limit(limit).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to search users: %w", err)
	}
	return users, nil
}

// CountUsers counts the users that match q.
func CountUsers(ctx context.Context, db bun.IDB, q UserQuery) (int64, error) {
	n, err := q.apply(db, db.NewSelect().Model((*User)(nil))).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count users: %w", err)
	}
	return int64(n), nil
}

// Dashboard holds the admin's counts.
type Dashboard struct {
	Users, ActiveUsers, LiveSessions, Articles, FailedLogins, Throttled int64
}

// Dashboard windows: active users logged in within the first, failed and
// throttled logins happened within the second.
const (
	ActiveUserWindow  = 30 * 24 * time.Hour
	LoginProblemsSpan = 24 * time.Hour
)

// DashboardCounts counts what the admin's dashboard shows, as of now.
func DashboardCounts(ctx context.Context, db bun.IDB, now time.Time) (Dashboard, error) {
	var d Dashboard
	counts := []struct {
		into  *int64
		query *bun.SelectQuery
	}{
		{&d.Users, db.NewSelect().Model((*User)(nil))},
		{&d.ActiveUsers, db.NewSelect().Model((*User)(nil)).Where("last_login >= ?", now.Add(-ActiveUserWindow).UTC())},
		{&d.LiveSessions, db.NewSelect().Model((*Session)(nil)).Where("expires_at > ?", now.UTC())},
		{&d.Articles, db.NewSelect().Model((*Article)(nil))},
		{&d.FailedLogins, EventFilter{Kind: EventLoginFailed, Since: now.Add(-LoginProblemsSpan)}.apply(db.NewSelect().Model((*SecurityEvent)(nil)))},
		{&d.Throttled, EventFilter{Kind: EventThrottled, Since: now.Add(-LoginProblemsSpan)}.apply(db.NewSelect().Model((*SecurityEvent)(nil)))},
	}
	for _, c := range counts {
		n, err := c.query.Count(ctx)
		if err != nil {
			return d, fmt.Errorf("models: unable to count for the dashboard: %w", err)
		}
		*c.into = int64(n)
	}
	return d, nil
}

// UsersByID loads the users with these ids, by id.
func UsersByID(ctx context.Context, db bun.IDB, ids []int64) ([]User, error) {
	var users []User
	if len(ids) == 0 {
		return users, nil
	}
	err := db.NewSelect().Model(&users).Where("u.id IN (?)", bun.In(ids)).OrderExpr("u.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to load users: %w", err)
	}
	return users, nil
}

// CountLiveSessions counts the user's live sessions.
func CountLiveSessions(ctx context.Context, db bun.IDB, userID int64, now time.Time) (int64, error) {
	n, err := db.NewSelect().Model((*Session)(nil)).Where("user_id = ?", userID).Where("expires_at > ?", now.UTC()).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count sessions of user #%d: %w", userID, err)
	}
	return int64(n), nil
}

// ExplainUserSearch returns the engine's plan for SearchUsers with q, a line
// a step, so that tests and operators can see which indexes a search reads.
func ExplainUserSearch(ctx context.Context, db bun.IDB, q UserQuery, limit int64) ([]string, error) {
	query := q.apply(db, db.NewSelect().Model((*User)(nil))).OrderExpr(q.order()).Limit(limit).String()
	explain := "EXPLAIN QUERY PLAN "
	if db.Dialect().Name() == dialect.PG {
		explain = "EXPLAIN "
	}
	rows, err := db.QueryContext(ctx, explain+query)
	if err != nil {
		return nil, fmt.Errorf("models: unable to explain the user search: %w", err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var plan []string
	for rows.Next() {
		values := make([]any, len(columns))
		for i := range values {
			values[i] = new(any)
		}
		if err := rows.Scan(values...); err != nil {
			return nil, fmt.Errorf("models: unable to read the plan: %w", err)
		}
		// The step's text is the last column: SQLite's detail, PostgreSQL's only one.
		plan = append(plan, fmt.Sprint(*values[len(values)-1].(*any)))
	}
	return plan, rows.Err()
}

// UserEdit is what the admin may set on a user; the flags only a superuser.
type UserEdit struct {
	Email, FirstName, LastName     string
	IsActive, IsStaff, IsSuperuser bool
	TwoFactorExempt                bool // excused from the two-factor policy
}

// AdminUpdateUser applies edit to the user with id for actor, with the
// admin's rules; a deactivated user's sessions end. It records the changes,
// field by field, in the admin log and returns them (none: nothing was
// written). A new address is unverified.
func AdminUpdateUser(ctx context.Context, db bun.IDB, sessions SessionStorage, actor *User, id int64, edit UserEdit) ([]FieldChange, error) {
	var changes []FieldChange
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		superusers, err := lockSuperusers(ctx, tx)
		if err != nil {
			return err
		}
		actor, target, err := actorAndTarget(ctx, tx, actor, id, MayManage)
		if err != nil {
			return err
		}
		if (edit.IsStaff != target.IsStaff || edit.IsSuperuser != target.IsSuperuser || edit.TwoFactorExempt != target.TwoFactorExempt) && !MayChangeFlags(actor) {
			return ErrNotAllowed
		}
		if actor.ID == target.ID && !edit.IsActive {
			return ErrSelf
		}
		if adminSuperuser(target) && !(edit.IsActive && edit.IsStaff && edit.IsSuperuser) && superusers.last(target.ID) {
			return ErrLastSuperuser
		}
		changes = userChanges(target, edit)
		if len(changes) == 0 {
			return nil
		}
		_, err = tx.NewUpdate().Model((*User)(nil)).
			Set(keepVerified, edit.Email).
			Set("email = ?", edit.Email).Set("first_name = ?", edit.FirstName).Set("last_name = ?", edit.LastName).
			Set("is_active = ?", edit.IsActive).Set("is_staff = ?", edit.IsStaff).Set("is_superuser = ?", edit.IsSuperuser).
			Set("two_factor_exempt = ?", edit.TwoFactorExempt).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("models: unable to update user #%d: %w", id, err)
		}
		if target.IsActive && !edit.IsActive {
			if _, err := endOtherSessions(ctx, tx, sessions, id, ""); err != nil {
				return err
			}
		}
		return recordAdminAction(ctx, tx, actorOf(actor), ActionChange, ObjectUser, id, target.Username, changes)
	})
	return changes, err
}

// userChanges lists the fields edit changes on u, in the form's order.
func userChanges(u *User, edit UserEdit) []FieldChange {
	var changes []FieldChange
	text := func(field, from, to string) {
		if from != to {
			changes = append(changes, FieldChange{Field: field, From: from, To: to})
		}
	}
	flag := func(field string, from, to bool) {
		text(field, strconv.FormatBool(from), strconv.FormatBool(to))
	}
	text("email", u.Email, edit.Email)
	text("first_name", u.FirstName, edit.FirstName)
	text("last_name", u.LastName, edit.LastName)
	flag("is_active", u.IsActive, edit.IsActive)
	flag("is_staff", u.IsStaff, edit.IsStaff)
	flag("is_superuser", u.IsSuperuser, edit.IsSuperuser)
	flag("two_factor_exempt", u.TwoFactorExempt, edit.TwoFactorExempt)
	return changes
}

// BulkResult says what a bulk action did: whom it changed, and whom it
// left alone and why.
type BulkResult struct {
	Changed []string
	Skipped []Skip
}

// Skip is a user a bulk action left alone.
type Skip struct {
	Username string
	Reason   error // ErrNotAllowed, ErrSelf or ErrLastSuperuser
}

// SetUsersActive activates or deactivates the users with ids for actor, each
// as the admin's rules allow, ending the sessions of those deactivated at
// once; users already so, or not found, are passed over. Each change is
// logged.
func SetUsersActive(ctx context.Context, db bun.IDB, sessions SessionStorage, actor *User, ids []int64, active bool) (BulkResult, error) {
	var result BulkResult
	action := ActionActivate
	if !active {
		action = ActionDeactivate
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		result = BulkResult{}
		superusers, err := lockSuperusers(ctx, tx)
		if err != nil {
			return err
		}
		if actor, err = freshActor(ctx, tx, actor); err != nil {
			return err
		}
		var users []User
		q := tx.NewSelect().Model(&users).Where("u.id IN (?)", bun.In(ids)).OrderExpr("u.username_key")
		if err := forUpdate(tx, q).Scan(ctx); err != nil {
			return fmt.Errorf("models: unable to load users: %w", err)
		}
		for i := range users {
			u := &users[i]
			if u.IsActive == active {
				continue
			}
			var reason error
			switch {
			case !MayManage(actor, u):
				reason = ErrNotAllowed
			case !active && u.ID == actor.ID:
				reason = ErrSelf
			case !active && adminSuperuser(u) && superusers.last(u.ID):
				reason = ErrLastSuperuser
			}
			if reason != nil {
				result.Skipped = append(result.Skipped, Skip{Username: u.Username, Reason: reason})
				continue
			}
			if !active {
				superusers.remove(u.ID)
			}
			if _, err := tx.NewUpdate().Model((*User)(nil)).Set("is_active = ?", active).Where("id = ?", u.ID).Exec(ctx); err != nil {
				return fmt.Errorf("models: unable to set user #%d active: %w", u.ID, err)
			}
			if !active {
				if _, err := endOtherSessions(ctx, tx, sessions, u.ID, ""); err != nil {
					return err
				}
			}
			change := []FieldChange{{Field: "is_active", From: strconv.FormatBool(!active), To: strconv.FormatBool(active)}}
			if err := recordAdminAction(ctx, tx, actorOf(actor), action, ObjectUser, u.ID, u.Username, change); err != nil {
				return err
			}
			result.Changed = append(result.Changed, u.Username)
		}
		return nil
	})
	return result, err
}

// AdminSetPassword stores a new password hash for the user with id, for
// actor, and ends every session of theirs; the log says the password was
// set, never what to. It returns how many live sessions ended.
func AdminSetPassword(ctx context.Context, db bun.IDB, sessions SessionStorage, actor *User, id int64, hash string) (int, error) {
	var ended int
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		actor, target, err := actorAndTarget(ctx, tx, actor, id, MayManage)
		switch {
		case err != nil:
			return err
		case target.ID == actor.ID:
			return ErrOwnPassword
		}
		if ended, err = ChangePassword(ctx, tx, sessions, id, hash, "", nil); err != nil {
			return err
		}
		return recordAdminAction(ctx, tx, actorOf(actor), ActionSetPassword, ObjectUser, id, target.Username,
			[]FieldChange{{Field: FieldPassword}})
	})
	return ended, err
}

// AdminEndSessions ends every session of the user with id but the one with
// keepKey (the actor's own, when they end their own others), for actor, and
// returns how many were live.
func AdminEndSessions(ctx context.Context, db bun.IDB, sessions SessionStorage, actor *User, id int64, keepKey string) (int, error) {
	var ended int
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		actor, target, err := actorAndTarget(ctx, tx, actor, id, MayManage)
		if err != nil {
			return err
		}
		if ended, err = endOtherSessions(ctx, tx, sessions, id, keepKey); err != nil {
			return err
		}
		return recordAdminAction(ctx, tx, actorOf(actor), ActionEndSessions, ObjectUser, id, target.Username,
			[]FieldChange{{Field: "live_sessions", From: strconv.Itoa(ended), To: "0"}})
	})
	return ended, err
}

// AdminTurnOffTwoFactor turns off the two-factor authentication of the
// user with id, for actor, a superuser: the way back for someone who lost
// both their phone and their recovery codes, once the operator knows it is
// them. turnOff removes the authenticator and the codes within the
// transaction (models/twofactor does; it imports this package) and reports
// whether two-factor was on; so does AdminTurnOffTwoFactor.
func AdminTurnOffTwoFactor(ctx context.Context, db bun.IDB, actor *User, id int64, turnOff func(context.Context, bun.Tx) (bool, error)) (bool, error) {
	var wasOn bool
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		actor, target, err := actorAndTarget(ctx, tx, actor, id, superuserAction)
		switch {
		case err != nil:
			return err
		case target.ID == actor.ID:
			return ErrOwnTwoFactor
		}
		if wasOn, err = turnOff(ctx, tx); err != nil || !wasOn {
			return err
		}
		return recordAdminAction(ctx, tx, actorOf(actor), ActionTwoFactorOff, ObjectUser, id, target.Username,
			[]FieldChange{{Field: "two_factor", From: "on", To: "off"}})
	})
	return wasOn, err
}

// AdminDisconnect removes one of the user's accounts at other sites, for
// actor, a superuser: disconnect deletes it within the transaction
// (models/social does) and reports the provider's name, or "" if it was
// gone already; the admin log records which provider it was.
func AdminDisconnect(ctx context.Context, db bun.IDB, actor *User, id int64, disconnect func(context.Context, bun.Tx) (string, error)) (string, error) {
	var provider string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		actor, target, err := actorAndTarget(ctx, tx, actor, id, superuserAction)
		if err != nil {
			return err
		}
		if provider, err = disconnect(ctx, tx); err != nil || provider == "" {
			return err
		}
		return recordAdminAction(ctx, tx, actorOf(actor), ActionDisconnect, ObjectUser, id, target.Username,
			[]FieldChange{{Field: "social_account", From: provider}})
	})
	return provider, err
}

// RecordResetMail logs that actor had a password reset link mailed to target.
func RecordResetMail(ctx context.Context, db bun.IDB, actor, target *User) error {
	return recordAdminAction(ctx, db, actorOf(actor), ActionSendReset, ObjectUser, target.ID, target.Username, nil)
}

// AdminDeleteUser deletes the user with id, with their articles and
// sessions, for actor: a superuser, not on themselves, and never the last
// active superuser.
func AdminDeleteUser(ctx context.Context, db bun.IDB, sessions SessionStorage, actor *User, id int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		superusers, err := lockSuperusers(ctx, tx)
		if err != nil {
			return err
		}
		actor, target, err := actorAndTarget(ctx, tx, actor, id, superuserAction)
		switch {
		case err != nil:
			return err
		case target.ID == actor.ID:
			return ErrSelf
		case adminSuperuser(target) && superusers.last(target.ID):
			return ErrLastSuperuser
		}
		if err := recordAdminAction(ctx, tx, actorOf(actor), ActionDelete, ObjectUser, id, target.Username, nil); err != nil {
			return err
		}
		return DeleteUser(ctx, tx, sessions, id)
	})
}
