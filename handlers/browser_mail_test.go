//go:build browser

package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"gatehouse/models"
)

// bmMail is one mail the app wrote into its outbox directory.
type bmMail struct {
	file    string
	to      string
	subject string
	text    string // the text/plain part, as sent (8-bit)
	html    string // the text/html part
}

// bmInbox reads the app's mail directory, handing each mail out once.
type bmInbox struct {
	t    *testing.T
	app  *testApp
	seen map[string]bool
}

func bmNewInbox(t *testing.T, app *testApp) *bmInbox {
	return &bmInbox{t: t, app: app, seen: map[string]bool{}}
}

// next waits for a mail not handed out before, to this address with this
// subject, and hands out the newest such.
func (in *bmInbox) next(to, subject string) bmMail {
	in.t.Helper()
	var others []string
	for deadline := time.Now().Add(waitBudget); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(in.app.mailDir, "*.eml"))
		var newest bmMail
		var newestTime time.Time
		others = others[:0]
		for _, file := range files {
			if in.seen[file] {
				continue
			}
			info, err := os.Stat(file)
			if err != nil {
				continue
			}
			m := bmParseMail(in.t, file)
			if m.subject != subject || !strings.EqualFold(m.to, to) {
				others = append(others, m.to+": "+m.subject)
				continue
			}
			if newest.file == "" || info.ModTime().After(newestTime) {
				newest, newestTime = m, info.ModTime()
			}
		}
		if newest.file != "" {
			in.seen[newest.file] = true
			return newest
		}
	}
	in.t.Fatalf("no new mail to %s with subject %q within %v (other new mail: %q; outbox: %s)", to, subject, waitBudget, others, in.outbox())
	return bmMail{}
}

// outbox describes the app's outbox table, for a failure message.
func (in *bmInbox) outbox() string {
	var rows []struct {
		Recipient string     `bun:"recipient"`
		Subject   string     `bun:"subject"`
		Attempts  int        `bun:"attempts"`
		SentAt    *time.Time `bun:"sent_at"`
		LastError string     `bun:"last_error"`
	}
	if err := in.app.db.NewRaw("SELECT recipient, subject, attempts, sent_at, last_error FROM mail_outbox ORDER BY id").Scan(context.Background(), &rows); err != nil {
		return err.Error()
	}
	var lines []string
	for _, row := range rows {
		lines = append(lines, fmt.Sprintf("%s %q attempts=%d sent=%v %s", row.Recipient, row.Subject, row.Attempts, row.SentAt != nil, row.LastError))
	}
	return strings.Join(lines, "; ")
}

// none checks that the app enqueued no mail but those handed out: a mail
// is in the outbox once the answer of the request that sent it is. Mail
// that work left behind by a request sends (a reset link) is there once
// that work has ended: shut the app down first, which waits for it.
func (in *bmInbox) none(why string) {
	in.t.Helper()
	var rows []struct {
		Recipient string `bun:"recipient"`
		Subject   string `bun:"subject"`
	}
	if err := in.app.db.NewRaw("SELECT recipient, subject FROM mail_outbox ORDER BY id").Scan(context.Background(), &rows); err != nil {
		in.t.Fatal(err)
	}
	if len(rows) > len(in.seen) {
		in.t.Errorf("%s, yet %d mails were sent and %d handed out: %+v", why, len(rows), len(in.seen), rows)
	}
}

// bmParseMail reads an .eml file: its recipient, subject and the text and
// HTML parts, found however deep the multipart nesting goes.
func bmParseMail(t *testing.T, file string) bmMail {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	decoder := new(mime.WordDecoder)
	subject, err := decoder.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("%s: subject: %v", file, err)
	}
	m := bmMail{file: file, subject: subject}
	if to, err := msg.Header.AddressList("To"); err == nil && len(to) == 1 {
		m.to = to[0].Address
	} else {
		t.Fatalf("%s: To %q: %v", file, msg.Header.Get("To"), err)
	}
	var walk func(contentType, encoding string, body io.Reader)
	walk = func(contentType, encoding string, body io.Reader) {
		mediaType, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatalf("%s: content type %q: %v", file, contentType, err)
		}
		if strings.HasPrefix(mediaType, "multipart/") {
			parts := multipart.NewReader(body, params["boundary"])
			for {
				// NextRawPart: NextPart would quietly decode a
				// quoted-printable part, hiding that it is not 8-bit.
				part, err := parts.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part)
			}
		}
		if encoding != "" && !strings.EqualFold(encoding, "8bit") && !strings.EqualFold(encoding, "7bit") {
			t.Errorf("%s: a %s part is %s, want 8-bit text", file, mediaType, encoding)
		}
		content, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch mediaType {
		case "text/plain":
			m.text = strings.ReplaceAll(string(content), "\r\n", "\n")
		case "text/html":
			m.html = string(content)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if m.text == "" {
		t.Fatalf("%s: no text part", file)
	}
	return m
}

