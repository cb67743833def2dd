package social_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"gatehouse/models/social"
)

// authorize runs the provider's side of a login started with client: the
// code it sends back.
func authorize(t *testing.T, client *social.Client, state, nonce, verifier string) string {
	t.Helper()
	start, err := client.Start(context.Background(), state, nonce, verifier)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || back.Query().Get("state") != state {
		t.Fatalf("the provider sent back %q", res.Header.Get("Location"))
	}
	return back.Query().Get("code")
}

// TestFinishRefuses: an ID token with another nonce, an expired one, a code
// exchanged without its PKCE verifier, or for another client, proves no one.
func TestFinishRefuses(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	p, err := social.Provider{Name: "mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}.Check()
	if err != nil {
		t.Fatal(err)
	}
	client := social.NewClient(p, "http://127.0.0.1:1/accounts/social/mock/callback/", time.Now)
	ctx := context.Background()
	const verifier = "a-verifier-of-forty-three-characters-or-more-1234"

	code := authorize(t, client, "s1", "n1", verifier)
	if person, err := client.Finish(ctx, code, verifier, "n1"); err != nil || person.Subject == "" {
		t.Fatalf("the right answer: %+v, %v", person, err)
	}
	for name, finish := range map[string]func() error{
		"another nonce": func() error {
			_, err := client.Finish(ctx, authorize(t, client, "s2", "n2", verifier), verifier, "n-other")
			return err
		},
		"another PKCE verifier": func() error {
			_, err := client.Finish(ctx, authorize(t, client, "s3", "n3", verifier), verifier+"x", "n3")
			return err
		},
		"a code used twice": func() error {
			code := authorize(t, client, "s4", "n4", verifier)
			if _, err := client.Finish(ctx, code, verifier, "n4"); err != nil {
				return nil
			}
			_, err := client.Finish(ctx, code, verifier, "n4")
			return err
		},
		"an expired ID token": func() error {
			m.FastForward(-time.Hour)
			defer m.FastForward(time.Hour)
			_, err := client.Finish(ctx, authorize(t, client, "s5", "n5", verifier), verifier, "n5")
			return err
		},
		"another client's": func() error {
			other := social.NewClient(social.Provider{Name: "mock", ClientID: "another-client", ClientSecret: m.ClientSecret, Issuer: m.Issuer()},
				"http://127.0.0.1:1/cb/", time.Now)
			_, err := other.Finish(ctx, code, verifier, "n1")
			return err
		},
	} {
		if err := finish(); !errors.Is(err, social.ErrRefused) {
			t.Errorf("%s: Finish = %v, want ErrRefused", name, err)
		}
	}
}

// TestProviderCheck: a provider needs a client, and an https:// issuer
// (http:// only on this machine); the ones built in know their issuer.
func TestProviderCheck(t *testing.T) {
	good := social.Provider{Name: "google", ClientID: "id", ClientSecret: "secret"}
	if p, err := good.Check(); err != nil || p.Issuer != "https://accounts.google.com" || p.Label != "Google" {
		t.Errorf("google: %+v, %v", p, err)
	}
	if p, err := (social.Provider{Name: "github", ClientID: "id", ClientSecret: "secret"}).Check(); err != nil ||
		p.AuthURL != "https://github.com/login/oauth/authorize" || p.UserInfoURL != "https://api.github.com/user" || p.Issuer != "" {
		t.Errorf("github: %+v, %v", p, err)
	}
	for _, bad := range []social.Provider{
		{Name: "naver", ClientID: "id", ClientSecret: "secret", TokenURL: "http://nid.example.com/token"},
		{Name: "corp", ClientID: "id", ClientSecret: "secret"},
		{Name: "corp", ClientID: "id", ClientSecret: "secret", Issuer: "http://idp.example.com"},
		{Name: "Corp", ClientID: "id", ClientSecret: "secret", Issuer: "https://idp.example.com"},
		{Name: "corp", ClientID: "", ClientSecret: "secret", Issuer: "https://idp.example.com"},
	} {
		if _, err := bad.Check(); err == nil {
			t.Errorf("%+v passed", bad)
		}
	}
	if _, err := (social.Provider{Name: "local", ClientID: "id", ClientSecret: "s", Issuer: "http://127.0.0.1:9999/oidc"}).Check(); err != nil {
		t.Errorf("a loopback http issuer: %v", err)
	}
}
