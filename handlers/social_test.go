package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/social"
	"gatehouse/views"
)

// mockProvider runs an OpenID Connect provider on a loopback port for t.
func mockProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The key's id is worked out on first use and kept, unguarded: worked
	// out before the server starts, callbacks at once (two tabs) sign
	// their tokens without a race in the mock.
	if _, err := m.Keypair.KeyID(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

// socialApp is an app whose login page offers the mock provider as "Mock".
func socialApp(t *testing.T, m *mockoidc.MockOIDC, dbURL string) *testApp {
	t.Helper()
	return newTestAppOn(t, handlers.Config{SocialProviders: []social.Provider{{
		Name: "mock", Label: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer(),
	}}}, dbURL)
}

// providerSendsBack starts a login with the mock provider from the login
// page (a CSRF-checked POST), lets the provider answer (it logs in the
// next queued person), and returns the callback URL it sends the browser to.
func providerSendsBack(t *testing.T, c *client, next string) string {
	t.Helper()
	res := c.postForm(views.LoginPath(next), views.SocialLoginPath("mock"), url.Values{"next": {next}})
	wantStatus(t, res, http.StatusSeeOther)
	authorize := res.Header.Get("Location")
	u, err := url.Parse(authorize)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" ||
		!strings.HasSuffix(q.Get("redirect_uri"), "/accounts/social/mock/callback/") {
		t.Fatalf("authorization request without PKCE S256, nonce, state or the callback: %s", authorize)
	}
	return atProvider(t, authorize)
}

// atProvider opens the provider's authorization page, where the person
// logs in at once, and returns where the provider sends the browser back.
func atProvider(t *testing.T, authorize string) string {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	answer, err := noFollow.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	answer.Body.Close()
	back := answer.Header.Get("Location")
	if answer.StatusCode != http.StatusFound || back == "" {
		t.Fatalf("the provider answered %d, to %q", answer.StatusCode, back)
	}
	return back
}

// callback follows the provider back to the app, as the browser does.
func callback(c *client, back string) *response {
	u, _ := url.Parse(back)
	return c.get(u.RequestURI())
}

// TestSocialLoginNewAndReturning: a new person from the provider gets an
// account (their preferred username; the address confirmed as the provider
// verified it; no usable password), logs out, and logs in again to the same
// account; on both engines.
func TestSocialLoginNewAndReturning(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			m := mockProvider(t)
			app := socialApp(t, m, engine.URL(t))
			c := app.client()
			if got := c.get(views.PathLogin).text(t, `[data-testid="social-login-mock"] button`); got != "Log in with Mock" {
				t.Errorf("login page's button: %q", got)
			}
			m.QueueUser(&mockoidc.MockUser{Subject: "sub-1", Email: "Jane@Example.com", EmailVerified: true, PreferredUsername: "jane"})
			wantRedirect(t, callback(c, providerSendsBack(t, c, "/accounts/sessions/")), false, "/accounts/sessions/")
			if got := c.loggedInAs(); got != "jane" {
				t.Fatalf("logged in as %q", got)
			}
			jane := app.user("jane")
			if jane.Email != "Jane@Example.com" || !jane.EmailVerified || jane.Password != "!" {
				t.Errorf("the new account: %+v", jane)
			}
			if n := app.count("SELECT count(*) FROM security_events WHERE kind = ? AND detail = ?", models.EventSignup, models.NewDetail("login_provider", "Provider", "Mock").String()); n != 1 {
				t.Errorf("%d signups with Mock logged", n)
			}

			again := app.client()
			m.QueueUser(&mockoidc.MockUser{Subject: "sub-1", Email: "jane@example.com", PreferredUsername: "someone-else"})
			wantRedirect(t, callback(again, providerSendsBack(t, again, "")), false, views.PathArticles)
			if got := again.loggedInAs(); got != "jane" {
				t.Fatalf("returning: logged in as %q", got)
			}
			if n := app.count("SELECT count(*) FROM users"); n != 1 {
				t.Errorf("%d accounts, want 1", n)
			}
		})
	}
}