// link is the one link to the app under prefix in the mail's text, on a
// line of its own, as a path; the HTML part must link to it too.
func (m bmMail) link(t *testing.T, app *testApp, prefix string) string {
	t.Helper()
	found := regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(app.url+prefix)+`\S+$`).FindAllString(m.text, -1)
	if len(found) != 1 {
		t.Fatalf("mail %q holds %d links to %s on lines of their own, want 1:\n%s", m.subject, len(found), prefix, m.text)
	}
	if !strings.Contains(m.html, `href="`+found[0]+`"`) {
		t.Errorf("the HTML part of %q does not link to %s", m.subject, found[0])
	}
	return strings.TrimPrefix(found[0], app.url)
}

// bmVerifiedUser creates a user whose address is confirmed.
func bmVerifiedUser(t *testing.T, app *testApp, username, email string) *models.User {
	t.Helper()
	u := app.createUser(username, goodPassword)
	ctx := context.Background()
	if err := models.UpdateProfile(ctx, app.db, u.ID, email, "", "", true); err != nil {
		t.Fatal(err)
	}
	if err := models.VerifyEmail(ctx, app.db, u.ID, email); err != nil {
		t.Fatal(err)
	}
	return app.user(username)
}

// bmFieldWired checks the field named name shows message beside it, tied
// to it for assistive technology, and kept what was typed (unless a password).
func (tb *tab) bmFieldWired(name, message, value string) {
	tb.t.Helper()
	id := "id_" + name
	if got := tb.text("#" + id + "_error"); !strings.Contains(got, message) {
		tb.t.Errorf("error beside %s reads %q, want %q", name, got, message)
	}
	if got := run(tb, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q).getAttribute("aria-invalid") || ""`, id))); got != "true" {
		tb.t.Errorf("%s: aria-invalid=%q", name, got)
	}
	describedBy := run(tb, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q).getAttribute("aria-describedby") || ""`, id)))
	if !strings.Contains(" "+describedBy+" ", " "+id+"_error ") {
		tb.t.Errorf("%s: aria-describedby=%q does not name its error", name, describedBy)
	}
	if got := run(tb, chromedp.Evaluate[string](`document.activeElement.id`)); got != id {
		tb.t.Errorf("focus is on #%s, want #%s", got, id)
	}
	if got := run(tb, chromedp.Value(chromedp.CSS("#"+id))); got != value {
		tb.t.Errorf("%s holds %q after the error, want %q", name, got, value)
	}
}

// bmSubmitInvalid submits a form that has errors, as the harness's
// submitInvalid does, but waits for the focus instead of checking it at
// once: without JavaScript Chromium applies autofocus a frame after the
// load, and with it htmx focuses the autofocus field once the swap has
// settled, so typing before then may land in the wrong field.
func (tb *tab) bmSubmitInvalid(formTestID, errorSelector string) {
	tb.t.Helper()
	button := fmt.Sprintf(`[data-testid=%q] button[type=submit]`, formTestID)
	if tb.js {
		tb.submitInPlace(button, errorSelector)
	} else {
		if status := tb.submitPage(button); status != 422 {
			tb.t.Fatalf("an invalid %s without JavaScript answered %d, want 422", formTestID, status)
		}
		tb.waitFor(errorSelector)
	}
	if !tb.eventually(`(() => {
		if (document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")) return false;
		const want = document.querySelector('form [aria-invalid="true"]') || document.querySelector("form [autofocus]");
		return !want || document.activeElement === want;
	})()`) {
		tb.t.Errorf("after submitting %s the focus is on #%s, not on its first invalid (or autofocus) field",
			formTestID, run(tb, chromedp.Evaluate[string](`document.activeElement.id`)))
	}
}

