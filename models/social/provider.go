// Package social logs people in with their accounts at other sites:
// OpenID Connect providers (Google, Kakao, any issuer), with PKCE, a nonce
// and the ID token's issuer, audience, expiry and signature checked by
// go-oidc; OAuth 2 sites without OpenID Connect (Naver, GitHub), with PKCE
// and their user-info endpoints; and the accounts at those sites tied to
// Gatehouse users.
package social

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Provider is a site people log in with, as configured.
type Provider struct {
	Name         string // in URLs: lower case
	Label        string // "Log in with <Label>"
	ClientID     string
	ClientSecret string
	Issuer       string // OpenID Connect issuer: discovery at <Issuer>/.well-known/openid-configuration
	// The endpoints of an OAuth 2 site without OpenID Connect (Naver,
	// GitHub): their defaults, which tests point at local fakes.
	AuthURL, TokenURL, UserInfoURL string
}

// DefaultIssuers are the OpenID Connect issuers of the providers built in.
var DefaultIssuers = map[string]string{
	"google": "https://accounts.google.com",
	"kakao":  "https://kauth.kakao.com",
}

// defaultLabels name the providers built in.
var defaultLabels = map[string]string{"google": "Google", "kakao": "Kakao", "naver": "Naver", "github": "GitHub"}

// Check completes p (the issuer and label of a provider built in) and says
// what is wrong with it: no client, no issuer, or an http:// issuer that is
// not on this machine (tokens would cross the network in clear).
func (p Provider) Check() (Provider, error) {
	if site, ok := oauth2Sites[p.Name]; ok && p.Issuer == "" {
		p.AuthURL = cmp.Or(p.AuthURL, site.auth)
		p.TokenURL = cmp.Or(p.TokenURL, site.token)
		p.UserInfoURL = cmp.Or(p.UserInfoURL, site.userInfo)
	} else if p.Issuer == "" {
		p.Issuer = DefaultIssuers[p.Name]
	}
	if p.Label == "" {
		p.Label = defaultLabels[p.Name]
	}
	if p.Label == "" {
		p.Label = p.Name
	}
	switch {
	case p.Name == "" || strings.ToLower(p.Name) != p.Name || strings.ContainsAny(p.Name, "/?#% "):
		return p, fmt.Errorf("social: provider name %q: lower-case letters and digits", p.Name)
	case p.ClientID == "" || p.ClientSecret == "":
		return p, fmt.Errorf("social: provider %s: a client id and a client secret are needed", p.Name)
	case p.Issuer == "" && p.AuthURL == "":
		return p, fmt.Errorf("social: provider %s: no issuer (GATEHOUSE_SOCIAL_%s_ISSUER)", p.Name, strings.ToUpper(p.Name))
	}
	for _, address := range []string{p.Issuer, p.AuthURL, p.TokenURL, p.UserInfoURL} {
		if address == "" {
			continue
		}
		u, err := url.Parse(address)
		if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return p, fmt.Errorf("social: provider %s: %q must be https:// (http:// only on a loopback host)", p.Name, address)
		}
	}
	return p, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client logs people in with one provider. The provider's configuration is
