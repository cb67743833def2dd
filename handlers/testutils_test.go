package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"golang.org/x/net/html"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/mail"
	"gatehouse/models/password"
	"gatehouse/views"
)

// testParams make hashing cheap in tests, as Django's test settings do; the
// production parameters have their own test in models/password.
var testParams = password.Params{MemoryKiB: 64, Time: 1, Threads: 1}

// testApp is a real Gatehouse on a loopback port over a fresh SQLite file,
// or over a database it may share with other apps.
type testApp struct {
	t       testing.TB
	url     string
	store   *models.Store
	db      *bun.DB
	app     *fiber.App
	mailDir string // where the app writes its mail as .eml files
}

func newTestApp(t testing.TB) *testApp {
	t.Helper()
	cfg := handlers.Config{}
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		cfg.AccessLog = true
	}
	return newTestAppWith(t, cfg)
}

// newTestAppWith is newTestApp with cfg, hashing at the test cost.
func newTestAppWith(t testing.TB, cfg handlers.Config) *testApp {
	t.Helper()
	return newTestAppOn(t, cfg, filepath.Join(t.TempDir(), "gatehouse.db"))
}

// newTestAppOn is newTestAppWith over the database at dbURL, opened with
// opts: apps on one database are instances of one site.
func newTestAppOn(t testing.TB, cfg handlers.Config, dbURL string, opts ...models.Option) *testApp {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, dbURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return newTestAppOver(t, cfg, store)
}

// newTestAppOver is newTestAppWith over an open store, which it closes at the end.
func newTestAppOver(t testing.TB, cfg handlers.Config, store *models.Store) *testApp {
	t.Helper()
	ctx := context.Background()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	baseURL := "http://" + listener.Addr().String()
	if cfg.BaseURL != "" {
		// A host the test names, such as localhost for passkeys (which
		// browsers refuse on an IP address), on the listener's port.
		baseURL = cfg.BaseURL + ":" + strconv.Itoa(listener.Addr().(*net.TCPAddr).Port)
	}
	cfg.PasswordParams = testParams
	cfg.BaseURL = baseURL
	if cfg.RequestTimeout == 0 {
		// Under -race on a loaded machine a Django hash (260,000 rounds of
		// PBKDF2, bcrypt at cost 12) takes seconds: past the default
		// deadline, a login would answer 503. Tests of the deadline set
		// their own.
		cfg.RequestTimeout = 2 * time.Minute
	}
	if cfg.RefusalHold == 0 {
		// Refused logins are answered at once; TestRefusedLoginIsHeld
		// tests the hold.
		cfg.RefusalHold = -1
	}
	if cfg.RequireTwoFactor == "" {
		// Staff use the admin without enrolling a second factor in most
		// tests; the policy's default (staff) has tests of its own.
		cfg.RequireTwoFactor = models.TwoFactorOff
	}
	mailDir := filepath.Join(t.TempDir(), "outbox")
	if cfg.MailTransport == nil {
		if cfg.MailTransport, err = mail.NewTransport("", mailDir); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.MailFrom == "" {
		cfg.MailFrom = "Gatehouse <gatehouse@localhost>"
	}
	app, err := handlers.New(ctx, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(listener)
	t.Cleanup(func() {
		app.Shutdown()
		store.Close()
	})
	return &testApp{t: t, url: baseURL, store: store, db: store.DB, app: app, mailDir: mailDir}
}

// createUser inserts an active user with this password straight into the database.
func (a *testApp) createUser(username, pass string) *models.User {
	a.t.Helper()
	hash, err := password.NewHasher(testParams).Hash(pass)
	if err != nil {
		a.t.Fatal(err)
	}
	u := &models.User{Username: username, Password: hash, IsActive: true}
	if err := models.CreateUser(context.Background(), a.db, u); err != nil {
		a.t.Fatal(err)
	}
	return u
}

// user reloads a user from the database; nil if they no longer exist.
func (a *testApp) user(username string) *models.User {
	a.t.Helper()
	u, err := models.UserByUsername(context.Background(), a.db, username)
	if err != nil {
		return nil
	}
	return u
}

// count runs a SELECT COUNT(*) query.
func (a *testApp) count(query string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// client is a browser: it keeps cookies, does not follow redirects, and takes
// the CSRF token from the page it posts from. With htmx set it sends
// HX-Request and the token header, as htmx does.
type client struct {
	t    testing.TB
	app  *testApp
	http *http.Client
	htmx bool
	// acceptLanguage, if set, is the Accept-Language of every request.
	acceptLanguage string
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, app: a, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// htmxClient is a client whose requests come from htmx.
func (a *testApp) htmxClient() *client {
	c := a.client()
	c.htmx = true
	return c
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body string
}

func (r *response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// text is the trimmed text of the elements selector finds.
func (r *response) text(t testing.TB, selector string) string {
	t.Helper()
	return strings.TrimSpace(r.doc(t).Find(selector).Text())
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	if c.htmx {
		req.Header.Set("HX-Request", "true")
	}
	if c.acceptLanguage != "" {
		req.Header.Set("Accept-Language", c.acceptLanguage)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	// Every page a test reads is checked for words that did not make it
	// into a language: a message key no file holds, a placeholder left
	// without its value.
	if strings.Contains(string(body), views.MissingMark) || strings.Contains(string(body), "<no value>") || strings.Contains(string(body), "&lt;no value&gt;") {
		c.t.Errorf("%s %s: a message is missing from the message files:\n%s", req.Method, req.URL.Path, body)
	}
	if stray := templKeywordAttributes(string(body)); len(stray) > 0 {
		c.t.Errorf("%s %s: templ wrote Go keywords as attributes: %q", req.Method, req.URL.Path, stray)
	}
	return &response{Response: res, body: string(body)}
}

// templKeywordAttributes finds attributes named as Go's keywords in an HTML
// page: templ writes the "else" of an else-if among a tag's attributes as
// an attribute of that name, and drops the condition.
func templKeywordAttributes(body string) []string {
	var found []string
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return found
		case html.StartTagToken, html.SelfClosingTagToken:
			tag := z.Token()
			for _, a := range tag.Attr {
				switch a.Key {
				case "if", "else", "switch", "case", "default":
					found = append(found, tag.Data+" "+a.Key)
				}
			}
		}
	}
}

func (c *client) get(path string) *response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.app.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends values as a form, with no CSRF token added.
func (c *client) post(path string, values url.Values) *response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.app.url+path, strings.NewReader(values.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// csrfToken loads page as a browser would and reads the token from its forms.
func (c *client) csrfToken(page string) string {
	c.t.Helper()
	htmx := c.htmx
	c.htmx = false
	res := c.get(page)
	c.htmx = htmx
	token, ok := res.doc(c.t).Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value")
	if !ok || token == "" {
		c.t.Fatalf("GET %s (%d): no CSRF token in the page", page, res.StatusCode)
	}
	return token
}

// postForm loads page, then posts values to action with the page's CSRF token,
// in the form field and, for htmx, in the header too.
func (c *client) postForm(page, action string, values url.Values) *response {
	c.t.Helper()
	req, token := c.formRequest(page, action, values)
	if c.htmx {
		req.Header.Set("X-CSRF-Token", token)
	}
	return c.do(req)
}

// submit posts values to action with the CSRF token of page, a page
// loaded already: its form submitted as shown, without loading it again
// (the two-factor setup page shows a new secret at each load).
func (c *client) submit(page *response, action string, values url.Values) *response {
	c.t.Helper()
	token, ok := page.doc(c.t).Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value")
	if !ok || token == "" {
		c.t.Fatalf("no CSRF token in the page")
	}
	req := c.tokenRequest(action, token, values)
	if c.htmx {
		req.Header.Set("X-CSRF-Token", token)
	}
	return c.do(req)
}

// formRequest is a POST of values to action with the CSRF token of page in
// the form field, as a browser sends it; the token is returned for htmx's
// header.
func (c *client) formRequest(page, action string, values url.Values) (*http.Request, string) {
	c.t.Helper()
	token := c.csrfToken(page)
	return c.tokenRequest(action, token, values), token
}

// tokenRequest is a POST of values to action with token in the form field.
func (c *client) tokenRequest(action, token string, values url.Values) *http.Request {
	c.t.Helper()
	form := url.Values{"csrfmiddlewaretoken": {token}}
	for key, vals := range values {
		form[key] = vals
	}
	req, err := http.NewRequest(http.MethodPost, c.app.url+action, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// loginAs logs the client in through the login form.
func (c *client) loginAs(username, pass string) {
	c.t.Helper()
	htmx := c.htmx
	c.htmx = false
	res := c.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {username}, "password": {pass}})
	c.htmx = htmx
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login as %s: status %d, want 303\n%s", username, res.StatusCode, res.body)
	}
}

// cookie returns the client's cookie of this name, or "".
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.app.url)
	for _, cookie := range c.http.Jar.Cookies(u) {
		if cookie.Name == name {
			return cookie.Value
		}
	}
	return ""
}

// loggedInAs returns the username the header greets, or "" when anonymous.
func (c *client) loggedInAs() string {
	c.t.Helper()
	htmx := c.htmx
	c.htmx = false
	res := c.get("/articles/")
	c.htmx = htmx
	return res.text(c.t, `[data-testid="username"]`)
}

// setCookie puts a cookie in the client's jar, as a replayed or stolen one.
func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.app.url)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// wantStatus fails the test unless res has the status.
func wantStatus(t *testing.T, res *response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, res.body)
	}
}

