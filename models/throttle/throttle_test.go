package throttle_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/throttle"
)

// start is the fake clock's first reading: whole seconds, as the database
// keeps times to the microsecond.
var start = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// clock is a settable time source, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// set moves the clock to start plus offset.
func (c *clock) set(offset time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = start.Add(offset)
}

// openDB opens the migrated database at path, closed when the test ends.
func openDB(t *testing.T, path string) *bun.DB {
	t.Helper()
	store, err := models.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store.DB
}

// newLimiter returns a limiter on db that reads the time from c.
func newLimiter(db bun.IDB, c *clock) *throttle.Limiter { return throttle.New(db, c.Now) }

// onEngines runs test on SQLite and on PostgreSQL, as parallel subtests;
// dbURL gives a fresh database of the engine.
func onEngines(t *testing.T, test func(t *testing.T, dbURL func(testing.TB) string)) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			test(t, engine.URL)
		})
	}
}

// freshLimiter returns a limiter on a fresh database at dbURL, its clock set
// to start, and the database.
func freshLimiter(t *testing.T, dbURL func(testing.TB) string) (*throttle.Limiter, *clock, *bun.DB) {
	t.Helper()
	db := openDB(t, dbURL(t))
	c := &clock{now: start}
	return newLimiter(db, c), c, db
}

// failAt records failures under the keys at each offset from start.
func failAt(t *testing.T, l *throttle.Limiter, c *clock, offsets []time.Duration, keys ...throttle.Key) {
	t.Helper()
	for _, offset := range offsets {
		c.set(offset)
		if err := l.Fail(context.Background(), keys...); err != nil {
			t.Fatal(err)
		}
	}
}

// checkAt fails the test unless Check at start plus offset answers want
// (start plus wantOffset, or the zero time if wantOffset is negative).
func checkAt(t *testing.T, l *throttle.Limiter, c *clock, offset, wantOffset time.Duration, keys ...throttle.Key) {
	t.Helper()
	c.set(offset)
	retryAt, err := l.Check(context.Background(), keys...)
	if err != nil {
		t.Fatal(err)
	}
	var want time.Time
	if wantOffset >= 0 {
		want = start.Add(wantOffset)
	}
	if !retryAt.Equal(want) {
		t.Errorf("Check at +%v = %v, want %v", offset, retryAt, want)
	}
}

// minutes returns offsets of 0, 1, … n-1 minutes.
func minutes(n int) []time.Duration {
	offsets := make([]time.Duration, n)
	for i := range offsets {
		offsets[i] = time.Duration(i) * time.Minute
	}
	return offsets
}

// halfSecondLater moves the first offset half a second later.
func halfSecondLater(offsets []time.Duration) []time.Duration {
	offsets[0] += 500 * time.Millisecond
	return offsets
}

// countRows counts the failures stored under a key, expired or not.
func countRows(t *testing.T, db bun.IDB, key string) int {
	t.Helper()
	n, err := db.NewSelect().Table("throttle_failures").Where("key = ?", key).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

const allowed = -1 // checkAt's wantOffset when no key is refused

func TestCheck(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		alice := throttle.LoginPerAccount.Key("alice")
		tests := []struct {
			name      string
			failures  []time.Duration
			at        time.Duration
			wantRetry time.Duration
		}{
			{"no failures", nil, 0, allowed},
			{"under the limit", minutes(4), 4 * time.Minute, allowed},
			{"at the limit, until the oldest expires", minutes(5), 5 * time.Minute, 15 * time.Minute},
			// A race let a sixth failure through: two must expire, not one.
			{"over the limit, until enough expire", minutes(6), 6 * time.Minute, 16 * time.Minute},
			{"just before the oldest expires", minutes(5), 15*time.Minute - time.Second, 15 * time.Minute},
			{"once the oldest has expired", minutes(5), 15 * time.Minute, allowed},
			// SQLite compares the times as text: a whole second sorts before its fractions.
			{"a fraction of a second before", halfSecondLater(minutes(5)), 15 * time.Minute, 15*time.Minute + 500*time.Millisecond},
			{"a fraction of a second after", halfSecondLater(minutes(5)), 15*time.Minute + 500*time.Millisecond, allowed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				l, c, _ := freshLimiter(t, dbURL)
				failAt(t, l, c, tt.failures, alice)
				checkAt(t, l, c, tt.at, tt.wantRetry, alice)
			})
		}
	})
}

