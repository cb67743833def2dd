package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Article is a post on the board, written by one user and deleted with them.
type Article struct {
	bun.BaseModel `bun:"table:articles,alias:a"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Title     string    `bun:"title,notnull"`
	Content   string    `bun:"content,notnull"`
	AuthorID  int64     `bun:"author_id,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`

	Author *User `bun:"rel:belongs-to,join:author_id=id"`
}

// withUsername joins the user's id and username, and nothing more of them.
func withUsername(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Column("id", "username")
}

// CreateArticle saves a new article by the author, written at now;
// ErrNotFound if the author's account is gone (deleted while they were
// writing).
func CreateArticle(ctx context.Context, db bun.IDB, authorID int64, title, content string, now time.Time) (*Article, error) {
	now = now.UTC()
	a := &Article{Title: title, Content: content, AuthorID: authorID, CreatedAt: now, UpdatedAt: now}
	if _, err := db.NewInsert().Model(a).Exec(ctx); err != nil {
		if isForeignKeyViolation(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("models: unable to create article by user #%d: %w", authorID, err)
	}
	return a, nil
}

// ArticleByID finds the article with this id, with its author's name.
func ArticleByID(ctx context.Context, db bun.IDB, id int64) (*Article, error) {
	a := new(Article)
	err := db.NewSelect().Model(a).Relation("Author", withUsername).Where("a.id = ?", id).Scan(ctx)
	return a, notFound(err, fmt.Sprintf("article #%d", id))
}

// UpdateArticle replaces the article's title and content, edited at now.
func UpdateArticle(ctx context.Context, db bun.IDB, id int64, title, content string, now time.Time) error {
	_, err := db.NewUpdate().Model((*Article)(nil)).
		Set("title = ?", title).Set("content = ?", content).Set("updated_at = ?", now.UTC()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("models: unable to update article #%d: %w", id, err)
	}
	return nil
}

// DeleteArticle deletes the article.
func DeleteArticle(ctx context.Context, db bun.IDB, id int64) error {
	if _, err := db.NewDelete().Model((*Article)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to delete article #%d: %w", id, err)
	}
	return nil
}

// CountArticles counts every article, as the triggers of article_counts
// keep the number: a few rows to add, not a table to scan.
func CountArticles(ctx context.Context, db bun.IDB) (int64, error) {
	var n int64
	err := db.NewSelect().TableExpr("article_counts").ColumnExpr("COALESCE(SUM(n), 0)").Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count articles: %w", err)
	}
	return n, nil
}

// CountArticlesBy counts the articles of the author with authorID.
func CountArticlesBy(ctx context.Context, db bun.IDB, authorID int64) (int64, error) {
	n, err := db.NewSelect().Model((*Article)(nil)).Where("author_id = ?", authorID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count articles by user #%d: %w", authorID, err)
	}
	return n, nil
}

// NewestArticles returns up to limit articles, newest first, skipping offset.
// The ids are picked from the newest-first index alone, so a deep page skips
// index entries rather than whole rows.
func NewestArticles(ctx context.Context, db bun.IDB, offset, limit int64) ([]Article, error) {
	ids := db.NewSelect().Model((*Article)(nil)).Column("id").
		OrderExpr("created_at DESC, id DESC").Offset(offset).Limit(limit)
	var articles []Article
	err := db.NewSelect().Model(&articles).Relation("Author", withUsername).
		ExcludeColumn("content").
		Where("a.id IN (?)", ids).
		OrderExpr("a.created_at DESC, a.id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list articles: %w", err)
	}
	return articles, nil
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
