package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/oauth2-proxy/mockoidc"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/views"
	"gatehouse/views/i18ntest"
)

// Test data of the account and article pages' tour: names and words it
// writes, which stay as they are in any language.
const (
	kaAuthor    = "minji"
	kaOther     = "bora"
	kaEmail     = "minji@example.com"
	kaTitle     = "첫 번째 글"
	kaOtherText = "보라의 글"
)

// wantKoreanTour is wantKorean for a page of the tour; of a page whose
// content another test reads (others), only the layout around it.
func wantKoreanTour(t *testing.T, res *response, others bool, allowed ...string) {
	t.Helper()
	doc := res.doc(t)
	if others {
		doc.Find("title, main").Remove()
	}
	body, err := goquery.OuterHtml(doc.Selection)
	if err != nil {
		t.Fatal(err)
	}
	if lang := res.Header.Get("Content-Language"); lang != "" && lang != "ko" {
		t.Errorf("%s: Content-Language %q", res.Request.URL.Path, lang)
	}
	if strings.Contains(res.body, "<html") {
		if lang, _ := doc.Find("html").Attr("lang"); lang != "ko" {
			t.Errorf("%s: <html lang=%q>", res.Request.URL.Path, lang)
		}
	}
	allowed = append(allowed, views.SiteName, "Gatehouse", kaAuthor, kaOther, kaEmail, "UTC")
	if left := i18ntest.EnglishLeft(body, allowed...); len(left) > 0 {
		t.Errorf("%s %s (%d): English left in the Korean page: %q", res.Request.Method, res.Request.URL.Path, res.StatusCode, left)
	}
}

// pageVisit is one page or fragment the tour asked for: what it is, the
// answer, and whether its content is another template's.
type pageVisit struct {
	name   string
	res    *response
	others bool
}