// bmCookieNames lists the names of the tab's cookies.
func (tb *tab) bmCookieNames() []string {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		tb.t.Fatal(err)
	}
	var names []string
	for _, cookie := range res.Cookies {
		names = append(names, cookie.Name)
	}
	return names
}

func TestBrowserPasswordReset(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		const newPassword = "a fresh lantern at dusk"
		alice := bmVerifiedUser(t, b.app, "alice", "alice@example.com")
		inbox := bmNewInbox(t, b.app)
		tb := b.tab(js)

		// From the login page to the reset form.
		tb.open("/accounts/login/")
		if got := tb.text(`[data-testid="forgot-password"]`); got != "Forgot your password?" {
			t.Errorf("the login page's reset link reads %q", got)
		}
		tb.clickThrough(`[data-testid="forgot-password"]`)
		if got := tb.path(); got != "/accounts/password_reset/" {
			t.Fatalf("“Forgot your password?” led to %s", got)
		}
		if got := tb.text("h1"); got != "Reset your password" {
			t.Errorf("heading %q", got)
		}
		if got := run(tb, chromedp.Title()); got != "Reset your password · Gatehouse" {
			t.Errorf("title %q", got)
		}
		if got := run(tb, chromedp.Evaluate[string](`document.getElementById("id_email").type + " " + document.getElementById("id_email").autocomplete`)); got != "email email" {
			t.Errorf("the address field is type and autocomplete %q, want email email", got)
		}
		tb.inspect("reset-form")

		// Not an address: the error stands beside the field.
		tb.fill("email", "alice at example")
		tb.bmSubmitInvalid("password-reset-form", "#id_email_error")
		tb.bmFieldWired("email", "Enter a valid email address.", "alice at example")
		if got := tb.path(); got != "/accounts/password_reset/" {
			t.Errorf("after the error the address is %s", got)
		}
		tb.inspect("reset-form-error")
		inbox.none("the address was invalid")

		// The real address: "Check your email", and a mail with a link.
		tb.fill("email", "Alice@Example.com")
		tb.submitValid("password-reset-form")
		if got := tb.path(); got != "/accounts/password_reset/done/" {
			t.Fatalf("after asking for a link the browser is at %s", got)
		}
		if got := tb.text("h1"); got != "Check your email" {
			t.Errorf("heading %q", got)
		}
		if got := tb.text(`[data-testid="password-reset-done"]`); !strings.Contains(got, "It works once") || !strings.Contains(got, "spam") {
			t.Errorf("the check-your-email page reads %q", got)
		}
		tb.inspect("reset-done")

		m := inbox.next("alice@example.com", "Reset your Gatehouse password")
		if !strings.HasPrefix(m.text, "Hello alice,") || !strings.Contains(m.text, "within an hour") {
			t.Errorf("reset mail text:\n%s", m.text)
		}
		link := m.link(t, b.app, "/accounts/reset/")
		parts := strings.Split(strings.Trim(link, "/"), "/")
		if len(parts) != 4 || parts[3] == "set-password" {
			t.Fatalf("reset link %s is not /accounts/reset/<uid>/<token>/", link)
		}
		token := parts[3]

		// The link: its token leaves the address bar at once.
		tb.open(link)
		setPasswordPath := "/accounts/reset/" + parts[2] + "/set-password/"
		if got := tb.path(); got != setPasswordPath {
			t.Fatalf("the reset link led to %s, want %s", got, setPasswordPath)
		}
		if strings.Contains(run(tb, chromedp.Location()), token) {
			t.Error("the token is still in the address bar")
		}
		if got := tb.text("h1"); got != "Set a new password" {
			t.Fatalf("the reset link shows %q", got)
		}
		if got := run(tb, chromedp.Evaluate[string](`document.getElementById("id_new_password1").autocomplete`)); got != "new-password" {
			t.Errorf("new password autocomplete %q", got)
		}
		tb.inspect("set-password")

		// A too-common password: the error in place.
		tb.fill("new_password1", "password")
		tb.fill("new_password2", "password")
		tb.bmSubmitInvalid("set-password-form", "#id_new_password1_error")
		tb.bmFieldWired("new_password1", "This password is too common.", "")
		if got := tb.path(); got != setPasswordPath {
			t.Errorf("after the error the address is %s", got)
		}
		if strings.Contains(run(tb, chromedp.Evaluate[string](`document.documentElement.outerHTML`)), token) {
			t.Error("the token is in the set-password page")
		}
		tb.inspect("set-password-error")
		if b.app.user("alice").Password != alice.Password {
			t.Fatal("a refused password was saved")
		}

		// A good one: "Your password is set".
		tb.fill("new_password1", newPassword)
		tb.fill("new_password2", newPassword)
		tb.submitValid("set-password-form")
		if got := tb.path(); got != "/accounts/reset/done/" {
			t.Fatalf("after setting the password the browser is at %s", got)
		}
		if got := tb.text("h1"); got != "Your password is set" {
			t.Errorf("heading %q", got)
		}
		for _, name := range tb.bmCookieNames() {
			if strings.Contains(name, "reset") {
				t.Errorf("the %s cookie outlives the reset", name)
			}
		}
		tb.inspect("password-set")
		notice := inbox.next("alice@example.com", "Your Gatehouse password was reset")
		if !strings.Contains(notice.text, "set from a reset link") {
			t.Errorf("notice text:\n%s", notice.text)
		}

		// The page's own Log in button, and the new password.
		tb.clickThrough(`[data-testid="password-reset-complete"] a.button`)
		if got := tb.path(); got != "/accounts/login/" {
			t.Fatalf("the Log in button led to %s", got)
		}
		tb.fill("username", "alice")
		tb.fill("password", goodPassword)
		tb.bmSubmitInvalid("login-form", ".form-errors")
		tb.fill("password", newPassword)
		tb.submitValid("login-form")
		if got := tb.text(`[data-testid="username"]`); got != "alice" {
			t.Fatalf("logging in with the new password left the header greeting %q", got)
		}

		// The link again, here and in a browser that never used it.
		tb.open(link)
		if got := tb.text("h1"); got != "This reset link no longer works" {
			t.Errorf("the used link shows %q to the logged-in browser", got)
		}
		stranger := b.tab(js)
		stranger.open(link)
		if got := stranger.text("h1"); got != "This reset link no longer works" {
			t.Fatalf("the used link shows %q", got)
		}
		if got := stranger.count(`main form`); got != 0 {
			t.Errorf("the unsuccessful page has %d forms", got)
		}
		if got := run(stranger, chromedp.Evaluate[string](`document.querySelector('[data-testid="link-invalid"] a').getAttribute("href")`)); got != "/accounts/password_reset/" {
			t.Errorf("the unsuccessful page offers %s", got)
		}
		stranger.inspect("link-invalid")
		stranger.clickThrough(`[data-testid="link-invalid"] a`)
		if got := stranger.text("h1"); got != "Reset your password" {
			t.Errorf("“Ask for a new link” led to %q", got)
		}
		// The token-free address, without the cookie, is no way in either.
		stranger.open(setPasswordPath)
		if got := stranger.text("h1"); got != "This reset link no longer works" {
			t.Errorf("the set-password address without a cookie shows %q", got)
		}
	})
}