// TestSocialLoginRefusals: a wrong or reused state, a callback in another
// browser, an unverified address stored unconfirmed, an address another
// account has (never entered), a taken username asked for.
func TestSocialLoginRefusals(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	app := socialApp(t, m, dbtest.SQLite(t))

	// Wrong state.
	c := app.client()
	back := providerSendsBack(t, c, "")
	forged := strings.Replace(back, "state=", "state=x", 1)
	res := callback(c, forged)
	wantStatus(t, res, http.StatusBadRequest)
	if !strings.Contains(res.text(t, `[data-testid="social-failed"]`), "Start again from the login page") {
		t.Errorf("wrong state: %s", res.body)
	}
	// The state was used up by that try: the real callback fails too.
	wantStatus(t, callback(c, back), http.StatusBadRequest)

	// A callback replayed in another browser.
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-2", Email: "bob@example.com", PreferredUsername: "bob"})
	c = app.client()
	back = providerSendsBack(t, c, "")
	thief := app.client()
	wantStatus(t, callback(thief, back), http.StatusBadRequest)
	if n := app.count("SELECT count(*) FROM users"); n != 0 {
		t.Fatalf("a callback in another browser made %d accounts", n)
	}

	// An unverified address is kept unconfirmed.
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-3", Email: "carol@example.com", EmailVerified: false, PreferredUsername: "carol"})
	c = app.client()
	wantRedirect(t, callback(c, providerSendsBack(t, c, "")), false, views.PathArticles)
	if carol := app.user("carol"); carol.EmailVerified {
		t.Error("an address the provider did not verify is confirmed")
	}
	// A replayed callback after success finds nothing.
	replayed := app.client()
	replayed.loggedInAs()

	// An address another account has, in another letter case: not entered.
	victim := app.createUser("dave", goodPassword)
	mtSetEmail(t, app, victim.ID, "dave@example.com", false)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-4", Email: "DAVE@example.com", EmailVerified: true, PreferredUsername: "dave2"})
	c = app.client()
	res = callback(c, providerSendsBack(t, c, ""))
	wantStatus(t, res, http.StatusConflict)
	if got := c.loggedInAs(); got != "" {
		t.Fatalf("the address let the provider's person into %q", got)
	}
	if !strings.Contains(res.text(t, `[data-testid="social-address-taken"]`), "does not enter it") {
		t.Errorf("address taken: %s", res.body)
	}

	// A taken username: the person chooses another.
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-5", Email: "erin@example.com", EmailVerified: true, PreferredUsername: "Carol"})
	c = app.client()
	res = callback(c, providerSendsBack(t, c, ""))
	wantStatus(t, res, http.StatusOK)
	wantFragment(t, res, false, "social-signup-form")
	form, _ := res.doc(t).Find(`[data-testid="social-signup-form"] input[name="form"]`).Attr("value")
	// Someone else at this browser, posting a username without that form,
	// does not take the account.
	wantRedirect(t, c.postForm(views.PathSocialSignup, views.PathSocialSignup, url.Values{"username": {"squatter"}}), false, views.PathLogin)
	res = c.postForm(views.PathSocialSignup, views.PathSocialSignup, url.Values{"username": {"bad name!"}, "form": {form}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantRedirect(t, c.postForm(views.PathSocialSignup, views.PathSocialSignup, url.Values{"username": {"erin"}, "form": {form}}), false, views.PathArticles)
	if got := c.loggedInAs(); got != "erin" {
		t.Fatalf("after choosing: %q", got)
	}
}

// TestSocialLoginSecondStep: an account with two-factor gets its second
// step after the provider, as after a password.
func TestSocialLoginSecondStep(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	clock := &testClock{}
	app := newTestAppWith(t, handlers.Config{Now: clock.Now, SocialProviders: []social.Provider{{
		Name: "mock", Label: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer(),
	}}})
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-6", Email: "fay@example.com", EmailVerified: true, PreferredUsername: "fay"})
	c := app.client()
	wantRedirect(t, callback(c, providerSendsBack(t, c, "")), false, views.PathArticles)
	enableTwoFactor(t, c, clock)

	other := app.client()
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-6", Email: "fay@example.com", EmailVerified: true})
	wantRedirect(t, callback(other, providerSendsBack(t, other, "")), false, views.PathLoginSecondStep)
	if got := other.loggedInAs(); got != "" {
		t.Errorf("logged in as %q before the second step", got)
	}
	var n int
	if err := app.db.NewRaw("SELECT count(*) FROM social_accounts").Scan(context.Background(), &n); err != nil || n != 1 {
		t.Errorf("%d provider accounts, %v", n, err)
	}
}

// connectProvider connects the mock provider to the logged-in client from
// the settings page, and returns the callback's answer.
func connectProvider(t *testing.T, c *client) *response {
	t.Helper()
	res := c.postForm(views.PathSocial, views.SocialConnectPath("mock"), nil)
	wantStatus(t, res, http.StatusSeeOther)
	return callback(c, atProvider(t, res.Header.Get("Location")))
}

// TestSocialConnectAndDisconnect: a user connects a provider account from
// the settings (logged, and a notice mailed), then logs in with it; it
// cannot be connected to a second account; the last way in of an account
// without a password cannot be disconnected; another can.
func TestSocialConnectAndDisconnect(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	app := socialApp(t, m, dbtest.SQLite(t))
	box := mtFolder(t, app.mailDir)
	mtVerifiedUser(t, app, "alice", "alice@example.com")
	c := app.client()
	c.loginAs("alice", mtPassword)
	if n := c.get(views.PathSocial).doc(t).Find(`[data-testid="social-connect-mock"]`).Length(); n != 1 {
		t.Fatal("the settings page offers no connection")
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-at-mock", Email: "alice.mock@example.com", EmailVerified: true})
	wantRedirect(t, connectProvider(t, c), false, views.PathSocial)
	page := c.get(views.PathSocial)
	if got := page.text(t, `[data-testid="social-connection"] strong`); got != "Mock · alice.mock@example.com" {
		t.Errorf("connection listed as %q", got)
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = ? AND detail = ?", models.EventSocialConnected, models.NewDetail("named", "Name", "Mock").String()); n != 1 {
		t.Errorf("%d connections logged", n)
	}
	box.next("alice@example.com", "A Mock account was connected to your Gatehouse account")

	// Now it logs alice in.
	other := app.client()
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-at-mock", Email: "alice.mock@example.com", EmailVerified: true})
	wantRedirect(t, callback(other, providerSendsBack(t, other, "")), false, views.PathArticles)
	if got := other.loggedInAs(); got != "alice" {
		t.Fatalf("the connected provider logged in %q", got)
	}

	// Not to a second account.
	app.createUser("bob", goodPassword)
	b := app.client()
	b.loginAs("bob", goodPassword)
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-at-mock", Email: "alice.mock@example.com", EmailVerified: true})
	wantStatus(t, connectProvider(t, b), http.StatusBadRequest)

	// A provider-made account keeps its last way in.
	m.QueueUser(&mockoidc.MockUser{Subject: "carol-at-mock", Email: "carol@example.com", EmailVerified: true, PreferredUsername: "carol"})
	carol := app.client()
	wantRedirect(t, callback(carol, providerSendsBack(t, carol, "")), false, views.PathArticles)
	id := app.count("SELECT id FROM social_accounts WHERE subject = 'carol-at-mock'")
	res := carol.postForm(views.PathSocial, views.PathSocialDisconnect, url.Values{"id": {strconv.Itoa(id)}})
	wantStatus(t, res, http.StatusConflict)
	if !strings.Contains(res.text(t, `[data-testid="social-problem"]`), "only way to log in") {
		t.Errorf("refusal: %s", res.body)
	}

	// Alice, who has a password, disconnects.
	id = app.count("SELECT id FROM social_accounts WHERE subject = 'alice-at-mock'")
	wantRedirect(t, c.postForm(views.PathSocial, views.PathSocialDisconnect, url.Values{"id": {strconv.Itoa(id)}}), false, views.PathSocial)
	if n := app.count("SELECT count(*) FROM social_accounts WHERE subject = 'alice-at-mock'"); n != 0 {
		t.Error("the connection is still there")
	}
}
