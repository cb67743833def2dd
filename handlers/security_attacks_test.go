package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/argon2"

	"gatehouse/handlers"
	"gatehouse/models"
)

// Attacks through the real app: password guessing against the throttle,
// cross-site and replayed requests against the CSRF check, odd bodies and
// headers, races, the sessions and activity pages. Helpers are prefixed atk.

// atkBehindProxy is the config of an app behind a reverse proxy on loopback,
// whose X-Forwarded-For names the client.
func atkBehindProxy() handlers.Config {
	return handlers.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
}

// atkForwardedFor is a transport that sends every request with this
// X-Forwarded-For, as a proxy in front of the app would; each line of it
// is a header line of its own, as a proxy appending its line sends.
type atkForwardedFor string

func (xff atkForwardedFor) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header["X-Forwarded-For"] = strings.Split(string(xff), "\n")
	return http.DefaultTransport.RoundTrip(req)
}

// atkClientFrom is a browser whose requests say, in X-Forwarded-For, that
// they come from xff.
func atkClientFrom(app *testApp, xff string, htmx bool) *client {
	c := app.newClient(htmx)
	c.http.Transport = atkForwardedFor(xff)
	return c
}

// atkRawClient is a client without a cookie jar: its cookies are sent by hand.
func atkRawClient(app *testApp) *client {
	return &client{t: app.t, app: app, http: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// atkLogin tries to log in through the login form.
func atkLogin(c *client, username, pass string) *response {
	c.t.Helper()
	return c.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {username}, "password": {pass}})
}

// atkLogout logs the client out through the form on the articles page.
func atkLogout(t *testing.T, c *client) {
	t.Helper()
	htmx := c.htmx
	c.htmx = false
	res := c.postForm("/articles/", "/accounts/logout/", nil)
	c.htmx = htmx
	wantStatus(t, res, http.StatusSeeOther)
}

// atkPost posts values as a form with token as its CSRF field (none if
// token is ""), and for htmx in the header too; headers are name, value pairs.
func atkPost(c *client, path, token string, values url.Values, headers ...string) *response {
	c.t.Helper()
	form := url.Values{}
	for key, vals := range values {
		form[key] = vals
	}
	if token != "" {
		form.Set("csrfmiddlewaretoken", token)
	}
	req, err := http.NewRequest(http.MethodPost, c.app.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.htmx && token != "" {
		req.Header.Set("X-CSRF-Token", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// atkWantThrottled fails unless res is a 429 with a Retry-After of at most
// window and the form's message saying so.
func atkWantThrottled(t *testing.T, res *response, window time.Duration) {
	t.Helper()
	wantTooMany(t, res, window, "Too many failed attempts. Please try again in ")
}

// wantTooMany fails unless res is a 429 whose Retry-After is within window
// and whose page says why in words starting with saying.
func wantTooMany(t *testing.T, res *response, window time.Duration, saying string) {
	t.Helper()
	wantStatus(t, res, http.StatusTooManyRequests)
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > int(window.Seconds()) {
		t.Errorf("Retry-After %q, want 1 to %d seconds", res.Header.Get("Retry-After"), int(window.Seconds()))
	}
	if !strings.Contains(res.body, saying) {
		t.Errorf("the 429 does not say why:\n%s", res.body)
	}
}

// atkExec runs a statement on the app's database.
func atkExec(t *testing.T, app *testApp, query string, args ...any) {
	t.Helper()
	if _, err := app.db.NewRaw(query, args...).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// atkProfile is a complete profile form.
func atkProfile(email, first, last string) url.Values {
	return url.Values{"email": {email}, "current_password": {goodPassword}, "first_name": {first}, "last_name": {last}}
}

// --- Brute force ---------------------------------------------------------

func TestAttackBruteForceOneAccount(t *testing.T) {
	t.Parallel()
	testBruteForceOneAccount(t, newTestApp(t))
}

// TestRefusedLoginIsHeld: with refused logins held before their answer, as
// in production, the answers are the same (TestHoldRefusal tests the hold).
func TestRefusedLoginIsHeld(t *testing.T) {
	t.Parallel()
	testBruteForceOneAccount(t, newTestAppWith(t, handlers.Config{RefusalHold: time.Millisecond}))
}

func testBruteForceOneAccount(t *testing.T, app *testApp) {
	alice := app.createUser("alice", goodPassword)
	c := app.client()
	// Spellings of one account name are one account to the throttle.
	for i, name := range []string{"alice", "Alice", "ALICE", " alice ", "ａｌｉｃｅ"} {
		res := atkLogin(c, name, fmt.Sprintf("guess %d", i))
		wantStatus(t, res, http.StatusUnprocessableEntity)
	}
	for _, pass := range []string{"guess 6", goodPassword} {
		res := atkLogin(c, "alice", pass)
		atkWantThrottled(t, res, 15*time.Minute)
		wantFragment(t, res, false, "login-form")
		if got := res.text(t, `[data-testid="locked-out"]`); !strings.Contains(got, "Too many failed attempts. Please try again in 15 minutes.") {
			t.Errorf("lockout notice %q", got)
		}
		if strings.Contains(res.body, "Please enter a correct username and password.") {
			t.Error("a refused attempt says the password was wrong: it was never checked")
		}
		if c.cookie("sessionid") != "" {
			t.Fatal("a refused login started a session")
		}
	}
	if u := app.user("alice"); !u.LastLogin.IsZero() {
		t.Error("the right password logged in while the account was locked")
	}
	if n := app.count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", alice.ID); n != 0 {
		t.Errorf("%d sessions for alice, want 0", n)
	}
}

func TestAttackBruteForceDistributed(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	for i := 1; i <= 5; i++ {
		c := atkClientFrom(app, fmt.Sprintf("192.0.2.%d", i), false)
		wantStatus(t, atkLogin(c, "alice", fmt.Sprintf("guess %d", i)), http.StatusUnprocessableEntity)
	}
	for _, addr := range []string{"198.51.100.6", "198.51.100.7"} {
		atkWantThrottled(t, atkLogin(atkClientFrom(app, addr, false), "alice", goodPassword), 15*time.Minute)
	}
	// Each address failed once: the lock is the account's, not theirs.
	atkClientFrom(app, "192.0.2.1", false).loginAs("bob", goodPassword)
	if n := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ? AND ip = ?", models.EventLoginFailed, "192.0.2.3"); n != 1 {
		t.Errorf("%d failed logins logged from 192.0.2.3, want 1 (the client address, not the proxy's)", n)
	}
}

func TestAttackBruteForceManyUsernames(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	app.createUser("alice", goodPassword)
	attacker := atkClientFrom(app, "192.0.2.10", false)
	for i := range 10 {
		wantStatus(t, atkLogin(attacker, fmt.Sprintf("user%d", i), "guess"), http.StatusUnprocessableEntity)
	}
	for _, try := range []struct{ username, password string }{{"someone-else", "guess"}, {"alice", goodPassword}} {
		atkWantThrottled(t, atkLogin(attacker, try.username, try.password), 15*time.Minute)
	}
	atkClientFrom(app, "192.0.2.11", false).loginAs("alice", goodPassword)
}

func TestAttackBruteForceTrustedDevice(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	app.createUser("alice", goodPassword)
	browser := atkClientFrom(app, "192.0.2.20", false)
	phone := atkClientFrom(app, "192.0.2.22", false)
	for _, c := range []*client{browser, phone} {
		c.loginAs("alice", goodPassword)
		if c.cookie("device") == "" {
			t.Fatal("a successful login gave no device cookie")
		}
		atkLogout(t, c)
	}

	attacker := atkClientFrom(app, "198.51.100.66", false)
	for i := range 5 {
		wantStatus(t, atkLogin(attacker, "alice", fmt.Sprintf("guess %d", i)), http.StatusUnprocessableEntity)
	}
	atkWantThrottled(t, atkLogin(attacker, "alice", "guess 6"), 15*time.Minute)
	atkWantThrottled(t, atkLogin(atkClientFrom(app, "192.0.2.21", false), "alice", goodPassword), 15*time.Minute)

	// Alice's own browser is not locked out by the attack.
	wantStatus(t, atkLogin(browser, "alice", goodPassword), http.StatusSeeOther)
	atkLogout(t, browser)

	// Her browser's allowance is its own: five typos lock it, not her phone.
	for i := range 5 {
		wantStatus(t, atkLogin(browser, "alice", fmt.Sprintf("typo %d", i)), http.StatusUnprocessableEntity)
	}
	atkWantThrottled(t, atkLogin(browser, "alice", goodPassword), 15*time.Minute)
	wantStatus(t, atkLogin(phone, "alice", goodPassword), http.StatusSeeOther)
	// And the account stays locked for browsers she never used.
	atkWantThrottled(t, atkLogin(atkClientFrom(app, "192.0.2.23", false), "alice", goodPassword), 15*time.Minute)

	// A device cookie is for one account: alice's does not help against bob.
	app.createUser("bob", goodPassword)
	for i := range 5 {
		wantStatus(t, atkLogin(attacker, "bob", fmt.Sprintf("guess %d", i)), http.StatusUnprocessableEntity)
	}
	atkWantThrottled(t, atkLogin(browser, "bob", goodPassword), 15*time.Minute)
}

// A burst of guesses, all at once from many addresses: each attempt is
// recorded before it is tried and counts only those before it, so exactly
// the limit is tried; the rest are refused without a hash and without a log
// entry each (the lock is logged, not every refusal).
func TestAttackBruteForceBurst(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	alice := app.createUser("alice", goodPassword)
	const guesses = 20
	clients := make([]*client, guesses)
	tokens := make([]string, guesses)
	for i := range clients {
		clients[i] = atkClientFrom(app, fmt.Sprintf("192.0.2.%d", 100+i), false)
		tokens[i] = clients[i].csrfToken("/accounts/login/")
	}
	statuses := make([]int, guesses)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.http.Do(atkFormRequest(app, "/accounts/login/", tokens[i], url.Values{"username": {"alice"}, "password": {fmt.Sprintf("guess %d", i)}})())
			if err != nil {
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	wg.Wait()
	checked := 0
	for i, status := range statuses {
		switch status {
		case http.StatusUnprocessableEntity:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("guess %d: status %d", i, status)
		}
	}
	if checked != 5 {
		t.Errorf("%d of %d simultaneous guesses were checked, want the limit, 5", checked, guesses)
	}
	failed := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ? AND user_id = ?", models.EventLoginFailed, alice.ID)
	locked := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ? AND user_id = ?", models.EventThrottled, alice.ID)
	if failed != checked || locked < 1 || locked > checked {
		t.Errorf("%d failed logins and %d locks logged; want %d and 1 to %d", failed, locked, checked, checked)
	}
	atkWantThrottled(t, atkLogin(atkClientFrom(app, "198.51.100.200", false), "alice", goodPassword), 15*time.Minute)
}

func TestAttackForwardedForSpoofing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      handlers.Config
		xff      func(i int) string
		escape   string // an address that is not refused, or "" if none is
		loggedIP string // the address the security log must name
	}{
		{
			name:     "without trusted proxies",
			cfg:      handlers.Config{},
			xff:      func(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) },
			loggedIP: "127.0.0.1",
		},
		{
			// The proxy appends the real client; what comes before is the client's to forge.
			name:     "forged hops before the proxy's",
			cfg:      atkBehindProxy(),
			xff:      func(i int) string { return fmt.Sprintf("198.51.100.%d, 192.0.2.50", i+1) },
			escape:   "192.0.2.51",
			loggedIP: "192.0.2.50",
		},
		{
			// A proxy that adds a header line of its own (HAProxy's option
			// forwardfor) after the client's forged one.
			name:     "forged header line before the proxy's",
			cfg:      atkBehindProxy(),
			xff:      func(i int) string { return fmt.Sprintf("198.51.100.%d\n192.0.2.50", i+1) },
			escape:   "192.0.2.51",
			loggedIP: "192.0.2.50",
		},
		{
			// An IPv6 client usually holds a whole /64.
			name:     "addresses of one IPv6 /64",
			cfg:      atkBehindProxy(),
			xff:      func(i int) string { return fmt.Sprintf("2001:db8::%x", i+1) },
			escape:   "2001:db8:0:1::1",
			loggedIP: "2001:db8::1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := newTestAppWith(t, tt.cfg)
			app.createUser("alice", goodPassword)
			for i := range 10 {
				c := atkClientFrom(app, tt.xff(i), false)
				wantStatus(t, atkLogin(c, fmt.Sprintf("user%d", i), "guess"), http.StatusUnprocessableEntity)
			}
			atkWantThrottled(t, atkLogin(atkClientFrom(app, tt.xff(10), false), "alice", goodPassword), 15*time.Minute)
			if tt.escape != "" {
				atkClientFrom(app, tt.escape, false).loginAs("alice", goodPassword)
			}
			if n := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ? AND ip = ?", models.EventLoginFailed, tt.loggedIP); n == 0 {
				t.Errorf("no failed login logged from %s", tt.loggedIP)
			}
		})
	}
}

