//go:build browser

package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/models/twofactor"
)

// logOut presses the header's Log out button.
func (tb *tab) logOut() {
	tb.t.Helper()
	tb.submitPage(`form[action="/accounts/logout/"] button`)
	if tb.count(`[data-testid="username"]`) != 0 {
		tb.t.Fatal("still greeted after logging out")
	}
}

// waitShown waits until the CSS selector finds a visible element, by DOM
// queries that survive the page's own navigations (a form its script
// submits), which a script polling in the page does not.
func (tb *tab) waitShown(selector string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		tb.t.Fatalf("%s did not appear: %v", selector, err)
	}
}

// TestBrowserTwoFactorTOTP sets up an authenticator as a user would, with
// the key shown in text, logs out, logs in with a code, and turns it off;
// each page is looked at (1280 and 390 px, axe).
func TestBrowserTwoFactorTOTP(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		tb.open("/accounts/2fa/")
		if got := tb.text(`[data-testid="two-factor-status"]`); !strings.HasPrefix(got, "Off") {
			t.Fatalf("status before setup: %q", got)
		}
		tb.everyScheme("off")
		if status := tb.clickThrough(`[data-testid="setup-two-factor"]`); status != 200 {
			t.Fatalf("setup page: %d", status)
		}
		if got := run(tb, chromedp.Evaluate[bool](`(() => { const i = document.querySelector('[data-testid="totp-qr"]'); return i.complete && i.naturalWidth > 100; })()`)); !got {
			t.Fatal("the QR code image did not load")
		}
		tb.everyScheme("setup")
		secret := strings.ReplaceAll(tb.text(`[data-testid="totp-secret"]`), " ", "")
		tb.fill("code", "12345")
		tb.submitInvalid("totp-setup-form", "#id_code_error")
		tb.everyScheme("setup-wrong-code")
		// The server checks on the real clock, a moment after the code is
		// computed: the setup takes the current step's code (accepted at
		// this step and the next), the login below the next step's.
		tb.fill("code", totpCode(t, secret, time.Now()))
		tb.submitValid("totp-setup-form")
		if tb.path() != "/accounts/2fa/recovery-codes/" || tb.count(`[data-testid="recovery-codes"] code`) != 10 {
			t.Fatalf("after setup: %s with %d codes", tb.path(), tb.count(`[data-testid="recovery-codes"] code`))
		}
		tb.everyScheme("recovery-codes")
		tb.clickThrough(`[data-testid="codes-saved"]`)
		if got := tb.text(`[data-testid="recovery-codes-left"]`); got != "10 of 10" {
			t.Fatalf("codes left: %q", got)
		}
		tb.everyScheme("on")

		tb.logOut()
		tb.open("/accounts/login/?next=/accounts/sessions/")
		tb.fill("username", "alice")
		tb.fill("password", goodPassword)
		tb.submitValid("login-form")
		if tb.path() != "/accounts/login/2fa/" || tb.count(`[data-testid="username"]`) != 0 {
			t.Fatalf("after the password: %s, greeted %d", tb.path(), tb.count(`[data-testid="username"]`))
		}
		tb.everyScheme("second-step")
		tb.fill("code", "000000")
		if totpCode(t, secret, time.Now().Add(30*time.Second)) == "000000" {
			tb.fill("code", "111111")
		}
		tb.submitInvalid("second-step-form", "#id_code_error")
		tb.everyScheme("second-step-wrong-code")
		tb.fill("code", totpCode(t, secret, time.Now().Add(30*time.Second)))
		tb.submitValid("second-step-form")
		if tb.path() != "/accounts/sessions/" || tb.text(`[data-testid="username"]`) != "alice" {
			t.Fatalf("after the second step: %s, greeted %q", tb.path(), tb.text(`[data-testid="username"]`))
		}

		tb.open("/accounts/confirm/?next=/accounts/2fa/disable/")
		tb.everyScheme("confirm")
		tb.fill("password", goodPassword)
		tb.submitValid("confirm-form")
		if tb.path() != "/accounts/2fa/disable/" {
			t.Fatalf("after confirming: %s", tb.path())
		}
		tb.everyScheme("disable")
		tb.submitInvalid("two-factor-disable-form", "#id_code_error")
		tb.fill("password", goodPassword)
		tb.submitValid("two-factor-disable-form")
		if got := tb.text(`[data-testid="two-factor-status"]`); !strings.HasPrefix(got, "Off") {
			t.Fatalf("status after turning off: %q", got)
		}
	})
}

// enableTOTP turns two-factor on for username straight through the model,
// as if they had set it up.
func enableTOTP(t *testing.T, app *testApp, username string) string {
	t.Helper()
	ctx := context.Background()
	secret, err := models.SecretKey(ctx, app.db)
	if err != nil {
		t.Fatal(err)
	}
	store, err := twofactor.New(secret, "Gatehouse", password.NewHasher(testParams))
	if err != nil {
		t.Fatal(err)
	}
	u := app.user(username)
	now := time.Now()
	setup, err := store.NewSetup(u.ID, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := store.Enable(ctx, app.db, u.ID, setup.Sealed, totpCode(t, setup.Secret, now.Add(-30*time.Second)), now); !ok || err != nil {
		t.Fatalf("enable two-factor: %v %v", ok, err)
	}
	return setup.Secret
}

// newPasskeyBrowser is a browser driving an app reached as localhost.
func newPasskeyBrowser(t *testing.T) *browser {
	return newBrowserOn(t, newTestAppWith(t, handlers.Config{BaseURL: "http://localhost"}))
}

// authenticator gives the tab a virtual platform authenticator (DevTools'
// WebAuthn domain) that holds passkeys, verifies its user and needs no touch.
func (tb *tab) authenticator() webauthn.AuthenticatorID {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		tb.t.Fatal(err)
	}
	res, err := chromedp.Call(tb.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		tb.t.Fatal(err)
	}
	return res.AuthenticatorID
}

