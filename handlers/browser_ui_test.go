//go:build browser

package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"gatehouse/models"
	"gatehouse/views"
)

// schemes are the colour schemes every page is checked in.
var schemes = []string{"light", "dark"}

// scheme has the tab's pages see prefers-color-scheme as light or dark.
func (tb *tab) scheme(name string) {
	tb.t.Helper()
	_, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: name}},
	})
	if err != nil {
		tb.t.Fatal(err)
	}
}

// withColours is the script expression, evaluated where contrast(a, b) of
// two CSS colours and backdrop(e), the colour of the first box behind e
// that has one, are defined.
func withColours(expression string) string {
	return "(() => {" + colourJS + "return " + expression + "; })()"
}

const colourJS = `
const rgb = (c) => c.match(/[\d.]+/g).map(Number);
const luminance = ([r, g, b]) => {
	const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
	return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const contrast = (a, b) => {
	const [light, dark] = [luminance(rgb(a)), luminance(rgb(b))].sort((x, y) => y - x);
	return (light + 0.05) / (dark + 0.05);
};
const backdrop = (e) => {
	for (let n = e; n; n = n.parentElement) {
		const c = getComputedStyle(n).backgroundColor, parts = rgb(c);
		if (parts.length < 4 || parts[3] > 0) return c;
	}
	return "rgb(255, 255, 255)";
};
`

// focused is the id of the element that has the focus.
func (tb *tab) focused() string {
	tb.t.Helper()
	return run(tb, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
}

// waitFocus waits until the element with this id has the focus, and fails
// the test if it never does.
func (tb *tab) waitFocus(id, why string) {
	tb.t.Helper()
	if !tb.eventually(`document.activeElement && document.activeElement.id === ` + jsString(id)) {
		tb.t.Errorf("%s (js=%v): focus is on #%s, want #%s", why, tb.js, tb.focused(), id)
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	quoted, _ := json.Marshal(s)
	return string(quoted)
}

func TestBrowserUILoginFailureFocusesThePassword(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.open("/accounts/login/")
		tb.fill("username", "alice")
		tb.fill("password", "wrong password")
		tb.submitInvalid("login-form", ".form-errors")
		tb.waitFocus("id_password", "after a wrong password")
		if value := run(tb, chromedp.Value(chromedp.CSS("#id_password"))); value != "" {
			t.Errorf("the password field holds %q after a failed login", value)
		}
		if value := run(tb, chromedp.Value(chromedp.CSS("#id_username"))); value != "alice" {
			t.Errorf("the username field holds %q, want it kept", value)
		}
	})
}

