//go:build browser

package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserCatchesCSPViolations proves the harness notices what the CSP
// blocks: an inline script the page did not have.
func TestBrowserCatchesCSPViolations(t *testing.T) {
	b := newBrowser(t)
	tb := b.tab(true)
	tb.open("/articles/")
	tb.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.createElement("script");
		s.textContent = "window.inlineRan = true";
		document.body.appendChild(s);
	})()`))
	caught := false
	for deadline := time.Now().Add(waitBudget); !caught && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tb.mu.Lock()
		caught = len(tb.problems) > 0
		tb.mu.Unlock()
	}
	tb.mu.Lock()
	tb.problems = nil
	tb.mu.Unlock()
	if !caught {
		t.Fatal("an inline script ran or was blocked unnoticed")
	}
	if run(tb, chromedp.Evaluate[bool](`window.inlineRan === true`)) {
		t.Fatal("the CSP let an inline script run")
	}
}

func TestBrowserSignup(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("taken", goodPassword)
		tb := b.tab(js)
		tb.open("/articles/")
		tb.look("index-anonymous")
		tb.open("/accounts/signup/")
		tb.look("signup")

		tb.fill("username", "taken")
		tb.fill("password1", "short")
		tb.fill("password2", "shorter")
		tb.submitInvalid("signup-form", "#id_username_error")
		if got := tb.text("#id_username_error"); got != "A user with that username already exists." {
			t.Errorf("username error %q", got)
		}
		if got := tb.text("#id_password2_error"); got != "The two password fields didn’t match." {
			t.Errorf("password error %q", got)
		}
		tb.look("signup-errors")

		tb.fill("password1", "password")
		tb.fill("password2", "password")
		// The validators' complaints stand beside the password, not its confirmation.
		tb.submitInvalid("signup-form", "#id_password1_error")
		if js {
			// Swapped once the mismatch, fixed, is gone.
			tb.eventually(`!document.getElementById("id_password2_error")`)
		}
		if got := tb.text("#id_password1_error"); !strings.Contains(got, "This password is too common.") {
			t.Errorf("password error %q", got)
		}

		tb.fill("username", "newcomer")
		tb.fill("password1", goodPassword)
		tb.fill("password2", goodPassword)
		tb.submitValid("signup-form")
		if got := tb.path(); got != "/articles/" {
			t.Fatalf("after signup the browser is at %s", got)
		}
		if got := tb.text(`[data-testid="username"]`); got != "newcomer" {
			t.Fatalf("header greets %q", got)
		}
		if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "Welcome, newcomer") {
			t.Errorf("messages read %q", got)
		}
		tb.look("index-after-signup")
	})
}

func TestBrowserLoginAndLogout(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.open("/accounts/login/")
		tb.look("login")

		tb.fill("username", "alice")
		tb.fill("password", "wrong password")
		tb.submitInvalid("login-form", ".form-errors")
		if got := tb.text(".form-errors"); !strings.HasPrefix(got, "Please enter a correct username and password.") {
			t.Errorf("login error %q", got)
		}
		if value := run(tb, chromedp.Value(chromedp.CSS("#id_username"))); value != "alice" {
			t.Errorf("username not kept: %q", value)
		}
		tb.look("login-error")

		// Without "remember me": a session cookie, gone with the browser.
		tb.fill("password", goodPassword)
		tb.submitValid("login-form")
		if got := tb.text(`[data-testid="username"]`); got != "alice" {
			t.Fatalf("header greets %q", got)
		}
		if cookie := tb.sessionCookie(); cookie == nil || !cookie.Session || !cookie.HTTPOnly {
			t.Fatalf("sessionid without remember: %+v", cookie)
		}
		tb.look("index-logged-in")

		tb.submitPage(`form[action="/accounts/logout/"] button`)
		if got := tb.count(`[data-testid="username"]`); got != 0 {
			t.Fatal("still greeted after logout")
		}
		if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "You have been logged out.") {
			t.Errorf("messages after logout %q", got)
		}
		tb.look("logged-out")

		// With "remember me": a cookie that lasts two weeks.
		tb.open("/accounts/login/")
		tb.fill("username", "alice")
		tb.fill("password", goodPassword)
		tb.check("remember")
		tb.submitValid("login-form")
		cookie := tb.sessionCookie()
		if cookie == nil || cookie.Session {
			t.Fatalf("sessionid with remember: %+v", cookie)
		}
		if life := time.Until(time.Unix(int64(cookie.Expires), 0)); life < 13*24*time.Hour || life > 15*24*time.Hour {
			t.Errorf("remembered cookie lives %v, want two weeks", life)
		}
	})
}

func TestBrowserLoginRequiredReturnsToNext(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.open("/accounts/password/")
		if got := tb.path(); got != "/accounts/login/?next=%2Faccounts%2Fpassword%2F" {
			t.Fatalf("a login-only page led to %s", got)
		}
		tb.fill("username", "alice")
		tb.fill("password", goodPassword)
		tb.submitValid("login-form")
		if got := tb.path(); got != "/accounts/password/" {
			t.Fatalf("after login the browser is at %s, want the page it asked for", got)
		}
	})
}

func TestBrowserKeyboardLogin(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	tb.open("/accounts/login/")
	// The username field has focus on arrival (autofocus, which Chromium may
	// apply just after the load event: keys sent before it would be lost);
	// Tab moves to the password and Enter submits, with no mouse.
	tb.until("the username field's autofocus", `document.activeElement?.name === "username"`)
	tb.do(chromedp.KeyEvent("alice"), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(goodPassword))
	submitted, cancel := context.WithTimeout(tb.ctx, waitBudget)
	defer cancel()
	if _, err := chromedp.RunResponse(submitted, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatalf("Enter in the password field: %v", err)
	}
	if got := tb.text(`[data-testid="username"]`); got != "alice" {
		t.Fatalf("a keyboard login left the header greeting %q", got)
	}
	// The skip link is the first stop of the Tab key.
	tb.do(chromedp.KeyEvent(kb.Tab))
	if got := run(tb, chromedp.Evaluate[string](`document.activeElement.textContent`)); got != "Skip to content" {
		t.Errorf("first Tab stop is %q", got)
	}
	tb.look("skip-link-focused")
}

func TestBrowserProfile(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		tb.open("/accounts/update/")
		tb.look("profile")

		tb.fill("email", "not an email")
		tb.fill("first_name", "Alice")
		tb.submitInvalid("profile-form", "#id_email_error")
		if got := tb.text("#id_email_error"); got != "Enter a valid email address." {
			t.Errorf("email error %q", got)
		}
		tb.look("profile-errors")

		tb.fill("email", "alice@example.com")
		tb.fill("current_password", goodPassword) // a new address takes the password
		tb.fill("last_name", "Liddell")
		if js {
			// Saved in place: nothing else on the page changes.
			tb.submitInPlace(`[data-testid="profile-form"] button[type=submit]`, `#messages .message-success`)
			if got := tb.text(`#messages`); !strings.Contains(got, "Your profile was saved.") {
				t.Errorf("messages %q", got)
			}
		} else {
			tb.submitValid("profile-form")
			if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "Your profile was saved.") {
				t.Errorf("messages %q", got)
			}
		}
		tb.look("profile-saved")
		u := b.app.user("alice")
		if u.Email != "alice@example.com" || u.FirstName != "Alice" || u.LastName != "Liddell" {
			t.Fatalf("saved profile: %+v", u)
		}
	})
}