func TestWindowSlides(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		l, c, _ := freshLimiter(t, dbURL)
		alice := throttle.LoginPerAccount.Key("alice")
		failAt(t, l, c, minutes(5), alice)
		checkAt(t, l, c, 10*time.Minute, 15*time.Minute, alice)
		// The first failure has aged out: one more attempt is allowed, and when
		// it fails the key waits for the second failure to age out.
		checkAt(t, l, c, 15*time.Minute, allowed, alice)
		failAt(t, l, c, []time.Duration{15 * time.Minute}, alice)
		checkAt(t, l, c, 15*time.Minute, 16*time.Minute, alice)
		checkAt(t, l, c, 30*time.Minute, allowed, alice)
	})
}

func TestKeysAreIndependent(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		l, c, _ := freshLimiter(t, dbURL)
		account := throttle.LoginPerAccount.Key("alice")
		device := throttle.LoginPerDevice.Key("device-1:alice")
		address := throttle.LoginPerAddress.Key("192.0.2.1")
		failAt(t, l, c, minutes(5), account)
		checkAt(t, l, c, 5*time.Minute, 15*time.Minute, account)
		// The real user's trusted browser, another account, another rule with the
		// same subject, and the attacker's address are not refused.
		checkAt(t, l, c, 5*time.Minute, allowed, device, address)
		checkAt(t, l, c, 5*time.Minute, allowed, throttle.LoginPerAccount.Key("bob"))
		checkAt(t, l, c, 5*time.Minute, allowed, throttle.PasswordCheckPerUser.Key("alice"))

		// An address is refused after its own, higher limit, whatever the usernames.
		for i := range 10 {
			c.set(time.Duration(i) * time.Second)
			if err := l.Fail(context.Background(), throttle.LoginPerAccount.Key(fmt.Sprint("user", i)), address); err != nil {
				t.Fatal(err)
			}
		}
		checkAt(t, l, c, 5*time.Minute, 15*time.Minute, address)
		checkAt(t, l, c, 5*time.Minute, allowed, throttle.LoginPerAccount.Key("user9"))
		// With several keys refused, the latest retry time wins.
		checkAt(t, l, c, 5*time.Minute, 15*time.Minute, account, address)
		failAt(t, l, c, []time.Duration{6 * time.Minute}, account)
		checkAt(t, l, c, 6*time.Minute, 16*time.Minute, address, account)
	})
}

func TestClear(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		l, c, _ := freshLimiter(t, dbURL)
		account := throttle.LoginPerAccount.Key("alice")
		address := throttle.LoginPerAddress.Key("192.0.2.1")
		failAt(t, l, c, minutes(10), account, address)
		if err := l.Clear(context.Background(), account); err != nil {
			t.Fatal(err)
		}
		checkAt(t, l, c, 10*time.Minute, allowed, account)
		checkAt(t, l, c, 10*time.Minute, 15*time.Minute, address)
		if err := l.Clear(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeleteExpired(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		l, c, db := freshLimiter(t, dbURL)
		account := throttle.LoginPerAccount.Key("alice")
		signup := throttle.SignupPerAddress.Key("192.0.2.1")
		failAt(t, l, c, minutes(3), account, signup)
		for _, tt := range []struct {
			at                  time.Duration
			wantAccount, wantIP int
		}{
			{15 * time.Minute, 2, 3},
			{17 * time.Minute, 0, 3},
			{time.Hour + 2*time.Minute, 0, 0},
		} {
			if err := l.DeleteExpired(context.Background(), start.Add(tt.at)); err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, db, "login-account:alice"); n != tt.wantAccount {
				t.Errorf("at +%v, %d account failures left, want %d", tt.at, n, tt.wantAccount)
			}
			if n := countRows(t, db, "signup-address:192.0.2.1"); n != tt.wantIP {
				t.Errorf("at +%v, %d signup failures left, want %d", tt.at, n, tt.wantIP)
			}
		}
	})
}

// Two app instances on one database see each other's failures.
func TestInstancesShareCounts(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		path := dbURL(t)
		c := &clock{now: start}
		one, two := newLimiter(openDB(t, path), c), newLimiter(openDB(t, path), c)
		alice := throttle.LoginPerAccount.Key("alice")
		failAt(t, one, c, minutes(3), alice)
		failAt(t, two, c, []time.Duration{3 * time.Minute, 4 * time.Minute}, alice)
		checkAt(t, one, c, 5*time.Minute, 15*time.Minute, alice)
		checkAt(t, two, c, 5*time.Minute, 15*time.Minute, alice)
		if err := two.Clear(context.Background(), alice); err != nil {
			t.Fatal(err)
		}
		checkAt(t, one, c, 5*time.Minute, allowed, alice)
	})
}

