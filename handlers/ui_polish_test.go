package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestUIArticleTitleShowsItsLimit(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	page := c.get("/articles/create/")
	if got := page.text(t, `#id_title_help [data-testid="counter"]`); got != "0/100" {
		t.Errorf("the title's counter reads %q, want 0/100", got)
	}
	if got := page.text(t, "#id_title_help"); !strings.Contains(got, "Up to 100 characters.") {
		t.Errorf("the title's help reads %q", got)
	}
	res := c.postForm("/articles/create/", "/articles/create/", url.Values{"title": {strings.Repeat("t", 150)}, "content": {"x"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.text(t, "#id_title_error"); !strings.Contains(got, "at most 100 characters (it has 150)") {
		t.Errorf("a title past the limit is refused with %q", got)
	}
}

func TestUILoginOffersThePasskeyAsTheOtherWay(t *testing.T) {
	t.Parallel()
	app, _ := newPasskeyApp(t)
	doc := app.client().get("/accounts/login/").doc(t)
	if n := doc.Find(`[data-testid="passkey-login-form"] button.secondary[type=submit]`).Length(); n != 1 {
		t.Errorf("%d secondary passkey buttons, want 1", n)
	}
	if n := doc.Find(`[data-testid="login-form"] button.secondary[type=submit]`).Length(); n != 0 {
		t.Error("the password form's button is the secondary one")
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="passkey-login"] .or`).Text()); got != "or" {
		t.Errorf("between the two ways: %q, want or", got)
	}
}

func TestUITwoFactorOnAPhone(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	setup := c.get("/accounts/2fa/setup/").doc(t)
	if href, _ := setup.Find(`a[data-testid="totp-open"]`).Attr("href"); !strings.HasPrefix(href, "otpauth://totp/") {
		t.Errorf("the open-in-app link goes to %q", href)
	}
	if n := setup.Find(`button[data-copy="totp-secret"]`).Length(); n != 1 {
		t.Error("no Copy key button")
	}
	code := setup.Find(`#id_code`)
	if mode, complete := code.AttrOr("inputmode", ""), code.AttrOr("autocomplete", ""); mode != "numeric" || complete != "one-time-code" {
		t.Errorf("the setup's code field: inputmode %q, autocomplete %q", mode, complete)
	}
	enableTwoFactor(t, c, clock)
	c.postForm("/accounts/2fa/", "/accounts/2fa/recovery-codes/", nil)
	page := plainGet(c, "/accounts/2fa/recovery-codes/").doc(t)
	var codes []string
	page.Find(`[data-testid="recovery-codes"] code`).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	href, _ := page.Find(`a[data-testid="codes-download"]`).Attr("href")
	if download, _ := page.Find(`a[data-testid="codes-download"]`).Attr("download"); download == "" || !strings.HasPrefix(href, "data:text/plain") {
		t.Errorf("the download link: %q (download %q)", href, download)
	} else if text, _ := url.PathUnescape(strings.TrimPrefix(href, "data:text/plain;charset=utf-8,")); !strings.Contains(text, strings.Join(codes, "\n")) {
		t.Errorf("the downloaded file holds %q, not the codes", text)
	}
	if page.Find(`button[data-copy="recovery-codes"]`).Length() != 1 || page.Find(`button[data-print]`).Length() != 1 {
		t.Error("no Copy or Print for the recovery codes")
	}

	c.postForm("/articles/", "/accounts/logout/", nil)
	passwordStep(t, c, "alice", "")
	step := plainGet(c, "/accounts/login/2fa/").doc(t).Find(`#id_code`)
	if mode, complete := step.AttrOr("inputmode", ""), step.AttrOr("autocomplete", ""); mode != "numeric" || complete != "one-time-code" {
		t.Errorf("the login's code field: inputmode %q, autocomplete %q", mode, complete)
	}
	// A recovery code has letters: its field takes them on a phone.
	recovery := plainGet(c, "/accounts/login/2fa/?recovery=1").doc(t).Find(`#id_code`)
	if mode, _ := recovery.Attr("inputmode"); mode == "numeric" {
		t.Error("the recovery code's field asks a phone for digits")
	}
}

func TestUIForgotPasswordWhereAPasswordIsAsked(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	for _, path := range []string{"/accounts/login/", "/accounts/password/", "/accounts/confirm/?next=/accounts/2fa/setup/"} {
		client := c
		if path == "/accounts/login/" {
			client = app.client()
		}
		if href, _ := client.get(path).doc(t).Find(`main a[data-testid="forgot-password"]`).Attr("href"); href != "/accounts/password_reset/" {
			t.Errorf("%s links %q for a forgotten password", path, href)
		}
	}
}

func TestUIAssetNotFoundKnowsTheUser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	res := c.get("/assets/no-such-file.css")
	wantStatus(t, res, http.StatusNotFound)
	if got := res.text(t, `[data-testid="username"]`); got != "alice" {
		t.Errorf("a missing asset's 404 greets %q, want alice", got)
	}
}