func TestAttackThrottledLoginHTMX(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.htmxClient()
	for i := range 5 {
		res := atkLogin(c, "alice", fmt.Sprintf("guess %d", i))
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantFragment(t, res, true, "login-form")
	}
	res := atkLogin(c, "alice", goodPassword)
	atkWantThrottled(t, res, 15*time.Minute)
	wantFragment(t, res, true, "login-form")
	// A pause to wait out, not an error to fix: when it ends, and the ways in
	// that do not wait.
	notice := res.doc(t).Find(`form[data-testid="login-form"] [data-testid="locked-out"]`)
	if got := strings.Join(strings.Fields(notice.Text()), " "); !strings.Contains(got, "Too many failed attempts.") || !strings.Contains(got, "again at") {
		t.Errorf("lockout notice %q", got)
	}
	if n := res.doc(t).Find(`form[data-testid="login-form"] .form-errors, form[data-testid="login-form"] .error-summary`).Length(); n != 0 {
		t.Error("the lockout is shown as a form error")
	}
	if at, _ := notice.Find("time[datetime]").Attr("datetime"); at == "" {
		t.Error("the lockout notice does not say when it ends")
	}
	if href, _ := notice.Find(`a[data-testid="locked-out-reset"]`).Attr("href"); href != "/accounts/password_reset/" {
		t.Errorf("the lockout notice links %q for a forgotten password", href)
	}
	if got := res.Header.Get("HX-Redirect"); got != "" {
		t.Errorf("a refused login redirects to %q", got)
	}
}

func TestAttackSignupEnumeration(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	signup := func(c *client, username string) *response {
		return c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{"username": {username}, "password1": {goodPassword}, "password2": {goodPassword}})
	}
	prober := atkClientFrom(app, "192.0.2.30", false)
	for i := range 10 {
		res := signup(prober, []string{"alice", "BOB"}[i%2])
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := res.text(t, "#id_username_error"); got != "A user with that username already exists." {
			t.Fatalf("attempt %d: username error %q", i+1, got)
		}
	}
	for _, username := range []string{"alice", "newbie"} {
		res := signup(prober, username)
		atkWantThrottled(t, res, time.Hour)
		wantFragment(t, res, false, "signup-form")
		if strings.Contains(res.body, "A user with that username already exists.") {
			t.Errorf("a refused signup still says whether %s is taken", username)
		}
	}
	if app.user("newbie") != nil {
		t.Fatal("a refused signup created the account")
	}
	wantStatus(t, signup(atkClientFrom(app, "192.0.2.31", false), "newbie"), http.StatusSeeOther)
}

