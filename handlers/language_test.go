package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/text/unicode/norm"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/mail"
	"gatehouse/views"
	"gatehouse/views/i18ntest"
)

// The words of the skip link in each language: which language a page is in.
const (
	skipEnglish = "Skip to content"
	skipKorean  = "본문으로 건너뛰기"
)

// pageLanguage is the language a page says it is in: <html lang>, which
// must agree with Content-Language and with its words.
func pageLanguage(t *testing.T, res *response) string {
	t.Helper()
	lang, _ := res.doc(t).Find("html").Attr("lang")
	if header := res.Header.Get("Content-Language"); header != lang {
		t.Errorf("%s: Content-Language %q, <html lang=%q>", res.Request.URL.Path, header, lang)
	}
	skip := map[string]string{"en": skipEnglish, "ko": skipKorean}[lang]
	if got := res.text(t, ".skip-link"); got != skip {
		t.Errorf("%s: <html lang=%q>, but the skip link says %q", res.Request.URL.Path, lang, got)
	}
	return lang
}

// setAccountLanguage stores a language on the account, as the switcher does.
func setAccountLanguage(t *testing.T, app *testApp, username, code string) {
	t.Helper()
	if err := models.SetLanguage(context.Background(), app.db, app.user(username).ID, code); err != nil {
		t.Fatal(err)
	}
}

// TestLanguageChoiceOrder checks Django's order: the account's language,
// then the visitor's cookie, then Accept-Language with its q-values, then
// the site's default; a value the site cannot use at any step is passed over.
func TestLanguageChoiceOrder(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("amy", goodPassword)
	setAccountLanguage(t, app, "amy", "ko")
	app.createUser("ben", goodPassword) // never chose

	tests := []struct {
		name   string
		client func() *client
		want   string
	}{
		{"nothing asked", app.client, "en"},
		{"Accept-Language", func() *client { return withLanguage(app.client(), "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7") }, "ko"},
		{"q-values weigh", func() *client { return withLanguage(app.client(), "en;q=0.3, ko;q=0.7") }, "ko"},
		{"q=0 refuses", func() *client { return withLanguage(app.client(), "ko;q=0, en;q=0.1") }, "en"},
		{"first it speaks", func() *client { return withLanguage(app.client(), "fr-FR, ko;q=0.5") }, "ko"},
		{"none it speaks", func() *client { return withLanguage(app.client(), "fr-FR, de;q=0.8") }, "en"},
		{"malformed header", func() *client { return withLanguage(app.client(), ";;q=x,,ko-;q=") }, "en"},
		{"cookie beats header", func() *client {
			c := withLanguage(app.client(), "ko")
			c.setCookie("django_language", "en")
			return c
		}, "en"},
		{"unknown cookie passed over", func() *client {
			c := withLanguage(app.client(), "ko")
			c.setCookie("django_language", "xx")
			return c
		}, "ko"},
		{"account beats cookie and header", func() *client {
			c := withLanguage(app.client(), "en")
			c.loginAs("amy", goodPassword)
			c.setCookie("django_language", "en")
			return c
		}, "ko"},
		{"account without a choice: cookie", func() *client {
			c := withLanguage(app.client(), "en")
			c.loginAs("ben", goodPassword)
			c.setCookie("django_language", "ko")
			return c
		}, "ko"},
		{"account without a choice: header", func() *client {
			c := withLanguage(app.client(), "ko")
			c.loginAs("ben", goodPassword)
			return c
		}, "ko"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.client().get("/articles/")
			wantStatus(t, res, http.StatusOK)
			if got := pageLanguage(t, res); got != tt.want {
				t.Errorf("page in %q, want %q", got, tt.want)
			}
		})
	}
}

func withLanguage(c *client, acceptLanguage string) *client {
	c.acceptLanguage = acceptLanguage
	return c
}

