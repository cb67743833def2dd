//go:build browser

package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/views"
)

// longEmail is an address as long as the form takes, without a place to break.
var longEmail = strings.Repeat("x", 64) + "@" + strings.Repeat("averyveryverylongsubdomainname.", 5) + "example.com"

func TestBrowserUIOneHeaderWidth(t *testing.T) {
	b := newBrowser(t)
	b.app.createStaff(longName, true)
	tb := b.tab(true)
	tb.loginAs(longName, goodPassword)
	const box = `(() => { const brand = document.querySelector(".brand").getBoundingClientRect(), nav = document.querySelector(".site-header nav").getBoundingClientRect(); return [brand.left, nav.width]; })()`
	var seen [][]float64
	for _, path := range []string{"/articles/", views.PathAdmin, views.PathAdminUsers, views.PathProfile} {
		tb.open(path)
		seen = append(seen, run(tb, chromedp.Evaluate[[]float64](box)))
	}
	for i, path := range []string{"/articles/", views.PathAdmin, views.PathAdminUsers, views.PathProfile} {
		if seen[i][0] != seen[0][0] || seen[i][1] != seen[0][1] {
			t.Errorf("on %s the logo is at x=%v in a %v px header, on the articles at x=%v in %v px", path, seen[i][0], seen[i][1], seen[0][0], seen[0][1])
		}
	}
	// On a phone, with Admin too, the name is cut but shows, and all fits.
	for _, width := range []int64{390, 320} {
		tb.do(chromedp.EmulateViewport(width, 900))
		got := run(tb, chromedp.Evaluate[[]float64](`(() => {
			const name = document.querySelector('[data-testid="greeting"] .username').getBoundingClientRect();
			const out = document.querySelector('.site-header form[action="/accounts/logout/"] button').getBoundingClientRect();
			return [name.width, out.right, window.innerWidth, document.documentElement.scrollWidth];
		})()`))
		if got[0] < 24 || got[1] > got[2] || got[3] > got[2] {
			t.Errorf("at %d px the greeting's name is %v px wide, Log out ends at %v px, the page is %v px wide", width, got[0], got[1], got[3])
		}
		tb.look(fmt.Sprintf("header-staff-%d", width))
	}
	tb.do(chromedp.EmulateViewport(1280, 900))
}

