package models_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"gatehouse/models"
	"gatehouse/models/dbtest"
)

// openStore opens and migrates the database at url, closed when t ends.
func openStore(t testing.TB, url string, opts ...models.Option) *models.Store {
	t.Helper()
	store, err := models.Open(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// onEngines runs test on SQLite and on PostgreSQL, as parallel subtests;
// testDB opens a fresh database of the engine.
func onEngines(t *testing.T, test func(t *testing.T, testDB func(*testing.T) *bun.DB)) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			test(t, func(t *testing.T) *bun.DB { return openStore(t, engine.URL(t)).DB })
		})
	}
}

// createUser inserts an active user with this username.
func createUser(t *testing.T, db bun.IDB, username string) *models.User {
	t.Helper()
	u := &models.User{Username: username, Password: "hash", IsActive: true}
	if err := models.CreateUser(context.Background(), db, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// recordLogin indexes a session of the user expiring at expires, with a
// payload row in the session storage's table.
func recordLogin(t *testing.T, db bun.IDB, userID int64, key string, expires time.Time) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	s := &models.Session{Key: key, UserID: userID, CreatedAt: now, LastSeenAt: now, ExpiresAt: expires}
	if err := models.RecordLogin(ctx, db, s); err != nil {
		t.Fatal(err)
	}
	_, err := db.NewRaw("INSERT INTO ? (k, v, e) VALUES (?, ?, ?)", bun.Ident(models.SessionDataTable), key, []byte("payload"), expires.Unix()).Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
}

// sessionKeys lists the keys of the session index and of the payloads, sorted.
func sessionKeys(t *testing.T, db bun.IDB) (index, payloads []string) {
	t.Helper()
	ctx := context.Background()
	if err := db.NewSelect().Model((*models.Session)(nil)).Column("key").Order("key").Scan(ctx, &index); err != nil {
		t.Fatal(err)
	}
	if err := db.NewSelect().Table(models.SessionDataTable).Column("k").Order("k").Scan(ctx, &payloads); err != nil {
		t.Fatal(err)
	}
	return index, payloads
}

// checkSessions fails the test unless exactly these sessions remain, each
// with its payload.
func checkSessions(t *testing.T, db bun.IDB, want ...string) {
	t.Helper()
	index, payloads := sessionKeys(t, db)
	if !slices.Equal(index, want) {
		t.Errorf("sessions = %q, want %q", index, want)
	}
	if !slices.Equal(payloads, want) {
		t.Errorf("session payloads = %q, want %q", payloads, want)
	}
}

// userByID reloads a user.
func userByID(t *testing.T, db bun.IDB, id int64) *models.User {
	t.Helper()
	u := new(models.User)
	if err := db.NewSelect().Model(u).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()

		t.Run("fills in id, key and join date", func(t *testing.T) {
			t.Parallel()
			db := testDB(t)
			before := time.Now().UTC()
			u := createUser(t, db, "Alice")
			if u.ID == 0 {
				t.Error("ID was not set")
			}
			if u.UsernameKey != "alice" {
				t.Errorf("UsernameKey = %q, want %q", u.UsernameKey, "alice")
			}
			if u.DateJoined.Before(before) || u.DateJoined.After(time.Now()) {
				t.Errorf("DateJoined = %v, want about %v", u.DateJoined, before)
			}
			stored := userByID(t, db, u.ID)
			if stored.Username != "Alice" || stored.UsernameKey != "alice" || stored.DateJoined.IsZero() {
				t.Errorf("stored %q, key %q, joined %v", stored.Username, stored.UsernameKey, stored.DateJoined)
			}
		})

		t.Run("keeps a join date it is given", func(t *testing.T) {
			t.Parallel()
			db := testDB(t)
			joined := time.Date(2020, 5, 17, 9, 30, 0, 0, time.UTC)
			u := &models.User{Username: "old", Password: "hash", DateJoined: joined}
			if err := models.CreateUser(ctx, db, u); err != nil {
				t.Fatal(err)
			}
			if got := userByID(t, db, u.ID).DateJoined; !got.Equal(joined) {
				t.Errorf("DateJoined = %v, want %v", got, joined)
			}
		})

		t.Run("normalises to NFKC", func(t *testing.T) {
			t.Parallel()
			db := testDB(t)
			u := createUser(t, db, "ｂｏｂ\u212a") // fullwidth letters and the Kelvin sign
			if u.Username != "bobK" {
				t.Errorf("Username = %q, want %q", u.Username, "bobK")
			}
			if got := userByID(t, db, u.ID).Username; got != "bobK" {
				t.Errorf("stored Username = %q, want %q", got, "bobK")
			}
		})

		duplicates := []struct{ first, second string }{
			{"alice", "alice"},
			{"alice", "ALICE"},
			{"Alice", "aLiCe"},
			{"bob", "ｂｏｂ"},
			{"straße", "STRASSE"},
		}
		for _, tt := range duplicates {
			t.Run("duplicate "+tt.first+" "+tt.second, func(t *testing.T) {
				t.Parallel()
				db := testDB(t)
				createUser(t, db, tt.first)
				err := models.CreateUser(ctx, db, &models.User{Username: tt.second, Password: "hash"})
				if !errors.Is(err, models.ErrDuplicateUsername) {
					t.Errorf("second CreateUser error = %v, want ErrDuplicateUsername", err)
				}
			})
		}
	})
}

