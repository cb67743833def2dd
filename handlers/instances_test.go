package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/views"
)

// on is the same browser (the same cookie jar) talking to another instance.
func (c *client) on(app *testApp) *client {
	other := *c
	other.app = app
	return &other
}

// eventually runs check until it returns "" and returns how many times it
// ran, failing the test with check's last complaint after a second. Another
// instance learns of a write when PostgreSQL delivers the notification,
// well under a millisecond later; the bound only keeps a slow machine from
// failing the test, while a poll interval (the SQLite cache's is 100 ms)
// would show in the time logged.
func eventually(t *testing.T, check func() string) (tries int) {
	t.Helper()
	start := time.Now()
	for {
		tries++
		problem := check()
		if problem == "" {
			return tries
		}
		if time.Since(start) > time.Second {
			t.Fatalf("%s (still after %v)", problem, time.Since(start))
		}
		time.Sleep(time.Millisecond)
	}
}

// TestTwoInstances runs two apps on one PostgreSQL database, as two
// instances behind a proxy with no sticky sessions: whatever one does, the
// other sees on its next request. Session payloads live in the database,
// or in Redis.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	for _, payloads := range []string{"database", "redis"} {
		t.Run(payloads, func(t *testing.T) {
			t.Parallel()
			dbURL := dbtest.Postgres(t)
			var opts []models.Option
			if payloads == "redis" {
				opts = append(opts, models.WithSessionStore(dbtest.Redis(t)))
			}
			a := newTestAppOn(t, handlers.Config{}, dbURL, opts...)
			b := newTestAppOn(t, handlers.Config{}, dbURL, opts...)
			alice := a.createUser("alice", goodPassword)
			b.createUser("bob", goodPassword)

			t.Run("log in on A, go on on B", func(t *testing.T) {
				onA := a.client()
				onA.loginAs("alice", goodPassword)
				onB := onA.on(b)
				if got := onB.loggedInAs(); got != "alice" {
					t.Fatalf("B greets %q, want alice", got)
				}
				res := onB.postForm("/articles/create/", "/articles/create/", url.Values{"title": {"Written on B"}, "content": {"Hello"}})
				wantStatus(t, res, http.StatusSeeOther)
			})

			t.Run("log out on B, the cookie is dead on A at once", func(t *testing.T) {
				onA := a.client()
				onA.loginAs("alice", goodPassword)
				cookie := onA.cookie("sessionid")
				if got := onA.loggedInAs(); got != "alice" {
					t.Fatalf("A greets %q, want alice", got)
				}
				wantStatus(t, onA.on(b).postForm("/articles/", "/accounts/logout/", nil), http.StatusSeeOther)
				replay := a.client()
				replay.setCookie("sessionid", cookie)
				if got := replay.loggedInAs(); got != "" {
					t.Fatalf("after logging out on B, the cookie is still alice's on A (header %q)", got)
				}
				if got := onA.loggedInAs(); got != "" {
					t.Fatalf("after logging out on B, A greets %q", got)
				}
			})

			t.Run("an article edited on A shows on B", func(t *testing.T) {
				article := a.createArticle(alice, "Original title", "Original content")
				path := views.ArticlePath(article.ID)
				reader := b.client()
				for _, page := range []string{path, "/articles/"} {
					if res := reader.get(page); !strings.Contains(res.body, "Original title") {
						t.Fatalf("B's %s does not show the article:\n%s", page, res.body)
					}
				}
				author := a.client()
				author.loginAs("alice", goodPassword)
				res := author.postForm(path+"update/", path+"update/", url.Values{"title": {"Edited on A"}, "content": {"New content"}})
				wantStatus(t, res, http.StatusSeeOther)
				for _, page := range []string{path, "/articles/"} {
					tries := eventually(t, func() string {
						if res := reader.get(page); !strings.Contains(res.body, "Edited on A") {
							return "B's " + page + " still shows the article as it was"
						}
						return ""
					})
					t.Logf("B showed the edit on %s at try %d", page, tries)
				}
			})

			t.Run("a password change on A ends the other sessions on B", func(t *testing.T) {
				changer := a.client()
				changer.loginAs("alice", goodPassword)
				other := b.client()
				other.loginAs("alice", goodPassword)
				const newPassword = "a brand new passphrase"
				res := changer.postForm("/accounts/password/", "/accounts/password/", url.Values{
					"old_password": {goodPassword}, "new_password1": {newPassword}, "new_password2": {newPassword},
				})
				wantRedirect(t, res, false, "/accounts/password/")
				if got := other.loggedInAs(); got != "" {
					t.Fatalf("the session on B is still logged in as %q", got)
				}
				if got := other.on(a).loggedInAs(); got != "" {
					t.Fatalf("the session ended on B is logged in on A as %q", got)
				}
				if got := changer.on(b).loggedInAs(); got != "alice" {
					t.Fatalf("the session that changed the password is not alice's on B (header %q)", got)
				}
				res = b.client().postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {"alice"}, "password": {goodPassword}})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				b.client().loginAs("alice", newPassword)
			})

			t.Run("failed logins counted on A throttle on B", func(t *testing.T) {
				guesser := a.client()
				for i := range 5 {
					res := atkLogin(guesser, "bob", "guess "+string(rune('a'+i)))
					wantStatus(t, res, http.StatusUnprocessableEntity)
				}
				atkWantThrottled(t, atkLogin(b.client(), "bob", goodPassword), 15*time.Minute)
			})
		})
	}
}
