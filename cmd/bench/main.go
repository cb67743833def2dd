// Command bench loads a real Gatehouse with wrk, beside a Fiber hello-world as
// the machine's ceiling, and writes the figures into BENCHMARKS.md.
//
//	go tool -modfile=.ci/task.mod task bench   (or: go run ./cmd/bench)
//
// Each scenario runs wrk for BENCH_DURATION (default 10s) at 32 connections.
// To profile, BENCH_ONLY=b (or a list: BENCH_ONLY=m0,m1) runs the ceiling
// and those scenarios, on one server, and
// BENCH_CPUPROFILE=file has the server write a pprof CPU profile meanwhile
// (BENCH_MEMPROFILE=file: a heap profile when it stops);
// neither writes BENCHMARKS.md. BENCH_ONLY=pg runs the PostgreSQL part
// alone; pg1 or pg2 with one or two instances only, and pg1:m0,m1 those
// scenarios only (to profile one instance).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/password"
)

const (
	connections  = 32
	benchUser    = "bench"
	benchPass    = "bench marks the spot"
	startMarker  = "<!-- bench:start -->"
	endMarker    = "<!-- bench:end -->"
	resultsFile  = "BENCHMARKS.md"
	seedArticles = 100
	bigArticles  = 100_000
	// manyUsers log in for the many-users scenarios (m0, m1), whose wrk
	// script is manyScript.
	manyUsers  = 300
	manyScript = "cmd/bench/many.lua"
	// djangoMixed is Django 3.2 + gunicorn's rate on the mixed many-users
	// load on the machine of issue 11, as measured there; djangoPostgres
	// the same on PostgreSQL, as measured in issue 25.
	djangoMixed    = 400
	djangoPostgres = 530
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is one scenario's figures.
type result struct {
	key, name      string
	rps            float64
	p50, p99       time.Duration
	failed         int // non-2xx/3xx answers and socket errors
	peakRSSKiB     int
	peakAnonKiB    int           // the most RssAnon seen: the process's own memory, without the binary's pages mapped from the page cache
	cpuPerRequest  time.Duration // the server's CPU time (user and system) over the requests answered
	dbPerRequest   time.Duration // PostgreSQL's, the same way (its processes on this machine; 0 on SQLite)
	lockedMessages int
}

func run() error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed: apt-get install -y wrk")
	}
	duration := os.Getenv("BENCH_DURATION")
	if duration == "" {
		duration = "10s"
	}
	work, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	fmt.Println("building…")
	gatehouseBin, helloBin := filepath.Join(work, "gatehouse"), filepath.Join(work, "hello")
	for bin, pkg := range map[string]string{gatehouseBin: "./cmd/gatehouse", helloBin: "./cmd/bench/hello"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	b := &bench{work: work, duration: duration}

	// The ceiling: the same machine serving a string with Fiber alone.
	hello, err := b.start(helloBin, "")
	if err != nil {
		return err
	}
	ceiling, err := b.wrk(hello, "hello", "Fiber hello-world (ceiling)", scenario{path: "/"})
	hello.stop()
	if err != nil {
		return err
	}
	results := []result{ceiling}
	if only := os.Getenv("BENCH_ONLY"); strings.HasPrefix(only, "pg") {
		b.pgOnly = only
		pg, err := b.postgres(gatehouseBin)
		if err != nil {
			return err
		}
		for _, instances := range pgInstances(b.pgOnly) {
			for _, r := range pg.results[instances] {
				fmt.Printf("%d instance(s), %s: %.0f requests/s, p50 %s, p99 %s, %d failed, peak RSS %s, server CPU %s a request, PostgreSQL %s\n",
					instances, r.key, r.rps, ms(r.p50), ms(r.p99), r.failed, mib(r.peakRSSKiB), us(r.cpuPerRequest), us(r.dbPerRequest))
			}
		}
		return nil
	}

	db := filepath.Join(work, "gatehouse.db")
	if err := prepare(db, seedArticles); err != nil {
		return err
	}
	app, err := b.start(gatehouseBin, db)
	if err != nil {
		return err
	}
	defer func() { app.stop() }()
	session, csrf, err := login(app.url, benchUser)
	if err != nil {
		return err
	}
	// The many users log in only when their scenarios are to run.
	users := filepath.Join(work, "users.txt")
	loggedInMany := false
	logInMany := func() error {
		if loggedInMany {
			return nil
		}
		loggedInMany = true
		fmt.Printf("logging %d users in…\n", manyUsers)
		return loginMany(app.url, users)
	}
	loggedIn := "sessionid=" + session + "; csrftoken=" + csrf
	// A login posts a visitor's token: the logged-in one is bound to its session.
	visitorCSRF, err := visitorToken(app.url)
	if err != nil {
		return err
	}
	loginBody := url.Values{"csrfmiddlewaretoken": {visitorCSRF}, "username": {benchUser}, "password": {benchPass}}.Encode()
	createBody := url.Values{"csrfmiddlewaretoken": {csrf}, "title": {"Benchmark article"}, "content": {"Written under load."}}.Encode()
	detail, err := firstArticle(app.url, loggedIn)
	if err != nil {
		return err
	}

	scenarios := []struct {
		key, name string
		s         scenario
	}{
		{"a", "GET /articles/, anonymous", scenario{path: "/articles/"}},
		{"b", "GET /articles/, logged in", scenario{path: "/articles/", cookie: loggedIn}},
		{"c", "GET article detail, logged in", scenario{path: detail, cookie: loggedIn}},
		{"d", "GET /accounts/login/", scenario{path: "/accounts/login/"}},
		{"e1", "POST login, sequential (1 client)", scenario{path: "/accounts/login/", method: "POST", body: loginBody, cookie: "csrftoken=" + visitorCSRF, connections: 1}},
		{"e32", "POST login, 32 clients", scenario{path: "/accounts/login/", method: "POST", body: loginBody, cookie: "csrftoken=" + visitorCSRF}},
		{"f", "POST create article, 32 clients", scenario{path: "/articles/create/", method: "POST", body: createBody, cookie: loggedIn}},
	}
	many := []struct {
		key, name string
		s         scenario
	}{
		{"m0", fmt.Sprintf("%d users logged in, GET /articles/ (page 2 one time in ten), read-only", manyUsers), scenario{path: "/", script: manyScript, args: []string{users, "0"}}},
		{"m1", fmt.Sprintf("%d users logged in, the same with 1%% of requests creating an article", manyUsers), scenario{path: "/", script: manyScript, args: []string{users, "0.01"}}},
	}
	if only := os.Getenv("BENCH_ONLY"); only != "" {
		all := append(scenarios, many...)
		for _, key := range strings.Split(only, ",") {
			if key == "b+e" {
				r, err := b.underLogins(app, scenarios[1].s, scenarios[5].s)
				if err != nil {
					return err
				}
				fmt.Printf("b+e: %.0f requests/s, p50 %s, p99 %s, %d failed, peak RSS %.1f MiB, server CPU %s a request\n",
					r.rps, ms(r.p50), ms(r.p99), r.failed, float64(r.peakRSSKiB)/1024, us(r.cpuPerRequest))
				continue
			}
			i := slices.IndexFunc(all, func(sc struct {
				key, name string
				s         scenario
			}) bool {
				return sc.key == key
			})
			if i < 0 {
				return fmt.Errorf("no scenario %q", key)
			}
			sc := all[i]
			if sc.s.script == manyScript {
				if err := logInMany(); err != nil {
					return err
				}
			}
			r, err := b.wrk(app, sc.key, sc.name, sc.s)
			if err != nil {
				return err
			}
			fmt.Printf("%s: %.0f requests/s (%.0f%% of the ceiling), p50 %s, p99 %s (ceiling's %s), %d failed, peak RSS %s (anonymous %s), server CPU %s a request\n",
				r.key, r.rps, 100*r.rps/ceiling.rps, ms(r.p50), ms(r.p99), ms(ceiling.p99), r.failed, mib(r.peakRSSKiB), mib(r.peakAnonKiB), us(r.cpuPerRequest))
		}
		return nil
	}
	for _, sc := range scenarios {
		r, err := b.wrk(app, sc.key, sc.name, sc.s)
		if err != nil {
			return err
		}
		results = append(results, r)
	}

	r, err := b.underLogins(app, scenarios[1].s, scenarios[5].s)
	if err != nil {
		return err
	}
	results = append(results, r)

	// (m0), (m1): many users, read-only then with writes.
	if err := logInMany(); err != nil {
		return err
	}
	for _, sc := range many {
		r, err := b.wrk(app, sc.key, sc.name, sc.s)
		if err != nil {
			return err
		}
		results = append(results, r)
	}

	// (g): (b) again over 100,000 articles.
	app.stop()
	if err := seed(db, bigArticles-seedArticles); err != nil {
		return err
	}
	if app, err = b.start(gatehouseBin, db); err != nil {
		return err
	}
	if r, err = b.wrk(app, "g", "GET /articles/, logged in, 100,000 articles", scenarios[1].s); err != nil {
		return err
	}
	results = append(results, r)
	app.stop()

	pg, err := b.postgres(gatehouseBin)
	if err != nil {
		return err
	}
	return write(results, pg, duration)
}