func TestAttackPasswordChangeGuessing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	before := app.user("alice").Password
	c := app.client()
	c.loginAs("alice", goodPassword)
	const newPassword = "a brand new passphrase"
	change := func(c *client, old string) *response {
		return c.postForm("/accounts/password/", "/accounts/password/", url.Values{
			"old_password": {old}, "new_password1": {newPassword}, "new_password2": {newPassword},
		})
	}
	for i := range 5 {
		wantStatus(t, change(c, fmt.Sprintf("guess %d", i)), http.StatusUnprocessableEntity)
	}
	res := change(c, goodPassword)
	atkWantThrottled(t, res, 15*time.Minute)
	if got := res.text(t, "#id_old_password_error"); !strings.HasPrefix(got, "Too many failed attempts.") {
		t.Errorf("old password error %q", got)
	}
	// Counted per user: a new login does not start a new allowance.
	other := app.client()
	other.loginAs("alice", goodPassword)
	atkWantThrottled(t, change(other, goodPassword), 15*time.Minute)
	if app.user("alice").Password != before {
		t.Fatal("the password changed while its checks were refused")
	}
	if got := c.loggedInAs(); got != "alice" {
		t.Fatalf("the refused attempts logged alice out (header %q)", got)
	}
}

func TestAttackSecurityLog(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	c := app.client()
	for i := range 5 {
		wantStatus(t, atkLogin(c, "alice", fmt.Sprintf("guess %d", i)), http.StatusUnprocessableEntity)
	}
	wantStatus(t, atkLogin(c, "alice", goodPassword), http.StatusTooManyRequests)
	for i := range 5 {
		wantStatus(t, atkLogin(c, "ghost", fmt.Sprintf("guess %d", i)), http.StatusUnprocessableEntity)
	}
	// Ten failures from this address: now an unknown name is refused too.
	wantStatus(t, atkLogin(c, "ghost", "guess"), http.StatusTooManyRequests)

	tests := []struct {
		what  string
		query string
		args  []any
		want  int
	}{
		{"failed logins of alice", "kind = ? AND user_id = ?", []any{models.EventLoginFailed, alice.ID}, 5},
		{"refused logins of alice", "kind = ? AND user_id = ?", []any{models.EventThrottled, alice.ID}, 1},
		{"failed logins of an unknown name", "kind = ? AND user_id IS NULL AND username = 'ghost'", []any{models.EventLoginFailed}, 5},
		{"refused logins of an unknown name", "kind = ? AND user_id IS NULL AND username = 'ghost'", []any{models.EventThrottled}, 1},
		{"successful logins", "kind = ?", []any{models.EventLogin}, 0},
	}
	for _, tt := range tests {
		if n := app.count("SELECT COUNT(*) FROM security_events WHERE "+tt.query, tt.args...); n != tt.want {
			t.Errorf("%s: %d events, want %d", tt.what, n, tt.want)
		}
	}
	if n := app.count("SELECT COUNT(*) FROM security_events WHERE ip <> '127.0.0.1'"); n != 0 {
		t.Errorf("%d events with another address than the client's", n)
	}
}

// --- CSRF ----------------------------------------------------------------

func TestAttackCSRFOrigin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	tests := []struct {
		name    string
		headers []string // "SELF" stands for this site's origin
		status  int
	}{
		{"Origin of another site", []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"Origin of another port", []string{"Origin", "http://127.0.0.1:1"}, http.StatusForbidden},
		{"Origin null", []string{"Origin", "null"}, http.StatusForbidden},
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"Sec-Fetch-Site cross-site with this Origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", "SELF"}, http.StatusForbidden},
		{"Sec-Fetch-Site same-origin", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		{"Origin of this site", []string{"Origin", "SELF"}, http.StatusSeeOther},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := append([]string(nil), tt.headers...)
			for j := range headers {
				if headers[j] == "SELF" {
					headers[j] = app.url
				}
			}
			before := app.user("alice").Email
			email := fmt.Sprintf("alice%d@example.com", i)
			token := c.csrfToken("/accounts/update/")
			res := atkPost(c, "/accounts/update/", token, atkProfile(email, "", ""), headers...)
			wantStatus(t, res, tt.status)
			want := email
			if tt.status == http.StatusForbidden {
				want = before
				if !strings.Contains(res.body, "CSRF verification failed") {
					t.Errorf("the 403 does not say why:\n%s", res.body)
				}
			}
			if got := app.user("alice").Email; got != want {
				t.Errorf("email %q, want %q", got, want)
			}
		})
	}
}

func TestAttackCSRFReplay(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	wantUnchanged := func(t *testing.T) {
		t.Helper()
		if got := app.user("alice").Email; got != "" {
			t.Fatalf("a replayed token changed the email to %q", got)
		}
	}
	evil := atkProfile("evil@example.com", "", "")

	t.Run("an anonymous pair after login", func(t *testing.T) {
		c := app.client()
		anonymous := c.csrfToken("/accounts/login/")
		c.loginAs("alice", goodPassword)
		wantStatus(t, atkPost(c, "/accounts/update/", anonymous, evil), http.StatusForbidden)
		c.setCookie("csrftoken", anonymous) // the planted or remembered pair
		wantStatus(t, atkPost(c, "/accounts/update/", anonymous, evil), http.StatusForbidden)
		wantUnchanged(t)
	})
	t.Run("a logged-in pair after logout", func(t *testing.T) {
		c := app.client()
		c.loginAs("alice", goodPassword)
		old := c.csrfToken("/accounts/update/")
		atkLogout(t, c)
		creds := url.Values{"username": {"alice"}, "password": {goodPassword}}
		wantStatus(t, atkPost(c, "/accounts/login/", old, creds), http.StatusForbidden)
		c.setCookie("csrftoken", old)
		wantStatus(t, atkPost(c, "/accounts/login/", old, creds), http.StatusForbidden)
		// Nor once the browser has logged in again.
		c.loginAs("alice", goodPassword)
		c.setCookie("csrftoken", old)
		wantStatus(t, atkPost(c, "/accounts/update/", old, evil), http.StatusForbidden)
		wantUnchanged(t)
	})
	t.Run("a pair of the user's other session", func(t *testing.T) {
		a, b := app.client(), app.client()
		a.loginAs("alice", goodPassword)
		b.loginAs("alice", goodPassword)
		tokenA := a.csrfToken("/accounts/update/")
		wantStatus(t, atkPost(b, "/accounts/update/", tokenA, evil), http.StatusForbidden)
		b.setCookie("csrftoken", tokenA)
		wantStatus(t, atkPost(b, "/accounts/update/", tokenA, evil), http.StatusForbidden)
		wantUnchanged(t)
	})
	t.Run("a pair from before a password change", func(t *testing.T) {
		c := app.client()
		c.loginAs("alice", goodPassword)
		old := c.csrfToken("/accounts/update/")
		res := c.postForm("/accounts/password/", "/accounts/password/", url.Values{
			"old_password": {goodPassword}, "new_password1": {"a brand new passphrase"}, "new_password2": {"a brand new passphrase"},
		})
		wantStatus(t, res, http.StatusSeeOther)
		c.setCookie("csrftoken", old)
		wantStatus(t, atkPost(c, "/accounts/update/", old, evil), http.StatusForbidden)
		wantUnchanged(t)
	})
}

