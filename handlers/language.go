package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/views"
)

// languageCookieAge is how long a visitor's choice of language is kept.
const languageCookieAge = 365 * 24 * time.Hour

// localLanguage is the request's language, once chosen, in c.Locals.
const localLanguage = "language"

// chooseLanguage puts the request's language into its context, where the
// views and views.T find it.
func (h *handler) chooseLanguage(c *fiber.Ctx) error {
	c.SetUserContext(views.WithLanguage(c.UserContext(), h.language(c)))
	return c.Next()
}

// language is the language to answer in, in Django's order: the choice of
// the logged-in user's account, else the visitor's choice in the language
// cookie, else the best match of Accept-Language, else the site's
// default. An unknown or malformed value at any step is passed over.
func (h *handler) language(c *fiber.Ctx) *views.Language {
	if l, ok := c.Locals(localLanguage).(*views.Language); ok {
		return l
	}
	l := h.chosenLanguage(c)
	if l == nil {
		l = views.MatchLanguage(c.Get(fiber.HeaderAcceptLanguage))
	}
	if l == nil {
		l = h.defaultLanguage
	}
	c.Locals(localLanguage, l)
	return l
}

// chosenLanguage is the language the user or visitor chose, or nil.
func (h *handler) chosenLanguage(c *fiber.Ctx) *views.Language {
	if u := currentUser(c); u != nil && u.Language != "" {
		if l := views.LanguageByCode(u.Language); l != nil {
			return l
		}
	}
	return views.LanguageByCode(c.Cookies(languageCookie))
}

// withLanguage is the request's context in its language, for rendering an
// answer to a request refused before chooseLanguage ran (a form that is
// no form, say).
func (h *handler) withLanguage(c *fiber.Ctx) context.Context {
	return views.WithLanguage(c.UserContext(), h.language(c))
}

// accountLanguage is the language u reads the site and their mail in: the
// one on their account, else the site's default. A mail goes out in it,
// whoever set the mail off.
func (h *handler) accountLanguage(u *models.User) *views.Language {
	if l := views.LanguageByCode(u.Language); l != nil {
		return l
	}
	return h.defaultLanguage
}

// setLanguage is Django's set_language: it keeps the language the form
// names in a cookie and, for a logged-in user, on the account (so a new
// browser gets it too), then goes back to next. A language the site does
// not speak is refused with 400, and nothing is kept.
func (h *handler) setLanguage(c *fiber.Ctx) error {
	if err := requireFields(c, "language"); err != nil {
		return err
	}
	l := views.LanguageByCode(formValue(c, "language"))
	if l == nil {
		return &clientError{fiber.StatusBadRequest, views.Msg("error.bad_language")}
	}
	if u := currentUser(c); u != nil && u.Language != l.Code() {
		if err := models.SetLanguage(c.UserContext(), h.db, u.ID, l.Code()); err != nil {
			return err
		}
	}
	h.keepLanguage(c, l)
	next := safeNext(formValue(c, "next"))
	if next == "" {
		next = views.PathArticles
	}
	return h.redirect(c, next)
}

// keepLanguage sets the language cookie, so this browser keeps l after
// logging out too.
func (h *handler) keepLanguage(c *fiber.Ctx, l *views.Language) {
	h.setCookie(c, languageCookie, l.Code(), time.Now().Add(languageCookieAge))
}

// applyAccountLanguage follows a login: the account's language, if it has
// one, becomes this browser's, from this answer on.
func (h *handler) applyAccountLanguage(c *fiber.Ctx, u *models.User) {
	if l := views.LanguageByCode(u.Language); l != nil {
		h.keepLanguage(c, l)
		c.Locals(localLanguage, l)
		c.SetUserContext(views.WithLanguage(c.UserContext(), l))
	}
}
