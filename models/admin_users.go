package models

import (
	"context"
	"fmt"
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

// UserSorts are the orders of the user list, the default first.
var UserSorts = []struct{ Name, Label, order string }{
	{"joined", "Newest first", "u.date_joined DESC, u.id DESC"},
	{"oldest", "Oldest first", "u.date_joined ASC, u.id ASC"},
	{"login", "Last login", "u.last_login DESC NULLS LAST, u.id DESC"},
	{"username", "Username", "u.username_key ASC"},
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
