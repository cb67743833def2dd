package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models/hashpool"
	"gatehouse/models/password"
	"gatehouse/views"
)

// passwordSetPage offers an account without a usable password (made
// through another site, or imported without one) a password of its own.
// There is no old password to ask: the route asks for sudo mode instead,
// which such an account gets by logging in at its provider again.
func (h *handler) passwordSetPage(c *fiber.Ctx) error {
	if password.Usable(currentUser(c).Password) {
		return h.redirect(c, views.PathPassword)
	}
	return h.render(c, fiber.StatusOK, views.PasswordSet(views.NewSetPasswordForm(nil)))
}

// passwordSetSubmit sets the first password, keeps this session logged in
// and ends every other, as a password change does.
func (h *handler) passwordSetSubmit(c *fiber.Ctx) error {
	u := currentUser(c)
	if password.Usable(u.Password) {
		return h.redirect(c, views.PathPassword)
	}
	if err := requireFields(c, "new_password1", "new_password2"); err != nil {
		return err
	}
	f := views.NewSetPasswordForm(nil)
	f.NewPassword1 = formValue(c, "new_password1")
	f.NewPassword2 = formValue(c, "new_password2")
	f.Validate(password.User{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName})
	if !h.unbreached(c, &f.Form, "new_password1", f.NewPassword1) {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SetPasswordFormView(f, views.PathPasswordSet), views.PasswordSet(f))
	}
	err := h.replacePassword(c, f.NewPassword1, views.Msg("password_set.done"))
	if errors.Is(err, hashpool.ErrBusy) {
		f.AddError("", hasherBusy(c))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.SetPasswordFormView(f, views.PathPasswordSet), views.PasswordSet(f))
	}
	return err
}
