package handlers_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"gatehouse/handlers"
	"gatehouse/models/dbtest"
	"gatehouse/models/social"
	"gatehouse/views"
)

// fakeOAuth2 is an OAuth 2 site without OpenID Connect, as GitHub and Naver
// are: it authorizes at once, exchanges a code only with its PKCE verifier
// and the client's secret, and answers its API with the token it gave.
type fakeOAuth2 struct {
	*httptest.Server
	mu         sync.Mutex
	challenges map[string]string // code → its S256 challenge
	api        map[string]any    // path → JSON answer
}

func newFakeOAuth2(t *testing.T, api map[string]any) *fakeOAuth2 {
	f := &fakeOAuth2{challenges: map[string]string{}, api: api}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "cid" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.challenges["code-1"] = q.Get("code_challenge")
		f.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {"code-1"}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, _ := r.BasicAuth()
		if id == "" {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		f.mu.Lock()
		challenge, ok := f.challenges[r.Form.Get("code")]
		delete(f.challenges, r.Form.Get("code"))
		f.mu.Unlock()
		if !ok || id != "cid" || secret != "csecret" || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"access_token": "token-1", "token_type": "bearer"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		answer, ok := f.api[r.URL.Path]
		if !ok || r.Header.Get("Authorization") != "Bearer token-1" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(answer)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// TestSocialLoginOAuth2Sites: GitHub's primary verified address and
// Naver's (which Naver does not say is verified) make accounts, through
// their endpoints overridden to local fakes; on both engines.
func TestSocialLoginOAuth2Sites(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			github := newFakeOAuth2(t, map[string]any{
				"/user": map[string]any{"id": 583231, "login": "octocat"},
				"/user/emails": []map[string]any{
					{"email": "old@example.com", "primary": false, "verified": true},
					{"email": "octo@example.com", "primary": true, "verified": true},
				},
			})
			naver := newFakeOAuth2(t, map[string]any{
				"/v1/nid/me": map[string]any{"resultcode": "00", "message": "success",
					"response": map[string]any{"id": "naver-77", "email": "minji@naver.com", "nickname": "민지"}},
			})
			site := func(name string, f *fakeOAuth2, userInfo string) social.Provider {
				return social.Provider{Name: name, ClientID: "cid", ClientSecret: "csecret",
					AuthURL: f.URL + "/authorize", TokenURL: f.URL + "/token", UserInfoURL: f.URL + userInfo}
			}
			app := newTestAppOn(t, handlers.Config{SocialProviders: []social.Provider{
				site("github", github, "/user"), site("naver", naver, "/v1/nid/me"),
			}}, engine.URL(t))

			for _, tt := range []struct {
				provider, username, email string
				verified                  bool
			}{
				{"github", "octocat", "octo@example.com", true},
				{"naver", "민지", "minji@naver.com", false},
			} {
				c := app.client()
				if got := c.get(views.PathLogin).text(t, `[data-testid="social-login-`+tt.provider+`"] button`); got == "" {
					t.Fatalf("no %s button on the login page", tt.provider)
				}
				res := c.postForm(views.PathLogin, views.SocialLoginPath(tt.provider), nil)
				wantStatus(t, res, http.StatusSeeOther)
				wantRedirect(t, callback(c, atProvider(t, res.Header.Get("Location"))), false, views.PathArticles)
				if got := c.loggedInAs(); got != tt.username {
					t.Fatalf("%s: logged in as %q", tt.provider, got)
				}
				u := app.user(tt.username)
				if u.Email != tt.email || u.EmailVerified != tt.verified {
					t.Errorf("%s: address %q, confirmed %v; want %q, %v", tt.provider, u.Email, u.EmailVerified, tt.email, tt.verified)
				}
			}
		})
	}
}
