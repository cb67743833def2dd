package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/views"
)

// createArticle saves an article by author straight into the database.
func (a *testApp) createArticle(author *models.User, title, content string) *models.Article {
	a.t.Helper()
	article, err := models.CreateArticle(context.Background(), a.db, author.ID, title, content, time.Now())
	if err != nil {
		a.t.Fatal(err)
	}
	return article
}

// seedArticles inserts n articles by author, one second apart, titled
// "Article 1" (oldest) to "Article n" (newest).
func (a *testApp) seedArticles(author *models.User, n int) {
	a.t.Helper()
	_, err := a.db.NewRaw(`
		WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO articles (title, content, author_id, created_at, updated_at)
		SELECT 'Article ' || i, 'Body of article ' || i, ?,
			strftime('%Y-%m-%d %H:%M:%S+00:00', 1767225600 + i, 'unixepoch'),
			strftime('%Y-%m-%d %H:%M:%S+00:00', 1767225600 + i, 'unixepoch')
		FROM seq`, n, author.ID).Exec(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
}

// titles lists the titles on an index page, top to bottom.
func titles(t *testing.T, res *response) []string {
	t.Helper()
	var found []string
	res.doc(t).Find(`[data-testid="article"] .article-title`).Each(func(_ int, s *goquery.Selection) {
		found = append(found, strings.TrimSpace(s.Text()))
	})
	return found
}

func TestArticleIndexLinks(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)

	anonymous := app.client().get("/articles/")
	wantStatus(t, anonymous, http.StatusOK)
	if anonymous.doc(t).Find(`[data-testid="no-articles"]`).Length() != 1 {
		t.Error("an empty index does not say so")
	}
	app.createArticle(alice, "First", "x")
	anonymous = app.client().get("/articles/")
	if href, _ := anonymous.doc(t).Find(`[data-testid="login-to-write"]`).Attr("href"); href != "/accounts/login/?next=%2Farticles%2F" {
		t.Errorf("anonymous index links to %q to log in", href)
	}

	c := app.client()
	c.loginAs("alice", goodPassword)
	if href, _ := c.get("/articles/").doc(t).Find(`[data-testid="write-link"]`).Attr("href"); href != "/articles/create/" {
		t.Errorf("logged-in index links to %q to write", href)
	}
}

func TestArticleCreate(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		alice := app.createUser("alice", goodPassword)
		bob := app.createUser("bob", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)

		res := c.postForm("/articles/create/", "/articles/create/", url.Values{
			"title": {"  Hello, world  "}, "content": {"First line\nSecond line"},
			"author_id": {fmt.Sprint(bob.ID)}, "author": {"bob"},
		})
		var a models.Article
		if err := app.db.NewSelect().Model(&a).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, res, htmx, views.ArticlePath(a.ID))
		if a.AuthorID != alice.ID {
			t.Fatalf("the article's author is #%d, want alice (#%d): the author must come from the session", a.AuthorID, alice.ID)
		}
		if a.Title != "Hello, world" || a.Content != "First line\nSecond line" {
			t.Fatalf("saved %q / %q", a.Title, a.Content)
		}

		detail := app.client().get(views.ArticlePath(a.ID))
		wantStatus(t, detail, http.StatusOK)
		if got := detail.text(t, `[data-testid="article-title"]`); got != "Hello, world" {
			t.Errorf("detail title %q", got)
		}
		if got := detail.text(t, `[data-testid="author"]`); got != "alice" {
			t.Errorf("detail author %q", got)
		}
		if got := detail.text(t, `[data-testid="article-content"]`); got != "First line\nSecond line" {
			t.Errorf("detail content %q lost its line break", got)
		}
	})
}

func TestArticleCreateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, title, content, field, message string }{
		{"title required", "   ", "Some content", "title", "This field is required."},
		{"title too long", strings.Repeat("t", 101), "Some content", "title", "Ensure this value has at most 100 characters (it has 101)."},
		{"content required", "A title", "", "content", "This field is required."},
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := c.postForm("/articles/create/", "/articles/create/", url.Values{"title": {tt.title}, "content": {tt.content}})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				wantFragment(t, res, htmx, "article-form")
				if got := res.text(t, "#id_"+tt.field+"_error"); got != tt.message {
					t.Errorf("error beside %s: %q, want %q", tt.field, got, tt.message)
				}
				if got := res.text(t, "#id_content"); got != strings.TrimSpace(tt.content) {
					t.Errorf("content not kept: %q", got)
				}
			})
		}
		if n := app.count("SELECT COUNT(*) FROM articles"); n != 0 {
			t.Fatalf("%d articles saved from invalid forms", n)
		}
	})
}