func TestBrowserPasswordChange(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		other := b.tab(true)
		other.loginAs("alice", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		tb.open("/accounts/password/")
		tb.look("password")

		tb.fill("old_password", "not my password")
		tb.fill("new_password1", "a brand new passphrase")
		tb.fill("new_password2", "a brand new passphrase")
		tb.submitInvalid("password-form", "#id_old_password_error")
		tb.look("password-errors")

		tb.fill("old_password", goodPassword)
		tb.fill("new_password1", "a brand new passphrase")
		tb.fill("new_password2", "a brand new passphrase")
		tb.submitValid("password-form")
		if got := tb.text(`[data-testid="username"]`); got != "alice" {
			t.Fatal("changing the password logged this browser out")
		}
		if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "Your password was changed.") {
			t.Errorf("messages %q", got)
		}
		other.open("/articles/")
		if other.count(`[data-testid="username"]`) != 0 {
			t.Fatal("the other browser is still logged in after the password change")
		}
	})
}

func TestBrowserAccountDelete(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		alice := b.app.createUser("alice", goodPassword)
		b.app.createArticle(alice, "Soon gone", "x")
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)
		// From the danger zone at the bottom of the settings; the password confirms.
		tb.open("/accounts/update/")
		tb.clickThrough(`[data-testid="danger-zone"] a[href="/accounts/delete/"]`)
		if got := tb.text("h1"); got != "Delete your account" {
			t.Fatalf("the danger zone led to %q", got)
		}
		tb.look("account-delete-confirm")
		tb.fill("password", "not my password")
		tb.submitInvalid("account-delete-form", "#id_password_error")
		tb.look("account-delete-wrong-password")
		tb.fill("password", goodPassword)
		tb.submitValid("account-delete-form")
		if tb.count(`[data-testid="username"]`) != 0 {
			t.Fatal("still logged in after deleting the account")
		}
		if got := tb.text(`[data-testid="messages"]`); !strings.Contains(got, "Your account was deleted.") {
			t.Errorf("messages %q", got)
		}
		tb.look("account-deleted")
		if b.app.user("alice") != nil || b.app.count("SELECT COUNT(*) FROM articles") != 0 {
			t.Fatal("the account or its articles survived")
		}
	})
}

