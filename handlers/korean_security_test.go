package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gatehouse/models"
	"gatehouse/views"
)

// The pages of two-factor authentication, passkeys, recovery, sessions and
// the security log, asked for in Korean: every page and htmx fragment, its
// empty and filled states and its forms' errors, with no English left but
// brand names and the test's own data (usernames, passkey names, the
// secret and the codes).

// authenticatorApps are the apps the setup page names.
var authenticatorApps = []string{"Aegis", "Google Authenticator", "1Password", "Bitwarden"}

// koreanHTMX is an htmx client in Korean sharing c's cookies: the same
// browser, its requests made by htmx.
func koreanHTMX(app *testApp, c *client) *client {
	h := withLanguage(app.htmxClient(), "ko")
	*h.http = *c.http
	return h
}

// wantFound fails unless res is a 302 to location: a page that sends a
// GET elsewhere.
func wantFound(t *testing.T, res *response, location string) {
	t.Helper()
	wantStatus(t, res, http.StatusFound)
	if got := res.Header.Get("Location"); got != location {
		t.Fatalf("Location %q, want %q", got, location)
	}
}

// recoveryCodesShown reads the recovery codes off their page.
func recoveryCodesShown(t *testing.T, page *response) []string {
	t.Helper()
	var codes []string
	page.doc(t).Find(`[data-testid="recovery-codes"] code`).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	return codes
}

// eventDetails are the details the security log holds: written in English
// when an event is recorded, and shown as they are (another change puts
// them into the reader's language).
func eventDetails(t *testing.T, app *testApp) []string {
	t.Helper()
	var details []string
	if err := app.db.NewRaw("SELECT DISTINCT detail FROM security_events WHERE detail <> ''").Scan(context.Background(), &details); err != nil {
		t.Fatal(err)
	}
	return details
}

