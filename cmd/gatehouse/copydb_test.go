package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/mail"
	"gatehouse/models/throttle"
)

// seeded is what seedSQLite wrote, to be found again in the copy.
type seeded struct {
	secret   []byte
	users    []*models.User
	articles []*models.Article
	session  *models.Session
	payload  []byte
	lockedAt time.Time // when the throttle locks alice out until
}

// seedSQLite fills a SQLite file through models, as a running site would
// have: users (one deleted, leaving a gap in the ids), the secret key,
// articles, a login with its payload, security events, throttle failures
// and mail in the outbox.
func seedSQLite(t *testing.T, path string) seeded {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := store.DB
	var s seeded
	if s.secret, err = models.SecretKey(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*models.User{
		{Username: "alice", Password: "argon2$argon2id$alice", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell", IsActive: true, NotifyNewDevice: true},
		{Username: "gone", Password: "x", IsActive: true},
		{Username: "Bob", Password: "pbkdf2_sha256$bob", IsActive: false, IsStaff: true, IsSuperuser: true},
	} {
		if err := models.CreateUser(ctx, db, u); err != nil {
			t.Fatal(err)
		}
		s.users = append(s.users, u)
	}
	if err := models.DeleteUser(ctx, db, store.Sessions, s.users[1].ID); err != nil {
		t.Fatal(err)
	}
	s.users = slices.Delete(s.users, 1, 2)
	alice := s.users[0]
	if err := models.VerifyEmail(ctx, db, alice.ID, alice.Email); err != nil {
		t.Fatal(err)
	}
	for i, title := range []string{"First", "Second", "Third"} {
		a, err := models.CreateArticle(ctx, db, s.users[i%2].ID, title, title+" content\nwith a second line", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		s.articles = append(s.articles, a)
	}
	now := time.Now().UTC()
	s.session = &models.Session{Key: "copied-session-key", UserID: alice.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(time.Hour), IP: "192.0.2.7", UserAgent: "Firefox"}
	if err := models.RecordLogin(ctx, db, s.session); err != nil {
		t.Fatal(err)
	}
	s.payload = []byte("\x00binary payload\xff")
	if err := store.Sessions.Set(s.session.Key, s.payload, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*models.SecurityEvent{
		{UserID: alice.ID, Username: "alice", Kind: models.EventLogin, IP: "192.0.2.7"},
		{Username: "mallory", Kind: models.EventLoginFailed, Detail: "no such account"},
	} {
		if err := models.RecordEvent(ctx, db, e); err != nil {
			t.Fatal(err)
		}
	}
	key := throttle.LoginPerAccount.Key("alice")
	limiter := throttle.New(db, time.Now)
	for range key.Rule.Limit {
		if err := limiter.Fail(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if s.lockedAt, err = limiter.Check(ctx, key); err != nil || s.lockedAt.IsZero() {
		t.Fatalf("alice is not locked out (%v)", err)
	}
	if err := mail.Enqueue(ctx, db, mail.Message{To: "alice@example.com", Subject: "Welcome", Text: "Hello"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// sameTime reports whether two stored times are one, to the microsecond
// both engines keep.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Microsecond && d > -time.Microsecond
}

func TestCopyDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := seedSQLite(t, path)
	target := dbtest.Postgres(t)

	res := gatehouse(t, "", nil, "copydb", "-from", "sqlite:"+path, "-to", target)
	wantSuccess(t, res, "copied sqlite:"+path)
	for _, line := range []string{"users              2 rows", "articles           3 rows", "sessions           1 rows", "session_data       1 rows", "mail_outbox        1 rows"} {
		if !strings.Contains(res.stdout, line) {
			t.Errorf("copydb printed no %q:\n%s", line, res.stdout)
		}
	}

	store, err := models.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := store.DB
	checkCopy(t, db, store, s)

	// The sequences go on past the copied ids.
	carol := &models.User{Username: "carol", Password: "x", IsActive: true}
	if err := models.CreateUser(ctx, db, carol); err != nil {
		t.Fatal(err)
	}
	if carol.ID <= s.users[len(s.users)-1].ID {
		t.Errorf("a new user got id %d, not past the copied ones", carol.ID)
	}
	a, err := models.CreateArticle(ctx, db, carol.ID, "New", "x", time.Now())
	if err != nil || a.ID <= s.articles[len(s.articles)-1].ID {
		t.Errorf("a new article got id %d (%v), not past the copied ones", a.ID, err)
	}

	// A target that holds data is refused, unless told to replace it.
	wantFailure(t, gatehouse(t, "", nil, "copydb", "-from", "sqlite:"+path, "-to", target), "not empty")
	wantSuccess(t, gatehouse(t, "", nil, "copydb", "-from", "sqlite:"+path, "-to", target, "-force"), "copied")
	if _, err := models.UserByUsername(ctx, db, "carol"); err == nil {
		t.Error("-force kept a user the source does not have")
	}
	checkCopy(t, db, store, s)
}

// checkCopy reads back everything seedSQLite wrote, from the copy.
func checkCopy(t *testing.T, db *bun.DB, store *models.Store, s seeded) {
	t.Helper()
	ctx := context.Background()
	secret, err := models.SecretKey(ctx, db)
	if err != nil || !bytes.Equal(secret, s.secret) {
		t.Errorf("the secret key was not copied (%v)", err)
	}
	for _, want := range s.users {
		got, err := models.UserByID(ctx, db, want.ID)
		if err != nil {
			t.Fatalf("user %s: %v", want.Username, err)
		}
		if got.Username != want.Username || got.UsernameKey != want.UsernameKey || got.Password != want.Password ||
			got.Email != want.Email || got.FirstName != want.FirstName || got.LastName != want.LastName ||
			got.IsActive != want.IsActive || got.IsStaff != want.IsStaff || got.IsSuperuser != want.IsSuperuser ||
			got.NotifyNewDevice != want.NotifyNewDevice || !sameTime(got.DateJoined, want.DateJoined) {
			t.Errorf("user copied as %+v, want %+v", got, want)
		}
	}
	alice, err := models.UserByUsername(ctx, db, "ALICE")
	if err != nil || !alice.EmailVerified || !sameTime(alice.LastLogin, s.session.CreatedAt) {
		t.Errorf("alice copied as %+v (%v)", alice, err)
	}
	if verified, err := models.UsersWithVerifiedEmail(ctx, db, "Alice@Example.com"); err != nil || len(verified) != 1 {
		t.Errorf("%d users with alice's verified address (%v)", len(verified), err)
	}
	for _, want := range s.articles {
		got, err := models.ArticleByID(ctx, db, want.ID)
		if err != nil {
			t.Fatalf("article %q: %v", want.Title, err)
		}
		if got.Title != want.Title || got.Content != want.Content || got.AuthorID != want.AuthorID ||
			!sameTime(got.CreatedAt, want.CreatedAt) || got.Author == nil {
			t.Errorf("article copied as %+v, want %+v", got, want)
		}
	}
	newest, err := models.NewestArticles(ctx, db, 0, 10)
	if err != nil || len(newest) != len(s.articles) || newest[0].Title != "Third" {
		t.Errorf("newest articles %+v (%v)", newest, err)
	}
	session, err := models.SessionWithUser(ctx, db, s.session.Key, time.Now())
	if err != nil || session.User.Username != "alice" || session.IP != "192.0.2.7" || !sameTime(session.ExpiresAt, s.session.ExpiresAt) {
		t.Errorf("session copied as %+v (%v)", session, err)
	}
	if payload, err := store.Sessions.Get(s.session.Key); err != nil || !bytes.Equal(payload, s.payload) {
		t.Errorf("session payload copied as %q (%v), want %q", payload, err, s.payload)
	}
	events, err := models.Events(ctx, db, models.EventFilter{}, 0, 10)
	if err != nil || len(events) != 2 || events[0].Username != "mallory" || events[0].UserID != 0 || events[1].User == nil {
		t.Errorf("security events copied as %+v (%v)", events, err)
	}
	retryAt, err := throttle.New(db, time.Now).Check(ctx, throttle.LoginPerAccount.Key("alice"))
	if err != nil || !sameTime(retryAt, s.lockedAt) {
		t.Errorf("alice locked out until %v (%v), want %v", retryAt, err, s.lockedAt)
	}
	var recipients []string
	if err := db.NewRaw("SELECT recipient FROM mail_outbox WHERE sent_at IS NULL").Scan(ctx, &recipients); err != nil ||
		!slices.Equal(recipients, []string{"alice@example.com"}) {
		t.Errorf("pending mail to %q (%v)", recipients, err)
	}
}