func TestBrowserUIInvalidFieldsAreRed(t *testing.T) {
	b := newBrowser(t)
	tb := b.tab(true)
	tb.open("/accounts/signup/")
	tb.fill("username", "no spaces")
	tb.fill("password1", "sunshine")
	tb.fill("password2", "sunshine")
	tb.submitInvalid("signup-form", "#id_password1_error")
	for _, scheme := range schemes {
		tb.scheme(scheme)
		for _, id := range []string{"id_username", "id_password1"} {
			for _, focused := range []bool{false, true} {
				if focused {
					tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).focus()`, id)))
				} else {
					tb.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
				}
				// Red: far more red than green or blue, and 3:1 against the field.
				got := run(tb, chromedp.Evaluate[string](withColours(fmt.Sprintf(`(() => {
					const field = document.getElementById(%q), valid = document.getElementById("id_email");
					const border = getComputedStyle(field).borderTopColor, [r, g, b] = rgb(border);
					const ratio = contrast(border, backdrop(field));
					if (r < g + 60 || r < b + 60) return "border " + border + " is not red";
					if (ratio < 3) return "border " + border + " is " + ratio.toFixed(2) + ":1 against the field";
					if (border === getComputedStyle(valid).borderTopColor) return "border " + border + " is the valid field's";
					return "";
				})()`, id))))
				if got != "" {
					t.Errorf("invalid #%s (%s, focused %v): %s", id, scheme, focused, got)
				}
			}
		}
		tb.look("invalid-fields-" + scheme)
	}
}

func TestBrowserUIFocusRing(t *testing.T) {
	b := newBrowser(t)
	alice := b.app.createUser("alice", goodPassword)
	b.app.createArticle(alice, "Mine", "x")
	for _, scheme := range schemes {
		tb := b.tab(true)
		tb.scheme(scheme)
		tb.loginAs("alice", goodPassword) // and on the articles, welcomed
		for _, page := range []struct{ path, selector string }{
			{"/articles/", `#messages [data-dismiss]`},
			{"/articles/", `a.button`},
			{"/articles/", `a.article-title`},
			{"/articles/", `[data-testid="article-delete"]`},
			{"/accounts/update/", "#id_email"},
			{"/accounts/update/", "#id_notify_new_device"},
			{"/accounts/update/", `[data-testid="profile-form"] button[type=submit]`},
		} {
			if tb.path() != page.path {
				tb.open(page.path)
			}
			got := run(tb, chromedp.Evaluate[string](withColours(fmt.Sprintf(`(() => {
				const e = document.querySelector(%q);
				if (!e) return "not on the page";
				e.focus({focusVisible: true});
				if (!e.matches(":focus-visible")) return "no :focus-visible";
				const style = getComputedStyle(e);
				const width = parseFloat(style.outlineWidth), offset = parseFloat(style.outlineOffset);
				if (style.outlineStyle === "none" || width < 2) return "outline " + style.outlineStyle + " " + style.outlineWidth;
				// The ring lies a gap outside the element, on what is behind it.
				const behind = offset > 0 ? backdrop(e.parentElement) : backdrop(e);
				const ratio = contrast(style.outlineColor, behind);
				return ratio >= 3 ? "" : "ring " + style.outlineColor + " is " + ratio.toFixed(2) + ":1 against " + behind;
			})()`, page.selector))))
			if got != "" {
				t.Errorf("focus ring of %s on %s (%s): %s", page.selector, page.path, scheme, got)
			}
		}
	}
}

func TestBrowserUISpinnerKeepsTheButtonSize(t *testing.T) {
	b := newBrowser(t)
	tb := b.tab(true)
	tb.open("/accounts/login/")
	const size = `(() => { const r = document.querySelector('[data-testid="login-form"] button[type=submit]').getBoundingClientRect(); return [r.width, r.height]; })()`
	before := run(tb, chromedp.Evaluate[[]float64](size))
	// What htmx does while the form is on its way.
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="login-form"]').classList.add("htmx-request")`))
	if !run(tb, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector('[data-testid="login-form"] .spinner')).display !== "none"`)) {
		t.Fatal("no spinner while the form is sent")
	}
	during := run(tb, chromedp.Evaluate[[]float64](size))
	if during[0] != before[0] || during[1] != before[1] {
		t.Errorf("the button is %v×%v px while sending, %v×%v px before", during[0], during[1], before[0], before[1])
	}
	if name := run(tb, chromedp.Evaluate[string](`document.querySelector('[data-testid="login-form"] button[type=submit]').textContent.trim()`)); name != "Log in" {
		t.Errorf("the button is named %q while sending", name)
	}
	tb.look("spinner")
}

func TestBrowserUIErrorSummaryLinksFocusFields(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("taken", goodPassword)
	tb := b.tab(true)
	tb.open("/accounts/signup/")
	tb.fill("username", "taken")
	tb.fill("password1", "sunshine")
	tb.fill("password2", "sunshine!")
	tb.submitInvalid("signup-form", `[data-testid="error-summary"]`)
	tb.inspect("signup-error-summary")
	tb.ready(`[data-testid="error-summary"] a[href="#id_password2"]`)
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="error-summary"] a[href="#id_password2"]`)))
	tb.waitFocus("id_password2", "after following the summary's link")
}

func TestBrowserUIDarkMode(t *testing.T) {
	b := newBrowser(t)
	tb := b.tab(true)
	tb.scheme("dark")
	for _, path := range []string{"/articles/", "/accounts/login/"} {
		tb.open(path)
		got := run(tb, chromedp.Evaluate[string](withColours(`(() => {
			const page = getComputedStyle(document.body), text = page.color, background = backdrop(document.body);
			if (luminance(rgb(background)) > 0.05) return "the page is " + background + " when the system asks for dark";
			return contrast(text, background) >= 7 ? "" : "text " + text + " on " + background;
		})()`)))
		if got != "" {
			t.Errorf("%s in dark: %s", path, got)
		}
		tb.axeClean(path + " dark")
	}
}

// longName is the longest username there may be, without a place to break.
var longName = strings.Repeat("bartholomew_fitzwilliam_", 7)[:models.UsernameMaxLength]

