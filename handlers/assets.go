package handlers

import (
	"github.com/gofiber/fiber/v2"

	"gatehouse/assets"
)

// asset serves an embedded static file by its content-hashed name; the name
// changes with the content, so it may be cached for a year.
func (h *handler) asset(c *fiber.Ctx) error {
	file, ok := assets.Lookup(c.Params("name"))
	if !ok {
		// On to the session middleware and the 404 page: a logged-in user's
		// 404 shows their header.
		return c.Next()
	}
	c.Set(fiber.HeaderContentType, file.ContentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(file.Body)
}
