//go:build browser

package handlers_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"gatehouse/views"
)

// adminSite is a site with a superuser, 60 users, articles and a logged-in
// user whose sessions the admin can end.
type adminSite struct {
	alice, bob int64
	article    int64
}

func newAdminSite(t *testing.T, b *browser) adminSite {
	t.Helper()
	b.app.createStaff("root", true)
	b.app.seedUsers(60)
	alice := b.app.createUser("alice", goodPassword)
	bob := b.app.createUser("bob", goodPassword)
	if _, err := b.app.db.NewRaw("UPDATE users SET email = 'alice@example.com', email_verified = TRUE, first_name = 'Alice', last_name = 'Liddell' WHERE id = ?", alice.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.app.seedArticles(alice, 3)
	article := b.app.createArticle(bob, "Bob's article, with a title long enough to wrap on a phone screen", "Bob's words.")
	b.device(firefoxOnAndroid).loginAs("alice", goodPassword)
	b.device(safariOnIPhone).loginAs("alice", goodPassword)
	return adminSite{alice: alice.ID, bob: bob.ID, article: article.ID}
}

// click presses a button: with JavaScript it swaps in place until appears
// shows, the page not reloaded; without, the browser posts and follows the
// redirect to a page where appears shows.
func (tb *tab) click(button, appears string) {
	tb.t.Helper()
	if tb.js {
		tb.ready(button)
		tb.do(chromedp.Evaluate[chromedp.Void](`window.gatehouseMarker = "still here"`), chromedp.Click(chromedp.CSS(button)))
		tb.waitFor(appears)
		if marker := run(tb, chromedp.Evaluate[string](`String(window.gatehouseMarker)`)); marker != "still here" {
			tb.t.Fatalf("pressing %s reloaded the page", button)
		}
		return
	}
	tb.submitPage(button)
	tb.waitFor(appears)
}

func TestBrowserAdminUsers(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		site := newAdminSite(t, b)
		tb := b.tab(js)
		tb.loginAs("root", goodPassword)

		tb.open(views.PathAdmin)
		tb.everyScheme("dashboard-empty")

		// The list, a search, a row deactivated in place and back.
		tb.open(views.PathAdminUsers)
		tb.everyScheme("users")
		// The whole table fits its card at 1280 px: the actions column was
		// cut off behind the table's own scrollbar.
		if got := run(tb, chromedp.Evaluate[[]int](`(w => [w.scrollWidth, w.clientWidth])(document.querySelector(".table-wrap"))`)); got[0] > got[1] {
			t.Errorf("the users table is %d px wide in a %d px card", got[0], got[1])
		}
		tb.open(views.PathAdminUsers + "?q=user00001&active=yes&sort=username")
		if got := tb.text(`[data-testid="user-total"]`); got != "9 users" {
			t.Errorf("search total %q", got)
		}
		aliceRow := "#" + views.AdminUserRowID(site.alice)
		tb.open(views.PathAdminUsers + "?q=ali")
		tb.click(aliceRow+` [data-testid="toggle-active"]`, aliceRow+` [data-testid="badge-inactive"]`)
		if got := tb.text("#messages .message span"); got != "alice was deactivated, and their sessions have ended." {
			t.Errorf("message %q", got)
		}
		if js {
			// The focus stays on the row's new button, the page where it was.
			if !tb.eventually(`document.activeElement.matches(` + jsString(aliceRow+` [data-testid="toggle-active"]`) + `)`) {
				t.Errorf("after deactivating in place the focus is on %s, not the row's button", run(tb, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 80)`)))
			}
		}
		tb.everyScheme("users-row-deactivated")
		tb.click(aliceRow+` [data-testid="toggle-active"]`, aliceRow+` [data-testid="badge-active"]`)

		// Bulk: two selected, a confirmation naming how many.
		tb.open(views.PathAdminUsers + "?q=user00000")
		tb.ready(`tbody tr:nth-child(1) input[name="ids"]`)
		tb.ready(`tbody tr:nth-child(2) input[name="ids"]`)
		tb.do(chromedp.Click(chromedp.CSS(`tbody tr:nth-child(1) input[name="ids"]`)), chromedp.Click(chromedp.CSS(`tbody tr:nth-child(2) input[name="ids"]`)))
		tb.clickThrough(`[data-testid="bulk-submit"]`)
		if got := tb.text(`[data-testid="bulk-confirm"] h1`); got != "Deactivate 2 users?" {
			t.Errorf("bulk confirmation asks %q", got)
		}
		tb.everyScheme("bulk-confirm")
		tb.submitPage(`[data-testid="bulk-confirm"] button[type=submit]`)
		tb.waitFor("#messages .message-success")
		tb.everyScheme("bulk-done")

		tb.open(views.PathAdminLog)
		tb.everyScheme("log")
		tb.open(views.PathAdminLog + "?action=deactivate")
		if got := tb.text(`[data-testid="log-total"]`); got != "3 entries" {
			t.Errorf("deactivations logged: %q", got)
		}
		tb.open(views.PathAdmin)
		tb.everyScheme("dashboard")

		// With JavaScript one box selects the whole page; without, it is not there.
		tb.open(views.PathAdminUsers + "?q=user00001")
		if !js {
			if tb.count(`[data-select-all]:not([hidden])`) != 0 {
				t.Error("the select-all box shows without JavaScript")
			}
			return
		}
		tb.ready(`[data-select-all]`)
		tb.do(chromedp.Click(chromedp.CSS(`[data-select-all]`)))
		tb.clickThrough(`[data-testid="bulk-submit"]`)
		if got := tb.text(`[data-testid="bulk-confirm"] h1`); got != "Deactivate 10 users?" {
			t.Errorf("after selecting all, the confirmation asks %q", got)
		}
	})
}

func TestBrowserAdminUserPage(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		site := newAdminSite(t, b)
		tb := b.tab(js)
		tb.loginAs("root", goodPassword)
		user := views.AdminUserPath(site.alice)
		tb.open(user)
		tb.everyScheme("user")
		tb.fill("email", "not an address")
		tb.submitInvalid("admin-user-form", "#id_email_error")
		tb.everyScheme("user-errors")
		tb.open(user)
		tb.fill("first_name", "Alicia")
		tb.click(`[data-testid="admin-user-form"] button[type=submit]`, "#messages .message-success")
		tb.fill("new_password1", "sunshine")
		tb.fill("new_password2", "sunshine")
		tb.submitInvalid("admin-password-form", "#id_new_password1_error")
		tb.everyScheme("user-password-errors")
		tb.open(user)
		tb.click(`[data-testid="end-sessions"] button`, `[data-testid="no-sessions"]`)
		if js {
			tb.waitFocus("sessions-heading", "after ending the sessions")
		}
		tb.everyScheme("user-sessions-ended")

		// Deleting: the confirmation says what goes with them.
		tb.open(user + views.AdminDelete)
		if got := tb.text(`[data-testid="loss-articles"]`); got != "3 articles" {
			t.Errorf("the confirmation says %q", got)
		}
		tb.everyScheme("user-delete")
		tb.submitPage(`[data-testid="user-delete-confirm"] button[type=submit]`)
		tb.waitFor("#messages .message-success")
	})
}

func TestBrowserAdminArticles(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		site := newAdminSite(t, b)
		tb := b.tab(js)
		tb.loginAs("root", goodPassword)
		tb.open(views.PathAdminArticles)
		tb.everyScheme("articles")
		tb.open(views.AdminArticlePath(site.article))
		tb.everyScheme("article")
		tb.open(views.PathAdminArticles)
		row := "#" + views.AdminArticleRowID(site.article)
		if js {
			tb.click(row+` [data-testid="admin-article-delete"]`, `[data-testid="article-deleted"]`)
			tb.waitFor("#messages .message-success")
		} else {
			tb.clickThrough(row + ` [data-testid="admin-article-delete"]`)
			tb.everyScheme("article-delete-confirm")
			tb.submitPage(`[data-testid="admin-article-delete-confirm"] button[type=submit]`)
			tb.waitFor("#messages .message-success")
		}
		tb.everyScheme("article-deleted")
	})
}

// TestBrowserAdminStaff checks what a staff member who is no superuser sees:
// no flags, no deletion, other staff read-only; and a normal user's 403.
func TestBrowserAdminStaff(t *testing.T) {
	b := newBrowser(t)
	b.app.createStaff("staff", false)
	other := b.app.createStaff("colleague", false)
	alice := b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	tb.loginAs("staff", goodPassword)
	tb.open(views.AdminUserPath(alice.ID))
	if tb.count(`[name="is_staff"]`)+tb.count(`[data-testid="delete-user"]`) != 0 {
		t.Error("staff are shown the flags or deletion")
	}
	tb.everyScheme("staff-user")
	tb.open(views.AdminUserPath(other.ID))
	tb.everyScheme("staff-colleague-read-only")

	normal := b.tab(false)
	normal.loginAs("alice", goodPassword)
	if status := normal.open(views.PathAdmin); status != 403 {
		t.Errorf("a normal user opened the admin: %d", status)
	}
	normal.everyScheme("not-staff-403")
}
