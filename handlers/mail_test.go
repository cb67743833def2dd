package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/mail"
	"gatehouse/models/mailtest"
)

const (
	mtPassword    = "correct horse battery"
	mtNewPassword = "violet kettle sandstorm"
	// mtWait bounds the wait for a mail: the sender is woken after each
	// commit and polls every second besides.
	mtWait = 5 * time.Second
)

// Subjects of the mails the app sends.
const (
	mtSubjectReset        = "Reset your Gatehouse password"
	mtSubjectVerify       = "Confirm your email address for Gatehouse"
	mtSubjectWasReset     = "Your Gatehouse password was reset"
	mtSubjectChanged      = "Your Gatehouse password was changed"
	mtSubjectEmailChanged = "Your Gatehouse email address was changed"
	mtSubjectNewLogin     = "New login to your Gatehouse account"
)

// mtMail is a delivered mail, its parts decoded.
type mtMail struct {
	id      string // Message-ID
	subject string
	from    string // the address alone
	to      string // the address alone
	text    string
	html    string
}

// mtParseMail reads raw as RFC 5322 with net/mail and its parts with
// mime/multipart, undoing quoted-printable (SMTP) or base64 where present;
// the file transport writes 8-bit parts as they are.
func mtParseMail(t testing.TB, raw []byte) mtMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mail does not parse: %v\n%s", err, raw)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	m := mtMail{id: msg.Header.Get("Message-ID"), subject: subject}
	for header, into := range map[string]*string{"From": &m.from, "To": &m.to} {
		addr, err := netmail.ParseAddress(msg.Header.Get(header))
		if err != nil {
			t.Fatalf("%s %q: %v", header, msg.Header.Get(header), err)
		}
		*into = addr.Address
	}
	if m.id == "" {
		t.Fatalf("mail without a Message-ID:\n%s", raw)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	switch mediaType {
	case "multipart/alternative":
		parts := multipart.NewReader(msg.Body, params["boundary"])
		for {
			part, err := parts.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			body := mtDecode(t, part.Header.Get("Content-Transfer-Encoding"), part)
			switch contentType, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); contentType {
			case "text/plain":
				m.text = body
			case "text/html":
				m.html = body
			default:
				t.Errorf("unexpected part %q", contentType)
			}
		}
	case "text/plain":
		m.text = mtDecode(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	default:
		t.Fatalf("Content-Type %q, want multipart/alternative", mediaType)
	}
	return m
}

// mtDecode reads a body in its transfer encoding, with LF line ends.
func mtDecode(t testing.TB, encoding string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(encoding) {
	case "quoted-printable": // multipart undoes it already, a single part not
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(body), "\r\n", "\n")
}

// mtMailbox reads the mail an app delivered, from its outbox folder or an
// SMTP server, and remembers which mails next has handed out.
type mtMailbox struct {
	t    *testing.T
	read func() [][]byte
	seen map[string]bool
}

// mtFolder is the mailbox of the .eml files in dir.
func mtFolder(t *testing.T, dir string) *mtMailbox {
	read := func() [][]byte {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var raws [][]byte
		for _, entry := range entries {
			// The transport writes a temporary file, then renames it to .eml.
			if filepath.Ext(entry.Name()) != ".eml" {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(dir, entry.Name()))
			if err != nil {
				t.Fatal(err)
			}
			raws = append(raws, raw)
		}
		return raws
	}
	return &mtMailbox{t: t, read: read, seen: map[string]bool{}}
}

// all returns every mail delivered so far.
func (b *mtMailbox) all() []mtMail {
	b.t.Helper()
	var mails []mtMail
	for _, raw := range b.read() {
		mails = append(mails, mtParseMail(b.t, raw))
	}
	return mails
}

// next waits for a mail to the address with this subject that next has not
// returned before, and returns it.
func (b *mtMailbox) next(to, subject string) mtMail {
	b.t.Helper()
	return b.nextWhere(fmt.Sprintf("%q to %s", subject, to), func(m mtMail) bool {
		return strings.EqualFold(m.to, to) && m.subject == subject
	})
}