// underLogins runs page (b) while logins (e32) load the server beside it:
// does hashing starve page views?
func (b *bench) underLogins(app *server, page, logins scenario) (result, error) {
	fmt.Println("b under e32…")
	under := make(chan result, 1)
	go func() {
		r, err := b.wrk(app, "e32-background", "", logins)
		if err != nil {
			fmt.Println("e32 beside b:", err)
		}
		under <- r
	}()
	time.Sleep(500 * time.Millisecond)
	r, err := b.wrk(app, "b+e", "GET /articles/, logged in, while 32 clients log in", page)
	e := <-under
	fmt.Printf("  beside it, e32: %.0f answers/s, %d of them failed (refused), p99 %s\n", e.rps, e.failed, ms(e.p99))
	return r, err
}

// scenario is one wrk run: a path, and optionally a method, a form body and
// cookies; or a wrk script of cmd/bench that makes the requests, with its
// arguments.
type scenario struct {
	path, method, body, cookie string
	connections                int
	script                     string
	args                       []string
}

type bench struct {
	work     string
	duration string
	pgOnly   string // BENCH_ONLY for the PostgreSQL part alone: pg, pg1, pg2, pg1:m1
}

// server is a process under test.
type server struct {
	cmd *exec.Cmd
	url string
	log string
}