// everyScheme inspects the page (screenshots at 1280 and 390 px, axe with
// no violation at all, nothing sticking out at 390 px) in the light and the
// dark scheme, and checks that at 390 and 1280 px it does not scroll sideways.
func (tb *tab) everyScheme(state string) {
	tb.t.Helper()
	for _, scheme := range schemes {
		tb.scheme(scheme)
		tb.inspect(state + "-" + scheme)
		for _, width := range []int64{390, 1280} {
			tb.do(chromedp.EmulateViewport(width, 900))
			if got := run(tb, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`)); got[0] > got[1] {
				tb.t.Errorf("%s (%s, js=%v): the page is %d px wide in a %d px window", state, scheme, tb.js, got[0], got[1])
			}
		}
	}
	tb.scheme("light")
}

func TestBrowserUIHeader(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser(longName, goodPassword)
	tb := b.tab(true)
	tb.do(chromedp.EmulateViewport(390, 900))
	const height = `document.querySelector(".site-header").getBoundingClientRect().height`
	currentLinks := func() string {
		return run(tb, chromedp.Evaluate[string](`[...document.querySelectorAll('.site-header [aria-current="page"]')].map(a => a.getAttribute("href")).join(" ")`))
	}

	tb.open("/accounts/login/")
	anonymous := run(tb, chromedp.Evaluate[float64](height))
	if got := currentLinks(); got != "/accounts/login/" {
		t.Errorf("on the login page the header marks %q as current", got)
	}
	tb.open("/accounts/signup/")
	if got := currentLinks(); got != "/accounts/signup/" {
		t.Errorf("on the signup page the header marks %q as current", got)
	}

	tb.loginAs(longName, goodPassword)
	tb.do(chromedp.EmulateViewport(390, 900))
	loggedIn := run(tb, chromedp.Evaluate[float64](height))
	if anonymous != loggedIn || loggedIn > 64 {
		t.Errorf("the phone header is %v px high logged out and %v px logged in, want one row of the same height", anonymous, loggedIn)
	}
	if got := currentLinks(); got != "/articles/" {
		t.Errorf("on the articles the header marks %q as current", got)
	}
	// "Hello, name": the name cut with an ellipsis, whole in the title; a
	// visible Settings link and Log out stay in view.
	name := run(tb, chromedp.Evaluate[[]string](`(() => {
		const greeting = document.querySelector('[data-testid="greeting"]'), name = greeting.querySelector('[data-testid="username"]');
		const link = document.querySelector('[data-testid="settings-link"]'), settings = link.getBoundingClientRect();
		const out = document.querySelector('.site-header form[action="/accounts/logout/"] button').getBoundingClientRect();
		return [greeting.textContent.slice(0, 7), name.title, getComputedStyle(name).textOverflow, String(name.scrollWidth > name.clientWidth),
			link.getAttribute("href"), link.textContent.trim(), String(settings.left >= 0 && settings.right <= window.innerWidth), String(out.right <= window.innerWidth)];
	})()`))
	if want := []string{"Hello, ", longName, "ellipsis", "true", "/accounts/update/", "Settings", "true", "true"}; strings.Join(name, "|") != strings.Join(want, "|") {
		t.Errorf("the header: greeting, name's title, overflow, cut, Settings href, label, in view, Log out in view = %q, want %q", name, want)
	}
	if got := tb.count(`.site-header a[href="/accounts/delete/"], .site-header form[action="/accounts/delete/"]`); got != 0 {
		t.Error("account deletion is still in the header")
	}
	tb.open("/accounts/update/")
	if got := currentLinks(); got != "/accounts/update/" {
		t.Errorf("on the profile the header marks %q as current", got)
	}
	tb.look("header-long-name")
}

// inView reports whether the element the selector finds lies inside the viewport.
func (tb *tab) inView(selector string) bool {
	tb.t.Helper()
	return run(tb, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const r = document.querySelector(%q).getBoundingClientRect();
		return r.top >= 0 && r.bottom <= window.innerHeight;
	})()`, selector)))
}

