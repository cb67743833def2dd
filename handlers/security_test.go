package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
)

func TestCSRF(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	signup := url.Values{"username": {"mallory"}, "password1": {goodPassword}, "password2": {goodPassword}}

	t.Run("no token", func(t *testing.T) {
		c := app.client()
		c.get("/accounts/signup/")
		res := c.post("/accounts/signup/", signup)
		wantStatus(t, res, http.StatusForbidden)
		if !strings.Contains(res.body, "CSRF verification failed") {
			t.Errorf("the 403 page does not say why:\n%s", res.body)
		}
	})
	t.Run("forged token", func(t *testing.T) {
		c := app.client()
		c.get("/accounts/signup/")
		form := url.Values{"csrfmiddlewaretoken": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}
		for k, v := range signup {
			form[k] = v
		}
		c.setCookie("csrftoken", form.Get("csrfmiddlewaretoken"))
		wantStatus(t, c.post("/accounts/signup/", form), http.StatusForbidden)
	})
	t.Run("token of another browser", func(t *testing.T) {
		attacker := app.client()
		token := attacker.csrfToken("/accounts/signup/")
		victim := app.client()
		victim.get("/accounts/signup/")
		form := url.Values{"csrfmiddlewaretoken": {token}}
		for k, v := range signup {
			form[k] = v
		}
		wantStatus(t, victim.post("/accounts/signup/", form), http.StatusForbidden)
	})
	t.Run("htmx header without the cookie", func(t *testing.T) {
		token := app.client().csrfToken("/accounts/signup/")
		req, _ := http.NewRequest(http.MethodPost, app.url+"/accounts/signup/", strings.NewReader(signup.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", token)
		req.Header.Set("HX-Request", "true")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", res.StatusCode)
		}
	})
	if app.user("mallory") != nil {
		t.Fatal("a request without a valid CSRF token created an account")
	}

	t.Run("logged-in actions", func(t *testing.T) {
		c := app.client()
		c.loginAs("alice", goodPassword)
		wantStatus(t, c.post("/accounts/delete/", url.Values{"confirm": {"yes"}}), http.StatusForbidden)
		wantStatus(t, c.post("/accounts/update/", url.Values{"email": {"evil@example.com"}}), http.StatusForbidden)
		wantStatus(t, c.post("/accounts/logout/", nil), http.StatusForbidden)
		if u := app.user("alice"); u == nil || u.Email != "" {
			t.Fatalf("a request without a CSRF token changed alice: %+v", u)
		}
		if got := c.loggedInAs(); got != "alice" {
			t.Fatal("a logout without a CSRF token logged alice out")
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.client().get("/articles/")
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
	}
	for header, value := range want {
		if got := res.Header.Get(header); got != value {
			t.Errorf("%s: %q, want %q", header, got, value)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, directive) {
			t.Errorf("CSP %q lacks %q", csp, directive)
		}
	}
	for _, cookie := range res.Cookies() {
		if cookie.Name == "csrftoken" && (!cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode) {
			t.Errorf("csrftoken cookie flags: %+v", cookie)
		}
	}
}

func TestRoutingEdges(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	tests := []struct {
		method, path string
		status       int
		location     string
		allow        string
	}{
		{"GET", "/", http.StatusFound, "/articles/", ""},
		{"GET", "/articles", http.StatusMovedPermanently, "/articles/", ""},
		{"GET", "/accounts/login?next=/accounts/update/", http.StatusMovedPermanently, "/accounts/login/?next=/accounts/update/", ""},
		{"POST", "/accounts/logout", http.StatusPermanentRedirect, "/accounts/logout/", ""},
		{"GET", "/nowhere", http.StatusNotFound, "", ""},
		{"GET", "/nowhere/", http.StatusNotFound, "", ""},
		{"PUT", "/accounts/login/", http.StatusMethodNotAllowed, "", "GET, HEAD, POST"},
		{"DELETE", "/accounts/update/", http.StatusMethodNotAllowed, "", "GET, HEAD, POST"},
		{"POST", "/articles/", http.StatusMethodNotAllowed, "", "GET, HEAD"},
		{"GET", "/healthz", http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, app.url+tt.path, nil)
			res := c.do(req)
			wantStatus(t, res, tt.status)
			if got := res.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if tt.status >= 400 && !strings.Contains(res.body, `data-testid="error"`) {
				t.Errorf("no error page:\n%s", res.body)
			}
		})
	}
}

func TestAssets(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	page := c.get("/articles/").doc(t)
	for _, selector := range []string{`link[rel="stylesheet"]`, `script[src*="htmx"]`} {
		src, _ := page.Find(selector).Attr("href")
		if src == "" {
			src, _ = page.Find(selector).Attr("src")
		}
		res := c.get(src)
		wantStatus(t, res, http.StatusOK)
		if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("%s: Cache-Control %q", src, got)
		}
		if len(res.body) < 100 {
			t.Errorf("%s: body of %d bytes", src, len(res.body))
		}
	}
	wantStatus(t, c.get("/assets/app.css"), http.StatusNotFound)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)

	t.Run("invalid UTF-8", func(t *testing.T) {
		c := app.client()
		res := c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{"username": {"al\xffice"}, "password1": {goodPassword}, "password2": {goodPassword}})
		wantStatus(t, res, http.StatusBadRequest)
		res = c.get("/accounts/login/?next=%ff")
		wantStatus(t, res, http.StatusBadRequest)
	})
	t.Run("NUL character", func(t *testing.T) {
		c := app.client()
		c.loginAs("alice", goodPassword)
		res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{"first_name": {"A\x00lice"}})
		wantStatus(t, res, http.StatusBadRequest)
	})
	t.Run("oversize body", func(t *testing.T) {
		// The server answers once it reads Content-Length, before the body:
		// a raw connection reads that answer where an HTTP client would
		// stumble on the reset while still writing.
		conn, err := net.Dial("tcp", strings.TrimPrefix(app.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /accounts/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nusername=", 2<<20)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", res.StatusCode)
		}
	})
	t.Run("multipart form", func(t *testing.T) {
		c := app.client()
		token := c.csrfToken("/accounts/login/")
		body := "--B\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n" + token +
			"\r\n--B\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice" +
			"\r\n--B\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + goodPassword + "\r\n--B--\r\n"
		req, _ := http.NewRequest(http.MethodPost, app.url+"/accounts/login/", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		wantStatus(t, c.do(req), http.StatusSeeOther)
	})
	if n := app.count("SELECT COUNT(*) FROM users"); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
}

