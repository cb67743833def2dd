package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

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
		if err := recordAdminAction(ctx, tx, actorOf(actor), ActionDelete, ObjectArticle, id,
			NewDetail("article_by", "Title", Isolated(a.Title), "Author", Isolated(a.Author.Username)).String(), nil); err != nil {
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

// actorAndTarget is how every admin action on one user begins, inside its
// transaction: the actor as they are now (freshActor), the target with id
// locked, and ErrNotAllowed unless may(actor, target) — MayManage, or
// superuserAction for what only superusers do.
func actorAndTarget(ctx context.Context, tx bun.Tx, actor *User, id int64, may func(actor, target *User) bool) (*User, *User, error) {
	actor, err := freshActor(ctx, tx, actor)
	if err != nil {
		return nil, nil, err
	}
	target, err := lockUser(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if !may(actor, target) {
		return nil, nil, ErrNotAllowed
	}
	return actor, target, nil
}

// superuserAction lets a superuser act on anyone (MayChangeFlags), for
// actorAndTarget.
func superuserAction(actor, _ *User) bool { return MayChangeFlags(actor) }

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

// LockUser locks the user's row until the transaction ends (PostgreSQL;
// SQLite's write transactions run one at a time): changes of one user's
// factors wait for each other.
func LockUser(ctx context.Context, tx bun.Tx, id int64) error {
	_, err := lockUser(ctx, tx, id)
	return err
}