func TestBrowserUISavedSettingsKeepTheFocus(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		tb.do(chromedp.EmulateViewport(390, 700))
		tb.open("/accounts/update/")
		tb.fill("first_name", "Alice")
		if js {
			tb.submitInPlace(`[data-testid="profile-form"] button[type=submit]`, `#messages .message-success`)
		} else {
			tb.submitValid("profile-form")
		}
		// On the page still, the message right above the form, in the live
		// region. Saved in place, the focus stays on Save, where the user
		// acted; after a page load it is on the message.
		if got := tb.path(); got != "/accounts/update/" {
			t.Fatalf("after saving the profile the browser is at %s", got)
		}
		want := `#messages .message`
		if js {
			want = `[data-testid="profile-form"] button[type=submit]`
			if got := run(tb, chromedp.Evaluate[string](`document.querySelector("#messages").getAttribute("aria-live") + " " + document.querySelector("#messages").getAttribute("role")`)); got != "polite status" {
				t.Errorf("the messages are no live region: %q", got)
			}
		}
		if !tb.eventually(`document.activeElement && document.activeElement.matches(` + jsString(want) + `)`) {
			t.Errorf("after saving, focus is on %s, want %s", run(tb, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 80)`)), want)
		}
		// Right above the form after a page load; saved in place with the
		// page scrolled to Save, it stays in view at the top all the same.
		gap := run(tb, chromedp.Evaluate[float64](`document.querySelector('[data-testid="profile-form"]').closest(".card").getBoundingClientRect().top - document.querySelector("#messages .message").getBoundingClientRect().bottom`))
		if (!js && (gap < 0 || gap > 40)) || !tb.inView("#messages .message") {
			t.Errorf("the message is %v px above the profile's card (in view: %v), want right above it and in view", gap, tb.inView("#messages .message"))
		}
		tb.look("profile-saved-message")

		// After a password change the browser stays in the settings.
		tb.open("/accounts/password/")
		tb.fill("old_password", goodPassword)
		tb.fill("new_password1", "a brand new passphrase")
		tb.fill("new_password2", "a brand new passphrase")
		tb.submitValid("password-form")
		if got := tb.path(); got != "/accounts/password/" {
			t.Fatalf("after a password change the browser is at %s, want the settings", got)
		}
		if !tb.eventually(`document.activeElement && document.activeElement.matches("#messages .message-success")`) {
			t.Error("after a password change the message does not have the focus")
		}
		if !js {
			return
		}
		// A form error in place clears the message of the earlier change.
		tb.fill("old_password", "not my password")
		tb.fill("new_password1", "another new passphrase")
		tb.fill("new_password2", "another new passphrase")
		tb.submitInvalid("password-form", "#id_old_password_error")
		if got := tb.count("#messages .message"); got != 0 {
			t.Errorf("“%s” still stands above a form with an error", tb.text("#messages"))
		}
	})
}

func TestBrowserUIDeletedNextToTheEntry(t *testing.T) {
	b := newBrowser(t)
	alice := b.app.createUser("alice", goodPassword)
	b.app.seedArticles(alice, 20)
	tb := b.tab(true)
	tb.loginAs("alice", goodPassword)
	tb.open("/articles/")
	// The last entry of a long list, scrolled to.
	last := `[data-testid="article"]:last-child`
	tb.ready(last + ` [data-testid="article-delete"]`)
	tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: "end"})`, last)),
		chromedp.Click(chromedp.CSS(last+` [data-testid="article-delete"]`)))
	tb.waitFor(`[data-testid="article-deleted"]`)
	if !tb.inView(`[data-testid="article-deleted"]`) {
		t.Errorf("the deletion's message is out of view, %v px from the top", run(tb, chromedp.Evaluate[float64](`document.querySelector('[data-testid="article-deleted"]').getBoundingClientRect().top`)))
	}
	if !tb.eventually(`document.activeElement && document.activeElement.matches('[data-testid="article-deleted"]')`) {
		t.Error("the message does not have the focus that the pressed button had")
	}
	tb.look("deleted-in-place")

	// Entry after entry: at most the latest three messages stay.
	for range 5 {
		before := tb.count(`[data-testid="article"]`)
		// A click while the last swap is still settling can land on a
		// node about to be replaced (seen once in CI): press waits for quiet.
		tb.press(`[data-testid="article"] [data-testid="article-delete"]`)
		if !tb.eventually(fmt.Sprintf(`document.querySelectorAll('[data-testid="article"]').length === %d`, before-1)) {
			t.Fatal("an entry was not deleted")
		}
	}
	if !tb.eventually(`document.querySelectorAll(".message").length <= 3`) {
		t.Errorf("%d messages on the page after six deletions, want the latest 3 at most", tb.count(".message"))
	}
	if got := tb.text(`[data-testid="article-deleted"]`); got == "" {
		t.Error("no message left")
	}
	tb.look("deleted-many")
}

