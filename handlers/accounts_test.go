package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
)

const goodPassword = "correct horse battery"

func TestSignup(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		c := app.newClient(htmx)

		page := c.get("/accounts/signup/")
		wantStatus(t, page, http.StatusOK)
		if got := page.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", got)
		}

		res := c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
			"username": {"alice"}, "password1": {goodPassword}, "password2": {goodPassword},
		})
		wantRedirect(t, res, htmx, "/articles/")
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("after signup the header greets %q, want alice", got)
		}
		u := app.user("alice")
		if u == nil || !u.IsActive || u.IsStaff || u.IsSuperuser || u.LastLogin.IsZero() {
			t.Fatalf("user after signup: %+v", u)
		}
		if !strings.HasPrefix(u.Password, "argon2$argon2id$") || strings.Contains(u.Password, goodPassword) {
			t.Fatalf("stored password %q is not an argon2id hash", u.Password)
		}
	})
}

func TestSignupErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 10_000)
	tests := []struct {
		name, username, password1, password2 string
		field, message                       string
	}{
		{"username required", "", goodPassword, goodPassword, "username", "This field is required."},
		{"username characters", "bob smith", goodPassword, goodPassword, "username", "Enter a valid username."},
		{"username 10 kB", long, goodPassword, goodPassword, "username", "Ensure this value has at most 150 characters (it has 10000)."},
		{"username taken", "alice", goodPassword, goodPassword, "username", "A user with that username already exists."},
		{"username taken in another case", "ALICE", goodPassword, goodPassword, "username", "A user with that username already exists."},
		{"passwords differ", "bob", goodPassword, goodPassword + "!", "password2", "The two password fields didn’t match."},
		{"password short", "bob", "x7#kq", "x7#kq", "password1", "This password is too short. It must contain at least 8 characters."},
		{"password common", "bob", "sunshine", "sunshine", "password1", "This password is too common."},
		{"password common in capitals", "bob", "SunShine", "SunShine", "password1", "This password is too common."},
		{"password numeric", "bob", "8675309123", "8675309123", "password1", "This password is entirely numeric."},
		{"password like username", "margaret", "margaret1", "margaret1", "password1", "The password is too similar to the username."},
		{"password2 required", "bob", goodPassword, "", "password2", "This field is required."},
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := app.newClient(htmx)
				res := c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
					"username": {tt.username}, "password1": {tt.password1}, "password2": {tt.password2},
				})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				wantFragment(t, res, htmx, "signup-form")
				if got := res.text(t, "#id_"+tt.field+"_error"); !strings.Contains(got, tt.message) {
					t.Errorf("error beside %s is %q, want %q", tt.field, got, tt.message)
				}
				doc := res.doc(t)
				if invalid, _ := doc.Find("#id_" + tt.field).Attr("aria-invalid"); invalid != "true" {
					t.Errorf("#id_%s has no aria-invalid", tt.field)
				}
				if value, _ := doc.Find("#id_username").Attr("value"); value != tt.username {
					t.Errorf("username field keeps %q, want %q", value, tt.username)
				}
				if _, has := doc.Find("#id_password1").Attr("value"); has {
					t.Error("the password field was filled in again")
				}
				if c.cookie("sessionid") != "" {
					t.Error("a failed signup started a session")
				}
			})
		}
		if n := app.count("SELECT COUNT(*) FROM users"); n != 1 {
			t.Fatalf("%d users after failed signups, want 1", n)
		}
	})
}