// nextWhere waits for a mail that match accepts and next has not returned
// before (what says which, for the failure), and returns it.
func (b *mtMailbox) nextWhere(what string, match func(mtMail) bool) mtMail {
	b.t.Helper()
	deadline := time.Now().Add(mtWait)
	for {
		for _, m := range b.all() {
			if match(m) && !b.seen[m.id] {
				b.seen[m.id] = true
				return m
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no new mail %s within %v; delivered:\n%s", what, mtWait, b.summary())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mtOutboxCount is how many mails to the address (in any letter case) with
// this subject the app has put in its outbox: sent or still to send. Mail
// enqueued by a request is there once its answer is.
func mtOutboxCount(t *testing.T, app *testApp, to, subject string) int {
	t.Helper()
	return app.count("SELECT COUNT(*) FROM mail_outbox WHERE lower(recipient) = lower(?) AND subject = ?", to, subject)
}

func (b *mtMailbox) summary() string {
	var lines []string
	for _, m := range b.all() {
		lines = append(lines, fmt.Sprintf("  %s: %q", m.to, m.subject))
	}
	return strings.Join(lines, "\n")
}

var mtLinkPattern = regexp.MustCompile(`https?://\S+`)

// mtLink returns the path of the one link in m's text part after checking
// that it is an absolute link to the app under prefix and that the HTML
// part links to it too.
func mtLink(t *testing.T, app *testApp, m mtMail, prefix string) string {
	t.Helper()
	links := mtLinkPattern.FindAllString(m.text, -1)
	if len(links) == 0 {
		t.Fatalf("no link in the mail's text:\n%s", m.text)
	}
	link := links[0]
	if !strings.HasPrefix(link, app.url+prefix) {
		t.Fatalf("link %q, want one under %s%s (the base URL)", link, app.url, prefix)
	}
	if !strings.Contains(m.html, `href="`+html.EscapeString(link)+`"`) {
		t.Errorf("the HTML part does not link to %s:\n%s", link, m.html)
	}
	return strings.TrimPrefix(link, app.url)
}

var mtResetPathPattern = regexp.MustCompile(`^/accounts/reset/([A-Za-z0-9_-]+)/([0-9a-z]+)-([A-Za-z0-9_-]+)/$`)

// mtResetLink returns the path of a reset mail's link, split into the
// user's uidb64 and the token.
func mtResetLink(t *testing.T, app *testApp, m mtMail) (path, uid, token string) {
	t.Helper()
	path = mtLink(t, app, m, "/accounts/reset/")
	parts := mtResetPathPattern.FindStringSubmatch(path)
	if parts == nil {
		t.Fatalf("reset link %q is not /accounts/reset/<uidb64>/<stamp>-<signature>/", path)
	}
	return path, parts[1], parts[2] + "-" + parts[3]
}

// mtUIDB64 is how a link names a user: Django's urlsafe_base64_encode of the id.
func mtUIDB64(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// mtVerifiedUser creates an active user whose address is confirmed.
func mtVerifiedUser(t *testing.T, app *testApp, username, email string) *models.User {
	t.Helper()
	u := app.createUser(username, mtPassword)
	mtSetEmail(t, app, u.ID, email, true)
	return app.user(username)
}

// mtSetEmail gives the user an address, confirmed or not.
func mtSetEmail(t *testing.T, app *testApp, id int64, email string, verified bool) {
	t.Helper()
	ctx := context.Background()
	_, err := app.db.NewUpdate().Model((*models.User)(nil)).Set("email = ?", email).Set("email_verified = FALSE").
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if verified {
		if err := models.VerifyEmail(ctx, app.db, id, email); err != nil {
			t.Fatal(err)
		}
	}
}

// mtSignup signs up through the form, with an address, and returns the
// browser, logged in.
func mtSignup(t *testing.T, app *testApp, username, email string) *client {
	t.Helper()
	c := app.client()
	res := c.postForm("/accounts/signup/", "/accounts/signup/", url.Values{
		"username": {username}, "email": {email}, "password1": {mtPassword}, "password2": {mtPassword},
	})
	wantRedirect(t, res, false, "/articles/")
	return c
}

// mtConfirm opens a confirmation mail's link in c, checks the page asks
// before it changes anything, and confirms.
func mtConfirm(t *testing.T, app *testApp, c *client, m mtMail) *response {
	t.Helper()
	return mtConfirmPath(t, c, mtLink(t, app, m, "/accounts/email/verify/"))
}

// mtConfirmPath is mtConfirm with the link's path.
func mtConfirmPath(t *testing.T, c *client, path string) *response {
	t.Helper()
	page := mtGetPlain(c, path)
	wantStatus(t, page, http.StatusOK)
	if page.doc(t).Find(`form[data-testid="email-verify-form"]`).Length() != 1 {
		t.Fatalf("GET %s: no confirmation form:\n%s", path, page.body)
	}
	return c.postForm(path, path, nil)
}

// mtSignupVerified signs up with an address and confirms it through the
// mailed link, as a user would; it returns the browser, logged in.
func mtSignupVerified(t *testing.T, app *testApp, box *mtMailbox, username, email string) *client {
	t.Helper()
	c := mtSignup(t, app, username, email)
	wantRedirect(t, mtConfirm(t, app, c, box.next(email, mtSubjectVerify)), false, "/accounts/update/")
	if u := app.user(username); !u.EmailVerified {
		t.Fatalf("%s's address is not confirmed after following the link", username)
	}
	return c
}

// mtGetPlain is a GET as a browser makes it, without htmx: a link followed.
func mtGetPlain(c *client, path string) *response {
	c.t.Helper()
	htmx := c.htmx
	c.htmx = false
	defer func() { c.htmx = htmx }()
	return c.get(path)
}

// mtAskReset posts the password reset form with this address.
func mtAskReset(c *client, email string) *response {
	c.t.Helper()
	return c.postForm("/accounts/password_reset/", "/accounts/password_reset/", url.Values{"email": {email}})
}

// mtWantLinkInvalid fails unless res is the page of a link that no longer works.
func mtWantLinkInvalid(t *testing.T, res *response, title string) {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	if res.doc(t).Find(`[data-testid="link-invalid"]`).Length() != 1 {
		t.Fatalf("%s %s: not the invalid-link page:\n%s", res.Request.Method, res.Request.URL.Path, res.body)
	}
	if got := res.text(t, "h1"); got != title {
		t.Errorf("invalid-link page says %q, want %q", got, title)
	}
}

// mtLoginStatus posts the login form and returns the status.
func mtLoginStatus(c *client, username, pass string) int {
	c.t.Helper()
	return c.postForm("/accounts/login/", "/accounts/login/", url.Values{"username": {username}, "password": {pass}}).StatusCode
}

// mtLogout logs the client out.
func mtLogout(t *testing.T, c *client) {
	t.Helper()
	wantRedirect(t, c.postForm("/articles/", "/accounts/logout/", nil), c.htmx, "/articles/")
}

// mtPostFrom is postForm from a client behind the trusted proxy, whose
// X-Forwarded-For names ip.
func mtPostFrom(c *client, ip, page, action string, values url.Values) *response {
	c.t.Helper()
	req, token := c.formRequest(page, action, values)
	req.Header.Set("X-Forwarded-For", ip)
	if c.htmx {
		req.Header.Set("X-CSRF-Token", token)
	}
	return c.do(req)
}

// TestPasswordResetFlow walks the whole reset, the mail read back from the
// outbox folder.
func TestPasswordResetFlow(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		box := mtFolder(t, app.mailDir)
		const email = "Alice@Example.com"
		owner := mtSignupVerified(t, app, box, "alice", email)
		alice := app.user("alice")
		others := []*client{app.client(), app.client()}
		for _, c := range others {
			c.loginAs("alice", mtPassword)
		}

		// Asking, with the address in other letter case.
		r := app.newClient(htmx)
		page := mtGetPlain(r, "/accounts/password_reset/")
		wantStatus(t, page, http.StatusOK)
		wantFragment(t, page, false, "password-reset-form")
		wantRedirect(t, mtAskReset(r, "aLICE@example.COM"), htmx, "/accounts/password_reset/done/")
		done := mtGetPlain(r, "/accounts/password_reset/done/")
		wantStatus(t, done, http.StatusOK)
		if got := done.text(t, `[data-testid="password-reset-done"]`); !strings.Contains(got, "Check your email") {
			t.Errorf("done page says %q", got)
		}
		// It repeats the address as typed, once: a reload says it without.
		if got := done.text(t, `[data-testid="reset-email"]`); got != "aLICE@example.COM" {
			t.Errorf("the done page repeats the address as %q", got)
		}
		if got := mtGetPlain(r, "/accounts/password_reset/done/").text(t, `[data-testid="reset-email"]`); got != "" {
			t.Errorf("a reload still shows the address %q", got)
		}
		// A cookie not of our making shows nothing.
		forged := app.client()
		forged.setCookie("reset_to", "ZXZpbEBleGFtcGxlLmNvbQ.not-a-signature")
		if got := forged.get("/accounts/password_reset/done/").text(t, `[data-testid="reset-email"]`); got != "" {
			t.Errorf("a forged cookie shows %q", got)
		}

		// The mail.
		m := box.next(email, mtSubjectReset)
		if m.to != email || m.from != "gatehouse@localhost" {
			t.Errorf("mail from %q to %q, want from gatehouse@localhost to %s", m.from, m.to, email)
		}
		for _, want := range []string{"Hello alice,", "within an hour", "If it was not you, ignore this mail"} {
			if !strings.Contains(m.text, want) {
				t.Errorf("text part lacks %q:\n%s", want, m.text)
			}
		}
		if !strings.Contains(m.html, "Set a new password") || !strings.Contains(m.html, "Hello alice,") {
			t.Errorf("HTML part:\n%s", m.html)
		}
		link, uid, token := mtResetLink(t, app, m)
		if uid != mtUIDB64(alice.ID) {
			t.Errorf("link names uidb64 %q, want %q", uid, mtUIDB64(alice.ID))
		}

		// The link: the token leaves the URL for a cookie.
		res := mtGetPlain(r, link)
		wantStatus(t, res, http.StatusFound)
		setPath := "/accounts/reset/" + uid + "/set-password/"
		if got := res.Header.Get("Location"); got != setPath {
			t.Fatalf("the link redirects to %q, want %q", got, setPath)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("the link's answer has Cache-Control %q, want no-store", got)
		}
		if got := r.cookie("reset"); got != token {
			t.Errorf("reset cookie %q, want the link's token %q", got, token)
		}
		for _, cookie := range res.Cookies() {
			if cookie.Name == "reset" && (!cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" ||
				cookie.MaxAge < 3500 || cookie.MaxAge > 3600) {
				t.Errorf("reset cookie %s, want HttpOnly, SameSite=Lax, Path=/, for the hour the link lives", cookie)
			}
		}
		form := mtGetPlain(r, setPath)
		wantStatus(t, form, http.StatusOK)
		if got := form.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("the set-password page has Cache-Control %q, want no-store", got)
		}
		wantFragment(t, form, false, "set-password-form")
		if strings.Contains(form.body, token) {
			t.Error("the set-password page carries the token")
		}
		if action, _ := form.doc(t).Find(`form[data-testid="set-password-form"]`).Attr("action"); action != setPath {
			t.Errorf("the form posts to %q, want %q", action, setPath)
		}

		// The validators, beside their field.
		tests := []struct {
			name, password1, password2, field, message string
		}{
			{"too common", "password", "password", "new_password1", "This password is too common."},
			{"too short", "x7#kq", "x7#kq", "new_password1", "This password is too short."},
			{"mismatch", mtNewPassword, mtNewPassword + "!", "new_password2", "The two password fields didn’t match."},
			{"required", "", "", "new_password1", "This field is required."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := r.postForm(setPath, setPath, url.Values{"new_password1": {tt.password1}, "new_password2": {tt.password2}})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				wantFragment(t, res, htmx, "set-password-form")
				if got := res.text(t, "#id_"+tt.field+"_error"); !strings.Contains(got, tt.message) {
					t.Errorf("error beside %s is %q, want %q", tt.field, got, tt.message)
				}
				if invalid, _ := res.doc(t).Find("#id_" + tt.field).Attr("aria-invalid"); invalid != "true" {
					t.Errorf("#id_%s has no aria-invalid", tt.field)
				}
			})
		}
		if app.user("alice").Password != alice.Password {
			t.Fatal("a refused new password was stored")
		}

		// A good one.
		res = r.postForm(setPath, setPath, url.Values{"new_password1": {mtNewPassword}, "new_password2": {mtNewPassword}})
		wantRedirect(t, res, htmx, "/accounts/reset/done/")
		if r.cookie("reset") != "" {
			t.Error("the reset cookie outlived the reset")
		}
		complete := mtGetPlain(r, "/accounts/reset/done/")
		wantStatus(t, complete, http.StatusOK)
		if complete.doc(t).Find(`[data-testid="password-reset-complete"]`).Length() != 1 {
			t.Errorf("no completion page:\n%s", complete.body)
		}

		// Every session ended; the new password logs in, the old does not.
		for i, c := range append(others, owner) {
			if got := c.loggedInAs(); got != "" {
				t.Errorf("browser %d is still logged in as %q", i, got)
			}
		}
		if status := mtLoginStatus(app.client(), "alice", mtPassword); status != http.StatusUnprocessableEntity {
			t.Errorf("the old password: status %d, want 422", status)
		}
		fresh := app.client()
		fresh.loginAs("alice", mtNewPassword)
		if events := mtGetPlain(fresh, "/accounts/activity/").text(t, `[data-testid="events"]`); !strings.Contains(events, "Password changed") {
			t.Errorf("the security activity page does not show the reset:\n%s", events)
		}
		if n := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ? AND user_id = ? AND detail = ?",
			models.EventPasswordChanged, alice.ID, models.NewDetail("reset_by_mail").String()); n != 1 {
			t.Errorf("%d password-reset entries in the security log, want 1", n)
		}

		// The notice.
		notice := box.next(email, mtSubjectWasReset)
		if !strings.Contains(notice.text, "reset link") || !strings.Contains(notice.text, app.url+"/accounts/activity/") {
			t.Errorf("notice text:\n%s", notice.text)
		}

		// The link is spent.
		again := app.client()
		mtWantLinkInvalid(t, mtGetPlain(again, link), "This reset link no longer works")
		if again.cookie("reset") != "" {
			t.Error("a spent link set the reset cookie")
		}
		mtWantLinkInvalid(t, mtGetPlain(r, setPath), "This reset link no longer works")
	})
}

