package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/views"
)

// adminFixture is an admin with something on every page: a superuser and
// a staff member, users with articles, sessions, security log entries,
// two-factor on, enough users and log entries for a second page, and
// entries of most admin actions in the log.
type adminFixture struct {
	app                   *testApp
	bob, carol, sam, dave *models.User
	bobArticle, bobDraft  *models.Article
	members               []*models.User // 55 users, for the pages of the list
	allowed               []string       // the fixture's own names, in any language
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	app, clock := newClockedApp(t)
	f := &adminFixture{app: app}
	app.createStaff("root", true)
	f.sam = app.createStaff("sam", false)
	f.dave = app.createStaff("dave", false)
	f.bob = app.createUser("bob", goodPassword)
	f.carol = app.createUser("carol", goodPassword)
	ctx := context.Background()
	if _, err := app.db.NewRaw("UPDATE users SET email = 'bob@example.com', email_verified = TRUE, first_name = '민수', last_name = '김' WHERE id = ?", f.bob.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.NewRaw("UPDATE users SET email = 'carol@example.com' WHERE id = ?", f.carol.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	hash, err := password.NewHasher(testParams).Hash(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 55; i++ {
		u := &models.User{Username: fmt.Sprintf("회원%02d", i), Password: hash, IsActive: true}
		if err := models.CreateUser(ctx, app.db, u); err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, u)
	}
	f.bobArticle = app.createArticle(f.bob, "첫 번째 글", "안녕하세요.")
	f.bobDraft = app.createArticle(f.bob, "두 번째 글", "반갑습니다.")

	// Bob logs in (a live session, a login), turns two-factor on, and
	// someone fails to log in as him.
	owner := app.client()
	owner.loginAs("bob", goodPassword)
	enableTwoFactor(t, owner, clock)
	app.client().postForm(views.PathLogin, views.PathLogin, url.Values{"username": {"bob"}, "password": {"wrong password"}})

	// Admin actions of several kinds, by root, in English: the log is
	// worded when shown, in the reader's language.
	r := app.client()
	r.loginAs("root", goodPassword)
	carol := views.AdminUserPath(f.carol.ID)
	wantRedirect(t, r.postForm(carol, carol, url.Values{"email": {"carol@example.com"}, "first_name": {"지수"}, "last_name": {""}, "is_active": {"on"}}), false, carol)
	last := views.AdminUserPath(f.members[54].ID)
	wantRedirect(t, r.postForm(last, last+views.AdminUserPassword, url.Values{"new_password1": {"a fresh passphrase 9"}, "new_password2": {"a fresh passphrase 9"}}), false, last)
	wantRedirect(t, r.postForm(carol, carol+views.AdminUserSessions, nil), false, carol)
	bob := views.AdminUserPath(f.bob.ID)
	wantRedirect(t, r.postForm(bob, bob+views.AdminUserReset, nil), false, bob)
	ids := url.Values{"confirm": {"yes"}}
	for _, m := range f.members[:30] {
		ids.Add("ids", strconv.FormatInt(m.ID, 10))
	}
	for _, action := range []string{"deactivate", "activate"} {
		ids.Set("action", action)
		wantRedirect(t, r.postForm(views.PathAdminUsers, views.PathAdminUsers, ids), false, views.PathAdminUsers)
	}
	wantRedirect(t, r.postForm(carol, carol+views.AdminUserActive, url.Values{"active": {"no"}}), false, views.PathAdminUsers)
	gone := app.createUser("erin", goodPassword)
	erin := views.AdminUserPath(gone.ID)
	wantRedirect(t, r.postForm(erin, erin+views.AdminDelete, url.Values{"confirm": {"yes"}}), false, views.PathAdminUsers)
	draft := views.AdminArticlePath(f.bobDraft.ID)
	wantRedirect(t, r.postForm(draft, draft+views.AdminDelete, url.Values{"confirm": {"yes"}}), false, views.PathAdminArticles)

	f.allowed = []string{"root", "sam", "dave", "bob", "carol", "erin", "Django"}
	return f
}

// TestAdminPagesInKorean asks for every admin page and fragment in Korean,
// as a superuser and as plain staff, in their empty and filled states and
// with their forms' errors, and finds no English left.
func TestAdminPagesInKorean(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	app := f.app
	r := withLanguage(app.client(), "ko")
	r.loginAs("root", goodPassword)
	ok := func(c *client, path string) *response {
		t.Helper()
		res := c.get(path)
		wantStatus(t, res, http.StatusOK)
		if got := pageLanguage(t, res); got != "ko" {
			t.Errorf("%s: page in %q", path, got)
		}
		wantKorean(t, res, f.allowed...)
		return res
	}

	// The dashboard, the lists, their filters, sorts and pages.
	ok(r, views.PathAdmin)
	users := ok(r, views.PathAdminUsers)
	if got := users.text(t, `[data-testid="user-total"]`); got != "사용자 60명" {
		t.Errorf("the list counts %q", got)
	}
	if got := users.text(t, `[data-testid="pagination"] [aria-current="page"]`); got != "1 / 2페이지" {
		t.Errorf("the pagination says %q", got)
	}
	ok(r, views.PathAdminUsers+"?page=2")
	ok(r, views.PathAdminUsers+"?q=bo&active=yes&staff=no&superuser=no&verified=yes")
	for _, sort := range models.UserSorts {
		res := ok(r, views.PathAdminUsers+"?sort="+sort.Name)
		if res.text(t, `#id_sort option[selected]`) == sort.Name {
			t.Errorf("the sort %s is shown by its name", sort.Name)
		}
	}
	if empty := ok(r, views.PathAdminUsers+"?q=nobody"); empty.doc(t).Find(`[data-testid="no-users"]`).Length() != 1 {
		t.Error("no empty state for a search that finds no one")
	}
	ok(r, views.PathAdminArticles)
	ok(r, views.PathAdminArticles+"?q=첫")
	if empty := ok(r, views.PathAdminArticles+"?q=nothing"); empty.doc(t).Find(`[data-testid="no-articles"]`).Length() != 1 {
		t.Error("no empty state for a search that finds no article")
	}

	// The log, whole, a page on, and filtered by each action and by who acted.
	log := ok(r, views.PathAdminLog)
	if n := log.doc(t).Find(`[data-testid="log-entry"]`).Length(); n != 50 {
		t.Errorf("%d entries on the log's first page", n)
	}
	ok(r, views.PathAdminLog+"?page=2")
	for _, action := range models.AdminActions {
		ok(r, views.PathAdminLog+"?action="+action)
	}
	ok(r, views.PathAdminLog+"?actor="+strconv.FormatInt(app.user("root").ID, 10))

	// A user's page: bob's full one (articles, events, sessions, two-factor
	// on), carol's (inactive, never logged in, address unconfirmed, changed
	// by an admin), one's own, and another staff member's as plain staff see it.
	bob := views.AdminUserPath(f.bob.ID)
	page := ok(r, bob)
	for _, part := range []string{"user-events", "user-articles", "admin-sessions", "admin-two-factor-form", "reset-form", "user-danger-zone"} {
		if page.doc(t).Find(`[data-testid="`+part+`"]`).Length() != 1 {
			t.Errorf("bob's page has no %s", part)
		}
	}
	ok(r, views.AdminUserPath(f.carol.ID))
	ok(r, views.AdminUserPath(app.user("root").ID))
	s := withLanguage(app.client(), "ko")
	s.loginAs("sam", goodPassword)
	if read := ok(s, views.AdminUserPath(f.dave.ID)); read.doc(t).Find(`[data-testid="read-only"]`).Length() != 1 {
		t.Error("staff see no read-only page of other staff")
	}
	ok(s, views.PathAdminUsers)

	// Deleting: the user's and the article's confirmation pages.
	ok(r, bob+views.AdminDelete)
	article := views.AdminArticlePath(f.bobArticle.ID)
	ok(r, article)
	ok(r, article+views.AdminDelete)

	// Bulk actions: the confirmation of each, for one and for many.
	for _, action := range []string{"deactivate", "activate"} {
		for _, n := range []int{1, 3} {
			values := url.Values{"action": {action}}
			for _, m := range f.members[:n] {
				values.Add("ids", strconv.FormatInt(m.ID, 10))
			}
			res := r.postForm(views.PathAdminUsers, views.PathAdminUsers, values)
			wantStatus(t, res, http.StatusOK)
			if res.doc(t).Find(`[data-testid="bulk-confirm"]`).Length() != 1 {
				t.Fatalf("%s %d: no confirmation", action, n)
			}
			wantKorean(t, res, f.allowed...)
		}
	}

	// The forms with errors, plain and from htmx.
	both(t, func(t *testing.T, htmx bool) {
		c := withLanguage(app.newClient(htmx), "ko")
		c.loginAs("root", goodPassword)
		edit := c.postForm(bob, bob, url.Values{"email": {"nope"}, "first_name": {strings.Repeat("가", 151)}, "last_name": {""}, "is_active": {"on"}})
		wantStatus(t, edit, http.StatusUnprocessableEntity)
		wantFragment(t, edit, htmx, "admin-user-form")
		wantKorean(t, edit, f.allowed...)
		own := views.AdminUserPath(app.user("root").ID)
		refused := c.postForm(own, own, url.Values{"email": {""}, "first_name": {""}, "last_name": {""}})
		wantStatus(t, refused, http.StatusUnprocessableEntity)
		wantKorean(t, refused, f.allowed...)
		for _, values := range []url.Values{
			{"new_password1": {"a fresh passphrase 9"}, "new_password2": {"another passphrase 9"}},
			{"new_password1": {"8361"}, "new_password2": {"8361"}},
		} {
			set := c.postForm(bob, bob+views.AdminUserPassword, values)
			wantStatus(t, set, http.StatusUnprocessableEntity)
			wantFragment(t, set, htmx, "admin-password-form")
			wantKorean(t, set, f.allowed...)
		}
	})

	// The htmx fragments: a saved form, a row switched, the sessions ended,
	// an article's row deleted; each with its message.
	h := withLanguage(app.htmxClient(), "ko")
	h.loginAs("root", goodPassword)
	dave := views.AdminUserPath(f.dave.ID)
	saved := h.postForm(dave, dave, url.Values{"email": {"dave@example.com"}, "first_name": {""}, "last_name": {""}, "is_active": {"on"}, "is_staff": {"on"}})
	wantStatus(t, saved, http.StatusOK)
	wantKorean(t, saved, f.allowed...)
	member := f.members[40]
	row := h.postFormTarget(views.PathAdminUsers, views.AdminUserPath(member.ID)+views.AdminUserActive, url.Values{"active": {"no"}}, views.AdminUserRowID(member.ID))
	wantStatus(t, row, http.StatusOK)
	wantKorean(t, row, f.allowed...)
	if rowsDoc(t, row).Find(`[data-testid="badge-inactive"]`).Text() != "비활성" {
		t.Errorf("the row swapped in:\n%s", row.body)
	}
	ended := h.postForm(bob, bob+views.AdminUserSessions, nil)
	wantStatus(t, ended, http.StatusOK)
	wantKorean(t, ended, f.allowed...)
	if ended.doc(t).Find(`[data-testid="no-sessions"]`).Length() != 1 {
		t.Errorf("the sessions card after ending them:\n%s", ended.body)
	}
	deleted := h.postFormTarget(views.PathAdminArticles, article+views.AdminDelete, url.Values{"confirm": {"yes"}}, views.AdminArticleRowID(f.bobArticle.ID))
	wantStatus(t, deleted, http.StatusOK)
	wantKorean(t, deleted, f.allowed...)

	// Bob's page with nothing left: no articles, no sessions.
	ok(r, bob)
	ok(r, views.PathAdminArticles)
}

// TestAdminPagesStillInEnglish checks the same pages asked for in English:
// the page says it is English and its words are as they were.
func TestAdminPagesStillInEnglish(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	app := f.app
	c := withLanguage(app.client(), "en-US,en;q=0.9")
	c.loginAs("root", goodPassword)
	article := views.AdminArticlePath(f.bobArticle.ID)
	want := map[string]map[string]string{
		views.PathAdmin: {"h1": "Dashboard", `[data-testid="stat-active-users"] span:not(.stat-number)`: "Logged in within 30 days"},
		views.PathAdminUsers: {"h1": "Users", `[data-testid="user-total"]`: "60 users",
			`[data-testid="pagination"] [aria-current="page"]`: "Page 1 of 2", `#id_sort option[selected]`: "Newest first"},
		views.PathAdminUsers + "?sort=login": {`#id_sort option[selected]`: "Last login"},
		views.PathAdminUsers + "?q=nobody":   {`[data-testid="no-users"]`: "No user matches.", `[data-testid="user-total"]`: "0 users"},
		views.AdminUserPath(f.bob.ID): {"#sessions-heading": "Live sessions (1)", "#articles-heading": "Articles (1)",
			"#two-factor-heading": "Two-factor", `[data-testid="delete-user"]`: "Delete user"},
		views.AdminUserPath(f.bob.ID) + views.AdminDelete: {`[data-testid="loss-articles"]`: "1 article",
			`[data-testid="loss-sessions"]`: "1 live session: they are logged out everywhere"},
		views.PathAdminArticles:                   {`[data-testid="article-total"]`: "1 article"},
		article + views.AdminDelete:               {"h1": "Delete this article?"},
		views.PathAdminLog + "?action=disconnect": {`[data-testid="no-log"]`: "No admin actions yet.", `#id_action option[selected]`: "Disconnected another site"},
		views.PathAdminLog + "?action=send_reset": {`[data-testid="log-entry"] td[data-label="Action"]`: "Sent a password reset mail",
			`[data-testid="log-total"]`: "1 entry"},
	}
	for path, texts := range want {
		res := c.get(path)
		wantStatus(t, res, http.StatusOK)
		if got := pageLanguage(t, res); got != "en" {
			t.Errorf("%s: page in %q", path, got)
		}
		if title := res.text(t, "title"); !strings.HasSuffix(title, " · Admin · Gatehouse") {
			t.Errorf("%s: title %q", path, title)
		}
		for selector, text := range texts {
			if got := strings.Join(strings.Fields(res.text(t, selector)), " "); got != text {
				t.Errorf("%s: %s says %q, want %q", path, selector, got, text)
			}
		}
	}
	res := c.get(article)
	if got := strings.Join(strings.Fields(res.text(t, `[data-testid="admin-article"] .meta`)), " "); !strings.HasPrefix(got, "by bob · ") || !strings.HasSuffix(got, " · on the site") {
		t.Errorf("the article's byline: %q", got)
	}
	confirm := c.postForm(views.PathAdminUsers, views.PathAdminUsers, url.Values{"action": {"deactivate"}, "ids": {strconv.FormatInt(f.members[0].ID, 10)}})
	if got := confirm.text(t, "h1"); got != "Deactivate 1 user?" {
		t.Errorf("the bulk confirmation asks %q", got)
	}
	if got := strings.TrimSpace(confirm.text(t, `button[type="submit"] .button-label`)); got != "Yes, deactivate 1 user" {
		t.Errorf("the bulk confirmation's button: %q", got)
	}
}
