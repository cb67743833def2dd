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

// policyApp is a test app under the two-factor policy, on a clock the test moves.
func policyApp(t *testing.T, policy models.TwoFactorPolicy) (*testApp, *testClock) {
	return policyAppOn(t, policy, dbtest.SQLite(t))
}

// policyAppOn is policyApp on the database at dbURL.
func policyAppOn(t *testing.T, policy models.TwoFactorPolicy, dbURL string) (*testApp, *testClock) {
	clock := &testClock{}
	return newTestAppOn(t, handlers.Config{RequireTwoFactor: policy, Now: clock.Now, BaseURL: "http://localhost"}, dbURL), clock
}

// onEngines runs test on SQLite and on PostgreSQL, as parallel subtests.
func onEngines(t *testing.T, test func(t *testing.T, dbURL string)) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			test(t, engine.URL(t))
		})
	}
}

// wantEnrolment checks an answer sends the user to set up two-factor.
func wantEnrolment(t *testing.T, res *response, htmx bool) {
	t.Helper()
	wantRedirect(t, res, htmx, views.PathTwoFactor)
}

// TestTwoFactorPolicyStaff, the default: staff without a second factor
// keep the site's pages but not the admin (pages, htmx and posts) until
// they set one up; then they cannot turn their last one off.
func TestTwoFactorPolicyStaff(t *testing.T) {
	onEngines(t, func(t *testing.T, dbURL string) {
		if p, err := models.ParseTwoFactorPolicy(""); p != models.TwoFactorStaff || err != nil {
			t.Fatalf("the default policy: %q, %v", p, err)
		}
		app, clock := policyAppOn(t, models.TwoFactorStaff, dbURL)
		root := app.createStaff("root", true)
		c := app.client()
		c.loginAs("root", goodPassword)

		wantStatus(t, c.get(views.PathArticles), http.StatusOK)
		wantEnrolment(t, c.get(views.PathAdmin), false)
		page := c.get(views.PathTwoFactor)
		wantStatus(t, page, http.StatusOK)
		if got := page.text(t, `[data-testid="messages"]`); !strings.Contains(got, "Set up two-factor authentication to use the admin") {
			t.Errorf("the two-factor page says %q", got)
		}
		hx := app.htmxClient()
		hx.loginAs("root", goodPassword)
		wantEnrolment(t, hx.get("/admin/users/"), true)
		res := c.postForm(views.PathTwoFactor, views.AdminUserPath(root.ID), url.Values{"email": {"x@example.com"}, "first_name": {""}, "last_name": {""}})
		wantEnrolment(t, res, false)
		if app.user("root").Email == "x@example.com" {
			t.Fatal("an admin action went through without a second factor")
		}

		enableTwoFactor(t, c, clock)
		wantStatus(t, c.get(views.PathAdmin), http.StatusOK)

		// The last factor stays while the policy asks for one.
		res = c.postForm(views.PathTwoFactorDisable, views.PathTwoFactorDisable, url.Values{"code": {""}, "password": {goodPassword}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(string(res.body), "its last second factor cannot go") {
			t.Errorf("refusal: %s", res.body)
		}
		if n := app.count("SELECT count(*) FROM two_factor WHERE user_id = ? AND enabled_at IS NOT NULL", root.ID); n != 1 {
			t.Fatal("two-factor was turned off")
		}

		// A user who is not staff is not asked.
		app.createUser("bob", goodPassword)
		b := app.client()
		b.loginAs("bob", goodPassword)
		wantStatus(t, b.get(views.PathProfile), http.StatusOK)
	})
}

// TestTwoFactorPolicyExempt: a superuser excuses a staff member, logged in
// the admin log; the exempt may use the admin with a password alone.
func TestTwoFactorPolicyExempt(t *testing.T) {
	t.Parallel()
	app, clock := policyApp(t, models.TwoFactorStaff)
	app.createStaff("root", true)
	c := app.client()
	c.loginAs("root", goodPassword)
	enableTwoFactor(t, c, clock)
	carol := app.createStaff("carol", false)

	staff := app.client()
	staff.loginAs("carol", goodPassword)
	wantEnrolment(t, staff.get(views.PathAdmin), false)

	page := views.AdminUserPath(carol.ID)
	res := c.postForm(page, page, url.Values{"email": {""}, "first_name": {""}, "last_name": {""},
		"is_active": {"on"}, "is_staff": {"on"}, "two_factor_exempt": {"on"}})
	wantStatus(t, res, http.StatusSeeOther)
	e := wantLogged(t, app, "root", models.ActionChange, models.ObjectUser, carol.ID)
	if got := e.Changes(); len(got) != 1 || got[0].Field != "two_factor_exempt" || got[0].To != "true" {
		t.Errorf("logged changes: %+v", got)
	}
	wantStatus(t, staff.get(views.PathAdmin), http.StatusOK)
}

// TestTwoFactorPolicyAll: everyone without a second factor is held to the
// enrolment pages (and may log out) until they set one up.
func TestTwoFactorPolicyAll(t *testing.T) {
	onEngines(t, func(t *testing.T, dbURL string) {
		app, clock := policyAppOn(t, models.TwoFactorAll, dbURL)
		app.createUser("alice", goodPassword)
		c := app.client()
		c.loginAs("alice", goodPassword)
		for _, path := range []string{views.PathArticles, views.PathProfile, views.PathArticleCreate} {
			wantEnrolment(t, c.get(path), false)
		}
		wantEnrolment(t, c.postForm(views.PathTwoFactor, views.PathArticleCreate, url.Values{"title": {"t"}, "content": {"c"}}), false)
		for _, path := range []string{views.PathTwoFactor, views.PathTwoFactorSetup, views.PathPasskeys} {
			wantStatus(t, c.get(path), http.StatusOK)
		}
		enableTwoFactor(t, c, clock)
		wantStatus(t, c.get(views.PathArticles), http.StatusOK)

		// Logging out stays open to someone not yet enrolled.
		app.createUser("bob", goodPassword)
		b := app.client()
		b.loginAs("bob", goodPassword)
		wantRedirect(t, b.postForm(views.PathTwoFactor, views.PathLogout, nil), false, views.PathArticles)
	})
}

// TestTwoFactorPolicyOff: no one is asked.
func TestTwoFactorPolicyOff(t *testing.T) {
	t.Parallel()
	app, _ := policyApp(t, models.TwoFactorOff)
	app.createStaff("root", true)
	c := app.client()
	c.loginAs("root", goodPassword)
	wantStatus(t, c.get(views.PathAdmin), http.StatusOK)
}

// TestTwoFactorPolicyLastPasskey: a last passkey, with no authenticator
// app, cannot be removed while the policy asks for a second factor.
func TestTwoFactorPolicyLastPasskey(t *testing.T) {
	t.Parallel()
	app, _ := policyApp(t, models.TwoFactorAll)
	alice := app.createUser("alice", goodPassword)
	auth := newSoftAuthenticator(t, app)
	c := app.client()
	c.loginAs("alice", goodPassword)
	addPasskey(t, c, auth, "laptop")
	wantStatus(t, c.get(views.PathArticles), http.StatusOK)
	var id int64
	if err := app.db.NewRaw("SELECT id FROM passkeys WHERE user_id = ?", alice.ID).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	res := c.postForm(views.PathPasskeys, views.PathPasskeyRemove, url.Values{"id": {strconv.FormatInt(id, 10)}})
	wantStatus(t, res, http.StatusConflict)
	if n := app.count("SELECT count(*) FROM passkeys WHERE user_id = ?", alice.ID); n != 1 {
		t.Fatal("the last passkey was removed")
	}
}

// TestTwoFactorPolicyPasskeyIsASecondStep: where the policy counts a
// passkey as the second factor, a password alone does not log its owner in:
// the second step follows, as with TOTP.
func TestTwoFactorPolicyPasskeyIsASecondStep(t *testing.T) {
	t.Parallel()
	app, _ := policyApp(t, models.TwoFactorAll)
	app.createUser("alice", goodPassword)
	auth := newSoftAuthenticator(t, app)
	c := app.client()
	c.loginAs("alice", goodPassword)
	addPasskey(t, c, auth, "laptop")
	mtLogout(t, c)
	res := c.postForm(views.PathLogin, views.PathLogin, url.Values{"username": {"alice"}, "password": {goodPassword}})
	wantRedirect(t, res, false, views.PathLoginSecondStep)
	if got := c.loggedInAs(); got != "" {
		t.Fatalf("a password alone logged in %q", got)
	}
}

// TestEnrolmentLeadsBack: a staff member held back from the admin sets up
// an authenticator app, and the recovery codes' page leads on to the
// admin page they were going to, once.
func TestEnrolmentLeadsBack(t *testing.T) {
	t.Parallel()
	app, clock := policyApp(t, models.TwoFactorStaff)
	app.createStaff("root", true)
	c := app.client()
	c.loginAs("root", goodPassword)
	wantEnrolment(t, c.get("/admin/users/?q=a"), false)
	// An icon the browser fetches on its own is held back too, but is not
	// where the enrolment leads.
	icon, err := http.NewRequest(http.MethodGet, app.url+"/admin/favicon.ico", nil)
	if err != nil {
		t.Fatal(err)
	}
	icon.Header.Set("Sec-Fetch-Dest", "image")
	wantEnrolment(t, c.do(icon), false)

	page := c.get(views.PathTwoFactorSetup)
	secret := strings.ReplaceAll(page.text(t, `[data-testid="totp-secret"]`), " ", "")
	res := c.submit(page, views.PathTwoFactorSetup, url.Values{"code": {totpCode(t, secret, clock.Now().Add(-30*time.Second))}})
	wantRedirect(t, res, false, views.PathRecoveryCodes)
	codes := c.get(views.PathRecoveryCodes)
	if got, _ := codes.doc(t).Find(`[data-testid="codes-saved"]`).Attr("href"); got != "/admin/users/?q=a" {
		t.Errorf("after enrolling, the codes' page leads to %q", got)
	}
	wantStatus(t, c.get("/admin/users/?q=a"), http.StatusOK)

	// New codes later lead back to the two-factor page.
	res = c.postForm(views.PathTwoFactor, views.PathRecoveryCodes, nil)
	wantRedirect(t, res, false, views.PathRecoveryCodes)
	if got, _ := c.get(views.PathRecoveryCodes).doc(t).Find(`[data-testid="codes-saved"]`).Attr("href"); got != views.PathTwoFactor {
		t.Errorf("new codes lead to %q", got)
	}
}
