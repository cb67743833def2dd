package handlers

import "github.com/gofiber/fiber/v2"

// Headers of the htmx protocol.
const (
	hxRequest        = "HX-Request"
	hxBoosted        = "HX-Boosted"
	hxHistoryRestore = "HX-History-Restore-Request"
	hxTarget         = "HX-Target"
	hxRedirect       = "HX-Redirect"
)

// isHTMX reports whether htmx made the request for a fragment: not a boosted
// link and not a history restore, which both want the whole page.
func isHTMX(c *fiber.Ctx) bool {
	return c.Get(hxRequest) == "true" && c.Get(hxBoosted) != "true" && c.Get(hxHistoryRestore) != "true"
}

// redirect sends the browser to url after a successful POST: 200 with
// HX-Redirect for htmx, which ignores the Location of a 3xx, and 303 otherwise.
func (h *handler) redirect(c *fiber.Ctx, url string) error {
	return redirectWith(c, url, fiber.StatusSeeOther)
}

// redirectWith sends the browser to url: 200 with HX-Redirect for htmx,
// which ignores the Location of a 3xx, and status (302 or 303) otherwise.
func redirectWith(c *fiber.Ctx, url string, status int) error {
	if isHTMX(c) {
		c.Set(hxRedirect, url)
		return c.SendStatus(fiber.StatusOK)
	}
	return c.Redirect(url, status)
}
