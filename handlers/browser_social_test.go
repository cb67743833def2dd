//go:build browser

package handlers_test

import (
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"gatehouse/handlers"
	"gatehouse/models/social"
	"gatehouse/views"
)

// TestBrowserSocialLogin goes through the real redirects, with and without
// JavaScript: a new person signs up at the mock provider "Mock", logs out,
// logs in again, connects a second provider, "Other", disconnects Mock,
// and is refused disconnecting Other, their last way in.
func TestBrowserSocialLogin(t *testing.T) {
	for _, js := range []bool{true, false} {
		t.Run(map[bool]string{true: "js", false: "nojs"}[js], func(t *testing.T) {
			mock, other := mockProvider(t), mockProvider(t)
			app := newTestAppWith(t, handlers.Config{SocialProviders: []social.Provider{
				{Name: "mock", Label: "Mock", ClientID: mock.ClientID, ClientSecret: mock.ClientSecret, Issuer: mock.Issuer()},
				{Name: "other", Label: "Other", ClientID: other.ClientID, ClientSecret: other.ClientSecret, Issuer: other.Issuer()},
			}})
			b := newBrowserOn(t, app)
			tb := b.tab(js)
			neo := mockoidc.MockUser{Subject: "neo-at-mock", Email: "neo@example.com", EmailVerified: true, PreferredUsername: "neo"}

			tb.open(views.PathLogin)
			tb.everyScheme("social-login")
			mock.QueueUser(&neo)
			tb.clickThrough(`[data-testid="social-login-mock"] button`)
			if tb.path() != views.PathArticles || tb.text(`[data-testid="username"]`) != "neo" {
				t.Fatalf("after the provider: %s, greeted %q", tb.path(), tb.text(`[data-testid="username"]`))
			}
			if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "Welcome, neo") {
				t.Errorf("welcome message: %q", got)
			}
			tb.logOut()

			tb.open(views.PathLogin)
			mock.QueueUser(&neo)
			tb.clickThrough(`[data-testid="social-login-mock"] button`)
			if tb.text(`[data-testid="username"]`) != "neo" {
				t.Fatalf("logging in again: %s, greeted %q", tb.path(), tb.text(`[data-testid="username"]`))
			}

			tb.open(views.PathSocial)
			other.QueueUser(&mockoidc.MockUser{Subject: "neo-at-other", Email: "neo@other.example", EmailVerified: true})
			tb.clickThrough(`[data-testid="social-connect-other"] button`)
			if tb.path() != views.PathSocial || tb.count(`[data-testid="social-connection"]`) != 2 {
				t.Fatalf("after connecting Other: %s, %d connections", tb.path(), tb.count(`[data-testid="social-connection"]`))
			}
			tb.everyScheme("social-two-connected")
			tb.clickThrough(`[data-testid="social-connection"]:first-child button`)
			if tb.count(`[data-testid="social-connection"]`) != 1 || !strings.Contains(tb.text(`[data-testid="messages"]`), "Mock is disconnected") {
				t.Fatalf("after disconnecting Mock: %d connections, %q", tb.count(`[data-testid="social-connection"]`), tb.text(`[data-testid="messages"]`))
			}
			if status := tb.clickThrough(`[data-testid="social-connection"] button`); status != 409 {
				t.Errorf("disconnecting the last way in answered %d", status)
			}
			if got := tb.text(`[data-testid="social-problem"]`); !strings.Contains(got, "only way to log in") {
				t.Errorf("refusal: %q", got)
			}
			tb.everyScheme("social-last-way-in")
		})
	}
}
