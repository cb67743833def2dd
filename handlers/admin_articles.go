package handlers

import (
	"errors"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/views"
)

// adminArticles lists the articles, newest first, searched by title or
// author, 50 a page.
func (h *handler) adminArticles(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q := models.ArticleQuery{Search: truncate(strings.TrimSpace(c.Query("q")), searchMaxLength)}
	total, err := models.CountSearchArticles(ctx, h.db, q)
	if err != nil {
		return err
	}
	page, pages := pageOf(c, total)
	articles, err := models.SearchArticles(ctx, h.db, q, (page-1)*adminPerPage, adminPerPage)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminArticles(views.AdminArticlesPage{
		Search: q.Search, Articles: articles, Total: total, Page: page, Pages: pages,
	}))
}

// adminArticle loads the article the URL names, fresh from the database.
func (h *handler) adminArticle(c *fiber.Ctx) (*models.Article, error) {
	id, err := idParam(c)
	if err != nil {
		return nil, err
	}
	a, err := models.ArticleByID(c.UserContext(), h.db, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, fiber.ErrNotFound
	}
	return a, err
}

// adminArticlePage shows an article with its delete button and log.
func (h *handler) adminArticlePage(c *fiber.Ctx) error {
	a, err := h.adminArticle(c)
	if err != nil {
		return err
	}
	log, err := models.AdminLog(c.UserContext(), h.db, models.AdminLogFilter{ObjectType: models.ObjectArticle, ObjectID: a.ID}, 0, adminLatest)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminArticle(a, log))
}

// adminArticleDeletePage asks to confirm an article's deletion.
func (h *handler) adminArticleDeletePage(c *fiber.Ctx) error {
	a, err := h.adminArticle(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminArticleDelete(a))
}

// adminArticleDelete deletes an article once confirmed. From the list,
// htmx swaps its row for the message; elsewhere the browser goes to the list.
func (h *handler) adminArticleDelete(c *fiber.Ctx) error {
	a, err := h.adminArticle(c)
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return h.render(c, fiber.StatusOK, views.AdminArticleDelete(a))
	}
	if err := models.AdminDeleteArticle(c.UserContext(), h.db, currentUser(c), a.ID); err != nil {
		return adminRefusal(err)
	}
	deleted := views.Say(views.LevelSuccess, views.Msg("admin.flash.article_deleted", views.Args{"Title": models.Isolated(a.Title), "Author": models.Isolated(a.Author.Username)}))
	if isHTMX(c) && c.Get(hxTarget) == views.AdminArticleRowID(a.ID) {
		return h.render(c, fiber.StatusOK, templ.Join(views.AdminArticleDeleted(a), views.FlashOOB(deleted)))
	}
	h.flashMessage(c, deleted)
	return h.redirect(c, views.PathAdminArticles)
}
