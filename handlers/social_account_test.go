package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/password"
	"gatehouse/models/social"
	"gatehouse/views"
)

// clockedSocialApp is socialApp on a clock the test moves (the provider's
// own clock moves with it, by FastForward).
func clockedSocialApp(t *testing.T, m *mockoidc.MockOIDC, dbURL string) (*testApp, *testClock) {
	t.Helper()
	clock := &testClock{}
	return newTestAppOn(t, handlers.Config{Now: clock.Now, SocialProviders: []social.Provider{{
		Name: "mock", Label: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer(),
	}}}, dbURL), clock
}

// confirmWithProvider presses "Confirm with Mock" on the confirmation page
// of next and returns the callback's answer, the provider answering for
// the queued person.
func confirmWithProvider(t *testing.T, c *client, next string) *response {
	t.Helper()
	res := c.postForm(views.ConfirmPath(next), views.SocialConfirmPath("mock"), url.Values{"next": {next}})
	wantStatus(t, res, http.StatusSeeOther)
	return callback(c, atProvider(t, res.Header.Get("Location")))
}

// TestSocialAccountSetsPassword: an account made through a provider has no
// password; the password page offers to set one, without an old password,
// in sudo mode, which the account gets by logging in at its provider again
// (another provider account does not give it); then the password logs in.
func TestSocialAccountSetsPassword(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			m := mockProvider(t)
			app, clock := clockedSocialApp(t, m, engine.URL(t))
			carol := mockoidc.MockUser{Subject: "carol-at-mock", Email: "carol@example.com", EmailVerified: true, PreferredUsername: "carol"}
			m.QueueUser(&carol)
			c := app.client()
			wantRedirect(t, callback(c, providerSendsBack(t, c, "")), false, views.PathArticles)

			res := c.get(views.PathPassword)
			wantStatus(t, res, http.StatusSeeOther)
			if got := res.Header.Get("Location"); got != views.PathPasswordSet {
				t.Fatalf("the password page of an account without one goes to %q", got)
			}
			page := c.get(views.PathPasswordSet)
			wantStatus(t, page, http.StatusOK)
			form := page.doc(t).Find(`[data-testid="set-password-form"]`)
			if form.Find(`input[name="new_password1"]`).Length() != 1 || form.Find(`input[name="old_password"]`).Length() != 0 {
				t.Fatalf("the set-password form: %s", page.body)
			}

			// Later, sudo mode has lapsed: the confirmation page offers the
			// provider instead of a password the account does not have.
			clock.advance(models.RecentAuthentication + time.Minute)
			m.FastForward(models.RecentAuthentication + time.Minute)
			res = c.get(views.PathPasswordSet)
			wantStatus(t, res, http.StatusFound)
			confirm := c.get(res.Header.Get("Location"))
			wantStatus(t, confirm, http.StatusOK)
			doc := confirm.doc(t)
			if doc.Find(`[data-testid="confirm-form"]`).Length() != 0 || doc.Find(`[data-testid="social-confirm-mock"]`).Length() != 1 {
				t.Fatalf("the confirmation page of an account without a password: %s", confirm.body)
			}

			// Another account at the provider does not confirm it is carol.
			m.QueueUser(&mockoidc.MockUser{Subject: "mallory-at-mock", Email: "mallory@example.com", EmailVerified: true})
			res = confirmWithProvider(t, c, views.PathPasswordSet)
			wantStatus(t, res, http.StatusBadRequest)
			if !strings.Contains(res.text(t, `[data-testid="social-failed"]`), "not the one connected to your account") {
				t.Errorf("another provider account: %s", res.body)
			}
			wantStatus(t, c.get(views.PathPasswordSet), http.StatusFound)

			// Hers does.
			m.QueueUser(&carol)
			wantRedirect(t, confirmWithProvider(t, c, views.PathPasswordSet), false, views.PathPasswordSet)
			const pass = "a new password of carol's"
			res = c.postForm(views.PathPasswordSet, views.PathPasswordSet, url.Values{"new_password1": {pass}, "new_password2": {"something else"}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			wantRedirect(t, c.postForm(views.PathPasswordSet, views.PathPasswordSet, url.Values{"new_password1": {pass}, "new_password2": {pass}}), false, views.PathPassword)
			if !password.Usable(app.user("carol").Password) {
				t.Fatal("no usable password after setting one")
			}
			if got := c.get(views.PathPassword).text(t, `[data-testid="messages"]`); !strings.Contains(got, "Your password was set") {
				t.Errorf("message after setting: %q", got)
			}
			if c.loggedInAs() != "carol" {
				t.Fatal("setting the password logged this browser out")
			}
			// Now it is a password to change, not to set; and it logs in.
			res = c.get(views.PathPasswordSet)
			wantStatus(t, res, http.StatusSeeOther)
			if got := res.Header.Get("Location"); got != views.PathPassword {
				t.Errorf("the set page once a password is set goes to %q", got)
			}
			other := app.client()
			other.loginAs("carol", pass)
			if other.loggedInAs() != "carol" {
				t.Error("the new password does not log in")
			}
		})
	}
}