func TestSignupRaceCreatesOneAccount(t *testing.T) {
	t.Parallel()
	// Thirty browsers behind a proxy, each with its own address, so that
	// the signup throttle (per address) leaves the race to the unique index.
	app := newTestAppWith(t, handlers.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	const racers = 30
	clients := make([]*client, racers)
	tokens := make([]string, racers)
	for i := range clients {
		clients[i] = app.client()
		tokens[i] = clients[i].csrfToken("/accounts/signup/")
	}
	statuses := make(chan int, racers)
	for i, c := range clients {
		go func() {
			form := url.Values{"csrfmiddlewaretoken": {tokens[i]}, "username": {"racer"}, "password1": {goodPassword}, "password2": {goodPassword}}
			req, _ := http.NewRequest(http.MethodPost, app.url+"/accounts/signup/", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1))
			res, err := c.http.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	created := 0
	for range racers {
		switch status := <-statuses; status {
		case http.StatusSeeOther:
			created++
		case http.StatusUnprocessableEntity:
		default:
			t.Errorf("a racing signup got status %d", status)
		}
	}
	if created != 1 {
		t.Errorf("%d signups succeeded, want exactly 1", created)
	}
	if n := app.count("SELECT COUNT(*) FROM users WHERE username_key = 'racer'"); n != 1 {
		t.Errorf("%d accounts named racer, want 1", n)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)

		page := c.get("/accounts/login/")
		wantStatus(t, page, http.StatusOK)
		if got := page.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", got)
		}
		anonymousCSRF := c.cookie("csrftoken")

		res := c.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {"alice"}, "password": {goodPassword}})
		wantRedirect(t, res, htmx, "/articles/")
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("header greets %q, want alice", got)
		}
		if c.cookie("csrftoken") == anonymousCSRF {
			t.Error("login did not rotate the CSRF token")
		}
		if app.user("alice").LastLogin.IsZero() {
			t.Error("last_login not set")
		}
		if n := app.count("SELECT COUNT(*) FROM sessions WHERE key = ?", c.cookie("sessionid")); n != 1 {
			t.Errorf("%d session index rows for the new session, want 1", n)
		}

		// Logged in, the login and signup pages send the user away.
		for _, path := range []string{"/accounts/login/", "/accounts/signup/"} {
			res := c.get(path)
			if htmx {
				wantRedirect(t, res, true, "/articles/")
			} else if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/articles/" {
				t.Errorf("GET %s logged in: %d → %q, want 303 → /articles/", path, res.StatusCode, res.Header.Get("Location"))
			}
		}
	})
}

func TestLoginCaseInsensitiveUsername(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("Alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	if got := c.loggedInAs(); got != "Alice" {
		t.Fatalf("header greets %q, want Alice", got)
	}
}

func TestLoginFailuresAreGeneric(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, username, password string }{
		{"wrong password", "alice", "wrong password"},
		{"unknown user", "nobody", goodPassword},
		{"inactive user", "sleepy", goodPassword},
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		app.createUser("sleepy", goodPassword)
		if _, err := app.db.NewRaw("UPDATE users SET is_active = FALSE WHERE username = 'sleepy'").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := app.newClient(htmx)
				res := c.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {tt.username}, "password": {tt.password}})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				wantFragment(t, res, htmx, "login-form")
				if got := res.text(t, ".form-errors"); !strings.HasPrefix(got, "Please enter a correct username and password.") {
					t.Errorf("error %q, want the generic one", got)
				}
				if c.cookie("sessionid") != "" {
					t.Error("a failed login started a session")
				}
				bodies = append(bodies, strings.ReplaceAll(res.text(t, ".form-errors"), tt.username, ""))
			})
		}
		for _, body := range bodies[1:] {
			if body != bodies[0] {
				t.Errorf("failure messages differ: %q and %q", bodies[0], body)
			}
		}
	})
}

func TestLoginRequiredFields(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.client().postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {strings.Repeat("x", 10_000)}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.text(t, "#id_username_error"); !strings.Contains(got, "at most 150 characters") {
		t.Errorf("username error %q", got)
	}
	if got := res.text(t, "#id_password_error"); got != "This field is required." {
		t.Errorf("password error %q", got)
	}
}

func TestLoginNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ next, lands string }{
		{"/accounts/update/", "/accounts/update/"},
		{"/articles/?page=2", "/articles/?page=2"},
		{"//evil.example/", "/articles/"},
		{"http://evil.example/", "/articles/"},
		{"https:evil.example", "/articles/"},
		{`\\evil.example`, "/articles/"},
		{`/\evil.example`, "/articles/"},
		{"javascript:alert(1)", "/articles/"},
		{"/\t/evil.example", "/articles/"},
		{"/\n/evil.example", "/articles/"},
		{" //evil.example", "/articles/"},
		{"evil.example", "/articles/"},
	}
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			c := app.client()
			page := "/accounts/login/?next=" + url.QueryEscape(tt.next)
			res := c.postForm(page, page, url.Values{"username": {"alice"}, "password": {goodPassword}})
			wantRedirect(t, res, false, tt.lands)
		})
	}
	t.Run("kept after a failed attempt", func(t *testing.T) {
		c := app.client()
		page := "/accounts/login/?next=" + url.QueryEscape("/accounts/password/")
		res := c.postForm(page, page, url.Values{"username": {"alice"}, "password": {"nope"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		next, _ := res.doc(t).Find(`input[name="next"]`).Attr("value")
		if next != "/accounts/password/" {
			t.Fatalf("next after a failure is %q", next)
		}
		res = c.postForm(page, page, url.Values{"username": {"alice"}, "password": {goodPassword}, "next": {next}})
		wantRedirect(t, res, false, "/accounts/password/")
	})
}

func TestLoginRequired(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, path := range []string{"/accounts/update/", "/accounts/password/"} {
		res := app.client().get(path)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/accounts/login/?next="+url.QueryEscape(path) {
			t.Errorf("GET %s anonymous: %d → %q", path, res.StatusCode, res.Header.Get("Location"))
		}
		res = app.htmxClient().get(path)
		if res.StatusCode != http.StatusOK || res.Header.Get("HX-Redirect") != "/accounts/login/?next="+url.QueryEscape(path) {
			t.Errorf("htmx GET %s anonymous: %d, HX-Redirect %q", path, res.StatusCode, res.Header.Get("HX-Redirect"))
		}
		if strings.Contains(res.body, "<form") {
			t.Errorf("htmx GET %s anonymous got a fragment", path)
		}
	}

	// A POST-only action sends the visitor to log in and come back to a page
	// that answers GET, never to the POST URL (which would answer 405).
	c := app.client()
	res := c.postForm("/accounts/login/", "/accounts/delete/", url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/accounts/login/?next=%2Farticles%2F" {
		t.Errorf("anonymous POST /accounts/delete/: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	res = c.postForm("/accounts/login/", "/accounts/update/", url.Values{"email": {"a@example.com"}})
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/accounts/login/?next=%2Faccounts%2Fupdate%2F" {
		t.Errorf("anonymous POST /accounts/update/: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestRememberMe(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	login := func(remember bool) *http.Cookie {
		c := app.client()
		form := url.Values{"username": {"alice"}, "password": {goodPassword}}
		if remember {
			form.Set("remember", "on")
		}
		res := c.postForm("/accounts/login/", "/accounts/login/", form)
		wantStatus(t, res, http.StatusSeeOther)
		var found *http.Cookie
		for _, cookie := range res.Cookies() {
			if cookie.Name == "sessionid" {
				found = cookie
			}
		}
		if found == nil {
			t.Fatal("no sessionid cookie set at login")
		}
		if !found.HttpOnly || found.SameSite != http.SameSiteLaxMode || found.Path != "/" {
			t.Errorf("sessionid flags: HttpOnly=%v SameSite=%v Path=%q", found.HttpOnly, found.SameSite, found.Path)
		}
		return found
	}

	browser := login(false)
	if !browser.Expires.IsZero() || browser.MaxAge != 0 {
		t.Errorf("without remember, the cookie has Expires %v / Max-Age %d; want a session cookie", browser.Expires, browser.MaxAge)
	}
	var expires time.Time
	if err := app.db.NewRaw("SELECT expires_at FROM sessions WHERE key = ?", browser.Value).Scan(context.Background(), &expires); err != nil {
		t.Fatal(err)
	}
	if life := time.Until(expires); life > 13*time.Hour {
		t.Errorf("a browser session lives %v server-side; want a short life", life)
	}

	remembered := login(true)
	if remembered.MaxAge < 14*24*3600-60 || remembered.MaxAge > 14*24*3600 {
		t.Errorf("with remember, Max-Age %d; want two weeks", remembered.MaxAge)
	}
}

func TestLoginIssuesNewSessionID(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	// A session id planted before login (session fixation) must not survive it.
	c.setCookie("sessionid", "planted-by-an-attacker")
	c.loginAs("alice", goodPassword)
	if got := c.cookie("sessionid"); got == "planted-by-an-attacker" || got == "" {
		t.Fatalf("session id after login is %q", got)
	}

	first := c.cookie("sessionid")
	c.postForm("/articles/", "/accounts/logout/", nil)
	c.loginAs("alice", goodPassword)
	if c.cookie("sessionid") == first {
		t.Fatal("a second login reused the first session id")
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		stolen := c.cookie("sessionid")

		// A GET asks, with the button that posts; it logs nobody out.
		res := c.get("/accounts/logout/")
		wantStatus(t, res, http.StatusOK)
		if got := res.text(t, `[data-testid="logout-page"] h1`); got != "Log out?" {
			t.Errorf("GET /accounts/logout/ asks %q", got)
		}
		if n := res.doc(t).Find(`form[data-testid="logout-form"][method="post"][action="/accounts/logout/"] button[type=submit]`).Length(); n != 1 {
			t.Errorf("the logout page has %d POST forms to log out, want 1", n)
		}
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("a GET of the logout page logged alice out (header greets %q)", got)
		}

		res = c.postForm("/accounts/logout/", "/accounts/logout/", nil)
		wantRedirect(t, res, htmx, "/articles/")
		if got := c.loggedInAs(); got != "" {
			t.Fatalf("after logout the header greets %q", got)
		}
		if n := app.count("SELECT COUNT(*) FROM session_data WHERE k = ?", stolen); n != 0 {
			t.Error("the session payload survived logout")
		}
		if n := app.count("SELECT COUNT(*) FROM sessions WHERE key = ?", stolen); n != 0 {
			t.Error("the session index row survived logout")
		}

		replay := app.client()
		replay.setCookie("sessionid", stolen)
		if got := replay.loggedInAs(); got != "" {
			t.Fatalf("the old cookie still authenticates as %q", got)
		}

		// Logging out again, anonymous, is not an error.
		res = c.postForm("/accounts/login/", "/accounts/logout/", nil)
		wantRedirect(t, res, htmx, "/articles/")
	})
}

func TestFlashMessagesShowOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	if got := c.get("/articles/").text(t, `[data-testid="messages"]`); !strings.Contains(got, "Welcome back, alice.") {
		t.Fatalf("messages after login: %q", got)
	}
	if got := c.get("/articles/").text(t, `[data-testid="messages"]`); got != "" {
		t.Fatalf("the message showed twice: %q", got)
	}
	c.postForm("/articles/", "/accounts/logout/", nil)
	if got := c.get("/articles/").text(t, `[data-testid="messages"]`); !strings.Contains(got, "You have been logged out.") {
		t.Fatalf("messages after logout: %q", got)
	}

	// A forged messages cookie is ignored.
	forger := app.client()
	forger.setCookie("messages", "W3siTGV2ZWwiOiJpbmZvIiwiVGV4dCI6IlBheSB1cyJ9XQ.forged")
	if got := forger.get("/articles/").text(t, `[data-testid="messages"]`); got != "" {
		t.Fatalf("a forged message showed: %q", got)
	}
}

