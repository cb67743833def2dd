package handlers

import (
	"errors"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/views"
)

// LoginPage shows the login form.
func (h *Handler) LoginPage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.Login(views.LoginForm{Next: safeNext(c.Query("next"))}))
}

// LoginSubmit logs the user in and sends them to next, if it is a local
// path, or to the articles.
func (h *Handler) LoginSubmit(c *fiber.Ctx) error {
	next := c.FormValue("next")
	if next == "" {
		next = c.Query("next")
	}
	f := views.LoginForm{
		Username: strings.TrimSpace(c.FormValue("username")),
		Password: c.FormValue("password"),
		Remember: c.FormValue("remember") != "",
		Next:     safeNext(next),
	}
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.LoginFormView(f), views.Login(f))
	}
	u, err := h.checkCredentials(c, f.Username, f.Password)
	if errors.Is(err, errBadCredentials) {
		f.AddError("", views.LoginFailed)
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.LoginFormView(f), views.Login(f))
	}
	if err != nil {
		return err
	}
	if err := h.login(c, u, f.Remember); err != nil {
		return err
	}
	h.flash(c, "success", "Welcome back, "+u.Username+".")
	if f.Next != "" {
		return h.redirect(c, f.Next)
	}
	return h.redirect(c, "/articles/")
}

// Logout ends the session, if there is one; it never fails for a visitor
// who is not logged in.
func (h *Handler) Logout(c *fiber.Ctx) error {
	wasLoggedIn := currentUser(c) != nil
	if err := h.endSession(c); err != nil {
		return err
	}
	h.rotateCSRFToken(c)
	if wasLoggedIn {
		h.flash(c, "info", "You have been logged out.")
	}
	return h.redirect(c, "/articles/")
}

// SignupPage shows the signup form.
func (h *Handler) SignupPage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.Signup(views.SignupForm{}))
}

// SignupSubmit creates the account and logs it in.
func (h *Handler) SignupSubmit(c *fiber.Ctx) error {
	f := views.SignupForm{
		Username:  models.NormalizeUsername(strings.TrimSpace(c.FormValue("username"))),
		Password1: c.FormValue("password1"),
		Password2: c.FormValue("password2"),
	}
	f.Validate()
	if len(f.Errors("username")) == 0 {
		// Checked with the other fields, as Django does, and before the
		// costly hash; the unique index decides races.
		taken, err := models.UsernameTaken(c.UserContext(), h.db, f.Username)
		if err != nil {
			return err
		}
		if taken {
			f.AddError("username", usernameTaken)
		}
	}
	if !f.Valid() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SignupFormView(f), views.Signup(f))
	}
	hash, err := h.hasher.Hash(f.Password1)
	if err != nil {
		return err
	}
	u := &models.User{Username: f.Username, Password: hash, IsActive: true}
	err = models.CreateUser(c.UserContext(), h.db, u)
	if errors.Is(err, models.ErrDuplicateUsername) {
		f.AddError("username", usernameTaken)
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SignupFormView(f), views.Signup(f))
	}
	if err != nil {
		return err
	}
	if err := h.login(c, u, false); err != nil {
		return err
	}
	h.flash(c, "success", "Welcome, "+u.Username+". Your account is ready.")
	return h.redirect(c, "/articles/")
}

const usernameTaken = "A user with that username already exists."

// ProfilePage shows the profile form filled with the user's details.
func (h *Handler) ProfilePage(c *fiber.Ctx) error {
	u := currentUser(c)
	return h.render(c, fiber.StatusOK, views.Profile(views.ProfileForm{Email: u.Email, FirstName: u.FirstName, LastName: u.LastName}))
}

// ProfileSubmit saves email, first and last name; any other field posted,
// such as is_staff or username, is never read.
func (h *Handler) ProfileSubmit(c *fiber.Ctx) error {
	u := currentUser(c)
	f := views.ProfileForm{
		Email:     strings.TrimSpace(c.FormValue("email")),
		FirstName: strings.TrimSpace(c.FormValue("first_name")),
		LastName:  strings.TrimSpace(c.FormValue("last_name")),
	}
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.ProfileFormView(f), views.Profile(f))
	}
	if err := models.UpdateProfile(c.UserContext(), h.db, u.ID, f.Email, f.FirstName, f.LastName); err != nil {
		return err
	}
	saved := views.Message{Level: "success", Text: "Your profile was saved."}
	if isHTMX(c) {
		return h.render(c, fiber.StatusOK, templ.Join(views.ProfileFormView(f), views.FlashOOB(saved)))
	}
	h.flash(c, saved.Level, saved.Text)
	return h.redirect(c, "/accounts/update/")
}

// PasswordPage shows the password change form.
func (h *Handler) PasswordPage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.Password(views.PasswordForm{}))
}

// PasswordSubmit changes the password, keeps this session logged in and
// ends every other session of the user.
func (h *Handler) PasswordSubmit(c *fiber.Ctx) error {
	u := currentUser(c)
	f := views.PasswordForm{
		OldPassword:  c.FormValue("old_password"),
		NewPassword1: c.FormValue("new_password1"),
		NewPassword2: c.FormValue("new_password2"),
	}
	f.Validate(password.User{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName})
	if f.OldPassword != "" {
		ok, _, err := h.hasher.Check(f.OldPassword, u.Password)
		if err != nil {
			return err
		}
		if !ok {
			f.AddError("old_password", views.WrongOldPassword)
		}
	}
	if !f.Valid() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.PasswordFormView(f), views.Password(f))
	}
	hash, err := h.hasher.Hash(f.NewPassword1)
	if err != nil {
		return err
	}
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	if err := models.ChangePassword(c.UserContext(), h.db, u.ID, hash, sess.ID()); err != nil {
		return err
	}
	changed := *u // the current user may be shared with other requests (cached)
	changed.Password = hash
	sess.Set(keyAuthHash, h.authHash(&changed))
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	h.flash(c, "success", "Your password was changed.")
	return h.redirect(c, "/articles/")
}

// AccountDelete deletes the user, their articles and all their sessions, then
// logs them out. Without the confirmation that hx-confirm adds, it asks first.
func (h *Handler) AccountDelete(c *fiber.Ctx) error {
	if c.FormValue("confirm") != "yes" {
		return h.render(c, fiber.StatusOK, views.AccountDelete())
	}
	if err := models.DeleteUser(c.UserContext(), h.db, currentUser(c).ID); err != nil {
		return err
	}
	if err := h.endSession(c); err != nil {
		return err
	}
	h.rotateCSRFToken(c)
	h.flash(c, "info", "Your account was deleted.")
	return h.redirect(c, "/articles/")
}
