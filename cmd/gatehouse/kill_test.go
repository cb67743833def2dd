package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gatehouse/models"
	"gatehouse/models/dbtest"
)

// instance is a gatehouse serve process on a loopback port.
type instance struct {
	t    *testing.T
	addr string
	db   string
	cmd  *exec.Cmd
	log  *os.File
}

// startInstance runs the binary on addr over the database at db and waits
// until it answers.
func startInstance(t *testing.T, addr, db string) *instance {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(t.TempDir(), "gatehouse.log"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, addr: addr, db: db, log: log}
	in.cmd = exec.Command(binary, "-addr", addr, "-db", db, "-access-log=false")
	in.cmd.Dir = t.TempDir()
	in.cmd.Env = append(os.Environ(), "GATEHOUSE_MAIL_DIR="+t.TempDir())
	in.cmd.Stdout, in.cmd.Stderr = log, log
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if in.cmd.ProcessState == nil {
			in.cmd.Process.Kill()
			in.cmd.Wait()
		}
		log.Close()
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/"); err == nil {
			res.Body.Close()
			return in
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance on %s did not start; its log: %s", addr, in.logText())
		}
	}
}

// Phases of TestKillOneInstanceUnderLoad: each lasts until this many writes or pages are done in it.
const (
	phaseWrites = 10
	phasePages  = 100
)

// waitUntil polls condition, which counts what the load has done, until it
// holds; it fails the test if it does not within a minute (the load stalled).
func waitUntil(t *testing.T, what string, condition func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !condition(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the load stalled: not yet %s after a minute", what)
		}
	}
}

func (in *instance) logText() string {
	data, _ := os.ReadFile(in.log.Name())
	return string(data)
}

// stop ends the process as an operator does (SIGTERM) and waits for it to
// exit: its output is then whole.
func (in *instance) stop() {
	in.t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		in.t.Fatal(err)
	}
	in.cmd.Wait()
}

