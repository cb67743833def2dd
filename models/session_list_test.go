package models_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
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
