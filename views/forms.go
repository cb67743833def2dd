package views

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"gatehouse/models"
	"gatehouse/models/password"
)

// Form holds a submitted form's errors: beside each field, and for the form as a whole.
type Form struct {
	FieldErrors    map[string][]string
	NonFieldErrors []string
}

// AddError records message beside field, or for the whole form when field is "".
func (f *Form) AddError(field, message string) {
	if field == "" {
		f.NonFieldErrors = append(f.NonFieldErrors, message)
		return
	}
	if f.FieldErrors == nil {
		f.FieldErrors = make(map[string][]string)
	}
	f.FieldErrors[field] = append(f.FieldErrors[field], message)
}

// Errors returns the messages recorded beside field.
func (f *Form) Errors(field string) []string { return f.FieldErrors[field] }

// Focus names the field that should have autofocus: the first of fields (the
// form's order) with an error, or the first of them when none has one.
func (f *Form) Focus(fields ...string) string {
	for _, name := range fields {
		if len(f.FieldErrors[name]) > 0 {
			return name
		}
	}
	return fields[0]
}

// Valid reports whether no error was recorded.
func (f *Form) Valid() bool { return len(f.FieldErrors) == 0 && len(f.NonFieldErrors) == 0 }

// checkRequired records Django's "required" message when value is empty.
func (f *Form) checkRequired(field, value string) bool {
	if value == "" {
		f.AddError(field, "This field is required.")
		return false
	}
	return true
}

// checkMaxLength records Django's max_length message when value is too long.
func (f *Form) checkMaxLength(field, value string, limit int) bool {
	if n := utf8.RuneCountInString(value); n > limit {
		f.AddError(field, fmt.Sprintf("Ensure this value has at most %d characters (it has %d).", limit, n))
		return false
	}
	return true
}

// Limits of Django's auth_user columns.
const (
	UsernameMaxLength = 150
	NameMaxLength     = 150
	EmailMaxLength    = 254
)

// LoginForm is Django's AuthenticationForm plus the remember-me box.
type LoginForm struct {
	Form
	Username string
	Password string
	Remember bool
	Next     string
}

// LoginFailed is the one message for an unknown user, a wrong password and an
// inactive account alike, so the form never tells which.
const LoginFailed = "Please enter a correct username and password. Note that both fields may be case-sensitive."

// Validate checks that both fields are filled.
func (f *LoginForm) Validate() bool {
	if f.checkRequired("username", f.Username) {
		f.checkMaxLength("username", f.Username, UsernameMaxLength)
	}
	f.checkRequired("password", f.Password)
	return f.Valid()
}

// SignupForm is Django's UserCreationForm.
type SignupForm struct {
	Form
	Username  string
	Password1 string
	Password2 string
}

// Validate checks the username's shape and the two passwords; whether the
// username is taken is for the database to say.
func (f *SignupForm) Validate() bool {
	if f.checkRequired("username", f.Username) && f.checkMaxLength("username", f.Username, UsernameMaxLength) && !models.ValidUsername(f.Username) {
		f.AddError("username", models.InvalidUsername)
	}
	f.checkRequired("password1", f.Password1)
	if f.checkRequired("password2", f.Password2) {
		f.checkNewPassword("password2", f.Password1, f.Password2, password.User{Username: f.Username})
	}
	return f.Valid()
}

// checkNewPassword records, beside field, a mismatch or else every validator's complaint.
func (f *Form) checkNewPassword(field, first, second string, user password.User) {
	if first != "" && first != second {
		f.AddError(field, "The two password fields didn’t match.")
		return
	}
	for _, problem := range password.Validate(second, user) {
		f.AddError(field, problem)
	}
}

// ProfileForm is the seed's CustomUserChangeForm: email, first and last name only.
type ProfileForm struct {
	Form
	Email     string
	FirstName string
	LastName  string
}

// Validate checks lengths and the email's syntax; every field may be blank.
func (f *ProfileForm) Validate() bool {
	if f.checkMaxLength("email", f.Email, EmailMaxLength) && f.Email != "" && !validEmail(f.Email) {
		f.AddError("email", "Enter a valid email address.")
	}
	f.checkMaxLength("first_name", f.FirstName, NameMaxLength)
	f.checkMaxLength("last_name", f.LastName, NameMaxLength)
	return f.Valid()
}

// validEmail accepts a bare address, local@domain, with no display name.
func validEmail(email string) bool {
	address, err := mail.ParseAddress(email)
	if err != nil || address.Name != "" || address.Address != email {
		return false
	}
	_, domain, _ := strings.Cut(email, "@")
	return domain != "" && !strings.ContainsAny(email, " \t\r\n")
}

// PasswordForm is Django's PasswordChangeForm.
type PasswordForm struct {
	Form
	OldPassword  string
	NewPassword1 string
	NewPassword2 string
}

// WrongOldPassword is Django's message for a wrong current password.
const WrongOldPassword = "Your old password was entered incorrectly. Please enter it again."

// Validate checks the fields are filled and the new password is acceptable
// for user; whether the old password is right is for the handler to check.
func (f *PasswordForm) Validate(user password.User) bool {
	f.checkRequired("old_password", f.OldPassword)
	f.checkRequired("new_password1", f.NewPassword1)
	if f.checkRequired("new_password2", f.NewPassword2) {
		f.checkNewPassword("new_password2", f.NewPassword1, f.NewPassword2, user)
	}
	return f.Valid()
}

// TitleMaxLength is the longest article title.
const TitleMaxLength = 100

// ArticleForm is the form for writing or editing an article.
type ArticleForm struct {
	Form
	Title   string
	Content string
}

// Validate checks the title (1–100 characters) and that there is content.
func (f *ArticleForm) Validate() bool {
	if f.checkRequired("title", f.Title) {
		f.checkMaxLength("title", f.Title, TitleMaxLength)
	}
	f.checkRequired("content", f.Content)
	return f.Valid()
}