// TestPasswordResetLinkRefused tries links that must not work.
func TestPasswordResetLinkRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	box := mtFolder(t, app.mailDir)
	alice := mtVerifiedUser(t, app, "alice", "alice@example.com")
	bob := mtVerifiedUser(t, app, "bob", "bob@example.com")
	carol := mtVerifiedUser(t, app, "carol", "carol@example.com")
	links := map[string]string{}
	tokens := map[string]string{}
	anonymous := app.client()
	for _, u := range []*models.User{alice, bob, carol} {
		wantRedirect(t, mtAskReset(anonymous, u.Email), false, "/accounts/password_reset/done/")
		link, _, token := mtResetLink(t, app, box.next(u.Email, mtSubjectReset))
		links[u.Username], tokens[u.Username] = link, token
	}
	// Each link works for its user: following one changes nothing.
	for _, name := range []string{"alice", "bob", "carol"} {
		if res := mtGetPlain(app.client(), links[name]); res.StatusCode != http.StatusFound {
			t.Fatalf("%s's fresh link: status %d, want 302", name, res.StatusCode)
		}
	}

	stamp, signature, _ := strings.Cut(tokens["alice"], "-")
	made, _ := strconv.ParseInt(stamp, 36, 64)
	flipped := []byte(signature)
	if flipped[len(flipped)-1] == 'A' {
		flipped[len(flipped)-1] = 'B'
	} else {
		flipped[len(flipped)-1] = 'A'
	}
	tests := []struct{ name, path string }{
		{"another user's id", "/accounts/reset/" + mtUIDB64(bob.ID) + "/" + tokens["alice"] + "/"},
		{"tampered signature", "/accounts/reset/" + mtUIDB64(alice.ID) + "/" + stamp + "-" + string(flipped) + "/"},
		{"tampered stamp", "/accounts/reset/" + mtUIDB64(alice.ID) + "/" + strconv.FormatInt(made+1, 36) + "-" + signature + "/"},
		{"signature alone", "/accounts/reset/" + mtUIDB64(alice.ID) + "/" + signature + "/"},
		{"no user with that id", "/accounts/reset/" + mtUIDB64(9999) + "/" + tokens["alice"] + "/"},
		{"id zero", "/accounts/reset/" + mtUIDB64(0) + "/" + tokens["alice"] + "/"},
		{"id not base64", "/accounts/reset/%21%21/" + tokens["alice"] + "/"},
		{"another purpose's token", "/accounts/email/verify/" + mtUIDB64(alice.ID) + "/" + tokens["alice"] + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := app.client()
			res := mtGetPlain(c, tt.path)
			title := "This reset link no longer works"
			if strings.HasPrefix(tt.path, "/accounts/email/") {
				title = "This confirmation link no longer works"
			}
			mtWantLinkInvalid(t, res, title)
			if c.cookie("reset") != "" {
				t.Error("a refused link set the reset cookie")
			}
		})
	}

	// A cookie holding alice's token does not set bob's password.
	c := app.client()
	wantStatus(t, mtGetPlain(c, links["alice"]), http.StatusFound)
	bobSet := "/accounts/reset/" + mtUIDB64(bob.ID) + "/set-password/"
	c.setCookie("reset", tokens["alice"])
	mtWantLinkInvalid(t, mtGetPlain(c, bobSet), "This reset link no longer works")
	c.setCookie("reset", tokens["alice"])
	res := c.postForm("/accounts/password_reset/", bobSet, url.Values{"new_password1": {mtNewPassword}, "new_password2": {mtNewPassword}})
	mtWantLinkInvalid(t, res, "This reset link no longer works")
	if app.user("bob").Password != bob.Password {
		t.Fatal("alice's token set bob's password")
	}

	// A login after the mail kills the link (last_login is in its state),
	// and the cookie taken from it before.
	c = app.client()
	aliceSet := "/accounts/reset/" + mtUIDB64(alice.ID) + "/set-password/"
	wantStatus(t, mtGetPlain(c, links["alice"]), http.StatusFound)
	wantStatus(t, mtGetPlain(c, aliceSet), http.StatusOK)
	app.client().loginAs("alice", mtPassword)
	mtWantLinkInvalid(t, mtGetPlain(app.client(), links["alice"]), "This reset link no longer works")
	res = c.postForm("/accounts/password_reset/", aliceSet, url.Values{"new_password1": {mtNewPassword}, "new_password2": {mtNewPassword}})
	mtWantLinkInvalid(t, res, "This reset link no longer works")
	if app.user("alice").Password != alice.Password {
		t.Fatal("a link older than a login set the password")
	}

	// So does a new address, and a deactivated account.
	if err := models.UpdateProfile(context.Background(), app.db, bob.ID, "bob@new.example", "", "", false); err != nil {
		t.Fatal(err)
	}
	mtWantLinkInvalid(t, mtGetPlain(app.client(), links["bob"]), "This reset link no longer works")
	if _, err := app.db.NewUpdate().Model((*models.User)(nil)).Set("is_active = FALSE").Where("id = ?", carol.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	mtWantLinkInvalid(t, mtGetPlain(app.client(), links["carol"]), "This reset link no longer works")
}