func TestBrowserUILocalTimes(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		alice := b.app.createUser("alice", goodPassword)
		a := b.app.createArticle(alice, "When", "x")
		tb := b.tab(js)
		if _, err := chromedp.Call(tb.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Seoul"}); err != nil {
			t.Fatal(err)
		}
		tb.open(views.ArticlePath(a.ID))
		shown := tb.text(`[data-testid="article-detail"] .meta time`)
		seoul := a.CreatedAt.In(time.FixedZone("KST", 9*3600))
		if js {
			// "Nov 30, 2026, 7:57 PM GMT+9" in the title, say: the viewer's
			// zone, not UTC; the text says how long ago.
			full := run(tb, chromedp.Evaluate[string](`document.querySelector('[data-testid="article-detail"] .meta time').title`))
			if strings.Contains(full, "UTC") || !strings.Contains(full, "GMT+9") || !strings.Contains(full, seoul.Format(":04")) {
				t.Errorf("in Seoul the time's title reads %q, want it in Seoul's time (%s)", full, seoul.Format("15:04"))
			}
			if !strings.HasSuffix(shown, "ago") && shown != "now" {
				t.Errorf("the time reads %q, want how long ago", shown)
			}
		} else if want := a.CreatedAt.UTC().Format("2 Jan 2006, 15:04 UTC"); shown != want {
			t.Errorf("without JavaScript the time reads %q, want %q", shown, want)
		}
		tb.open("/articles/")
		if js && strings.Contains(tb.text(`[data-testid="article"] time`), "UTC") {
			t.Errorf("the index shows %q in Seoul", tb.text(`[data-testid="article"] time`))
		}
	})
}

func TestBrowserUIReadableMeasure(t *testing.T) {
	b := newBrowser(t)
	alice := b.app.createUser("alice", goodPassword)
	a := b.app.createArticle(alice, "Long", strings.Repeat("The quick brown fox jumps over the lazy dog, and then it rests a while. ", 12))
	tb := b.tab(true)
	tb.open(views.ArticlePath(a.ID))
	// The longest line, in characters, found by where each character lies.
	longest := run(tb, chromedp.Evaluate[int](`(() => {
		const text = document.querySelector('[data-testid="article-content"]').firstChild, range = document.createRange();
		const lines = new Map();
		for (let i = 0; i < text.length; i++) {
			range.setStart(text, i);
			range.setEnd(text, i + 1);
			const top = Math.round(range.getBoundingClientRect().top);
			lines.set(top, (lines.get(top) || 0) + 1);
		}
		return Math.max(...lines.values());
	})()`))
	if longest > 75 || longest < 45 {
		t.Errorf("the article's lines hold up to %d characters at 1280 px, want a readable measure (45–75)", longest)
	}
	tb.look("readable-measure")
}

func TestBrowserUICancelBesideTheButton(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	tb.loginAs("alice", goodPassword)
	tb.open("/articles/create/")
	for _, width := range []int64{1280, 390} {
		tb.do(chromedp.EmulateViewport(width, 900))
		if got := run(tb, chromedp.Evaluate[float64](`(() => {
			const button = document.querySelector('[data-testid="article-form"] button[type=submit]').getBoundingClientRect();
			const cancel = document.querySelector('[data-testid="article-form"] [data-testid="cancel"]').getBoundingClientRect();
			return Math.abs((button.top + button.bottom) / 2 - (cancel.top + cancel.bottom) / 2) + (cancel.left > button.right ? 0 : 1000);
		})()`)); got > 2 {
			t.Errorf("at %d px Cancel is not beside Publish (off by %v)", width, got)
		}
	}
}

// The tours visit every page with a 150-character username, in the light and
// the dark scheme, at 1280 and 390 px: screenshots, axe with no violation,
// nothing sideways. Each is its own browser, which lives two minutes.

