package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The admin's refusals.
var (
	// ErrNotAllowed: staff act on users who are neither staff nor
	// superusers, and on articles; the rest is for superusers.
	ErrNotAllowed = errors.New("models: not allowed in the admin")
	// ErrSelf: no one deactivates or deletes their own account from the admin.
	ErrSelf = errors.New("models: not on one's own account")
	// ErrLastSuperuser: the last active superuser stays one, active, and
	// staff (a superuser who is not staff cannot open the admin).
	ErrLastSuperuser = errors.New("models: the last active superuser")
	// ErrOwnPassword: one's own password changes in one's settings, which
	// ask for the current one, not in the admin.
	ErrOwnPassword = errors.New("models: one's own password")
	// ErrOwnTwoFactor: one's own two-factor turns off in one's settings.
	ErrOwnTwoFactor = errors.New("models: one's own two-factor")
)

// MayManage reports whether actor, a staff member, may act on target in the
// admin: a superuser on anyone, other staff on users who are neither staff
// nor superusers.
func MayManage(actor, target *User) bool {
	if !actor.IsStaff {
		return false
	}
	return actor.IsSuperuser || !target.IsStaff && !target.IsSuperuser
}

// MayChangeFlags reports whether actor may make users staff or superusers,
// or delete users: superusers only.
func MayChangeFlags(actor *User) bool { return actor.IsStaff && actor.IsSuperuser }

// actorOf names u in the admin log.
func actorOf(u *User) Actor { return Actor{ID: u.ID, Username: u.Username} }

// UserEdit is what the admin may set on a user; the flags only a superuser.
type UserEdit struct {
	Email, FirstName, LastName     string
	IsActive, IsStaff, IsSuperuser bool
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
		if actor, err = freshActor(ctx, tx, actor); err != nil {
			return err
		}
		target, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !MayManage(actor, target) {
			return ErrNotAllowed
		}
		if (edit.IsStaff != target.IsStaff || edit.IsSuperuser != target.IsSuperuser) && !MayChangeFlags(actor) {
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
			Set("email_verified = email_verified AND lower(email) = lower(?)", edit.Email).
			Set("email = ?", edit.Email).Set("first_name = ?", edit.FirstName).Set("last_name = ?", edit.LastName).
			Set("is_active = ?", edit.IsActive).Set("is_staff = ?", edit.IsStaff).Set("is_superuser = ?", edit.IsSuperuser).
			Where("id = ?", id).Exec(ctx)
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
		actor, err := freshActor(ctx, tx, actor)
		if err != nil {
			return err
		}
		target, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case !MayManage(actor, target):
			return ErrNotAllowed
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
		actor, err := freshActor(ctx, tx, actor)
		if err != nil {
			return err
		}
		target, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !MayManage(actor, target) {
			return ErrNotAllowed
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
		actor, err := freshActor(ctx, tx, actor)
		if err != nil {
			return err
		}
		target, err := lockUser(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case !MayChangeFlags(actor):
			return ErrNotAllowed
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
		if actor, err = freshActor(ctx, tx, actor); err != nil {
			return err
		}
		target, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case !MayChangeFlags(actor):
			return ErrNotAllowed
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

// AdminDeleteArticle deletes the article with id for actor, a staff member.
func AdminDeleteArticle(ctx context.Context, db bun.IDB, actor *User, id int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		actor, err := freshActor(ctx, tx, actor)
		if err != nil {
			return err
		}
		a, err := ArticleByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := recordAdminAction(ctx, tx, actorOf(actor), ActionDelete, ObjectArticle, id, "“"+a.Title+"” by "+a.Author.Username, nil); err != nil {
			return err
		}
		return DeleteArticle(ctx, tx, id)
	})
}

// freshActor reloads the actor inside the transaction: rights are those
// they have as it runs, not when their request began (another admin may
// have just demoted or deactivated them).
func freshActor(ctx context.Context, tx bun.Tx, actor *User) (*User, error) {
	fresh := new(User)
	if err := tx.NewSelect().Model(fresh).Where("u.id = ?", actor.ID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotAllowed
		}
		return nil, fmt.Errorf("models: unable to load admin #%d: %w", actor.ID, err)
	}
	if !fresh.IsActive || !fresh.IsStaff {
		return nil, ErrNotAllowed
	}
	return fresh, nil
}

// lockUser loads the user with id, locked until the transaction ends on
// PostgreSQL (SQLite's write transactions run one at a time anyway).
func lockUser(ctx context.Context, tx bun.Tx, id int64) (*User, error) {
	u := new(User)
	err := forUpdate(tx, tx.NewSelect().Model(u).Where("u.id = ?", id)).Scan(ctx)
	return u, notFound(err, fmt.Sprintf("user #%d", id))
}

// adminSuperuser reports whether u is a superuser who can use the admin:
// active and staff too. The last one is kept so: unticking staff alone
// would lock everyone out of the admin as surely as deactivating them.
func adminSuperuser(u *User) bool { return u.IsActive && u.IsStaff && u.IsSuperuser }

// superusers are the ids of the active staff superusers, as a transaction
// found and locked them.
type superusers []int64

// lockSuperusers finds the active staff superusers. On PostgreSQL it locks their
// rows until the transaction ends, in id order, before any other row: two
// admins demoting the last two superusers at once cannot both pass, and
// cannot deadlock. (SQLite's write transactions run one at a time.)
func lockSuperusers(ctx context.Context, tx bun.Tx) (*superusers, error) {
	var ids superusers
	q := tx.NewSelect().Model((*User)(nil)).Column("id").Where("is_superuser").Where("is_active").Where("is_staff").OrderExpr("id")
	if err := forUpdate(tx, q).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("models: unable to find the superusers: %w", err)
	}
	return &ids, nil
}

