package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/models"
	"gatehouse/views"
)

// Attacks found in the review of two-factor, passkeys and the admin, each
// a test that failed before its fix. Helpers are prefixed rev.

// revSetFlags sets a user's staff and superuser flags directly, as an old
// database or the command line could have left them.
func revSetFlags(t *testing.T, app *testApp, username string, staff, super bool) {
	t.Helper()
	if _, err := app.db.NewRaw("UPDATE users SET is_staff = ?, is_superuser = ? WHERE username = ?", staff, super, username).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The last superuser who can open the admin could untick "staff" on their
// own account: still a superuser, active, so the guard let it pass, and
// nobody could reach the admin any more. A superuser who is not staff
// does not count as the one that must stay.
func TestAdminLastSuperuserKeepsStaff(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	root := app.createStaff("root", true)
	app.createUser("ghost", goodPassword)
	revSetFlags(t, app, "ghost", false, true) // a superuser who cannot open the admin
	c := app.client()
	c.loginAs("root", goodPassword)
	res := c.postForm(views.AdminUserPath(root.ID), views.AdminUserPath(root.ID), url.Values{
		"email": {""}, "first_name": {""}, "last_name": {""}, "is_active": {"on"}, "is_superuser": {"on"},
	})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.text(t, ".form-errors"), "last active superuser") {
		t.Errorf("form errors: %q", res.text(t, ".form-errors"))
	}
	if u := app.user("root"); !u.IsStaff || !u.IsSuperuser || !u.IsActive {
		t.Fatalf("the last superuser who can open the admin left it: %+v", u)
	}
	wantStatus(t, c.get(views.PathAdmin), http.StatusOK)

	// With another superuser who is staff, root may step down.
	app.createStaff("second", true)
	res = c.postForm(views.AdminUserPath(root.ID), views.AdminUserPath(root.ID), url.Values{
		"email": {""}, "first_name": {""}, "last_name": {""}, "is_active": {"on"}, "is_superuser": {"on"},
	})
	wantRedirect(t, res, false, views.AdminUserPath(root.ID))
	if app.user("root").IsStaff {
		t.Fatal("root could not leave the staff with another superuser there")
	}
}

// A login waiting for its second factor whose user was deleted or
// deactivated meanwhile: asking for a passkey ceremony answered 500 (the
// deleted user) or handed out the account's credential ids (the
// deactivated one). Both are refused as a second step without a password.
func TestSecondStepPasskeyBeginForAGoneUser(t *testing.T) {
	t.Parallel()
	app, clock := newPasskeyApp(t)
	app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	auth := newSoftAuthenticator(t, app)
	for _, name := range []string{"alice", "bob"} {
		c := app.client()
		c.loginAs(name, goodPassword)
		addPasskey(t, c, auth, name+"'s key")
		enableTwoFactor(t, c, clock)
		c.postForm("/articles/", "/accounts/logout/", nil)
	}
	deleted, deactivated := app.client(), app.client()
	passwordStep(t, deleted, "alice", "")
	passwordStep(t, deactivated, "bob", "")
	for _, statement := range []string{"DELETE FROM users WHERE username = 'alice'", "UPDATE users SET is_active = FALSE WHERE username = 'bob'"} {
		if _, err := app.db.NewRaw(statement).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*client{deleted, deactivated} {
		res := c.postForm("/accounts/login/", "/accounts/login/2fa/passkey/begin/", nil)
		wantStatus(t, res, http.StatusForbidden)
	}
}

// Guessing the second factor locked it after five wrong codes, but unlike
// a guessed password the lock was in no log: not the user's activity page,
// not the admin's count of throttled attempts. It is now, once.
func TestSecondStepLockIsLogged(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	alice := app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	secret, _ := enableTwoFactor(t, c, clock)
	c.postForm("/articles/", "/accounts/logout/", nil)
	right := totpCode(t, secret, clock.Now())
	passwordStep(t, c, "alice", "")
	for i := range 6 {
		wrong := "99999" + string(rune('0'+i))
		if wrong == right {
			wrong = "000000"
		}
		c.postForm("/accounts/login/2fa/", "/accounts/login/2fa/", url.Values{"code": {wrong}})
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = 'throttled' AND user_id = ? AND detail LIKE ?", alice.ID, models.NewDetail("second_factor_locked_until").String()+" %"); n != 1 {
		t.Fatalf("%d lock events in alice's log, want 1", n)
	}
}

// The admin keeps its last superuser, but the settings' "delete my
// account" took them away all the same. It says why instead.
func TestLastSuperuserCannotDeleteTheirAccount(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createStaff("root", true)
		c := app.newClient(htmx)
		c.loginAs("root", goodPassword)
		res := c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {goodPassword}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantFragment(t, res, htmx, "account-delete-form")
		if !strings.Contains(res.body, "last superuser") {
			t.Errorf("no reason given:\n%s", res.body)
		}
		if app.user("root") == nil || c.loggedInAs() != "root" {
			t.Fatal("the last superuser deleted their account")
		}
		// With another one, they may go.
		app.createStaff("second", true)
		res = c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {goodPassword}})
		wantRedirect(t, res, htmx, "/articles/")
		if app.user("root") != nil {
			t.Fatal("a superuser with another one there could not delete their account")
		}
	})
}