// TestPasswordResetLinkExpires: a link, and the cookie taken from it, stop
// working once the reset timeout has passed.
func TestPasswordResetLinkExpires(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	app := newTestAppWith(t, handlers.Config{Now: clock.Now})
	box := mtFolder(t, app.mailDir)
	alice := mtVerifiedUser(t, app, "alice", "alice@example.com")
	c := app.client()
	wantRedirect(t, mtAskReset(c, alice.Email), false, "/accounts/password_reset/done/")
	link, uid, _ := mtResetLink(t, app, box.next(alice.Email, mtSubjectReset))
	setPath := "/accounts/reset/" + uid + "/set-password/"
	wantStatus(t, mtGetPlain(c, link), http.StatusFound)
	wantStatus(t, mtGetPlain(c, setPath), http.StatusOK)

	clock.advance(models.PasswordResetTimeout + time.Second)
	res := c.postForm("/accounts/password_reset/", setPath, url.Values{"new_password1": {mtNewPassword}, "new_password2": {mtNewPassword}})
	mtWantLinkInvalid(t, res, "This reset link no longer works")
	mtWantLinkInvalid(t, mtGetPlain(app.client(), link), "This reset link no longer works")
	if app.user("alice").Password != alice.Password {
		t.Fatal("an expired link set the password")
	}
}