func TestBrowserArticles(t *testing.T) {
	bothBrowsers(t, func(t *testing.T, b *browser, js bool) {
		b.app.createUser("alice", goodPassword)
		b.app.createUser("bob", goodPassword)
		tb := b.tab(js)
		tb.loginAs("alice", goodPassword)

		tb.open("/articles/create/")
		tb.look("article-create")
		tb.fill("title", "")
		tb.fill("content", "Some words")
		tb.submitInvalid("article-form", "#id_title_error")
		tb.look("article-create-errors")

		tb.fill("title", "My <first> article")
		tb.fill("content", "Line one\nLine two")
		tb.submitValid("article-form")
		detail := tb.path()
		if !strings.HasPrefix(detail, "/articles/") || tb.text(`[data-testid="article-title"]`) != "My <first> article" {
			t.Fatalf("after publishing, the browser is at %s showing %q", detail, tb.text("h1"))
		}
		if got := tb.text(`[data-testid="article-content"]`); got != "Line one\nLine two" {
			t.Errorf("content reads %q", got)
		}
		tb.look("article-detail")

		tb.clickThrough(`[data-testid="edit-link"]`)
		tb.look("article-edit")
		tb.fill("title", "My revised article")
		tb.fill("content", "")
		tb.submitInvalid("article-form", "#id_content_error")
		tb.fill("content", "Line one\nLine two, revised")
		tb.submitValid("article-form")
		if got := tb.text(`[data-testid="article-title"]`); got != "My revised article" {
			t.Fatalf("after editing the title reads %q", got)
		}

		// Another user sees no edit or delete controls, and is refused the edit page.
		bob := b.tab(js)
		bob.loginAs("bob", goodPassword)
		bob.open(detail)
		if bob.count(`[data-testid="edit-link"]`)+bob.count(`[data-testid="article-delete"]`) != 0 {
			t.Error("bob sees alice's edit or delete controls")
		}
		if status := bob.open(detail + "update/"); status != 403 {
			t.Errorf("bob opened the edit page: %d", status)
		}
		bob.look("article-edit-forbidden")

		// A second article, and the index with both.
		tb.open("/articles/create/")
		tb.fill("title", "Second article")
		tb.fill("content", "More words")
		tb.submitValid("article-form")
		tb.open("/articles/")
		tb.look("article-index")

		entry := `[data-testid="article"]:first-child`
		if js {
			// Deleted in place from the index, after hx-confirm.
			tb.ready(entry + ` [data-testid="article-delete"]`)
			tb.do(chromedp.Evaluate[chromedp.Void](`window.gatehouseMarker = "still here"`),
				chromedp.Click(chromedp.CSS(entry+` [data-testid="article-delete"]`)))
			// The entry swaps for the message, where the user pressed Delete.
			tb.waitFor(`[data-testid="article-deleted"]`)
			if marker := run(tb, chromedp.Evaluate[string](`String(window.gatehouseMarker)`)); marker != "still here" {
				t.Fatal("deleting from the index reloaded the page")
			}
		} else {
			tb.clickThrough(entry + ` [data-testid="article-delete"]`)
			tb.look("article-delete-confirm")
			tb.submitValid("article-delete-confirm")
		}
		if got := tb.count(`[data-testid="article"]`); got != 1 {
			t.Fatalf("%d entries on the index after deleting one of two", got)
		}
		message := `#messages`
		if js {
			message = `[data-testid="article-deleted"]`
		}
		if got := tb.text(message); !strings.Contains(got, "“Second article” was deleted.") {
			t.Errorf("messages %q", got)
		}
		tb.look("article-deleted")

		// Deleting from the detail page leads to the index.
		tb.open(detail)
		if js {
			tb.submitPage(`[data-testid="article-delete"]`)
		} else {
			tb.clickThrough(`[data-testid="article-delete"]`)
			tb.submitValid("article-delete-confirm")
		}
		if got := tb.path(); got != "/articles/" {
			t.Fatalf("after deleting from the detail page the browser is at %s", got)
		}
		if b.app.count("SELECT COUNT(*) FROM articles") != 0 {
			t.Fatal("articles survived")
		}
	})
}