// TestBrowserPasswordResetUnknownAddress checks an address no account has
// confirmed gets the same page, and no mail.
func TestBrowserPasswordResetUnknownAddress(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		bob := b.app.createUser("bob", goodPassword)
		if err := models.UpdateProfile(context.Background(), b.app.db, bob.ID, "bob@example.com", "", "", true); err != nil {
			t.Fatal(err)
		}
		inbox := bmNewInbox(t, b.app)
		for _, address := range []string{"nobody@example.com", "bob@example.com"} {
			tb := b.tab(js)
			tb.open("/accounts/password_reset/")
			tb.fill("email", address)
			tb.submitValid("password-reset-form")
			if got := tb.text("h1"); got != "Check your email" {
				t.Errorf("%s: heading %q", address, got)
			}
		}
		if err := b.app.app.Shutdown(); err != nil {
			t.Fatal(err)
		}
		inbox.none("no account has confirmed these addresses")
	})
}

func TestBrowserEmailConfirmation(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		inbox := bmNewInbox(t, b.app)
		tb := b.tab(js)

		// Sign up with the optional address.
		tb.open("/accounts/signup/")
		if got := tb.text(`label[for="id_email"]`); got != "Email address (optional)" {
			t.Errorf("signup's email label %q", got)
		}
		if run(tb, chromedp.Evaluate[bool](`document.getElementById("id_email").required`)) {
			t.Error("signup's email is required")
		}
		tb.fill("username", "newcomer")
		tb.fill("email", "newcomer@example.com")
		tb.fill("password1", goodPassword)
		tb.fill("password2", goodPassword)
		tb.submitValid("signup-form")
		if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "We sent a link to newcomer@example.com to confirm it.") {
			t.Errorf("messages after signup %q", got)
		}
		m := inbox.next("newcomer@example.com", "Confirm your email address for Gatehouse")
		if !strings.HasPrefix(m.text, "Hello newcomer,") {
			t.Errorf("confirmation mail text:\n%s", m.text)
		}
		signupLink := m.link(t, b.app, "/accounts/email/verify/")

		// Before confirming, the profile says so and offers the link again.
		tb.open("/accounts/update/")
		if got := tb.text("#id_email_help"); got != "Not confirmed yet: follow the link we mailed to newcomer@example.com." {
			t.Errorf("help before confirming %q", got)
		}
		if got := tb.count(`[data-testid="resend-verification"]`); got != 1 {
			t.Errorf("%d resend buttons before confirming", got)
		}
		if !run(tb, chromedp.Evaluate[bool](`document.getElementById("id_notify_new_device").checked`)) {
			t.Error("“Email me when my account is used from a new browser” is off after signup")
		}

		// The link asks first: opening it changes nothing.
		tb.open(signupLink)
		if got := tb.text("h1"); got != "Confirm your email address" {
			t.Fatalf("the confirmation link shows %q", got)
		}
		if got := tb.text(`[data-testid="email"]`); got != "newcomer@example.com" {
			t.Errorf("the confirm page names %q", got)
		}
		if b.app.user("newcomer").EmailVerified {
			t.Fatal("opening the link confirmed the address")
		}
		tb.inspect("email-confirm")

		tb.submitValid("email-verify-form")
		if got := tb.path(); got != "/accounts/update/" {
			t.Fatalf("after confirming the browser is at %s", got)
		}
		if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "Your email address newcomer@example.com is confirmed.") {
			t.Errorf("messages after confirming %q", got)
		}
		if got := tb.text("#id_email_help"); got != "Confirmed: newcomer@example.com receives password resets and security notices." {
			t.Errorf("help after confirming %q", got)
		}
		if got := tb.count(`[data-testid="resend-verification"]`); got != 0 {
			t.Errorf("%d resend forms for a confirmed address", got)
		}
		if !b.app.user("newcomer").EmailVerified {
			t.Fatal("the address is not confirmed in the database")
		}
		tb.inspect("profile-confirmed")

		// A new address: unconfirmed, with the link offered again.
		tb.bmSaveProfile("changed@example.com")
		if got := tb.text("#id_email_help"); got != "Not confirmed yet: follow the link we mailed to changed@example.com." {
			t.Errorf("help after changing the address %q", got)
		}
		if got := tb.count(`[data-testid="resend-verification"]`); got != 1 {
			t.Fatalf("%d resend buttons after changing the address, want 1", got)
		}
		if got := tb.text(`[data-testid="resend-verification"] button`); got != "Send the confirmation link again" {
			t.Errorf("resend button reads %q", got)
		}
		if !run(tb, chromedp.Evaluate[bool](`document.getElementById("id_notify_new_device").checked`)) {
			t.Error("saving the profile turned the new-browser notice off")
		}
		tb.inspect("profile-unconfirmed")
		inbox.next("newcomer@example.com", "Your Gatehouse email address was changed")
		inbox.next("changed@example.com", "Confirm your email address for Gatehouse")

		// A mistyped address keeps one resend button, in place or not.
		tb.fill("email", "changed at example")
		tb.bmSubmitInvalid("profile-form", "#id_email_error")
		if got := tb.count(`[data-testid="resend-verification"]`); got != 1 {
			t.Errorf("%d resend forms after a profile error, want 1", got)
		}
		// So does a second new address.
		tb.bmSaveProfile("again@example.com")
		if got := tb.count(`[data-testid="resend-verification"]`); got != 1 {
			t.Errorf("%d resend forms after changing an unconfirmed address, want 1", got)
			tb.look("resend-duplicated")
		}
		inbox.next("again@example.com", "Confirm your email address for Gatehouse")
		// No address at all: nothing to confirm, no resend button.
		tb.bmSaveProfile("")
		if got := tb.text("#id_email_help"); got != "Needed to reset your password if you forget it." {
			t.Errorf("help without an address %q", got)
		}
		if got := tb.count(`[data-testid="resend-verification"]`); got != 0 {
			t.Errorf("%d resend forms without an address, want 0", got)
		}

		// Back to an address, and the resend button sends a fresh link.
		tb.bmSaveProfile("changed@example.com")
		inbox.next("changed@example.com", "Confirm your email address for Gatehouse")
		tb.open("/accounts/update/")
		tb.submitPage(`[data-testid="resend-verification"] button`)
		if got := tb.path(); got != "/accounts/update/" {
			t.Errorf("resending led to %s", got)
		}
		if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "We sent a new confirmation link to changed@example.com.") {
			t.Errorf("messages after resending %q", got)
		}
		resent := inbox.next("changed@example.com", "Confirm your email address for Gatehouse")
		resentLink := resent.link(t, b.app, "/accounts/email/verify/")

		// The signup link is spent; the new one confirms.
		tb.open(signupLink)
		if got := tb.text("h1"); got != "This confirmation link no longer works" {
			t.Errorf("the link to the old address shows %q", got)
		}
		if got := run(tb, chromedp.Evaluate[string](`document.querySelector('[data-testid="link-invalid"] a').getAttribute("href")`)); got != "/accounts/update/" {
			t.Errorf("the unsuccessful page offers %s", got)
		}
		tb.inspect("email-link-invalid")
		tb.open(resentLink)
		tb.submitValid("email-verify-form")
		if got := tb.text("#id_email_help"); got != "Confirmed: changed@example.com receives password resets and security notices." {
			t.Errorf("help after confirming the resent link %q", got)
		}
	})
}

