//go:build browser

package handlers_test

import (
	"strings"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/views"
)

// TestBrowserLoginCode: "Email me a sign-in code" from the login page, a
// wrong code answered in place, the mailed one logging in; light and dark,
// 1280 and 390 px, axe clean.
func TestBrowserLoginCode(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		box := mtFolder(t, b.app.mailDir)
		mtVerifiedUser(t, b.app, "alice", "alice@example.com")
		tb := b.tab(js)
		tb.open(views.PathLogin)
		tb.clickThrough(`[data-testid="login-code-link"]`)
		tb.everyScheme("ask")
		tb.fill("email", "alice@example.com")
		tb.submitValid("login-code-request-form")
		if tb.path() != views.PathLoginCodeEnter {
			t.Fatalf("after asking: %s", tb.path())
		}
		tb.everyScheme("enter")
		code := mailedLoginCode(t, box, "alice@example.com")
		tb.fill("code", "AAAA2222")
		tb.submitInvalid("login-code-form", "#id_code_error")
		tb.everyScheme("wrong-code")
		tb.fill("code", strings.ToLower(code))
		tb.submitValid("login-code-form")
		if tb.path() != views.PathArticles || tb.text(`[data-testid="username"]`) != "alice" {
			t.Fatalf("after the code: %s, greeted %q", tb.path(), tb.text(`[data-testid="username"]`))
		}
	})
}

// TestBrowserTwoFactorEnrolment: under the default policy a staff member
// without a second factor who opens the admin is led to the two-factor
// settings, sets up an authenticator, and is let in.
func TestBrowserTwoFactorEnrolment(t *testing.T) {
	for _, js := range []bool{true, false} {
		t.Run(map[bool]string{true: "js", false: "nojs"}[js], func(t *testing.T) {
			app := newTestAppWith(t, handlers.Config{RequireTwoFactor: models.TwoFactorStaff})
			app.createStaff("root", true)
			b := newBrowserOn(t, app)
			tb := b.tab(js)
			tb.loginAs("root", goodPassword)
			tb.open(views.PathAdmin)
			if tb.path() != views.PathTwoFactor || !strings.Contains(tb.text(`[data-testid="messages"]`), "Set up two-factor authentication to use the admin") {
				t.Fatalf("opening the admin led to %s, saying %q", tb.path(), tb.text(`[data-testid="messages"]`))
			}
			tb.everyScheme("asked-to-enrol")
			tb.open(views.PathTwoFactorSetup)
			secret := strings.ReplaceAll(tb.text(`[data-testid="totp-secret"]`), " ", "")
			tb.fill("code", totpCode(t, secret, time.Now()))
			tb.submitValid("totp-setup-form")
			tb.open(views.PathAdmin)
			if tb.path() != views.PathAdmin {
				t.Fatalf("after enrolling, the admin led to %s", tb.path())
			}
		})
	}
}

// TestBrowserTrustThisBrowser: at the second step a user ticks "Trust
// this browser", is not asked again after logging out and in, sees the
// browser on the sessions page, stops trusting it there, and is asked
// again.
func TestBrowserTrustThisBrowser(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		secret := enableTOTP(t, b.app, "alice")
		tb := b.tab(js)
		passwordStep := func() {
			t.Helper()
			tb.open(views.PathLogin)
			tb.fill("username", "alice")
			tb.fill("password", goodPassword)
			tb.submitValid("login-form")
		}
		passwordStep()
		if tb.path() != views.PathLoginSecondStep {
			t.Fatalf("after the password: %s", tb.path())
		}
		tb.fill("code", totpCode(t, secret, time.Now().Add(30*time.Second)))
		tb.check("trust")
		tb.submitValid("second-step-form")
		if tb.text(`[data-testid="username"]`) != "alice" {
			t.Fatalf("after the second step: %s", tb.path())
		}
		tb.logOut()
		passwordStep()
		if tb.path() != views.PathArticles || tb.text(`[data-testid="username"]`) != "alice" {
			t.Fatalf("a trusted browser was led to %s", tb.path())
		}
		tb.open(views.PathSessions)
		if tb.count(`[data-testid="trusted-browser"]`) != 1 {
			t.Fatalf("%d trusted browsers listed", tb.count(`[data-testid="trusted-browser"]`))
		}
		tb.everyScheme("trusted-browsers")
		tb.submitPage(`[data-testid="trusted-browser"] button`)
		if tb.count(`[data-testid="trusted-browser"]`) != 0 || !strings.Contains(tb.text(`[data-testid="messages"]`), "will ask for your second factor again") {
			t.Fatalf("after stopping: %d listed, %q", tb.count(`[data-testid="trusted-browser"]`), tb.text(`[data-testid="messages"]`))
		}
		tb.logOut()
		passwordStep()
		if tb.path() != views.PathLoginSecondStep {
			t.Fatalf("a browser no longer trusted was led to %s", tb.path())
		}
	})
}