// tourAccountPages asks, in the language of acceptLanguage, for every page and
// htmx fragment of the articles and the account — the articles, the account's pages, the
// settings' navigation, the error pages, the header logged in and out —
// in their empty, filled and error states, and returns them in order.
func tourAccountPages(t *testing.T, acceptLanguage string, htmx bool) []pageVisit {
	t.Helper()
	clock := &testClock{}
	app := newTestAppWith(t, handlers.Config{Now: clock.Now})
	minji := app.createUser(kaAuthor, goodPassword)
	bora := app.createUser(kaOther, goodPassword)
	var visits []pageVisit
	visit := func(name string, res *response, status int) *response {
		t.Helper()
		wantStatus(t, res, status)
		visits = append(visits, pageVisit{name: name, res: res})
		return res
	}
	// visitOther is visit for a page whose content recovery.templ draws
	// (the reset pages, a link that no longer works): only the layout
	// around it is read here.
	visitOther := func(name string, res *response, status int) {
		t.Helper()
		visit(name, res, status)
		visits[len(visits)-1].others = true
	}
	newClient := func() *client {
		c := withLanguage(app.client(), acceptLanguage)
		c.htmx = htmx
		return c
	}
	formStatus := http.StatusUnprocessableEntity

	// Logged out.
	anon := newClient()
	visit("empty index, logged out", mtGetPlain(anon, "/articles/"), http.StatusOK)
	visit("login", mtGetPlain(anon, "/accounts/login/"), http.StatusOK)
	visit("failed login", anon.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {kaAuthor}, "password": {"wrong password"}}), formStatus)
	visit("empty login", anon.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {""}, "password": {""}}), formStatus)
	visit("signup", mtGetPlain(anon, "/accounts/signup/"), http.StatusOK)
	visit("signup errors", anon.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
		"username": {"bad name!"}, "email": {"nope"}, "password1": {"8361"}, "password2": {"8362"}}), formStatus)
	visit("signup, one error", anon.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
		"username": {kaOther}, "password1": {mtPassword}, "password2": {mtPassword}}), formStatus)
	visit("logout, logged out", mtGetPlain(anon, "/accounts/logout/"), http.StatusOK)
	visitOther("password reset", mtGetPlain(anon, "/accounts/password_reset/"), http.StatusOK)
	visitOther("password reset done", mtGetPlain(anon, "/accounts/password_reset/done/"), http.StatusOK)
	visitOther("invalid reset link", mtGetPlain(anon, "/accounts/reset/"+mtUIDB64(minji.ID)+"/bad-token/"), http.StatusOK)
	visitOther("invalid confirmation link", mtGetPlain(anon, "/accounts/email/verify/"+mtUIDB64(minji.ID)+"/bad-token/"), http.StatusOK)
	visit("404", anon.get("/no-such-page/"), http.StatusNotFound)
	visit("405", anon.postForm("/articles/", "/articles/", nil), http.StatusMethodNotAllowed)

	// Locked out: five failures pause password logins to the account.
	locked := newClient()
	for range 5 {
		locked.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {kaOther}, "password": {"wrong password"}})
	}
	res := visit("locked out", locked.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {kaOther}, "password": {"wrong password"}}), http.StatusTooManyRequests)
	if res.doc(t).Find(`[data-testid="locked-out"]`).Length() != 1 {
		t.Errorf("no locked-out notice:\n%s", res.body)
	}

	// Logged in, before any article.
	c := newClient()
	c.loginAs(kaAuthor, goodPassword)
	visit("empty index, logged in", mtGetPlain(c, "/articles/"), http.StatusOK)
	visit("logout page", mtGetPlain(c, "/accounts/logout/"), http.StatusOK)
	visit("new article", mtGetPlain(c, "/articles/create/"), http.StatusOK)
	visit("new article errors", c.postForm("/articles/create/", "/articles/create/", url.Values{"title": {strings.Repeat("가", 101)}, "content": {""}}), formStatus)
	visit("new article, one error", c.postForm("/articles/create/", "/articles/create/", url.Values{"title": {""}, "content": {"내용"}}), formStatus)
	wantRedirect(t, c.postForm("/articles/create/", "/articles/create/", url.Values{"title": {kaTitle}, "content": {"내용입니다."}}), htmx, "/articles/1/")
	visit("article, just published", mtGetPlain(c, "/articles/1/"), http.StatusOK)
	visit("edit article", mtGetPlain(c, "/articles/1/update/"), http.StatusOK)
	visit("edit article errors", c.postForm("/articles/1/update/", "/articles/1/update/", url.Values{"title": {""}, "content": {""}}), formStatus)
	clock.advance(time.Minute) // the edit's time is not the creation's
	wantRedirect(t, c.postForm("/articles/1/update/", "/articles/1/update/", url.Values{"title": {kaTitle}, "content": {"고친 내용입니다."}}), htmx, "/articles/1/")
	visit("article, edited", mtGetPlain(c, "/articles/1/"), http.StatusOK)
	visit("delete article page", mtGetPlain(c, "/articles/1/delete/"), http.StatusOK)
	visit("delete without confirmation", c.postForm("/articles/1/", "/articles/1/delete/", nil), http.StatusOK)

	// The index, filled: the others' articles and one's own, three pages.
	app.seedArticles(bora, 45)
	others := app.createArticle(bora, kaOtherText, "보라가 쓴 내용")
	visit("index, logged in", mtGetPlain(c, "/articles/"), http.StatusOK)
	visit("index page 2", mtGetPlain(c, "/articles/?page=2"), http.StatusOK)
	visit("index page 3", mtGetPlain(c, "/articles/?page=3"), http.StatusOK)
	visit("someone else's article", mtGetPlain(c, views.ArticlePath(others.ID)), http.StatusOK)
	visit("403", mtGetPlain(c, views.ArticleUpdatePath(others.ID)), http.StatusForbidden)
	visit("index, logged out", mtGetPlain(anon, "/articles/?page=3"), http.StatusOK)

	// The settings.
	mtSetEmail(t, app, minji.ID, kaEmail, false)
	visit("profile, address not confirmed", mtGetPlain(c, "/accounts/update/"), http.StatusOK)
	visit("profile errors", c.postForm("/accounts/update/", "/accounts/update/", url.Values{
		"email": {"nope"}, "first_name": {"민지"}, "last_name": {"\u202e김"}}), formStatus)
	visit("profile, address changed without the password", c.postForm("/accounts/update/", "/accounts/update/", url.Values{
		"email": {"other@example.com"}, "current_password": {""}}), formStatus)
	saved := c.postForm("/accounts/update/", "/accounts/update/", url.Values{
		"email": {kaEmail}, "first_name": {"민지"}, "notify_new_device": {"on"}})
	if htmx {
		visit("profile saved", saved, http.StatusOK)
	} else {
		wantRedirect(t, saved, false, "/accounts/update/")
		visit("profile saved", c.get("/accounts/update/"), http.StatusOK)
	}
	mtSetEmail(t, app, minji.ID, kaEmail, true)
	visit("profile, address confirmed", mtGetPlain(c, "/accounts/update/"), http.StatusOK)
	mtSetEmail(t, app, minji.ID, "", false)
	visit("profile, no address", mtGetPlain(c, "/accounts/update/"), http.StatusOK)
	visit("password", mtGetPlain(c, "/accounts/password/"), http.StatusOK)
	visit("password errors", c.postForm("/accounts/password/", "/accounts/password/", url.Values{
		"old_password": {"wrong password"}, "new_password1": {"8361"}, "new_password2": {"8362"}}), formStatus)
	visit("password, wrong old one", c.postForm("/accounts/password/", "/accounts/password/", url.Values{
		"old_password": {"wrong password"}, "new_password1": {mtPassword}, "new_password2": {mtPassword}}), formStatus)

	// Deleting from the index: with htmx the entry swaps for the message.
	if htmx {
		req, token := c.formRequest("/articles/", "/articles/1/delete/", url.Values{"confirm": {"yes"}})
		req.Header.Set("X-CSRF-Token", token)
		req.Header.Set("HX-Target", "article-1")
		visit("article deleted from the index", c.do(req), http.StatusOK)
	} else {
		wantRedirect(t, c.postForm("/articles/1/", "/articles/1/delete/", url.Values{"confirm": {"yes"}}), false, "/articles/")
		visit("index after a deletion", c.get("/articles/"), http.StatusOK)
	}

	// The account's deletion, for someone who wrote no article, one, two.
	visit("account delete", mtGetPlain(c, "/accounts/delete/"), http.StatusOK)
	visit("account delete errors", c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {"wrong password"}}), formStatus)
	visit("account delete, empty", c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {""}}), formStatus)
	app.createArticle(minji, kaTitle, "다시 쓴 내용")
	visit("account delete, one article", mtGetPlain(c, "/accounts/delete/"), http.StatusOK)
	app.createArticle(minji, kaTitle+" 2", "또 쓴 내용")
	visit("account delete, two articles", mtGetPlain(c, "/accounts/delete/"), http.StatusOK)

	wantRedirect(t, c.postForm("/articles/", "/accounts/logout/", nil), htmx, "/articles/")
	visit("logged out", mtGetPlain(c, "/articles/"), http.StatusOK)
	return visits
}