func TestServerErrorIsGeneric(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	app.db.Close() // every query now fails

	res := c.get("/articles/")
	wantStatus(t, res, http.StatusInternalServerError)
	if !strings.Contains(res.body, `data-testid="error"`) || !strings.Contains(res.body, "Something went wrong on our side.") {
		t.Fatalf("no generic error page:\n%s", res.body)
	}
	if strings.Contains(strings.ToLower(res.body), "sql") || strings.Contains(res.body, "closed") {
		t.Fatalf("the error page leaks its cause:\n%s", res.body)
	}
	wantStatus(t, c.get("/healthz"), http.StatusServiceUnavailable)
}

// The access log names the status the client got, also for requests
// refused before any handler ran.
func TestAccessLogStatus(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	app := newTestAppWith(t, handlers.Config{Logger: slog.New(slog.NewTextHandler(&log, nil)), AccessLog: true})
	c := app.client()
	c.get("/articles/")
	wantStatus(t, c.post("/accounts/login/", url.Values{"username": {"x"}}), http.StatusForbidden) // no CSRF token
	wantStatus(t, c.get("/articles/0/"), http.StatusNotFound)
	wantStatus(t, c.post("/articles/", nil), http.StatusMethodNotAllowed)
	for _, want := range []string{
		"msg=request method=GET path=/articles/ status=200",
		"msg=request method=POST path=/accounts/login/ status=403",
		"msg=request method=GET path=/articles/0/ status=404",
		"msg=request method=POST path=/articles/ status=405",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the access log has no %q:\n%s", want, log.String())
		}
	}
}

