package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// fingerprint sums up how u logs in now: a trust made before any change of
// it is stale.
func (h *handler) fingerprint(c *fiber.Ctx, u *models.User) (string, error) {
	return twofactor.Fingerprint(c.UserContext(), h.db, u.ID, u.Password)
}

// browserTrusted reports whether this browser is one u trusted, at the
// second step, to skip it, and the trust still stands.
func (h *handler) browserTrusted(c *fiber.Ctx, u *models.User) (bool, error) {
	token := c.Cookies(h.cookieName(trustedCookie))
	if token == "" {
		return false, nil
	}
	fingerprint, err := h.fingerprint(c, u)
	if err != nil {
		return false, err
	}
	return models.BrowserTrusted(c.UserContext(), h.db, u.ID, token, fingerprint, h.now())
}

// trustBrowser makes this browser skip u's second step for
// models.TrustedBrowserAge, until the account's factors change.
func (h *handler) trustBrowser(c *fiber.Ctx, u *models.User) error {
	fingerprint, err := h.fingerprint(c, u)
	if err != nil {
		return err
	}
	token, err := models.TrustBrowser(c.UserContext(), h.db, u.ID, fingerprint, c.Get(fiber.HeaderUserAgent), h.clientAddress(c).String(), h.now())
	if err != nil {
		return err
	}
	h.setCookie(c, trustedCookie, token, h.now().Add(models.TrustedBrowserAge))
	return nil
}

// stopTrusting forgets one of the user's trusted browsers (the form's id),
// or all of them (id "all"), from the sessions page.
func (h *handler) stopTrusting(c *fiber.Ctx) error {
	if err := requireFields(c, "id"); err != nil {
		return err
	}
	var id int64
	if value := formValue(c, "id"); value != "all" {
		var err error
		if id, err = strconv.ParseInt(value, 10, 64); err != nil || id <= 0 {
			return &clientError{fiber.StatusBadRequest, views.Msg("error.form_unreadable")}
		}
	}
	if err := models.StopTrusting(c.UserContext(), h.db, currentUser(c).ID, id); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("trusted.stopped"))
	return h.redirect(c, views.PathSessions)
}
