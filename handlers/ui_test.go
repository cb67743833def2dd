package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gatehouse/views"
)

func TestUIPasswordRuleErrorsBesideThePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		page                string
		values              url.Values
		field, message      string
		quietField          string // the other password field: no error there
		confirmationProblem bool
	}{
		{"signup, too common", "/accounts/signup/",
			url.Values{"username": {"bob"}, "password1": {"sunshine"}, "password2": {"sunshine"}},
			"password1", "This password is too common.", "password2", false},
		{"signup, too short, numeric", "/accounts/signup/",
			url.Values{"username": {"bob"}, "password1": {"8675"}, "password2": {"8675"}},
			"password1", "This password is entirely numeric.", "password2", false},
		{"signup, like the username", "/accounts/signup/",
			url.Values{"username": {"margaret"}, "password1": {"margaret1"}, "password2": {"margaret1"}},
			"password1", "The password is too similar to the username.", "password2", false},
		{"signup, mismatch", "/accounts/signup/",
			url.Values{"username": {"bob"}, "password1": {goodPassword}, "password2": {goodPassword + "!"}},
			"password2", "The two password fields didn’t match.", "password1", true},
		{"password change, too common", "/accounts/password/",
			url.Values{"old_password": {goodPassword}, "new_password1": {"qwertyuiop"}, "new_password2": {"qwertyuiop"}},
			"new_password1", "This password is too common.", "new_password2", false},
		{"password change, mismatch", "/accounts/password/",
			url.Values{"old_password": {goodPassword}, "new_password1": {"a brand new passphrase"}, "new_password2": {"another passphrase"}},
			"new_password2", "The two password fields didn’t match.", "new_password1", true},
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		anonymous := app.newClient(htmx)
		alice := app.newClient(htmx)
		alice.loginAs("alice", goodPassword)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := anonymous
				if tt.page == "/accounts/password/" {
					c = alice
				}
				res := c.postForm(tt.page, tt.page, tt.values)
				wantStatus(t, res, http.StatusUnprocessableEntity)
				if got := res.text(t, "#id_"+tt.field+"_error"); !strings.Contains(got, tt.message) {
					t.Errorf("beside %s: %q, want %q", tt.field, got, tt.message)
				}
				if got := res.text(t, "#id_"+tt.quietField+"_error"); got != "" {
					t.Errorf("beside %s: %q, want nothing", tt.quietField, got)
				}
			})
		}
	})
}