func TestBrowserArticlePaging(t *testing.T) {
	b := newBrowser(t)
	alice := b.app.createUser("alice", goodPassword)
	b.app.seedArticles(alice, 45)
	tb := b.tab(true)
	tb.open("/articles/?page=2")
	if got := tb.text(`[data-testid="pagination"] [aria-current="page"]`); got != "Page 2 of 3" {
		t.Fatalf("pagination reads %q", got)
	}
	tb.look("article-index-page-2")
	tb.clickThrough(`a[rel="next"]`)
	if got := tb.count(`[data-testid="article"]`); got != 5 {
		t.Fatalf("last page shows %d articles", got)
	}
}

func TestBrowserFlashDismiss(t *testing.T) {
	b := newBrowser(t)
	b.app.createUser("alice", goodPassword)
	tb := b.tab(true)
	tb.loginAs("alice", goodPassword)
	if tb.count(`#messages .message`) != 1 {
		t.Fatal("no message after login")
	}
	tb.ready(`#messages [data-dismiss]`)
	tb.do(chromedp.Click(chromedp.CSS(`#messages [data-dismiss]`)))
	if tb.count(`#messages .message`) != 0 {
		t.Fatal("the message stayed after dismissing it")
	}
}

func TestBrowserErrorPages(t *testing.T) {
	b := newBrowser(t)
	tb := b.tab(true)
	for _, tt := range []struct {
		path   string
		status int64
	}{
		{"/no/such/page/", 404},
		{"/articles/12345/", 404},
		{"/accounts/email/resend/", 405},
	} {
		if status := tb.open(tt.path); status != tt.status {
			t.Errorf("%s: %d, want %d", tt.path, status, tt.status)
		}
		if got := tb.text(`[data-testid="error"] .status`); got != fmt.Sprint(tt.status) {
			t.Errorf("%s shows status %q", tt.path, got)
		}
		tb.look(fmt.Sprintf("error-%d", tt.status))
	}
}
