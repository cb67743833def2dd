package social

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// oauth2Site is an OAuth 2 provider without OpenID Connect: its endpoints,
// the scopes to ask for, and how to read the person from its API.
type oauth2Site struct {
	auth, token, userInfo string
	scopes                []string
	read                  func(ctx context.Context, client *http.Client, userInfoURL string) (*Person, error)
}

// oauth2Sites are the OAuth-2-only providers built in.
var oauth2Sites = map[string]oauth2Site{
	"naver": {
		auth: "https://nid.naver.com/oauth2.0/authorize", token: "https://nid.naver.com/oauth2.0/token",
		userInfo: "https://openapi.naver.com/v1/nid/me", read: readNaver,
	},
	"github": {
		auth: "https://github.com/login/oauth/authorize", token: "https://github.com/login/oauth/access_token",
		userInfo: "https://api.github.com/user", scopes: []string{"read:user", "user:email"}, read: readGitHub,
	},
}

// getJSON reads a JSON answer of the provider's API into v.
func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", url, res.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(v)
}

// readNaver reads Naver's profile API. Naver does not say that the address
// is verified, so it is stored unconfirmed.
func readNaver(ctx context.Context, client *http.Client, userInfoURL string) (*Person, error) {
	var answer struct {
		ResultCode string `json:"resultcode"`
		Response   struct {
			ID       string `json:"id"`
			Email    string `json:"email"`
			Nickname string `json:"nickname"`
		} `json:"response"`
	}
	if err := getJSON(ctx, client, userInfoURL, &answer); err != nil {
		return nil, err
	}
	if answer.ResultCode != "00" {
		return nil, fmt.Errorf("result code %q", answer.ResultCode)
	}
	r := answer.Response
	return &Person{Subject: r.ID, Email: r.Email, PreferredUsername: r.Nickname}, nil
}

// readGitHub reads GitHub's user API, and its primary verified address from
// <user info>/emails (the profile's public address may be none, or unverified).
func readGitHub(ctx context.Context, client *http.Client, userInfoURL string) (*Person, error) {
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
	}
	if err := getJSON(ctx, client, userInfoURL, &user); err != nil {
		return nil, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := getJSON(ctx, client, userInfoURL+"/emails", &emails); err != nil {
		return nil, err
	}
	p := &Person{PreferredUsername: user.Login}
	if user.ID != 0 {
		p.Subject = strconv.FormatInt(user.ID, 10)
	}
	for _, e := range emails {
		if e.Primary {
			p.Email, p.EmailVerified = e.Email, e.Verified
		}
	}
	return p, nil
}