func TestUIErrorRightUnderTheLabel(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.client().postForm("/accounts/signup/", "/accounts/signup/",
		url.Values{"username": {"no spaces"}, "email": {"nope"}, "password1": {"sunshine"}, "password2": {"sunshine"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	fields := res.doc(t).Find(".field-invalid")
	if fields.Length() != 3 {
		t.Fatalf("%d invalid fields, want username, email and password1", fields.Length())
	}
	fields.Each(func(_ int, field *goquery.Selection) {
		var order []string
		field.Children().Each(func(_ int, child *goquery.Selection) {
			order = append(order, goquery.NodeName(child)+"."+child.AttrOr("class", ""))
		})
		// A password's input sits in a row with its Show toggle.
		if got := strings.Join(order, " "); !strings.HasPrefix(got, "label. ul.errors input.control") && !strings.HasPrefix(got, "label. ul.errors div.password-field") {
			t.Errorf("an invalid field reads %q, want the label, its errors, then the input and any help", got)
		}
	})
}

func TestUIErrorSummary(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("taken", goodPassword)
		c := app.newClient(htmx)

		res := c.postForm("/accounts/signup/", "/accounts/signup/",
			url.Values{"username": {"taken"}, "password1": {"sunshine"}, "password2": {"sunshine!"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		summary := res.doc(t).Find(`[data-testid="signup-form"] [data-testid="error-summary"]`)
		if summary.Length() != 1 {
			t.Fatalf("three errors and no summary:\n%s", res.body)
		}
		if role, _ := summary.Attr("role"); role != "alert" {
			t.Errorf("the summary has role %q, want alert (announced when it appears)", role)
		}
		if got := summary.Find("h2").Text(); got != "There are 3 problems" {
			t.Errorf("summary heading %q", got)
		}
		var links []string
		summary.Find("a").Each(func(_ int, a *goquery.Selection) {
			links = append(links, a.AttrOr("href", "")+" "+a.Text())
		})
		want := []string{
			"#id_username Username: A user with that username already exists.",
			"#id_password1 Password: This password is too common.",
			"#id_password2 Password confirmation: The two password fields didn’t match.",
		}
		if strings.Join(links, "\n") != strings.Join(want, "\n") {
			t.Errorf("summary links:\n%s\nwant:\n%s", strings.Join(links, "\n"), strings.Join(want, "\n"))
		}
		if first := res.doc(t).Find(`[data-testid="signup-form"]`).Children().Not(`input[type=hidden]`).First(); !first.Is(`[data-testid="error-summary"]`) {
			t.Error("the summary is not at the top of the form")
		}

		// One error: it stands beside its field, and no summary repeats it.
		res = c.postForm("/accounts/signup/", "/accounts/signup/",
			url.Values{"username": {"newcomer"}, "password1": {"sunshine"}, "password2": {"sunshine"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.doc(t).Find(`[data-testid="error-summary"]`).Length() != 0 {
			t.Error("a summary for a single error")
		}
	})
}

func TestUILoginFailureFocusesThePassword(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		res := app.newClient(htmx).postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {"alice"}, "password": {"wrong password"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		doc := res.doc(t)
		if _, ok := doc.Find("#id_password").Attr("autofocus"); !ok {
			t.Error("the emptied password field does not take the focus")
		}
		if _, ok := doc.Find("#id_username").Attr("autofocus"); ok {
			t.Error("the filled-in username takes the focus")
		}
		if value, ok := doc.Find("#id_password").Attr("value"); ok && value != "" {
			t.Error("the password was sent back")
		}
	})
}

func TestUIOptionalFieldsMarked(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	labels := func(path string) map[string]string {
		found := map[string]string{}
		c.get(path).doc(t).Find(".field label").Each(func(_ int, label *goquery.Selection) {
			found[label.AttrOr("for", "")] = strings.Join(strings.Fields(label.Text()), " ")
		})
		return found
	}
	signup := labels("/accounts/signup/")
	c.loginAs("alice", goodPassword)
	profile := labels("/accounts/update/")
	for _, tt := range []struct{ id, got, want string }{
		{"id_username", signup["id_username"], "Username"},
		{"id_email", signup["id_email"], "Email address (optional)"},
		{"id_password1", signup["id_password1"], "Password"},
		{"id_email", profile["id_email"], "Email address (optional)"},
		{"id_first_name", profile["id_first_name"], "First name (optional)"},
		{"id_last_name", profile["id_last_name"], "Last name (optional)"},
	} {
		if tt.got != tt.want {
			t.Errorf("label of %s reads %q, want %q", tt.id, tt.got, tt.want)
		}
	}
}

func TestUIAccountDeleteAsksThePassword(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		alice := app.createUser("alice", goodPassword)
		for range 3 {
			app.createArticle(alice, "Mine", "x")
		}
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)

		// From the danger zone at the bottom of the profile, not the header.
		profile := c.get("/accounts/update/").doc(t)
		if profile.Find(`header a[href="/accounts/delete/"], header form[action="/accounts/delete/"]`).Length() != 0 {
			t.Error("account deletion is still in the header")
		}
		zone := profile.Find(`.settings-content > *`).Last()
		if !zone.Is(`[data-testid="danger-zone"]`) || zone.Find(`a[href="/accounts/delete/"]`).Length() != 1 {
			t.Errorf("the settings do not end with a danger zone linking to /accounts/delete/")
		}

		page := c.get("/accounts/delete/")
		wantStatus(t, page, http.StatusOK)
		if got := strings.Join(strings.Fields(page.text(t, `[data-testid="losses"]`)), " "); !strings.Contains(got, "the 3 articles you wrote") {
			t.Errorf("the page says what goes: %q, want the 3 articles", got)
		}
		if page.doc(t).Find(`[data-testid="account-delete-form"] a[href="/accounts/update/"]`).Length() != 1 {
			t.Error("no Cancel back to the settings")
		}
		if page.doc(t).Find(`nav[aria-label="Account"]`).Length() != 1 {
			t.Error("the deletion page is not in the settings")
		}

		for _, tt := range []struct{ password, message string }{
			{"", "This field is required."},
			{"not my password", "Your password was entered incorrectly. Please enter it again."},
		} {
			res := c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {tt.password}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			wantFragment(t, res, htmx, "account-delete-form")
			if got := res.text(t, "#id_password_error"); got != tt.message {
				t.Errorf("password %q: error %q, want %q", tt.password, got, tt.message)
			}
			if strings.Contains(res.body, "not my password") {
				t.Error("the password was sent back")
			}
		}
		// Wrong guesses count with the password form's: five, then a wait.
		for range 4 {
			c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {"guess"}})
		}
		res := c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {goodPassword}})
		wantStatus(t, res, http.StatusTooManyRequests)
		if res.Header.Get("Retry-After") == "" || !strings.Contains(res.text(t, "#id_password_error"), "Too many") {
			t.Errorf("refused without a wait: Retry-After %q, error %q", res.Header.Get("Retry-After"), res.text(t, "#id_password_error"))
		}
		if app.user("alice") == nil {
			t.Fatal("the account went without its password")
		}
	})
}