func TestConcurrentFailuresAreAllRecorded(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		const attempts = 20
		l, c, db := freshLimiter(t, dbURL)
		account := throttle.LoginPerAccount.Key("alice")
		address := throttle.LoginPerAddress.Key("192.0.2.1")
		var wg sync.WaitGroup
		for range attempts {
			wg.Go(func() {
				if err := l.Fail(context.Background(), account, address); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := countRows(t, db, "login-account:alice"); n != attempts {
			t.Errorf("%d account failures recorded, want %d", n, attempts)
		}
		if n := countRows(t, db, "login-address:192.0.2.1"); n != attempts {
			t.Errorf("%d address failures recorded, want %d", n, attempts)
		}
		checkAt(t, l, c, time.Minute, 15*time.Minute, account, address)
	})
}

func TestBeginBoundsABurst(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		limiter, _, _ := freshLimiter(t, dbURL)
		key := throttle.LoginPerAccount.Key("alice")
		var passed atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				attempt, retryAt, err := limiter.Begin(context.Background(), key)
				if err != nil {
					t.Error(err)
					return
				}
				if attempt != nil && retryAt.IsZero() {
					passed.Add(1)
				}
			})
		}
		wg.Wait()
		if got := passed.Load(); got != int64(key.Rule.Limit) {
			t.Errorf("%d of 20 simultaneous attempts went ahead, want %d", got, key.Rule.Limit)
		}
	})
}

// TestBeginRefusesWithoutWriting holds SQLite's write lock from another
// connection: an attempt under a key over its limit is refused all the
// same, with no error, since a refusal takes no write transaction.
func TestBeginRefusesWithoutWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := dbtest.SQLite(t)
	c := &clock{now: start}
	limiter := newLimiter(openDB(t, path), c)
	key := throttle.LoginPerAccount.Key("alice")
	failAt(t, limiter, c, minutes(key.Rule.Limit), key)
	c.set(10 * time.Minute)

	other, err := sql.Open("sqlite3", strings.TrimPrefix(path, "sqlite:")+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")

	attempt, retryAt, err := limiter.Begin(ctx, key)
	if err != nil || attempt != nil {
		t.Fatalf("Begin = %v, %v, %v; want a refusal", attempt, retryAt, err)
	}
	if want := start.Add(15 * time.Minute); !retryAt.Equal(want) {
		t.Errorf("retry at %v, want %v", retryAt, want)
	}
}

func TestBeginSucceeded(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		ctx := context.Background()
		limiter, _, _ := freshLimiter(t, dbURL)
		address, account := throttle.LoginPerAddress.Key("192.0.2.1"), throttle.LoginPerAccount.Key("alice")
		for range 4 {
			if err := limiter.Fail(ctx, account); err != nil {
				t.Fatal(err)
			}
		}
		// Successes take their own record back and clear the account, not the address.
		for range 20 {
			attempt, retryAt, err := limiter.Begin(ctx, address, account)
			if err != nil || attempt == nil || !retryAt.IsZero() {
				t.Fatalf("Begin = %v, %v, %v; want an attempt", attempt, retryAt, err)
			}
			if err := attempt.Succeeded(ctx, account); err != nil {
				t.Fatal(err)
			}
		}
		for range 10 {
			if _, _, err := limiter.Begin(ctx, address); err != nil {
				t.Fatal(err)
			}
		}
		if attempt, retryAt, _ := limiter.Begin(ctx, address); attempt != nil || retryAt.IsZero() {
			t.Error("ten failed attempts from an address did not lock it")
		}
	})
}

