//go:build browser

package handlers_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	for deadline := time.Now().Add(3 * time.Second); !caught && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
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
	for _, js := range []bool{true, false} {
		t.Run(map[bool]string{true: "js", false: "nojs"}[js], func(t *testing.T) {
			b := newBrowser(t)
			b.app.createUser("taken", goodPassword)
			tb := b.tab(js)
			tb.open("/articles/")
			tb.look("index-anonymous")
			tb.open("/accounts/signup/")
			tb.look("signup")

			tb.fill("username", "taken")
			tb.fill("password1", "short")
			tb.fill("password2", "shorter")
			if js {
				tb.submitInPlace(`[data-testid="signup-form"] button[type=submit]`, "#id_username_error")
			} else {
				if status := tb.submitPage(`[data-testid="signup-form"] button[type=submit]`); status != 422 {
					t.Fatalf("invalid signup without JS: status %d, want 422", status)
				}
			}
			if got := tb.text("#id_username_error"); got != "A user with that username already exists." {
				t.Errorf("username error %q", got)
			}
			if got := tb.text("#id_password2_error"); got == "" {
				t.Error("no password error")
			}
			tb.look("signup-errors")

			tb.fill("username", "newcomer")
			tb.fill("password1", goodPassword)
			tb.fill("password2", goodPassword)
			tb.submitPage(`[data-testid="signup-form"] button[type=submit]`)
			if got := tb.path(); got != "/articles/" {
				t.Fatalf("after signup the browser is at %s", got)
			}
			if got := tb.text(`[data-testid="username"]`); got != "newcomer" {
				t.Fatalf("header greets %q", got)
			}
			if got := tb.text(`[data-testid="messages"]`); got == "" {
				t.Error("no welcome message")
			}
			tb.look("index-after-signup")
		})
	}
}
