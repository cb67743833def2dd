package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/models/social"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// recentlyAuthenticated reports whether the current user proved it was them
// (logged in, or confirmed their password) within models.RecentAuthentication.
func (h *handler) recentlyAuthenticated(c *fiber.Ctx) (bool, error) {
	sess, err := h.session(c)
	if err != nil {
		return false, err
	}
	at, _ := sess.Get(keyAuthenticatedAt).(int64)
	return at != 0 && h.now().Sub(time.Unix(at, 0)) < models.RecentAuthentication, nil
}

// recentAuthRequired lets through a logged-in user who recently proved it
// was them ("sudo mode"); others confirm their password first and come back
// to the page: this one for a GET, the page of the form for a POST.
func (h *handler) recentAuthRequired(formPage string) fiber.Handler {
	return func(c *fiber.Ctx) error { return h.requireRecentAuth(c, formPage) }
}

// requireRecentAuth is recentAuthRequired's check, with the page a POST
// returns to after the confirmation.
func (h *handler) requireRecentAuth(c *fiber.Ctx, formPage string) error {
	if recent, err := h.confirmUnlessRecent(c, formPage); !recent || err != nil {
		return err
	}
	return c.Next()
}

// confirmUnlessRecent reports whether the current user recently proved it
// was them; if not, it has sent them to confirm it and come back (to this
// page for a GET, to formPage after a POST).
func (h *handler) confirmUnlessRecent(c *fiber.Ctx, formPage string) (recent bool, err error) {
	if recent, err = h.recentlyAuthenticated(c); recent || err != nil {
		return recent, err
	}
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return false, redirectWith(c, views.ConfirmPath(c.OriginalURL()), fiber.StatusFound)
	}
	return false, redirectWith(c, views.ConfirmPath(formPage), fiber.StatusSeeOther)
}

// confirmPage asks the logged-in user for their password, or one of their
// passkeys, before a sensitive change.
func (h *handler) confirmPage(c *fiber.Ctx) error {
	f, err := h.confirmForm(c)
	if err != nil {
		return err
	}
	f.Next = safeNext(c.Query("next"))
	return h.render(c, fiber.StatusOK, views.Confirm(f))
}

// confirmForm is an empty confirmation form, offering a passkey when the
// user has one, and the sites the user logs in with.
func (h *handler) confirmForm(c *fiber.Ctx) (views.ConfirmForm, error) {
	ctx, u := c.UserContext(), currentUser(c)
	f := views.NewConfirmForm()
	f.NoPassword = !password.Usable(u.Password)
	accounts, err := social.Accounts(ctx, h.db, u.ID)
	if err != nil {
		return f, err
	}
	for _, a := range accounts {
		if client, ok := h.social[a.Provider]; ok {
			f.Providers = append(f.Providers, views.SocialProvider{Name: client.Name, Label: client.Label})
		}
	}
	if h.webAuthn == nil {
		return f, nil
	}
	keys, err := twofactor.Passkeys(ctx, h.db, u.ID)
	f.Passkeys = len(keys) > 0
	return f, err
}

// confirmSubmit checks the password (throttled as every current-password
// check is), records the time in the session and returns to next.
func (h *handler) confirmSubmit(c *fiber.Ctx) error {
	f, err := newConfirmForm(c)
	if err != nil {
		return err
	}
	offer, err := h.confirmForm(c)
	if err != nil {
		return err
	}
	f.Passkeys, f.NoPassword, f.Providers = offer.Passkeys, offer.NoPassword, offer.Providers
	if f.Validate() {
		problem, status, err := h.checkCurrentPassword(c, f.Password, views.WrongPassword(), models.NewDetail("wrong_password_confirmation"))
		if err != nil {
			return err
		}
		if !problem.Empty() {
			f.AddError("password", problem)
			return h.renderForm(c, status, views.ConfirmFormView(f), views.Confirm(f))
		}
	}
	if !f.Valid() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.ConfirmFormView(f), views.Confirm(f))
	}
	return h.confirmed(c, f.Next)
}

// confirmed records in the session that the user just proved it was them,
// and returns to next, or to the two-factor settings.
func (h *handler) confirmed(c *fiber.Ctx, next string) error {
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	sess.Set(keyAuthenticatedAt, h.now().Unix())
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	if next != "" {
		return h.redirect(c, next)
	}
	return h.redirect(c, views.PathTwoFactor)
}
