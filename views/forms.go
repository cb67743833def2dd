package views

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gatehouse/models"
	"gatehouse/models/password"
)

// Form holds a submitted form's errors: beside each field, and for the form
// as a whole. Each form's constructor names its fields and their labels in
// page order, so that the first field with an error, or else the first
// field, has the focus, and the error summary links them in order.
//
// Errors are kept as Texts, put into words when the form is shown, in the
// reader's language.
type Form struct {
	fields         []field
	FieldErrors    map[string][]Text
	NonFieldErrors []Text
	focus          string // set by FocusOn
	focusSet       bool
}

// field is one of a form's fields: its name in the POST body and the
// message key of its label.
type field struct{ name, label string }

func newForm(fields ...field) Form { return Form{fields: fields} }

// label is the message key of the label of the field named name.
func (f *Form) label(name string) string {
	for _, field := range f.fields {
		if field.name == name {
			return field.label
		}
	}
	return name
}

// AddError records message beside field, or for the whole form when field is "".
func (f *Form) AddError(field string, message Text) {
	if field == "" {
		f.NonFieldErrors = append(f.NonFieldErrors, message)
		return
	}
	if f.FieldErrors == nil {
		f.FieldErrors = make(map[string][]Text)
	}
	f.FieldErrors[field] = append(f.FieldErrors[field], message)
}

// Errors returns the messages recorded beside field.
func (f *Form) Errors(field string) []Text { return f.FieldErrors[field] }

// Autofocus reports whether field should have the focus: the one FocusOn
// named, else the first field with an error, else the first field.
func (f *Form) Autofocus(field string) bool {
	if f.focusSet {
		return f.focus == field
	}
	for _, candidate := range f.fields {
		if len(f.FieldErrors[candidate.name]) > 0 {
			return candidate.name == field
		}
	}
	return len(f.fields) > 0 && f.fields[0].name == field
}

// FocusOn gives the focus to field, or with "" to none of the fields: to a
// message about the form, say.
func (f *Form) FocusOn(field string) { f.focus, f.focusSet = field, true }

// Problem is one entry of a form's error summary: a message about a field,
// which it links to, or about the whole form (FieldID "").
type Problem struct {
	FieldID string
	Label   string // the message key of the field's label
	Message Text
}

// Problems lists every error, those of the whole form first, then each
// field's in page order.
func (f *Form) Problems() []Problem {
	var problems []Problem
	for _, message := range f.NonFieldErrors {
		problems = append(problems, Problem{Message: message})
	}
	for _, field := range f.fields {
		for _, message := range f.FieldErrors[field.name] {
			problems = append(problems, Problem{FieldID: "id_" + field.name, Label: field.label, Message: message})
		}
	}
	return problems
}

// Valid reports whether no error was recorded.
func (f *Form) Valid() bool { return len(f.FieldErrors) == 0 && len(f.NonFieldErrors) == 0 }

// checkRequired records Django's "required" message when value is empty.
func (f *Form) checkRequired(field, value string) bool {
	if value == "" {
		f.AddError(field, Msg("form.required"))
		return false
	}
	return true
}

// checkMaxLength records Django's max_length message when value is too long.
func (f *Form) checkMaxLength(field, value string, limit int) bool {
	if n := utf8.RuneCountInString(value); n > limit {
		f.AddError(field, tooLong(limit, n))
		return false
	}
	return true
}

// tooLong is Django's max_length message: at most limit characters, not n.
func tooLong(limit, n int) Text {
	return MsgN("form.max_length", limit, Args{"Length": n})
}

// checkName records an error for a name too long or misleading (checkShown).
func (f *Form) checkName(field, value string) {
	f.checkShown(field, value, NameMaxLength, "form.name_misleading")
}

// checkShown records an error for text longer than limit, or holding a
// character that changes how the text around it shows (a control
// character, a direction override), saying so in the words of key: names
// and titles are shown to others, in lists and the admin's log too.
func (f *Form) checkShown(field, value string, limit int, key string) {
	if f.checkMaxLength(field, value, limit) && strings.IndexFunc(value, models.MisleadingRune) >= 0 {
		f.AddError(field, Msg(key))
	}
}

// Limits of Django's auth_user columns.
const (
	UsernameMaxLength = models.UsernameMaxLength
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
	// RetryAt, when not zero, is when logging in with a password is allowed
	// again: the form says so in place of an error, with the other ways in.
	RetryAt time.Time
}

// NewLoginForm returns an empty login form.
func NewLoginForm() LoginForm {
	return LoginForm{Form: newForm(field{"username", "field.username"}, field{"password", "field.password"})}
}