// TestSocialAccountConfirmsInsteadOfPassword: an account made through a
// provider has no password to type where the profile and the account's
// deletion ask for one; having confirmed it is them lately stands in for
// it (right after the login, or again at the provider once that lapses),
// and a lapsed one is sent to confirm, not told its password is wrong.
func TestSocialAccountConfirmsInsteadOfPassword(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	app, clock := clockedSocialApp(t, m, dbtest.SQLite(t))
	dave := mockoidc.MockUser{Subject: "dave-at-mock", Email: "dave@example.com", EmailVerified: true, PreferredUsername: "dave"}
	m.QueueUser(&dave)
	c := app.client()
	wantRedirect(t, callback(c, providerSendsBack(t, c, "")), false, views.PathArticles)
	profile := url.Values{"email": {"dave@example.org"}, "first_name": {""}, "last_name": {""}}

	if c.get(views.PathProfile).doc(t).Find(`input[name="current_password"]`).Length() != 0 {
		t.Error("the profile asks an account without a password for it")
	}
	wantRedirect(t, c.postForm(views.PathProfile, views.PathProfile, profile), false, views.PathProfile)
	if got := app.user("dave").Email; got != "dave@example.org" {
		t.Fatalf("the address after a change just after logging in: %q", got)
	}

	clock.advance(models.RecentAuthentication + time.Minute)
	m.FastForward(models.RecentAuthentication + time.Minute)
	profile.Set("email", "dave@example.net")
	res := c.postForm(views.PathProfile, views.PathProfile, profile)
	wantStatus(t, res, http.StatusSeeOther)
	if got := res.Header.Get("Location"); got != views.ConfirmPath(views.PathProfile) {
		t.Fatalf("a lapsed change of address goes to %q", got)
	}
	if got := app.user("dave").Email; got != "dave@example.org" {
		t.Fatalf("the address changed without a confirmation: %q", got)
	}
	res = c.get(views.PathAccountDelete)
	wantStatus(t, res, http.StatusFound)
	if got := res.Header.Get("Location"); got != views.ConfirmPath(views.PathAccountDelete) {
		t.Fatalf("the deletion page, lapsed, goes to %q", got)
	}
	wantRedirect(t, c.postForm(views.PathProfile, views.PathAccountDelete, nil), false, views.ConfirmPath(views.PathAccountDelete))
	if app.count("SELECT count(*) FROM users WHERE username = 'dave'") != 1 {
		t.Fatal("deleted without a confirmation")
	}

	m.QueueUser(&dave)
	wantRedirect(t, confirmWithProvider(t, c, views.PathAccountDelete), false, views.PathAccountDelete)
	page := c.get(views.PathAccountDelete)
	wantStatus(t, page, http.StatusOK)
	if page.doc(t).Find(`[data-testid="account-delete-form"] input[name="password"]`).Length() != 0 {
		t.Error("the deletion form asks an account without a password for it")
	}
	wantRedirect(t, c.postForm(views.PathAccountDelete, views.PathAccountDelete, nil), false, views.PathArticles)
	if app.count("SELECT count(*) FROM users WHERE username = 'dave'") != 0 {
		t.Fatal("the account is still there")
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = ?", models.EventLoginFailed); n != 0 {
		t.Errorf("%d failed logins recorded for an account that has no password to get wrong", n)
	}
}

