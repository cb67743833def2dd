package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/views"
)

// formValue returns a field of the POST body. Unlike Fiber's FormValue it
// never reads the query string, so a link cannot smuggle in a field (or a
// CSRF token) that the form did not send.
func formValue(c *fiber.Ctx, name string) string {
	if isMultipart(c) {
		form, err := c.MultipartForm()
		if err != nil || len(form.Value[name]) == 0 {
			return ""
		}
		return form.Value[name][0]
	}
	return string(c.Request().PostArgs().Peek(name))
}

// hasField reports whether the POST body has a field of this name, empty or not.
func hasField(c *fiber.Ctx, name string) bool {
	if isMultipart(c) {
		form, err := c.MultipartForm()
		return err == nil && form.Value[name] != nil
	}
	return c.Request().PostArgs().Has(name)
}

// isForm reports whether the request body is declared as an HTML form.
func isForm(c *fiber.Ctx) bool {
	return isMultipart(c) || mediaType(c) == fiber.MIMEApplicationForm
}

func isMultipart(c *fiber.Ctx) bool { return mediaType(c) == fiber.MIMEMultipartForm }

// mediaType is the request's Content-Type without its parameters.
func mediaType(c *fiber.Ctx) string {
	mediaType, _, _ := strings.Cut(c.Get(fiber.HeaderContentType), ";")
	return strings.ToLower(strings.TrimSpace(mediaType))
}

// requireFields refuses, with 400, a POST that has none of a form's fields:
// a request not sent by the form must not pass as one left blank.
func requireFields(c *fiber.Ctx, names ...string) error {
	for _, name := range names {
		if hasField(c, name) {
			return nil
		}
	}
	return &clientError{fiber.StatusBadRequest, views.Msg("error.form_empty")}
}

// trimmedValue is formValue without surrounding space, as Django's CharField strips.
func trimmedValue(c *fiber.Ctx, name string) string {
	return strings.TrimSpace(formValue(c, name))
}

// Each form's constructor reads the POST body into its view model, or
// refuses a body that has none of the form's fields.

func newLoginForm(c *fiber.Ctx) (views.LoginForm, error) {
	f := views.NewLoginForm()
	f.Username = trimmedValue(c, "username")
	f.Password = formValue(c, "password")
	f.Remember = formValue(c, "remember") != ""
	// As Django's LoginView: the form's field, else the query string of
	// the form's action; either way only a local path is kept.
	next := formValue(c, "next")
	if next == "" {
		next = c.Query("next")
	}
	f.Next = safeNext(next)
	return f, requireFields(c, "username", "password")
}

func newSignupForm(c *fiber.Ctx) (views.SignupForm, error) {
	f := views.NewSignupForm()
	f.Username = models.NormalizeUsername(trimmedValue(c, "username"))
	f.Email = trimmedValue(c, "email")
	f.Password1 = formValue(c, "password1")
	f.Password2 = formValue(c, "password2")
	return f, requireFields(c, "username", "password1", "password2")
}

// newProfileForm reads email, first and last name; any other field posted,
// such as is_staff or username, is never read.
func newProfileForm(c *fiber.Ctx) (views.ProfileForm, error) {
	u := currentUser(c)
	f := views.NewProfileForm(u)
	f.Email = trimmedValue(c, "email")
	f.FirstName = trimmedValue(c, "first_name")
	f.LastName = trimmedValue(c, "last_name")
	f.NotifyNewDevice = formValue(c, "notify_new_device") != ""
	f.Password = formValue(c, "current_password")
	return f, requireFields(c, "email", "first_name", "last_name")
}

func newPasswordForm(c *fiber.Ctx) (views.PasswordForm, error) {
	f := views.NewPasswordForm()
	f.OldPassword = formValue(c, "old_password")
	f.NewPassword1 = formValue(c, "new_password1")
	f.NewPassword2 = formValue(c, "new_password2")
	return f, requireFields(c, "old_password", "new_password1", "new_password2")
}

func newAccountDeleteForm(c *fiber.Ctx) (views.AccountDeleteForm, error) {
	f := views.NewAccountDeleteForm()
	f.NoPassword = !password.Usable(currentUser(c).Password)
	if f.NoPassword {
		return f, nil
	}
	f.Password = formValue(c, "password")
	return f, requireFields(c, "password")
}

func newConfirmForm(c *fiber.Ctx) (views.ConfirmForm, error) {
	f := views.NewConfirmForm()
	f.Password = formValue(c, "password")
	next := formValue(c, "next")
	if next == "" {
		next = c.Query("next")
	}
	f.Next = safeNext(next)
	return f, requireFields(c, "password")
}

func newArticleForm(c *fiber.Ctx) (views.ArticleForm, error) {
	return views.NewArticleForm(trimmedValue(c, "title"), trimmedValue(c, "content")), requireFields(c, "title", "content")
}

// confirmed reports whether the POST carries the confirmation that
// hx-confirm adds, or the confirmation page's button sends.
func confirmed(c *fiber.Ctx) bool { return formValue(c, "confirm") == "yes" }