// LoginFailed is the one message for an unknown user, a wrong password and an
// inactive account alike, so the form never tells which.
func LoginFailed() Text { return Msg("login.failed") }

// Validate checks that both fields are filled.
func (f *LoginForm) Validate() bool {
	if f.checkRequired("username", f.Username) {
		f.checkMaxLength("username", f.Username, UsernameMaxLength)
	}
	f.checkRequired("password", f.Password)
	return f.Valid()
}

// SignupForm is Django's UserCreationForm, with an optional email address.
type SignupForm struct {
	Form
	Username  string
	Email     string
	Password1 string
	Password2 string
}

// NewSignupForm returns an empty signup form.
func NewSignupForm() SignupForm {
	return SignupForm{Form: newForm(field{"username", "field.username"}, field{"email", "field.email"},
		field{"password1", "field.password"}, field{"password2", "field.password_confirmation"})}
}

// Validate checks the username's shape and the two passwords; whether the
// username is taken is for the database to say.
func (f *SignupForm) Validate() bool {
	f.checkUsername("username", f.Username)
	f.checkEmail("email", f.Email)
	f.checkNewPassword("password1", f.Password1, "password2", f.Password2, password.User{Username: f.Username, Email: f.Email})
	return f.Valid()
}

// checkUsername checks a new username against Django's rules.
func (f *Form) checkUsername(field, username string) {
	if f.checkRequired(field, username) {
		if problem := models.UsernameProblem(username); problem != "" {
			f.AddError(field, UsernameProblem(problem, username))
		}
	}
}

// UsernameProblem is the Text of a models.UsernameProblem code for username.
func UsernameProblem(code, username string) Text {
	if code == models.UsernameTooLong {
		return tooLong(models.UsernameMaxLength, utf8.RuneCountInString(username))
	}
	return Msg(code)
}

// UsernameDuplicate is Django's message for a username taken already.
func UsernameDuplicate() Text { return Msg(models.UsernameDuplicate) }

// PasswordProblem is the Text of what a password validator found.
func PasswordProblem(p password.Problem) Text {
	if p.Code == password.TooShort {
		return MsgN(p.Code, p.Min)
	}
	return Msg(p.Code)
}

// checkNewPassword checks a new password typed twice: what the validators
// find wrong with it goes beside the first field, where it was chosen; only
// a mismatch goes beside the confirmation.
func (f *Form) checkNewPassword(field1, value1, field2, value2 string, user password.User) {
	if f.checkRequired(field1, value1) {
		for _, problem := range password.Validate(value1, user) {
			f.AddError(field1, PasswordProblem(problem))
		}
	}
	if f.checkRequired(field2, value2) && value1 != "" && value1 != value2 {
		f.AddError(field2, Msg("password.mismatch"))
	}
}

// ProfileForm is Django's UserChangeForm cut to what a user may edit: email,
// first and last name, and whether to be told of logins from new browsers.
type ProfileForm struct {
	Form
	Email           string
	FirstName       string
	LastName        string
	NotifyNewDevice bool
	Password        string // the current one, needed to change the address
	// NoPassword: the account has no usable password (made through another
	// site); confirming it is them (sudo mode) stands in for it.
	NoPassword bool
	// SavedEmail and EmailVerified are the stored address and its state,
	// shown beside the field.
	SavedEmail    string
	EmailVerified bool
}

// NewProfileForm returns the profile form filled with u's details.
func NewProfileForm(u *models.User) ProfileForm {
	return ProfileForm{
		Form:  newForm(field{"email", "field.email"}, field{"current_password", "field.current_password"}, field{"first_name", "field.first_name"}, field{"last_name", "field.last_name"}),
		Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, NotifyNewDevice: u.NotifyNewDevice,
		SavedEmail: u.Email, EmailVerified: u.EmailVerified, NoPassword: !password.Usable(u.Password),
	}
}

// Validate checks lengths and the email's syntax; every field may be blank.
func (f *ProfileForm) Validate() bool {
	f.checkEmail("email", f.Email)
	f.checkName("first_name", f.FirstName)
	f.checkName("last_name", f.LastName)
	return f.Valid()
}

// checkEmail records Django's messages for an address too long or not an
// address; an empty one is for the caller to require.
func (f *Form) checkEmail(field, email string) {
	if f.checkMaxLength(field, email, EmailMaxLength) && email != "" && !validEmail(email) {
		f.AddError(field, Msg("form.invalid_email"))
	}
}