// TestUsernameRules checks Django's UnicodeUsernameValidator: letters and
// digits of any script and @.+-_, nothing else, at most 150 characters; and
// that composed and decomposed forms are one name.
func TestUsernameRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		username string
		want     string
	}{
		{"정우", ""},
		{"김정우_92", ""},
		{"José", ""},
		{"李白", ""},
		{"user٣", ""}, // an Arabic-Indic digit
		{"a.b@c+d-e", ""},
		{"정 우", models.UsernameInvalid},
		{"정우!", models.UsernameInvalid},
		{"ㅋㅋ\u200b", models.UsernameInvalid}, // zero width space
		{strings.Repeat("정", 150), ""},
		{strings.Repeat("정", 151), models.UsernameTooLong},
	}
	for _, tt := range tests {
		if got := models.UsernameProblem(models.NormalizeUsername(tt.username)); got != tt.want {
			t.Errorf("UsernameProblem(%q) = %q, want %q", tt.username, got, tt.want)
		}
	}
	composed, decomposed := "정우", norm.NFD.String("정우")
	if composed == decomposed || models.NormalizeUsername(decomposed) != composed || models.UsernameKey(decomposed) != models.UsernameKey(composed) {
		t.Errorf("decomposed %q normalizes to %q, key %q; composed key %q",
			decomposed, models.NormalizeUsername(decomposed), models.UsernameKey(decomposed), models.UsernameKey(composed))
	}
}

func TestUsernameTaken(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		createUser(t, db, "Alice")
		createUser(t, db, "정우")
		tests := []struct {
			username string
			want     bool
		}{
			{"Alice", true},
			{"alice", true},
			{"ALICE", true},
			{"ａｌｉｃｅ", true},
			{"정우", true},
			{"\u110c\u1165\u11bc\u110b\u116e", true}, // 정우 decomposed
			{"alic", false},
			{"alice2", false},
			{"", false},
		}
		for _, tt := range tests {
			got, err := models.UsernameTaken(ctx, db, tt.username)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("UsernameTaken(%q) = %v, want %v", tt.username, got, tt.want)
			}
		}
	})
}

func TestUserByUsername(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "Alice")
		createUser(t, db, "bob")
		for _, username := range []string{"Alice", "alice", "ALICE", "ａｌｉｃｅ"} {
			u, err := models.UserByUsername(ctx, db, username)
			if err != nil {
				t.Errorf("UserByUsername(%q) error = %v", username, err)
				continue
			}
			if u.ID != alice.ID || u.Username != "Alice" {
				t.Errorf("UserByUsername(%q) = #%d %q, want #%d Alice", username, u.ID, u.Username, alice.ID)
			}
		}
		if _, err := models.UserByUsername(ctx, db, "carol"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("UserByUsername(carol) error = %v, want ErrNotFound", err)
		}
	})
}

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		if err := models.UpdateProfile(ctx, db, alice.ID, "alice@example.com", "Alice", "Liddell", true); err != nil {
			t.Fatal(err)
		}
		got := userByID(t, db, alice.ID)
		if got.Email != "alice@example.com" || got.FirstName != "Alice" || got.LastName != "Liddell" || !got.NotifyNewDevice {
			t.Errorf("profile = %q %q %q %v", got.Email, got.FirstName, got.LastName, got.NotifyNewDevice)
		}
		if got.Password != "hash" || got.Username != "alice" {
			t.Errorf("UpdateProfile changed more: password %q, username %q", got.Password, got.Username)
		}
		if other := userByID(t, db, bob.ID); other.Email != "" {
			t.Errorf("another user's email became %q", other.Email)
		}
	})
}

