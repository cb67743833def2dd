package models_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/dbtest"
)

func TestUserSessions(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		now := time.Now().UTC()
		for _, key := range []string{"seen-first", "seen-last", "seen-between"} {
			recordLogin(t, db, alice.ID, key, now.Add(time.Hour))
		}
		recordLogin(t, db, alice.ID, "expired", now.Add(-time.Second))
		recordLogin(t, db, alice.ID, "expiring", now)
		recordLogin(t, db, bob.ID, "bob", now.Add(time.Hour))
		for key, seen := range map[string]time.Duration{"seen-first": time.Minute, "seen-between": 2 * time.Minute, "seen-last": 3 * time.Minute, "expired": 4 * time.Minute} {
			if err := models.TouchSession(ctx, db, key, now.Add(seen)); err != nil {
				t.Fatal(err)
			}
		}

		sessions, err := models.UserSessions(ctx, db, alice.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, s := range sessions {
			keys = append(keys, s.Key)
			if s.UserID != alice.ID {
				t.Errorf("session %q of user #%d", s.Key, s.UserID)
			}
		}
		if want := []string{"seen-last", "seen-between", "seen-first"}; !slices.Equal(keys, want) {
			t.Errorf("UserSessions = %q, want %q", keys, want)
		}

		carol := createUser(t, db, "carol")
		if sessions, err := models.UserSessions(ctx, db, carol.ID, now); err != nil || len(sessions) != 0 {
			t.Errorf("UserSessions of a user without sessions = %+v, %v", sessions, err)
		}
	})
}

func TestEndUserSession(t *testing.T) {
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

		for _, key := range []string{"bob-1", "unknown", ""} {
			if err := models.EndUserSession(ctx, db, nil, alice.ID, key); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("EndUserSession(alice, %q) error = %v, want ErrNotFound", key, err)
			}
		}
		checkSessions(t, db, "alice-1", "alice-2", "bob-1")

		if err := models.EndUserSession(ctx, db, nil, alice.ID, "alice-1"); err != nil {
			t.Fatal(err)
		}
		checkSessions(t, db, "alice-2", "bob-1")
		if err := models.EndUserSession(ctx, db, nil, alice.ID, "alice-1"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("ending a session twice: error = %v, want ErrNotFound", err)
		}
	})
}

func TestEndOtherSessions(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		now := time.Now().UTC()
		for _, key := range []string{"alice-1", "alice-2", "alice-keep"} {
			recordLogin(t, db, alice.ID, key, now.Add(time.Hour))
		}
		recordLogin(t, db, alice.ID, "alice-expired", now.Add(-time.Hour))
		recordLogin(t, db, bob.ID, "bob-1", now.Add(time.Hour))

		n, err := models.EndOtherSessions(ctx, db, nil, alice.ID, "alice-keep")
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("EndOtherSessions = %d, want 2 (the expired one not counted)", n)
		}
		checkSessions(t, db, "alice-keep", "bob-1")

		if n, err := models.EndOtherSessions(ctx, db, nil, alice.ID, "alice-keep"); err != nil || n != 0 {
			t.Errorf("EndOtherSessions again = %d, %v, want 0", n, err)
		}
		checkSessions(t, db, "alice-keep", "bob-1")
	})
}

// TestSessionPayloadsInRedis keeps payloads in Redis, the index in the
// database: every way of ending sessions deletes their payloads from Redis.
func TestSessionPayloadsInRedis(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := openStore(t, engine.URL(t), models.WithSessionStore(dbtest.Redis(t)))
			db, sessions := store.DB, store.Sessions
			alice, bob := createUser(t, db, "alice"), createUser(t, db, "bob")
			login := func(userID int64, key string) {
				t.Helper()
				now := time.Now().UTC()
				s := &models.Session{Key: key, UserID: userID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := models.RecordLogin(ctx, db, s); err != nil {
					t.Fatal(err)
				}
				if err := sessions.Set(key, []byte("payload of "+key), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			// wantPayloads fails unless exactly the keys of want have payloads.
			wantPayloads := func(want ...string) {
				t.Helper()
				for _, key := range []string{"a1", "a2", "a3", "a4", "b1", "b2"} {
					payload, err := sessions.Get(key)
					if err != nil {
						t.Fatal(err)
					}
					if has := payload != nil; has != slices.Contains(want, key) {
						t.Errorf("session %s has a payload: %v, want %v", key, has, !has)
					}
				}
			}
			for _, key := range []string{"a1", "a2", "a3", "a4"} {
				login(alice.ID, key)
			}
			login(bob.ID, "b1")
			login(bob.ID, "b2")
			n, err := db.NewSelect().Table(models.SessionDataTable).Count(ctx)
			if err != nil || n != 0 {
				t.Fatalf("%d payloads in the database (%v), want none: they live in Redis", n, err)
			}
			wantPayloads("a1", "a2", "a3", "a4", "b1", "b2")

			if err := models.DeleteSession(ctx, db, sessions, "a1"); err != nil {
				t.Fatal(err)
			}
			wantPayloads("a2", "a3", "a4", "b1", "b2")
			if err := models.EndUserSession(ctx, db, sessions, alice.ID, "a2"); err != nil {
				t.Fatal(err)
			}
			wantPayloads("a3", "a4", "b1", "b2")
			now := time.Now().UTC()
			cycled := &models.Session{Key: "a5", UserID: alice.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			if ended, err := models.ChangePassword(ctx, db, sessions, alice.ID, "new-hash", "a3", cycled); err != nil || ended != 1 {
				t.Fatalf("ChangePassword ended %d sessions (%v), want 1", ended, err)
			}
			wantPayloads("b1", "b2")
			if ended, err := models.EndOtherSessions(ctx, db, sessions, bob.ID, "b2"); err != nil || ended != 1 {
				t.Fatalf("EndOtherSessions ended %d sessions (%v), want 1", ended, err)
			}
			wantPayloads("b2")
			if err := models.DeleteUser(ctx, db, sessions, bob.ID); err != nil {
				t.Fatal(err)
			}
			wantPayloads()
		})
	}
}
