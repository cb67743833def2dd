//go:build browser

package handlers_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axe is axe-core 4.14.1 from npm (MPL-2.0, licence in testdata/axe-LICENSE).
//
//go:embed testdata/axe-4.14.1.min.js
var axeSource string

// screenshotDir collects every screenshot of a run; TestMain prints it.
// screenshotDir is this run's folder of screenshots: a new one each run,
// so that runs side by side (two worktrees, CI beside a developer) neither
// mix their pictures nor remove each other's folder mid-run.
var screenshotDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-screenshots-")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	screenshotDir = dir
	code := m.Run()
	fmt.Println("screenshots:", screenshotDir)
	os.Exit(code)
}

// browser is one headless Chromium driving a fresh Gatehouse.
type browser struct {
	t   *testing.T
	app *testApp
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserOn(t, newTestApp(t))
}

// newBrowserOn is newBrowser driving app.
func newBrowserOn(t *testing.T, app *testApp) *browser {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		t.Fatal("no chromium: apt-get install -y chromium, or set CHROMIUM")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	// A bound on the whole test, against a hang: far past what a loaded
	// machine takes.
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, app: app, ctx: ctx}
}

// tab is a page in a browser context of its own (its own cookies), with
// JavaScript on or off. It records console errors, uncaught exceptions and
// CSP violations, and the test fails if any occur.
type tab struct {
	t        *testing.T
	b        *browser
	ctx      context.Context
	js       bool
	mu       sync.Mutex
	problems []string
}

// tab opens a tab as a new visitor, with JavaScript on or off.
func (b *browser) tab(js bool) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	tb := &tab{t: b.t, b: b, ctx: ctx, js: js}
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatal(err)
	}
	tb.watch()
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		b.t.Fatal(err)
	}
	if !js {
		tb.setScripts(false)
	}
	// The site's own confirmation dialog is answered Yes, unless a test
	// keeps it open to look at it.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: acceptDialogsJS}); err != nil {
		b.t.Fatal(err)
	}
	tb.do(chromedp.EmulateViewport(1280, 900))
	b.t.Cleanup(func() {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, problem := range tb.problems {
			b.t.Errorf("browser (js=%v): %s", js, problem)
		}
	})
	return tb
}

// acceptDialogsJS presses Yes in the site's confirmation dialog as it opens,
// unless window.gatehouseKeepDialogs is set, and notes each question asked
// in window.gatehouseAsked.
const acceptDialogsJS = `new MutationObserver((records) => {
	for (const record of records) {
		const dialog = record.target;
		if (dialog.matches("dialog[data-confirm][open]")) {
			(window.gatehouseAsked = window.gatehouseAsked || []).push(dialog.querySelector("#confirm-question").textContent);
			if (!window.gatehouseKeepDialogs) {
				dialog.querySelector('[value="yes"]').click();
			}
		}
	}
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["open"] });`