// start runs bin on a free loopback port (with db for Gatehouse) and waits until it answers.
func (b *bench) start(bin, db string) (*server, error) { return b.startOn(bin, db, 0, "") }

// startOn is start with the Go runtime of the server scheduling on procs
// cores (GOMAXPROCS), or on all of them for 0.
func (b *bench) startOn(bin, db string, procs int, profileSuffix string) (*server, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := listener.Addr().String()
	listener.Close()
	logFile := filepath.Join(b.work, filepath.Base(bin)+".log")
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, addr)
	if db != "" {
		cmd = exec.Command(bin, "-addr", addr, "-db", db, "-access-log=false",
			"-cpuprofile", profilePath("BENCH_CPUPROFILE", profileSuffix), "-memprofile", profilePath("BENCH_MEMPROFILE", profileSuffix))
	}
	cmd.Stdout, cmd.Stderr = out, out
	if procs > 0 {
		cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", procs))
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr, log: logFile}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(s.url + "/"); err == nil {
			res.Body.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("%s did not start; see %s", bin, logFile)
}

// profilePath is the file the environment variable names for a profile,
// with suffix after it (each instance of several writes its own), or ""
// for none.
func profilePath(variable, suffix string) string {
	if path := os.Getenv(variable); path != "" {
		return path + suffix
	}
	return ""
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		s.cmd.Wait()
	}
}

// wrkScript sets the request of a scenario without a script of its own.
const wrkScript = `
wrk.method = %q
wrk.body = %q
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
%s
`