// TestAdminSocialConnections: a user's admin page lists their accounts at
// other sites; a superuser removes one (the admin log, the user's log and a
// notice mail record it), but not a user's only way in; plain staff see no
// button and may not post.
func TestAdminSocialConnections(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	app := socialApp(t, m, dbtest.SQLite(t))
	box := mtFolder(t, app.mailDir)
	app.createStaff("root", true)
	app.createStaff("staffer", false)
	alice := mtVerifiedUser(t, app, "alice", "alice@example.com")
	c := app.client()
	c.loginAs("alice", mtPassword)
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-at-mock", Email: "alice.mock@example.com", EmailVerified: true})
	wantRedirect(t, connectProvider(t, c), false, views.PathSocial)
	box.next("alice@example.com", "A Mock account was connected to your Gatehouse account")
	m.QueueUser(&mockoidc.MockUser{Subject: "carol-at-mock", Email: "carol@example.com", EmailVerified: true, PreferredUsername: "carol"})
	carolClient := app.client()
	wantRedirect(t, callback(carolClient, providerSendsBack(t, carolClient, "")), false, views.PathArticles)
	carol := app.user("carol")

	staff := app.client()
	staff.loginAs("staffer", goodPassword)
	alicePage := views.AdminUserPath(alice.ID)
	page := staff.get(alicePage)
	wantStatus(t, page, http.StatusOK)
	if got := page.text(t, `[data-testid="admin-social-connection"] strong`); got != "Mock · alice.mock@example.com" {
		t.Errorf("staff see the connection as %q", got)
	}
	if page.doc(t).Find(`[data-testid="admin-social"] form`).Length() != 0 {
		t.Error("plain staff are offered to remove a connection")
	}
	aliceAccount := strconv.Itoa(app.count("SELECT id FROM social_accounts WHERE subject = 'alice-at-mock'"))
	wantStatus(t, staff.postForm(alicePage, alicePage+views.AdminUserSocial, url.Values{"id": {aliceAccount}}), http.StatusForbidden)

	root := app.client()
	root.loginAs("root", goodPassword)
	// Carol's only way in stays.
	carolPage := views.AdminUserPath(carol.ID)
	carolAccount := strconv.Itoa(app.count("SELECT id FROM social_accounts WHERE subject = 'carol-at-mock'"))
	wantRedirect(t, root.postForm(carolPage, carolPage+views.AdminUserSocial, url.Values{"id": {carolAccount}}), false, carolPage)
	if got := root.get(carolPage).text(t, `[data-testid="messages"]`); !strings.Contains(got, "only way carol can log in") {
		t.Errorf("refusal: %q", got)
	}
	if n := app.count("SELECT count(*) FROM social_accounts WHERE user_id = ?", carol.ID); n != 1 {
		t.Fatal("carol's only way in was removed")
	}
	// Alice's goes.
	wantRedirect(t, root.postForm(alicePage, alicePage+views.AdminUserSocial, url.Values{"id": {aliceAccount}}), false, alicePage)
	if n := app.count("SELECT count(*) FROM social_accounts WHERE user_id = ?", alice.ID); n != 0 {
		t.Fatal("alice's connection is still there")
	}
	log := app.adminLog()
	if len(log) != 1 || log[0].Action != models.ActionDisconnect || log[0].ObjectID != alice.ID {
		t.Fatalf("admin log: %+v", log)
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE user_id = ? AND kind = ?", alice.ID, models.EventSocialDisconnected); n != 1 {
		t.Errorf("%d disconnections in alice's log", n)
	}
	box.next("alice@example.com", "An administrator disconnected Mock from your Gatehouse account")
	// Posted again: gone already, nothing logged.
	wantRedirect(t, root.postForm(alicePage, alicePage+views.AdminUserSocial, url.Values{"id": {aliceAccount}}), false, alicePage)
	if len(app.adminLog()) != 1 {
		t.Error("removing a removed connection was logged")
	}
	wantStatus(t, root.postForm(alicePage, alicePage+views.AdminUserSocial, url.Values{"id": {"x"}}), http.StatusBadRequest)
}