func TestProfile(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)

		res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{
			"email": {"alice@example.com"}, "current_password": {goodPassword}, "first_name": {"Alice"}, "last_name": {"Liddell"},
			// Fields that must never be taken from this form:
			"username": {"mallory"}, "is_staff": {"on"}, "is_superuser": {"true"}, "is_active": {"0"},
			"password": {"argon2$argon2id$forged"}, "id": {"99"}, "last_login": {"2000-01-01"},
		})
		if htmx {
			wantStatus(t, res, http.StatusOK)
			wantFragment(t, res, true, "profile-form")
			if got := res.text(t, `#messages[hx-swap-oob]`); !strings.Contains(got, "Your profile was saved.") {
				t.Errorf("no out-of-band saved message: %q", got)
			}
		} else {
			wantRedirect(t, res, false, "/accounts/update/")
		}
		u := app.user("alice")
		if u == nil {
			t.Fatal("alice is gone (username changed?)")
		}
		if u.Email != "alice@example.com" || u.FirstName != "Alice" || u.LastName != "Liddell" {
			t.Errorf("profile not saved: %+v", u)
		}
		if u.IsStaff || u.IsSuperuser || !u.IsActive || !strings.HasPrefix(u.Password, "argon2$argon2id$v=19$") || u.ID == 99 {
			t.Errorf("a field outside the form changed: %+v", u)
		}

		page := c.get("/accounts/update/")
		if value, _ := page.doc(t).Find("#id_email").Attr("value"); value != "alice@example.com" {
			t.Errorf("profile page shows email %q", value)
		}
	})
}

func TestProfileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, field, value, message string }{
		{"email syntax", "email", "not-an-email", "Enter a valid email address."},
		{"email with a name", "email", "Alice <alice@example.com>", "Enter a valid email address."},
		{"first name too long", "first_name", strings.Repeat("n", 151), "at most 150 characters"},
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{tt.field: {tt.value}})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				wantFragment(t, res, htmx, "profile-form")
				if got := res.text(t, "#id_"+tt.field+"_error"); !strings.Contains(got, tt.message) {
					t.Errorf("error %q, want %q", got, tt.message)
				}
				if value, _ := res.doc(t).Find("#id_" + tt.field).Attr("value"); value != tt.value {
					t.Errorf("entered value not kept: %q", value)
				}
			})
		}
	})
}

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		other := app.client()
		other.loginAs("alice", goodPassword)
		otherKey := other.cookie("sessionid")

		const newPassword = "a brand new passphrase"
		res := c.postForm("/accounts/password/", "/accounts/password/", url.Values{
			"old_password": {goodPassword}, "new_password1": {newPassword}, "new_password2": {newPassword},
		})
		wantRedirect(t, res, htmx, "/accounts/password/")
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("the session that changed the password was logged out (header %q)", got)
		}
		if got := other.loggedInAs(); got != "" {
			t.Fatalf("the other session is still logged in as %q", got)
		}
		if n := app.count("SELECT COUNT(*) FROM sessions WHERE key = ?", otherKey); n != 0 {
			t.Error("the other session's index row survived")
		}
		if n := app.count("SELECT COUNT(*) FROM session_data WHERE k = ?", otherKey); n != 0 {
			t.Error("the other session's payload survived")
		}

		fresh := app.client()
		res = fresh.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {"alice"}, "password": {goodPassword}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		fresh.loginAs("alice", newPassword)
	})
}

func TestPasswordChangeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new1, new2 string
		field, message        string
	}{
		{"old password wrong", "not it", "a brand new passphrase", "a brand new passphrase", "old_password", "Your old password was entered incorrectly."},
		{"new passwords differ", goodPassword, "a brand new passphrase", "another passphrase", "new_password2", "The two password fields didn’t match."},
		{"new password common", goodPassword, "qwertyuiop", "qwertyuiop", "new_password1", "This password is too common."},
		{"new password like the email", goodPassword, "alice@example", "alice@example", "new_password1", "The password is too similar to the email address."},
		{"old password required", "", "a brand new passphrase", "a brand new passphrase", "old_password", "This field is required."},
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		if _, err := app.db.NewRaw("UPDATE users SET email = 'alice@example.com'").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := c.postForm("/accounts/password/", "/accounts/password/", url.Values{
					"old_password": {tt.old}, "new_password1": {tt.new1}, "new_password2": {tt.new2},
				})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				wantFragment(t, res, htmx, "password-form")
				if got := res.text(t, "#id_"+tt.field+"_error"); !strings.Contains(got, tt.message) {
					t.Errorf("error beside %s: %q, want %q", tt.field, got, tt.message)
				}
				if strings.Contains(res.body, tt.new1) || (tt.old != "" && strings.Contains(res.body, tt.old)) {
					t.Error("a password was echoed back")
				}
			})
		}
		if got := c.loggedInAs(); got != "alice" {
			t.Fatal("failed attempts logged the user out")
		}
		app.client().loginAs("alice", goodPassword) // the old password still works
	})
}

func TestAccountDelete(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		app.createUser("bob", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		other := app.client()
		other.loginAs("alice", goodPassword)
		bob := app.client()
		bob.loginAs("bob", goodPassword)

		// The page asks for the password.
		res := c.get("/accounts/delete/")
		wantStatus(t, res, http.StatusOK)
		if res.doc(t).Find(`form[data-testid="account-delete-form"] input[name="password"]`).Length() != 1 {
			t.Fatalf("no password on the confirmation form:\n%s", res.body)
		}
		// The old confirmation alone no longer deletes.
		wantStatus(t, c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"confirm": {"yes"}}), http.StatusBadRequest)
		if app.user("alice") == nil {
			t.Fatal("the account was deleted without the password")
		}

		res = c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {goodPassword}})
		wantRedirect(t, res, htmx, "/articles/")
		if app.user("alice") != nil {
			t.Fatal("alice still exists")
		}
		if got := c.loggedInAs(); got != "" {
			t.Fatalf("after deleting the account the header greets %q", got)
		}
		if got := other.loggedInAs(); got != "" {
			t.Fatalf("alice's other session still greets %q", got)
		}
		if n := app.count("SELECT COUNT(*) FROM sessions"); n != 1 {
			t.Errorf("%d session rows left, want bob's 1", n)
		}
		if n := app.count("SELECT COUNT(*) FROM session_data"); n != 1 {
			t.Errorf("%d session payloads left, want bob's 1", n)
		}
		if got := bob.loggedInAs(); got != "bob" {
			t.Errorf("bob's session was touched (header %q)", got)
		}
	})
}

func TestDeactivatedUserIsLoggedOut(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	if _, err := app.db.NewRaw("UPDATE users SET is_active = FALSE").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.loggedInAs(); got != "" {
		t.Fatalf("a deactivated user is still greeted as %q", got)
	}
	if n := app.count("SELECT COUNT(*) FROM sessions"); n != 0 {
		t.Error("the deactivated user's session was not flushed")
	}
}

func TestPasswordChangedElsewhereEndsSession(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	u := app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	// As `gatehouse changepassword` or an admin would: only the hash changes.
	if err := models.SetPassword(context.Background(), app.db, u.ID, "argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"); err != nil {
		t.Fatal(err)
	}
	if got := c.loggedInAs(); got != "" {
		t.Fatalf("the auth hash no longer matches, yet the header greets %q", got)
	}
}