// Five wrong codes every fifteen minutes, for as long as one likes: 480
// guesses a day at a six-digit code valid in three steps. Thirty wrong
// codes in a day (the last hours' failures put straight into the
// throttle's table, as a patient attacker would have left them) now lock
// the second step, a right code included, until they age out.
func TestSecondStepDailyLimit(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	alice := app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	secret, _ := enableTwoFactor(t, c, clock)
	c.postForm("/articles/", "/accounts/logout/", nil)
	for i := range 30 {
		// Each failed long enough ago for the fifteen-minute rule to have forgotten it.
		expires := time.Now().UTC().Add(23*time.Hour - time.Duration(i)*time.Minute)
		if _, err := app.db.NewRaw("INSERT INTO throttle_failures (key, expires_at) VALUES (?, ?)", "two-factor-day:"+strconv.FormatInt(alice.ID, 10), expires).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	passwordStep(t, c, "alice", "")
	res := c.postForm("/accounts/login/2fa/", "/accounts/login/2fa/", url.Values{"code": {totpCode(t, secret, clock.Now())}})
	wantStatus(t, res, http.StatusTooManyRequests)
	if c.loggedInAs() != "" {
		t.Fatal("logged in past thirty wrong codes in a day")
	}
}

// A passkey's "begin" asked by a browser whose session ended sent it to
// log in and come back to the begin address itself: POST-only, a 405.
func TestPasskeyBeginLoginReturnsToThePage(t *testing.T) {
	t.Parallel()
	app, _ := newPasskeyApp(t)
	res := app.client().postForm("/accounts/login/", "/accounts/passkeys/begin/", nil)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/accounts/login/?next=%2Faccounts%2Fpasskeys%2F" {
		t.Fatalf("begin without a login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// A recovery code spent on the turn-off form was used up without a word
// in the security log, which records each use at login.
func TestRecoveryCodeOnTheTurnOffFormIsLogged(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	alice := app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	_, codes := enableTwoFactor(t, c, clock)
	res := c.postForm("/accounts/2fa/disable/", "/accounts/2fa/disable/", url.Values{"code": {codes[3]}, "password": {""}})
	wantRedirect(t, res, false, "/accounts/2fa/")
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = 'recovery_code_used' AND user_id = ?", alice.ID); n != 1 {
		t.Fatalf("%d recovery code uses logged, want 1", n)
	}
}

// Every passkey login begun by an anonymous visitor stores a session for
// its challenge, and nothing bounded them: one address could post begin
// after begin, without cookies, and fill the session store. The 101st
// within fifteen minutes is refused and stores nothing.
func TestPasskeyPromptsAreThrottled(t *testing.T) {
	t.Parallel()
	app, _ := newPasskeyApp(t)
	c := app.client()
	token := c.csrfToken("/accounts/login/")
	csrfCookie := c.cookie("csrftoken")
	begin := func() *response {
		// A fresh client each time: no session cookie to reuse.
		fresh := app.client()
		fresh.setCookie("csrftoken", csrfCookie)
		req, err := http.NewRequest(http.MethodPost, app.url+"/accounts/login/passkey/begin/", strings.NewReader(url.Values{"csrfmiddlewaretoken": {token}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return fresh.do(req)
	}
	for range 100 {
		wantStatus(t, begin(), http.StatusOK)
	}
	before := app.count("SELECT count(*) FROM session_data")
	res := begin()
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if after := app.count("SELECT count(*) FROM session_data"); after != before {
		t.Fatalf("a refused prompt stored a session: %d then %d", before, after)
	}
}

// TestNamesRefuseDirectionOverrides: a first name with a right-to-left
// override would make the admin's lists and the log read backwards from
// there; the profile refuses it, and the name stays as it was.
func TestNamesRefuseDirectionOverrides(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.newClient(false)
	c.loginAs("alice", goodPassword)
	res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{"first_name": {"Ann\u202eeve"}, "last_name": {""}, "email": {""}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, "Enter a name without control or direction characters.") {
		t.Errorf("no message for the override:\n%s", res.body)
	}
	if got := app.user("alice").FirstName; got != "" {
		t.Errorf("first name stored as %q", got)
	}
}