func TestEmailVerification(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		if err := models.UpdateProfile(ctx, db, alice.ID, "alice@example.com", "", "", true); err != nil {
			t.Fatal(err)
		}
		if found, _ := models.UsersWithVerifiedEmail(ctx, db, "alice@example.com"); len(found) != 0 {
			t.Fatal("an unverified address finds its user")
		}
		if err := models.VerifyEmail(ctx, db, alice.ID, "old@example.com"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("VerifyEmail of an address the user no longer has = %v, want ErrNotFound", err)
		}
		if err := models.VerifyEmail(ctx, db, alice.ID, "alice@example.com"); err != nil {
			t.Fatal(err)
		}
		found, err := models.UsersWithVerifiedEmail(ctx, db, "ALICE@example.com")
		if err != nil || len(found) != 1 || found[0].ID != alice.ID {
			t.Fatalf("UsersWithVerifiedEmail = %v, %v; want alice", found, err)
		}
		// Saving the same address keeps it verified; in other letter case
		// it is a change, to be confirmed.
		if err := models.UpdateProfile(ctx, db, alice.ID, "alice@example.com", "A", "", true); err != nil {
			t.Fatal(err)
		}
		if !userByID(t, db, alice.ID).EmailVerified {
			t.Error("saving the profile unverified the same address")
		}
		if err := models.UpdateProfile(ctx, db, alice.ID, "Alice@example.com", "A", "", true); err != nil {
			t.Fatal(err)
		}
		if userByID(t, db, alice.ID).EmailVerified {
			t.Error("an address in other letter case stayed verified")
		}
		if err := models.VerifyEmail(ctx, db, alice.ID, "Alice@example.com"); err != nil {
			t.Fatal(err)
		}
		// Another account cannot verify an address alice has verified.
		if err := models.UpdateProfile(ctx, db, bob.ID, "alice@EXAMPLE.com", "", "", true); err != nil {
			t.Fatal(err)
		}
		if err := models.VerifyEmail(ctx, db, bob.ID, "alice@EXAMPLE.com"); !errors.Is(err, models.ErrEmailTaken) {
			t.Errorf("VerifyEmail of another account's address = %v, want ErrEmailTaken", err)
		}
		if err := models.UpdateProfile(ctx, db, alice.ID, "new@example.com", "A", "", true); err != nil {
			t.Fatal(err)
		}
		if userByID(t, db, alice.ID).EmailVerified {
			t.Error("a new address is verified without its link")
		}
		// Only ASCII letters fold (EmailKey), in SQL as in Go: the Kelvin
		// sign is not k, on PostgreSQL either.
		carol := createUser(t, db, "carol")
		for _, u := range []struct {
			id    int64
			email string
		}{{bob.ID, "\u212aim@example.com"}, {carol.ID, "Kim@example.com"}} {
			if err := models.UpdateProfile(ctx, db, u.id, u.email, "", "", true); err != nil {
				t.Fatal(err)
			}
			if err := models.VerifyEmail(ctx, db, u.id, u.email); err != nil {
				t.Errorf("VerifyEmail(%q) = %v", u.email, err)
			}
		}
		if found, err := models.UsersWithVerifiedEmail(ctx, db, "kIM@example.com"); err != nil || len(found) != 1 || found[0].ID != carol.ID {
			t.Errorf("UsersWithVerifiedEmail(kIM) = %v, %v; want carol alone", found, err)
		}
	})
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		if err := models.SetPassword(ctx, db, alice.ID, "new-hash"); err != nil {
			t.Fatal(err)
		}
		if got := userByID(t, db, alice.ID).Password; got != "new-hash" {
			t.Errorf("Password = %q, want new-hash", got)
		}
		if got := userByID(t, db, bob.ID).Password; got != "hash" {
			t.Errorf("another user's password became %q", got)
		}
	})
}

func TestRecordLogin(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s := &models.Session{
			Key: "key", UserID: alice.ID, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour),
			IP: "192.0.2.1", UserAgent: "test",
		}
		if err := models.RecordLogin(ctx, db, s); err != nil {
			t.Fatal(err)
		}
		stored := new(models.Session)
		if err := db.NewSelect().Model(stored).Where("key = ?", "key").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if stored.UserID != alice.ID || !stored.ExpiresAt.Equal(at.Add(time.Hour)) || stored.IP != "192.0.2.1" || stored.UserAgent != "test" {
			t.Errorf("stored session = %+v", stored)
		}
		if got := userByID(t, db, alice.ID).LastLogin; !got.Equal(at) {
			t.Errorf("LastLogin = %v, want %v", got, at)
		}
	})
}

