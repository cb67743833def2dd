package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/views"
)

// articlesPerPage is the length of a page of the index.
const articlesPerPage = 20

// articleIndex lists the articles newest first, 20 a page. A page number that
// is not a number gives the first page; one past the end, the last. Each
// page's articles are counted, loaded and their entries rendered (as their
// author sees them, with a delete button, and as others do) once for all
// viewers who read the same language, until articles or users change; a
// request only puts the viewer's list together. (Rendering a page per
// viewer made each article write cost a render per active user; rendering
// the list for each request costs ~5× the cached page: see BENCHMARKS.md.)
func (h *handler) articleIndex(c *fiber.Ctx) error {
	ctx := c.UserContext()
	requested := pageNumber(c)
	var viewerID int64
	if u := currentUser(c); u != nil {
		viewerID = u.ID
	}
	snapshot, err := h.snapshot(c)
	if err != nil {
		return err
	}
	key := articleIndexKey{page: requested, language: views.LanguageOf(ctx).Code()}
	index, err := models.Cached(snapshot, key, func() (*articleIndexPage, error) {
		return h.articlesPage(ctx, requested)
	})
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.ArticleIndex(views.ArticlesPage{
		List:  views.ArticleListOf(index.articles, index.entries, viewerID),
		Empty: index.total == 0,
		Page:  index.page,
		Pages: index.pages,
	}))
}

// articleIndexPage is one page of the index, as every viewer who reads its
// language sees it.
type articleIndexPage struct {
	articles    []models.Article
	entries     *views.Entries // of articles
	total       int64
	page, pages int64
}

// articlesPage counts the articles (their kept count: a few rows, not a
// scan of the table), picks the page (the last one if page is past it) and
// loads its articles.
func (h *handler) articlesPage(ctx context.Context, page int64) (*articleIndexPage, error) {
	total, err := models.CountArticles(ctx, h.db)
	if err != nil {
		return nil, err
	}
	pages := max(1, (total+articlesPerPage-1)/articlesPerPage)
	page = min(page, pages)
	articles, err := models.NewestArticles(ctx, h.db, (page-1)*articlesPerPage, articlesPerPage)
	if err != nil {
		return nil, err
	}
	entries, err := views.ArticleEntries(ctx, articles, h.renderedEntries)
	if err != nil {
		return nil, fmt.Errorf("render article list: %w", err)
	}
	return &articleIndexPage{articles: articles, entries: entries, total: total, page: page, pages: pages}, nil
}

// Keys of the cached article queries.
type (
	// articleIndexKey is a page of the index: the page requested, its
	// entries rendered in a language (its code).
	articleIndexKey struct {
		page     int64
		language string
	}
	articleKey int64
)

// Articles are shown with their authors' names.
const articleTables = models.TableArticles | models.TableUsers

// DependsOn says the articles and their authors.
func (articleIndexKey) DependsOn() models.Tables { return articleTables }

// DependsOn says the article and its author.
func (articleKey) DependsOn() models.Tables { return articleTables }

// articleDetail shows one article.
func (h *handler) articleDetail(c *fiber.Ctx) error {
	a, err := h.article(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.ArticleDetail(a))
}

// articleCreatePage shows the form for a new article.
func (h *handler) articleCreatePage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.ArticleCreate(views.NewArticleForm("", "")))
}

// articleCreateSubmit saves a new article by the current user.
func (h *handler) articleCreateSubmit(c *fiber.Ctx) error {
	f, err := newArticleForm(c)
	if err != nil {
		return err
	}
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.ArticleFormView(f, views.PathArticleCreate, views.ArticlePublish, views.PathArticles), views.ArticleCreate(f))
	}
	a, err := models.CreateArticle(c.UserContext(), h.db, currentUser(c).ID, f.Title, f.Content, h.now())
	if errors.Is(err, models.ErrNotFound) {
		// The account was deleted while this was being written.
		return &clientError{fiber.StatusForbidden, views.Msg("account.gone")}
	}
	if err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("flash.article_published"))
	return h.redirect(c, views.ArticlePath(a.ID))
}

// articleUpdatePage shows the author the form to edit their article.
func (h *handler) articleUpdatePage(c *fiber.Ctx) error {
	a, err := h.ownArticle(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.ArticleEdit(a, views.NewArticleForm(a.Title, a.Content)))
}

// articleUpdateSubmit saves the author's changes to their article.
func (h *handler) articleUpdateSubmit(c *fiber.Ctx) error {
	a, err := h.ownArticle(c)
	if err != nil {
		return err
	}
	f, err := newArticleForm(c)
	if err != nil {
		return err
	}
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.ArticleFormView(f, views.ArticleUpdatePath(a.ID), views.ArticleSave, views.ArticlePath(a.ID)), views.ArticleEdit(a, f))
	}
	if err := models.UpdateArticle(c.UserContext(), h.db, a.ID, f.Title, f.Content, h.now()); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("flash.article_saved"))
	return h.redirect(c, views.ArticlePath(a.ID))
}

// articleDeletePage asks the author to confirm the article's deletion.
func (h *handler) articleDeletePage(c *fiber.Ctx) error {
	a, err := h.ownArticle(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.ArticleDelete(a))
}

// articleDelete deletes the author's article. Without the confirmation that
// hx-confirm adds, it asks first. From the index, htmx swaps the entry for
// the message in place; elsewhere the browser goes to the index.
func (h *handler) articleDelete(c *fiber.Ctx) error {
	a, err := h.ownArticle(c)
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return h.render(c, fiber.StatusOK, views.ArticleDelete(a))
	}
	if err := models.DeleteArticle(c.UserContext(), h.db, a.ID); err != nil {
		return err
	}
	deleted := views.Say(views.LevelInfo, views.Msg("flash.article_deleted", views.Args{"Title": a.Title}))
	if isHTMX(c) && c.Get(hxTarget) == views.ArticleItemID(a) {
		// The entry swaps for the message, where the user is looking (the
		// top of a long list may be far above), and it takes the focus
		// that the pressed button, gone with the entry, had.
		return h.render(c, fiber.StatusOK, views.ArticleDeleted(deleted))
	}
	h.flashMessage(c, deleted)
	return h.redirect(c, views.PathArticles)
}

// article loads the article the URL names; an id that is not a positive
// 64-bit number, or names no article, is a 404.
func (h *handler) article(c *fiber.Ctx) (*models.Article, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id < 1 {
		return nil, fiber.ErrNotFound
	}
	snapshot, err := h.snapshot(c)
	if err != nil {
		return nil, err
	}
	a, err := models.Cached(snapshot, articleKey(id), func() (*models.Article, error) {
		return models.ArticleByID(c.UserContext(), h.db, id)
	})
	if errors.Is(err, models.ErrNotFound) {
		return nil, fiber.ErrNotFound
	}
	return a, err
}

// ownArticle loads the article the URL names, for its author only: anyone
// else gets 403.
func (h *handler) ownArticle(c *fiber.Ctx) (*models.Article, error) {
	a, err := h.article(c)
	if err != nil {
		return nil, err
	}
	if a.AuthorID != currentUser(c).ID {
		return nil, &clientError{fiber.StatusForbidden, views.Msg("article.author_only")}
	}
	return a, nil
}

// articlePage is the page of the article an action is about, where a login
// for that action returns to.
func articlePage(c *fiber.Ctx) string {
	return views.PathArticles + c.Params("id") + "/"
}
