package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fuzzRoutes are the forms FuzzFormPost posts to: anonymous ones and one
// of a logged-in user.
var fuzzRoutes = []struct {
	path     string
	loggedIn bool
}{
	{"/accounts/signup/", false},
	{"/accounts/login/", false},
	{"/accounts/password_reset/", false},
	{"/articles/create/", true},
	{"/accounts/update/", true},
}

// fuzzContentTypes are the bodies FuzzFormPost sends: a urlencoded form
// and a multipart one after a valid CSRF token, and raw bodies.
var fuzzContentTypes = []string{
	"application/x-www-form-urlencoded",
	"multipart/form-data; boundary=fuzzboundary",
	"application/json",
	"text/plain",
	"",
}

// FuzzFormPost posts any body to the app's forms, as urlencoded or
// multipart forms carrying a valid CSRF token, or raw: every answer is a
// page (2xx, 3xx or 4xx), never a 5xx, whatever the decoding meets. Seeds:
// testdata/fuzz/FuzzFormPost.
func FuzzFormPost(f *testing.F) {
	app := newTestApp(f)
	app.createUser("alice", "correct horse battery")
	anonymous, user := app.client(), app.client()
	user.loginAs("alice", "correct horse battery")
	type sender struct {
		cookies []*http.Cookie
		token   string
	}
	base, _ := url.Parse(app.url)
	senders := map[bool]sender{}
	for loggedIn, c := range map[bool]*client{false: anonymous, true: user} {
		token := c.csrfToken("/accounts/password_reset/")
		senders[loggedIn] = sender{c.http.Jar.Cookies(base), token}
	}
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, route, kind uint8, body []byte) {
		target := fuzzRoutes[int(route)%len(fuzzRoutes)]
		contentType := fuzzContentTypes[int(kind)%len(fuzzContentTypes)]
		s := senders[target.loggedIn]
		switch {
		case strings.HasPrefix(contentType, "application/x-www"):
			body = append([]byte("csrfmiddlewaretoken="+s.token+"&"), body...)
		case strings.HasPrefix(contentType, "multipart/"):
			head := "--fuzzboundary\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n" + s.token + "\r\n"
			body = append([]byte(head), body...)
		}
		req, err := http.NewRequest(http.MethodPost, app.url+target.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("X-CSRF-Token", s.token)
		for _, cookie := range s.cookies {
			req.AddCookie(cookie)
		}
		res, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("POST %s (%s) %q: status %d", target.path, contentType, body, res.StatusCode)
		}
	})
}