// TestBrowserPasskeys drives the whole passkey ceremony in Chromium with a
// virtual authenticator: add a passkey, log out, log in with it alone,
// remove it.
func TestBrowserPasskeys(t *testing.T) {
	b := newPasskeyBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	id := tb.authenticator()
	tb.loginAs("alice", goodPassword)
	tb.open("/accounts/passkeys/")
	tb.waitShown(`[data-testid="passkey-add-form"]`)
	if tb.count(`[data-testid="passkey-needs-js"]:not([hidden])`) != 0 {
		t.Fatal("the note that passkeys need JavaScript shows with JavaScript on")
	}
	tb.everyScheme("none")
	tb.fill("name", "Test key")
	tb.clickThrough(`[data-testid="passkey-add-form"] button[type=submit]`)
	tb.waitShown(`[data-testid="passkey-name"]`)
	if got := tb.text(`[data-testid="passkey-name"]`); got != "Test key" {
		t.Fatalf("passkey listed as %q", got)
	}
	creds, err := chromedp.Call(tb.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %+v (%v), want one discoverable credential", creds, err)
	}
	tb.everyScheme("one")

	tb.logOut()
	tb.open("/accounts/login/?next=/accounts/passkeys/")
	tb.waitShown(`[data-testid="passkey-login-form"]`)
	tb.everyScheme("login")
	tb.clickThrough(`[data-testid="passkey-login-form"] button[type=submit]`)
	tb.waitShown(`[data-testid="username"]`)
	if got, path := tb.text(`[data-testid="username"]`), tb.path(); got != "alice" || path != "/accounts/passkeys/" {
		t.Fatalf("after a passkey login: greeted %q at %s", got, path)
	}
	if !strings.Contains(tb.text(`[data-testid="passkey"] .meta`), "last used") {
		t.Fatalf("the passkey's line after use: %q", tb.text(`[data-testid="passkey"] .meta`))
	}

	// Sudo mode: the passkey stands in for the password.
	tb.open("/accounts/confirm/?next=/accounts/passkeys/")
	tb.waitShown(`[data-testid="passkey-confirm-form"]`)
	tb.everyScheme("confirm")
	tb.clickThrough(`[data-testid="passkey-confirm-form"] button[type=submit]`)
	tb.waitShown(`[data-testid="passkey-add-form"]`)
	if tb.path() != "/accounts/passkeys/" {
		t.Fatalf("after confirming with a passkey: %s", tb.path())
	}

	// With two-factor on, the passkey also stands in for the code.
	enableTOTP(t, b.app, "alice")
	tb.logOut()
	tb.open("/accounts/login/?next=/accounts/passkeys/")
	tb.fill("username", "alice")
	tb.fill("password", goodPassword)
	tb.submitValid("login-form")
	tb.waitShown(`[data-testid="passkey-second-step-form"]`)
	if tb.path() != "/accounts/login/2fa/" {
		t.Fatalf("after the password: %s", tb.path())
	}
	tb.everyScheme("second-step")
	tb.clickThrough(`[data-testid="passkey-second-step-form"] button[type=submit]`)
	tb.waitShown(`[data-testid="username"]`)
	if got, path := tb.text(`[data-testid="username"]`), tb.path(); got != "alice" || path != "/accounts/passkeys/" {
		t.Fatalf("after a passkey second step: greeted %q at %s", got, path)
	}

	tb.ready(`[data-testid="remove-passkey"]`)
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="remove-passkey"]`)))
	tb.waitFor(`[data-testid="no-passkeys"]`)
	tb.everyScheme("removed")

	// Removed on the site, the passkey the authenticator still holds logs no one in.
	tb.logOut()
	tb.open("/accounts/login/")
	tb.waitShown(`[data-testid="passkey-login-form"]`)
	if status := tb.clickThrough(`[data-testid="passkey-login-form"] button[type=submit]`); status != 422 {
		t.Fatalf("a removed passkey's login answered %d, want 422", status)
	}
	if tb.count(`[data-testid="username"]`) != 0 {
		t.Fatal("a removed passkey logged in")
	}
}

// TestBrowserPasskeysWithoutJavaScript checks that, without JavaScript,
// the passkey forms stay hidden and the pages say passkeys need it.
func TestBrowserPasskeysWithoutJavaScript(t *testing.T) {
	b := newPasskeyBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(false)
	tb.open("/accounts/login/")
	if tb.count(`[data-testid="passkey-login-form"]:not([hidden])`) != 0 || !strings.Contains(tb.text(`[data-testid="passkey-needs-js"]`), "needs JavaScript") {
		t.Fatal("without JavaScript the login page offers a passkey, or does not say it needs JavaScript")
	}
	tb.everyScheme("login")
	tb.loginAs("alice", goodPassword)
	tb.open("/accounts/passkeys/")
	if tb.count(`[data-testid="passkey-add-form"]:not([hidden])`) != 0 || !strings.Contains(tb.text(`[data-testid="passkey-needs-js"]`), "needs JavaScript") {
		t.Fatal("without JavaScript the passkeys page offers to add one, or does not say it needs JavaScript")
	}
	tb.everyScheme("passkeys")
}