// TestTry checks each outcome's bookkeeping: a counted attempt stays, a
// success and an untried attempt are taken back (the success clearing its
// keys), a refused one is never run, and Count counts every action.
func TestTry(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		ctx := context.Background()
		limiter, _, _ := freshLimiter(t, dbURL)
		user, address := throttle.TwoFactorPerUser.Key("7"), throttle.LoginPerAddress.Key("192.0.2.9")
		keys := []throttle.Key{user, address}
		try := func(outcome throttle.Outcome, attemptErr error) (throttle.Outcome, bool, error) {
			ran := false
			got, retryAt, err := limiter.Try(ctx, keys, keys[:1], func() (throttle.Outcome, error) {
				ran = true
				return outcome, attemptErr
			})
			if (got == throttle.Refused) == retryAt.IsZero() {
				t.Fatalf("Try = %v with retry at %v: a time goes with a refusal, and only with one", got, retryAt)
			}
			return got, ran, err
		}
		for range 4 {
			if got, _, err := try(throttle.Counted, nil); got != throttle.Counted || err != nil {
				t.Fatalf("a wrong guess: %v, %v", got, err)
			}
		}
		// Untried attempts, with an error or without, count for nothing.
		broken := errors.New("the hasher broke")
		if got, _, err := try(throttle.Counted, broken); got != throttle.Untried || !errors.Is(err, broken) {
			t.Fatalf("an attempt that failed to run: %v, %v; want Untried and its error", got, err)
		}
		if got, _, err := try(throttle.Untried, nil); got != throttle.Untried || err != nil {
			t.Fatalf("an attempt with nothing to try: %v, %v", got, err)
		}
		// A success clears the user's four failures, not the address's.
		if got, _, err := try(throttle.Succeeded, nil); got != throttle.Succeeded || err != nil {
			t.Fatalf("a right guess: %v, %v", got, err)
		}
		for range 5 {
			if got, _, err := try(throttle.Counted, nil); got != throttle.Counted || err != nil {
				t.Fatalf("after the success, a wrong guess: %v, %v (the user's count was not cleared?)", got, err)
			}
		}
		if got, ran, err := try(throttle.Succeeded, nil); got != throttle.Refused || ran || err != nil {
			t.Fatalf("the sixth guess since the success: %v, ran %v, %v; want refused, not run", got, ran, err)
		}
		// The address counted all nine guesses and the success's none: one more is its tenth.
		retryAt, err := limiter.Count(ctx, address)
		if err != nil || !retryAt.IsZero() {
			t.Fatalf("the address's tenth attempt: %v, %v; want it counted", retryAt, err)
		}
		if retryAt, err := limiter.Count(ctx, address); err != nil || retryAt.IsZero() {
			t.Fatalf("the address's eleventh attempt: %v, %v; want a refusal", retryAt, err)
		}
	})
}

// selectCounter counts the queries that read the failures table.
type selectCounter struct{ n atomic.Int64 }

func (s *selectCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (s *selectCounter) AfterQuery(_ context.Context, event *bun.QueryEvent) {
	if strings.HasPrefix(event.Query, "SELECT") && strings.Contains(event.Query, "throttle_failures") {
		s.n.Add(1)
	}
}

// TestInKeepsRefusals: read through a cache snapshot, a refusal is queried
// once while the counts stand still, and ends as it does without the cache:
// when a write (a success, a clear, a new failure) changes the counts, or
// when its time is up.
func TestInKeepsRefusals(t *testing.T) {
	alice := throttle.LoginPerAccount.Key("alice")
	onEngines(t, func(t *testing.T, dbURL func(testing.TB) string) {
		ctx := context.Background()
		store, err := models.Open(ctx, dbURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		cache, err := models.NewCache(ctx, store, 100)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cache.Close() })
		selects := &selectCounter{}
		store.DB.AddQueryHook(selects)
		c := &clock{now: start}
		l := newLimiter(store.DB, c)
		check := func() time.Time {
			t.Helper()
			snapshot, err := cache.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			retryAt, err := l.In(snapshot).Check(ctx, alice)
			if err != nil {
				t.Fatal(err)
			}
			return retryAt
		}

		failAt(t, l, c, []time.Duration{0, 0, 0, 0, 0}, alice)
		want := start.Add(throttle.LoginPerAccount.Window)
		if got := check(); !got.Equal(want) {
			t.Fatalf("refused until %v, want %v", got, want)
		}
		queried := selects.n.Load()
		c.set(time.Minute)
		for range 3 {
			if got := check(); !got.Equal(want) {
				t.Fatalf("a minute later, refused until %v, want %v", got, want)
			}
		}
		if n := selects.n.Load() - queried; n != 0 {
			t.Errorf("a refusal was queried %d more times while the counts stood still, want 0", n)
		}

		if err := l.Clear(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if got := check(); !got.IsZero() {
			t.Errorf("after the failures were cleared, refused until %v", got)
		}

		failAt(t, l, c, []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute, time.Minute}, alice)
		if got := check(); got.IsZero() {
			t.Fatal("five new failures did not refuse")
		}
		c.set(time.Minute + throttle.LoginPerAccount.Window)
		if got := check(); !got.IsZero() {
			t.Errorf("once the failures expired, refused until %v", got)
		}
	})
}