// wantRedirect fails the test unless res sends the browser to location: a
// 303 for a plain request, a 200 with HX-Redirect for htmx.
func wantRedirect(t *testing.T, res *response, htmx bool, location string) {
	t.Helper()
	if htmx {
		wantStatus(t, res, http.StatusOK)
		if got := res.Header.Get("HX-Redirect"); got != location {
			t.Fatalf("HX-Redirect %q, want %q", got, location)
		}
		return
	}
	wantStatus(t, res, http.StatusSeeOther)
	if got := res.Header.Get("Location"); got != location {
		t.Fatalf("Location %q, want %q", got, location)
	}
}

// wantFragment fails unless res is an htmx fragment holding the form, or a
// full page for a plain request.
func wantFragment(t *testing.T, res *response, htmx bool, formTestID string) {
	t.Helper()
	isPage := strings.Contains(res.body, "<html")
	if htmx && isPage {
		t.Fatalf("the htmx answer is a full page:\n%s", res.body)
	}
	if !htmx && !isPage {
		t.Fatalf("the plain answer is a fragment, not a page:\n%s", res.body)
	}
	if res.doc(t).Find(`form[data-testid="`+formTestID+`"]`).Length() != 1 {
		t.Fatalf("no form %q in the answer:\n%s", formTestID, res.body)
	}
}

// both runs a subtest with a plain client and with an htmx one, in parallel:
// each must build its own app.
func both(t *testing.T, test func(t *testing.T, htmx bool)) {
	t.Helper()
	for _, htmx := range []bool{false, true} {
		name := "plain"
		if htmx {
			name = "htmx"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, htmx)
		})
	}
}

// newClient returns a plain or an htmx client.
func (a *testApp) newClient(htmx bool) *client {
	if htmx {
		return a.htmxClient()
	}
	return a.client()
}
