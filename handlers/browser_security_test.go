//go:build browser

package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"gatehouse/models"
)

// User agents of the other "devices" alice logs in from, so that the
// sessions page names them apart.
const (
	firefoxOnAndroid = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
	safariOnIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// device opens a JavaScript tab whose browser says it is userAgent.
func (b *browser) device(userAgent string) *tab {
	b.t.Helper()
	tb := b.tab(true)
	if _, err := chromedp.Call(tb.ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: userAgent}); err != nil {
		b.t.Fatal(err)
	}
	return tb
}

// dialogs records the questions the site's confirmation dialog asks from
// now on, while the page stays (the harness answers them Yes); stop ends
// the recording.
func (tb *tab) dialogs() (messages func() []string, stop func()) {
	start := run(tb, chromedp.Evaluate[int](`(window.gatehouseAsked || []).length`))
	var seen []string
	read := func() []string {
		return run(tb, chromedp.Evaluate[[]string](fmt.Sprintf(`(window.gatehouseAsked || []).slice(%d)`, start)))
	}
	return func() []string { return seen }, func() { seen = read() }
}

// postRedirectGet clicks a button that posts a form as a page (with or
// without JavaScript) and checks the answer was a 303 followed by a GET of
// wantPath that answered 200.
func (tb *tab) postRedirectGet(button, wantPath string) {
	tb.t.Helper()
	status, chain := tb.clickThroughChain(button)
	want := fmt.Sprintf("POST %s → 303 → GET %s", wantPath, wantPath)
	got := strings.Join(chain, " → ")
	if got != want || status != 200 {
		tb.t.Errorf("%s: document requests %q answering %d, want %q answering 200", button, got, status, want)
	}
}

// axeClean runs axe-core on the page and fails on any violation, whatever
// its impact (the harness's look fails only on serious and critical ones).
func (tb *tab) axeClean(state string) {
	tb.t.Helper()
	if !tb.js {
		tb.setScripts(true)
		defer tb.setScripts(false)
	}
	if !run(tb, chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		tb.do(chromedp.Evaluate[chromedp.Void](axeSource))
	}
	raw := run(tb, chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		tb.t.Fatal(err)
	}
	for _, v := range violations {
		var targets []string
		for _, node := range v.Nodes {
			targets = append(targets, fmt.Sprint(node.Target...))
		}
		tb.t.Errorf("axe (%s, js=%v): %s %s: %s at %s", state, tb.js, v.Impact, v.ID, v.Help, strings.Join(targets, ", "))
	}
}

// sideways lists what sticks out to the right of a 390 px wide viewport, or
// what of the page can be scrolled to sideways; what lies in a frame of its
// own that scrolls or clips (a row of tabs) sticks out of nothing.
const sideways = `(() => {
	const width = document.documentElement.clientWidth;
	const found = [];
	const framed = (e) => {
		for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) {
			if (["auto", "scroll", "hidden"].includes(getComputedStyle(n).overflowX)) return true;
		}
		return false;
	};
	if (document.documentElement.scrollWidth > width) {
		found.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " px wide in " + width);
	}
	for (const e of document.querySelectorAll("main *, header *")) {
		const r = e.getBoundingClientRect();
		if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5) && !e.closest(".skip-link, .visually-hidden") && !framed(e)) {
			found.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).replace(/ /g, ".") : "") +
				" spans " + Math.round(r.left) + "–" + Math.round(r.right) + " px");
		}
	}
	return found;
})()`

// wrappedButtons lists the buttons whose label breaks over lines, as a
// button squeezed by its neighbours does.
const wrappedButtons = `[...document.querySelectorAll("main button, main a.button")].filter(b => b.getClientRects().length > 0).map(b => {
	const label = document.createRange();
	label.selectNodeContents(b);
	const lines = new Set([...label.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
	const box = b.getBoundingClientRect();
	return lines > 1 ? "“" + b.textContent.trim() + "” breaks over " + lines + " lines in a " + Math.round(box.width) + "×" + Math.round(box.height) + " px button" : "";
}).filter(Boolean)`

// inspect saves screenshots at 1280 and 390 px with the harness's look
// (axe: nothing serious), then checks the page has no axe violation at all
// and at 390 px nothing sticks out sideways and no button label breaks.
func (tb *tab) inspect(state string) {
	tb.t.Helper()
	tb.look(state)
	tb.axeClean(state)
	tb.do(chromedp.EmulateViewport(390, 900))
	defer tb.do(chromedp.EmulateViewport(1280, 900))
	problems := append(run(tb, chromedp.Evaluate[[]string](sideways)), run(tb, chromedp.Evaluate[[]string](wrappedButtons))...)
	for _, problem := range problems {
		tb.t.Errorf("at 390 px (%s, js=%v): %s", state, tb.js, problem)
	}
}

