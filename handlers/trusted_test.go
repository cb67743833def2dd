package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/views"
)

// secondStepWith logs the client in with the password and a code from the
// authenticator with secret, trusting the browser if trust.
func secondStepWith(t *testing.T, c *client, clock *testClock, secret string, trust bool) {
	t.Helper()
	passwordStep(t, c, "alice", "")
	values := url.Values{"code": {totpCode(t, secret, clock.Now())}}
	if trust {
		values.Set("trust", "on")
	}
	wantRedirect(t, c.postForm(views.PathLoginSecondStep, views.PathLoginSecondStep, values), false, views.PathArticles)
}

// skipsSecondStep reports whether a password login in c goes straight in.
func skipsSecondStep(t *testing.T, c *client) bool {
	t.Helper()
	mtLogout(t, c)
	res := c.postForm(views.PathLogin, views.PathLogin, url.Values{"username": {"alice"}, "password": {goodPassword}})
	wantStatus(t, res, http.StatusSeeOther)
	return res.Header.Get("Location") == views.PathArticles
}

// TestTrustedBrowser: "trust this browser" skips the second step in that
// browser only, is listed on the sessions page and stops there; a password
// change, a recovery code used, and 30 days each end it.
func TestTrustedBrowser(t *testing.T) {
	onEngines(t, func(t *testing.T, dbURL string) {
		clock := &testClock{}
		app := newTestAppOn(t, handlers.Config{Now: clock.Now}, dbURL)
		alice := app.createUser("alice", goodPassword)
		c := app.client()
		c.loginAs("alice", goodPassword)
		secret, _ := enableTwoFactor(t, c, clock)
		mtLogout(t, c)

		clock.advance(time.Minute)
		secondStepWith(t, c, clock, secret, true)
		if !skipsSecondStep(t, c) {
			t.Fatal("the trusted browser was asked for the second step")
		}
		if n := app.count("SELECT count(*) FROM security_events WHERE kind = ? AND detail = ?", models.EventLogin, models.NewDetail("trusted_browser").String()); n != 1 {
			t.Errorf("%d logins from a trusted browser logged", n)
		}
		other := app.client()
		if skipsSecondStep(t, other) {
			t.Fatal("another browser skipped the second step")
		}

		// Listed, and stopped from the sessions page.
		page := c.get(views.PathSessions)
		if n := page.doc(t).Find(`[data-testid="trusted-browser"]`).Length(); n != 1 {
			t.Fatalf("%d trusted browsers listed", n)
		}
		id := app.count("SELECT id FROM trusted_browsers WHERE user_id = ?", alice.ID)
		wantRedirect(t, c.postForm(views.PathSessions, views.PathTrustedBrowsers, url.Values{"id": {strconv.Itoa(id)}}), false, views.PathSessions)
		if skipsSecondStep(t, c) {
			t.Fatal("a browser no longer trusted skipped the second step")
		}

		// A password change ends the trust.
		clock.advance(time.Minute)
		c.postForm(views.PathLoginSecondStep, views.PathLoginSecondStep, url.Values{"code": {totpCode(t, secret, clock.Now())}, "trust": {"on"}})
		wantRedirect(t, c.postForm(views.PathPassword, views.PathPassword, url.Values{"old_password": {goodPassword},
			"new_password1": {goodPassword + " 2"}, "new_password2": {goodPassword + " 2"}}), false, views.PathPassword)
		if n := app.count("SELECT count(*) FROM trusted_browsers"); n != 0 {
			t.Errorf("%d trusted browsers left after a password change", n)
		}

		// A recovery code used ends every trust; 30 days end one.
		clock2 := &testClock{}
		app2 := newTestAppOn(t, handlers.Config{Now: clock2.Now}, dbtestURL(t, dbURL))
		app2.createUser("alice", goodPassword)
		d := app2.client()
		d.loginAs("alice", goodPassword)
		secret2, codes2 := enableTwoFactor(t, d, clock2)
		mtLogout(t, d)
		clock2.advance(time.Minute)
		secondStepWith(t, d, clock2, secret2, true)
		e := app2.client()
		passwordStep(t, e, "alice", "")
		wantRedirect(t, e.postForm(views.PathLoginSecondStep, views.PathLoginSecondStep, url.Values{"code": {codes2[0]}}), false, views.PathArticles)
		if skipsSecondStep(t, d) {
			t.Fatal("a recovery code used left the other browser trusted")
		}
		clock2.advance(time.Minute)
		d.postForm(views.PathLoginSecondStep, views.PathLoginSecondStep, url.Values{"code": {totpCode(t, secret2, clock2.Now())}, "trust": {"on"}})
		clock2.advance(models.TrustedBrowserAge)
		if skipsSecondStep(t, d) {
			t.Fatal("a trust older than 30 days skipped the second step")
		}
	})
}

// dbtestURL is a new database of the engine of dbURL.
func dbtestURL(t *testing.T, dbURL string) string {
	if strings.HasPrefix(dbURL, "postgres") {
		return dbtest.Postgres(t)
	}
	return dbtest.SQLite(t)
}

// TestTrustedBrowserEndsWithAFactorChange: a factor added (and removed
// again, which would bring the fingerprint back) ends the trusts at once.
func TestTrustedBrowserEndsWithAFactorChange(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	app := newTestAppWith(t, handlers.Config{Now: clock.Now, BaseURL: "http://localhost"})
	app.createUser("alice", goodPassword)
	auth := newSoftAuthenticator(t, app)
	c := app.client()
	c.loginAs("alice", goodPassword)
	secret, _ := enableTwoFactor(t, c, clock)
	mtLogout(t, c)
	clock.advance(time.Minute)
	secondStepWith(t, c, clock, secret, true)
	if n := app.count("SELECT count(*) FROM trusted_browsers"); n != 1 {
		t.Fatalf("%d trusted browsers", n)
	}
	addPasskey(t, c, auth, "laptop")
	if n := app.count("SELECT count(*) FROM trusted_browsers"); n != 0 {
		t.Errorf("%d trusted browsers after a passkey was added", n)
	}
}