func TestAttackCSRFTokenInQueryString(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	token := c.csrfToken("/accounts/update/")
	for _, path := range []string{
		"/accounts/update/?csrfmiddlewaretoken=" + url.QueryEscape(token),
		"/accounts/delete/?csrfmiddlewaretoken=" + url.QueryEscape(token) + "&confirm=yes",
	} {
		res := atkPost(c, path, "", url.Values{"email": {"evil@example.com"}, "confirm": {"yes"}})
		wantStatus(t, res, http.StatusForbidden)
	}
	if u := app.user("alice"); u == nil || u.Email != "" {
		t.Fatalf("a token in the query string was accepted: %+v", u)
	}
}

// --- Bodies --------------------------------------------------------------

func TestAttackFormReadsBodyOnly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := app.client()
	c.loginAs("alice", goodPassword)
	token := c.csrfToken("/accounts/update/")
	res := atkPost(c, "/accounts/update/?first_name=Evil&last_name=Evil&email=evil%40example.com", token,
		url.Values{"email": {"alice@example.com"}, "current_password": {goodPassword}, "first_name": {"Good"}})
	wantStatus(t, res, http.StatusSeeOther)
	u := app.user("alice")
	if u.FirstName != "Good" || u.LastName != "" || u.Email != "alice@example.com" {
		t.Fatalf("saved %q %q %q; want the body's Good, blank last name, alice@example.com", u.FirstName, u.LastName, u.Email)
	}

	// Credentials in the query string are not a login form.
	anon := app.client()
	token = anon.csrfToken("/accounts/login/")
	res = atkPost(anon, "/accounts/login/?username=alice&password="+url.QueryEscape(goodPassword), token, nil)
	wantStatus(t, res, http.StatusBadRequest)
	if anon.cookie("sessionid") != "" {
		t.Fatal("a login from the query string started a session")
	}
}

