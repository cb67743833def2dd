package handlers

import (
	"github.com/gofiber/fiber/v2"

	"gatehouse/views"
)

// ArticleIndex lists the articles.
func (h *Handler) ArticleIndex(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.Articles())
}