// otherSessionID is the id of the first session entry that has a Log out button.
func (tb *tab) otherSessionID() string {
	tb.t.Helper()
	id := run(tb, chromedp.Evaluate[string](`(document.querySelector('[data-testid="session"]:has([data-testid="end-session"])') || {}).id || ""`))
	if id == "" {
		tb.t.Fatal("no session with a Log out button")
	}
	return id
}

// loggedOut checks the tab's next navigation finds it logged out: a
// login-only page sends it to the login page.
func (tb *tab) loggedOut(who string) {
	tb.t.Helper()
	tb.open("/accounts/sessions/")
	if got := tb.path(); got != "/accounts/login/?next=%2Faccounts%2Fsessions%2F" {
		tb.t.Errorf("%s: after its session ended, /accounts/sessions/ led to %s", who, got)
	}
	if tb.count(`[data-testid="username"]`) != 0 {
		tb.t.Errorf("%s is still greeted after its session ended", who)
	}
}

// eventTexts are the descriptions on the activity page, top to bottom.
func (tb *tab) eventTexts() []string {
	tb.t.Helper()
	return run(tb, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="event"] strong')].map(e => e.textContent.trim())`))
}

func TestBrowserSessions(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		alice := b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		phone := b.device(firefoxOnAndroid)
		phone.loginAs("alice", goodPassword)

		// Two sessions, this one marked and without a Log out button.
		tb.open("/accounts/sessions/")
		if got := tb.count(`[data-testid="session"]`); got != 2 {
			t.Fatalf("%d sessions listed, want 2", got)
		}
		if got := tb.count(`[data-testid="current-session"]`); got != 1 {
			t.Fatalf("%d sessions marked current, want 1", got)
		}
		if got := tb.text(`[data-testid="current-session"]`); got != "This browser" {
			t.Errorf("current session badge reads %q", got)
		}
		if got := tb.count(`[data-testid="session"]:has([data-testid="current-session"]) [data-testid="end-session"]`); got != 0 {
			t.Error("the current session has a Log out button")
		}
		other := tb.otherSessionID()
		if got := tb.text("#" + other + " strong"); got != "Firefox on Android" {
			t.Errorf("the other session is named %q", got)
		}
		if tb.count(`[data-testid="end-others"] button`) != 1 {
			t.Error("no Log out everywhere else button with two sessions")
		}
		tb.inspect("sessions-two")

		// Log out the phone.
		button := "#" + other + ` [data-testid="end-session"]`
		if js {
			messages, stop := tb.dialogs()
			tb.ready(button)
			tb.do(chromedp.Evaluate[chromedp.Void](`window.gatehouseMarker = "still here"`),
				chromedp.Click(chromedp.CSS(button)))
			gone := tb.eventually(fmt.Sprintf(`!document.getElementById(%q)`, other))
			if !gone {
				t.Fatal("the ended session's row stayed")
			}
			tb.waitFor(`#messages .message`)
			stop()
			if got := messages(); len(got) != 1 || got[0] != "Log out Firefox on Android?" {
				t.Errorf("confirm dialogs %q, want one asking “Log out Firefox on Android?”", got)
			}
			if marker := run(tb, chromedp.Evaluate[string](`String(window.gatehouseMarker)`)); marker != "still here" {
				t.Fatal("ending a session reloaded the page")
			}
			if got := tb.path(); got != "/accounts/sessions/" {
				t.Errorf("after ending a session in place the address is %s", got)
			}
			// The pressed button is gone with its row: focus goes to the list's heading.
			if !tb.eventually(`document.activeElement.tagName === "H1"`) {
				t.Errorf("after the row is removed, focus is on <%s>, want the heading", run(tb, chromedp.Evaluate[string](`document.activeElement.tagName`)))
			}
		} else {
			tb.postRedirectGet(button, "/accounts/sessions/")
		}
		if got := tb.text(`#messages[aria-live="polite"] .message`); !strings.HasPrefix(got, "Firefox on Android was logged out.") {
			t.Errorf("messages %q", got)
		}
		if got := tb.count(`[data-testid="session"]`); got != 1 {
			t.Fatalf("%d sessions listed after ending one of two", got)
		}
		if tb.count(`[data-testid="current-session"]`) != 1 {
			t.Fatal("the remaining session is not this browser")
		}
		if tb.count(`[data-testid="end-others"]`) != 0 {
			t.Error("“Log out everywhere else” stays on the page after the last other session ended")
		}
		tb.inspect("sessions-one-ended")
		phone.loggedOut("the phone")

		// Three sessions, and "Log out everywhere else".
		phone.loginAs("alice", goodPassword)
		iphone := b.device(safariOnIPhone)
		iphone.loginAs("alice", goodPassword)
		tb.open("/accounts/sessions/")
		if got := tb.count(`[data-testid="session"]`); got != 3 {
			t.Fatalf("%d sessions listed, want 3", got)
		}
		if got := tb.count(`[data-testid="end-session"]`); got != 2 {
			t.Errorf("%d Log out buttons with three sessions, want 2", got)
		}
		tb.inspect("sessions-three")
		if js {
			messages, stop := tb.dialogs()
			tb.ready(`[data-testid="end-others"] button`)
			tb.do(chromedp.Evaluate[chromedp.Void](`window.gatehouseMarker = "still here"`),
				chromedp.Click(chromedp.CSS(`[data-testid="end-others"] button`)))
			if !tb.eventually(`document.querySelectorAll('[data-testid="session"]').length === 1`) {
				t.Fatal("the other sessions stayed listed")
			}
			tb.waitFor(`#messages .message`)
			stop()
			if got := messages(); len(got) != 1 || got[0] != "Log out every other browser?" {
				t.Errorf("confirm dialogs %q", got)
			}
			if marker := run(tb, chromedp.Evaluate[string](`String(window.gatehouseMarker)`)); marker != "still here" {
				t.Fatal("logging out everywhere else reloaded the page")
			}
		} else {
			tb.postRedirectGet(`[data-testid="end-others"] button`, "/accounts/sessions/")
		}
		if got := tb.text(`[data-testid="messages"] .message`); !strings.HasPrefix(got, "Your 2 other sessions were logged out.") {
			t.Errorf("messages %q", got)
		}
		if got := tb.count(`[data-testid="session"]`); got != 1 || tb.count(`[data-testid="current-session"]`) != 1 {
			t.Fatalf("after logging out everywhere else %d sessions are listed", got)
		}
		if tb.count(`[data-testid="end-others"]`) != 0 {
			t.Error("Log out everywhere else is offered with no other session")
		}
		tb.inspect("sessions-others-ended")
		phone.loggedOut("the phone")
		iphone.loggedOut("the iPhone")
		if got := tb.text(`[data-testid="username"]`); got != "alice" {
			t.Fatal("logging out everywhere else logged this browser out")
		}
		if n := b.app.count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", alice.ID); n != 1 {
			t.Errorf("%d sessions of alice in the database, want 1", n)
		}

		// Both ends are in the security log.
		tb.open("/accounts/activity/")
		want := "Session ended: all other sessions | Logged in | Logged in | Session ended: Firefox on Android | Logged in | Logged in"
		if got := strings.Join(tb.eventTexts(), " | "); got != want {
			t.Errorf("activity after ending sessions reads %q, want %q", got, want)
		}
		tb.inspect("activity-after-ending-sessions")
	})
}

