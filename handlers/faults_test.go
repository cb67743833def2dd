package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/faultproxy"
)

// failingSessions is a session storage that fails while fail is set, as a
// Redis that is down does.
type failingSessions struct {
	models.SessionStorage
	fail atomic.Bool
}

func (s *failingSessions) err() error {
	if s.fail.Load() {
		return fmt.Errorf("session store down: %w", models.ErrUnavailable)
	}
	return nil
}

func (s *failingSessions) Get(key string) ([]byte, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.SessionStorage.Get(key)
}

func (s *failingSessions) Set(key string, val []byte, exp time.Duration) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.SessionStorage.Set(key, val, exp)
}

// wantUnavailable fails the test unless res is the "temporarily
// unavailable" answer: 503 with Retry-After, a fragment for htmx.
func wantUnavailable(t *testing.T, res *response, htmx bool) {
	t.Helper()
	wantStatus(t, res, http.StatusServiceUnavailable)
	if res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if !strings.Contains(res.body, "Temporarily unavailable") {
		t.Errorf("the 503 page does not say so:\n%s", res.body)
	}
	if isPage := strings.Contains(res.body, "<html"); isPage == htmx {
		t.Errorf("htmx %v, but the answer is a full page %v:\n%s", htmx, isPage, res.body)
	}
}

// A signup whose session cannot be stored leaves no account behind: the
// answer is 503, and the same signup works once the store is back.
func TestSignupWhenTheSessionStoreFails(t *testing.T) {
	both(t, func(t *testing.T, htmx bool) {
		store, err := models.Open(context.Background(), dbtest.SQLite(t))
		if err != nil {
			t.Fatal(err)
		}
		sessions := &failingSessions{SessionStorage: store.Sessions}
		store.Sessions = sessions
		app := newTestAppOver(t, handlers.Config{}, store)
		c := app.client()
		c.htmx = htmx
		form := url.Values{"username": {"alice"}, "email": {"alice@example.com"},
			"password1": {"correct horse battery"}, "password2": {"correct horse battery"}}
		req, token := c.formRequest("/accounts/signup/", "/accounts/signup/", form)
		if htmx {
			req.Header.Set("X-CSRF-Token", token)
		}
		sessions.fail.Store(true)
		wantUnavailable(t, c.do(req), htmx)
		if app.user("alice") != nil || app.count("SELECT COUNT(*) FROM security_events") != 0 ||
			app.count("SELECT COUNT(*) FROM sessions") != 0 {
			t.Fatal("a failed signup left its account, log entry or session row")
		}
		wantStatus(t, c.get("/healthz"), http.StatusServiceUnavailable)

		sessions.fail.Store(false)
		wantStatus(t, c.get("/healthz"), http.StatusOK)
		res := c.postForm("/accounts/signup/", "/accounts/signup/", form)
		wantRedirect(t, res, htmx, "/articles/")
		if got := c.loggedInAs(); got != "alice" {
			t.Fatalf("after the retried signup the header greets %q, want alice", got)
		}
		if n := app.count("SELECT COUNT(*) FROM security_events WHERE kind = ?", models.EventSignup); n != 1 {
			t.Fatalf("%d signup entries in the log, want 1", n)
		}
	})
}

// faultTimeout is the tests' deadline on requests and store calls: short,
// so that a frozen store fails them quickly.
const faultTimeout = time.Second

// newFaultApp is an app on PostgreSQL and Redis, each behind a proxy the
// test can freeze or stop, whose requests have faultTimeout and whose
// connections and session calls storeTimeout; it skips without the servers.
func newFaultApp(t *testing.T, storeTimeout time.Duration) (app *testApp, db, redis *faultproxy.Proxy) {
	t.Helper()
	pgURL, redisURL := dbtest.Postgres(t), dbtest.Redis(t)
	db, redis = faultproxy.New(t, ""), faultproxy.New(t, "")
	app = newTestAppOn(t, handlers.Config{RequestTimeout: faultTimeout}, db.Front(t, pgURL),
		models.WithSessionStore(redis.Front(t, redisURL)), models.WithTimeout(storeTimeout))
	return app, db, redis
}

