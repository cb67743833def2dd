package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gatehouse/models"
	"gatehouse/views"
)

// rowsDoc parses an answer of table rows, which HTML only allows in a table.
func rowsDoc(t *testing.T, res *response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + res.body + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// postFormTarget is postForm from htmx, swapping the element with id target.
func (c *client) postFormTarget(page, action string, values url.Values, target string) *response {
	c.t.Helper()
	req, token := c.formRequest(page, action, values)
	req.Header.Set("X-CSRF-Token", token)
	req.Header.Set("HX-Target", target)
	return c.do(req)
}

// createStaff inserts an active staff member, a superuser if super.
func (a *testApp) createStaff(username string, super bool) *models.User {
	a.t.Helper()
	u := a.createUser(username, goodPassword)
	if _, err := a.db.NewRaw("UPDATE users SET is_staff = TRUE, is_superuser = ? WHERE id = ?", super, u.ID).Exec(context.Background()); err != nil {
		a.t.Fatal(err)
	}
	u.IsStaff, u.IsSuperuser = true, super
	return u
}

// adminLog returns the admin log, newest first.
func (a *testApp) adminLog() []models.AdminLogEntry {
	a.t.Helper()
	entries, err := models.AdminLog(context.Background(), a.db, models.AdminLogFilter{}, 0, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	return entries
}

// wantLogged fails unless the newest admin log entry is action by actor on
// the user or article with id, and returns it.
func wantLogged(t *testing.T, app *testApp, actor, action, objectType string, id int64) models.AdminLogEntry {
	t.Helper()
	entries := app.adminLog()
	if len(entries) == 0 {
		t.Fatalf("no admin log entry, want %s by %s", action, actor)
	}
	e := entries[0]
	if e.Actor != actor || e.Action != action || e.ObjectType != objectType || e.ObjectID != id {
		t.Fatalf("latest admin log entry: %s %s %s #%d, want %s %s %s #%d", e.Actor, e.Action, e.ObjectType, e.ObjectID, actor, action, objectType, id)
	}
	return e
}

// adminPages are the admin's pages, with a user and an article to show.
func adminPages(user, article int64) []string {
	return []string{
		views.PathAdmin, views.PathAdminUsers, views.AdminUserPath(user), views.AdminUserPath(user) + views.AdminDelete,
		views.PathAdminArticles, views.AdminArticlePath(article), views.AdminArticlePath(article) + views.AdminDelete, views.PathAdminLog,
	}
}

func TestAdminAccess(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	root := app.createStaff("root", true)
	app.createUser("normal", goodPassword)
	alice := app.createUser("alice", goodPassword)
	article := app.createArticle(alice, "Hello", "x")
	pages := adminPages(alice.ID, article.ID)

	t.Run("anonymous to the login page, and back", func(t *testing.T) {
		c := app.client()
		for _, page := range append(pages, "/admin/users/?q=al&sort=username") {
			res := c.get(page)
			wantStatus(t, res, http.StatusFound)
			if got, want := res.Header.Get("Location"), views.LoginPath(page); got != want {
				t.Errorf("GET %s: Location %q, want %q", page, got, want)
			}
		}
		for _, other := range []string{"/adminx/", "/administrator/"} {
			wantStatus(t, c.get(other), http.StatusNotFound)
		}
		h := app.htmxClient()
		if res := h.get(views.PathAdminUsers); res.Header.Get("HX-Redirect") != views.LoginPath(views.PathAdminUsers) {
			t.Errorf("htmx: HX-Redirect %q", res.Header.Get("HX-Redirect"))
		}
		// An action returns to the page it belongs to, never to itself.
		res := c.postForm(views.PathLogin, views.AdminUserPath(alice.ID)+views.AdminUserActive, url.Values{"active": {"no"}})
		if got, want := res.Header.Get("Location"), views.LoginPath(views.AdminUserPath(alice.ID)); got != want {
			t.Errorf("POST active: Location %q, want %q", got, want)
		}
		if !app.user("alice").IsActive {
			t.Fatal("an anonymous POST deactivated alice")
		}
		res = c.get(views.AdminUserPath(alice.ID) + views.AdminUserSessions)
		if got, want := res.Header.Get("Location"), views.LoginPath(views.AdminUserPath(alice.ID)); got != want {
			t.Errorf("GET of an action: Location %q, want %q", got, want)
		}
	})

	t.Run("a user who is not staff gets 403", func(t *testing.T) {
		c := app.client()
		c.loginAs("normal", goodPassword)
		if c.get("/articles/").doc(t).Find(`[data-testid="admin-link"]`).Length() != 0 {
			t.Error("the header links a normal user to the admin")
		}
		for _, page := range pages {
			wantStatus(t, c.get(page), http.StatusForbidden)
		}
		res := c.postForm("/articles/", views.AdminUserPath(alice.ID)+views.AdminUserActive, url.Values{"active": {"no"}})
		wantStatus(t, res, http.StatusForbidden)
		if !strings.Contains(res.body, "This area is for staff") {
			t.Errorf("the 403 page does not say why:\n%s", res.body)
		}
		if !app.user("alice").IsActive {
			t.Fatal("a normal user deactivated alice")
		}
	})

	t.Run("staff see every page, never cached", func(t *testing.T) {
		c := app.client()
		c.loginAs("root", goodPassword)
		if href, _ := c.get("/articles/").doc(t).Find(`[data-testid="admin-link"]`).Attr("href"); href != views.PathAdmin {
			t.Errorf("the header's admin link is %q", href)
		}
		for _, page := range pages {
			res := c.get(page)
			wantStatus(t, res, http.StatusOK)
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("GET %s: Cache-Control %q", page, cc)
			}
		}
		// No CSRF token: refused, nothing changed.
		res := c.post(views.AdminUserPath(alice.ID)+views.AdminUserActive, url.Values{"active": {"no"}})
		wantStatus(t, res, http.StatusForbidden)
		if !app.user("alice").IsActive {
			t.Fatal("a POST without a CSRF token deactivated alice")
		}
		// The log is for reading only.
		wantStatus(t, c.postForm(views.PathAdminLog, views.PathAdminLog, url.Values{"action": {"delete"}}), http.StatusMethodNotAllowed)
		if res := c.get(views.AdminUserPath(alice.ID) + views.AdminUserActive); res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
			t.Errorf("GET of an action: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
		}
		wantStatus(t, c.get("/admin/users/nope/"), http.StatusNotFound)
		wantStatus(t, c.get("/admin/users/999999/"), http.StatusNotFound)
		wantStatus(t, c.get("/admin/articles/999999/"), http.StatusNotFound)
	})

	t.Run("inactive staff are anonymous", func(t *testing.T) {
		staff := app.createStaff("former", false)
		c := app.client()
		c.loginAs("former", goodPassword)
		wantStatus(t, c.get(views.PathAdmin), http.StatusOK)
		if _, err := app.db.NewRaw("UPDATE users SET is_active = FALSE WHERE id = ?", staff.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		res := c.get(views.PathAdmin)
		wantStatus(t, res, http.StatusFound)
		if got := res.Header.Get("Location"); got != views.LoginPath(views.PathAdmin) {
			t.Errorf("inactive staff sent to %q", got)
		}
	})
	_ = root
}

func TestAdminStaffAndSuperuserPowers(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createStaff("root", true)
	staff := app.createStaff("staff", false)
	other := app.createStaff("other", false)
	alice := app.createUser("alice", goodPassword)
	s := app.client()
	s.loginAs("staff", goodPassword)

	// Staff act on users who are not staff; the flags are not theirs to set.
	page := s.get(views.AdminUserPath(alice.ID))
	if page.doc(t).Find(`[name="is_staff"], [name="is_superuser"]`).Length() != 0 {
		t.Error("staff are shown the flags")
	}
	if page.doc(t).Find(`[data-testid="delete-user"]`).Length() != 0 {
		t.Error("staff are offered to delete a user")
	}
	res := s.postForm(views.AdminUserPath(alice.ID), views.AdminUserPath(alice.ID), url.Values{
		"email": {"alice@example.com"}, "first_name": {"Alice"}, "last_name": {""}, "is_active": {"on"},
		"is_staff": {"on"}, "is_superuser": {"on"},
	})
	wantRedirect(t, res, false, views.AdminUserPath(alice.ID))
	got := app.user("alice")
	if got.Email != "alice@example.com" || got.FirstName != "Alice" || got.IsStaff || got.IsSuperuser {
		t.Fatalf("after staff's edit: %+v", got)
	}
	wantLogged(t, app, "staff", models.ActionChange, models.ObjectUser, alice.ID)

	// Not on other staff, nor delete anyone.
	for _, action := range []string{"", views.AdminUserActive, views.AdminUserPassword, views.AdminUserReset, views.AdminUserSessions, views.AdminDelete} {
		res := s.postForm(views.AdminUserPath(other.ID), views.AdminUserPath(other.ID)+action, url.Values{
			"email": {"x@example.com"}, "first_name": {"x"}, "last_name": {"x"}, "active": {"no"},
			"new_password1": {"a brand new passphrase"}, "new_password2": {"a brand new passphrase"}, "confirm": {"yes"},
		})
		wantStatus(t, res, http.StatusForbidden)
	}
	wantStatus(t, s.get(views.AdminUserPath(alice.ID)+views.AdminDelete), http.StatusForbidden)
	wantStatus(t, s.postForm(views.PathAdmin, views.AdminUserPath(alice.ID)+views.AdminDelete, url.Values{"confirm": {"yes"}}), http.StatusForbidden)
	if u := app.user("other"); !u.IsActive || u.Email != "" {
		t.Fatalf("staff changed other staff: %+v", u)
	}
	if app.user("alice") == nil {
		t.Fatal("staff deleted a user")
	}
	if read := s.get(views.AdminUserPath(other.ID)); read.doc(t).Find(`[data-testid="read-only"]`).Length() != 1 {
		t.Error("staff viewing other staff get no read-only page")
	}

	// A superuser may do all of it, flags included.
	r := app.client()
	r.loginAs("root", goodPassword)
	res = r.postForm(views.AdminUserPath(staff.ID), views.AdminUserPath(staff.ID), url.Values{
		"email": {""}, "first_name": {""}, "last_name": {""}, "is_active": {"on"}, "is_superuser": {"on"}, "is_staff": {"on"},
	})
	wantRedirect(t, res, false, views.AdminUserPath(staff.ID))
	if !app.user("staff").IsSuperuser {
		t.Fatal("a superuser could not make staff a superuser")
	}
	e := wantLogged(t, app, "root", models.ActionChange, models.ObjectUser, staff.ID)
	if changes := e.Changes(); len(changes) != 1 || changes[0] != (models.FieldChange{Field: "is_superuser", From: "false", To: "true"}) {
		t.Errorf("logged changes %+v", changes)
	}
}

func TestAdminOwnAccountAndLastSuperuser(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		root := app.createStaff("root", true)
		c := app.newClient(htmx)
		c.loginAs("root", goodPassword)
		edit := func(values url.Values) *response {
			form := url.Values{"email": {""}, "first_name": {""}, "last_name": {""}}
			for k, v := range values {
				form[k] = v
			}
			return c.postForm(views.AdminUserPath(root.ID), views.AdminUserPath(root.ID), form)
		}

		// Deactivating oneself: refused on the form.
		res := edit(url.Values{"is_staff": {"on"}, "is_superuser": {"on"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantFragment(t, res, htmx, "admin-user-form")
		if !strings.Contains(res.text(t, ".form-errors"), "your own account") {
			t.Errorf("form errors: %q", res.text(t, ".form-errors"))
		}
		// The last active superuser stays one.
		res = edit(url.Values{"is_active": {"on"}, "is_staff": {"on"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(res.text(t, ".form-errors"), "last active superuser") {
			t.Errorf("form errors: %q", res.text(t, ".form-errors"))
		}
		if u := app.user("root"); !u.IsActive || !u.IsSuperuser {
			t.Fatalf("root after the refusals: %+v", u)
		}
		// Nor delete oneself, even by posting.
		wantStatus(t, c.get(views.AdminUserPath(root.ID)+views.AdminDelete), http.StatusConflict)
		wantStatus(t, c.postForm(views.PathAdmin, views.AdminUserPath(root.ID)+views.AdminDelete, url.Values{"confirm": {"yes"}}), http.StatusConflict)
		if app.user("root") == nil {
			t.Fatal("root deleted themselves")
		}
		// Nor set their own password here: the settings ask for the current one.
		wantStatus(t, c.postForm(views.PathAdmin, views.AdminUserPath(root.ID)+views.AdminUserPassword,
			url.Values{"new_password1": {"a brand new passphrase"}, "new_password2": {"a brand new passphrase"}}), http.StatusConflict)
		app.client().loginAs("root", goodPassword)
		if len(app.adminLog()) != 0 {
			t.Fatalf("refusals were logged: %+v", app.adminLog())
		}

		// Ending their own sessions keeps this one.
		res = c.postForm(views.AdminUserPath(root.ID), views.AdminUserPath(root.ID)+views.AdminUserSessions, nil)
		if !htmx {
			wantRedirect(t, res, false, views.AdminUserPath(root.ID))
		}
		if c.loggedInAs() != "root" || app.count("SELECT COUNT(*) FROM sessions") != 1 {
			t.Fatal("ending one's own sessions from the admin ended this one too, or not the other")
		}
		wantLogged(t, app, "root", models.ActionEndSessions, models.ObjectUser, root.ID)

		// With a second superuser, root may step down.
		app.createStaff("second", true)
		res = edit(url.Values{"is_active": {"on"}, "is_staff": {"on"}})
		if htmx {
			wantStatus(t, res, http.StatusOK)
		} else {
			wantRedirect(t, res, false, views.AdminUserPath(root.ID))
		}
		if app.user("root").IsSuperuser {
			t.Fatal("root could not step down with another superuser there")
		}
	})
}

func TestAdminBulkDeactivateEndsSessions(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createStaff("staff", false)
	app.createStaff("colleague", false)
	var ids []string
	var browsers []*client
	for _, name := range []string{"ann", "ben", "cat"} {
		u := app.createUser(name, goodPassword)
		ids = append(ids, strconv.FormatInt(u.ID, 10))
		b := app.client()
		b.loginAs(name, goodPassword)
		browsers = append(browsers, b)
	}
	colleague := app.user("colleague")
	c := app.client()
	c.loginAs("staff", goodPassword)

	// First a page that says how many, and changes nothing.
	selection := append(ids, strconv.FormatInt(colleague.ID, 10))
	res := c.postForm(views.PathAdminUsers, views.PathAdminUsers, url.Values{"action": {"deactivate"}, "ids": selection})
	wantStatus(t, res, http.StatusOK)
	if got := res.text(t, `[data-testid="bulk-confirm"] h1`); got != "Deactivate 4 users?" {
		t.Fatalf("confirmation asks %q", got)
	}
	if n := app.count("SELECT COUNT(*) FROM users WHERE is_active = FALSE"); n != 0 {
		t.Fatalf("%d users deactivated before the confirmation", n)
	}

	res = c.postForm(views.PathAdminUsers, views.PathAdminUsers, url.Values{"action": {"deactivate"}, "ids": selection, "confirm": {"yes"}})
	wantRedirect(t, res, false, views.PathAdminUsers)
	list := c.get(views.PathAdminUsers)
	message := list.text(t, "#messages")
	if !strings.Contains(message, "Deactivated 3 users") || !strings.Contains(message, "colleague was left alone: Only a superuser") {
		t.Errorf("message %q", message)
	}
	for i, b := range browsers {
		if got := b.loggedInAs(); got != "" {
			t.Errorf("user %d is still logged in as %q", i, got)
		}
	}
	if n := app.count("SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE NOT u.is_active"); n != 0 {
		t.Errorf("%d sessions of deactivated users remain", n)
	}
	if n := app.count("SELECT COUNT(*) FROM session_data"); n != 1 {
		t.Errorf("%d session payloads remain, want staff's only", n)
	}
	if n := app.count("SELECT COUNT(*) FROM admin_log WHERE action = 'deactivate' AND actor = 'staff'"); n != 3 {
		t.Errorf("%d deactivations logged, want 3", n)
	}
	if !app.user("colleague").IsActive {
		t.Error("staff deactivated a colleague")
	}

	// No selection: a message, nothing else.
	res = c.postForm(views.PathAdminUsers, views.PathAdminUsers, url.Values{"action": {"activate"}})
	wantRedirect(t, res, false, views.PathAdminUsers)
	wantStatus(t, c.postForm(views.PathAdminUsers, views.PathAdminUsers, url.Values{"action": {"delete"}, "ids": ids}), http.StatusBadRequest)
	wantStatus(t, c.postForm(views.PathAdminUsers, views.PathAdminUsers, url.Values{"action": {"activate"}, "ids": {"1; DROP TABLE users"}}), http.StatusBadRequest)

	res = c.postForm(views.PathAdminUsers, views.PathAdminUsers, url.Values{"action": {"activate"}, "ids": ids, "confirm": {"yes"}})
	wantRedirect(t, res, false, views.PathAdminUsers)
	if n := app.count("SELECT COUNT(*) FROM users WHERE is_active = FALSE"); n != 0 {
		t.Fatalf("%d users still inactive", n)
	}
	browsers[0].loginAs("ann", goodPassword)
}

func TestAdminToggleActive(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createStaff("staff", false)
		bob := app.createUser("bob", goodPassword)
		browser := app.client()
		browser.loginAs("bob", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("staff", goodPassword)
		list := views.PathAdminUsers + "?q=bo"
		res := c.postForm(list, views.AdminUserPath(bob.ID)+views.AdminUserActive, url.Values{"active": {"no"}, "next": {list}})
		if htmx {
			wantStatus(t, res, http.StatusOK)
			doc := rowsDoc(t, res)
			if strings.Contains(res.body, "<html") || doc.Find("tr#"+views.AdminUserRowID(bob.ID)+` [data-testid="badge-inactive"]`).Length() != 1 {
				t.Fatalf("the answer is not bob's row, inactive:\n%s", res.body)
			}
			if got := strings.TrimSpace(doc.Find(`#messages[hx-swap-oob]`).Text()); !strings.Contains(got, "bob was deactivated") {
				t.Errorf("live region: %q", got)
			}
		} else {
			wantRedirect(t, res, false, list)
		}
		if app.user("bob").IsActive || browser.loggedInAs() != "" {
			t.Fatal("bob is still active, or logged in")
		}
		wantLogged(t, app, "staff", models.ActionDeactivate, models.ObjectUser, bob.ID)

		// Back to where the list was, and only there.
		res = c.postForm(list, views.AdminUserPath(bob.ID)+views.AdminUserActive, url.Values{"active": {"yes"}, "next": {"https://evil.example/"}})
		if !htmx {
			wantRedirect(t, res, false, views.PathAdminUsers)
		}
		if !app.user("bob").IsActive {
			t.Fatal("bob was not activated again")
		}
		wantLogged(t, app, "staff", models.ActionActivate, models.ObjectUser, bob.ID)
	})
}

func TestAdminUserEdit(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createStaff("staff", false)
		alice := app.createUser("alice", goodPassword)
		if _, err := app.db.NewRaw("UPDATE users SET email = 'old@example.com', email_verified = TRUE WHERE id = ?", alice.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := app.newClient(htmx)
		c.loginAs("staff", goodPassword)
		page := views.AdminUserPath(alice.ID)

		res := c.postForm(page, page, url.Values{"email": {"not an address"}, "first_name": {strings.Repeat("x", 151)}, "last_name": {""}, "is_active": {"on"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantFragment(t, res, htmx, "admin-user-form")
		if res.text(t, "#id_email_error") != "Enter a valid email address." {
			t.Errorf("email error %q", res.text(t, "#id_email_error"))
		}

		res = c.postForm(page, page, url.Values{"email": {"new@example.com"}, "first_name": {"Alice"}, "last_name": {"Liddell"}, "is_active": {"on"}, "username": {"mallory"}})
		if htmx {
			wantStatus(t, res, http.StatusOK)
			wantFragment(t, res, true, "admin-user-form")
			if got := res.doc(t).Find(`#messages[hx-swap-oob]`).Text(); !strings.Contains(got, "Saved alice: Email address, First name, Last name.") {
				t.Errorf("live region %q", got)
			}
		} else {
			wantRedirect(t, res, false, page)
		}
		got := app.user("alice")
		if got.Email != "new@example.com" || got.EmailVerified || got.FirstName != "Alice" || got.LastName != "Liddell" || got.Username != "alice" {
			t.Fatalf("after the edit: %+v", got)
		}
		e := wantLogged(t, app, "staff", models.ActionChange, models.ObjectUser, alice.ID)
		want := []models.FieldChange{{Field: "email", From: "old@example.com", To: "new@example.com"}, {Field: "first_name", To: "Alice"}, {Field: "last_name", To: "Liddell"}}
		if changes := e.Changes(); len(changes) != 3 || changes[0] != want[0] || changes[1] != want[1] || changes[2] != want[2] {
			t.Errorf("logged %+v, want %+v", changes, want)
		}
		// The entry is on the user's page, field by field.
		shown := c.get(page).text(t, `[data-testid="admin-log"]`)
		if !strings.Contains(shown, "Email address: old@example.com → new@example.com") {
			t.Errorf("the user's page shows the log as %q", shown)
		}
	})
}

func TestAdminSetPassword(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createStaff("staff", false)
		alice := app.createUser("alice", goodPassword)
		browser := app.client()
		browser.loginAs("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("staff", goodPassword)
		page, action := views.AdminUserPath(alice.ID), views.AdminUserPath(alice.ID)+views.AdminUserPassword

		res := c.postForm(page, action, url.Values{"new_password1": {"alice123"}, "new_password2": {"alice123"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantFragment(t, res, htmx, "admin-password-form")
		if !strings.Contains(res.text(t, "#id_new_password1_error"), "too similar to the username") {
			t.Errorf("validator errors %q", res.text(t, "#id_new_password1_error"))
		}

		const newPassword = "a brand new passphrase"
		res = c.postForm(page, action, url.Values{"new_password1": {newPassword}, "new_password2": {newPassword}})
		if htmx {
			wantStatus(t, res, http.StatusOK)
			wantFragment(t, res, true, "admin-password-form")
			if got := res.doc(t).Find(`#messages[hx-swap-oob]`).Text(); !strings.Contains(got, "1 session ended") {
				t.Errorf("live region %q", got)
			}
		} else {
			wantRedirect(t, res, false, page)
		}
		if browser.loggedInAs() != "" {
			t.Fatal("alice's session survived the new password")
		}
		app.client().loginAs("alice", newPassword)
		e := wantLogged(t, app, "staff", models.ActionSetPassword, models.ObjectUser, alice.ID)
		if changes := e.Changes(); len(changes) != 1 || changes[0] != (models.FieldChange{Field: "password"}) {
			t.Errorf("logged %+v", changes)
		}
		hash := app.user("alice").Password
		if n := app.count("SELECT COUNT(*) FROM admin_log WHERE changes LIKE ? OR changes LIKE ? OR changes LIKE '%argon2%'", "%"+newPassword+"%", "%"+hash+"%"); n != 0 {
			t.Fatal("the admin log holds the password or its hash")
		}
	})
}

func TestAdminSendResetMail(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createStaff("staff", false)
	alice := app.createUser("alice", goodPassword)
	bob := app.createUser("bob", goodPassword)
	if _, err := app.db.NewRaw("UPDATE users SET email = 'alice@example.com', email_verified = TRUE WHERE id = ?", alice.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.loginAs("staff", goodPassword)
	page := views.AdminUserPath(alice.ID)
	res := c.postForm(page, page+views.AdminUserReset, nil)
	wantRedirect(t, res, false, page)
	if n := mtOutboxCount(t, app, "alice@example.com", "Reset your "+views.SiteName+" password"); n != 1 {
		t.Fatalf("%d reset mails in the outbox", n)
	}
	wantLogged(t, app, "staff", models.ActionSendReset, models.ObjectUser, alice.ID)
	if got := c.get(page).text(t, "#messages"); !strings.Contains(got, "mailed to alice@example.com") {
		t.Errorf("message %q", got)
	}
	// An unconfirmed address gets nothing.
	wantStatus(t, c.postForm(views.AdminUserPath(bob.ID), views.AdminUserPath(bob.ID)+views.AdminUserReset, nil), http.StatusConflict)
}

func TestAdminEndSessions(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createStaff("staff", false)
		alice := app.createUser("alice", goodPassword)
		browsers := []*client{app.client(), app.client()}
		for _, b := range browsers {
			b.loginAs("alice", goodPassword)
		}
		c := app.newClient(htmx)
		c.loginAs("staff", goodPassword)
		page := views.AdminUserPath(alice.ID)
		if n := c.get(page).doc(t).Find(`[data-testid="admin-sessions"] li`).Length(); n != 2 {
			t.Fatalf("the page lists %d sessions, want 2", n)
		}
		res := c.postForm(page, page+views.AdminUserSessions, nil)
		if htmx {
			wantStatus(t, res, http.StatusOK)
			doc := res.doc(t)
			if strings.Contains(res.body, "<html") || doc.Find(`#admin-sessions [data-testid="no-sessions"]`).Length() != 1 {
				t.Fatalf("the answer is not the emptied list:\n%s", res.body)
			}
			if got := doc.Find(`#messages[hx-swap-oob]`).Text(); !strings.Contains(got, "2 sessions of alice ended") {
				t.Errorf("live region %q", got)
			}
		} else {
			wantRedirect(t, res, false, page)
		}
		for _, b := range browsers {
			if b.loggedInAs() != "" {
				t.Fatal("a session of alice survived")
			}
		}
		e := wantLogged(t, app, "staff", models.ActionEndSessions, models.ObjectUser, alice.ID)
		if changes := e.Changes(); len(changes) != 1 || changes[0].From != "2" {
			t.Errorf("logged %+v", changes)
		}
	})
}

func TestAdminDeleteUser(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createStaff("root", true)
		alice := app.createUser("alice", goodPassword)
		app.seedArticles(alice, 3)
		app.client().loginAs("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("root", goodPassword)
		page := views.AdminUserPath(alice.ID) + views.AdminDelete

		confirm := c.get(page)
		wantStatus(t, confirm, http.StatusOK)
		if a, s := confirm.text(t, `[data-testid="loss-articles"]`), confirm.text(t, `[data-testid="loss-sessions"]`); a != "3 articles" || !strings.HasPrefix(s, "1 live session:") {
			t.Errorf("the confirmation says %q and %q", a, s)
		}
		// Without the confirmation, the question again.
		res := c.postForm(page, page, nil)
		wantStatus(t, res, http.StatusOK)
		if app.user("alice") == nil {
			t.Fatal("deleted without confirmation")
		}
		res = c.postForm(page, page, url.Values{"confirm": {"yes"}})
		wantRedirect(t, res, htmx, views.PathAdminUsers)
		if app.user("alice") != nil || app.count("SELECT COUNT(*) FROM articles") != 0 || app.count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", alice.ID) != 0 {
			t.Fatal("alice, her articles or her sessions remain")
		}
		e := wantLogged(t, app, "root", models.ActionDelete, models.ObjectUser, alice.ID)
		if e.ObjectRepr != "alice" {
			t.Errorf("logged object %q", e.ObjectRepr)
		}
		if got := c.get(views.PathAdmin).text(t, `[data-testid="admin-log"]`); !strings.Contains(got, "Deleted") || !strings.Contains(got, "alice") {
			t.Errorf("the dashboard's log: %q", got)
		}
	})
}

func TestAdminArticles(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createStaff("staff", false)
		alice := app.createUser("alice", goodPassword)
		bob := app.createUser("bob", goodPassword)
		app.seedArticles(alice, 60)
		mine := app.createArticle(bob, "Bob's 100% _special_ post", "Words.")
		c := app.newClient(htmx)
		c.loginAs("staff", goodPassword)
		plain := app.client()
		plain.loginAs("staff", goodPassword)

		rows := func(path string) []string {
			var found []string
			plain.get(path).doc(t).Find(`[data-testid="article-link"]`).Each(func(_ int, s *goquery.Selection) { found = append(found, s.Text()) })
			return found
		}
		if got := rows(views.PathAdminArticles); len(got) != 50 || got[0] != mine.Title {
			t.Fatalf("first page: %d rows, first %q", len(got), got[0])
		}
		if got := rows(views.PathAdminArticles + "?page=2"); len(got) != 11 {
			t.Fatalf("second page: %d rows", len(got))
		}
		if got := rows(views.PathAdminArticles + "?q=BOB"); len(got) != 1 || got[0] != mine.Title {
			t.Errorf("by author: %q", got)
		}
		if got := rows(views.PathAdminArticles + "?q=100%25+_special"); len(got) != 1 {
			t.Errorf("by title with %% and _: %q", got)
		}
		if got := rows(views.PathAdminArticles + "?q=article+59"); len(got) != 1 || got[0] != "Article 59" {
			t.Errorf("by title: %q", got)
		}
		if got := rows(views.PathAdminArticles + "?q=%25"); len(got) != 1 {
			t.Errorf("a lone %% matched %d", len(got))
		}
		wantStatus(t, plain.get(views.AdminArticlePath(mine.ID)), http.StatusOK)

		delete := views.AdminArticlePath(mine.ID) + views.AdminDelete
		if htmx {
			req := url.Values{"confirm": {"yes"}}
			c.htmx = true
			res := c.postFormTarget(views.PathAdminArticles, delete, req, views.AdminArticleRowID(mine.ID))
			wantStatus(t, res, http.StatusOK)
			doc := rowsDoc(t, res)
			if doc.Find(`[data-testid="article-deleted"]`).Length() != 1 || !strings.Contains(doc.Find(`#messages[hx-swap-oob]`).Text(), "was deleted") {
				t.Fatalf("the answer is not the row and message:\n%s", res.body)
			}
		} else {
			res := c.postForm(views.PathAdminArticles, delete, nil)
			wantStatus(t, res, http.StatusOK)
			if res.doc(t).Find(`[data-testid="admin-article-delete-confirm"]`).Length() != 1 {
				t.Fatal("no confirmation page")
			}
			wantRedirect(t, c.postForm(views.PathAdminArticles, delete, url.Values{"confirm": {"yes"}}), false, views.PathAdminArticles)
		}
		if app.count("SELECT COUNT(*) FROM articles WHERE id = ?", mine.ID) != 0 {
			t.Fatal("the article remains")
		}
		e := wantLogged(t, app, "staff", models.ActionDelete, models.ObjectArticle, mine.ID)
		if got := views.AdminObjectRepr(context.Background(), e.ObjectRepr); !strings.HasSuffix(got, "” by "+models.Isolated("bob")) {
			t.Errorf("logged object %q", e.ObjectRepr)
		}
	})
}

func TestAdminLogFilters(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createStaff("root", true)
	app.createStaff("staff", false)
	alice := app.createUser("alice", goodPassword)
	r, s := app.client(), app.client()
	r.loginAs("root", goodPassword)
	s.loginAs("staff", goodPassword)
	page := views.AdminUserPath(alice.ID)
	r.postForm(page, page+views.AdminUserSessions, nil)
	s.postForm(page, page+views.AdminUserActive, url.Values{"active": {"no"}})
	s.postForm(page, page+views.AdminUserActive, url.Values{"active": {"yes"}})
	staffID := app.user("staff").ID

	entries := func(query string) []string {
		var found []string
		r.get(views.PathAdminLog + query).doc(t).Find(`[data-testid="log-entry"]`).Each(func(_ int, e *goquery.Selection) {
			action, _ := e.Attr("data-action")
			found = append(found, strings.TrimSpace(e.Find("td").Eq(1).Text())+" "+action)
		})
		return found
	}
	if got := strings.Join(entries(""), ", "); got != "staff activate, staff deactivate, root end_sessions" {
		t.Errorf("the log: %s", got)
	}
	if got := strings.Join(entries("?actor="+strconv.FormatInt(staffID, 10)), ", "); got != "staff activate, staff deactivate" {
		t.Errorf("by staff: %s", got)
	}
	if got := strings.Join(entries("?action=deactivate"), ", "); got != "staff deactivate" {
		t.Errorf("deactivations: %s", got)
	}
	if got := strings.Join(entries("?actor=nope&action=%27"), ", "); got != "" {
		t.Errorf("a nonsense filter: %s", got)
	}
	// The log has no form but its filters: nothing to edit or delete.
	doc := r.get(views.PathAdminLog).doc(t)
	if n := doc.Find(`main form[method="post"]`).Length(); n != 0 {
		t.Errorf("the log page has %d POST forms", n)
	}
}

func TestAdminDashboardCounts(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createStaff("staff", false)
	alice := app.createUser("alice", goodPassword)
	app.createUser("dormant", goodPassword)
	app.seedArticles(alice, 4)
	app.client().loginAs("alice", goodPassword)
	guesser := app.client()
	for range 7 { // past the limit of failures: the last are refused, and logged as throttled
		guesser.postForm(views.PathLogin, views.PathLogin, url.Values{"username": {"dormant"}, "password": {"wrong"}})
	}
	failed := app.count("SELECT COUNT(*) FROM security_events WHERE kind = 'login_failed'")
	throttled := app.count("SELECT COUNT(*) FROM security_events WHERE kind = 'throttled'")
	if failed == 0 || throttled == 0 {
		t.Fatalf("%d failed and %d throttled logins, want some of each", failed, throttled)
	}
	c := app.client()
	c.loginAs("staff", goodPassword)
	doc := c.get(views.PathAdmin).doc(t)
	want := map[string]string{"users": "3", "active-users": "2", "live-sessions": "2", "articles": "4",
		"failed-logins": strconv.Itoa(failed), "throttled": strconv.Itoa(throttled)}
	for id, n := range want {
		if got := strings.TrimSpace(doc.Find(`[data-testid="stat-` + id + `"] .stat-number`).Text()); got != n {
			t.Errorf("%s: %q, want %s", id, got, n)
		}
	}
}

// TestAdminBadInput checks that nonsense in the admin's URLs and forms gets
// a clear 4xx or is ignored, never a 500.
func TestAdminBadInput(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createStaff("root", true)
	alice := app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("root", goodPassword)
	for path, status := range map[string]int{
		"/admin/users/?page=abc&sort=evil&active=maybe":               http.StatusOK,
		"/admin/users/?page=99999999999999999999":                     http.StatusOK,
		"/admin/users/?page=9223372036854775807":                      http.StatusOK,
		"/admin/users/?q=" + strings.Repeat("%C3%A9", 1500):           http.StatusOK,
		"/admin/users/?q=%FF":                                         http.StatusBadRequest,
		"/admin/users/0/":                                             http.StatusNotFound,
		"/admin/users/99999999999999999999/":                          http.StatusNotFound,
		"/admin/users/-1/delete/":                                     http.StatusNotFound,
		"/admin/articles/?q=%25%5C_&page=-3":                          http.StatusOK,
		"/admin/log/?actor=-1&action=%3Cscript%3E&page=9999999999999": http.StatusOK,
	} {
		if res := c.get(path); res.StatusCode != status {
			t.Errorf("GET %.80s: %d, want %d", path, res.StatusCode, status)
		}
	}
	page := views.AdminUserPath(alice.ID)
	posts := []struct {
		action string
		values url.Values
		status int
	}{
		{views.PathAdminUsers, url.Values{}, http.StatusBadRequest},
		{views.PathAdminUsers, url.Values{"action": {"activate"}, "ids": make([]string, 501)}, http.StatusBadRequest},
		{page, url.Values{"is_active": {"on"}}, http.StatusBadRequest},
		{page, url.Values{"email": {strings.Repeat("a", 300) + "@example.com"}, "first_name": {""}, "last_name": {""}}, http.StatusUnprocessableEntity},
		{page + views.AdminUserActive, url.Values{}, http.StatusBadRequest},
		{page + views.AdminUserPassword, url.Values{}, http.StatusBadRequest},
		{"/admin/users/424242/sessions/", url.Values{}, http.StatusNotFound},
		{"/admin/articles/424242/delete/", url.Values{"confirm": {"yes"}}, http.StatusNotFound},
	}
	for _, p := range posts {
		if res := c.postForm(views.PathAdminUsers, p.action, p.values); res.StatusCode != p.status {
			t.Errorf("POST %s %v: %d, want %d", p.action, p.values, res.StatusCode, p.status)
		}
	}
	if len(app.adminLog()) != 0 {
		t.Errorf("bad input was logged: %+v", app.adminLog())
	}
}

// TestAdminActionsNeedRecentAuthentication: staff whose last login or
// confirmation is over 10 minutes old may look around the admin, but an
// action waits for their password and then returns to its page.
func TestAdminActionsNeedRecentAuthentication(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app, clock := newClockedApp(t)
		app.createStaff("root", true)
		bob := app.createUser("bob", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("root", goodPassword)
		clock.advance(11 * time.Minute)

		page := "/admin/users/" + strconv.FormatInt(bob.ID, 10) + "/"
		wantStatus(t, c.get(page), http.StatusOK)
		res := c.postForm(page, page+"active/", url.Values{"active": {"no"}})
		confirm := "/accounts/confirm/?next=" + url.QueryEscape(page)
		wantRedirect(t, res, htmx, confirm)
		if !app.user("bob").IsActive {
			t.Fatal("deactivated without a recent authentication")
		}

		wantRedirect(t, c.postForm(confirm, confirm, url.Values{"password": {goodPassword}}), htmx, page)
		c.postForm(page, page+"active/", url.Values{"active": {"no"}})
		if app.user("bob").IsActive {
			t.Fatal("not deactivated after the confirmation")
		}
	})
}

// TestAdminTurnOffTwoFactor: a superuser turns off the two-factor
// authentication of a user who lost their phone and codes; plain staff
// cannot, nor can anyone on themselves; it is logged in both logs.
func TestAdminTurnOffTwoFactor(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	app.createStaff("root", true)
	app.createStaff("sam", false)
	bob := app.createUser("bob", goodPassword)
	owner := app.newClient(false)
	owner.loginAs("bob", goodPassword)
	enableTwoFactor(t, owner, clock)
	page := views.AdminUserPath(bob.ID)
	action := page + views.AdminUserTwoFactor

	sam := app.newClient(false)
	sam.loginAs("sam", goodPassword)
	if n := sam.get(page).doc(t).Find(`[data-testid="admin-two-factor-form"]`).Length(); n != 0 {
		t.Errorf("plain staff are offered to turn two-factor off (%d forms)", n)
	}
	wantStatus(t, sam.postForm(page, action, nil), http.StatusForbidden)
	if app.count("SELECT count(*) FROM two_factor WHERE user_id = ?", bob.ID) != 1 {
		t.Fatal("plain staff turned two-factor off")
	}

	root := app.newClient(false)
	root.loginAs("root", goodPassword)
	if n := root.get(page).doc(t).Find(`[data-testid="admin-two-factor-form"]`).Length(); n != 1 {
		t.Fatalf("a superuser sees %d forms to turn two-factor off", n)
	}
	res := root.postForm(page, action, nil)
	wantRedirect(t, res, false, page)
	if n := app.count("SELECT count(*) FROM two_factor WHERE user_id = ?", bob.ID) + app.count("SELECT count(*) FROM recovery_codes WHERE user_id = ?", bob.ID); n != 0 {
		t.Fatalf("%d two-factor rows left", n)
	}
	wantLogged(t, app, "root", models.ActionTwoFactorOff, models.ObjectUser, bob.ID)
	if n := app.count("SELECT count(*) FROM security_events WHERE user_id = ? AND kind = ? AND detail = ?", bob.ID, models.EventTwoFactorDisabled, models.NewDetail("by_admin", "Admin", "root").String()); n != 1 {
		t.Errorf("%d entries in bob's own log", n)
	}
	if got := root.get(page).text(t, `[data-testid="messages"]`); !strings.Contains(got, "Two-factor authentication is off for bob") {
		t.Errorf("message %q", got)
	}

	// Again: nothing to do, nothing logged.
	root.postForm(page, action, nil)
	if n := app.count("SELECT count(*) FROM admin_log WHERE action = ?", models.ActionTwoFactorOff); n != 1 {
		t.Errorf("%d log entries after turning it off twice", n)
	}
	// One's own, only in one's settings.
	rootID := app.user("root").ID
	wantStatus(t, root.postForm(views.AdminUserPath(rootID), views.AdminUserPath(rootID)+views.AdminUserTwoFactor, nil), http.StatusConflict)

	// The password alone logs bob in again.
	again := app.newClient(false)
	again.loginAs("bob", goodPassword)
	if got := again.loggedInAs(); got != "bob" {
		t.Errorf("after two-factor was turned off, bob's login greets %q", got)
	}
}

// TestAdminChangesReachTheUser: an address or a password changed by staff
// shows in the user's own security log, and the old confirmed address is
// told of the new one, as when the user changes it.
func TestAdminChangesReachTheUser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createStaff("root", true)
	bob := app.createUser("bob", goodPassword)
	if _, err := app.db.NewRaw("UPDATE users SET email = 'bob@example.com', email_verified = TRUE WHERE id = ?", bob.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	root := app.newClient(false)
	root.loginAs("root", goodPassword)
	page := views.AdminUserPath(bob.ID)

	res := root.postForm(page, page, url.Values{"email": {"new@example.com"}, "first_name": {""}, "last_name": {""}, "is_active": {"on"}})
	wantRedirect(t, res, false, page)
	if n := app.count("SELECT count(*) FROM mail_outbox WHERE recipient = ? AND subject = ?", "bob@example.com", "Your Gatehouse email address was changed"); n != 1 {
		t.Errorf("%d notices to the old address", n)
	}
	root.postForm(page, page+views.AdminUserPassword, url.Values{"new_password1": {"a fresh passphrase 9"}, "new_password2": {"a fresh passphrase 9"}})
	for _, kind := range []string{models.EventEmailChanged, models.EventPasswordChanged} {
		if n := app.count("SELECT count(*) FROM security_events WHERE user_id = ? AND kind = ? AND detail = ?", bob.ID, kind, models.NewDetail("by_admin", "Admin", "root").String()); n != 1 {
			t.Errorf("%d %s entries in bob's own log", n, kind)
		}
	}
	// Saving again without a change writes neither.
	root.postForm(page, page, url.Values{"email": {"new@example.com"}, "first_name": {""}, "last_name": {""}, "is_active": {"on"}})
	if n := app.count("SELECT count(*) FROM security_events WHERE user_id = ? AND kind = ?", bob.ID, models.EventEmailChanged); n != 1 {
		t.Errorf("%d email_changed entries after saving no change", n)
	}
}