// syncBuffer is a bytes.Buffer that the server's goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A session left unused past its idle timeout ends (ASVS 7.3.1): two hours
// for a browser session, a week for a remembered one.
func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	tests := []struct {
		name     string
		remember bool
		idle     string
		loggedIn bool
	}{
		{"browser session, idle an hour", false, "-1 hours", true},
		{"browser session, idle three hours", false, "-3 hours", false},
		{"remembered, idle three days", true, "-3 days", true},
		{"remembered, idle eight days", true, "-8 days", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := app.client()
			form := url.Values{"username": {"alice"}, "password": {goodPassword}}
			if tt.remember {
				form.Set("remember", "on")
			}
			wantStatus(t, c.postForm("/accounts/login/", "/accounts/login/", form), http.StatusSeeOther)
			// Age the session: created and last seen that long ago, expiring as it would.
			_, err := app.db.NewRaw(`UPDATE sessions SET created_at = datetime('now', ?), last_seen_at = datetime('now', ?),
				expires_at = datetime(expires_at, ?) WHERE key = ?`, tt.idle, tt.idle, tt.idle, c.cookie("sessionid")).Exec(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := c.loggedInAs() == "alice"; got != tt.loggedIn {
				t.Fatalf("logged in = %v, want %v", got, tt.loggedIn)
			}
		})
	}
}

// Changing the email address, where password resets go, takes the current
// password (ASVS 7.5.1): a borrowed session cannot redirect the account's
// recovery. Other profile fields do not need it.
func TestEmailChangeNeedsPassword(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		for _, tt := range []struct{ password, message string }{
			{"", "Enter your current password to change your email address."},
			{"wrong password", "Your password was entered incorrectly."},
		} {
			res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{"email": {"mallory@example.com"}, "current_password": {tt.password}, "first_name": {""}, "last_name": {""}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			wantFragment(t, res, htmx, "profile-form")
			if got := res.text(t, "#id_current_password_error"); !strings.Contains(got, tt.message) {
				t.Errorf("error beside the password: %q, want %q", got, tt.message)
			}
		}
		if u := app.user("alice"); u.Email != "" {
			t.Fatalf("the address changed without the password: %q", u.Email)
		}
		if res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{"email": {""}, "first_name": {"Alice"}, "last_name": {""}}); res.StatusCode >= 400 {
			t.Fatalf("a name change asked for the password: %d", res.StatusCode)
		}
		res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{"email": {"alice@example.com"}, "current_password": {goodPassword}, "first_name": {"Alice"}, "last_name": {""}})
		if res.StatusCode >= 400 || app.user("alice").Email != "alice@example.com" {
			t.Fatalf("the address did not change with the right password: %d", res.StatusCode)
		}
	})
}

// TestLastSeenTouchedOncePerInterval checks that a session seen over a
// minute ago is touched by the next request, and not again by the following
// ones: the cached session keeps the new time, though the touch drops nothing
// from the cache.
func TestLastSeenTouchedOncePerInterval(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	key := c.cookie("sessionid")
	lastSeen := func() time.Time {
		t.Helper()
		var s models.Session
		if err := app.db.NewSelect().Model(&s).Where("key = ?", key).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s.LastSeenAt
	}
	loggedIn := lastSeen()
	clock.advance(2 * time.Minute)
	if c.loggedInAs() != "alice" {
		t.Fatal("not logged in")
	}
	touched := lastSeen()
	if !touched.Equal(clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("the request did not touch the session: last seen %v (logged in at %v), now %v", touched, loggedIn, clock.Now())
	}
	for range 3 {
		clock.advance(10 * time.Second) // 30 seconds in all: within the minute
		if c.loggedInAs() != "alice" {
			t.Fatal("not logged in")
		}
	}
	if again := lastSeen(); !again.Equal(touched) {
		t.Errorf("the session was touched again within the minute: %v, then %v", touched, again)
	}
}