func TestSessionWithUser(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		now := time.Now().UTC()
		recordLogin(t, db, alice.ID, "live", now.Add(time.Hour))
		recordLogin(t, db, alice.ID, "expired", now.Add(-time.Second))
		recordLogin(t, db, alice.ID, "expiring", now)
		tests := []struct {
			key     string
			wantErr error
		}{
			{"live", nil},
			{"expired", models.ErrNotFound},
			{"expiring", models.ErrNotFound},
			{"unknown", models.ErrNotFound},
		}
		for _, tt := range tests {
			s, err := models.SessionWithUser(ctx, db, tt.key, now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("SessionWithUser(%q) error = %v, want %v", tt.key, err, tt.wantErr)
				continue
			}
			if err == nil && (s.Key != tt.key || s.User == nil || s.User.ID != alice.ID || s.User.Username != "alice") {
				t.Errorf("SessionWithUser(%q) = %+v with user %+v", tt.key, s, s.User)
			}
		}
	})
}

func TestTouchSession(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		now := time.Now().UTC()
		recordLogin(t, db, alice.ID, "touched", now.Add(time.Hour))
		recordLogin(t, db, alice.ID, "other", now.Add(time.Hour))
		seen := now.Add(10 * time.Minute).Truncate(time.Second)
		if err := models.TouchSession(ctx, db, "touched", seen); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]bool{"touched": true, "other": false} {
			s, err := models.SessionWithUser(ctx, db, key, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.LastSeenAt.Equal(seen); got != want {
				t.Errorf("session %q: LastSeenAt = %v, touched %v, want %v", key, s.LastSeenAt, got, want)
			}
		}
	})
}