// wantKorean fails the test if res, a page or fragment asked for in
// Korean, is not marked Korean or has English words left in what a person
// reads (allowed: brand names, the test's own usernames and values).
func wantKorean(t *testing.T, res *response, allowed ...string) {
	t.Helper()
	if lang := res.Header.Get("Content-Language"); lang != "" && lang != "ko" {
		t.Errorf("%s: Content-Language %q", res.Request.URL.Path, lang)
	}
	allowed = append(allowed, views.SiteName, "Gatehouse")
	if left := i18ntest.EnglishLeft(res.body, allowed...); len(left) > 0 {
		t.Errorf("%s: English left in the Korean page: %q", res.Request.URL.Path, left)
	}
}

// TestDefaultLanguage checks GATEHOUSE_LANGUAGE: the language of whoever
// asks for none the site speaks, and nothing more.
func TestDefaultLanguage(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{Language: "ko"})
	for header, want := range map[string]string{"": "ko", "fr": "ko", "@@@": "ko", "en-GB": "en"} {
		if got := pageLanguage(t, withLanguage(app.client(), header).get("/articles/")); got != want {
			t.Errorf("Accept-Language %q: page in %q, want %q", header, got, want)
		}
	}
	store, err := models.Open(context.Background(), t.TempDir()+"/other.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	transport, err := mail.NewTransport("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handlers.New(context.Background(), store, handlers.Config{Language: "xx", MailTransport: transport}); err == nil {
		t.Error("a default language the site does not speak was taken")
	}
}