func TestUIAccountDeletePageNeedsLogin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.client().get("/accounts/delete/")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/accounts/login/?next=%2Faccounts%2Fdelete%2F" {
		t.Errorf("anonymous GET /accounts/delete/: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestUIArticleDeletePage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	a := app.createArticle(alice, "Keep me", "x")
	path := views.ArticleDeletePath(a.ID)

	owner := app.client()
	owner.loginAs("alice", goodPassword)
	res := owner.get(path)
	wantStatus(t, res, http.StatusOK)
	form := res.doc(t).Find(`form[data-testid="article-delete-confirm"]`)
	if form.AttrOr("action", "") != path || form.Find(`a[href="`+views.ArticlePath(a.ID)+`"]`).Length() != 1 {
		t.Errorf("the confirmation form posts to %q, with a Cancel back to the article: %d", form.AttrOr("action", ""), form.Find("a").Length())
	}

	bob := app.client()
	bob.loginAs("bob", goodPassword)
	wantStatus(t, bob.get(path), http.StatusForbidden)
	wantStatus(t, owner.get(views.ArticleDeletePath(a.ID+100)), http.StatusNotFound)
	res = app.client().get(path)
	if want := "/accounts/login/?next=" + url.QueryEscape(path); res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
		t.Errorf("anonymous GET %s: %d → %q, want 302 → %q", path, res.StatusCode, res.Header.Get("Location"), want)
	}
	if app.count("SELECT COUNT(*) FROM articles") != 1 {
		t.Fatal("a GET deleted the article")
	}
}

