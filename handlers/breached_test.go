package handlers_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models/password"
	"gatehouse/models/password/rangetest"
	"gatehouse/views"
)

// breachedPassword passes Django's four validators; the range server knows it.
const breachedPassword = "P@ssw0rd1234"

// breachApp is an app that looks new passwords up in rs, logging to log.
func breachApp(t *testing.T, rs *rangetest.Server, log *syncBuffer) *testApp {
	return newTestAppWith(t, handlers.Config{
		BreachedPasswords: &password.BreachChecker{URL: rs.RangeURL(), Timeout: 100 * time.Millisecond},
		Logger:            slog.New(slog.NewTextHandler(log, nil)),
	})
}

func wantBreachedRefused(t *testing.T, res *response, field string) {
	t.Helper()
	wantStatus(t, res, http.StatusUnprocessableEntity)
	// The message sits in the field's error list, which names the field.
	if !strings.Contains(string(res.body), "appeared in a data breach") || !strings.Contains(string(res.body), `id="id_`+field+`_error"`) {
		t.Errorf("no breach message beside %s:\n%s", field, res.body)
	}
}

// TestBreachedPasswordRefused: a new password the range API has seen is
// refused at signup, password change, reset and when an admin sets one;
// one it has not seen passes; only a 5-digit prefix of its SHA-1 leaves.
func TestBreachedPasswordRefused(t *testing.T) {
	t.Parallel()
	rs := rangetest.New(t, map[string]int{breachedPassword: 2841})
	app := breachApp(t, rs, &syncBuffer{})

	// Signup.
	c := app.client()
	res := c.postForm(views.PathSignup, views.PathSignup, url.Values{"username": {"bob"}, "email": {"bob@example.com"},
		"password1": {breachedPassword}, "password2": {breachedPassword}})
	wantBreachedRefused(t, res, "password1")
	if n := app.count("SELECT count(*) FROM users WHERE username = 'bob'"); n != 0 {
		t.Fatal("the account was made with a breached password")
	}
	wantStatus(t, c.postForm(views.PathSignup, views.PathSignup, url.Values{"username": {"bob"}, "email": {"bob@example.com"},
		"password1": {goodPassword}, "password2": {goodPassword}}), http.StatusSeeOther)

	// Password change.
	res = c.postForm(views.PathPassword, views.PathPassword, url.Values{"old_password": {goodPassword},
		"new_password1": {breachedPassword}, "new_password2": {breachedPassword}})
	wantBreachedRefused(t, res, "new_password1")

	// Reset.
	box := mtFolder(t, app.mailDir)
	mtVerifiedUser(t, app, "carol", "carol@example.com")
	r := app.client()
	mtAskReset(r, "carol@example.com")
	link, uid, _ := mtResetLink(t, app, box.next("carol@example.com", mtSubjectReset))
	mtGetPlain(r, link)
	setPath := "/accounts/reset/" + uid + "/set-password/"
	res = r.postForm(setPath, setPath, url.Values{"new_password1": {breachedPassword}, "new_password2": {breachedPassword}})
	wantBreachedRefused(t, res, "new_password1")

	// The admin setting a user's password.
	app.createStaff("root", true)
	admin := app.client()
	admin.loginAs("root", goodPassword)
	dave := app.createUser("dave", goodPassword)
	page := views.AdminUserPath(dave.ID)
	res = admin.postForm(page, page+"password/", url.Values{"new_password1": {breachedPassword}, "new_password2": {breachedPassword}})
	wantBreachedRefused(t, res, "new_password1")

	for _, asked := range rs.Asked() {
		if prefix := strings.TrimPrefix(asked.Path, "/range/"); len(prefix) != 5 || asked.Padding != "true" {
			t.Errorf("the range API was asked %q (Add-Padding %q)", asked.Path, asked.Padding)
		}
	}
	if len(rs.Asked()) < 5 {
		t.Errorf("%d look-ups, want one for each new password", len(rs.Asked()))
	}
}

// TestBreachedPasswordLookupFailsOpen: a range API that errs or does not
// answer lets the password through, with a log line that holds neither the
// password nor its hash.
func TestBreachedPasswordLookupFailsOpen(t *testing.T) {
	t.Parallel()
	rs := rangetest.New(t, map[string]int{breachedPassword: 2841})
	log := &syncBuffer{}
	app := breachApp(t, rs, log)
	rs.Fail(http.StatusInternalServerError)
	res := app.client().postForm(views.PathSignup, views.PathSignup, url.Values{"username": {"erin"}, "email": {"erin@example.com"},
		"password1": {breachedPassword}, "password2": {breachedPassword}})
	wantStatus(t, res, http.StatusSeeOther)
	rs.Fail(http.StatusOK)
	rs.Hang()
	res = app.client().postForm(views.PathSignup, views.PathSignup, url.Values{"username": {"frank"}, "email": {"frank@example.com"},
		"password1": {breachedPassword}, "password2": {breachedPassword}})
	wantStatus(t, res, http.StatusSeeOther)
	logged := log.String()
	if strings.Count(logged, "breached-password look-up failed") != 2 {
		t.Errorf("log:\n%s", logged)
	}
	hash := rangetest.SHA1(breachedPassword)
	if strings.Contains(logged, breachedPassword) || strings.Contains(logged, hash[5:]) {
		t.Errorf("the log holds the password or its hash:\n%s", logged)
	}
}

// TestBreachedPasswordInKorean: the refusal is worded in the reader's language.
func TestBreachedPasswordInKorean(t *testing.T) {
	t.Parallel()
	rs := rangetest.New(t, map[string]int{breachedPassword: 1})
	app := breachApp(t, rs, &syncBuffer{})
	c := app.client()
	c.setCookie("django_language", "ko")
	res := c.postForm(views.PathSignup, views.PathSignup, url.Values{"username": {"정우"}, "email": {"jw@example.com"},
		"password1": {breachedPassword}, "password2": {breachedPassword}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(string(res.body), "유출된 적이 있는 비밀번호") {
		t.Errorf("no Korean refusal:\n%s", res.body)
	}
}