// A frozen PostgreSQL (a partition: nothing answers, nothing refuses)
// fails a write with 503 within the deadline and commits nothing; a
// stopped one answers 503 at once; the health check says so both times.
func TestDatabaseOutageAnswers503(t *testing.T) {
	// Connections may take longer than requests: the request's deadline,
	// not a connection's, is what ends a request on a frozen server.
	app, db, _ := newFaultApp(t, time.Minute)
	app.createUser("alice", "correct horse battery")
	c := app.client()
	c.http.Timeout = 10 * faultTimeout // a request without a deadline fails the test, not hangs it
	c.loginAs("alice", "correct horse battery")
	article := url.Values{"title": {"Frozen"}, "content": {"Written while the database was silent."}}
	for _, fault := range []struct {
		name  string
		start func()
	}{{"frozen", db.Freeze}, {"stopped", db.Stop}} {
		t.Run(fault.name, func(t *testing.T) {
			req, _ := c.formRequest("/articles/create/", "/articles/create/", article)
			fault.start()
			wantUnavailable(t, c.do(req), false)
			wantStatus(t, c.get("/healthz"), http.StatusServiceUnavailable)
			db.Resume()
			if n := app.count("SELECT COUNT(*) FROM articles"); n != 0 {
				t.Fatalf("%d articles after a write past its deadline, want 0", n)
			}
			wantStatus(t, c.get("/healthz"), http.StatusOK)
		})
	}
	res := c.postForm("/articles/create/", "/articles/create/", article)
	wantStatus(t, res, http.StatusSeeOther)
}

// A frozen or stopped Redis fails a signup with 503 and leaves no account;
// once it is back, the same signup works.
func TestSessionStoreOutageAnswers503(t *testing.T) {
	app, _, redis := newFaultApp(t, faultTimeout)
	for i, fault := range []struct {
		name  string
		start func()
	}{{"frozen", redis.Freeze}, {"stopped", redis.Stop}} {
		t.Run(fault.name, func(t *testing.T) {
			c := app.htmxClient()
			c.http.Timeout = 10 * faultTimeout
			username := fmt.Sprintf("bob%d", i)
			form := url.Values{"username": {username}, "password1": {"correct horse battery"}, "password2": {"correct horse battery"}}
			req, token := c.formRequest("/accounts/signup/", "/accounts/signup/", form)
			req.Header.Set("X-CSRF-Token", token)
			fault.start()
			wantUnavailable(t, c.do(req), true)
			wantStatus(t, c.get("/healthz"), http.StatusServiceUnavailable)
			redis.Resume()
			if app.user(username) != nil {
				t.Fatal("a signup without its session left its account")
			}
			wantStatus(t, c.get("/healthz"), http.StatusOK)
			wantRedirect(t, c.postForm("/accounts/signup/", "/accounts/signup/", form), true, "/articles/")
			if got := c.loggedInAs(); got != username {
				t.Fatalf("after the retried signup the header greets %q, want %s", got, username)
			}
		})
	}
}

// A Redis that is down fails the session storage's calls as ErrUnavailable
// within the timeout, and what its client reports goes to the store's
// structured log, not to stderr.
func TestRedisOutageIsLoggedAndUnavailable(t *testing.T) {
	redisURL := dbtest.Redis(t)
	proxy := faultproxy.New(t, "")
	var logged syncBuffer
	store, err := models.Open(context.Background(), dbtest.SQLite(t), models.WithSessionStore(proxy.Front(t, redisURL)),
		models.WithTimeout(faultTimeout), models.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Sessions.Set("key", []byte("value"), time.Minute); err != nil {
		t.Fatal(err)
	}
	proxy.Stop()
	if _, err := store.Sessions.Get("key"); !errors.Is(err, models.ErrUnavailable) || !models.Unavailable(err) {
		t.Fatalf("Get from a stopped Redis: %v, want ErrUnavailable", err)
	}
	if err := models.PingSessions(context.Background(), store.Sessions); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("PingSessions of a stopped Redis: %v, want ErrUnavailable", err)
	}
	if !strings.Contains(logged.String(), `level=WARN msg="redis client"`) {
		t.Fatalf("the Redis client's report is not in the structured log:\n%s", logged.String())
	}
}
