//go:build browser

package handlers_test

import (
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"gatehouse/views"
	"gatehouse/views/i18ntest"
)

// koreanTab is a tab whose browser asks for Korean first
// (Accept-Language: ko-KR), as a Korean user's does out of the box.
func (b *browser) koreanTab(js bool) *tab {
	b.t.Helper()
	tb := b.tab(js)
	if _, err := chromedp.Call(tb.ctx, network.Enable, network.EnableParams{}); err != nil {
		b.t.Fatal(err)
	}
	if _, err := chromedp.Call(tb.ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}}); err != nil {
		b.t.Fatal(err)
	}
	return tb
}

// inKorean checks the page as the browser has it, scripts run (relative
// times, live messages): marked Korean, and no English left in what a
// person reads but brand names and the test's own data (allowed).
func (tb *tab) inKorean(state string, allowed ...string) {
	tb.t.Helper()
	if lang := run(tb, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "ko" {
		tb.t.Errorf("%s (js=%v): <html lang=%q>", state, tb.js, lang)
	}
	page := run(tb, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	allowed = append(allowed, views.SiteName, "Gatehouse")
	if left := i18ntest.EnglishLeft(page, allowed...); len(left) > 0 {
		tb.t.Errorf("%s (js=%v): English left in the Korean page: %q", state, tb.js, left)
	}
}

// TestBrowserKorean walks what a Korean newcomer sees, their browser asking
// for Korean: signup (with its errors, and a Korean username), the login's
// errors, the settings, the two-factor setup, and the admin; each page in
// Korean, in the light and the dark scheme, at 1280 and 390 px (Korean
// words are longer in places: nothing may stick out), axe clean.
func TestBrowserKorean(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createStaff("root", true)
		tb := b.koreanTab(js)

		tb.open(views.PathSignup)
		tb.inKorean("signup")
		if got := run(tb, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("main p, main label")).wordBreak`)); got != "keep-all" {
			t.Errorf("Korean text breaks with word-break %q, inside words", got)
		}
		tb.fill("username", "bad name!")
		tb.fill("password1", "1234")
		tb.fill("password2", "12345")
		tb.submitInvalid("signup-form", "#id_username_error")
		tb.inKorean("signup-errors")
		tb.everyScheme("signup-errors")

		tb.fill("username", "정우")
		tb.fill("password1", goodPassword)
		tb.fill("password2", goodPassword)
		tb.submitValid("signup-form")
		if got := tb.text(`[data-testid="username"]`); got != "정우" {
			t.Fatalf("after signing up as 정우 the header greets %q", got)
		}
		tb.inKorean("welcome", "정우")
		tb.everyScheme("welcome")

		tb.open(views.PathProfile)
		tb.inKorean("profile", "정우")
		tb.everyScheme("profile")
		tb.open(views.PathTwoFactor)
		tb.clickThrough(`[data-testid="setup-two-factor"]`)
		secret := tb.text(`[data-testid="totp-secret"]`)
		tb.fill("code", "000000")
		tb.submitInvalid("totp-setup-form", "#id_code_error")
		tb.inKorean("two-factor-setup", "정우", secret, "Aegis", "Google Authenticator", "1Password", "Bitwarden")
		tb.everyScheme("two-factor-setup")

		tb.submitPage(`form[action="/accounts/logout/"] button`)
		tb.open(views.PathLogin)
		tb.fill("username", "정우")
		tb.fill("password", "not the password")
		tb.submitInvalid("login-form", ".form-errors")
		tb.inKorean("login-errors", "정우")
		tb.everyScheme("login-errors")

		admin := b.koreanTab(js)
		admin.loginAs("root", goodPassword)
		admin.open(views.PathAdmin + "users/")
		admin.inKorean("admin-users", "root", "정우")
		admin.everyScheme("admin-users")
	})
}
