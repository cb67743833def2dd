package views_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"gatehouse/models"
	"gatehouse/views"
)

func twentyArticles() []models.Article {
	author := &models.User{ID: 1, Username: "bench"}
	articles := make([]models.Article, 20)
	for i := range articles {
		at := time.Date(2026, 11, 28, 12, i, 0, 0, time.UTC)
		articles[i] = models.Article{ID: int64(i + 1), Title: fmt.Sprintf("Article <%d>", i), AuthorID: 1, Author: author, CreatedAt: at, UpdatedAt: at}
	}
	return articles
}

// BenchmarkArticleList renders one index page's list of 20 articles, with
// delete buttons, as a cache miss does.
func BenchmarkArticleList(b *testing.B) {
	articles := twentyArticles()
	for b.Loop() {
		if err := views.ArticleList(articles, 1).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArticleIndex renders the whole index page for a logged-in user
// around a list rendered earlier, as every cached page view does.
func BenchmarkArticleIndex(b *testing.B) {
	var list []byte
	w := writerFunc(func(p []byte) (int, error) { list = append(list, p...); return len(p), nil })
	if err := views.ArticleList(twentyArticles(), 1).Render(context.Background(), w); err != nil {
		b.Fatal(err)
	}
	page := views.ArticlesPage{List: rawHTML(list), Page: 1, Pages: 5}
	ctx := views.WithPage(context.Background(), views.Page{User: &models.User{ID: 1, Username: "bench"}, CSRFToken: "token"})
	for b.Loop() {
		if err := views.ArticleIndex(page).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type rawHTML []byte

func (r rawHTML) Render(_ context.Context, w io.Writer) error {
	_, err := w.Write(r)
	return err
}