func TestAttackWrongContentType(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	atkExec(t, app, "UPDATE users SET email = 'alice@example.com', first_name = 'Alice', last_name = 'Liddell'")
	c := app.client()
	c.loginAs("alice", goodPassword)
	before := app.user("alice")
	token := c.csrfToken("/accounts/update/")
	evilForm := "csrfmiddlewaretoken=" + url.QueryEscape(token) + "&email=evil%40example.com&first_name=Evil&last_name=Evil"
	tests := []struct {
		name, path, contentType, body string
		status                        int
	}{
		{"JSON", "/accounts/update/", "application/json", `{"email":"evil@example.com","first_name":"Evil","last_name":"Evil"}`, http.StatusUnsupportedMediaType},
		{"text/plain", "/accounts/update/", "text/plain", evilForm, http.StatusUnsupportedMediaType},
		{"no content type", "/accounts/update/", "", evilForm, http.StatusUnsupportedMediaType},
		{"JSON to the password form", "/accounts/password/", "application/json", `{"old_password":"x"}`, http.StatusUnsupportedMediaType},
		{"only the token: profile", "/accounts/update/", "application/x-www-form-urlencoded", "csrfmiddlewaretoken=" + url.QueryEscape(token), http.StatusBadRequest},
		{"only the token: password", "/accounts/password/", "application/x-www-form-urlencoded", "csrfmiddlewaretoken=" + url.QueryEscape(token), http.StatusBadRequest},
		{"only the token: sessions", "/accounts/sessions/", "application/x-www-form-urlencoded", "csrfmiddlewaretoken=" + url.QueryEscape(token), http.StatusBadRequest},
		{"only the token: article", "/articles/create/", "application/x-www-form-urlencoded", "csrfmiddlewaretoken=" + url.QueryEscape(token), http.StatusBadRequest},
		{"only fields of no form", "/accounts/update/", "application/x-www-form-urlencoded", "csrfmiddlewaretoken=" + url.QueryEscape(token) + "&is_staff=1&username=root", http.StatusBadRequest},
		{"a JSON body called a form", "/accounts/update/", "application/x-www-form-urlencoded", `{"email":"evil@example.com"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, app.url+tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("X-CSRF-Token", token)
			res := c.do(req)
			wantStatus(t, res, tt.status)
			if !strings.Contains(res.body, `data-testid="error"`) {
				t.Errorf("no error page:\n%s", res.body)
			}
		})
	}
	after := app.user("alice")
	if after.Email != before.Email || after.FirstName != before.FirstName || after.LastName != before.LastName || after.Password != before.Password {
		t.Fatalf("alice changed: %+v", after)
	}
	if n := app.count("SELECT COUNT(*) FROM articles"); n != 0 {
		t.Errorf("%d articles, want 0", n)
	}
	if got := c.loggedInAs(); got != "alice" {
		t.Fatalf("header greets %q, want alice", got)
	}
	// The same form, as a form, goes through (the token header rides along).
	res := atkPost(c, "/accounts/update/", token, atkProfile("alice@example.org", "Alice", "Liddell"))
	wantStatus(t, res, http.StatusSeeOther)
}

// --- Races ---------------------------------------------------------------

// atkRace sends the requests at once and returns their statuses.
func atkRace(t *testing.T, c *client, reqs ...func() *http.Request) []int {
	t.Helper()
	statuses := make([]int, len(reqs))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, newReq := range reqs {
		req := newReq()
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			res, err := c.http.Do(req)
			if err != nil {
				return // status 0
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	start.Done()
	done.Wait()
	return statuses
}

// atkFormRequest builds a POST of values with the token.
func atkFormRequest(app *testApp, path, token string, values url.Values) func() *http.Request {
	return func() *http.Request {
		form := url.Values{"csrfmiddlewaretoken": {token}}
		for key, vals := range values {
			form[key] = vals
		}
		req, _ := http.NewRequest(http.MethodPost, app.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
}

func TestAttackRaceDoubleAccountDelete(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for try := range 6 {
		username := fmt.Sprintf("alice%d", try)
		app.createUser(username, goodPassword)
		c := app.client()
		c.loginAs(username, goodPassword)
		token := c.csrfToken("/articles/")
		del := atkFormRequest(app, "/accounts/delete/", token, url.Values{"password": {goodPassword}})
		for i, status := range atkRace(t, c, del, del) {
			if status == 0 || status >= 500 {
				t.Errorf("try %d, delete %d: status %d", try, i, status)
			}
		}
		if app.user(username) != nil {
			t.Errorf("try %d: the account survived", try)
		}
	}
	if n := app.count("SELECT COUNT(*) FROM sessions"); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

func TestAttackRaceArticleCreateWhileAccountDeleted(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for try := range 6 {
		username := fmt.Sprintf("alice%d", try)
		app.createUser(username, goodPassword)
		c := app.client()
		c.loginAs(username, goodPassword)
		token := c.csrfToken("/articles/create/")
		create := atkFormRequest(app, "/articles/create/", token, url.Values{"title": {"Last words"}, "content": {"Written as the account went."}})
		del := atkFormRequest(app, "/accounts/delete/", token, url.Values{"password": {goodPassword}})
		for i, status := range atkRace(t, c, create, del, create) {
			if status == 0 || status >= 500 {
				t.Errorf("try %d, request %d: status %d", try, i, status)
			}
		}
	}
	if n := app.count("SELECT COUNT(*) FROM articles WHERE author_id NOT IN (SELECT id FROM users)"); n != 0 {
		t.Errorf("%d articles without an author", n)
	}
	wantStatus(t, app.client().get("/articles/"), http.StatusOK)
}

// --- Headers and cookies -------------------------------------------------

func TestAttackLargeHeaders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	login := app.client()
	login.loginAs("alice", goodPassword)
	own := "sessionid=" + login.cookie("sessionid") + "; csrftoken=" + login.cookie("csrftoken")

	// Other sites' cookies of a parent domain fill up the header.
	cookie := own + "; other=" + strings.Repeat("x", 4100-len(own)-len("; other="))
	if len(cookie) != 4100 {
		t.Fatalf("Cookie header of %d bytes", len(cookie))
	}
	var pad []string
	for i := range 15 {
		pad = append(pad, fmt.Sprintf("X-Pad-%02d", i), strings.Repeat("p", 1000))
	}
	tests := []struct {
		name  string
		extra []string
	}{
		{"a 4,100-byte cookie", nil},
		{"15 KiB of headers", pad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, app.url+"/articles/", nil)
			req.Header.Set("Cookie", cookie)
			for i := 0; i+1 < len(tt.extra); i += 2 {
				req.Header.Set(tt.extra[i], tt.extra[i+1])
			}
			res := atkRawClient(app).do(req)
			wantStatus(t, res, http.StatusOK)
			if got := res.text(t, `[data-testid="username"]`); got != "alice" {
				t.Errorf("header greets %q, want alice", got)
			}
		})
	}
}

// atkKeepCookies stores in jar, by name, the cookies res sets, and drops
// those it deletes: a browser's jar that ignores Secure.
func atkKeepCookies(jar map[string]string, res *response) {
	for _, cookie := range res.Cookies() {
		if cookie.MaxAge < 0 || cookie.Value == "" {
			delete(jar, cookie.Name)
			continue
		}
		jar[cookie.Name] = cookie.Value
	}
}

// atkCookieHeader is the Cookie header that sends back what jar holds.
func atkCookieHeader(jar map[string]string) string {
	var pairs []string
	for name, value := range jar {
		pairs = append(pairs, name+"="+value)
	}
	return strings.Join(pairs, "; ")
}

func TestAttackSecureCookies(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{CookieSecure: true})
	app.createUser("alice", goodPassword)
	raw := atkRawClient(app)
	jar := map[string]string{}
	seen := map[string]bool{}
	send := func(method, path string, form url.Values) *response {
		t.Helper()
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, app.url+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if len(jar) > 0 {
			req.Header.Set("Cookie", atkCookieHeader(jar))
		}
		res := raw.do(req)
		if got := res.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
			t.Errorf("%s %s: Strict-Transport-Security %q", method, path, got)
		}
		for _, cookie := range res.Cookies() {
			seen[cookie.Name] = true
			if !cookie.Secure {
				t.Errorf("%s %s: cookie %s is not Secure", method, path, cookie.Name)
			}
			if !cookie.HttpOnly {
				t.Errorf("%s %s: cookie %s is not HttpOnly", method, path, cookie.Name)
			}
			if strings.HasPrefix(cookie.Name, "__Host-") && (cookie.Path != "/" || cookie.Domain != "") {
				t.Errorf("%s %s: %s has Path %q, Domain %q", method, path, cookie.Name, cookie.Path, cookie.Domain)
			}
		}
		atkKeepCookies(jar, res)
		return res
	}
	token := func(res *response) string {
		value, _ := res.doc(t).Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value")
		return value
	}

	page := send(http.MethodGet, "/accounts/login/", nil)
	wantStatus(t, page, http.StatusOK)
	res := send(http.MethodPost, "/accounts/login/", url.Values{"csrfmiddlewaretoken": {token(page)}, "username": {"alice"}, "password": {goodPassword}})
	wantStatus(t, res, http.StatusSeeOther)
	set := map[string]bool{}
	for _, cookie := range res.Cookies() {
		set[cookie.Name] = true
	}
	for _, name := range []string{"__Host-sessionid", "__Host-csrftoken", "messages", "device"} {
		if !set[name] {
			t.Errorf("the login set no %s cookie", name)
		}
	}
	articles := send(http.MethodGet, "/articles/", nil)
	wantStatus(t, articles, http.StatusOK)
	if got := articles.text(t, `[data-testid="username"]`); got != "alice" {
		t.Fatalf("with the __Host- cookies the header greets %q", got)
	}
	if got := articles.Header.Get("Cache-Control"); got != "private, no-cache" {
		t.Errorf("Cache-Control %q, want private, no-cache", got)
	}

	// A session cookie without the prefix, as a sibling subdomain could
	// plant, is no session.
	req, _ := http.NewRequest(http.MethodGet, app.url+"/articles/", nil)
	req.Header.Set("Cookie", "sessionid="+jar["__Host-sessionid"])
	if got := raw.do(req).text(t, `[data-testid="username"]`); got != "" {
		t.Errorf("an unprefixed sessionid cookie logs in as %q", got)
	}

	// Remember me and logout set and clear cookies Secure too.
	res = send(http.MethodPost, "/accounts/logout/", url.Values{"csrfmiddlewaretoken": {token(articles)}})
	wantStatus(t, res, http.StatusSeeOther)
	page = send(http.MethodGet, "/accounts/login/", nil)
	res = send(http.MethodPost, "/accounts/login/", url.Values{"csrfmiddlewaretoken": {token(page)}, "username": {"alice"}, "password": {goodPassword}, "remember": {"on"}})
	wantStatus(t, res, http.StatusSeeOther)
	for name := range seen {
		if name == "sessionid" || name == "csrftoken" {
			t.Errorf("a cookie named %s, without the __Host- prefix, was set", name)
		}
	}
}

func TestAttackCacheControl(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	anon := app.client()
	user := app.client()
	user.loginAs("alice", goodPassword)
	tests := []struct {
		c    *client
		path string
		want string
	}{
		{anon, "/articles/", "private, no-cache"},
		{user, "/articles/", "private, no-cache"},
		{user, "/articles/create/", "private, no-cache"},
		{anon, "/nowhere/", "private, no-cache"},
		{anon, "/accounts/login/", "no-store"},
		{anon, "/accounts/signup/", "no-store"},
		{user, "/accounts/update/", "no-store"},
		{user, "/accounts/password/", "no-store"},
		{user, "/accounts/sessions/", "no-store"},
		{user, "/accounts/activity/", "no-store"},
	}
	for _, tt := range tests {
		if got := tt.c.get(tt.path).Header.Get("Cache-Control"); got != tt.want {
			t.Errorf("GET %s: Cache-Control %q, want %q", tt.path, got, tt.want)
		}
	}
	// A refused login shows the form again: still a credential page.
	for i := range 6 {
		res := atkLogin(anon, "alice", fmt.Sprintf("guess %d", i))
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("login attempt %d (%d): Cache-Control %q, want no-store", i+1, res.StatusCode, got)
		}
	}
}

func TestAttackNextNonASCII(t *testing.T) {
	t.Parallel()
	tests := []struct{ next, location string }{
		{"/ü/", "/%C3%BC/"},
		{"/articles/?q=ü", "/articles/?q=%C3%BC"},
		{"/articles/?q=ü#ä", "/articles/?q=%C3%BC#%C3%A4"},
		{"/articles/?q=%C3%BC", "/articles/?q=%C3%BC"}, // encoded already: not twice
	}
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		for _, tt := range tests {
			t.Run(tt.next, func(t *testing.T) {
				c := app.newClient(htmx)
				form := "/accounts/login/?next=" + url.QueryEscape(tt.next)
				res := c.postForm(form, form, url.Values{"username": {"alice"}, "password": {goodPassword}, "next": {tt.next}})
				header := "Location"
				if htmx {
					header = "HX-Redirect"
				}
				got := res.Header.Get(header)
				for i := range len(got) {
					if got[i] >= 0x80 || got[i] < 0x20 {
						t.Fatalf("%s %q is not printable ASCII", header, got)
					}
				}
				if got != tt.location {
					t.Errorf("%s %q, want %q", header, got, tt.location)
				}
			})
		}
	})
}

// --- Django's hashes -----------------------------------------------------

func TestAttackDjangoHashesLogIn(t *testing.T) {
	t.Parallel()
	// Django's argon2id at its own (stronger) parameters, as a Django site
	// with a bigger budget writes it.
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte("s3cret passphrase"), salt, 2, 102400, 8, 32)
	strongArgon2 := fmt.Sprintf("argon2$argon2id$v=19$m=102400,t=2,p=8$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	tests := []struct {
		name, password, hash string
		upgraded             bool
	}{
		// Django's vector at Django 1.11's iteration count: 390,000 would
		// cost seconds under -race and check nothing more.
		{"pbkdf2_sha256", "lètmein", "pbkdf2_sha256$30000$seasalt$VrX+V8drCGo68wlvy6rfu8i1d1pfkdeXA4LJkRGJodY=", true},
		{"pbkdf2_sha1", "lètmein", "pbkdf2_sha1$30000$seasalt2$pMzU1zNPcydf6wjnJFbiVKwgULc=", true},
		{"weak argon2i", "secret", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", true},
		{"strong argon2id", "s3cret passphrase", strongArgon2, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := newTestApp(t)
			username := fmt.Sprintf("django%d", i)
			u := &models.User{Username: username, Password: tt.hash, IsActive: true}
			if err := models.CreateUser(context.Background(), app.db, u); err != nil {
				t.Fatal(err)
			}
			c := app.client()
			if tt.upgraded { // the strong hash costs a second a check under -race
				wantStatus(t, atkLogin(c, username, tt.password+"x"), http.StatusUnprocessableEntity)
				if got := app.user(username).Password; got != tt.hash {
					t.Fatalf("a wrong password changed the stored hash to %q", got)
				}
			}
			c.loginAs(username, tt.password)
			stored := app.user(username).Password
			if tt.upgraded && !strings.HasPrefix(stored, "argon2$argon2id$v=19$m=64,t=1,p=1$") {
				t.Errorf("stored hash %q, want it upgraded to our argon2id", stored)
			}
			if !tt.upgraded && stored != tt.hash {
				t.Errorf("stored hash %q, want Django's kept", stored)
			}
			// The session started with the upgraded hash stays valid.
			if got := c.loggedInAs(); got != username {
				t.Fatalf("after the login the header greets %q", got)
			}
			if tt.upgraded {
				atkLogout(t, c)
				app.client().loginAs(username, tt.password)
			}
		})
	}
}

// --- Sessions page -------------------------------------------------------

// atkSessions reads the sessions page: the handle of the current session and
// of the others, in page order.
func atkSessions(t *testing.T, c *client) (page *response, current string, others []string) {
	t.Helper()
	htmx := c.htmx
	c.htmx = false
	page = c.get("/accounts/sessions/")
	c.htmx = htmx
	wantStatus(t, page, http.StatusOK)
	page.doc(t).Find(`[data-testid="session"]`).Each(func(_ int, item *goquery.Selection) {
		id, _ := item.Attr("id")
		handle := strings.TrimPrefix(id, "session-")
		if item.Find(`[data-testid="current-session"]`).Length() == 1 {
			if current != "" {
				t.Error("two sessions are marked current")
			}
			current = handle
			if item.Find(`input[name="end"]`).Length() != 0 {
				t.Error("the current session has a log-out-this-session form")
			}
			return
		}
		value, _ := item.Find(`input[name="end"]`).Attr("value")
		if value != handle {
			t.Errorf("session item %q ends %q", id, value)
		}
		others = append(others, handle)
	})
	if current == "" {
		t.Fatalf("no session is marked current:\n%s", page.body)
	}
	return page, current, others
}

// atkMessages loads a full page and returns the flash messages it shows.
func atkMessages(t *testing.T, c *client) string {
	t.Helper()
	htmx := c.htmx
	c.htmx = false
	res := c.get("/articles/")
	c.htmx = htmx
	return res.text(t, `[data-testid="messages"]`)
}

func TestSessionsPageLists(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	c, other, bob := app.client(), app.client(), app.client()
	c.loginAs("alice", goodPassword)
	other.loginAs("alice", goodPassword)
	bob.loginAs("bob", goodPassword)

	page, current, others := atkSessions(t, c)
	if len(others) != 1 {
		t.Fatalf("%d other sessions listed, want 1", len(others))
	}
	for who, key := range map[string]string{"this": c.cookie("sessionid"), "the other": other.cookie("sessionid"), "bob's": bob.cookie("sessionid")} {
		if key == "" || strings.Contains(page.body, key) {
			t.Errorf("the page shows %s session's id", who)
		}
	}
	if strings.Contains(page.body, c.cookie("device")) {
		t.Error("the page shows the device cookie")
	}
	// The other browser sees the same two sessions, the current one swapped.
	_, otherCurrent, otherOthers := atkSessions(t, other)
	if len(otherOthers) != 1 || otherOthers[0] != current || otherCurrent != others[0] {
		t.Errorf("the other browser lists current %q, others %q; want %q, [%q]", otherCurrent, otherOthers, others[0], current)
	}
	if got := page.doc(t).Find(`form[data-testid="end-others"] input[name="end"]`).AttrOr("value", ""); got != "others" {
		t.Errorf("no log-out-everywhere-else form (end=%q)", got)
	}
}

func TestSessionsPageShowsClientAddress(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	app.createUser("alice", goodPassword)
	c := atkClientFrom(app, "192.0.2.77", false)
	c.loginAs("alice", goodPassword)
	page, _, _ := atkSessions(t, c)
	if meta := page.text(t, `[data-testid="session"] .meta`); !strings.HasPrefix(meta, "192.0.2.77 ") {
		t.Errorf("the session is shown as from %q, want 192.0.2.77", meta)
	}
}

func TestSessionsPageEndOne(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c, other := app.newClient(htmx), app.client()
		c.loginAs("alice", goodPassword)
		other.loginAs("alice", goodPassword)
		otherKey := other.cookie("sessionid")
		if got := other.loggedInAs(); got != "alice" {
			t.Fatalf("the other browser greets %q", got) // warms the session cache
		}

		_, _, others := atkSessions(t, c)
		token := c.csrfToken("/accounts/sessions/")
		res := atkPost(c, "/accounts/sessions/", token, url.Values{"end": {others[0]}}, "HX-Target", "sessions-card")
		if htmx {
			atkWantSessionsCard(t, res, 1, "was logged out.")
		} else {
			wantRedirect(t, res, false, "/accounts/sessions/")
			if got := atkMessages(t, c); !strings.Contains(got, "was logged out.") {
				t.Errorf("flash %q", got)
			}
		}
		if got := other.loggedInAs(); got != "" {
			t.Fatalf("the ended session still greets %q", got)
		}
		if n := app.count("SELECT COUNT(*) FROM sessions WHERE key = ?", otherKey); n != 0 {
			t.Error("the ended session's index row survived")
		}
		if n := app.count("SELECT COUNT(*) FROM session_data WHERE k = ?", otherKey); n != 0 {
			t.Error("the ended session's payload survived")
		}
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("ending another session logged this one out (header %q)", got)
		}
		if n := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ?", models.EventSessionRevoked); n != 1 {
			t.Errorf("%d session_revoked events, want 1", n)
		}
	})
}

func TestSessionsPageCannotEndOthersSessions(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	alice, bob := app.client(), app.client()
	alice.loginAs("alice", goodPassword)
	bob.loginAs("bob", goodPassword)
	_, bobHandle, _ := atkSessions(t, bob)
	tests := []struct{ name, end string }{
		{"the handle of bob's session", bobHandle},
		{"bob's session id", bob.cookie("sessionid")},
		{"a made-up handle", strings.Repeat("0", len(bobHandle))},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := atkPost(alice, "/accounts/sessions/", alice.csrfToken("/accounts/sessions/"), url.Values{"end": {tt.end}})
			wantRedirect(t, res, false, "/accounts/sessions/")
			if got := atkMessages(t, alice); got != "" && !strings.Contains(got, "That session had already ended.") {
				t.Errorf("flash %q", got)
			}
			if got := bob.loggedInAs(); got != "bob" {
				t.Fatalf("bob's session was ended (header %q)", got)
			}
		})
	}
	if n := app.count("SELECT COUNT(*) FROM sessions"); n != 2 {
		t.Errorf("%d sessions, want 2", n)
	}
	if n := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ?", models.EventSessionRevoked); n != 0 {
		t.Errorf("%d session_revoked events, want 0", n)
	}
}

func TestSessionsPageEndOthers(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		app.createUser("bob", goodPassword)
		c, second, third, bob := app.newClient(htmx), app.client(), app.client(), app.client()
		for _, b := range []*client{c, second, third} {
			b.loginAs("alice", goodPassword)
		}
		bob.loginAs("bob", goodPassword)
		_, current, _ := atkSessions(t, c)

		res := atkPost(c, "/accounts/sessions/", c.csrfToken("/accounts/sessions/"), url.Values{"end": {"others"}}, "HX-Target", "sessions-card")
		const message = "Your 2 other sessions were logged out."
		if htmx {
			atkWantSessionsCard(t, res, 1, message)
		} else {
			wantRedirect(t, res, false, "/accounts/sessions/")
			if got := atkMessages(t, c); !strings.Contains(got, message) {
				t.Errorf("flash %q", got)
			}
		}
		for i, b := range []*client{second, third} {
			if got := b.loggedInAs(); got != "" {
				t.Errorf("session %d still greets %q", i+2, got)
			}
		}
		if got := bob.loggedInAs(); got != "bob" {
			t.Errorf("bob's session was ended (header %q)", got)
		}
		page, after, others := atkSessions(t, c)
		if after != current || len(others) != 0 {
			t.Errorf("after: current %q, others %q; want %q and none", after, others, current)
		}
		if strings.Contains(page.body, `data-testid="end-others"`) {
			t.Error("with no other sessions the page still offers to end them")
		}
	})
}

func TestSessionsPageCannotEndCurrent(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		app.createUser("alice", goodPassword)
		c := app.newClient(htmx)
		c.loginAs("alice", goodPassword)
		_, current, _ := atkSessions(t, c)
		res := atkPost(c, "/accounts/sessions/", c.csrfToken("/accounts/sessions/"), url.Values{"end": {current}}, "HX-Target", "session-"+current)
		wantStatus(t, res, http.StatusBadRequest)
		if !strings.Contains(res.body, "To end this session, log out.") {
			t.Errorf("the 400 does not say why:\n%s", res.body)
		}
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("header greets %q, want alice", got)
		}
	})
}

func TestSessionsPagePasswordChange(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c, second, third := app.client(), app.client(), app.client()
	for _, b := range []*client{c, second, third} {
		b.loginAs("alice", goodPassword)
	}
	oldKey := c.cookie("sessionid")
	const newPassword = "a brand new passphrase"
	res := c.postForm("/accounts/password/", "/accounts/password/", url.Values{
		"old_password": {goodPassword}, "new_password1": {newPassword}, "new_password2": {newPassword},
	})
	wantStatus(t, res, http.StatusSeeOther)
	newKey := c.cookie("sessionid")
	if newKey == "" || newKey == oldKey {
		t.Fatalf("session id after the change %q, want a new one", newKey)
	}
	if got := atkMessages(t, c); !strings.Contains(got, "Your password was changed. Your 2 other sessions were logged out.") {
		t.Errorf("flash %q", got)
	}
	if got := c.loggedInAs(); got != "alice" {
		t.Fatalf("the browser that changed the password greets %q", got)
	}
	for i, b := range []*client{second, third} {
		if got := b.loggedInAs(); got != "" {
			t.Errorf("session %d still greets %q", i+2, got)
		}
	}
	replay := app.client()
	replay.setCookie("sessionid", oldKey)
	if got := replay.loggedInAs(); got != "" {
		t.Fatalf("the old session id still authenticates as %q", got)
	}
	if n := app.count("SELECT COUNT(*) FROM sessions WHERE key = ?", oldKey); n != 0 {
		t.Error("the old session id's index row survived")
	}
	_, _, others := atkSessions(t, c)
	if len(others) != 0 {
		t.Errorf("%d other sessions listed, want 0", len(others))
	}
	// Still usable: the cycled session posts with its new token.
	wantStatus(t, c.postForm("/accounts/update/", "/accounts/update/", atkProfile("", "Alice", "")), http.StatusSeeOther)
}

// atkWantSessionsCard fails unless res is the htmx answer to ending
// sessions: the sessions card alone, listing n sessions, and the message
// out of band.
func atkWantSessionsCard(t *testing.T, res *response, n int, message string) {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(res.body, "<html") {
		t.Fatalf("the htmx answer is a full page:\n%s", res.body)
	}
	doc := res.doc(t)
	if got := doc.Find(`#sessions-card [data-testid="session"]`).Length(); got != n {
		t.Errorf("the card lists %d sessions, want %d", got, n)
	}
	if doc.Find(`#sessions-card [data-testid="current-session"]`).Length() != 1 {
		t.Error("the card marks no session current")
	}
	if n == 1 && doc.Find(`[data-testid="end-others"]`).Length() != 0 {
		t.Error("with no other sessions the card still offers to end them")
	}
	oob := doc.Find(`#messages[hx-swap-oob]`)
	if oob.Length() != 1 || !strings.Contains(oob.Text(), message) {
		t.Errorf("no out-of-band message %q:\n%s", message, res.body)
	}
}

// --- Activity page -------------------------------------------------------

// atkEvents reads the events a page of the activity log lists: what, and the meta line.
func atkEvents(t *testing.T, c *client, query string) (what, meta []string) {
	t.Helper()
	res := c.get("/accounts/activity/" + query)
	wantStatus(t, res, http.StatusOK)
	res.doc(t).Find(`[data-testid="event"]`).Each(func(_ int, item *goquery.Selection) {
		what = append(what, strings.TrimSpace(item.Find("strong").Text()))
		meta = append(meta, strings.Join(strings.Fields(item.Find(".meta").Text()), " "))
	})
	return what, meta
}

func TestActivityPageShowsOwnEvents(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("bob", goodPassword)
	c, second, bob := app.client(), app.client(), app.client()

	wantStatus(t, c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
		"username": {"alice"}, "password1": {goodPassword}, "password2": {goodPassword},
	}), http.StatusSeeOther)
	atkLogout(t, c)
	wantStatus(t, atkLogin(c, "alice", "wrong password"), http.StatusUnprocessableEntity)
	wantStatus(t, atkLogin(bob, "bob", "wrong password"), http.StatusUnprocessableEntity)
	wantStatus(t, atkLogin(bob, "nobody", "wrong password"), http.StatusUnprocessableEntity)
	bob.loginAs("bob", goodPassword)
	c.loginAs("alice", goodPassword)
	second.loginAs("alice", goodPassword)
	wantStatus(t, c.postForm("/accounts/update/", "/accounts/update/", atkProfile("alice@example.com", "", "")), http.StatusSeeOther)
	_, _, others := atkSessions(t, c)
	wantStatus(t, atkPost(c, "/accounts/sessions/", c.csrfToken("/accounts/sessions/"), url.Values{"end": {others[0]}}), http.StatusSeeOther)
	const newPassword = "a brand new passphrase"
	wantStatus(t, c.postForm("/accounts/password/", "/accounts/password/", url.Values{
		"old_password": {goodPassword}, "new_password1": {newPassword}, "new_password2": {newPassword},
	}), http.StatusSeeOther)
	atkLogout(t, bob)

	what, meta := atkEvents(t, c, "")
	want := []string{ // each a prefix: an ended session's entry names it
		"Password changed",
		"Session ended",
		"Email address changed",
		"Logged in", // the second browser
		"Logged in",
		"Failed login attempt",
		"Logged out",
		"Account created",
	}
	if len(what) != len(want) {
		t.Fatalf("alice's activity:\n  %q\nwant\n  %q", what, want)
	}
	for i := range want {
		if !strings.HasPrefix(what[i], want[i]) {
			t.Fatalf("alice's activity:\n  %q\nwant\n  %q", what, want)
		}
	}
	if got := c.get("/accounts/activity/").doc(t).Find(`[data-testid="event"].event-warning strong`).Text(); got != "Failed login attempt" {
		t.Errorf("the entries flagged as warnings read %q, want the failed login alone", got)
	}
	for i, line := range meta {
		if !strings.HasSuffix(line, "127.0.0.1") {
			t.Errorf("event %d: meta %q does not end with the address", i, line)
		}
	}
	bob.loginAs("bob", goodPassword)
	bobWhat, _ := atkEvents(t, bob, "")
	if strings.Join(bobWhat, "|") != "Logged in|Logged out|Logged in|Failed login attempt" {
		t.Errorf("bob's activity: %q", bobWhat)
	}
}