// last reports whether no active superuser but the one with id remains.
func (s *superusers) last(id int64) bool {
	for _, other := range *s {
		if other != id {
			return false
		}
	}
	return true
}

// remove forgets a superuser the transaction deactivates.
func (s *superusers) remove(id int64) {
	*s = slices.DeleteFunc(*s, func(other int64) bool { return other == id })
}

// forUpdate locks the rows q reads where the engine has row locks.
func forUpdate(tx bun.Tx, q *bun.SelectQuery) *bun.SelectQuery {
	if tx.Dialect().Name() == dialect.PG {
		return q.For("UPDATE")
	}
	return q
}

// ArticlesBy returns up to limit of the author's articles, newest first, without their content.
func ArticlesBy(ctx context.Context, db bun.IDB, authorID int64, limit int64) ([]Article, error) {
	var articles []Article
	err := db.NewSelect().Model(&articles).ExcludeColumn("content").Where("a.author_id = ?", authorID).
		OrderExpr("a.created_at DESC, a.id DESC").Limit(limit).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list articles by user #%d: %w", authorID, err)
	}
	return articles, nil
}

// ArticleQuery is a search of the admin's article list: words of the title,
// anywhere in it, or the start of the author's username, in any letter case.
type ArticleQuery struct{ Search string }

func (q ArticleQuery) apply(db bun.IDB, s *bun.SelectQuery) *bun.SelectQuery {
	search := strings.TrimSpace(q.Search)
	if search == "" {
		return s
	}
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(search))
	author, args := prefixCondition(db.Dialect().Name() == dialect.PG, "username_key", UsernameKey(search))
	return s.WhereGroup(" AND ", func(s *bun.SelectQuery) *bun.SelectQuery {
		return s.Where(`lower(a.title) LIKE ? ESCAPE '\'`, "%"+escaped+"%").
			WhereOr("a.author_id IN (?)", db.NewSelect().Model((*User)(nil)).Column("id").Where(author, args...))
	})
}

// SearchArticles returns up to limit articles that match q, newest first,
// skipping offset, with their authors' names and without their content.
func SearchArticles(ctx context.Context, db bun.IDB, q ArticleQuery, offset, limit int64) ([]Article, error) {
	var articles []Article
	err := q.apply(db, db.NewSelect().Model(&articles).Relation("Author", withUsername).ExcludeColumn("content")).
		OrderExpr("a.created_at DESC, a.id DESC").Offset(offset).Limit(limit).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to search articles: %w", err)
	}
	return articles, nil
}

// CountSearchArticles counts the articles that match q.
func CountSearchArticles(ctx context.Context, db bun.IDB, q ArticleQuery) (int64, error) {
	n, err := q.apply(db, db.NewSelect().Model((*Article)(nil))).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count articles: %w", err)
	}
	return int64(n), nil
}