// kill ends the process with SIGKILL: no shutdown, no goodbye to PostgreSQL.
func (in *instance) kill() {
	in.t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		in.t.Fatal(err)
	}
	in.cmd.Wait()
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var csrfField = regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`)

// browser is one logged-in user's cookie jar and CSRF token.
type browser struct {
	client *http.Client
	token  string
}

// logIn logs username in through the login form on addr, as a browser would.
func logIn(t *testing.T, addr, username string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	// Redirects are answers to check, not to follow.
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := client.Get("http://" + addr + "/accounts/login/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	res, err = client.PostForm("http://"+addr+"/accounts/login/", url.Values{"csrfmiddlewaretoken": {string(m[1])}, "username": {username}, "password": {goodPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login of %s: status %d", username, res.StatusCode)
	}
	b := &browser{client: client}
	for _, cookie := range jar.Cookies(&url.URL{Scheme: "http", Host: addr}) {
		if cookie.Name == "csrftoken" {
			b.token = cookie.Value
		}
	}
	return b
}

// tally counts what one instance answered during the load.
type tally struct {
	pages, writes   atomic.Int64
	serverErrors    atomic.Int64
	transportErrors atomic.Int64
	wrong           atomic.Int64 // answers that are not a logged-in page or a created article
	firstProblem    atomic.Pointer[string]
}

func (t *tally) problem(format string, args ...any) {
	p := fmt.Sprintf(format, args...)
	t.firstProblem.CompareAndSwap(nil, &p)
}

// TestKillOneInstanceUnderLoad runs the mixed load (index pages, 1 in 10
// requests writing an article) against two instances on one PostgreSQL
// database, kills one with SIGKILL mid-run and starts it again: every
// write either got its answer, and is in the database, or did not; the
// survivor answers every request, none with a 5xx; the restarted instance
// serves the same sessions, and both show the same newest article.
func TestKillOneInstanceUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := dbtest.Postgres(t)
	store, err := models.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const users = 4
	for i := range users {
		createUser(t, store.DB, fmt.Sprintf("user%d", i), goodPassword)
	}
	addrA, addrB := freeAddr(t), freeAddr(t)
	a := startInstance(t, addrA, dbURL)
	startInstance(t, addrB, dbURL)

	// Two browsers a user, one on each instance; the cookie of one logged
	// in on A also works on B, and the other way round.
	type worker struct {
		browser *browser
		addr    string
		tally   *tally
	}
	var onA, onB tally
	var workers []worker
	for i := range users {
		username := fmt.Sprintf("user%d", i)
		workers = append(workers,
			worker{logIn(t, addrB, username), addrA, &onA},
			worker{logIn(t, addrA, username), addrB, &onB})
	}

	var mu sync.Mutex
	acknowledged := map[string]bool{} // titles of the articles whose creation was answered
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w, wk := range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				base := "http://" + wk.addr
				var res *http.Response
				var err error
				title := ""
				if n%10 == 9 {
					title = fmt.Sprintf("worker %d, article %d", w, n)
					res, err = wk.browser.client.PostForm(base+"/articles/create/", url.Values{
						"csrfmiddlewaretoken": {wk.browser.token}, "title": {title}, "content": {"Written under load."},
					})
				} else {
					res, err = wk.browser.client.Get(base + "/articles/")
				}
				if err != nil {
					wk.tally.transportErrors.Add(1)
					wk.tally.problem("%v", err)
					time.Sleep(10 * time.Millisecond) // the instance is down: wait a little
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode >= 500:
					wk.tally.serverErrors.Add(1)
					wk.tally.problem("%s: status %d: %.200s", res.Request.URL, res.StatusCode, body)
				case title != "" && res.StatusCode == http.StatusSeeOther:
					wk.tally.writes.Add(1)
					mu.Lock()
					acknowledged[title] = true
					mu.Unlock()
				case title == "" && res.StatusCode == http.StatusOK && strings.Contains(string(body), `data-testid="username"`):
					wk.tally.pages.Add(1)
				default:
					wk.tally.wrong.Add(1)
					wk.tally.problem("%s: status %d, not logged in or refused: %.200s", res.Request.URL, res.StatusCode, body)
				}
			}
		})
	}

	// Each phase lasts until the load has done enough in it, not for a time.
	waitUntil(t, "A and B have written", func() bool { return onA.writes.Load() >= phaseWrites && onB.writes.Load() >= phaseWrites })
	writesBeforeKill := onA.writes.Load()
	a.kill()
	pagesOfBAtKill := onB.pages.Load()
	waitUntil(t, "B serves with A down", func() bool { return onB.pages.Load() >= pagesOfBAtKill+phasePages })
	pagesWhileDown := onB.pages.Load()
	a = startInstance(t, addrA, dbURL)
	pagesOfARestarted, writesOfARestarted := onA.pages.Load(), onA.writes.Load()
	waitUntil(t, "the restarted A serves and writes", func() bool {
		return onA.pages.Load() >= pagesOfARestarted+phasePages && onA.writes.Load() >= writesOfARestarted+phaseWrites
	})
	close(stop)
	wg.Wait()

	t.Logf("A: %d pages, %d writes (%d before the kill), %d transport errors, %d 5xx", onA.pages.Load(), onA.writes.Load(), writesBeforeKill, onA.transportErrors.Load(), onA.serverErrors.Load())
	t.Logf("B: %d pages (%d by the time A restarted), %d writes, %d transport errors, %d 5xx", onB.pages.Load(), pagesWhileDown, onB.writes.Load(), onB.transportErrors.Load(), onB.serverErrors.Load())
	if onB.serverErrors.Load() > 0 || onB.transportErrors.Load() > 0 {
		t.Errorf("the survivor failed %d requests with a 5xx and %d without an answer; first: %s",
			onB.serverErrors.Load(), onB.transportErrors.Load(), *onB.firstProblem.Load())
	}
	if onB.wrong.Load() > 0 {
		t.Errorf("the survivor answered %d requests wrongly; first: %s", onB.wrong.Load(), *onB.firstProblem.Load())
	}
	if onA.serverErrors.Load() > 0 || onA.wrong.Load() > 0 {
		t.Errorf("the killed instance answered %d requests with a 5xx and %d wrongly; first: %s", onA.serverErrors.Load(), onA.wrong.Load(), *onA.firstProblem.Load())
	}
	if writesBeforeKill == 0 || onA.pages.Load() <= pagesOfARestarted || onB.writes.Load() == 0 {
		t.Fatalf("the load did not run on both instances before and after the kill (A: %d writes before the kill, %d pages after the restart; B: %d writes); A's log: %s",
			writesBeforeKill, onA.pages.Load()-pagesOfARestarted, onB.writes.Load(), a.logText())
	}

	var stored []string
	if err := store.DB.NewSelect().Model((*models.Article)(nil)).Column("title").Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	inDB := map[string]int{}
	for _, title := range stored {
		inDB[title]++
	}
	for title := range acknowledged {
		if inDB[title] != 1 {
			t.Errorf("acknowledged article %q is in the database %d times", title, inDB[title])
		}
	}
	t.Logf("%d writes acknowledged, %d articles in the database", len(acknowledged), len(stored))

	// Both instances, the restarted one too, show the newest article.
	var newest string
	if err := store.DB.NewSelect().Model((*models.Article)(nil)).Column("title").OrderExpr("created_at DESC, id DESC").Limit(1).Scan(ctx, &newest); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{addrA, addrB} {
		res, err := workers[0].browser.client.Get("http://" + addr + "/articles/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), newest) {
			t.Errorf("%s does not show the newest article %q", addr, newest)
		}
	}
}
