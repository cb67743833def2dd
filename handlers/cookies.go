package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookie names, as in Django.
const (
	sessionCookie  = "sessionid"
	csrfCookie     = "csrftoken"
	messagesCookie = "messages"
	deviceCookie   = "device"          // OWASP's device cookie: this browser logged in as that user before
	trustedCookie  = "trusted_browser" // a browser the user trusted to skip the second step
	// languageCookie keeps a visitor's choice of language. Django's name
	// (LANGUAGE_COOKIE_NAME), so that a site moving from Django, or sharing
	// its domain with one, keeps the choice across the move.
	languageCookie = "django_language"
	// resetToCookie carries the address a reset link was asked for to the
	// "Check your email" page, which repeats it, signed and for minutes.
	resetToCookie = "reset_to"
)

// cookieName is the name a cookie has on this site: over HTTPS the session
// and CSRF cookies take the __Host- prefix, which browsers only accept from
// this very host, over HTTPS, for the whole site — a sibling subdomain cannot
// plant one.
func (h *handler) cookieName(name string) string {
	if h.cookieSecure && (name == sessionCookie || name == csrfCookie) {
		return "__Host-" + name
	}
	return name
}

// setCookie sets a cookie that scripts cannot read and other sites' requests
// do not carry. A zero expires makes it end with the browser.
func (h *handler) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	cookie := &fiber.Cookie{
		Name:     h.cookieName(name),
		Value:    value,
		Path:     "/",
		Secure:   h.cookieSecure,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	}
	if expires.IsZero() {
		cookie.SessionOnly = true
	} else {
		cookie.Expires = expires
		cookie.MaxAge = int(expires.Sub(h.now()).Seconds())
	}
	c.Cookie(cookie)
}

// clearCookie tells the browser to delete a cookie.
func (h *handler) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{
		Name:     h.cookieName(name),
		Path:     "/",
		Expires:  time.Unix(0, 0),
		MaxAge:   -1,
		Secure:   h.cookieSecure,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}