// TestPasswordResetNoEnumeration: every address gets the answer a
// confirmed one gets, and only a confirmed address of an active account
// gets mail, at most three an hour however the address is spelt.
func TestPasswordResetNoEnumeration(t *testing.T) {
	t.Parallel()
	// Behind a proxy, each request from its own address: the per-address
	// limit stays out of the way.
	app := newTestAppWith(t, handlers.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	box := mtFolder(t, app.mailDir)
	ctx := context.Background()
	mtVerifiedUser(t, app, "alice", "alice@example.com")
	bob := app.createUser("bob", mtPassword)
	mtSetEmail(t, app, bob.ID, "bob@example.com", false)
	carol := mtVerifiedUser(t, app, "carol", "carol@example.com")
	if _, err := app.db.NewUpdate().Model((*models.User)(nil)).Set("is_active = FALSE").Where("id = ?", carol.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// dave gave alice's address too, unconfirmed: it is not his to reset by.
	dave := app.createUser("dave", mtPassword)
	mtSetEmail(t, app, dave.ID, "ALICE@example.com", false)
	// erin's confirmed address was changed for one not confirmed yet.
	erin := mtVerifiedUser(t, app, "erin", "erin@example.com")
	if err := models.UpdateProfile(ctx, app.db, erin.ID, "erin@new.example", "", "", false); err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status             int
		location, redirect string
		body, cookies      string
		page               string
	}
	requests := 0
	ask := func(htmx bool, email string) answer {
		requests++
		c := app.newClient(htmx)
		res := mtPostFrom(c, fmt.Sprintf("192.0.2.%d", requests), "/accounts/password_reset/", "/accounts/password_reset/", url.Values{"email": {email}})
		var names []string
		for _, cookie := range res.Cookies() {
			names = append(names, cookie.Name)
		}
		slices.Sort(names)
		a := answer{status: res.StatusCode, location: res.Header.Get("Location"), redirect: res.Header.Get("HX-Redirect"),
			body: res.body, cookies: strings.Join(names, ",")}
		if next := a.location + a.redirect; next != "" {
			// The page repeats the address typed: the same for any address.
			a.page = strings.ReplaceAll(mtGetPlain(c, next).text(t, "main"), email, "‹address›")
		}
		return a
	}
	// The third request to alice's address mails her, the fourth (over
	// MailPerRecipient) does not: neither answer tells.
	for _, mode := range []struct {
		htmx  bool
		alice string
	}{{false, "ALICE@example.com"}, {true, "Alice@Example.Com"}} {
		known := ask(mode.htmx, "alice@example.com")
		if want := "/accounts/password_reset/done/"; known.location+known.redirect != want {
			t.Fatalf("htmx %v: a confirmed address is sent to %q, want %q", mode.htmx, known.location+known.redirect, want)
		}
		box.next("alice@example.com", mtSubjectReset)
		for _, email := range []string{"nobody@example.com", "bob@example.com", "carol@example.com", "erin@example.com", "erin@new.example", mode.alice} {
			if got := ask(mode.htmx, email); got != known {
				t.Errorf("htmx %v: %s is answered\n%+v\nbut a confirmed address\n%+v", mode.htmx, email, got, known)
			}
		}
	}

	box.next("alice@example.com", mtSubjectReset)
	// Shutting down waits for the mail work the requests left behind: what
	// the outbox holds then is all they enqueued.
	if err := app.app.Shutdown(); err != nil {
		t.Fatal(err)
	}
	mails := box.all()
	for _, m := range mails {
		if m.to != "alice@example.com" || !strings.Contains(m.text, "Hello alice,") {
			t.Errorf("mail %q to %s:\n%s", m.subject, m.to, m.text)
		}
	}
	if len(mails) != 3 {
		t.Errorf("%d mails, want 3 (alice's)", len(mails))
	}
	if n := app.count("SELECT COUNT(*) FROM mail_outbox"); n != 3 {
		t.Errorf("%d mails in the outbox, want 3", n)
	}
}

// TestPasswordResetThrottlePerClientAddress: ten requests an hour from one
// client address, then 429 with Retry-After; other addresses go on.
func TestPasswordResetThrottlePerClientAddress(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	box := mtFolder(t, app.mailDir)
	alice := mtVerifiedUser(t, app, "alice", "alice@example.com")
	const page = "/accounts/password_reset/"
	c := app.client()
	for i := range 10 {
		res := mtPostFrom(c, "192.0.2.1", page, page, url.Values{"email": {fmt.Sprintf("nobody%d@example.com", i)}})
		wantRedirect(t, res, false, "/accounts/password_reset/done/")
	}
	for _, htmx := range []bool{false, true} {
		c := app.newClient(htmx)
		res := mtPostFrom(c, "192.0.2.1", page, page, url.Values{"email": {alice.Email}})
		wantStatus(t, res, http.StatusTooManyRequests)
		wantFragment(t, res, htmx, "password-reset-form")
		retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil || retry < 1 || retry > 3600 {
			t.Errorf("Retry-After %q, want 1 to 3600 seconds", res.Header.Get("Retry-After"))
		}
		if got := res.text(t, ".form-errors"); !strings.Contains(got, "Too many") {
			t.Errorf("form error %q, want one about too many attempts", got)
		}
	}
	// Another address goes on; its mail to alice is the only one: the
	// refused requests, made before it, mailed nothing.
	res := mtPostFrom(c, "192.0.2.2", page, page, url.Values{"email": {alice.Email}})
	wantRedirect(t, res, false, "/accounts/password_reset/done/")
	box.next(alice.Email, mtSubjectReset)
	if n := mtOutboxCount(t, app, alice.Email, mtSubjectReset); n != 1 {
		t.Errorf("%d reset mails to alice, want 1", n)
	}
}

// TestPasswordResetPage: the login page leads to the reset page, whose form
// checks the address.
func TestPasswordResetPage(t *testing.T) {
	t.Parallel()
	both(t, func(t *testing.T, htmx bool) {
		app := newTestApp(t)
		c := app.newClient(htmx)
		login := mtGetPlain(c, "/accounts/login/")
		wantStatus(t, login, http.StatusOK)
		forgot := login.doc(t).Find(`a[data-testid="forgot-password"]`)
		if href, _ := forgot.Attr("href"); href != "/accounts/password_reset/" || strings.TrimSpace(forgot.Text()) != "Forgot your password?" {
			t.Fatalf("login page links %q to %q, want \"Forgot your password?\" to /accounts/password_reset/", forgot.Text(), href)
		}
		for _, tt := range []struct{ email, message string }{
			{"", "This field is required."},
			{"not-an-address", "Enter a valid email address."},
			{"Alice <alice@example.com>", "Enter a valid email address."},
		} {
			res := mtAskReset(c, tt.email)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			wantFragment(t, res, htmx, "password-reset-form")
			if got := res.text(t, "#id_email_error"); got != tt.message {
				t.Errorf("%q: error beside the address %q, want %q", tt.email, got, tt.message)
			}
		}
	})
}

// TestPasswordResetOverSMTP runs the reset against a real SMTP server.
func TestPasswordResetOverSMTP(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, nil)
	transport, err := mail.NewTransport(srv.URL(), "")
	if err != nil {
		t.Fatal(err)
	}
	app := newTestAppWith(t, handlers.Config{MailTransport: transport})
	box := &mtMailbox{t: t, read: func() [][]byte {
		var raws [][]byte
		for _, m := range srv.Mails() {
			raws = append(raws, m.Data)
		}
		return raws
	}, seen: map[string]bool{}}
	alice := mtVerifiedUser(t, app, "alice", "alice@example.com")

	r := app.client()
	wantRedirect(t, mtAskReset(r, "Alice@Example.com"), false, "/accounts/password_reset/done/")
	m := box.next(alice.Email, mtSubjectReset)
	envelopes := srv.Mails()
	if len(envelopes) != 1 || envelopes[0].User != mailtest.User || envelopes[0].From != "gatehouse@localhost" ||
		!slices.Equal(envelopes[0].To, []string{alice.Email}) {
		t.Errorf("SMTP sessions %+v, want one as %s from gatehouse@localhost to %s", envelopes, mailtest.User, alice.Email)
	}
	link, uid, _ := mtResetLink(t, app, m)
	res := mtGetPlain(r, link)
	setPath := "/accounts/reset/" + uid + "/set-password/"
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != setPath {
		t.Fatalf("the link: status %d, Location %q; want 302 to %s", res.StatusCode, res.Header.Get("Location"), setPath)
	}
	res = r.postForm(setPath, setPath, url.Values{"new_password1": {mtNewPassword}, "new_password2": {mtNewPassword}})
	wantRedirect(t, res, false, "/accounts/reset/done/")
	app.client().loginAs("alice", mtNewPassword)
	box.next(alice.Email, mtSubjectWasReset)
}