func TestBrowserSessionsAlreadyEnded(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		phone := b.device(firefoxOnAndroid)
		phone.loginAs("alice", goodPassword)
		tb.open("/accounts/sessions/")
		other := tb.otherSessionID()
		// The phone logs itself out while the page is open.
		phone.submitPage(`form[action="/accounts/logout/"] button`)
		button := "#" + other + ` [data-testid="end-session"]`
		if js {
			tb.ready(button)
			tb.do(chromedp.Click(chromedp.CSS(button)))
			tb.eventually(fmt.Sprintf(`!document.getElementById(%q)`, other))
			tb.waitFor(`#messages .message`)
		} else {
			tb.postRedirectGet(button, "/accounts/sessions/")
		}
		if got := tb.text(`#messages .message`); !strings.HasPrefix(got, "That session had already ended.") {
			t.Errorf("messages %q", got)
		}
		if got := tb.count(`[data-testid="session"]`); got != 1 {
			t.Errorf("%d sessions listed", got)
		}
	})
}

func TestBrowserActivity(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.open("/accounts/login/")
		tb.fill("username", "alice")
		tb.fill("password", "not my password")
		tb.submitInvalid("login-form", ".form-errors")
		tb.fill("password", goodPassword)
		tb.submitValid("login-form")
		if got := tb.text(`[data-testid="username"]`); got != "alice" {
			t.Fatalf("header greets %q", got)
		}

		tb.open("/accounts/activity/")
		if got := tb.text("h1"); got != "Security activity" {
			t.Fatalf("heading %q", got)
		}
		if got := strings.Join(tb.eventTexts(), " | "); got != "Logged in | Failed login attempt" {
			t.Fatalf("events read %q, want Logged in, then Failed login attempt", got)
		}
		meta := tb.text(`[data-testid="event"] .meta`)
		wants := []string{"Headless Chrome on Linux", "127.0.0.1"}
		if !js {
			// With JavaScript the time is shown in the browser's own zone.
			wants = append(wants, "UTC")
		}
		for _, want := range wants {
			if !strings.Contains(meta, want) {
				t.Errorf("event details %q lack %q", meta, want)
			}
		}
		if tb.count(`[data-testid="event"] time[datetime]`) != 2 {
			t.Error("event times are not machine-readable <time> elements")
		}
		if tb.count(`[data-testid="pagination"]`) != 0 {
			t.Error("pagination shown for two events")
		}
		tb.inspect("activity")
	})
}