func TestBrowserUITourAnonymous(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser(longName, goodPassword)
	tb := b.tab(true)
	tb.open("/articles/")
	tb.everyScheme("index-empty")
	tb.open("/accounts/login/")
	tb.everyScheme("login")
	tb.fill("username", longName)
	tb.fill("password", "not the password")
	tb.submitInvalid("login-form", ".form-errors")
	tb.everyScheme("login-failed")
	tb.open("/accounts/signup/")
	tb.everyScheme("signup")
	tb.fill("username", longName)
	tb.fill("email", "not an address")
	tb.fill("password1", "sunshine")
	tb.fill("password2", "sunshine!")
	tb.submitInvalid("signup-form", `[data-testid="error-summary"]`)
	tb.everyScheme("signup-errors")
	tb.open("/accounts/password_reset/")
	tb.everyScheme("password-reset")
	tb.open("/accounts/password_reset/done/")
	tb.everyScheme("password-reset-done")
	tb.open("/accounts/reset/MQ/no-such-token/")
	tb.everyScheme("reset-link-invalid")
	tb.open("/no/such/page/")
	tb.everyScheme("error-404")
	tb.open("/accounts/email/resend/")
	tb.everyScheme("error-405")
	tb.open("/accounts/logout/")
	tb.everyScheme("logout-anonymous")
}

func TestBrowserUITourArticles(t *testing.T) {
	b := newBrowser(t)
	long := b.app.createUser(longName, goodPassword)
	bob := b.app.createUser("bob", goodPassword)
	tb := b.tab(true)
	tb.loginAs(longName, goodPassword)
	tb.everyScheme("index-empty-welcome")

	b.app.seedArticles(long, 24)
	theirs := b.app.createArticle(bob, "Bob's article, with a title long enough to wrap on a phone screen", "Bob's words.")
	mine := b.app.createArticle(long, "My article", strings.Repeat("A paragraph of text to read at a comfortable measure. ", 14)+"\n\nAnd a second paragraph.")
	if _, err := b.app.db.NewRaw("UPDATE articles SET updated_at = ? WHERE id = ?", mine.CreatedAt.Add(time.Hour), mine.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	tb.open("/articles/")
	tb.everyScheme("index")
	tb.open("/articles/?page=2")
	tb.everyScheme("index-page-2")
	tb.open(views.ArticlePath(mine.ID))
	tb.everyScheme("detail-own-edited")
	tb.open(views.ArticlePath(theirs.ID))
	tb.everyScheme("detail-theirs")
	tb.open("/articles/create/")
	tb.everyScheme("create")
	tb.submitInvalid("article-form", `[data-testid="error-summary"]`)
	tb.everyScheme("create-errors")
	tb.open(views.ArticleUpdatePath(mine.ID))
	tb.everyScheme("edit")
	tb.open(views.ArticleDeletePath(mine.ID))
	tb.everyScheme("delete-confirm")
	tb.open(views.ArticleUpdatePath(theirs.ID))
	tb.everyScheme("error-403")
}

func TestBrowserUITourSettings(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser(longName, goodPassword)
	tb := b.tab(true)
	tb.loginAs(longName, goodPassword)
	b.device(firefoxOnAndroid).loginAs(longName, goodPassword)
	tb.open("/accounts/update/")
	tb.everyScheme("profile")
	tb.fill("email", longName[:60]+"@example.com")
	tb.fill("current_password", goodPassword) // a new address takes the password
	tb.submitInPlace(`[data-testid="profile-form"] button[type=submit]`, `#messages .message-success`)
	tb.everyScheme("profile-saved")
	tb.fill("email", "not an address")
	// Past maxlength, as only a script can type.
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[name="first_name"]').value = "x".repeat(151)`))
	tb.submitInvalid("profile-form", `[data-testid="error-summary"]`)
	tb.everyScheme("profile-errors")
	tb.open("/accounts/password/")
	tb.everyScheme("password")
	tb.fill("old_password", "not it")
	tb.fill("new_password1", "sunshine")
	tb.fill("new_password2", "sunshine")
	tb.submitInvalid("password-form", `[data-testid="error-summary"]`)
	tb.everyScheme("password-errors")
	tb.open("/accounts/sessions/")
	tb.everyScheme("sessions")
	tb.open("/accounts/logout/")
	tb.everyScheme("logout-ask")
}

func TestBrowserUITourSettingsToDeletion(t *testing.T) {
	b := newBrowser(t)
	long := b.app.createUser(longName, goodPassword)
	b.app.seedArticles(long, 3)
	tb := b.tab(true)
	tb.loginAs(longName, goodPassword)
	tb.open("/accounts/password/")
	tb.fill("old_password", goodPassword)
	tb.fill("new_password1", "a brand new passphrase")
	tb.fill("new_password2", "a brand new passphrase")
	tb.submitValid("password-form")
	tb.everyScheme("password-changed")
	tb.open("/accounts/activity/")
	tb.everyScheme("activity")
	tb.open("/accounts/delete/")
	tb.everyScheme("account-delete")
	tb.fill("password", "not it")
	tb.submitInvalid("account-delete-form", "#id_password_error")
	tb.everyScheme("account-delete-wrong-password")
	tb.fill("password", "a brand new passphrase")
	tb.submitValid("account-delete-form")
	tb.everyScheme("account-deleted")
}

func TestBrowserUIProfileSavesKeepOneResendButton(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	tb.loginAs("alice", goodPassword)
	tb.open("/accounts/update/")
	for i, email := range []string{"alice@example.com", "not an address", "alice@example.org", ""} {
		// The message of the last save can show before htmx has settled the
		// form and enabled its button again: wait for that, or the click is lost.
		tb.waitFor(`form[data-testid="profile-form"]:not(.htmx-request) button[type=submit]:not([disabled])`)
		tb.fill("email", email)
		tb.fill("current_password", goodPassword) // a new address takes the password
		tb.ready(`[data-testid="profile-form"] button[type=submit]`)
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#messages > *, .errors").forEach(e => e.remove())`),
			chromedp.Click(chromedp.CSS(`[data-testid="profile-form"] button[type=submit]`)))
		tb.waitFor(`#messages .message, #id_email_error`)
		want := 1
		if email == "" {
			want = 0 // no address, nothing to confirm
		}
		if got := tb.count(`[data-testid="resend-verification"]`); got != want {
			t.Errorf("after save %d (%q): %d resend buttons, want %d", i+1, email, got, want)
		}
	}
}