// TestEmailVerification: the link mailed at signup and on an address
// change; following it asks, confirming spends it; resending is limited.
func TestEmailVerification(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	box := mtFolder(t, app.mailDir)
	const email, newEmail = "alice@example.com", "alice@new.example"
	c := mtSignup(t, app, "alice", email)
	m := box.next(email, mtSubjectVerify)
	if !strings.Contains(m.text, "Hello alice,") {
		t.Errorf("confirmation text:\n%s", m.text)
	}
	alice := app.user("alice")
	link := mtLink(t, app, m, "/accounts/email/verify/"+mtUIDB64(alice.ID)+"/")
	profile := mtGetPlain(c, "/accounts/update/")
	if got := profile.text(t, "#id_email_help"); !strings.Contains(got, "Not confirmed yet") {
		t.Errorf("profile says %q before the link is followed", got)
	}
	if profile.doc(t).Find(`form[data-testid="resend-verification"]`).Length() != 1 {
		t.Error("no resend button for an unconfirmed address")
	}

	// Following the link only asks.
	for range 2 {
		page := mtGetPlain(c, link)
		wantStatus(t, page, http.StatusOK)
		if got := page.text(t, `[data-testid="email"]`); got != email {
			t.Errorf("confirmation page names %q, want %q", got, email)
		}
	}
	if app.user("alice").EmailVerified {
		t.Fatal("a GET of the link confirmed the address")
	}
	wantRedirect(t, c.postForm(link, link, nil), false, "/accounts/update/")
	profile = mtGetPlain(c, "/accounts/update/")
	if got := profile.text(t, "#id_email_help"); !strings.Contains(got, "Confirmed: "+email) {
		t.Errorf("profile says %q after confirming", got)
	}
	if got := profile.text(t, `[data-testid="messages"]`); !strings.Contains(got, "is confirmed") {
		t.Errorf("flash %q after confirming", got)
	}
	if profile.doc(t).Find(`form[data-testid="resend-verification"]`).Length() != 0 {
		t.Error("a resend button for a confirmed address")
	}
	// Spent.
	mtWantLinkInvalid(t, mtGetPlain(c, link), "This confirmation link no longer works")
	mtWantLinkInvalid(t, c.postForm("/accounts/update/", link, nil), "This confirmation link no longer works")

	// A new address: a link to it, a notice to the old one.
	res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{
		"email": {newEmail}, "first_name": {""}, "last_name": {""}, "notify_new_device": {"on"}, "current_password": {mtPassword},
	})
	wantRedirect(t, res, false, "/accounts/update/")
	notice := box.next(email, mtSubjectEmailChanged)
	if !strings.Contains(notice.text, newEmail) {
		t.Errorf("notice to the old address does not name the new one:\n%s", notice.text)
	}
	changeLink := mtLink(t, app, box.next(newEmail, mtSubjectVerify), "/accounts/email/verify/")
	if u := app.user("alice"); u.Email != newEmail || u.EmailVerified {
		t.Fatalf("after the change: email %q, verified %v; want %s, unverified", u.Email, u.EmailVerified, newEmail)
	}
	// Resend: three links an hour to one address, the change's among them; then a refusal.
	for i := range 3 {
		wantRedirect(t, c.postForm("/accounts/update/", "/accounts/email/resend/", nil), false, "/accounts/update/")
		flash := mtGetPlain(c, "/accounts/update/").text(t, `[data-testid="messages"]`)
		if i < 2 {
			if !strings.Contains(flash, "We sent a new confirmation link to "+newEmail) {
				t.Errorf("resend %d: flash %q", i+1, flash)
			}
			box.next(newEmail, mtSubjectVerify)
		} else if !strings.Contains(flash, "Too many mails went to this address lately") {
			t.Errorf("resend %d: flash %q, want a refusal", i+1, flash)
		}
	}
	if n := mtOutboxCount(t, app, newEmail, mtSubjectVerify); n != 3 {
		t.Errorf("%d confirmation mails to %s, want 3 (the change's and two resent)", n, newEmail)
	}

	// The link confirms from a browser that is logged out, too.
	anonymous := app.client()
	wantRedirect(t, mtConfirmPath(t, anonymous, changeLink), false, "/accounts/login/")
	if u := app.user("alice"); !u.EmailVerified || u.Email != newEmail {
		t.Errorf("after the link: email %q, verified %v", u.Email, u.EmailVerified)
	}
	if got := mtGetPlain(c, "/accounts/update/").text(t, "#id_email_help"); !strings.Contains(got, "Confirmed: "+newEmail) {
		t.Errorf("profile says %q", got)
	}
}

// TestEmailVerificationAddressTaken: an address one account has confirmed
// cannot be confirmed by another.
func TestEmailVerificationAddressTaken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	box := mtFolder(t, app.mailDir)
	mtVerifiedUser(t, app, "alice", "shared@example.com")
	c := mtSignup(t, app, "bob", "Shared@Example.com")
	res := mtConfirm(t, app, c, box.next("Shared@Example.com", mtSubjectVerify))
	wantStatus(t, res, http.StatusConflict)
	if got := res.text(t, `[data-testid="error"]`); !strings.Contains(got, "Another account has confirmed this address already") {
		t.Errorf("409 page says %q", got)
	}
	if app.user("bob").EmailVerified || !app.user("alice").EmailVerified {
		t.Error("the confirmation moved to bob")
	}
}

// TestMailPasswordChangeNotice: changing one's password mails a notice to a
// confirmed address, and only to one.
func TestMailPasswordChangeNotice(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	box := mtFolder(t, app.mailDir)
	alice := mtVerifiedUser(t, app, "alice", "alice@example.com")
	bob := app.createUser("bob", mtPassword)
	mtSetEmail(t, app, bob.ID, "bob@example.com", false)
	for _, name := range []string{"alice", "bob"} {
		c := app.client()
		c.loginAs(name, mtPassword)
		res := c.postForm("/accounts/password/", "/accounts/password/", url.Values{
			"old_password": {mtPassword}, "new_password1": {mtNewPassword}, "new_password2": {mtNewPassword},
		})
		wantRedirect(t, res, false, "/accounts/password/")
	}
	m := box.next(alice.Email, mtSubjectChanged)
	if !strings.Contains(m.text, "Hello alice,") || !strings.Contains(m.text, app.url+"/accounts/activity/") {
		t.Errorf("notice text:\n%s", m.text)
	}
	if n := mtOutboxCount(t, app, "bob@example.com", mtSubjectChanged); n != 0 {
		t.Errorf("%d notices to bob's unconfirmed address, want none", n)
	}
}

