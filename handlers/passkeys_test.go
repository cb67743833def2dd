package handlers_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/views"
)

// newPasskeyApp is a test app reached as localhost: browsers allow
// passkeys under a domain name only.
func newPasskeyApp(t *testing.T) (*testApp, *testClock) {
	clock := &testClock{}
	cfg := handlers.Config{BaseURL: "http://localhost", Now: clock.Now}
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return newTestAppWith(t, cfg), clock
}

// addPasskey registers a passkey named name for the logged-in client, as
// the settings page's script does.
func addPasskey(t *testing.T, c *client, auth *softAuthenticator, name string) *softCredential {
	t.Helper()
	options := c.postForm("/accounts/passkeys/", "/accounts/passkeys/begin/", nil)
	wantStatus(t, options, http.StatusOK)
	if !strings.HasPrefix(options.Header.Get("Content-Type"), "application/json") || options.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("begin answered %q, Cache-Control %q", options.Header.Get("Content-Type"), options.Header.Get("Cache-Control"))
	}
	credential, cred := auth.create(options.body)
	res := c.postForm("/accounts/passkeys/", "/accounts/passkeys/", url.Values{"name": {name}, "credential": {credential}})
	wantRedirect(t, res, false, "/accounts/passkeys/")
	return cred
}

// passkeyLogin logs in with cred from the login page, as its script does,
// and returns the answer.
func passkeyLogin(t *testing.T, c *client, auth *softAuthenticator, cred *softCredential, next string) *response {
	t.Helper()
	options := c.postForm("/accounts/login/", "/accounts/login/passkey/begin/", nil)
	wantStatus(t, options, http.StatusOK)
	return c.postForm("/accounts/login/", "/accounts/login/passkey/", url.Values{"credential": {auth.get(options.body, cred)}, "next": {next}})
}

func TestPasskeyRegisterLogInRemove(t *testing.T) {
	t.Parallel()
	app, _ := newPasskeyApp(t)
	app.createUser("alice", goodPassword)
	auth := newSoftAuthenticator(t, app)
	c := app.client()
	c.loginAs("alice", goodPassword)

	page := c.get("/accounts/passkeys/")
	wantStatus(t, page, http.StatusOK)
	if page.doc(t).Find(`form[data-testid="passkey-add-form"][hidden]`).Length() != 1 || page.text(t, `[data-testid="passkey-needs-js"]`) == "" {
		t.Fatal("the add form is not hidden until its script runs, or no note says passkeys need JavaScript")
	}
	cred := addPasskey(t, c, auth, "  My   laptop ")
	page = c.get("/accounts/passkeys/")
	if got := page.text(t, `[data-testid="passkey-name"]`); got != "My laptop" {
		t.Fatalf("passkey listed as %q", got)
	}
	if !strings.Contains(page.text(t, `[data-testid="passkey"] .meta`), "never used") {
		t.Fatalf("a new passkey's line: %q", page.text(t, `[data-testid="passkey"] .meta`))
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = ? AND detail = ?", models.EventPasskeyAdded, models.NewDetail("named", "Name", "My laptop").String()); n != 1 {
		t.Fatalf("%d passkey additions logged", n)
	}

	c.postForm("/articles/", "/accounts/logout/", nil)
	if app.client().get("/accounts/login/").doc(t).Find(`form[data-testid="passkey-login-form"]`).Length() != 1 {
		t.Fatal("no passkey login on the login page")
	}
	res := passkeyLogin(t, c, auth, cred, "/articles/create/")
	wantRedirect(t, res, false, "/articles/create/")
	if got := c.loggedInAs(); got != "alice" {
		t.Fatalf("after a passkey login: %q", got)
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = ? AND detail = ?", models.EventLogin, models.NewDetail("login_passkey").String()); n != 1 {
		t.Fatalf("%d passkey logins logged", n)
	}
	if !strings.Contains(c.get("/accounts/passkeys/").text(t, `[data-testid="passkey"] .meta`), "last used") {
		t.Fatal("the passkey's last use is not shown")
	}
	// A passkey login is a recent authentication: settings may change.
	wantStatus(t, c.get("/accounts/2fa/setup/"), http.StatusOK)

	// Removed, it logs no one in.
	var id string
	c.get("/accounts/passkeys/").doc(t).Find(`[data-testid="passkey"] input[name="id"]`).Each(func(_ int, s *goquery.Selection) { id, _ = s.Attr("value") })
	h := app.htmxClient()
	*h.http = *c.http
	res = h.postForm("/accounts/passkeys/", "/accounts/passkeys/remove/", url.Values{"id": {id}})
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(res.body, "<html") || !strings.Contains(res.body, "You have no passkeys yet.") || !strings.Contains(res.body, "removed") {
		t.Fatalf("htmx removal answer:\n%s", res.body)
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = ? AND detail = ?", models.EventPasskeyRemoved, models.NewDetail("named", "Name", "My laptop").String()); n != 1 {
		t.Fatalf("%d passkey removals logged", n)
	}
	c.postForm("/articles/", "/accounts/logout/", nil)
	res = passkeyLogin(t, c, auth, cred, "")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if c.loggedInAs() != "" {
		t.Fatal("a removed passkey logged in")
	}
}