// discovered at the first login, not at start: a provider that is down
// must not keep the site from starting.
type Client struct {
	Provider
	redirectURL string
	now         func() time.Time

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewClient is a client of p, which the provider sends back to redirectURL.
func NewClient(p Provider, redirectURL string, now func() time.Time) *Client {
	return &Client{Provider: p, redirectURL: redirectURL, now: now}
}

// FormOrigins are the origins the login button's form leads the browser
// to (the authorization endpoint's): the pages' Content-Security-Policy
// must allow them as form-action, or the browser stops at the redirect.
func (p Provider) FormOrigins() []string {
	var origins []string
	for _, address := range []string{p.Issuer, p.AuthURL} {
		if origin := originOf(address); origin != "" && !slices.Contains(origins, origin) {
			origins = append(origins, origin)
		}
	}
	return origins
}

// originOf is the scheme, host and port of an absolute URL, or "".
func originOf(address string) string {
	u, err := url.Parse(address)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// discover reads the provider's configuration once it answers.
func (c *Client) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.oauth != nil {
		return c.oauth, c.verifier, nil
	}
	if c.Issuer == "" { // OAuth 2 without OpenID Connect: no discovery, no ID token
		c.oauth = &oauth2.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.redirectURL,
			Endpoint: oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL}, Scopes: oauth2Sites[c.Name].scopes,
		}
		return c.oauth, nil, nil
	}
	provider, err := oidc.NewProvider(ctx, c.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("social: %s: discovery: %w", c.Name, err)
	}
	endpoint := provider.Endpoint()
	if c.AuthURL != "" {
		endpoint.AuthURL = c.AuthURL
	}
	if origin := originOf(endpoint.AuthURL); !slices.Contains(c.FormOrigins(), origin) {
		// The pages allow forms to lead to FormOrigins only (CSP
		// form-action): a browser would stop at the redirect.
		return nil, nil, fmt.Errorf("social: %s: the authorization endpoint %s is not at the issuer's origin; set GATEHOUSE_SOCIAL_%s_AUTH_URL to it",
			c.Name, endpoint.AuthURL, strings.ToUpper(c.Name))
	}
	c.oauth = &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.redirectURL,
		Endpoint: endpoint, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
	c.verifier = provider.Verifier(&oidc.Config{ClientID: c.ClientID, Now: c.now})
	return c.oauth, c.verifier, nil
}

// Start is where to send the browser: the provider's authorization page,
// asking for a code bound to state, nonce and the PKCE verifier (S256).
func (c *Client) Start(ctx context.Context, state, nonce, verifier string) (string, error) {
	config, _, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	if c.Issuer == "" {
		return config.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
	}
	return config.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Person is who the provider says logged in.
type Person struct {
	Subject           string // the provider's id of the account: never reused
	Email             string
	EmailVerified     bool
	PreferredUsername string
}

// ErrRefused is a callback that proves no one: a code the provider will
// not exchange, or an ID token whose signature, issuer, audience, expiry or
// nonce is wrong.
var ErrRefused = errors.New("social: the provider's answer proves no one")

// Finish exchanges the code (with the PKCE verifier) and checks the ID
// token it brings, nonce included; it returns who logged in.
func (c *Client) Finish(ctx context.Context, code, verifier, nonce string) (*Person, error) {
	config, idVerifier, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	token, err := config.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: exchange: %v", ErrRefused, err)
	}
	if c.Issuer == "" {
		person, err := oauth2Sites[c.Name].read(ctx, config.Client(ctx, token), c.UserInfoURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %s user info: %v", ErrRefused, c.Name, err)
		}
		if person.Subject == "" {
			return nil, fmt.Errorf("%w: no id in the user info", ErrRefused)
		}
		return person, nil
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no ID token", ErrRefused)
	}
	idToken, err := idVerifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if idToken.Nonce == "" || idToken.Nonce != nonce {
		return nil, fmt.Errorf("%w: wrong nonce", ErrRefused)
	}
	var claims struct {
		Email             string `json:"email"`
		EmailVerified     any    `json:"email_verified"` // a bool, or "true" from some providers
		PreferredUsername string `json:"preferred_username"`
		Nickname          string `json:"nickname"`
	}
	if err := idToken.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrRefused, err)
	}
	p := &Person{Subject: idToken.Subject, Email: strings.TrimSpace(claims.Email), PreferredUsername: claims.PreferredUsername}
	if p.PreferredUsername == "" {
		p.PreferredUsername = claims.Nickname
	}
	switch v := claims.EmailVerified.(type) {
	case bool:
		p.EmailVerified = v
	case string:
		p.EmailVerified = v == "true"
	}
	if p.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrRefused)
	}
	return p, nil
}
