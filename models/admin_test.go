package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"gatehouse/models"
)

// createSuperuser inserts an active staff superuser.
func createSuperuser(t *testing.T, db bun.IDB, username string) *models.User {
	t.Helper()
	u := &models.User{Username: username, Password: "hash", IsActive: true, IsStaff: true, IsSuperuser: true}
	if err := models.CreateUser(context.Background(), db, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// activeSuperusers counts the active superusers.
func activeSuperusers(t *testing.T, db bun.IDB) int {
	t.Helper()
	n, err := db.NewSelect().Model((*models.User)(nil)).Where("is_superuser").Where("is_active").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// together runs each function at once and returns their errors.
func together(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, fn := range fns {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn()
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// TestLastSuperuserRace has the last two superusers step down, or
// deactivate each other, at the same moment: one of them must stay, and
// the other gets ErrLastSuperuser or ErrNotAllowed, never a deadlock.
func TestLastSuperuserRace(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		for round := range 5 {
			db := testDB(t)
			a, b := createSuperuser(t, db, "a"), createSuperuser(t, db, "b")
			stepDown := models.UserEdit{IsActive: true, IsStaff: true}
			var errs []error
			if round%2 == 0 {
				errs = together(
					func() error { _, err := models.AdminUpdateUser(ctx, db, nil, a, a.ID, stepDown); return err },
					func() error { _, err := models.AdminUpdateUser(ctx, db, nil, b, b.ID, stepDown); return err },
				)
			} else {
				errs = together(
					func() error { _, err := models.SetUsersActive(ctx, db, nil, a, []int64{b.ID}, false); return err },
					func() error { _, err := models.SetUsersActive(ctx, db, nil, b, []int64{a.ID}, false); return err },
				)
			}
			for _, err := range errs {
				if err != nil && !errors.Is(err, models.ErrLastSuperuser) && !errors.Is(err, models.ErrNotAllowed) {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if n := activeSuperusers(t, db); n != 1 {
				t.Fatalf("round %d: %d active superusers remain, want 1 (errors %v)", round, n, errs)
			}
		}
	})
}

// TestAdminActorRightsAreCurrent checks that an admin demoted or
// deactivated since their request began can no longer act.
func TestAdminActorRightsAreCurrent(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		createSuperuser(t, db, "root")
		staff := createSuperuser(t, db, "staff")
		alice := createUser(t, db, "alice")
		if _, err := db.NewUpdate().Model((*models.User)(nil)).Set("is_active = FALSE").Where("id = ?", staff.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := models.AdminEndSessions(ctx, db, nil, staff, alice.ID, ""); !errors.Is(err, models.ErrNotAllowed) {
			t.Errorf("a deactivated admin ended sessions: %v", err)
		}
		if err := models.AdminDeleteUser(ctx, db, nil, staff, alice.ID); !errors.Is(err, models.ErrNotAllowed) {
			t.Errorf("a deactivated admin deleted a user: %v", err)
		}
		if n, err := models.CountAdminLog(ctx, db, models.AdminLogFilter{}); err != nil || n != 0 {
			t.Errorf("%d log entries (%v), want none", n, err)
		}
	})
}

// TestSearchUsersTakesWildcardsLiterally checks that LIKE's wildcards and
// escape in a search match themselves, on both engines.
func TestSearchUsersTakesWildcardsLiterally(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		for i, first := range []string{"A_x", "abx", "a%x", `a\x`, "a"} {
			u := &models.User{Username: "u" + string(rune('0'+i)), Password: "hash", IsActive: true, FirstName: first}
			if err := models.CreateUser(ctx, db, u); err != nil {
				t.Fatal(err)
			}
		}
		for search, want := range map[string]string{"a_": "A_x", "A%": "a%x", `a\`: `a\x`, "ab": "abx"} {
			users, err := models.SearchUsers(ctx, db, models.UserQuery{Search: search}, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 1 || users[0].FirstName != want {
				var got []string
				for _, u := range users {
					got = append(got, u.FirstName)
				}
				t.Errorf("search %q found %q, want %q", search, got, want)
			}
		}
	})
}
