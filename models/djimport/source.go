package djimport

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for a Django database on PostgreSQL
	_ "github.com/mattn/go-sqlite3"    // the sqlite3 driver for a Django database file
)

// ErrNotDjango is a source database without the user table: not a Django
// site's, or one whose users live in another table (-user-table).
var ErrNotDjango = errors.New("not a Django database")

// source is a Django site's database, opened read-only where the engine
// allows: the import never writes to it.
type source struct {
	db *sql.DB
}

// openSource opens a Django database: sqlite:/path/to/db.sqlite3 (or a bare
// path) or a postgres:// URL.
func openSource(ctx context.Context, from string) (*source, error) {
	var db *sql.DB
	var err error
	switch {
	case strings.HasPrefix(from, "postgres://"), strings.HasPrefix(from, "postgresql://"):
		db, err = sql.Open("pgx", from)
	case strings.Contains(from, "://"):
		return nil, fmt.Errorf("djimport: %s: give a Django database as sqlite:/path/to/db.sqlite3 or postgres://…", redacted(from))
	default:
		path := strings.TrimPrefix(from, "sqlite:")
		info, statErr := os.Stat(path)
		if statErr != nil {
			return nil, fmt.Errorf("djimport: unable to read %s: %w", path, statErr)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("djimport: %s is not a file", path)
		}
		// mode=ro: SQLite opens the file for reading only and never creates it.
		db, err = sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	}
	if err != nil {
		return nil, fmt.Errorf("djimport: unable to open the Django database: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("djimport: unable to open the Django database: %w", err)
	}
	return &source{db: db}, nil
}

func (s *source) Close() error { return s.db.Close() }

// identifier is a table name the import may put into SQL: it cannot be a
// parameter, so only plain names pass.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// hasTable reports whether the source has table (and it can be read).
func (s *source) hasTable(ctx context.Context, table string) bool {
	rows, err := s.db.QueryContext(ctx, "SELECT 1 FROM "+table+" WHERE 1 = 0")
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// djangoUser is a row of auth_user (or of a custom user model with its columns).
type djangoUser struct {
	ID                             int64
	Username, Password, Email      string
	FirstName, LastName            string
	IsActive, IsStaff, IsSuperuser bool
	DateJoined                     time.Time
	LastLogin                      sql.NullTime
}

// users reads every row of table, by id.
func (s *source) users(ctx context.Context, table string) ([]djangoUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, username, password, email, first_name, last_name,
		is_active, is_staff, is_superuser, date_joined, last_login FROM `+table+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("djimport: unable to read %s: %w", table, err)
	}
	defer rows.Close()
	var users []djangoUser
	for rows.Next() {
		var u djangoUser
		if err := rows.Scan(&u.ID, &u.Username, &u.Password, &u.Email, &u.FirstName, &u.LastName,
			&u.IsActive, &u.IsStaff, &u.IsSuperuser, &u.DateJoined, &u.LastLogin); err != nil {
			return nil, fmt.Errorf("djimport: unable to read %s: %w", table, err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("djimport: unable to read %s: %w", table, err)
	}
	return users, nil
}

// verifiedAddresses returns each user's verified primary address from
// django-allauth's account_emailaddress, or none without that table.
func (s *source) verifiedAddresses(ctx context.Context) (map[int64]string, error) {
	verified := map[int64]string{}
	if !s.hasTable(ctx, "account_emailaddress") {
		return verified, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, email FROM account_emailaddress WHERE verified AND "primary"`)
	if err != nil {
		return nil, fmt.Errorf("djimport: unable to read account_emailaddress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, fmt.Errorf("djimport: unable to read account_emailaddress: %w", err)
		}
		verified[id] = email
	}
	return verified, rows.Err()
}

// djangoArticle is a row of the lecture's articles_article.
type djangoArticle struct {
	ID                   int64
	Title, Content       string
	CreatedAt, UpdatedAt time.Time
	AuthorID             sql.NullInt64
}

// articles reads articles_article by id, or nothing without that table.
func (s *source) articles(ctx context.Context) ([]djangoArticle, error) {
	if !s.hasTable(ctx, "articles_article") {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, content, created_at, updated_at, author_id
		FROM articles_article ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("djimport: unable to read articles_article: %w", err)
	}
	defer rows.Close()
	var articles []djangoArticle
	for rows.Next() {
		var a djangoArticle
		if err := rows.Scan(&a.ID, &a.Title, &a.Content, &a.CreatedAt, &a.UpdatedAt, &a.AuthorID); err != nil {
			return nil, fmt.Errorf("djimport: unable to read articles_article: %w", err)
		}
		articles = append(articles, a)
	}
	return articles, rows.Err()
}

// redacted hides a password in a database URL.
func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "the URL given"
}
