package views

import (
	"context"
	"strings"

	"github.com/a-h/templ"

	"net/url"
	"strconv"

	"gatehouse/models"
	"gatehouse/models/password"
)

// Paths of the staff admin.
const (
	PathAdmin         = "/admin/"
	PathAdminUsers    = "/admin/users/"
	PathAdminArticles = "/admin/articles/"
	PathAdminLog      = "/admin/log/"
)

// AdminUserPath is a user's page in the admin.
func AdminUserPath(id int64) string { return PathAdminUsers + strconv.FormatInt(id, 10) + "/" }

// AdminArticlePath is an article's page in the admin.
func AdminArticlePath(id int64) string { return PathAdminArticles + strconv.FormatInt(id, 10) + "/" }

// Actions on a user, below their page.
const (
	AdminUserActive    = "active/"
	AdminUserPassword  = "password/"
	AdminUserReset     = "reset/"
	AdminUserSessions  = "sessions/"
	AdminUserTwoFactor = "2fa/"
	AdminUserSocial    = "social/"
	AdminDelete        = "delete/"
)

// AdminObjectPath is the admin page of a logged object.
func AdminObjectPath(objectType string, id int64) string {
	if objectType == models.ObjectArticle {
		return AdminArticlePath(id)
	}
	return AdminUserPath(id)
}

// AdminUsersPage is one page of the admin's user list.
type AdminUsersPage struct {
	Query   models.UserQuery
	Users   []models.User
	Total   int64
	Page    int64
	Pages   int64
	Viewer  *models.User
	BackURL string // this list, as the row actions return to it without JavaScript
}

// AdminUserPage is a user's page in the admin.
type AdminUserPage struct {
	User         *models.User
	Form         AdminUserForm
	Password     SetPasswordForm
	Sessions     []SessionRow
	Events       []EventRow
	Articles     []models.Article
	ArticleCount int64
	Log          []models.AdminLogEntry
	TwoFactor    bool // on for this user
	Connections  []SocialConnection
}

// AdminDeletion says what deleting a user takes with them.
type AdminDeletion struct {
	User     *models.User
	Articles int64
	Sessions int64
}

// AdminArticlesPage is one page of the admin's article list.
type AdminArticlesPage struct {
	Search   string
	Articles []models.Article
	Total    int64
	Page     int64
	Pages    int64
}

// AdminLogPage is one page of the admin log.
type AdminLogPage struct {
	Filter  models.AdminLogFilter
	Actors  []models.Actor
	Entries []models.AdminLogEntry
	Total   int64
	Page    int64
	Pages   int64
}

// AdminDashboard is the admin's first page.
type AdminDashboard struct {
	Counts models.Dashboard
	Latest []models.AdminLogEntry
}

// AdminUserForm is the admin's edit of a user: Django's UserChangeForm
// without the username and password, whose flags only a superuser sees.
type AdminUserForm struct {
	Form
	Email, FirstName, LastName     string
	IsActive, IsStaff, IsSuperuser bool
	TwoFactorExempt                bool
	WithFlags                      bool
}

// NewAdminUserForm returns the form filled with u's details; withFlags
// when the viewer may change the flags.
func NewAdminUserForm(u *models.User, withFlags bool) AdminUserForm {
	return AdminUserForm{
		Form:  newForm(field{"email", "field.email"}, field{"first_name", "field.first_name"}, field{"last_name", "field.last_name"}),
		Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, TwoFactorExempt: u.TwoFactorExempt, WithFlags: withFlags,
	}
}

// Validate checks the address and the names' lengths.
func (f *AdminUserForm) Validate() bool {
	f.checkEmail("email", f.Email)
	f.checkName("first_name", f.FirstName)
	f.checkName("last_name", f.LastName)
	return f.Valid()
}

// Edit is what the form sets.
func (f *AdminUserForm) Edit() models.UserEdit {
	return models.UserEdit{Email: f.Email, FirstName: f.FirstName, LastName: f.LastName,
		IsActive: f.IsActive, IsStaff: f.IsStaff, IsSuperuser: f.IsSuperuser, TwoFactorExempt: f.TwoFactorExempt}
}

// PasswordUser is u as the password validators compare a password with.
func PasswordUser(u *models.User) password.User {
	return password.User{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName}
}

