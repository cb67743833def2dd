package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"gatehouse/models"
)

// BenchmarkArticleIndexLoggedIn serves GET /articles/ to a logged-in user
// through the whole app in memory: session → current user, CSRF, the index
// (cached) and the page render, without the network.
func BenchmarkArticleIndexLoggedIn(b *testing.B) {
	app := newTestApp(b)
	alice := app.createUser("alice", goodPassword)
	for range 20 {
		app.createArticle(alice, "An article", "Its content")
	}
	c := app.client()
	c.loginAs("alice", goodPassword)
	cookie := "sessionid=" + c.cookie("sessionid") + "; csrftoken=" + c.cookie("csrftoken")
	handler := app.app.Handler()

	var req fasthttp.Request
	req.SetRequestURI("/articles/")
	req.Header.Set("Cookie", cookie)
	var ctx fasthttp.RequestCtx
	for b.Loop() {
		ctx.ResetUserValues() // Fiber's Locals, the cache snapshot among them
		ctx.Init(&req, nil, nil)
		handler(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
	}
	if !strings.Contains(string(ctx.Response.Body()), `data-testid="username">alice<`) {
		b.Fatal("the page was not served to the logged-in user")
	}
}

// BenchmarkArticleIndexManyUsers serves the logged-in index (page 1, page 2
// one time in ten) to 50 users in turn, and with writes, creates an article
// every 100th request, as the many-users scenario of cmd/bench does.
func BenchmarkArticleIndexManyUsers(b *testing.B) {
	for _, writes := range []bool{false, true} {
		name := "read-only"
		if writes {
			name = "1%-writes"
		}
		b.Run(name, func(b *testing.B) {
			app := newTestApp(b)
			const users = 50
			var cookies []string
			var authors []*models.User
			for i := range users {
				username := fmt.Sprintf("user%d", i)
				u := app.createUser(username, goodPassword)
				authors = append(authors, u)
				c := app.client()
				c.loginAs(username, goodPassword)
				cookies = append(cookies, "sessionid="+c.cookie("sessionid")+"; csrftoken="+c.cookie("csrftoken"))
			}
			for i := range 40 {
				app.createArticle(authors[i%users], "An article", "Its content")
			}
			handler := app.app.Handler()
			var req fasthttp.Request
			var ctx fasthttp.RequestCtx
			i := 0
			for b.Loop() {
				i++
				if writes && i%100 == 0 {
					app.createArticle(authors[i%users], "Another article", "Its content")
					continue
				}
				req.Reset()
				if i%10 == 0 {
					req.SetRequestURI("/articles/?page=2")
				} else {
					req.SetRequestURI("/articles/")
				}
				req.Header.Set("Cookie", cookies[i%users])
				ctx.ResetUserValues() // Fiber's Locals, the cache snapshot among them
				ctx.Init(&req, nil, nil)
				handler(&ctx)
				if ctx.Response.StatusCode() != fasthttp.StatusOK {
					b.Fatalf("status %d", ctx.Response.StatusCode())
				}
			}
		})
	}
}