func TestBrowserActivityPaging(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	// 20 old failed attempts and a login: two pages.
	b.app.addEvents("alice", 20)
	tb.loginAs("alice", goodPassword)
	tb.open("/accounts/activity/")
	if got := tb.count(`[data-testid="event"]`); got != 20 {
		t.Errorf("first page lists %d events, want 20", got)
	}
	if got := tb.eventTexts(); len(got) == 0 || got[0] != "Logged in" {
		t.Errorf("first page starts with %q", got)
	}
	if got := tb.text(`[data-testid="pagination"] [aria-current="page"]`); got != "Page 1 of 2" {
		t.Errorf("pagination reads %q", got)
	}
	tb.clickThrough(`a[rel="next"]`)
	if got := tb.path(); got != "/accounts/activity/?page=2" {
		t.Errorf("next page is %s", got)
	}
	if got := tb.eventTexts(); len(got) != 1 || got[0] != "Failed login attempt" {
		t.Errorf("second page lists %q, want the oldest failed attempt", got)
	}
	if got := run(tb, chromedp.Title()); got != "Security activity, page 2 · Gatehouse" {
		t.Errorf("title %q", got)
	}
	tb.inspect("activity-page-2")
}

// addEvents adds n failed login attempts, an hour apart and older than now,
// to username's security log.
func (a *testApp) addEvents(username string, n int) {
	a.t.Helper()
	u := a.user(username)
	for i := range n {
		err := models.RecordEvent(context.Background(), a.db, &models.SecurityEvent{
			UserID: u.ID, Username: username, Kind: models.EventLoginFailed, IP: "192.0.2.1", UserAgent: "curl/8.0",
			CreatedAt: time.Now().UTC().Add(-time.Duration(i+1) * time.Hour),
		})
		if err != nil {
			a.t.Fatal(err)
		}
	}
}

func TestBrowserSessionsAccountNav(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		pages := []struct{ path, label string }{
			{"/accounts/update/", "Profile"},
			{"/accounts/password/", "Password"},
			{"/accounts/2fa/", "Two-factor"},
			{"/accounts/passkeys/", "Passkeys"},
			{"/accounts/social/", "Other sites"},
			{"/accounts/sessions/", "Sessions"},
			{"/accounts/activity/", "Security activity"},
		}
		tb.open(pages[0].path)
		for i, p := range pages {
			if i > 0 {
				// Each page is reached through the navigation itself.
				tb.clickThrough(fmt.Sprintf(`nav[aria-label="Account"] a[href=%q]`, p.path))
			}
			if got := tb.path(); got != p.path {
				t.Fatalf("the %s link led to %s", p.label, got)
			}
			current := run(tb, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[aria-current]')].filter(e => !e.closest('[data-testid="pagination"], .site-header')).map(e => e.getAttribute("href") + "=" + e.getAttribute("aria-current") + ":" + e.textContent.trim())`))
			want := p.path + "=page:" + p.label
			if len(current) != 1 || current[0] != want {
				t.Errorf("on %s aria-current is on %q, want only %q", p.path, current, want)
			}
			if got := tb.count(`nav[aria-label="Account"] a`); got != len(pages) {
				t.Errorf("on %s the account navigation has %d links", p.path, got)
			}
		}
	})
}