func TestArticleNotFound(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	a := app.createArticle(alice, "Real", "Exists")
	c := app.client()
	c.loginAs("alice", goodPassword)
	for _, path := range []string{
		"/articles/999/", "/articles/abc/", "/articles/0/", "/articles/-1/", "/articles/1.5/",
		"/articles/99999999999999999999/", "/articles/999/update/", "/articles/abc/update/",
	} {
		if res := c.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/articles/999/delete/", "/articles/abc/delete/", "/articles/99999999999999999999/update/"} {
		if res := c.postForm(views.ArticlePath(a.ID), path, url.Values{"confirm": {"yes"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, res.StatusCode)
		}
	}
}

func TestArticleUpdate(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		alice := app.createUser("alice", goodPassword)
		app.createUser("bob", goodPassword)
		a := app.createArticle(alice, "Original", "Original content")
		editURL := views.ArticlePath(a.ID) + "update/"

		anonymous := app.client().get(editURL)
		if anonymous.StatusCode != http.StatusFound || anonymous.Header.Get("Location") != "/accounts/login/?next="+url.QueryEscape(editURL) {
			t.Errorf("anonymous GET %s: %d → %q", editURL, anonymous.StatusCode, anonymous.Header.Get("Location"))
		}

		bob := app.newClient(htmx)
		bob.loginAs("bob", goodPassword)
		wantStatus(t, bob.get(editURL), http.StatusForbidden)
		res := bob.postForm(views.ArticlePath(a.ID), editURL, url.Values{"title": {"Bob was here"}, "content": {"Defaced"}})
		wantStatus(t, res, http.StatusForbidden)

		alice1 := app.newClient(htmx)
		alice1.loginAs("alice", goodPassword)
		page := alice1.get(editURL)
		wantStatus(t, page, http.StatusOK)
		if value, _ := page.doc(t).Find("#id_title").Attr("value"); value != "Original" {
			t.Errorf("edit form shows title %q", value)
		}
		res = alice1.postForm(editURL, editURL, url.Values{"title": {"Revised"}, "content": {"Revised content"}})
		wantRedirect(t, res, htmx, views.ArticlePath(a.ID))
		res = alice1.postForm(editURL, editURL, url.Values{"title": {""}, "content": {"x"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantFragment(t, res, htmx, "article-form")

		got, err := models.ArticleByID(context.Background(), app.db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Revised" || got.Content != "Revised content" || !got.UpdatedAt.After(got.CreatedAt) {
			t.Fatalf("after the author's edit: %+v", got)
		}
	})
}

func TestArticleDelete(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	deleteURL := func(a *models.Article) string { return views.ArticlePath(a.ID) + "delete/" }

	t.Run("GET asks the author to confirm", func(t *testing.T) {
		a := app.createArticle(alice, "Keep", "x")
		c := app.client()
		c.loginAs("alice", goodPassword)
		res := c.get(deleteURL(a))
		wantStatus(t, res, http.StatusOK)
		if res.doc(t).Find(`form[data-testid="article-delete-confirm"]`).Length() != 1 {
			t.Fatalf("no confirmation form:\n%s", res.body)
		}
		if app.count("SELECT COUNT(*) FROM articles WHERE id = ?", a.ID) != 1 {
			t.Fatal("a GET deleted the article")
		}
	})
	t.Run("another user gets 403", func(t *testing.T) {
		a := app.createArticle(alice, "Alice's", "x")
		bob := app.client()
		bob.loginAs("bob", goodPassword)
		wantStatus(t, bob.postForm(views.ArticlePath(a.ID), deleteURL(a), url.Values{"confirm": {"yes"}}), http.StatusForbidden)
		if app.count("SELECT COUNT(*) FROM articles WHERE id = ?", a.ID) != 1 {
			t.Fatal("bob deleted alice's article")
		}
	})
	t.Run("anonymous is sent to log in, then to the article, not to a 405", func(t *testing.T) {
		a := app.createArticle(alice, "Still here", "x")
		c := app.client()
		res := c.postForm("/accounts/login/", deleteURL(a), url.Values{"confirm": {"yes"}})
		want := "/accounts/login/?next=" + url.QueryEscape(views.ArticlePath(a.ID))
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Fatalf("anonymous POST delete: %d → %q, want 302 → %q", res.StatusCode, res.Header.Get("Location"), want)
		}
		if app.count("SELECT COUNT(*) FROM articles WHERE id = ?", a.ID) != 1 {
			t.Fatal("an anonymous POST deleted the article")
		}
		res = c.postForm(want, want, url.Values{"username": {"alice"}, "password": {goodPassword}})
		wantRedirect(t, res, false, views.ArticlePath(a.ID))
		wantStatus(t, c.get(views.ArticlePath(a.ID)), http.StatusOK)
	})
	t.Run("without JavaScript, a confirmation page first", func(t *testing.T) {
		a := app.createArticle(alice, "Confirm me", "x")
		c := app.client()
		c.loginAs("alice", goodPassword)
		res := c.postForm(views.ArticlePath(a.ID), deleteURL(a), nil)
		wantStatus(t, res, http.StatusOK)
		if res.doc(t).Find(`form[data-testid="article-delete-confirm"]`).Length() != 1 {
			t.Fatalf("no confirmation form:\n%s", res.body)
		}
		if app.count("SELECT COUNT(*) FROM articles WHERE id = ?", a.ID) != 1 {
			t.Fatal("deleted without confirmation")
		}
		res = c.postForm(views.ArticlePath(a.ID), deleteURL(a), url.Values{"confirm": {"yes"}})
		wantRedirect(t, res, false, "/articles/")
		if app.count("SELECT COUNT(*) FROM articles WHERE id = ?", a.ID) != 0 {
			t.Fatal("the article survived its confirmed delete")
		}
	})
	t.Run("htmx from the detail page redirects", func(t *testing.T) {
		a := app.createArticle(alice, "From detail", "x")
		c := app.htmxClient()
		c.loginAs("alice", goodPassword)
		res := c.postForm(views.ArticlePath(a.ID), deleteURL(a), url.Values{"confirm": {"yes"}})
		wantRedirect(t, res, true, "/articles/")
	})
	t.Run("htmx from the index removes the entry in place", func(t *testing.T) {
		a := app.createArticle(alice, "From index", "x")
		c := app.htmxClient()
		c.loginAs("alice", goodPassword)
		token := c.csrfToken("/articles/")
		req, _ := http.NewRequest(http.MethodPost, app.url+deleteURL(a), strings.NewReader(url.Values{"csrfmiddlewaretoken": {token}, "confirm": {"yes"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", token)
		req.Header.Set("HX-Target", fmt.Sprintf("article-%d", a.ID))
		res := c.do(req)
		wantStatus(t, res, http.StatusOK)
		if res.Header.Get("HX-Redirect") != "" || strings.Contains(res.body, "<html") {
			t.Fatalf("an in-place delete answered with a redirect or a page:\n%s", res.body)
		}
		// The entry swaps for the message, where the user pressed Delete.
		if got := res.text(t, `li[data-testid="article-deleted"]`); !strings.Contains(got, "was deleted") {
			t.Errorf("the entry did not swap for the message:\n%s", res.body)
		}
		if app.count("SELECT COUNT(*) FROM articles WHERE id = ?", a.ID) != 0 {
			t.Fatal("the article survived")
		}
	})
}

func TestArticleHTMLIsEscaped(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	a := app.createArticle(alice, `<script>alert("title")</script>`, "<img src=x onerror=alert(1)>\n<b>bold?</b>")
	for _, path := range []string{"/articles/", views.ArticlePath(a.ID)} {
		res := app.client().get(path)
		if strings.Contains(res.body, "<script>alert") || strings.Contains(res.body, "<img src=x") || strings.Contains(res.body, "<b>bold") {
			t.Errorf("%s renders HTML from an article:\n%s", path, res.body)
		}
		if !strings.Contains(res.body, "&lt;script&gt;") {
			t.Errorf("%s does not show the title as text", path)
		}
	}
}

func TestAccountDeleteDeletesArticles(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	bob := app.createUser("bob", goodPassword)
	app.createArticle(alice, "Alice 1", "x")
	app.createArticle(alice, "Alice 2", "x")
	app.createArticle(bob, "Bob 1", "x")
	c := app.client()
	c.loginAs("alice", goodPassword)
	wantRedirect(t, c.postForm("/accounts/delete/", "/accounts/delete/", url.Values{"password": {goodPassword}}), false, "/articles/")
	if n := app.count("SELECT COUNT(*) FROM articles WHERE author_id = ?", alice.ID); n != 0 {
		t.Fatalf("%d of alice's articles survived her account", n)
	}
	if n := app.count("SELECT COUNT(*) FROM articles"); n != 1 {
		t.Fatalf("%d articles left, want bob's 1", n)
	}
}

func TestArticlePaging(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	app.seedArticles(alice, 45)
	c := app.client()
	tests := []struct {
		query       string
		first, last string
		count       int
	}{
		{"", "Article 45", "Article 26", 20},
		{"?page=2", "Article 25", "Article 6", 20},
		{"?page=3", "Article 5", "Article 1", 5},
		{"?page=4", "Article 5", "Article 1", 5},
		{"?page=99999999999999999999", "Article 45", "Article 26", 20},
		{"?page=abc", "Article 45", "Article 26", 20},
		{"?page=0", "Article 45", "Article 26", 20},
		{"?page=-3", "Article 45", "Article 26", 20},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := c.get("/articles/" + tt.query)
			wantStatus(t, res, http.StatusOK)
			got := titles(t, res)
			if len(got) != tt.count || got[0] != tt.first || got[len(got)-1] != tt.last {
				t.Fatalf("titles %q, want %d from %q to %q", got, tt.count, tt.first, tt.last)
			}
		})
	}
	nav := c.get("/articles/?page=2").text(t, `[data-testid="pagination"]`)
	if !strings.Contains(nav, "Page 2 of 3") || !strings.Contains(nav, "Previous") || !strings.Contains(nav, "Next") {
		t.Errorf("pagination reads %q", nav)
	}
}

func TestArticlePagingAtScale(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	app.seedArticles(alice, 100_000)
	c := app.client()

	first := titles(t, c.get("/articles/"))
	if len(first) != 20 || first[0] != "Article 100000" || first[19] != "Article 99981" {
		t.Fatalf("first page: %q", first)
	}
	deep := titles(t, c.get("/articles/?page=4000"))
	if len(deep) != 20 || deep[0] != "Article 20020" || deep[19] != "Article 20001" {
		t.Fatalf("page 4000: %q", deep)
	}
	last := c.get("/articles/?page=5000")
	if got := titles(t, last); len(got) != 20 || got[19] != "Article 1" {
		t.Fatalf("last page: %q", got)
	}
	if nav := last.text(t, `[data-testid="pagination"]`); !strings.Contains(nav, "Page 5000 of 5000") {
		t.Fatalf("pagination reads %q", nav)
	}

	// The newest-first query reads the index, not the table.
	var plan []struct {
		ID, Parent, Notused int
		Detail              string
	}
	if err := app.db.NewRaw("EXPLAIN QUERY PLAN SELECT id FROM articles ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 99980").Scan(context.Background(), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 || !strings.Contains(plan[0].Detail, "COVERING INDEX articles_newest") {
		t.Fatalf("query plan: %+v", plan)
	}
}

// TestArticleIndexSharedAcrossViewers checks that the index, cached once for
// all viewers, gives each viewer the delete buttons of their own articles
// only.
func TestArticleIndexSharedAcrossViewers(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	bob := app.createUser("bob", goodPassword)
	mine := app.createArticle(alice, "Alice's", "x")
	theirs := app.createArticle(bob, "Bob's", "x")
	viewers := []struct {
		username string
		own      *models.Article
	}{{"alice", mine}, {"bob", theirs}, {"", nil}, {"alice", mine}}
	for _, v := range viewers {
		c := app.client()
		if v.username != "" {
			c.loginAs(v.username, goodPassword)
		}
		res := c.get("/articles/")
		wantStatus(t, res, 200)
		buttons := res.doc(t).Find(`[data-testid="article-delete"]`)
		if v.own == nil {
			if buttons.Length() != 0 {
				t.Errorf("an anonymous visitor got %d delete buttons", buttons.Length())
			}
			continue
		}
		if buttons.Length() != 1 {
			t.Fatalf("%s got %d delete buttons, want 1", v.username, buttons.Length())
		}
		if action, _ := buttons.Attr("formaction"); action != views.ArticleDeletePath(v.own.ID) {
			t.Errorf("%s got a delete button for %s, want %s", v.username, action, views.ArticleDeletePath(v.own.ID))
		}
	}
}

// A title refuses control and direction characters as names do, and the
// titles and names shown in lists and the admin's log are isolated (<bdi>),
// so one written before the rule cannot reorder the words around it
// (issue 18.7).
func TestArticleTitleBidi(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	staff := app.createStaff("staff", true)
	c := app.client()
	c.loginAs("staff", goodPassword)
	for _, title := range []string{"abc\u202edef", "a\u2066b", "tab\there", "rlm\u200f"} {
		res := c.postForm("/articles/create/", "/articles/create/", url.Values{"title": {title}, "content": {"x"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := res.text(t, "#id_title_error"); !strings.Contains(got, "without control or direction characters") {
			t.Errorf("title %q: error %q", title, got)
		}
	}
	const spoof = "gnp.\u202eexe"
	a := app.createArticle(staff, spoof, "from before the rule")
	if got := c.get("/articles/").text(t, `[data-testid="article"] .article-title bdi`); got != spoof {
		t.Errorf("the list isolates %q, want the title", got)
	}
	if got := c.get("/admin/articles/").text(t, `[data-testid="article-link"] bdi`); got != spoof {
		t.Errorf("the admin's list isolates %q, want the title", got)
	}
	wantRedirect(t, c.postForm(fmt.Sprintf("/admin/articles/%d/delete/", a.ID), fmt.Sprintf("/admin/articles/%d/delete/", a.ID),
		url.Values{"confirm": {"yes"}}), false, "/admin/articles/")
	log := c.get("/admin/log/")
	if got, want := log.text(t, `[data-testid="log-entry"] bdi.object-repr`), "“\u2068"+spoof+"\u2069” by \u2068staff\u2069"; got != want {
		t.Errorf("the admin log isolates %q, want %q", got, want)
	}
	if got := log.text(t, `[data-testid="log-entry"] bdi.username`); got != "staff" {
		t.Errorf("the admin log isolates %q, want the actor's name", got)
	}
}

// TestPagesFitTheWriteBuffer: the logged-in index with a full page of one's
// own articles (each with its edit and delete controls), headers included,
// fits the server's write buffer in both languages, so it leaves in one
// write(2) rather than two.
func TestPagesFitTheWriteBuffer(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	author := app.createUser("bench", goodPassword)
	app.seedArticles(author, 40)
	for _, language := range []string{"en", "ko"} {
		c := app.client()
		c.acceptLanguage = language
		c.loginAs("bench", goodPassword)
		res := c.get("/articles/")
		wantStatus(t, res, http.StatusOK)
		if n := len(titles(t, res)); n != 20 {
			t.Fatalf("%s: %d articles on the page, want a full page of 20", language, n)
		}
		dump, err := httputil.DumpResponse(res.Response, false)
		if err != nil {
			t.Fatal(err)
		}
		if size := len(dump) + len(res.body); size > handlers.WriteBufferSize {
			t.Errorf("%s: the index and its headers are %d bytes, over the %d-byte write buffer", language, size, handlers.WriteBufferSize)
		}
	}
}

// TestIndexCountFollowsWrites: the number of pages, from the kept article
// count, follows the writes that change it in every page and language — an
// article written, and a user deleted with theirs.
func TestIndexCountFollowsWrites(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	bob := app.createUser("bob", goodPassword)
	app.seedArticles(alice, 20)
	c := app.client()
	pages := func(path string) string {
		t.Helper()
		res := c.get(path)
		wantStatus(t, res, http.StatusOK)
		return res.text(t, `[data-testid="pagination"] [aria-current="page"]`)
	}
	ko := app.client()
	ko.acceptLanguage = "ko"
	koPages := func() string {
		t.Helper()
		return ko.get("/articles/").text(t, `[data-testid="pagination"] [aria-current="page"]`)
	}
	if got := pages("/articles/"); got != "" {
		t.Fatalf("20 articles show pages %q, want one page and no pagination", got)
	}
	koBefore := koPages()
	app.createArticle(bob, "Bob's", "The 21st.")
	if got := pages("/articles/"); got != "Page 1 of 2" {
		t.Errorf("after a 21st article: %q, want Page 1 of 2", got)
	}
	if got := pages("/articles/?page=2"); got != "Page 2 of 2" {
		t.Errorf("page 2: %q, want Page 2 of 2", got)
	}
	if got := koPages(); got == koBefore || got == "" {
		t.Errorf("in Korean, after a 21st article: %q (before %q)", got, koBefore)
	}
	if err := models.DeleteUser(context.Background(), app.db, app.store.Sessions, bob.ID); err != nil {
		t.Fatal(err)
	}
	if got := pages("/articles/"); got != "" {
		t.Errorf("with bob and his article deleted: %q, want one page again", got)
	}
}
