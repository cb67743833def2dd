//go:build browser

package handlers_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// focused is the id of the element that has the focus.
func (tb *tab) focused() string {
	tb.t.Helper()
	return run(tb, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
}

// waitFocus waits until the element with this id has the focus, and fails
// the test if it never does.
func (tb *tab) waitFocus(id, why string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === `+jsString(id), chromedp.WithPollingTimeout(3*time.Second))); err != nil {
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