// TestMailNewLoginNotice: a login from a browser new to the account mails
// a notice while the profile's box is ticked.
func TestMailNewLoginNotice(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	box := mtFolder(t, app.mailDir)
	const email = "alice@example.com"
	owner := mtSignup(t, app, "alice", email) // ticked by default; this browser is trusted
	alice := app.user("alice")
	if !alice.NotifyNewDevice {
		t.Fatal("a new account does not ask for new-login notices")
	}
	if err := models.VerifyEmail(context.Background(), app.db, alice.ID, email); err != nil {
		t.Fatal(err)
	}
	mtSignup(t, app, "bob", "bob@example.com") // ticked, but unconfirmed

	c := app.client()
	c.loginAs("alice", mtPassword)
	m := box.next(email, mtSubjectNewLogin)
	if !strings.Contains(m.text, "127.0.0.1") || !strings.Contains(m.text, "never used from") {
		t.Errorf("notice text:\n%s", m.text)
	}
	// Browsers that logged in before.
	mtLogout(t, c)
	c.loginAs("alice", mtPassword)
	mtLogout(t, owner)
	owner.loginAs("alice", mtPassword)
	app.client().loginAs("bob", mtPassword)

	// Unticked: no notice from a new browser either.
	res := owner.postForm("/accounts/update/", "/accounts/update/", url.Values{"email": {email}, "first_name": {""}, "last_name": {""}})
	wantRedirect(t, res, false, "/accounts/update/")
	if app.user("alice").NotifyNewDevice {
		t.Fatal("the profile's box stayed ticked")
	}
	if _, ticked := mtGetPlain(owner, "/accounts/update/").doc(t).Find("#id_notify_new_device").Attr("checked"); ticked {
		t.Error("the profile shows the box ticked")
	}
	app.client().loginAs("alice", mtPassword)

	// The notice is enqueued before the login's answer: the outbox is final.
	for _, tt := range []struct {
		to, subject string
		want        int
	}{
		{email, mtSubjectNewLogin, 1},
		{"bob@example.com", mtSubjectNewLogin, 0},
		{email, mtSubjectEmailChanged, 0},
	} {
		if n := mtOutboxCount(t, app, tt.to, tt.subject); n != tt.want {
			t.Errorf("%d mails %q to %s, want %d", n, tt.subject, tt.to, tt.want)
		}
	}
}

// TestEmailVerificationMailsPerRecipientLimited: confirmation links are
// mail anyone may trigger to any address, so MailPerRecipient (three an
// hour) bounds them, whatever triggers them.
func TestEmailVerificationMailsPerRecipientLimited(t *testing.T) {
	t.Parallel()
	const victim = "victim@example.com"
	t.Run("signups", func(t *testing.T) {
		t.Parallel()
		app := newTestApp(t)
		for i := range 5 {
			mtSignup(t, app, fmt.Sprintf("mallory%d", i), victim)
		}
		if n := mtOutboxCount(t, app, victim, mtSubjectVerify); n > 3 {
			t.Errorf("%d confirmation mails to %s within the hour, want at most 3", n, victim)
		}
	})
	t.Run("address changes", func(t *testing.T) {
		t.Parallel()
		app := newTestApp(t)
		// Two accounts, as one changes its address a few times a day only.
		for _, changes := range [][]string{
			{victim, "mallory@example.com", victim, "mallory@example.com", victim},
			{victim},
		} {
			c := mtSignup(t, app, fmt.Sprintf("mallory%d", len(changes)), "mallory@example.com")
			for _, email := range changes {
				res := c.postForm("/accounts/update/", "/accounts/update/", url.Values{
					"email": {email}, "first_name": {""}, "last_name": {""}, "notify_new_device": {"on"}, "current_password": {mtPassword},
				})
				wantRedirect(t, res, false, "/accounts/update/")
			}
		}
		if n := mtOutboxCount(t, app, victim, mtSubjectVerify); n > 3 {
			t.Errorf("%d confirmation mails to %s within the hour, want at most 3", n, victim)
		}
	})
}

// No log line carries the token of a live reset or confirmation link:
// whoever reads the logs could use it (issue 18.6).
func TestLogRedactsLinkTokens(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	app := newTestAppWith(t, handlers.Config{Logger: slog.New(slog.NewTextHandler(&log, nil)), AccessLog: true})
	box := mtFolder(t, app.mailDir)
	c := mtSignup(t, app, "alice", "alice@example.com")
	verify := mtLink(t, app, box.next("alice@example.com", mtSubjectVerify), "/accounts/email/verify/")
	wantStatus(t, mtGetPlain(c, verify), http.StatusOK)
	wantStatus(t, c.post(verify, nil), http.StatusForbidden) // no CSRF token: the error handler's line
	wantRedirect(t, c.postForm(verify, verify, nil), false, "/accounts/update/")
	mtLogout(t, c)
	wantRedirect(t, mtAskReset(c, "alice@example.com"), false, "/accounts/password_reset/done/")
	reset, uid, token := mtResetLink(t, app, box.next("alice@example.com", mtSubjectReset))
	wantStatus(t, mtGetPlain(c, reset), http.StatusFound)
	wantStatus(t, mtGetPlain(c, reset+"more/"), http.StatusNotFound) // Fiber's 404 names the path
	verifyToken := strings.Split(verify, "/")[5]
	for _, secret := range []string{verifyToken, token} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("the log holds the token %q:\n%s", secret, log.String())
		}
	}
	for _, want := range []string{"path=/accounts/reset/" + uid + "/[redacted]/ status=302", "path=/accounts/reset/" + uid + "/[redacted]/more/ status=404"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log has no %q:\n%s", want, log.String())
		}
	}
}

// A reset link posted from several browsers at once sets one password: the
// link is used up by the update itself, so the others find it spent
// (issue 18.5).
func TestPasswordResetLinkRacing(t *testing.T) {
	t.Parallel()
	mtOnEngines(t, func(t *testing.T, app *testApp, box *mtMailbox) {
		alice := mtVerifiedUser(t, app, "alice", "alice@example.com")
		wantRedirect(t, mtAskReset(app.client(), alice.Email), false, "/accounts/password_reset/done/")
		link, uid, _ := mtResetLink(t, app, box.next(alice.Email, mtSubjectReset))
		setPath := "/accounts/reset/" + uid + "/set-password/"
		const browsers = 8
		var clients []*client
		var requests []*http.Request
		for i := range browsers {
			c := app.client()
			wantStatus(t, mtGetPlain(c, link), http.StatusFound)
			password := fmt.Sprintf("%s-%d", mtNewPassword, i)
			req, _ := c.formRequest(setPath, setPath, url.Values{"new_password1": {password}, "new_password2": {password}})
			clients, requests = append(clients, c), append(requests, req)
		}
		statuses := make([]int, browsers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range browsers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := clients[i].http.Do(requests[i])
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				statuses[i] = res.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		if n := slices.Index(statuses, http.StatusSeeOther); n < 0 || slices.Contains(statuses[n+1:], http.StatusSeeOther) {
			t.Errorf("statuses %v: want exactly one reset (303), the others shown the spent link", statuses)
		}
		if n := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ? AND user_id = ?", models.EventPasswordChanged, alice.ID); n != 1 {
			t.Errorf("%d password resets logged, want 1", n)
		}
	})
}