// TestBrowserEmailConfirmationLoggedOut confirms from a browser that is not
// logged in, as one opening the mail on a phone: it lands on the login page.
func TestBrowserEmailConfirmationLoggedOut(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		inbox := bmNewInbox(t, b.app)
		tb := b.tab(js)
		tb.open("/accounts/signup/")
		tb.fill("username", "newcomer")
		tb.fill("email", "newcomer@example.com")
		tb.fill("password1", goodPassword)
		tb.fill("password2", goodPassword)
		tb.submitValid("signup-form")
		link := inbox.next("newcomer@example.com", "Confirm your email address for Gatehouse").link(t, b.app, "/accounts/email/verify/")

		phone := b.tab(js)
		phone.open(link)
		phone.submitValid("email-verify-form")
		if got := phone.path(); got != "/accounts/login/" {
			t.Fatalf("confirming while logged out led to %s", got)
		}
		if got := phone.text(`[data-testid="messages"]`); !strings.Contains(got, "Your email address newcomer@example.com is confirmed.") {
			t.Errorf("messages %q", got)
		}
		phone.open(link)
		if got := phone.text("h1"); got != "This confirmation link no longer works" {
			t.Errorf("the used link shows %q", got)
		}
	})
}

// bmSaveProfile saves the profile form on the page with this address: in
// place with JavaScript, as a page without.
func (tb *tab) bmSaveProfile(email string) {
	tb.t.Helper()
	tb.fill("email", email)
	if tb.count(`[name="current_password"]`) > 0 {
		tb.fill("current_password", goodPassword)
	}
	if tb.js {
		tb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("messages").replaceChildren()`))
		tb.submitInPlace(`[data-testid="profile-form"] button[type=submit]`, `#messages .message-success`)
	} else {
		tb.submitValid("profile-form")
	}
	if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "Your profile was saved.") {
		tb.look("debug")
		tb.t.Errorf("messages after saving %q at %s: %q", email, tb.path(), got)
	}
}
