package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/views"
)

// formValue returns a field of the POST body. Unlike Fiber's FormValue it
// never reads the query string, so a link cannot smuggle in a field (or a
// CSRF token) that the form did not send.
func formValue(c *fiber.Ctx, name string) string {
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		form, err := c.MultipartForm()
		if err != nil || len(form.Value[name]) == 0 {
			return ""
		}
		return form.Value[name][0]
	}
	return string(c.Request().PostArgs().Peek(name))
}

// trimmedValue is formValue without surrounding space, as Django's CharField strips.
func trimmedValue(c *fiber.Ctx, name string) string {
	return strings.TrimSpace(formValue(c, name))
}

// Each form's constructor reads the POST body into its view model.

func newLoginForm(c *fiber.Ctx) views.LoginForm {
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
	return f
}

func newSignupForm(c *fiber.Ctx) views.SignupForm {
	f := views.NewSignupForm()
	f.Username = models.NormalizeUsername(trimmedValue(c, "username"))
	f.Password1 = formValue(c, "password1")
	f.Password2 = formValue(c, "password2")
	return f
}

// newProfileForm reads email, first and last name; any other field posted,
// such as is_staff or username, is never read.
func newProfileForm(c *fiber.Ctx) views.ProfileForm {
	return views.NewProfileForm(&models.User{
		Email:     trimmedValue(c, "email"),
		FirstName: trimmedValue(c, "first_name"),
		LastName:  trimmedValue(c, "last_name"),
	})
}

func newPasswordForm(c *fiber.Ctx) views.PasswordForm {
	f := views.NewPasswordForm()
	f.OldPassword = formValue(c, "old_password")
	f.NewPassword1 = formValue(c, "new_password1")
	f.NewPassword2 = formValue(c, "new_password2")
	return f
}

func newArticleForm(c *fiber.Ctx) views.ArticleForm {
	return views.NewArticleForm(trimmedValue(c, "title"), trimmedValue(c, "content"))
}

// confirmed reports whether the POST carries the confirmation that
// hx-confirm adds, or the confirmation page's button sends.
func confirmed(c *fiber.Ctx) bool { return formValue(c, "confirm") == "yes" }