func TestDeleteSession(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		expires := time.Now().UTC().Add(time.Hour)
		recordLogin(t, db, alice.ID, "a", expires)
		recordLogin(t, db, alice.ID, "b", expires)
		if err := models.DeleteSession(ctx, db, nil, "a"); err != nil {
			t.Fatal(err)
		}
		checkSessions(t, db, "b")
		if err := models.DeleteSession(ctx, db, nil, "unknown"); err != nil {
			t.Errorf("DeleteSession of an unknown key error = %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		expires := time.Now().UTC().Add(time.Hour)
		for _, key := range []string{"alice-1", "alice-2", "alice-keep"} {
			recordLogin(t, db, alice.ID, key, expires)
		}
		recordLogin(t, db, bob.ID, "bob-1", expires)
		now := time.Now().UTC()
		cycled := &models.Session{Key: "alice-cycled", UserID: alice.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: expires}
		ended, err := models.ChangePassword(ctx, db, nil, alice.ID, "new-hash", "alice-keep", cycled)
		if err != nil {
			t.Fatal(err)
		}
		if ended != 2 {
			t.Errorf("ChangePassword ended %d other sessions, want 2", ended)
		}
		if got := userByID(t, db, alice.ID).Password; got != "new-hash" {
			t.Errorf("Password = %q, want new-hash", got)
		}
		// The cycled session's payload is written by the session store afterwards.
		index, payloads := sessionKeys(t, db)
		if !slices.Equal(index, []string{"alice-cycled", "bob-1"}) || !slices.Equal(payloads, []string{"bob-1"}) {
			t.Errorf("sessions = %q with payloads %q, want alice-cycled and bob-1 with bob-1's", index, payloads)
		}
		if got := userByID(t, db, bob.ID).Password; got != "hash" {
			t.Errorf("another user's password became %q", got)
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		now := time.Now().UTC()
		recordLogin(t, db, alice.ID, "expired", now.Add(-time.Hour))
		recordLogin(t, db, alice.ID, "expiring", now)
		recordLogin(t, db, alice.ID, "live", now.Add(time.Hour))
		if err := models.DeleteExpiredSessions(ctx, db, now); err != nil {
			t.Fatal(err)
		}
		index, _ := sessionKeys(t, db)
		if want := []string{"live"}; !slices.Equal(index, want) {
			t.Errorf("sessions = %q, want %q", index, want)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		expires := time.Now().UTC().Add(time.Hour)
		recordLogin(t, db, alice.ID, "alice-1", expires)
		recordLogin(t, db, alice.ID, "alice-2", expires)
		recordLogin(t, db, bob.ID, "bob-1", expires)
		for _, u := range []*models.User{alice, alice, bob} {
			if _, err := models.CreateArticle(ctx, db, u.ID, "by "+u.Username, "body", time.Now()); err != nil {
				t.Fatal(err)
			}
		}

		if err := models.DeleteUser(ctx, db, nil, alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := models.UserByUsername(ctx, db, "alice"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("UserByUsername after delete error = %v, want ErrNotFound", err)
		}
		checkSessions(t, db, "bob-1")
		var authors []int64
		if err := db.NewSelect().Model((*models.Article)(nil)).Column("author_id").Scan(ctx, &authors); err != nil {
			t.Fatal(err)
		}
		if want := []int64{bob.ID}; !slices.Equal(authors, want) {
			t.Errorf("articles by %v remain, want %v", authors, want)
		}

		if err := models.DeleteUser(ctx, db, nil, alice.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("second DeleteUser error = %v, want ErrNotFound", err)
		}
	})
}

func TestArticles(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")

		before := time.Now().UTC()
		a, err := models.CreateArticle(ctx, db, alice.ID, "Title", "Content", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.CreatedAt.Before(before) || !a.UpdatedAt.Equal(a.CreatedAt) {
			t.Errorf("CreateArticle = %+v", a)
		}

		got, err := models.ArticleByID(ctx, db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Title" || got.Content != "Content" || got.AuthorID != alice.ID || got.Author == nil || got.Author.Username != "alice" {
			t.Errorf("ArticleByID = %+v with author %+v", got, got.Author)
		}
		if got.Author != nil && got.Author.Password != "" {
			t.Error("ArticleByID loaded the author's password")
		}
		if _, err := models.ArticleByID(ctx, db, a.ID+100); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("ArticleByID of a missing id error = %v, want ErrNotFound", err)
		}

		if err := models.UpdateArticle(ctx, db, a.ID, "New title", "New content", time.Now()); err != nil {
			t.Fatal(err)
		}
		got, err = models.ArticleByID(ctx, db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Stored times keep microseconds.
		created := a.CreatedAt.Truncate(time.Microsecond)
		if got.Title != "New title" || got.Content != "New content" || !got.CreatedAt.Equal(created) || got.UpdatedAt.Before(created) {
			t.Errorf("after UpdateArticle = %+v", got)
		}

		if err := models.DeleteArticle(ctx, db, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := models.ArticleByID(ctx, db, a.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("ArticleByID after delete error = %v, want ErrNotFound", err)
		}
		if n, err := models.CountArticles(ctx, db); err != nil || n != 0 {
			t.Errorf("CountArticles after delete = %d, %v", n, err)
		}
	})
}

func TestCountArticles(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		for want := range int64(4) {
			n, err := models.CountArticles(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("CountArticles = %d, want %d", n, want)
			}
			if _, err := models.CreateArticle(ctx, db, alice.ID, "Title", "Content", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestNewestArticles(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		// Creation times out of id order, two of them equal: ties go to the higher id.
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		articles := []struct {
			title   string
			author  *models.User
			created time.Duration
		}{
			{"a", alice, 3 * time.Hour},
			{"b", bob, 1 * time.Hour},
			{"c", alice, 4 * time.Hour},
			{"d", bob, 2 * time.Hour},
			{"e", alice, 2 * time.Hour},
		}
		for _, tt := range articles {
			a, err := models.CreateArticle(ctx, db, tt.author.ID, tt.title, "content", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.NewUpdate().Model(a).Set("created_at = ?", base.Add(tt.created)).WherePK().Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			offset, limit int64
			want          []string
		}{
			{0, 10, []string{"c", "a", "e", "d", "b"}},
			{0, 2, []string{"c", "a"}},
			{2, 2, []string{"e", "d"}},
			{4, 2, []string{"b"}},
			{5, 2, nil},
		}
		for _, tt := range tests {
			got, err := models.NewestArticles(ctx, db, tt.offset, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, a := range got {
				titles = append(titles, a.Title)
				if a.Content != "" {
					t.Errorf("article %q came with its content", a.Title)
				}
				if a.Author == nil || a.Author.ID != a.AuthorID || a.Author.Username == "" {
					t.Errorf("article %q came with author %+v", a.Title, a.Author)
				}
			}
			if !slices.Equal(titles, tt.want) {
				t.Errorf("NewestArticles(%d, %d) = %q, want %q", tt.offset, tt.limit, titles, tt.want)
			}
		}
	})
}

// TestOpenTogether starts instances on one new PostgreSQL database at once:
// they take turns migrating, and all come up.
func TestOpenTogether(t *testing.T) {
	t.Parallel()
	url := dbtest.Postgres(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			store, err := models.Open(context.Background(), url)
			if err == nil {
				err = store.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCreateArticleByGoneAuthor writes as an account deleted meanwhile: the
// foreign key refuses it, and the caller hears ErrNotFound.
func TestCreateArticleByGoneAuthor(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		if err := models.DeleteUser(ctx, db, nil, alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := models.CreateArticle(ctx, db, alice.ID, "Title", "Content", time.Now()); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("CreateArticle by a deleted author = %v, want ErrNotFound", err)
		}
	})
}