// TestLanguageHeaders checks that pages say their language and that it
// depends on Accept-Language, and that what does not depend on it
// (assets, redirects) says neither.
func TestLanguageHeaders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := withLanguage(app.client(), "ko")
	page := c.get("/articles/")
	if got := page.Header.Get("Content-Language"); got != "ko" {
		t.Errorf("Content-Language %q", got)
	}
	if vary := strings.Join(page.Header.Values("Vary"), ","); !strings.Contains(vary, "Accept-Language") {
		t.Errorf("a page varies by %q, not by Accept-Language", vary)
	}
	css, _ := page.doc(t).Find(`link[rel="stylesheet"]`).Attr("href")
	asset := c.get(css)
	wantStatus(t, asset, http.StatusOK)
	redirect := c.get("/")
	wantStatus(t, redirect, http.StatusFound)
	for _, res := range []*response{asset, redirect} {
		if strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Language") || res.Header.Get("Content-Language") != "" {
			t.Errorf("%s varies by language: Vary %q, Content-Language %q", res.Request.URL.Path, res.Header.Values("Vary"), res.Header.Get("Content-Language"))
		}
	}
	// Error pages too, even for a request refused before the language is
	// chosen (a body that is no form).
	missing := c.get("/no-such-page/")
	wantStatus(t, missing, http.StatusNotFound)
	if pageLanguage(t, missing) != "ko" || missing.text(t, "h1") != "페이지를 찾을 수 없습니다" {
		t.Errorf("404 page: %q", missing.text(t, "h1"))
	}
	req, _ := http.NewRequest(http.MethodPost, app.url+"/accounts/login/", strings.NewReader(`{"username":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	notForm := c.do(req)
	wantStatus(t, notForm, http.StatusUnsupportedMediaType)
	if pageLanguage(t, notForm) != "ko" || !strings.Contains(notForm.body, "이 주소는 양식으로 보낸 내용만 받습니다.") {
		t.Errorf("415 page:\n%s", notForm.body)
	}
}

// TestLanguageSwitcher checks the footer's form on every page: a POST to
// /i18n/setlang/ with the CSRF token, the page to come back to, and one
// button a language named in that language.
func TestLanguageSwitcher(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := withLanguage(app.client(), "ko")
	for _, path := range []string{"/articles/?page=1", "/accounts/login/?next=%2Farticles%2Fcreate%2F", "/accounts/signup/", "/no-such-page/"} {
		res := c.get(path)
		form := res.doc(t).Find(`footer form[data-testid="language-switcher"]`)
		if action, _ := form.Attr("action"); action != "/i18n/setlang/" || form.AttrOr("method", "") != "post" {
			t.Fatalf("%s: switcher posts to %q", path, action)
		}
		if form.Find(`input[name="csrfmiddlewaretoken"]`).AttrOr("value", "") == "" {
			t.Errorf("%s: the switcher has no CSRF token", path)
		}
		wantNext := path
		if path == "/no-such-page/" {
			wantNext = "" // no page to come back to
		}
		if next := form.Find(`input[name="next"]`).AttrOr("value", "?"); next != wantNext {
			t.Errorf("%s: next %q, want %q", path, next, wantNext)
		}
		if legend := strings.TrimSpace(form.Find("legend").Text()); legend != "언어" {
			t.Errorf("%s: the switcher's legend %q", path, legend)
		}
		var buttons []string
		form.Find(`button[name="language"]`).Each(func(_ int, b *goquery.Selection) {
			buttons = append(buttons, b.AttrOr("value", "")+"|"+b.AttrOr("lang", "")+"|"+strings.TrimSpace(b.Text())+"|"+b.AttrOr("aria-pressed", ""))
		})
		if got := strings.Join(buttons, " "); got != "en|en|English|false ko|ko|한국어|true" {
			t.Errorf("%s: buttons %q", path, got)
		}
	}
}

// TestSetLanguage checks Django's set_language: the choice is kept in a
// cookie like the site's others and the browser goes back to next (a safe
// one), with and without JavaScript; an unknown language is a 400 and
// changes nothing; without the CSRF token, 403.
func TestSetLanguage(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		c := app.client()
		c.htmx = htmx
		next := "/accounts/login/?next=%2Farticles%2Fcreate%2F"
		res := c.postForm(next, "/i18n/setlang/", url.Values{"language": {"ko"}, "next": {next}})
		wantRedirect(t, res, htmx, next)
		var cookie *http.Cookie
		for _, set := range res.Cookies() {
			if set.Name == "django_language" {
				cookie = set
			}
		}
		if cookie == nil || cookie.Value != "ko" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.MaxAge < 300*24*3600 {
			t.Fatalf("language cookie %+v", cookie)
		}
		if got := pageLanguage(t, mtGetPlain(c, next)); got != "ko" {
			t.Errorf("after choosing Korean the page is in %q", got)
		}

		for value, location := range map[string]string{"//evil.example/": "/articles/", "https://evil.example/": "/articles/", "": "/articles/", "/accounts/signup/": "/accounts/signup/"} {
			res := c.postForm("/articles/", "/i18n/setlang/", url.Values{"language": {"en"}, "next": {value}})
			wantRedirect(t, res, htmx, location)
		}

		for _, values := range []url.Values{{"language": {"xx"}}, {"language": {"ko-KR"}}, {"language": {""}}, {"next": {"/articles/"}}} {
			res := c.postForm("/articles/", "/i18n/setlang/", values)
			wantStatus(t, res, http.StatusBadRequest)
			if len(res.Cookies()) > 0 && strings.Contains(res.Header.Get("Set-Cookie"), "django_language") {
				t.Errorf("%v: a refused choice set %q", values, res.Header.Get("Set-Cookie"))
			}
		}
		if got := c.cookie("django_language"); got != "en" {
			t.Errorf("language cookie %q after refused choices, want en", got)
		}
		forged := c.post("/i18n/setlang/", url.Values{"language": {"ko"}, "next": {"/articles/"}})
		wantStatus(t, forged, http.StatusForbidden)
		if got := c.cookie("django_language"); got != "en" {
			t.Errorf("a POST without the CSRF token set the language to %q", got)
		}
	})
}

// TestLanguageKeptOnAccount checks that a logged-in user's choice is kept
// on the account, so that a new browser logging in gets it (and keeps it
// after logging out), that a refused choice stores nothing, and that a new
// account keeps the language its signup page was read in.
func TestLanguageKeptOnAccount(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("amy", goodPassword)
	first := app.client()
	first.loginAs("amy", goodPassword)
	wantStatus(t, first.postForm("/articles/", "/i18n/setlang/", url.Values{"language": {"xx"}}), http.StatusBadRequest)
	if got := app.user("amy").Language; got != "" {
		t.Fatalf("a refused choice stored %q on the account", got)
	}
	wantRedirect(t, first.postForm("/articles/", "/i18n/setlang/", url.Values{"language": {"ko"}, "next": {"/articles/"}}), false, "/articles/")
	if got := app.user("amy").Language; got != "ko" {
		t.Fatalf("account language %q after choosing Korean", got)
	}

	second := withLanguage(app.client(), "en-US,en;q=0.9")
	if got := pageLanguage(t, second.get("/accounts/login/")); got != "en" {
		t.Fatalf("before logging in the new browser reads %q", got)
	}
	second.loginAs("amy", goodPassword)
	if got := pageLanguage(t, second.get("/articles/")); got != "ko" {
		t.Errorf("after logging in, a new browser reads %q, want the account's ko", got)
	}
	mtLogout(t, second)
	if got := pageLanguage(t, second.get("/articles/")); got != "ko" {
		t.Errorf("after logging out, the browser reads %q, want ko still", got)
	}

	for _, tt := range []struct {
		username string
		client   func() *client
		want     string
	}{
		{"chose", func() *client {
			c := app.client()
			wantRedirect(t, c.postForm("/accounts/signup/", "/i18n/setlang/", url.Values{"language": {"ko"}, "next": {"/accounts/signup/"}}), false, "/accounts/signup/")
			return c
		}, "ko"},
		{"browser", func() *client { return withLanguage(app.client(), "ko-KR") }, "ko"},
		{"default", app.client, "en"},
	} {
		c := tt.client()
		res := c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
			"username": {tt.username}, "password1": {mtPassword}, "password2": {mtPassword}})
		wantRedirect(t, res, false, "/articles/")
		if got := app.user(tt.username).Language; got != tt.want {
			t.Errorf("signed up (%s): account language %q, want %q", tt.username, got, tt.want)
		}
	}
}

// TestFormErrorsInKorean checks the chain from the models' codes to the
// reader's words: a signup full of mistakes, in Korean, beside each field
// and in the summary.
func TestFormErrorsInKorean(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("taken", goodPassword)
		c := withLanguage(app.client(), "ko")
		c.htmx = htmx
		res := c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
			"username": {"bad name!"}, "email": {"nope"}, "password1": {"8361"}, "password2": {"8362"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		for selector, want := range map[string]string{
			"#id_username_error":                                   "올바른 아이디를 입력하세요.",
			"#id_email_error":                                      "올바른 이메일 주소를 입력하세요.",
			"#id_password1_error":                                  "비밀번호가 너무 짧습니다. 8자 이상 입력하세요.",
			"#id_password2_error":                                  "비밀번호가 서로 일치하지 않습니다.",
			`[data-testid="error-summary"] h2`:                     "입력한 내용에 문제가",
			`[data-testid="error-summary"] a[href="#id_username"]`: "아이디: 올바른 아이디를",
		} {
			if got := res.text(t, selector); !strings.HasPrefix(got, want) {
				t.Errorf("%s: %q, want it to start %q", selector, got, want)
			}
		}
		if !strings.Contains(res.text(t, "#id_password1_error"), "숫자로만 된 비밀번호는 쓸 수 없습니다.") {
			t.Errorf("password errors: %q", res.text(t, "#id_password1_error"))
		}
		res = c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
			"username": {"TAKEN"}, "password1": {mtPassword}, "password2": {mtPassword}})
		if got := res.text(t, "#id_username_error"); got != "이미 사용 중인 아이디입니다." {
			t.Errorf("a taken username: %q", got)
		}
		login := c.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {"taken"}, "password": {"wrong password"}})
		if got := login.text(t, ".form-errors"); got != "아이디 또는 비밀번호를 잘못 입력했습니다. 입력한 내용을 다시 확인해 주세요." {
			t.Errorf("a failed login: %q", got)
		}
	})
}

// TestKoreanUsernames checks Django's Unicode usernames on both engines: 정우
// signs up, shows and logs in; typed decomposed (NFD, jamo by jamo, as some
// keyboards and macOS file names give it) it is the same account for
// logging in, for uniqueness and for the throttle.
func TestKoreanUsernames(t *testing.T) {
	t.Parallel()
	const name = "정우"
	decomposed := norm.NFD.String(name)
	if decomposed == name {
		t.Fatal("the decomposed name is the composed one")
	}
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			app := newTestAppOn(t, handlers.Config{}, engine.URL(t))
			c := app.client()
			res := c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
				"username": {name}, "password1": {mtPassword}, "password2": {mtPassword}})
			wantRedirect(t, res, false, "/articles/")
			if got := c.loggedInAs(); got != name {
				t.Fatalf("header greets %q", got)
			}
			mtLogout(t, c)

			again := app.client().postForm("/accounts/signup/", "/accounts/signup/", url.Values{
				"username": {decomposed}, "password1": {mtPassword}, "password2": {mtPassword}})
			wantStatus(t, again, http.StatusUnprocessableEntity)
			if got := again.text(t, "#id_username_error"); got != "A user with that username already exists." {
				t.Errorf("the decomposed name signs up again: %q", got)
			}

			c.loginAs(decomposed, mtPassword)
			if got := c.loggedInAs(); got != name {
				t.Errorf("logged in with the decomposed name, the header greets %q", got)
			}
			if u := app.user(decomposed); u == nil || u.Username != name {
				t.Errorf("the decomposed name finds %+v", u)
			}

			// Five failures, composed and decomposed in turn, lock the one account.
			attacker := app.client()
			for i := range 5 {
				typed := []string{name, decomposed}[i%2]
				if status := mtLoginStatus(attacker, typed, "wrong password"); status != http.StatusUnprocessableEntity {
					t.Fatalf("failure %d: status %d", i+1, status)
				}
			}
			if status := mtLoginStatus(attacker, decomposed, mtPassword); status != http.StatusTooManyRequests {
				t.Errorf("after five failures in either form: status %d, want 429", status)
			}
		})
	}
}

// TestMailInRecipientLanguage checks that a reset mail goes out in the
// language of the account it is for, not of whoever asked for it.
func TestMailInRecipientLanguage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	box := mtFolder(t, app.mailDir)
	mtVerifiedUser(t, app, "minji", "minji@example.com")
	setAccountLanguage(t, app, "minji", "ko")
	mtVerifiedUser(t, app, "bob", "bob@example.com")

	wantRedirect(t, mtAskReset(withLanguage(app.client(), "en"), "minji@example.com"), false, "/accounts/password_reset/done/")
	korean := box.next("minji@example.com", "[Gatehouse] 비밀번호 재설정 안내")
	for _, want := range []string{"minji 님, 안녕하세요.", "1시간 안에 아래 링크를 눌러 주세요.", "비밀번호는 그대로 유지됩니다."} {
		if !strings.Contains(korean.text, want) || !strings.Contains(korean.html, want) {
			t.Errorf("the Korean account's reset mail lacks %q:\n%s\n%s", want, korean.text, korean.html)
		}
	}
	if !strings.Contains(korean.html, `<html lang="ko">`) || strings.Contains(korean.text, "Hello") {
		t.Errorf("the Korean account's mail is not in Korean:\n%s", korean.html)
	}
	mtLink(t, app, korean, "/accounts/reset/")

	wantRedirect(t, mtAskReset(withLanguage(app.client(), "ko"), "bob@example.com"), false, "/accounts/password_reset/done/")
	english := box.next("bob@example.com", mtSubjectReset)
	if !strings.Contains(english.text, "Hello bob,") || !strings.Contains(english.html, `<html lang="en">`) {
		t.Errorf("the English account's mail, asked for in Korean:\n%s\n%s", english.text, english.html)
	}
}

// TestMailInDefaultLanguage checks that an account that never chose a
// language gets its mail in the site's default.
func TestMailInDefaultLanguage(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{Language: "ko"})
	box := mtFolder(t, app.mailDir)
	mtVerifiedUser(t, app, "bob", "bob@example.com")
	wantRedirect(t, mtAskReset(withLanguage(app.client(), "en"), "bob@example.com"), false, "/accounts/password_reset/done/")
	box.next("bob@example.com", "[Gatehouse] 비밀번호 재설정 안내")
}