// validEmail accepts a bare address, local@domain, with no display name,
// whose domain has a dot (a@b is refused) unless it is localhost, as
// Django's EmailValidator has it.
func validEmail(email string) bool {
	address, err := mail.ParseAddress(email)
	if err != nil || address.Name != "" || address.Address != email {
		return false
	}
	_, domain, _ := strings.Cut(email, "@")
	dotted := strings.Contains(strings.Trim(domain, "."), ".") && !strings.Contains(domain, "..")
	return (domain == "localhost" || dotted) && !strings.ContainsAny(email, " \t\r\n")
}

// PasswordForm is Django's PasswordChangeForm.
type PasswordForm struct {
	Form
	OldPassword  string
	NewPassword1 string
	NewPassword2 string
}

// NewPasswordForm returns an empty password change form.
func NewPasswordForm() PasswordForm {
	return PasswordForm{Form: newForm(field{"old_password", "field.old_password"},
		field{"new_password1", "field.new_password"}, field{"new_password2", "field.new_password_confirmation"})}
}

// PasswordNeeded asks for the current password before the address changes.
func PasswordNeeded() Text { return Msg("password.needed_for_email") }

// WrongPassword is the message for a wrong current password asked again.
func WrongPassword() Text { return Msg("password.wrong") }

// WrongOldPassword is Django's message for a wrong current password.
func WrongOldPassword() Text { return Msg("password.wrong_old") }

// Validate checks the fields are filled and the new password is acceptable
// for user; whether the old password is right is for the handler to check.
func (f *PasswordForm) Validate(user password.User) bool {
	f.checkRequired("old_password", f.OldPassword)
	f.checkNewPassword("new_password1", f.NewPassword1, "new_password2", f.NewPassword2, user)
	return f.Valid()
}

// AccountDeleteForm asks for the current password before the account is
// deleted: whoever finds a logged-in browser must not delete it (GitHub asks too).
type AccountDeleteForm struct {
	Form
	Password string
	// NoPassword: the account has no usable password; the user confirmed
	// it is them (sudo mode) instead.
	NoPassword bool
}

// NewAccountDeleteForm returns an empty account deletion form.
func NewAccountDeleteForm() AccountDeleteForm {
	return AccountDeleteForm{Form: newForm(field{"password", "field.your_password"})}
}

// Validate checks the password is there; whether it is right is for the handler to check.
func (f *AccountDeleteForm) Validate() bool {
	f.checkRequired("password", f.Password)
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

// NewArticleForm returns the article form filled with a title and content.
func NewArticleForm(title, content string) ArticleForm {
	return ArticleForm{Form: newForm(field{"title", "field.title"}, field{"content", "field.content"}), Title: title, Content: content}
}

// Validate checks the title (1–100 characters, none misleading) and that
// there is content.
func (f *ArticleForm) Validate() bool {
	if f.checkRequired("title", f.Title) {
		f.checkShown("title", f.Title, TitleMaxLength, "form.title_misleading")
	}
	f.checkRequired("content", f.Content)
	return f.Valid()
}

// PasswordResetForm is Django's PasswordResetForm: the address to mail.
type PasswordResetForm struct {
	Form
	Email string
}

// NewPasswordResetForm returns an empty password reset form.
func NewPasswordResetForm() PasswordResetForm {
	return PasswordResetForm{Form: newForm(field{"email", "field.email"})}
}

// Validate checks the address is there and is an address.
func (f *PasswordResetForm) Validate() bool {
	if f.checkRequired("email", f.Email) {
		f.checkEmail("email", f.Email)
	}
	return f.Valid()
}

// SetPasswordForm is Django's SetPasswordForm: a new password, twice; and,
// if the account has passkeys, whether to remove them.
type SetPasswordForm struct {
	Form
	NewPassword1 string
	NewPassword2 string
	// Passkeys are the names of the account's passkeys: a reset may follow
	// an intruder's visit, and their passkey would outlive the password.
	Passkeys []string
	// RemovePasskeys is ticked until the user unticks it: the safe choice,
	// since the owner can add theirs again once logged in.
	RemovePasskeys bool
}

// NewSetPasswordForm returns an empty set-password form for an account
// with these passkeys.
func NewSetPasswordForm(passkeys []string) SetPasswordForm {
	return SetPasswordForm{Form: newForm(field{"new_password1", "field.new_password"}, field{"new_password2", "field.new_password_confirmation"}),
		Passkeys: passkeys, RemovePasskeys: true}
}

// Validate checks the new password is acceptable for user and typed twice.
func (f *SetPasswordForm) Validate(user password.User) bool {
	f.checkNewPassword("new_password1", f.NewPassword1, "new_password2", f.NewPassword2, user)
	return f.Valid()
}