func TestPasskeyRefusals(t *testing.T) {
	t.Parallel()
	app, clock := newPasskeyApp(t)
	app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	auth := newSoftAuthenticator(t, app)
	alice := app.client()
	alice.loginAs("alice", goodPassword)
	aliceKey := addPasskey(t, alice, auth, "Alice's key")
	enableTwoFactor(t, alice, clock)
	bob := app.client()
	bob.loginAs("bob", goodPassword)
	bobKey := addPasskey(t, bob, auth, "Bob's key")

	t.Run("a challenge answered twice", func(t *testing.T) {
		c := app.client()
		options := c.postForm("/accounts/login/", "/accounts/login/passkey/begin/", nil)
		answer := auth.get(options.body, bobKey)
		res := c.postForm("/accounts/login/", "/accounts/login/passkey/", url.Values{"credential": {answer}})
		wantRedirect(t, res, false, "/articles/")
		other := app.client()
		other.postForm("/accounts/login/", "/accounts/login/passkey/begin/", nil)
		res = other.postForm("/accounts/login/", "/accounts/login/passkey/", url.Values{"credential": {answer}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if other.loggedInAs() != "" {
			t.Fatal("a replayed assertion logged in")
		}
	})
	t.Run("bob's passkey naming alice", func(t *testing.T) {
		c := app.client()
		forged := *bobKey
		forged.userHandle = aliceKey.userHandle
		res := passkeyLogin(t, c, auth, &forged, "")
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if c.loggedInAs() != "" {
			t.Fatal("bob's passkey logged in as alice")
		}
	})
	t.Run("a passkey as the second factor", func(t *testing.T) {
		c := app.client()
		passwordStep(t, c, "alice", "?next=/accounts/update/")
		step := c.get("/accounts/login/2fa/")
		if step.doc(t).Find(`form[data-testid="passkey-second-step-form"]`).Length() != 1 {
			t.Fatal("no passkey offered on the second step")
		}
		// Bob's passkey is no second factor for alice.
		options := c.postForm("/accounts/login/2fa/", "/accounts/login/2fa/passkey/begin/", nil)
		wantStatus(t, options, http.StatusOK)
		res := c.postForm("/accounts/login/2fa/", "/accounts/login/2fa/passkey/", url.Values{"credential": {auth.get(options.body, bobKey)}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if c.loggedInAs() != "" {
			t.Fatal("bob's passkey passed alice's second step")
		}
		options = c.postForm("/accounts/login/2fa/", "/accounts/login/2fa/passkey/begin/", nil)
		res = c.postForm("/accounts/login/2fa/", "/accounts/login/2fa/passkey/", url.Values{"credential": {auth.get(options.body, aliceKey)}})
		wantRedirect(t, res, false, "/accounts/update/")
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("after a passkey second step: %q", got)
		}
	})
	t.Run("no second step, no passkey for it", func(t *testing.T) {
		c := app.client()
		res := c.postForm("/accounts/login/", "/accounts/login/2fa/passkey/begin/", nil)
		wantStatus(t, res, http.StatusForbidden)
	})
	t.Run("adding needs a recent password", func(t *testing.T) {
		clock.advance(11 * time.Minute)
		res := bob.postForm("/accounts/passkeys/", "/accounts/passkeys/begin/", nil)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/accounts/confirm/") {
			t.Fatalf("begin outside sudo mode: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		page := bob.get("/accounts/passkeys/")
		if page.doc(t).Find(`[data-testid="confirm-to-add"]`).Length() != 1 {
			t.Fatal("the passkeys page does not ask to confirm before adding")
		}
	})
	t.Run("confirming with a passkey", func(t *testing.T) {
		confirm := "/accounts/confirm/?next=%2Faccounts%2Fpasskeys%2F"
		if bob.get(confirm).doc(t).Find(`form[data-testid="passkey-confirm-form"]`).Length() != 1 {
			t.Fatal("the confirmation page offers no passkey")
		}
		// Alice's passkey does not confirm bob.
		options := bob.postForm(confirm, "/accounts/confirm/passkey/begin/", nil)
		wantStatus(t, options, http.StatusOK)
		res := bob.postForm(confirm, "/accounts/confirm/passkey/", url.Values{"credential": {auth.get(options.body, aliceKey)}, "next": {"/accounts/passkeys/"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		res = bob.postForm("/accounts/passkeys/", "/accounts/passkeys/begin/", nil)
		wantStatus(t, res, http.StatusSeeOther)
		options = bob.postForm(confirm, "/accounts/confirm/passkey/begin/", nil)
		res = bob.postForm(confirm, "/accounts/confirm/passkey/", url.Values{"credential": {auth.get(options.body, bobKey)}, "next": {"/accounts/passkeys/"}})
		wantRedirect(t, res, false, "/accounts/passkeys/")
		wantStatus(t, bob.postForm("/accounts/passkeys/", "/accounts/passkeys/begin/", nil), http.StatusOK)
	})
}

func TestPasskeysOffOnAnIPAddress(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	if c.get("/accounts/login/").doc(t).Find(`[data-testid="passkey-login"]`).Length() != 0 {
		t.Fatal("the login page offers passkeys on an IP address")
	}
	res := c.postForm("/accounts/login/", "/accounts/login/passkey/begin/", nil)
	wantStatus(t, res, http.StatusNotFound)
	c.loginAs("alice", goodPassword)
	if !strings.Contains(c.get("/accounts/passkeys/").body, "Passkeys are off on this site") {
		t.Fatal("the passkeys page does not say they are off")
	}
}

// Every change of the login factors is mailed to the owner: a passkey
// added or removed, two-factor turned on or off, new recovery codes
// (ASVS 6.3.7, issue 18.2).
func TestLoginFactorChangesMailed(t *testing.T) {
	t.Parallel()
	app, clock := newPasskeyApp(t)
	const email = "alice@example.com"
	mtVerifiedUser(t, app, "alice", email)
	auth := newSoftAuthenticator(t, app)
	c := app.client()
	c.loginAs("alice", mtPassword)
	wantNotice := func(subject, want string) {
		t.Helper()
		var found []string
		if err := app.db.NewRaw("SELECT text_body FROM mail_outbox WHERE recipient = ? AND subject = ?", email, subject).Scan(context.Background(), &found); err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || !strings.Contains(found[0], want) {
			t.Errorf("notices %q: %q, want one saying %q", subject, found, want)
		}
	}
	addPasskey(t, c, auth, "Phone")
	wantNotice("A passkey was added to your Gatehouse account", "A passkey named “Phone” was added")
	enableTwoFactor(t, c, clock)
	wantNotice("Two-factor authentication was turned on on your Gatehouse account", "logging in now takes a code")
	wantRedirect(t, c.postForm("/accounts/2fa/", "/accounts/2fa/recovery-codes/", nil), false, "/accounts/2fa/recovery-codes/")
	wantNotice("New recovery codes for your Gatehouse account", "the old ones no longer work")
	wantRedirect(t, c.postForm("/accounts/2fa/disable/", "/accounts/2fa/disable/", url.Values{"code": {""}, "password": {mtPassword}}), false, "/accounts/2fa/")
	wantNotice("Two-factor authentication was turned off on your Gatehouse account", "a password alone logs in now")
	id, _ := c.get("/accounts/passkeys/").doc(t).Find(`[data-testid="passkey"] input[name="id"]`).Attr("value")
	wantRedirect(t, c.postForm("/accounts/passkeys/", "/accounts/passkeys/remove/", url.Values{"id": {id}}), false, "/accounts/passkeys/")
	wantNotice("A passkey was removed from your Gatehouse account", "The passkey named “Phone” was removed")
}

// A passkey logs in without the password, so a reset alone would leave an
// intruder's passkey working: the reset mail and page name the passkeys,
// and the page removes them unless the user unticks it (issue 18.2).
func TestPasswordResetOffersToRemovePasskeys(t *testing.T) {
	t.Parallel()
	app, _ := newPasskeyApp(t)
	box := mtFolder(t, app.mailDir)
	const email = "alice@example.com"
	mtVerifiedUser(t, app, "alice", email)
	auth := newSoftAuthenticator(t, app)
	intruder := app.client()
	intruder.loginAs("alice", mtPassword)
	cred := addPasskey(t, intruder, auth, "Intruder key")
	mtLogout(t, intruder)

	reset := func(remove bool, password string) {
		t.Helper()
		r := app.client()
		wantRedirect(t, mtAskReset(r, email), false, "/accounts/password_reset/done/")
		m := box.next(email, mtSubjectReset)
		if !strings.Contains(m.text, "Intruder key") || !strings.Contains(m.text, "offers to remove them") {
			t.Errorf("the reset mail does not name the passkey:\n%s", m.text)
		}
		link, uid, _ := mtResetLink(t, app, m)
		wantStatus(t, mtGetPlain(r, link), http.StatusFound)
		setPath := "/accounts/reset/" + uid + "/set-password/"
		page := mtGetPlain(r, setPath)
		if got := page.text(t, `[data-testid="reset-passkeys"] li`); got != "Intruder key" {
			t.Errorf("the set-password page lists %q, want the passkey", got)
		}
		if _, ticked := page.doc(t).Find(`input[name="remove_passkeys"]`).Attr("checked"); !ticked {
			t.Error("removing the passkeys is not ticked")
		}
		values := url.Values{"new_password1": {password}, "new_password2": {password}}
		if remove {
			values.Set("remove_passkeys", "on")
		}
		wantRedirect(t, r.submit(page, setPath, values), false, "/accounts/reset/done/")
	}
	// Unticked, the passkey stays.
	reset(false, mtNewPassword)
	if status := passkeyLogin(t, app.client(), auth, cred, "").StatusCode; status != http.StatusSeeOther {
		t.Fatalf("a kept passkey's login: status %d", status)
	}
	// Ticked, it goes, and the notice says so.
	reset(true, mtNewPassword+"2")
	if n := app.count("SELECT count(*) FROM passkeys"); n != 0 {
		t.Fatalf("%d passkeys left after the reset", n)
	}
	if status := passkeyLogin(t, app.client(), auth, cred, "").StatusCode; status != http.StatusUnprocessableEntity {
		t.Errorf("a removed passkey's login: status %d, want 422", status)
	}
	var notices []string
	if err := app.db.NewRaw("SELECT text_body FROM mail_outbox WHERE subject = ? ORDER BY id", mtSubjectWasReset).Scan(context.Background(), &notices); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 2 || strings.Contains(notices[0], "Intruder key") || !strings.Contains(notices[1], "its passkeys were removed: “\u2068Intruder key\u2069”") {
		t.Errorf("reset notices:\n%q", notices)
	}
	if n := app.count("SELECT count(*) FROM security_events WHERE kind = ? AND detail = ?", models.EventPasskeyRemoved, models.NewDetail("named", "Name", "Intruder key").String()); n != 1 {
		t.Errorf("%d passkey removals logged, want 1", n)
	}
}

// TestPasskeyOnlySecondStep: under a policy that asks everyone for a second
// factor, a user whose only one is a passkey is offered the passkey at the
// second step and not asked for a code they cannot have (no app, no
// recovery codes); a code posted anyway is refused.
func TestPasskeyOnlySecondStep(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	app := newTestAppWith(t, handlers.Config{BaseURL: "http://localhost", Now: clock.Now, RequireTwoFactor: models.TwoFactorAll})
	app.createUser("carol", goodPassword)
	auth := newSoftAuthenticator(t, app)
	c := app.client()
	c.loginAs("carol", goodPassword)
	key := addPasskey(t, c, auth, "Carol's key")
	mtLogout(t, c)

	passwordStep(t, c, "carol", "")
	step := c.get(views.PathLoginSecondStep)
	doc := step.doc(t)
	if doc.Find(`form[data-testid="passkey-second-step-form"]`).Length() != 1 {
		t.Fatal("no passkey offered at the second step")
	}
	for _, selector := range []string{`form[data-testid="second-step-form"]`, `[data-testid="use-recovery-code"]`, `input[name="code"]`} {
		if doc.Find(selector).Length() != 0 {
			t.Errorf("a passkey-only user is shown %s", selector)
		}
	}
	if got := doc.Find(`[data-testid="second-step"] > p`).First().Text(); got != "Confirm it's you with your passkey." {
		t.Errorf("the second step says %q", got)
	}
	res := c.postForm(views.PathLoginSecondStep, views.PathLoginSecondStep, url.Values{"code": {"123456"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.text(t, ".form-errors"); got != "This account has no authenticator app: use your passkey." {
		t.Errorf("a code posted anyway: %q", got)
	}
	options := c.postForm(views.PathLoginSecondStep, views.PathSecondStepPasskeyBegin, nil)
	res = c.postForm(views.PathLoginSecondStep, views.PathSecondStepPasskey, url.Values{"credential": {auth.get(options.body, key)}})
	wantRedirect(t, res, false, "/articles/")
	if got := c.loggedInAs(); got != "carol" {
		t.Fatalf("after the passkey: %q", got)
	}
}
