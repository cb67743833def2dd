package handlers_test

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
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