// An address that differs only by a look-alike that Unicode case folding
// takes for an ASCII letter (the Kelvin sign K, the long s ſ, the angstrom
// sign Å) is a new address: it takes the password, stays unconfirmed until
// its link is followed, and the old address hears of it, on both engines
// (issue 18.4). Lookups fold ASCII letters only, in Go and SQL alike.
func TestEmailChangeUnicodeFolding(t *testing.T) {
	t.Parallel()
	mtOnEngines(t, func(t *testing.T, app *testApp, box *mtMailbox) {
		for i, tt := range []struct{ stored, changed string }{
			{"Kim@example.com", "\u212aim@example.com"},
			{"sam@example.com", "\u017fam@example.com"},
			{"\u00c5sa@example.com", "\u212bsa@example.com"},
		} {
			name := fmt.Sprintf("user%d", i)
			mtVerifiedUser(t, app, name, tt.stored)
			c := app.client()
			c.loginAs(name, mtPassword)
			values := url.Values{"email": {tt.changed}, "first_name": {""}, "last_name": {""}, "notify_new_device": {"on"}}
			res := c.postForm("/accounts/update/", "/accounts/update/", values)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.text(t, "#id_current_password_error") == "" {
				t.Errorf("%q → %q: no password asked", tt.stored, tt.changed)
			}
			if u := app.user(name); u.Email != tt.stored || !u.EmailVerified {
				t.Fatalf("%q → %q without the password: email %q, verified %v", tt.stored, tt.changed, u.Email, u.EmailVerified)
			}
			values.Set("current_password", mtPassword)
			wantRedirect(t, c.postForm("/accounts/update/", "/accounts/update/", values), false, "/accounts/update/")
			if u := app.user(name); u.Email != tt.changed || u.EmailVerified {
				t.Errorf("%q → %q: email %q, verified %v; want the new one, unconfirmed", tt.stored, tt.changed, u.Email, u.EmailVerified)
			}
			if n := mtOutboxCount(t, app, tt.stored, mtSubjectEmailChanged); n != 1 {
				t.Errorf("%q → %q: %d notices to the old address, want 1", tt.stored, tt.changed, n)
			}
			if n := app.count("SELECT COUNT(*) FROM mail_outbox WHERE recipient = ? AND subject = ?", tt.changed, mtSubjectVerify); n != 1 {
				t.Errorf("%q → %q: %d confirmation links to the new address, want 1", tt.stored, tt.changed, n)
			}
		}
		// A reset asked for with the look-alike finds no confirmed address.
		mtVerifiedUser(t, app, "kate", "kate@example.com")
		wantRedirect(t, mtAskReset(app.client(), "\u212aATE@example.com"), false, "/accounts/password_reset/done/")
		wantRedirect(t, mtAskReset(app.client(), "KATE@example.com"), false, "/accounts/password_reset/done/")
		box.next("kate@example.com", mtSubjectReset)
		if n := mtOutboxCount(t, app, "kate@example.com", mtSubjectReset); n != 1 {
			t.Errorf("%d reset mails to kate, want 1 (the ASCII spelling's)", n)
		}
	})
}

// One client address makes a few accounts an hour, and sets off a few
// confirmation links an hour, whatever their recipients: each mails a
// chosen address with chosen text (issue 18.8).
func TestSignupsAndConfirmationsPerClientAddress(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, atkBehindProxy())
	box := mtFolder(t, app.mailDir)
	alice := mtVerifiedUser(t, app, "alice", "alice@example.com")
	signup := func(xff string, i int) *response {
		return atkClientFrom(app, xff, false).postForm("/accounts/signup/", "/accounts/signup/", url.Values{
			"username": {fmt.Sprintf("user%d", i)}, "email": {fmt.Sprintf("user%d@example.com", i)},
			"password1": {mtPassword}, "password2": {mtPassword},
		})
	}
	for i := range 10 {
		wantRedirect(t, signup("192.0.2.1", i), false, "/articles/")
	}
	mtWantLimited(t, signup("192.0.2.1", 10), time.Hour)
	if app.user("user10") != nil {
		t.Error("a refused signup made its account")
	}
	wantRedirect(t, signup("192.0.2.2", 11), false, "/articles/")
	if n := app.count("SELECT COUNT(*) FROM mail_outbox WHERE subject = ?", mtSubjectVerify); n != 11 {
		t.Errorf("%d confirmation links, want 11 (ten from one address, one from another)", n)
	}
	// Ten links went out from 192.0.2.1: an address change there sends none.
	c := atkClientFrom(app, "192.0.2.1", false)
	c.loginAs("alice", mtPassword)
	wantRedirect(t, c.postForm("/accounts/update/", "/accounts/update/", url.Values{
		"email": {"alice@example.net"}, "first_name": {""}, "last_name": {""}, "current_password": {mtPassword},
	}), false, "/accounts/update/")
	if flash := mtGetPlain(c, "/accounts/update/").text(t, `[data-testid="messages"]`); !strings.Contains(flash, "Too many mails") {
		t.Errorf("flash %q, want the link refused", flash)
	}
	box.next(alice.Email, mtSubjectEmailChanged) // the notice to the old address still goes
	if n := mtOutboxCount(t, app, "alice@example.net", mtSubjectVerify); n != 0 {
		t.Errorf("%d confirmation links to alice's new address, want none", n)
	}
}

// An account changes its own address a few times a day: each change mails
// a notice and a confirmation link (issue 18.8).
func TestEmailChangesPerAccountLimited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	mtVerifiedUser(t, app, "alice", "alice@example.com")
	c := app.client()
	c.loginAs("alice", mtPassword)
	change := func(email string) *response {
		return c.postForm("/accounts/update/", "/accounts/update/", url.Values{
			"email": {email}, "first_name": {""}, "last_name": {""}, "current_password": {mtPassword},
		})
	}
	for i := range 5 {
		wantRedirect(t, change(fmt.Sprintf("alice%d@example.com", i)), false, "/accounts/update/")
	}
	res := change("alice5@example.com")
	mtWantLimited(t, res, 24*time.Hour)
	if got := res.text(t, "#id_email_error"); !strings.HasPrefix(got, "That was done too often lately.") {
		t.Errorf("error beside the address %q", got)
	}
	if got := app.user("alice").Email; got != "alice4@example.com" {
		t.Errorf("address %q after a refused change, want alice4@example.com", got)
	}
	// Saving the same address again is no change.
	wantRedirect(t, change("alice4@example.com"), false, "/accounts/update/")
}

// mtWantLimited fails unless res refuses an action done too often, saying
// so, with a Retry-After within window.
func mtWantLimited(t *testing.T, res *response, window time.Duration) {
	t.Helper()
	wantTooMany(t, res, window, "That was done too often lately. Please try again in ")
}

// mtOnEngines runs test on a new app over each engine, with its mailbox.
func mtOnEngines(t *testing.T, test func(t *testing.T, app *testApp, box *mtMailbox)) {
	onEngines(t, func(t *testing.T, dbURL string) {
		app := newTestAppOn(t, handlers.Config{}, dbURL)
		test(t, app, mtFolder(t, app.mailDir))
	})
}