// wrkSummary, added to every script, prints wrk's summary as JSON.
const wrkSummary = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("JSON {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d,\"failed\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
`

// wrk loads the server with one scenario and measures the server's peak RSS meanwhile.
func (b *bench) wrk(s *server, key, name string, sc scenario) (result, error) {
	if name != "" {
		fmt.Printf("%s: %s…\n", key, name)
	}
	method := sc.method
	if method == "" {
		method = "GET"
	}
	cookie := ""
	if sc.cookie != "" {
		cookie = fmt.Sprintf("wrk.headers[\"Cookie\"] = %q", sc.cookie)
	}
	source := fmt.Appendf(nil, wrkScript, method, sc.body, cookie)
	if sc.script != "" {
		var err error
		if source, err = os.ReadFile(sc.script); err != nil {
			return result{}, err
		}
	}
	script := filepath.Join(b.work, key+".lua")
	if err := os.WriteFile(script, append(source, wrkSummary...), 0o644); err != nil {
		return result{}, err
	}
	conns := sc.connections
	if conns == 0 {
		conns = connections
	}
	threads := min(conns, runtime.NumCPU())
	pid := s.cmd.Process.Pid
	// Writing 5 to clear_refs resets the peak RSS (VmHWM), so each scenario has its own.
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0o644)
	lockedBefore := countInFile(s.log, "database is locked")
	cpuBefore, dbBefore := cpuTime(pid), postgresCPU()

	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", b.duration, "-s", script, s.url + sc.path}
	if len(sc.args) > 0 {
		args = append(append(args, "--"), sc.args...)
	}
	stopSampling := make(chan struct{})
	anonymous := make(chan int)
	go func() { anonymous <- peakAnonymous(pid, stopSampling) }()
	out, err := exec.Command("wrk", args...).CombinedOutput()
	close(stopSampling)
	peakAnonKiB := <-anonymous
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %v\n%s", key, err, out)
	}
	var summary struct {
		Requests   int64 `json:"requests"`
		DurationUS int64 `json:"duration_us"`
		P50US      int64 `json:"p50_us"`
		P99US      int64 `json:"p99_us"`
		Failed     int   `json:"failed"`
	}
	_, jsonLine, found := strings.Cut(string(out), "JSON ")
	if !found {
		return result{}, fmt.Errorf("wrk %s printed no summary:\n%s", key, out)
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(jsonLine)), &summary); err != nil {
		return result{}, fmt.Errorf("wrk %s summary: %v", key, err)
	}
	return result{
		key:            key,
		name:           name,
		rps:            float64(summary.Requests) / (float64(summary.DurationUS) / 1e6),
		p50:            time.Duration(summary.P50US) * time.Microsecond,
		p99:            time.Duration(summary.P99US) * time.Microsecond,
		failed:         summary.Failed,
		peakRSSKiB:     peakRSS(pid),
		peakAnonKiB:    peakAnonKiB,
		cpuPerRequest:  (cpuTime(pid) - cpuBefore) / time.Duration(max(summary.Requests, 1)),
		dbPerRequest:   (postgresCPU() - dbBefore) / time.Duration(max(summary.Requests, 1)),
		lockedMessages: countInFile(s.log, "database is locked") - lockedBefore,
	}, nil
}

// cpuTime reads the CPU time the process has used, user and system, from
// /proc/PID/stat (in clock ticks of 10 ms, as on Linux everywhere today).
func cpuTime(pid int) time.Duration {
	_, cpu := procStat(fmt.Sprintf("/proc/%d/stat", pid))
	return cpu
}

// postgresCPU is the CPU time used by the processes named postgres on this
// machine: the database's share of a scenario, where it runs beside the
// server (a backend that exits between two readings takes its share along;
// the app's pool keeps its connections).
func postgresCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	for _, path := range stats {
		if name, cpu := procStat(path); name == "postgres" {
			total += cpu
		}
	}
	return total
}

// procStat reads a process's command name and its CPU time, user and
// system, from its /proc/PID/stat.
func procStat(path string) (name string, cpu time.Duration) {
	stat, err := os.ReadFile(path)
	if err != nil {
		return "", 0
	}
	// The command name, in parentheses, may hold spaces: count after it.
	before, rest, found := bytes.Cut(stat, []byte(") "))
	_, name, _ = strings.Cut(string(before), "(")
	fields := strings.Fields(string(rest))
	if !found || len(fields) < 13 {
		return name, 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return name, time.Duration(utime+stime) * 10 * time.Millisecond
}

var (
	vmHWM   = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)
	rssAnon = regexp.MustCompile(`RssAnon:\s+(\d+) kB`)
)

// peakRSS reads the process's peak resident set size in KiB.
func peakRSS(pid int) int { return statusKiB(pid, vmHWM) }

// peakAnonymous samples the process's anonymous resident memory every 20 ms
// until stop, and returns the most it saw in KiB. The kernel keeps no peak
// of it, as it does of the whole (VmHWM), which also counts the binary's
// pages: 19–32 MiB, as many as the page cache maps at once.
func peakAnonymous(pid int, stop <-chan struct{}) int {
	peak := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		peak = max(peak, statusKiB(pid, rssAnon))
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// statusKiB reads a figure in kB from /proc/PID/status.
func statusKiB(pid int, field *regexp.Regexp) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	m := field.FindSubmatch(status)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func countInFile(path, needle string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), needle)
}

// prepare creates the database with the benchmark user and n articles, through the app's models.
func prepare(path string, n int) error {
	ctx := context.Background()
	store, err := models.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	db := store.DB
	hash, err := password.NewHasher(password.Default).Hash(benchPass)
	if err != nil {
		return err
	}
	if err := models.CreateUser(ctx, db, &models.User{Username: benchUser, Password: hash, IsActive: true}); err != nil {
		return err
	}
	for i := range manyUsers {
		if err := models.CreateUser(ctx, db, &models.User{Username: manyUser(i), Password: hash, IsActive: true}); err != nil {
			return err
		}
	}
	return createArticles(ctx, db, n)
}

// seed adds n articles by the benchmark user.
func seed(path string, n int) error {
	fmt.Printf("seeding %d articles…\n", n)
	ctx := context.Background()
	store, err := models.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	return createArticles(ctx, store.DB, n)
}

func createArticles(ctx context.Context, db *bun.DB, n int) error {
	u, err := models.UserByUsername(ctx, db, benchUser)
	if err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for i := range n {
			content := fmt.Sprintf("Article number %d, with a paragraph of text to render.\nAnd a second line.", i)
			if _, err := models.CreateArticle(ctx, tx, u.ID, fmt.Sprintf("Article %d", i), content, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// manyUser is the name of the i-th of the many users.
func manyUser(i int) string { return fmt.Sprintf("reader%03d", i) }

// loginMany logs the many users in through the login form, a few at a time,
// and writes to path the file many.lua reads: "cookie<TAB>csrf token" a line.
func loginMany(base, path string) error {
	lines := make([]string, manyUsers)
	errs := make([]error, manyUsers)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				session, csrf, err := login(base, manyUser(i))
				// Logins of (e32) still queued for the hasher count as
				// attempts from this address until they end (the
				// throttle's in-flight rule): wait for them, then retry.
				for try := 0; err != nil && try < 5; try++ {
					time.Sleep(time.Second)
					session, csrf, err = login(base, manyUser(i))
				}
				lines[i] = "sessionid=" + session + "; csrftoken=" + csrf + "\t" + url.QueryEscape(csrf)
				errs[i] = err
			}
		}()
	}
	for i := range manyUsers {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// visitorToken is the CSRF token a visitor who is not logged in gets.
func visitorToken(base string) (string, error) {
	res, err := http.Get(base + "/accounts/login/")
	if err != nil {
		return "", err
	}
	res.Body.Close()
	for _, cookie := range res.Cookies() {
		if cookie.Name == "csrftoken" {
			return cookie.Value, nil
		}
	}
	return "", errors.New("no CSRF cookie on the login page")
}

// login logs a user of the benchmark (whose password is benchPass) in
// through the login form, as a browser would, and returns the session id and
// the CSRF token.
func login(base, username string) (session, csrf string, err error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Get(base + "/accounts/login/")
	if err != nil {
		return "", "", err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return "", "", errors.New("no CSRF token on the login page")
	}
	csrf = string(m[1])
	res, err = client.PostForm(base+"/accounts/login/", url.Values{"csrfmiddlewaretoken": {csrf}, "username": {username}, "password": {benchPass}})
	if err != nil {
		return "", "", err
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	u, _ := url.Parse(base)
	for _, cookie := range jar.Cookies(u) {
		switch cookie.Name {
		case "sessionid":
			session = cookie.Value
		case "csrftoken":
			csrf = cookie.Value
		}
	}
	if session == "" {
		why := ""
		if m := regexp.MustCompile(`(?s)role="alert"[^>]*>(.{0,200})`).FindSubmatch(answer); m != nil {
			why = ": " + strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(string(m[1]), " ")), " ")
		}
		return "", "", fmt.Errorf("login of %s failed: status %d, no session cookie%s", username, res.StatusCode, why)
	}
	// The token rotates at login; the forms of the next page carry the new one.
	return session, csrf, nil
}

// firstArticle finds an article's URL on the index, and checks that the cookie logs in.
func firstArticle(base, cookie string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/articles/", nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !regexp.MustCompile(`data-testid="username"[^>]*>` + benchUser + `<`).Match(page) {
		return "", errors.New("the benchmark session does not log in")
	}
	m := regexp.MustCompile(`href="(/articles/\d+/)"`).FindSubmatch(page)
	if m == nil {
		return "", errors.New("no article on the index")
	}
	return string(m[1]), nil
}

// write puts the table, with the machine and the date, between the markers of BENCHMARKS.md.
func write(results []result, pg pgResults, duration string) error {
	ceiling := results[0]
	var table strings.Builder
	cpu := cpuModel()
	measured := time.Now().UTC().Format("2006-01-02 15:04 MST")
	fmt.Fprintf(&table, "Measured %s on %d × %s, Go %s, wrk %s at %d connections (sequential login: 1).\n\n",
		measured, runtime.NumCPU(), cpu, strings.TrimPrefix(runtime.Version(), "go"), duration, connections)
	fmt.Fprintf(&table, "![requests/s and p99 of each scenario, SQLite and PostgreSQL](%s)\n\n", chartFile)
	table.WriteString("| | scenario | requests/s | of ceiling | p50 | p99 | failed | peak RSS | of it anonymous | server CPU/request |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Fprintf(&table, "| %s | %s | %.0f | %.0f%% | %s | %s | %d | %s | %s | %s |\n",
			r.key, r.name, r.rps, 100*r.rps/ceiling.rps, ms(r.p50), ms(r.p99), r.failed, mib(r.peakRSSKiB), mib(r.peakAnonKiB), us(r.cpuPerRequest))
	}
	byKey := map[string]result{}
	for _, r := range results {
		byKey[r.key] = r
	}
	maxRSS := 0
	maxAnon := 0
	for _, r := range results[1:] {
		maxRSS = max(maxRSS, r.peakRSSKiB)
		maxAnon = max(maxAnon, r.peakAnonKiB)
	}
	b, f, g, under := byKey["b"], byKey["f"], byKey["g"], byKey["b+e"]
	table.WriteString("\nTargets (SQLite):\n\n")
	check := func(ok bool, format string, args ...any) { check(&table, ok, format, args...) }
	check(b.rps >= 0.3*ceiling.rps && b.p99 <= 2*ceiling.p99, "(b) %.0f%% of the ceiling (≥ 30%%), p99 %s vs the ceiling's %s (≤ 2×)", 100*b.rps/ceiling.rps, ms(b.p99), ms(ceiling.p99))
	check(f.failed == 0 && f.lockedMessages == 0, "(f) %d failed requests, %d \"database is locked\" in the server log", f.failed, f.lockedMessages)
	check(g.p50 <= b.p50*3/2, "(g) p50 %s vs (b) %s (≤ 1.5×)", ms(g.p50), ms(b.p50))
	check(maxRSS < 60*1024, "peak RSS %s across all scenarios (< 60 MiB), of it anonymous at most %s", mib(maxRSS), mib(maxAnon))
	check(under.rps >= b.rps/2, "(b) during (e32): %.0f requests/s, %.0f%% of (b) alone (≥ 50%%)", under.rps, 100*under.rps/b.rps)
	m0, m1 := byKey["m0"], byKey["m1"]
	check(m1.rps >= 0.6*m0.rps, "(m1) with 1%% writes %.0f requests/s, %.0f%% of read-only (m0) %.0f (≥ 60%%)", m1.rps, 100*m1.rps/m0.rps, m0.rps)
	check(m1.p99 <= 3*m0.p99, "(m1) p99 %s vs (m0) %s, %.1f× (≤ 3×)", ms(m1.p99), ms(m0.p99), float64(m1.p99)/float64(m0.p99))
	check(m1.rps >= 40*djangoMixed, "(m1) %.0f× Django 3.2 + gunicorn on the same mixed load (≥ 40×; Django's ~%d requests/s as measured in issue 11, not in this run)", m1.rps/djangoMixed, djangoMixed)
	check(m1.failed == 0, "(m1) %d failed requests", m1.failed)
	writePostgres(&table, byKey, pg)
	fmt.Print(table.String())

	doc, err := os.ReadFile(resultsFile)
	if err != nil {
		return fmt.Errorf("read %s: %w", resultsFile, err)
	}
	before, rest, ok1 := strings.Cut(string(doc), startMarker)
	_, after, ok2 := strings.Cut(rest, endMarker)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s lacks the %s … %s markers", resultsFile, startMarker, endMarker)
	}
	updated := before + startMarker + "\n" + table.String() + endMarker + after
	if err := os.WriteFile(chartFile, []byte(chart(results, pg, measured)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(resultsFile, []byte(updated), 0o644)
}

// check writes a target's line: met or missed, and the figures.
func check(table *strings.Builder, ok bool, format string, args ...any) {
	mark := "met"
	if !ok {
		mark = "**missed**"
	}
	fmt.Fprintf(table, "- %s — "+format+"\n", append([]any{mark}, args...)...)
}

func mib(kib int) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if name, value, found := strings.Cut(scanner.Text(), ":"); found && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}