// TestBrowserUITourAdminLongNames visits every admin page with a
// 150-character username, a long address and a long title: nothing may
// widen the page at 1280 or 390 px, and the user's page heading wraps.
func TestBrowserUITourAdminLongNames(t *testing.T) {
	b := newBrowser(t)
	root := b.app.createStaff(longName, true)
	long := b.app.createUser(longName[:149]+"z", goodPassword)
	if _, err := b.app.db.NewRaw("UPDATE users SET email = ?, first_name = ?, last_name = ? WHERE id = ?",
		longEmail, strings.Repeat("Bartholomew", 13), strings.Repeat("Fitzwilliam", 13), long.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	article := b.app.createArticle(long, strings.Repeat("Supercalifragilisticexpialidocious", 5), "Words.")
	b.device(firefoxOnAndroid).loginAs(long.Username, goodPassword)
	tb := b.tab(true)
	tb.loginAs(root.Username, goodPassword)
	tb.open(views.AdminUserPath(long.ID))
	tb.fill("first_name", "Bart")
	tb.click(`[data-testid="admin-user-form"] button[type=submit]`, "#messages .message-success")

	for _, page := range []struct{ path, state string }{
		{views.PathAdmin, "admin-long-dashboard"},
		{views.PathAdminUsers, "admin-long-users"},
		{views.AdminUserPath(long.ID), "admin-long-user"},
		{views.AdminUserPath(long.ID) + views.AdminDelete, "admin-long-user-delete"},
		{views.PathAdminArticles, "admin-long-articles"},
		{views.AdminArticlePath(article.ID), "admin-long-article"},
		{views.PathAdminLog, "admin-long-log"},
	} {
		tb.open(page.path)
		tb.everyScheme(page.state)
	}
	tb.open(views.AdminUserPath(long.ID))
	tb.do(chromedp.EmulateViewport(1280, 900))
	if got := run(tb, chromedp.Evaluate[[]float64](`(() => { const h = document.querySelector('[data-testid="admin-user-name"]'); return [h.scrollWidth, h.clientWidth, h.getBoundingClientRect().height]; })()`)); got[0] > got[1] || got[2] < 60 {
		t.Errorf("the user's heading is %v px wide in %v px, %v px high: it should wrap", got[0], got[1], got[2])
	}
	// The address is on one line, cut, whole in its title.
	tb.open(views.PathAdminUsers + "?q=" + long.Username[:20])
	email := run(tb, chromedp.Evaluate[[]string](`(() => { const e = document.querySelector('tbody .cell-email > span'); return [e.title, getComputedStyle(e).whiteSpace, getComputedStyle(e).textOverflow]; })()`))
	if strings.Join(email, "|") != longEmail+"|nowrap|ellipsis" {
		t.Errorf("the address cell: title, white-space, overflow = %q", email)
	}
	// The actions have a column of their own, at the right.
	if got := run(tb, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("tbody .cell-actions")).textAlign`)); got != "right" {
		t.Errorf("the actions column is aligned %s", got)
	}
}

func TestBrowserUISettingsTabsOnAPhone(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	tb.loginAs("alice", goodPassword)
	tb.do(chromedp.EmulateViewport(390, 900))
	for _, page := range []struct{ path, marked string }{
		{views.PathProfile, views.PathProfile},
		{views.PathAccountDelete, views.PathProfile},
		{views.PathTwoFactorSetup, views.PathTwoFactor},
		{views.ConfirmPath(views.PathTwoFactorSetup), views.PathTwoFactor},
		{views.PathSessions, views.PathSessions}, // past the edge of the row at first
	} {
		tb.open(page.path)
		tb.do(chromedp.EmulateViewport(390, 900))
		got := run(tb, chromedp.Evaluate[[]string](`(() => {
			const items = [...document.querySelectorAll(".settings-nav li")];
			const rows = new Set(items.map(li => Math.round(li.getBoundingClientRect().top))).size;
			const marked = [...document.querySelectorAll(".settings-nav a[aria-current]")].map(a => a.getAttribute("href"));
			const tab = document.querySelector(".settings-nav a[aria-current]").getBoundingClientRect();
			const row = document.querySelector(".settings-nav ul").getBoundingClientRect();
			return [String(rows), marked.join(" "), String(tab.left >= row.left && tab.right <= row.right)];
		})()`))
		if got[0] != "1" || got[1] != page.marked {
			t.Errorf("on %s at 390 px the tabs are in %s rows, marked %q, want 1 row, %q", page.path, got[0], got[1], page.marked)
		}
		if got[2] != "true" {
			t.Errorf("on %s at 390 px the page's own tab is past the edge of the row", page.path)
		}
	}
	tb.open(views.PathAccountDelete)
	tb.look("settings-tabs-phone-delete")
}

func TestBrowserUIRelativeTimes(t *testing.T) {
	b := newBrowser(t)
	alice := b.app.createUser(longName, goodPassword)
	a := b.app.createArticle(alice, "When", "x")
	created := time.Now().Add(-5 * time.Minute).UTC()
	if _, err := b.app.db.NewRaw("UPDATE articles SET created_at = ?, updated_at = ? WHERE id = ?", created, created, a.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	tb := b.tab(true)
	tb.open(views.ArticlePath(a.ID))
	got := run(tb, chromedp.Evaluate[[]string](`(() => { const t = document.querySelector('[data-testid="article-detail"] .meta time'); return [t.textContent, t.title, t.getAttribute("datetime")]; })()`))
	if got[0] != "5 minutes ago" || !strings.Contains(got[1], created.Format("2006")) || got[2] != created.Format(time.RFC3339) {
		t.Errorf("the article's time reads %q, title %q, datetime %q", got[0], got[1], got[2])
	}
	// On a wide screen a long author's name is not cut to a few words.
	if width := run(tb, chromedp.Evaluate[float64](`document.querySelector('[data-testid="author"] .username').getBoundingClientRect().width`)); width < 400 {
		t.Errorf("the author's name is cut to %v px at 1280 px", width)
	}
	tb.look("relative-times")
}

func TestBrowserUICurrentPasswordOnlyForANewAddress(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		tb.open(views.PathProfile)
		shown := func() bool {
			return run(tb, chromedp.Evaluate[bool](`document.getElementById("id_current_password").getClientRects().length > 0`))
		}
		// Without JavaScript it always shows; with it, only for a new address.
		if shown() != !js {
			t.Errorf("before the address changes the current password shows: %v", shown())
		}
		if got := tb.text(`label[for="id_current_password"]`); got != "Current password" {
			t.Errorf("the field is labelled %q, want it required", got)
		}
		tb.fill("email", "alice@example.com")
		if !tb.eventually(`document.getElementById("id_current_password").getClientRects().length > 0`) {
			t.Fatal("a new address does not ask for the current password")
		}
		tb.look("current-password-asked")
		// Saving a name alone takes no password.
		tb.open(views.PathProfile)
		tb.fill("first_name", "Alice")
		tb.click(`[data-testid="profile-form"] button[type=submit]`, "#messages .message-success")
	})
}

func TestBrowserUIConfirmInThePage(t *testing.T) {
	b := newBrowser(t)
	alice := b.app.createUser("alice", goodPassword)
	a := b.app.createArticle(alice, "Keep or not", "x")
	tb := b.tab(true)
	tb.loginAs("alice", goodPassword)
	tb.open("/articles/")
	tb.do(chromedp.Evaluate[chromedp.Void](`window.gatehouseKeepDialogs = true`))
	item := "#" + views.ArticleItemID(a)
	// The question in the site's dialog (the browser's confirm() would fail
	// the test: watch records it as a problem).
	tb.press(item + ` [data-testid="article-delete"]`)
	tb.waitFor(`[data-testid="confirm-dialog"][open]`)
	if got := tb.text(`#confirm-question`); got != "Delete “Keep or not”?" {
		t.Errorf("the dialog asks %q", got)
	}
	if !run(tb, chromedp.Evaluate[bool](`document.activeElement.matches('[data-testid="confirm-no"]')`)) {
		t.Error("the dialog's Cancel does not have the focus")
	}
	tb.look("confirm-dialog")
	// Cancel sends nothing; Yes deletes in place.
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="confirm-no"]`)))
	tb.until("the dialog to close", `!document.querySelector('[data-testid="confirm-dialog"][open]')`)
	if tb.count(item) != 1 {
		t.Fatal("Cancel deleted the article")
	}
	// Asked again at once, before the first answer's close event comes:
	// Yes to the second question deletes (the close of the first Cancel
	// was once taken for it, and Yes then did nothing).
	tb.press(item + ` [data-testid="article-delete"]`)
	tb.waitFor(`[data-testid="confirm-dialog"][open]`)
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="confirm-no"]').click();
		document.querySelector('` + item + ` [data-testid="article-delete"]').click();`))
	tb.waitFor(`[data-testid="confirm-dialog"][open]`)
	if tb.count(item) != 1 {
		t.Fatal("Cancel deleted the article")
	}
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="confirm-yes"]`)))
	tb.waitFor(`[data-testid="article-deleted"]`)
}

func TestBrowserUIShowPassword(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	tb.open("/accounts/login/")
	tb.fill("username", "alice")
	tb.fill("password", "not it")
	toggle := `[data-show-password="id_password"]`
	tb.press(toggle)
	if got := run(tb, chromedp.Evaluate[[]string](`[document.getElementById("id_password").type, document.querySelector('[data-show-password="id_password"]').getAttribute("aria-pressed")]`)); strings.Join(got, " ") != "text true" {
		t.Errorf("after Show the field is %q", got)
	}
	tb.look("password-shown")
	// Sent, the password is hidden again.
	tb.submitInvalid("login-form", ".form-errors")
	if got := run(tb, chromedp.Evaluate[string](`document.getElementById("id_password").type`)); got != "password" {
		t.Errorf("after sending, the field is %q", got)
	}
	// Without JavaScript there is no toggle to press.
	plain := b.tab(false)
	plain.open("/accounts/login/")
	if plain.count(toggle+":not([hidden])") != 0 {
		t.Error("the toggle shows without JavaScript")
	}
}