func TestActivityPagePaging(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	alice := app.createUser("alice", goodPassword)
	bob := app.createUser("bob", goodPassword)
	start := time.Now().Add(-48 * time.Hour)
	for i := 1; i <= 25; i++ {
		for _, u := range []*models.User{alice, bob} {
			e := &models.SecurityEvent{UserID: u.ID, Username: u.Username, Kind: models.EventLoginFailed,
				IP: fmt.Sprintf("192.0.2.%d", i), CreatedAt: start.Add(time.Duration(i) * time.Hour)}
			if u == bob {
				e.IP = fmt.Sprintf("198.51.100.%d", i)
			}
			if err := models.RecordEvent(context.Background(), app.db, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := app.client()
	c.loginAs("alice", goodPassword) // the 26th event, the newest

	address := func(meta string) string { return meta[strings.LastIndex(meta, " ")+1:] }
	tests := []struct {
		query       string
		n           int
		first, last string
	}{
		{"", 20, "127.0.0.1", "192.0.2.7"},
		{"?page=1", 20, "127.0.0.1", "192.0.2.7"},
		{"?page=2", 6, "192.0.2.6", "192.0.2.1"},
		{"?page=abc", 20, "127.0.0.1", "192.0.2.7"},
		{"?page=0", 20, "127.0.0.1", "192.0.2.7"},
		{"?page=-3", 20, "127.0.0.1", "192.0.2.7"},
		{"?page=99", 6, "192.0.2.6", "192.0.2.1"},
		{"?page=99999999999999999999", 20, "127.0.0.1", "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			_, meta := atkEvents(t, c, tt.query)
			if len(meta) != tt.n {
				t.Fatalf("%d events, want %d", len(meta), tt.n)
			}
			if address(meta[0]) != tt.first || address(meta[len(meta)-1]) != tt.last {
				t.Errorf("events from %s to %s, want %s to %s", address(meta[0]), address(meta[len(meta)-1]), tt.first, tt.last)
			}
			for _, line := range meta {
				if strings.Contains(line, "198.51.100.") {
					t.Fatalf("alice's page shows bob's event %q", line)
				}
			}
		})
	}
	res := c.get("/accounts/activity/?page=2")
	if got := res.text(t, `[data-testid="pagination"] [aria-current="page"]`); got != "Page 2 of 2" {
		t.Errorf("pagination says %q", got)
	}
	if got := res.doc(t).Find(`[data-testid="pagination"] a[rel="prev"]`).AttrOr("href", ""); got != "/accounts/activity/?page=1" {
		t.Errorf("previous page link %q", got)
	}
}

// A crowd of logins the hasher cannot serve within a second is refused with
// 429: to htmx that must be the login form again, not a whole page swapped
// in place of the form, and it should say when to retry.
func TestAttackHasherBusyHTMX(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	// An argon2id hash that takes a good fraction of a second (16 MiB, 16
	// passes), as a Django site's stronger parameters can.
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(goodPassword), salt, 16, 16*1024, 1, 32)
	hash := fmt.Sprintf("argon2$argon2id$v=19$m=16384,t=16,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if err := models.CreateUser(context.Background(), app.db, &models.User{Username: "alice", Password: hash, IsActive: true}); err != nil {
		t.Fatal(err)
	}
	app.client().loginAs("alice", goodPassword) // the pool learns how long a hash takes

	crowd := 10*max(1, runtime.NumCPU()/2) + 1
	clients := make([]*client, crowd)
	tokens := make([]string, crowd)
	for i := range clients {
		clients[i] = app.htmxClient()
		tokens[i] = clients[i].csrfToken("/accounts/login/")
	}
	answers := make([]*response, crowd)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"csrfmiddlewaretoken": {tokens[i]}, "username": {"alice"}, "password": {goodPassword}}
			req, _ := http.NewRequest(http.MethodPost, app.url+"/accounts/login/", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("HX-Request", "true")
			req.Header.Set("X-CSRF-Token", tokens[i])
			res, err := c.http.Do(req)
			if err != nil {
				return
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			answers[i] = &response{Response: res, body: string(body)}
		}()
	}
	wg.Wait()
	refused, reported := 0, false
	for i, res := range answers {
		if res == nil {
			t.Fatalf("login %d: no answer", i)
		}
		switch res.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			refused++
			if reported {
				continue
			}
			reported = true
			if strings.Contains(res.body, "<html") || res.doc(t).Find(`form[data-testid="login-form"]`).Length() != 1 {
				t.Errorf("login %d: the htmx 429 is not the login form:\n%.300s", i, res.body)
			}
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("login %d: a 429 without Retry-After", i)
			}
		default:
			t.Errorf("login %d: status %d", i, res.StatusCode)
		}
	}
	if refused == 0 {
		t.Logf("none of %d logins was refused: this machine hashes too fast to fill the pool", crowd)
	}
}

// A browser that signed up has proven the password as much as one that
// logged in: during an attack on the account it should keep its own allowance.
func TestAttackBruteForceAfterSignup(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	browser := atkClientFrom(app, "192.0.2.40", false)
	res := browser.postForm("/accounts/signup/", "/accounts/signup/", url.Values{"username": {"alice"}, "password1": {goodPassword}, "password2": {goodPassword}})
	wantStatus(t, res, http.StatusSeeOther)
	atkLogout(t, browser)
	attacker := atkClientFrom(app, "198.51.100.40", false)
	for i := range 5 {
		wantStatus(t, atkLogin(attacker, "alice", fmt.Sprintf("guess %d", i)), http.StatusUnprocessableEntity)
	}
	atkWantThrottled(t, atkLogin(attacker, "alice", goodPassword), 15*time.Minute)
	wantStatus(t, atkLogin(browser, "alice", goodPassword), http.StatusSeeOther)
}