// TestKoreanTwoFactorPages: setting up an authenticator (the QR code, the
// key, a wrong code), the settings page off and on, the recovery codes just
// made and made again, turning it off and its errors, confirming the
// password, and the second step of logging in with a code, a wrong code and
// a recovery code.
func TestKoreanTwoFactorPages(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	app.createUser("alice", goodPassword)
	c := withLanguage(app.client(), "ko")
	c.loginAs("alice", goodPassword)
	h := koreanHTMX(app, c)

	off := c.get(views.PathTwoFactor)
	wantStatus(t, off, http.StatusOK)
	wantKorean(t, off)
	if got := off.text(t, `[data-testid="two-factor-status"]`); !strings.HasPrefix(got, "사용 안 함") {
		t.Errorf("two-factor off: %q", got)
	}

	setup := c.get(views.PathTwoFactorSetup)
	wantStatus(t, setup, http.StatusOK)
	secret := strings.ReplaceAll(setup.text(t, `[data-testid="totp-secret"]`), " ", "")
	shown := append([]string{views.GroupSecret(secret)}, authenticatorApps...)
	wantKorean(t, setup, shown...)
	if alt := setup.doc(t).Find(`img[data-testid="totp-qr"]`).AttrOr("alt", ""); alt != "인증 앱으로 스캔할 QR 코드" {
		t.Errorf("the QR code's alt: %q", alt)
	}
	if copied := setup.doc(t).Find(`[data-testid="copy-key"]`).AttrOr("data-copied", ""); copied != "키를 복사했습니다" {
		t.Errorf("the copy button says %q once it copied", copied)
	}
	wrong := "000000"
	if totpCode(t, secret, clock.Now()) == wrong {
		wrong = "111111"
	}
	for _, client := range []*client{c, h} {
		res := client.submit(setup, views.PathTwoFactorSetup, url.Values{"code": {wrong}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantKorean(t, res, shown...)
		if got := res.text(t, "#id_code_error"); !strings.HasPrefix(got, "코드가 올바르지 않습니다.") {
			t.Errorf("a wrong first code (htmx %v): %q", client.htmx, got)
		}
	}
	res := c.submit(setup, views.PathTwoFactorSetup, url.Values{"code": {totpCode(t, secret, clock.Now().Add(-30*time.Second))}})
	wantRedirect(t, res, false, views.PathRecoveryCodes)

	justEnabled := c.get(views.PathRecoveryCodes)
	wantStatus(t, justEnabled, http.StatusOK)
	codes := recoveryCodesShown(t, justEnabled)
	wantKorean(t, justEnabled, codes...)
	if justEnabled.doc(t).Find(`[data-testid="end-other-sessions"]`).Length() != 1 {
		t.Fatal("no offer to log out the other browsers")
	}
	if copied := justEnabled.doc(t).Find(`[data-testid="codes-copy"]`).AttrOr("data-copied", ""); copied != "코드를 복사했습니다" {
		t.Errorf("the copy button says %q once it copied", copied)
	}

	on := c.get(views.PathTwoFactor)
	wantKorean(t, on)
	if got := on.text(t, `[data-testid="recovery-codes-left"]`); got != "10개 중 10개" {
		t.Errorf("codes left: %q", got)
	}
	wantRedirect(t, c.postForm(views.PathTwoFactor, views.PathRecoveryCodes, nil), false, views.PathRecoveryCodes)
	again := c.get(views.PathRecoveryCodes)
	codes = recoveryCodesShown(t, again)
	wantKorean(t, again, codes...)
	// Shown once: asked for again, the settings page says so.
	wantFound(t, c.get(views.PathRecoveryCodes), views.PathTwoFactor)
	wantKorean(t, c.get(views.PathTwoFactor))

	// Turning it off: the page, and each of its errors, plain and with htmx.
	disable := c.get(views.PathTwoFactorDisable)
	wantStatus(t, disable, http.StatusOK)
	wantKorean(t, disable)
	for _, client := range []*client{c, h} {
		for _, values := range []url.Values{{"code": {""}, "password": {""}}, {"code": {wrong}}, {"password": {"not the password"}}, {"code": {strings.Repeat("9", 40)}}} {
			res := client.postForm(views.PathTwoFactorDisable, views.PathTwoFactorDisable, values)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			wantKorean(t, res)
		}
	}

	// Confirming the password, once the last one is too old (and the
	// failures above are forgotten).
	clock.advance(16 * time.Minute)
	confirm := views.ConfirmPath(views.PathTwoFactorSetup)
	wantFound(t, c.get(views.PathTwoFactorSetup), confirm)
	page := c.get(confirm)
	wantStatus(t, page, http.StatusOK)
	wantKorean(t, page)
	if got := page.text(t, "h1"); got != "본인 확인" {
		t.Errorf("confirmation page: %q", got)
	}
	for _, client := range []*client{c, h} {
		res := client.postForm(confirm, views.PathConfirm, url.Values{"password": {"not the password"}, "next": {views.PathTwoFactorSetup}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantKorean(t, res)
	}

	// The second step: the code form, a wrong code, the recovery-code form.
	mtLogout(t, c)
	clock.advance(time.Minute)
	passwordStep(t, c, "alice", "")
	step := c.get(views.PathLoginSecondStep)
	wantStatus(t, step, http.StatusOK)
	wantKorean(t, step)
	if got := step.text(t, "#id_code_help"); !strings.Contains(got, "6자리") {
		t.Errorf("the code's help: %q", got)
	}
	for _, client := range []*client{c, h} {
		res := client.postForm(views.PathLoginSecondStep, views.PathLoginSecondStep, url.Values{"code": {wrong}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantKorean(t, res)
		res = client.postForm(views.PathLoginSecondStep, views.PathLoginSecondStep, url.Values{"code": {""}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantKorean(t, res)
	}
	recovery := c.get(views.PathLoginSecondStep + "?recovery=1")
	wantStatus(t, recovery, http.StatusOK)
	wantKorean(t, recovery)
	if recovery.doc(t).Find(`[data-testid="use-app-code"]`).Length() != 1 {
		t.Error("the recovery-code form does not lead back to the app's code")
	}
	wantRedirect(t, c.postForm(views.PathLoginSecondStep+"?recovery=1", views.PathLoginSecondStep, url.Values{"code": {codes[0]}}), false, views.PathArticles)
	if got := c.loggedInAs(); got != "alice" {
		t.Fatalf("after a recovery code: logged in as %q", got)
	}

	// Turned off with the password at last.
	wantRedirect(t, c.postForm(views.PathTwoFactorDisable, views.PathTwoFactorDisable, url.Values{"password": {goodPassword}}), false, views.PathTwoFactor)
	wantKorean(t, c.get(views.PathTwoFactor))
}

// TestKoreanPasskeyPages: the passkeys page empty and with a passkey, the
// forms to add and remove one (removed with htmx), a passkey refused, the
// page off on an IP address, confirming with a passkey, the passkey on the
// login page and at the second step.
func TestKoreanPasskeyPages(t *testing.T) {
	t.Parallel()
	app, clock := newPasskeyApp(t)
	app.createUser("alice", goodPassword)
	app.createUser("bob", goodPassword)
	auth := newSoftAuthenticator(t, app)
	c := withLanguage(app.client(), "ko")
	c.loginAs("alice", goodPassword)

	empty := c.get(views.PathPasskeys)
	wantStatus(t, empty, http.StatusOK)
	wantKorean(t, empty)
	status := empty.doc(t).Find(`[data-passkey-status]`)
	if status.AttrOr("data-cancelled", "") == "" || !strings.HasPrefix(status.AttrOr("data-failed", ""), "패스키를 사용하는 중에") {
		t.Errorf("the script's words: %q, %q", status.AttrOr("data-cancelled", ""), status.AttrOr("data-failed", ""))
	}
	if got := empty.text(t, `[data-testid="no-passkeys"]`); got != "아직 등록한 패스키가 없습니다." {
		t.Errorf("no passkeys: %q", got)
	}

	// A passkey the server refuses: the page says why.
	wantStatus(t, c.postForm(views.PathPasskeys, views.PathPasskeysBegin, nil), http.StatusOK)
	refused := c.postForm(views.PathPasskeys, views.PathPasskeys, url.Values{"name": {"Broken key"}, "credential": {"{}"}})
	wantStatus(t, refused, http.StatusUnprocessableEntity)
	wantKorean(t, refused)
	if got := refused.text(t, `[data-testid="passkey-problem"]`); got != "패스키를 추가하지 못했습니다. 다시 시도해 주세요." {
		t.Errorf("a refused passkey: %q", got)
	}

	aliceKey := addPasskey(t, c, auth, "My laptop")
	addPasskey(t, c, auth, "Work phone")
	listed := c.get(views.PathPasskeys)
	wantKorean(t, listed, "My laptop", "Work phone")
	if got := listed.text(t, `[data-testid="passkey"] .meta`); !strings.Contains(got, "사용한 적 없음") {
		t.Errorf("a new passkey's line: %q", got)
	}
	form := listed.doc(t).Find(`[data-testid="passkey"] form`).First()
	if confirm := form.AttrOr("hx-confirm", ""); confirm != "My laptop 패스키를 삭제할까요?" {
		t.Errorf("removing asks %q", confirm)
	}
	h := koreanHTMX(app, c)
	removed := h.postForm(views.PathPasskeys, views.PathPasskeyRemove, url.Values{"id": {form.Find(`input[name="id"]`).AttrOr("value", "")}})
	wantStatus(t, removed, http.StatusOK)
	wantKorean(t, removed, "Work phone", "My laptop")
	if strings.Contains(removed.body, "<html") || !strings.Contains(removed.body, "패스키를 삭제했습니다") {
		t.Errorf("htmx removal answer:\n%s", removed.body)
	}

	// Out of sudo mode: adding asks to confirm first; the confirmation page
	// offers a passkey, and says so when one is not alice's.
	bob := app.client()
	bob.loginAs("bob", goodPassword)
	bobKey := addPasskey(t, bob, auth, "Bob's key")
	clock.advance(11 * time.Minute)
	later := c.get(views.PathPasskeys)
	wantKorean(t, later, "Work phone")
	if later.doc(t).Find(`[data-testid="confirm-to-add"]`).Length() != 1 {
		t.Fatal("the passkeys page does not ask to confirm first")
	}
	confirm := views.ConfirmPath(views.PathPasskeys)
	confirmPage := c.get(confirm)
	wantKorean(t, confirmPage)
	if confirmPage.doc(t).Find(`form[data-testid="passkey-confirm-form"]`).Length() != 1 {
		t.Fatal("the confirmation page offers no passkey")
	}
	options := c.postForm(confirm, views.PathConfirmPasskeyBegin, nil)
	wantStatus(t, options, http.StatusOK)
	res := c.postForm(confirm, views.PathConfirmPasskey, url.Values{"credential": {auth.get(options.body, bobKey)}, "next": {views.PathPasskeys}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantKorean(t, res)
	if !strings.Contains(res.body, "이 패스키로 본인 확인을 하지 못했습니다.") {
		t.Errorf("a passkey that is not alice's:\n%s", res.body)
	}

	// The login page's passkey, and a passkey it refuses.
	mtLogout(t, c)
	login := c.get(views.PathLogin)
	wantKorean(t, login)
	if login.doc(t).Find(`form[data-testid="passkey-login-form"]`).Length() != 1 {
		t.Fatal("no passkey login on the login page")
	}
	forged := *bobKey
	forged.userHandle = aliceKey.userHandle
	res = passkeyLogin(t, c, auth, &forged, "")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantKorean(t, res)

	// A passkey at the second step, and one that is not hers.
	c.loginAs("alice", goodPassword)
	enableTwoFactor(t, c, clock)
	mtLogout(t, c)
	passwordStep(t, c, "alice", "")
	step := c.get(views.PathLoginSecondStep)
	wantKorean(t, step)
	if step.doc(t).Find(`form[data-testid="passkey-second-step-form"]`).Length() != 1 {
		t.Fatal("no passkey offered at the second step")
	}
	options = c.postForm(views.PathLoginSecondStep, views.PathSecondStepPasskeyBegin, nil)
	wantStatus(t, options, http.StatusOK)
	res = c.postForm(views.PathLoginSecondStep, views.PathSecondStepPasskey, url.Values{"credential": {auth.get(options.body, bobKey)}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantKorean(t, res)
}

// TestKoreanPasskeysOff: on an IP address the passkeys page says they are off.
func TestKoreanPasskeysOff(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := withLanguage(app.client(), "ko")
	c.loginAs("alice", goodPassword)
	page := c.get(views.PathPasskeys)
	wantKorean(t, page)
	if !strings.Contains(page.body, "이 사이트에서는 패스키를 쓸 수 없습니다.") || !strings.Contains(page.body, "<code>localhost</code>") {
		t.Errorf("the passkeys page off:\n%s", page.body)
	}
}

// TestKoreanSessionsAndActivity: the sessions page with several sessions
// and trusted browsers, a session ended with htmx, a browser no longer
// trusted, and the security log with two pages of entries.
func TestKoreanSessionsAndActivity(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	app.createUser("alice", goodPassword)
	c := withLanguage(app.client(), "ko")
	c.loginAs("alice", goodPassword)

	only := c.get(views.PathSessions)
	wantStatus(t, only, http.StatusOK)
	wantKorean(t, only)
	if got := only.text(t, `[data-testid="current-session"]`); got != "현재 브라우저" {
		t.Errorf("this browser's badge: %q", got)
	}

	// Two-factor on, two browsers trusted, and one more logged in.
	secret, _ := enableTwoFactor(t, c, clock)
	for range 2 {
		clock.advance(time.Minute)
		secondStepWith(t, app.client(), clock, secret, true)
	}
	clock.advance(time.Minute)
	secondStepWith(t, app.client(), clock, secret, false)
	page := c.get(views.PathSessions)
	wantKorean(t, page)
	if n := page.doc(t).Find(`[data-testid="session"]`).Length(); n != 4 {
		t.Fatalf("%d sessions listed, want 4", n)
	}
	if n := page.doc(t).Find(`[data-testid="trusted-browser"]`).Length(); n != 2 {
		t.Fatalf("%d trusted browsers listed, want 2", n)
	}
	if meta := page.text(t, `[data-testid="session"] .meta`); !strings.Contains(meta, "최근 접속") {
		t.Errorf("a session's line: %q", meta)
	}
	end := page.doc(t).Find(`[data-testid="end-session"]`).First()
	if label := end.AttrOr("aria-label", ""); label != "알 수 없는 기기 로그아웃" {
		t.Errorf("ending a session is labelled %q", label)
	}

	// One session ended in place, with htmx; then every other one.
	h := koreanHTMX(app, c)
	handle := end.Parent().Find(`input[name="end"]`).AttrOr("value", "")
	res := h.postForm(views.PathSessions, views.PathSessions, url.Values{"end": {handle}})
	wantStatus(t, res, http.StatusOK)
	wantKorean(t, res)
	res = h.postForm(views.PathSessions, views.PathSessions, url.Values{"end": {"others"}})
	wantStatus(t, res, http.StatusOK)
	wantKorean(t, res)
	res = h.postForm(views.PathSessions, views.PathSessions, url.Values{"end": {handle}})
	wantKorean(t, res)

	// A trusted browser stopped from the page.
	clock.advance(time.Minute)
	secondStepWith(t, app.client(), clock, secret, true)
	id := app.count("SELECT id FROM trusted_browsers ORDER BY id DESC LIMIT 1")
	wantRedirect(t, c.postForm(views.PathSessions, views.PathTrustedBrowsers, url.Values{"id": {strconv.Itoa(id)}}), false, views.PathSessions)
	wantKorean(t, c.get(views.PathSessions))

	// The security log: more entries than a page holds.
	for range 25 {
		mtLoginStatus(app.client(), "alice", "wrong password")
		clock.advance(time.Minute)
	}
	activity := c.get(views.PathActivity)
	wantStatus(t, activity, http.StatusOK)
	details := eventDetails(t, app)
	wantKorean(t, activity, details...)
	if !strings.Contains(activity.text(t, `[data-testid="events"]`), "로그인 실패") {
		t.Errorf("the security log: %q", activity.text(t, `[data-testid="events"]`))
	}
	second := c.get(views.PathActivity + "?page=2")
	wantKorean(t, second, details...)
	if title := second.text(t, "title"); !strings.HasPrefix(title, "보안 기록 (2페이지)") {
		t.Errorf("the second page's title: %q", title)
	}
}

// TestKoreanActivityEmpty: a security log with nothing in it.
func TestKoreanActivityEmpty(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.createUser("alice", goodPassword)
	c := withLanguage(app.client(), "ko")
	c.loginAs("alice", goodPassword)
	if _, err := app.db.NewDelete().Model((*models.SecurityEvent)(nil)).Where("1 = 1").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := c.get(views.PathActivity)
	wantKorean(t, page)
	if got := page.text(t, `[data-testid="no-events"]`); got != "아직 기록이 없습니다." {
		t.Errorf("no events: %q", got)
	}
}

// TestKoreanRecoveryPages: resetting a password (the form and its error,
// the page after it, the new password with passkeys to remove, its errors,
// done, the spent link) and confirming an email address.
func TestKoreanRecoveryPages(t *testing.T) {
	t.Parallel()
	app, _ := newPasskeyApp(t)
	box := mtFolder(t, app.mailDir)
	const email = "alice@example.com"
	mtVerifiedUser(t, app, "alice", email)
	auth := newSoftAuthenticator(t, app)
	owner := app.client()
	owner.loginAs("alice", mtPassword)
	addPasskey(t, owner, auth, "Alice key")

	c := withLanguage(app.client(), "ko")
	form := c.get(views.PathPasswordReset)
	wantStatus(t, form, http.StatusOK)
	wantKorean(t, form)
	for _, client := range []*client{c, koreanHTMX(app, c)} {
		res := client.postForm(views.PathPasswordReset, views.PathPasswordReset, url.Values{"email": {"not an address"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantKorean(t, res, "not an address")
	}
	wantRedirect(t, mtAskReset(c, email), false, views.PathPasswordResetDone)
	done := c.get(views.PathPasswordResetDone)
	wantKorean(t, done)
	if got := done.text(t, `[data-testid="password-reset-done"]`); !strings.Contains(got, "1시간 동안 한 번만") {
		t.Errorf("after asking for a reset: %q", got)
	}

	link, uid, _ := mtResetLink(t, app, box.next(email, mtSubjectReset))
	wantStatus(t, mtGetPlain(c, link), http.StatusFound)
	setPath := "/accounts/reset/" + uid + "/set-password/"
	set := c.get(setPath)
	wantStatus(t, set, http.StatusOK)
	wantKorean(t, set, "Alice key")
	if got := set.text(t, `[data-testid="reset-passkeys"] legend`); got != "등록된 패스키" {
		t.Errorf("the passkeys' legend: %q", got)
	}
	res := c.submit(set, setPath, url.Values{"new_password1": {"short"}, "new_password2": {"other"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantKorean(t, res, "Alice key")
	wantRedirect(t, c.submit(set, setPath, url.Values{"new_password1": {mtNewPassword}, "new_password2": {mtNewPassword}, "remove_passkeys": {"on"}}), false, views.PathResetComplete)
	complete := c.get(views.PathResetComplete)
	wantKorean(t, complete)
	spent := mtGetPlain(withLanguage(app.client(), "ko"), link)
	wantKorean(t, spent)
	if got := spent.text(t, "h1"); got != "만료된 비밀번호 재설정 링크입니다" {
		t.Errorf("a spent reset link: %q", got)
	}

	// Confirming an address: the question, and a link that no longer works.
	k := withLanguage(app.client(), "ko")
	wantRedirect(t, k.postForm(views.PathSignup, views.PathSignup, url.Values{
		"username": {"bob"}, "email": {"bob@example.com"}, "password1": {mtPassword}, "password2": {mtPassword}}), false, views.PathArticles)
	verify := mtLink(t, app, box.next("bob@example.com", "[Gatehouse] 이메일 주소 인증"), "/accounts/email/verify/")
	question := mtGetPlain(k, verify)
	wantStatus(t, question, http.StatusOK)
	wantKorean(t, question)
	if got := question.text(t, "main .card p"); got != "bob@example.com 주소를 계정의 이메일 주소로 인증할까요?" {
		t.Errorf("the confirmation question: %q", got)
	}
	wantRedirect(t, k.postForm(verify, verify, nil), false, views.PathProfile)
	invalid := mtGetPlain(k, verify)
	wantKorean(t, invalid)
	if got := invalid.text(t, "h1"); got != "만료된 이메일 인증 링크입니다" {
		t.Errorf("a spent confirmation link: %q", got)
	}
}

// TestKoreanLoginCodePages: asking for a sign-in code (and a wrong
// address), the page that takes it, and a wrong code, plain and with htmx.
func TestKoreanLoginCodePages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	mtVerifiedUser(t, app, "alice", "alice@example.com")
	c := withLanguage(app.client(), "ko")
	h := koreanHTMX(app, c)
	ask := c.get(views.PathLoginCode)
	wantStatus(t, ask, http.StatusOK)
	wantKorean(t, ask)
	for _, client := range []*client{c, h} {
		res := client.postForm(views.PathLoginCode, views.PathLoginCode, url.Values{"email": {"nope"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantKorean(t, res)
	}
	askLoginCode(t, c, "alice@example.com")
	enter := c.get(views.PathLoginCodeEnter)
	wantStatus(t, enter, http.StatusOK)
	wantKorean(t, enter)
	if got := enter.text(t, `[data-testid="login-code-enter"] p`); !strings.Contains(got, "5분 안에") {
		t.Errorf("the enter page: %q", got)
	}
	for _, client := range []*client{c, h} {
		for _, code := range []string{"AAAA2222", ""} {
			res := client.postForm(views.PathLoginCodeEnter, views.PathLoginCodeEnter, url.Values{"code": {code}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			wantKorean(t, res, "AAAA2222")
		}
	}
}

// TestSecurityPagesStayEnglish: the same pages asked for in English are
// English still, word for word.
func TestSecurityPagesStayEnglish(t *testing.T) {
	t.Parallel()
	app, clock := newPasskeyApp(t)
	mtVerifiedUser(t, app, "alice", "alice@example.com")
	auth := newSoftAuthenticator(t, app)
	c := withLanguage(app.client(), "en")
	c.loginAs("alice", mtPassword)
	addPasskey(t, c, auth, "My laptop")
	if got := c.get(views.PathTwoFactorSetup).text(t, "main h1"); got != "Set up an authenticator app" {
		t.Errorf("the setup page: %q", got)
	}
	enableTwoFactor(t, c, clock)

	for path, want := range map[string]string{
		views.PathTwoFactor:         "Two-factor authentication",
		views.PathTwoFactorDisable:  "Turn off two-factor authentication",
		views.PathPasskeys:          "Passkeys",
		views.PathSessions:          "Sessions",
		views.PathActivity:          "Security activity",
		views.ConfirmPath("/x/"):    "Confirm it's you",
		views.PathPasswordReset:     "Reset your password",
		views.PathPasswordResetDone: "Check your email",
	} {
		page := mtGetPlain(c, path)
		wantStatus(t, page, http.StatusOK)
		if lang := pageLanguage(t, page); lang != "en" {
			t.Errorf("%s: in %q", path, lang)
		}
		if got := page.text(t, "main h1"); got != want {
			t.Errorf("%s: h1 %q, want %q", path, got, want)
		}
	}
	visitor := withLanguage(app.client(), "en")
	if got := visitor.get(views.PathLoginCode).text(t, "main h1"); got != "Log in with a code by mail" {
		t.Errorf("the sign-in code page: %q", got)
	}
	passkeys := c.get(views.PathPasskeys)
	if got := passkeys.text(t, `[data-testid="passkey"] .meta`); !strings.HasPrefix(got, "added ") || !strings.HasSuffix(got, " UTC · never used") {
		t.Errorf("a passkey's line: %q", got)
	}
	if got := passkeys.doc(t).Find(`[data-passkey-status]`).AttrOr("data-cancelled", ""); got != "The passkey prompt was closed or timed out. Try again when you are ready." {
		t.Errorf("the script's words: %q", got)
	}
	if got := c.get(views.PathTwoFactor).text(t, `[data-testid="recovery-codes-left"]`); got != "10 of 10" {
		t.Errorf("codes left: %q", got)
	}
	mtLogout(t, c)
	passwordStep(t, c, "alice", "")
	step := c.get(views.PathLoginSecondStep)
	if got := step.text(t, `main p.aside`); !strings.Contains(got, "Lost your phone? Enter one of your recovery codes instead.") {
		t.Errorf("the second step: %q", got)
	}
	if got := step.text(t, "main h1 + p"); got != "Enter the 6-digit code your authenticator app shows for Gatehouse." {
		t.Errorf("the second step: %q", got)
	}
}