// adminPageURL is path with query and the page number.
func adminPageURL(path string, query url.Values, page int64) string {
	q := url.Values{}
	for key, values := range query {
		q[key] = values
	}
	if page > 1 {
		q.Set("page", strconv.FormatInt(page, 10))
	} else {
		q.Del("page")
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// UserQueryValues is q as the list's query string.
func UserQueryValues(q models.UserQuery) url.Values {
	v := url.Values{}
	if q.Search != "" {
		v.Set("q", q.Search)
	}
	for name, value := range map[string]*bool{"active": q.Active, "staff": q.Staff, "superuser": q.Superuser, "verified": q.Verified} {
		if value != nil {
			v.Set(name, yesNo(*value))
		}
	}
	if q.Sort != "" && q.Sort != models.UserSorts[0].Name {
		v.Set("sort", q.Sort)
	}
	return v
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// triState is a filter's value in its select: "", "yes" or "no".
func triState(b *bool) string {
	if b == nil {
		return ""
	}
	return yesNo(*b)
}

// fullName is the user's first and last name in the order the language of
// ctx writes them (Korean: the family name first), or "".
func fullName(ctx context.Context, u *models.User) string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}
	return T(ctx, "name.full", Args{"First": u.FirstName, "Last": u.LastName})
}

// familyNameFirst reports whether the language of ctx writes the family
// name first, so that its forms ask for it first.
func familyNameFirst(ctx context.Context) bool { return T(ctx, "name.family_first") == "yes" }

// orNone is s, or "none" in words for an empty s.
func orNone(ctx context.Context, s string) string {
	if s == "" {
		return T(ctx, "admin.user.none")
	}
	return s
}

// orRaw is the message key in the language of ctx, or raw when no file
// holds the key: a name from a later version, say, shows as it is.
func orRaw(ctx context.Context, key, raw string) string {
	if !SourceLanguage().HasMessage(key) {
		return raw
	}
	return T(ctx, key)
}

// actionLabel says an admin action (one of models.AdminActions) in words.
func actionLabel(ctx context.Context, action string) string {
	return orRaw(ctx, "admin.action."+action, action)
}

// sortLabel names an order of the user list (one of models.UserSorts).
func sortLabel(ctx context.Context, name string) string {
	return orRaw(ctx, "admin.sort."+name, name)
}

// objectLabel names the kind of object an admin log entry is about.
func objectLabel(ctx context.Context, objectType string) string {
	return orRaw(ctx, "admin.object."+objectType, objectType)
}

// changeLabels are the message keys of the labels of the fields the admin
// log records, as their forms or the admin name them.
var changeLabels = map[string]string{
	"email": "field.email", "first_name": "field.first_name", "last_name": "field.last_name",
	"is_active": "admin.change.is_active", "is_staff": "admin.change.is_staff", "is_superuser": "admin.change.is_superuser",
	"live_sessions": "admin.change.live_sessions", "two_factor": "admin.change.two_factor",
	"two_factor_exempt": "admin.change.two_factor_exempt",
}

// changeLabel is a changed field's label; a field with none stays as recorded.
func changeLabel(ctx context.Context, field string) string {
	if key, ok := changeLabels[field]; ok {
		return T(ctx, key)
	}
	return field
}

// ChangedFields names changed fields by their labels, in the language of
// ctx, for a message that says what was saved: "Email address, First name".
// (Worded now, not when shown: the admin who saved reads it next, in the
// same language.)
func ChangedFields(ctx context.Context, fields []string) string {
	labels := make([]string, len(fields))
	for i, field := range fields {
		labels[i] = changeLabel(ctx, field)
	}
	return strings.Join(labels, T(ctx, "admin.change.separator"))
}

// changeValue is a recorded value in words: yes and no for a flag.
func changeValue(ctx context.Context, value string) string {
	switch value {
	case "":
		return T(ctx, "admin.change.empty")
	case "true":
		return T(ctx, "admin.change.yes")
	case "false":
		return T(ctx, "admin.change.no")
	case "on":
		return T(ctx, "admin.change.on")
	case "off":
		return T(ctx, "admin.change.off")
	}
	return value
}

// adminCurrent marks the header's Admin link on every admin page.
func adminCurrent(ctx context.Context) templ.Attributes {
	if strings.HasPrefix(page(ctx).Path, PathAdmin) {
		return templ.Attributes{"aria-current": "page"}
	}
	return nil
}