// TestSocialLoginThrottles: logins through one provider account are
// counted (after the signup, the eleventh in a quarter of an hour is
// refused); forged
// callbacks count as failed logins of the address, and an address locked
// out of logging in cannot start a login at a provider either.
func TestSocialLoginThrottles(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	app := socialApp(t, m, dbtest.SQLite(t))
	dan := mockoidc.MockUser{Subject: "dan-at-mock", Email: "dan@example.com", EmailVerified: true, PreferredUsername: "dan"}
	for i := range 11 { // the signup and ten logins
		m.QueueUser(&dan)
		c := app.client()
		wantRedirect(t, callback(c, providerSendsBack(t, c, "")), false, views.PathArticles)
		if c.loggedInAs() != "dan" {
			t.Fatalf("login %d through the provider failed", i+1)
		}
	}
	m.QueueUser(&dan)
	c := app.client()
	res := callback(c, providerSendsBack(t, c, ""))
	wantStatus(t, res, http.StatusTooManyRequests)
	if c.loggedInAs() != "" || res.Header.Get("Retry-After") == "" {
		t.Error("the eleventh login through one provider account went through")
	}

	// Forged callbacks from one address lock it out of both ways in.
	for range 10 {
		c := app.client()
		back := providerSendsBack(t, c, "")
		wantStatus(t, callback(c, strings.Replace(back, "state=", "state=forged", 1)), http.StatusBadRequest)
	}
	c = app.client()
	res = c.postForm(views.PathLogin, views.SocialLoginPath("mock"), url.Values{"next": {""}})
	wantStatus(t, res, http.StatusTooManyRequests)
	res = c.postForm(views.PathLogin, views.PathLogin, url.Values{"username": {"dan"}, "password": {"whatever it is"}})
	wantStatus(t, res, http.StatusTooManyRequests)
}

// TestSocialFormAction: the pages let forms lead to this site and to the
// configured providers' login pages only (CSP form-action), where the
// login button's form is redirected; with no provider, to this site only.
func TestSocialFormAction(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	issuer, err := url.Parse(m.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	for app, want := range map[*testApp]string{
		socialApp(t, m, dbtest.SQLite(t)): "form-action 'self' http://" + issuer.Host + ";",
		newTestApp(t):                     "form-action 'self';",
	} {
		if got := app.client().get(views.PathLogin).Header.Get("Content-Security-Policy"); !strings.Contains(got, want) {
			t.Errorf("CSP %q, want %q in it", got, want)
		}
	}
}

// TestSocialSignupTwiceAtOnce: a new person's callbacks arriving together
// (a second click at the provider, two tabs) make one account, and every
// one of them logs in to it, none fails.
func TestSocialSignupTwiceAtOnce(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			m := mockProvider(t)
			app := socialApp(t, m, engine.URL(t))
			const tries = 4
			clients := make([]*client, tries)
			backs := make([]string, tries)
			for i := range clients {
				m.QueueUser(&mockoidc.MockUser{Subject: "erin-at-mock", Email: "erin@example.com", EmailVerified: true, PreferredUsername: "erin"})
				clients[i] = app.client()
				backs[i] = providerSendsBack(t, clients[i], "")
			}
			statuses := make([]int, tries)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Go(func() { statuses[i] = callback(clients[i], backs[i]).StatusCode })
			}
			wg.Wait()
			for i, status := range statuses {
				if status != http.StatusSeeOther {
					t.Errorf("callback %d answered %d", i, status)
				} else if got := clients[i].loggedInAs(); got != "erin" {
					t.Errorf("callback %d logged in as %q", i, got)
				}
			}
			if n := app.count("SELECT count(*) FROM users WHERE username = 'erin'"); n != 1 {
				t.Errorf("%d accounts for one person", n)
			}
		})
	}
}