func TestUIMessagesDoNotPileUp(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.htmxClient()
	c.loginAs("alice", goodPassword)
	// Changes through htmx each queue a message that no page shows yet.
	token := c.csrfToken("/articles/create/")
	post := func(path string, values url.Values) {
		values.Set("csrfmiddlewaretoken", token)
		req, _ := http.NewRequest(http.MethodPost, app.url+path, strings.NewReader(values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", token)
		wantStatus(t, c.do(req), http.StatusOK)
	}
	for i := range 4 {
		post("/articles/create/", url.Values{"title": {fmt.Sprint("Article ", i)}, "content": {"x"}})
	}
	post("/articles/1/update/", url.Values{"title": {"Revised"}, "content": {"y"}})
	c.htmx = false
	var shown []string
	c.get("/articles/").doc(t).Find("#messages .message span").Each(func(_ int, s *goquery.Selection) {
		shown = append(shown, s.Text())
	})
	if len(shown) != 3 || shown[2] != "Article saved." {
		t.Errorf("the page shows %q, want the latest 3, ending with “Article saved.”", shown)
	}
}

func TestUIFormErrorClearsTheMessages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.htmxClient()
	c.loginAs("alice", goodPassword)
	for path, values := range map[string]url.Values{
		"/accounts/update/": {"email": {"not an email"}, "first_name": {""}, "last_name": {""}},
		"/accounts/delete/": {"password": {"not my password"}},
	} {
		res := c.postForm(path, path, values)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		oob := res.doc(t).Find(`#messages[hx-swap-oob="innerHTML"]`)
		if oob.Length() != 1 || strings.TrimSpace(oob.Text()) != "" {
			t.Errorf("%s: an in-place form error does not clear the page's messages:\n%s", path, res.body)
		}
	}
}

func TestUISavedSettingsFocusTheMessage(t *testing.T) {
	t.Parallel()
	// After a page load autofocus is on the message, and on no field of the
	// saved form; in place on nothing.
	focus := func(t *testing.T, doc *goquery.Document) string {
		t.Helper()
		var where []string
		doc.Find("[autofocus]").Each(func(_ int, s *goquery.Selection) {
			where = append(where, goquery.NodeName(s)+"."+s.AttrOr("class", "")+"#"+s.AttrOr("id", ""))
		})
		return strings.Join(where, " ")
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)

		res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{"email": {""}, "first_name": {"Alice"}, "last_name": {""}})
		if htmx {
			// In place, nothing takes the focus: it stays on Save (app.js),
			// and the message is announced by the live region.
			wantStatus(t, res, http.StatusOK)
			wantFragment(t, res, true, "profile-form")
			if got := focus(t, res.doc(t)); got != "" {
				t.Errorf("after saving in place, autofocus is on %q, want nothing", got)
			}
			if got := res.text(t, `#messages[hx-swap-oob] .message-success`); got == "" {
				t.Error("no message for the live region")
			}
		} else {
			wantRedirect(t, res, false, "/accounts/update/")
			page := c.get("/accounts/update/")
			if got := focus(t, page.doc(t)); got != "p.message message-success#" {
				t.Errorf("after saving, autofocus is on %q, want the message only", got)
			}
			if page.doc(t).Find(".settings-content #messages .message").Length() != 1 {
				t.Error("the message is not beside the form in the settings")
			}
		}

		// A password change stays in the settings, its message focused there.
		res = c.postForm("/accounts/password/", "/accounts/password/", url.Values{
			"old_password": {goodPassword}, "new_password1": {"a brand new passphrase"}, "new_password2": {"a brand new passphrase"}})
		wantRedirect(t, res, htmx, "/accounts/password/")
		c.htmx = false
		page := c.get("/accounts/password/")
		if got := focus(t, page.doc(t)); got != "p.message message-success#" {
			t.Errorf("after a password change, autofocus is on %q, want the message only", got)
		}
	})
}

func TestUIArticleListEditBesideDelete(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	bob := app.createUser("bob", goodPassword)
	mine := app.createArticle(alice, "Mine", "x")
	app.createArticle(bob, "Bob's", "x")
	c := app.client()
	c.loginAs("alice", goodPassword)
	doc := c.get("/articles/").doc(t)
	own := doc.Find("#" + views.ArticleItemID(mine) + " .row-actions")
	if own.Find(`a[data-testid="article-edit"][href="`+views.ArticleUpdatePath(mine.ID)+`"]`).Length() != 1 ||
		own.Find(`[data-testid="article-delete"]`).Length() != 1 {
		t.Errorf("the author's entry has no Edit beside its Delete:\n%s", c.get("/articles/").body)
	}
	if got := doc.Find(`[data-testid="article-edit"]`).Length(); got != 1 {
		t.Errorf("%d Edit links, want one, on alice's article only", got)
	}
}