// watch records what must not happen, a browser's own dialog among them
// (the site asks in its page: confirm() is not its look), and accepts such a
// dialog so the test goes on.
func (tb *tab) watch() {
	record := func(format string, args ...any) {
		tb.mu.Lock()
		tb.problems = append(tb.problems, fmt.Sprintf(format, args...))
		tb.mu.Unlock()
	}
	consoles := chromedp.Events(tb.ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(tb.ctx, runtime.ExceptionThrown)
	entries := chromedp.Events(tb.ctx, cdplog.EntryAdded)
	dialogs := chromedp.Events(tb.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range consoles {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, arg := range ev.Args {
					args = append(args, string(arg.Value)+arg.Description)
				}
				record("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			record("uncaught exception: %s %v", ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception)
		}
	}()
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			entry := ev.Entry
			// A 4xx answer the test asked for (a 403 page, a 422 form) is
			// logged as a failed load; only failed assets are problems.
			if entry.Source == cdplog.EntrySourceNetwork && !strings.Contains(entry.URL, "/assets/") {
				continue
			}
			if entry.Level == cdplog.EntryLevelError || strings.Contains(entry.Text, "Content Security Policy") {
				record("%s %s: %s %s", entry.Source, entry.Level, entry.Text, entry.URL)
			}
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			record("the browser's own %s dialog opened: %q", ev.Type, ev.Message)
			chromedp.Call(tb.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
}

// setScripts turns the page's JavaScript on or off.
func (tb *tab) setScripts(on bool) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

func run[T any](tb *tab, action chromedp.Action[T]) T {
	tb.t.Helper()
	value, err := chromedp.Run(tb.ctx, action)
	if err != nil {
		tb.t.Fatal(err)
	}
	return value
}

// Every wait of a browser test is for an event in the page, the few kinds
// that tests once waited for with sleeps and short timeouts (and that a
// loaded machine made late): the page loaded and htmx quiet, the autofocus
// landed, a typed value in its field, an element there, the focus moved.
// The harness's actions wait for the first ones themselves.

// waitBudget bounds each wait: long enough that only an event that never
// comes, not a slow machine, runs it out. It is no timing assertion.
const waitBudget = 30 * time.Second

// settledJS is true once the page has loaded, htmx has no request, swap or
// settle under way, and the autofocus field, if one is shown, has received
// the focus (Chromium may give it just after the load event: keys typed
// before would be lost).
const settledJS = `(() => {
	if (document.readyState !== "complete") return false;
	if (document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")) return false;
	const auto = document.querySelector("[autofocus]");
	return !auto || auto.getClientRects().length === 0 || document.activeElement !== document.body;
})()`

// eventually reports whether the JavaScript expression becomes true within
// waitBudget. It polls from Go: the page's own timers (chromedp.Poll's)
// never fire while its JavaScript is off.
func (tb *tab) eventually(expression string) bool {
	tb.t.Helper()
	for deadline := time.Now().Add(waitBudget); ; time.Sleep(10 * time.Millisecond) {
		if run(tb, chromedp.Evaluate[bool](expression)) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// until waits until the JavaScript expression is true, and fails the test,
// saying what it waited for, if it does not become so.
func (tb *tab) until(what, expression string) {
	tb.t.Helper()
	if !tb.eventually(expression) {
		tb.t.Fatalf("waited %v for %s (%s)", waitBudget, what, expression)
	}
}

// settle waits until the page has settled (settledJS).
func (tb *tab) settle() {
	tb.t.Helper()
	tb.until("the page to settle", settledJS)
}

// ready waits until the page has settled and the element the CSS selector
// finds is shown and enabled, to be clicked or typed into.
func (tb *tab) ready(selector string) {
	tb.t.Helper()
	tb.until(selector+" to be ready", fmt.Sprintf(`%s && (() => { const e = document.querySelector(%q); return !!e && e.getClientRects().length > 0 && !e.disabled; })()`, settledJS, selector))
}

// press clicks the element the CSS selector finds, once it is ready.
func (tb *tab) press(selector string) {
	tb.t.Helper()
	tb.ready(selector)
	tb.do(chromedp.Click(chromedp.CSS(selector)))
}

// open loads path, waits for it to settle and returns the status of the document.
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	res, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(tb.b.app.url+path))
	if err != nil {
		tb.t.Fatalf("open %s: %v", path, err)
	}
	tb.settle()
	return res.Status
}

// path is the path (and query) of the page shown.
func (tb *tab) path() string {
	tb.t.Helper()
	return strings.TrimPrefix(run(tb, chromedp.Location()), tb.b.app.url)
}

// text is the trimmed text of the first element the CSS selector finds.
func (tb *tab) text(selector string) string {
	tb.t.Helper()
	return strings.TrimSpace(run(tb, chromedp.TextContent(chromedp.CSS(selector))))
}

// count is how many elements the CSS selector finds.
func (tb *tab) count(selector string) int {
	tb.t.Helper()
	return run(tb, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", selector)))
}

// fill types value into the field named name, replacing what it held.
func (tb *tab) fill(name, value string) {
	tb.t.Helper()
	selector := fmt.Sprintf("[name=%q]", name)
	tb.ready(selector)
	// Emptied as a user's keys would, with an input event: a script that
	// watches the field sees it emptied even when nothing is typed after.
	tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf("(e => { e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); })(document.querySelector(%q))", selector)),
		chromedp.SendKeys(chromedp.CSS(selector), value))
	// Waiting for the value waits until every key reached the page: a click
	// sent right after SendKeys could overtake the last keys (seen with
	// Chromium's autocomplete suggestions for an address typed before).
	if !tb.eventually(fmt.Sprintf("document.querySelector(%q).value === %s", selector, jsString(value))) {
		got := run(tb, chromedp.Evaluate[string](fmt.Sprintf("document.querySelector(%q).value", selector)))
		tb.t.Fatalf("typed %q into %s, it holds %q", value, name, got)
	}
}

// check ticks the checkbox named name.
func (tb *tab) check(name string) {
	tb.t.Helper()
	tb.press(fmt.Sprintf("[name=%q]", name))
}

// submitPage clicks the button and waits for the page it leads to. Without
// JavaScript the way there must be a 303 (Post/Redirect/Get) unless the
// answer is an error; with it, htmx follows HX-Redirect. It returns the
// status of the page shown.
func (tb *tab) submitPage(button string) int64 {
	tb.t.Helper()
	status, chain := tb.clickThroughChain(button)
	if tb.js || status >= 400 || slices.Contains(chain, "303") {
		return status
	}
	tb.t.Errorf("submitting %s led to %s without a 303 (%s)", button, tb.path(), strings.Join(chain, " → "))
	return status
}

// clickThrough clicks a link or button and waits for the page it leads to,
// returning its status.
func (tb *tab) clickThrough(selector string) int64 {
	tb.t.Helper()
	status, _ := tb.clickThroughChain(selector)
	return status
}

// clickThroughChain clicks a link or button, waits for the page it leads to
// and returns its status and the document requests on the way there, in
// order: "POST /path/", "303", "GET /path/". chromedp.Listen sees each
// event before the navigation's answer, so the chain is whole without a wait.
func (tb *tab) clickThroughChain(selector string) (int64, []string) {
	tb.t.Helper()
	tb.ready(selector)
	listening, stop := context.WithCancel(tb.ctx)
	defer stop()
	var mu sync.Mutex
	var chain []string
	err := chromedp.Listen(listening, func(ev any) {
		sent, ok := ev.(*network.EventRequestWillBeSent)
		if !ok || sent.Type != network.ResourceTypeDocument {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if sent.RedirectResponse != nil {
			chain = append(chain, fmt.Sprint(sent.RedirectResponse.Status))
		}
		chain = append(chain, sent.Request.Method+" "+strings.TrimPrefix(sent.Request.URL, tb.b.app.url))
	})
	if err != nil {
		tb.t.Fatal(err)
	}
	res, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(selector)))
	if err != nil {
		tb.t.Fatalf("click %s: %v", selector, err)
	}
	stop()
	tb.settle()
	mu.Lock()
	defer mu.Unlock()
	return res.Status, slices.Clone(chain)
}

// submitInPlace clicks the button of an htmx form and waits until selector
// appears, then checks that no page load happened (a marker set on window
// before survives) and that focus moved to the first invalid field.
func (tb *tab) submitInPlace(button, appears string) {
	tb.t.Helper()
	tb.ready(button)
	tb.do(chromedp.Evaluate[chromedp.Void](`window.gatehouseMarker = "still here"`),
		chromedp.Click(chromedp.CSS(button)))
	tb.waitFor(appears)
	tb.settle()
	if marker := run(tb, chromedp.Evaluate[string](`String(window.gatehouseMarker)`)); marker != "still here" {
		tb.t.Fatalf("the page reloaded instead of swapping in place (marker %q)", marker)
	}
	if !tb.eventually(focusedOnFirstInvalid) {
		tb.t.Errorf("focus is not on the first invalid field after the swap")
	}
}

// focusedOnFirstInvalid is true when focus is on the form's first invalid
// field, or no field is invalid (an error for the whole form).
const focusedOnFirstInvalid = `(() => {
	const first = document.querySelector('form [aria-invalid="true"]');
	return !first || document.activeElement === first;
})()`

// waitFor waits until the CSS selector finds a visible element, one that
// htmx swaps in too.
func (tb *tab) waitFor(selector string) {
	tb.t.Helper()
	tb.until(selector+" to appear", fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.getClientRects().length > 0; })()`, selector))
}

// loginAs logs in through the login form.
func (tb *tab) loginAs(username, pass string) {
	tb.t.Helper()
	tb.open("/accounts/login/")
	tb.fill("username", username)
	tb.fill("password", pass)
	tb.submitPage(`[data-testid="login-form"] button[type=submit]`)
	if got := tb.text(`[data-testid="username"]`); got != username {
		tb.t.Fatalf("after logging in as %s the header greets %q", username, got)
	}
}

// sessionCookie is the tab's sessionid cookie, or nil.
func (tb *tab) sessionCookie() *network.Cookie {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		tb.t.Fatal(err)
	}
	for _, cookie := range res.Cookies {
		if cookie.Name == "sessionid" {
			return cookie
		}
	}
	return nil
}

// both runs a browser test with JavaScript on and with it off.
func bothBrowsers(t *testing.T, test func(t *testing.T, b *browser, js bool)) {
	for _, js := range []bool{true, false} {
		name := "js"
		if !js {
			name = "nojs"
		}
		t.Run(name, func(t *testing.T) { test(t, newBrowser(t), js) })
	}
}

// submitForm submits the form with this data-testid: in place with htmx when
// it has errors (waiting for errorSelector), or as a page otherwise.
func (tb *tab) submitInvalid(formTestID, errorSelector string) {
	tb.t.Helper()
	button := fmt.Sprintf(`[data-testid=%q] button[type=submit]`, formTestID)
	if tb.js {
		tb.submitInPlace(button, errorSelector)
		return
	}
	if status := tb.submitPage(button); status != 422 {
		tb.t.Fatalf("an invalid %s without JavaScript answered %d, want 422", formTestID, status)
	}
	tb.waitFor(errorSelector)
	if !run(tb, chromedp.Evaluate[bool](focusedOnFirstInvalid)) {
		tb.t.Errorf("focus is not on the first invalid field of the reloaded %s", formTestID)
	}
}

// submitValid submits the form with this data-testid and waits for the page it leads to.
func (tb *tab) submitValid(formTestID string) int64 {
	tb.t.Helper()
	return tb.submitPage(fmt.Sprintf(`[data-testid=%q] button[type=submit]`, formTestID))
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// look saves screenshots of the page at 1280 px and 390 px wide and checks it
// with axe: no violation of impact serious or critical.
func (tb *tab) look(state string) {
	tb.t.Helper()
	name := unsafeName.ReplaceAllString(strings.ToLower(tb.t.Name()+"-"+state), "-")
	for _, width := range []int64{1280, 390} {
		tb.do(chromedp.EmulateViewport(width, 900))
		png := run(tb, chromedp.FullScreenshot(100))
		file := filepath.Join(screenshotDir, fmt.Sprintf("%s-%d.png", name, width))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
	tb.do(chromedp.EmulateViewport(1280, 900))
	tb.axe(state)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// axe runs axe-core on the page and fails on serious or critical violations.
// Without JavaScript, scripts are allowed for the check alone: the page's own
// scripts, skipped when it loaded, stay skipped.
func (tb *tab) axe(state string) {
	tb.t.Helper()
	if !tb.js {
		tb.setScripts(true)
		defer tb.setScripts(false)
	}
	if !run(tb, chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		tb.do(chromedp.Evaluate[chromedp.Void](axeSource))
	}
	raw := run(tb, chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify(r.violations.concat(r.passes.length ? [] : [{id: "no-rules-passed", impact: "critical"}])))`, chromedp.EvalAwaitPromise))
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		tb.t.Fatal(err)
	}
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			var targets []string
			for _, node := range v.Nodes {
				targets = append(targets, fmt.Sprint(node.Target...))
			}
			tb.t.Errorf("axe (%s, js=%v): %s %s: %s at %s", state, tb.js, v.Impact, v.ID, v.Help, strings.Join(targets, ", "))
		} else {
			tb.t.Logf("axe (%s, js=%v): %s %s: %s", state, tb.js, v.Impact, v.ID, v.Help)
		}
	}
}