// TestAccountPagesInKorean reads every page and htmx fragment of the articles and
// the account in Korean: none has English left but names and the test's own words.
func TestAccountPagesInKorean(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		for _, v := range tourAccountPages(t, "ko", htmx) {
			t.Run(v.name, func(t *testing.T) {
				wantKoreanTour(t, v.res, v.others, kaTitle, kaOtherText)
			})
		}
	})
}

// TestAccountPagesStayEnglish tours the same pages in English: they are
// English, and the words tests look for are still there.
func TestAccountPagesStayEnglish(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		visits := tourAccountPages(t, "en", htmx)
		for _, v := range visits {
			if got := v.res.Header.Get("Content-Language"); got != "en" {
				t.Errorf("%s: Content-Language %q", v.name, got)
			}
			if strings.Contains(v.res.body, "<html") && pageLanguage(t, v.res) != "en" {
				t.Errorf("%s: not in English", v.name)
			}
		}
		want := map[string]string{
			"empty index, logged out":      "No articles yet",
			"login":                        "Forgot your password?",
			"logout page":                  "You are logged in as minji",
			"index page 2":                 "Page 2 of 3",
			"account delete":               "your articles (you have not written any);",
			"account delete, one article":  "the 1 article you wrote;",
			"account delete, two articles": "the 2 articles you wrote;",
			"profile, address confirmed":   "Confirmed: minji@example.com receives password resets and security notices.",
			"locked out":                   "Password login paused",
			"delete article page":          "“첫 번째 글” will be deleted. This cannot be undone.",
		}
		for _, v := range visits {
			if words, ok := want[v.name]; ok && !strings.Contains(strings.Join(strings.Fields(v.res.doc(t).Text()), " "), words) {
				t.Errorf("%s: no %q in the page", v.name, words)
			}
		}
	})
}

// TestRenderedEntriesByLanguage checks the index's entries rendered once
// for all its readers: a Korean reader never gets the English entries an
// English reader had rendered before, nor the other way round.
func TestRenderedEntriesByLanguage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	minji := app.createUser(kaAuthor, goodPassword)
	app.createArticle(minji, kaTitle, "내용")
	english, korean := withLanguage(app.client(), "en"), withLanguage(app.client(), "ko")
	english.loginAs(kaAuthor, goodPassword)
	korean.loginAs(kaAuthor, goodPassword)
	for i, c := range []*client{english, korean, english, korean, app.client()} {
		res := c.get("/articles/")
		wantStatus(t, res, http.StatusOK)
		entry := res.doc(t).Find(`[data-testid="article"]`)
		edit, _ := entry.Find(`[data-testid="article-edit"]`).Attr("aria-label")
		by := strings.Join(strings.Fields(entry.Find(".meta li").First().Text()), " ")
		want := []string{"Edit “" + kaTitle + "”", "by " + kaAuthor}
		if c == korean {
			want = []string{"“" + kaTitle + "” 수정", "작성자 " + kaAuthor}
		}
		if c != korean && c != english {
			want[0] = "" // anonymous: no edit link
		}
		if edit != want[0] || by != want[1] {
			t.Errorf("request %d: the entry says %q, %q; want %q, %q", i+1, edit, by, want[0], want[1])
		}
	}
}