func TestUIEmptyIndexCallsToAction(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	for _, tt := range []struct {
		who, href string
	}{{"anonymous", "/accounts/signup/"}, {"alice", "/articles/create/"}} {
		if tt.who == "alice" {
			c.loginAs("alice", goodPassword)
		}
		doc := c.get("/articles/").doc(t)
		empty := doc.Find(`[data-testid="no-articles"]`)
		if href := empty.Find(`a.button[data-testid="write-first"]`).AttrOr("href", ""); href != tt.href {
			t.Errorf("%s: the empty index's call to action leads to %q, want %q", tt.who, href, tt.href)
		}
		// Said once: the heading above the empty state offers nothing more.
		if n := doc.Find(`.page-head a`).Length(); n != 0 {
			t.Errorf("%s: the empty index repeats its call to action above it", tt.who)
		}
		if tt.who == "anonymous" {
			// A newcomer learns what the site is, and may log in instead.
			if got := empty.Find(`[data-testid="about-site"]`).Text(); !strings.Contains(got, "board of articles") {
				t.Errorf("the empty index tells a visitor %q", got)
			}
			if href := empty.Find(`a[data-testid="empty-login"]`).AttrOr("href", ""); href != "/accounts/login/?next=%2Farticles%2F" {
				t.Errorf("the empty index's login link leads to %q", href)
			}
		}
	}
}

func TestUIArticleDateLine(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	a := app.createArticle(alice, "Edited", "x")
	if _, err := app.db.NewRaw("UPDATE articles SET updated_at = ? WHERE id = ?", a.CreatedAt.Add(time.Hour), a.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Author, date and edit are items of their own: no separator to dangle
	// at a line's end on a phone.
	var items []string
	app.client().get(views.ArticlePath(a.ID)).doc(t).Find(`[data-testid="article-detail"] .meta > li`).Each(func(_ int, s *goquery.Selection) {
		items = append(items, strings.Join(strings.Fields(s.Text()), " "))
	})
	line := strings.Join(items, " | ")
	if !regexp.MustCompile(`^by alice \| \d+ \w+ \d{4}, \d\d:\d\d UTC \| edited \d+ \w+ \d{4}, \d\d:\d\d UTC$`).MatchString(line) {
		t.Errorf("the date line's items read %q", line)
	}
}

func TestUIIndexPageInTitle(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	app.seedArticles(alice, 25)
	c := app.client()
	for query, want := range map[string]string{"": "Articles · Gatehouse", "?page=1": "Articles · Gatehouse", "?page=2": "Articles, page 2 · Gatehouse"} {
		if got := c.get("/articles/"+query).text(t, "title"); got != want {
			t.Errorf("/articles/%s is titled %q, want %q", query, got, want)
		}
	}
}

func TestUIArticleFormCancelBesideTheButton(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	a := app.createArticle(alice, "Mine", "x")
	c := app.client()
	c.loginAs("alice", goodPassword)
	for path, cancel := range map[string]string{"/articles/create/": "/articles/", views.ArticleUpdatePath(a.ID): views.ArticlePath(a.ID)} {
		actions := c.get(path).doc(t).Find(`[data-testid="article-form"] .actions`)
		if actions.Find(`button[type=submit]`).Length() != 1 || actions.Find(`a[href="`+cancel+`"]`).Text() != "Cancel" {
			t.Errorf("%s: no Cancel to %s beside the button", path, cancel)
		}
	}
}

func TestUIErrorPagesSpeakPlainly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	a := app.createArticle(alice, "Alice's", "x")
	bob := app.client()
	bob.loginAs("bob", goodPassword)
	jargon := regexp.MustCompile(`(?i)method|forbidden|request entity|not allowed|bad request|server error`)
	for _, tt := range []struct {
		path   string
		status int
		title  string
	}{
		{"/accounts/email/resend/", http.StatusMethodNotAllowed, "This page can't be opened that way"},
		{"/no/such/page/", http.StatusNotFound, "Page not found"},
		{views.ArticleUpdatePath(a.ID), http.StatusForbidden, "You can't do that"},
	} {
		res := bob.get(tt.path)
		wantStatus(t, res, tt.status)
		if got := res.text(t, `[data-testid="error"] h1`); got != tt.title {
			t.Errorf("%s: heading %q, want %q", tt.path, got, tt.title)
		}
		if words := res.text(t, "title") + " " + res.text(t, `[data-testid="error"]`); jargon.MatchString(words) {
			t.Errorf("%s speaks jargon: %q", tt.path, words)
		}
	}
}