// mailedLink waits for a mail in the app's outbox with a link to a path
// starting with prefix, and returns that path.
func (a *testApp) mailedLink(prefix string) string {
	a.t.Helper()
	link := regexp.MustCompile(regexp.QuoteMeta(a.url+prefix) + `[^\s"<>]+`)
	for deadline := time.Now().Add(waitBudget); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(a.mailDir, "*.eml"))
		for _, file := range files {
			body, _ := os.ReadFile(file)
			if found := link.Find(body); found != nil {
				return strings.TrimPrefix(string(found), a.url)
			}
		}
	}
	a.t.Fatalf("no mail with a link to %s… within %v", prefix, waitBudget)
	return ""
}

func TestBrowserUITourMailedLinks(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser(longName, goodPassword)
	if _, err := b.app.db.NewRaw("UPDATE users SET email = 'long@example.com', email_verified = TRUE").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	tb := b.tab(true)
	tb.open("/accounts/password_reset/")
	tb.fill("email", "long@example.com")
	tb.submitValid("password-reset-form")
	tb.open(b.app.mailedLink("/accounts/reset/"))
	tb.everyScheme("set-password")
	tb.fill("new_password1", "sunshine")
	tb.fill("new_password2", "sunshine!")
	tb.submitInvalid("set-password-form", `[data-testid="error-summary"]`)
	if got := tb.text("#id_new_password1_error"); !strings.Contains(got, "too common") {
		t.Errorf("beside the new password: %q", got)
	}
	tb.everyScheme("set-password-errors")
	tb.fill("new_password1", "a brand new passphrase")
	tb.fill("new_password2", "a brand new passphrase")
	tb.submitValid("set-password-form")
	tb.everyScheme("password-reset-complete")

	// A new address, confirmed from its link.
	tb.loginAs(longName, "a brand new passphrase")
	tb.open("/accounts/update/")
	tb.fill("email", "new@example.com")
	tb.fill("current_password", "a brand new passphrase")
	tb.submitInPlace(`[data-testid="profile-form"] button[type=submit]`, `#messages .message-success`)
	tb.open(b.app.mailedLink("/accounts/email/verify/"))
	tb.everyScheme("email-verify")
	tb.submitValid("email-verify-form")
	tb.everyScheme("email-verified")
	tb.open("/accounts/email/verify/MQ/no-such-token/")
	tb.everyScheme("email-link-invalid")
}