// TestKoreanTimes checks the article's times in the Korean page: its
// layout, in UTC, where app.js finds them.
func TestKoreanTimes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	minji := app.createUser(kaAuthor, goodPassword)
	a := app.createArticle(minji, kaTitle, "내용")
	at := time.Date(2026, 3, 9, 14, 5, 0, 0, time.UTC)
	if _, err := app.db.NewUpdate().Model((*models.Article)(nil)).Set("created_at = ?", at).Set("updated_at = ?", at.Add(time.Hour)).
		Where("id = ?", a.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := withLanguage(app.client(), "ko").get(views.ArticlePath(a.ID))
	wantStatus(t, res, http.StatusOK)
	var items []string
	res.doc(t).Find(`[data-testid="article-detail"] .meta li`).Each(func(_ int, li *goquery.Selection) {
		items = append(items, strings.Join(strings.Fields(li.Text()), " "))
	})
	meta := strings.Join(items, " | ")
	if want := "작성자 " + kaAuthor + " | 2026년 3월 9일 14:05 UTC | 2026년 3월 9일 15:05 UTC 수정됨"; meta != want {
		t.Errorf("the article's line: %q, want %q", meta, want)
	}
	if got := res.doc(t).Find(`[data-testid="article-detail"] time[datetime]`).Length(); got != 2 {
		t.Errorf("%d times with a datetime", got)
	}
}

// TestKoreanLockedOutWithPasskeys checks the locked-out notice where the
// site offers passkeys: it offers them too, in the page's language.
func TestKoreanLockedOutWithPasskeys(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{BaseURL: "http://localhost"})
	app.createUser(kaOther, goodPassword)
	for _, tt := range []struct{ language, want string }{
		{"ko", "패스키가 있다면 기다릴 필요 없이 패스키로 로그인하세요."},
		{"en", "Have a passkey? Log in with it, which does not wait."},
	} {
		c := withLanguage(app.client(), tt.language)
		var res *response
		for range 6 {
			res = c.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {kaOther}, "password": {"wrong password"}})
		}
		wantStatus(t, res, http.StatusTooManyRequests)
		passkey := res.doc(t).Find(`[data-testid="locked-out-passkey"]`)
		if href, _ := passkey.Attr("href"); href != "#passkey-login" {
			t.Fatalf("%s: no passkey link in the notice:\n%s", tt.language, res.body)
		}
		if got := strings.Join(strings.Fields(passkey.Parent().Text()), " "); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.language, got, tt.want)
		}
		if tt.language == "ko" {
			wantKoreanTour(t, res, false)
		}
	}
}

// TestKoreanPasswordSet reads the page that sets a first password, of an
// account made through another site, and its errors in Korean.
func TestKoreanPasswordSet(t *testing.T) {
	t.Parallel()
	m := mockProvider(t)
	app := socialApp(t, m, filepath.Join(t.TempDir(), "gatehouse.db"))
	m.QueueUser(&mockoidc.MockUser{Subject: "minji-at-mock", Email: kaEmail, EmailVerified: true, PreferredUsername: kaAuthor})
	both(t, func(t *testing.T, htmx bool) {
		c := withLanguage(app.client(), "ko")
		if htmx {
			m.QueueUser(&mockoidc.MockUser{Subject: "minji-at-mock", Email: kaEmail, EmailVerified: true, PreferredUsername: kaAuthor})
		}
		wantRedirect(t, callback(c, providerSendsBack(t, c, "")), false, views.PathArticles)
		c.htmx = htmx
		page := mtGetPlain(c, views.PathPasswordSet)
		wantStatus(t, page, http.StatusOK)
		if page.doc(t).Find(`form[data-testid="set-password-form"]`).Length() != 1 {
			t.Fatalf("no set-password form:\n%s", page.body)
		}
		if got := page.text(t, "h1"); got != "비밀번호 설정" {
			t.Errorf("heading %q", got)
		}
		wantKoreanTour(t, page, false, "Mock")
		res := c.postForm(views.PathPasswordSet, views.PathPasswordSet, url.Values{"new_password1": {mtPassword}, "new_password2": {"something else"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantKoreanTour(t, res, false, "Mock")
	})
}
