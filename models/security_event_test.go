package models_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
)

// recordEvent adds an event of this kind for the user at the given time, with
// detail naming it.
func recordEvent(t *testing.T, db bun.IDB, userID int64, kind, detail string, at time.Time) {
	t.Helper()
	e := &models.SecurityEvent{UserID: userID, Kind: kind, Detail: detail, CreatedAt: at}
	if err := models.RecordEvent(context.Background(), db, e); err != nil {
		t.Fatal(err)
	}
}

// details lists the details of events, in order.
func details(events []models.SecurityEvent) []string {
	var got []string
	for _, e := range events {
		got = append(got, e.Detail)
	}
	return got
}

func TestRecordEvent(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()

		t.Run("stores every field and fills in id and time", func(t *testing.T) {
			t.Parallel()
			db := testDB(t)
			alice := createUser(t, db, "alice")
			before := time.Now().UTC()
			e := &models.SecurityEvent{
				UserID: alice.ID, Username: "alice", Kind: models.EventLogin,
				IP: "192.0.2.1", UserAgent: "test agent", Detail: "detail",
			}
			if err := models.RecordEvent(ctx, db, e); err != nil {
				t.Fatal(err)
			}
			if e.ID == 0 || e.CreatedAt.Before(before) || e.CreatedAt.After(time.Now()) {
				t.Errorf("RecordEvent left id %d, time %v", e.ID, e.CreatedAt)
			}
			stored := new(models.SecurityEvent)
			if err := db.NewSelect().Model(stored).Where("id = ?", e.ID).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			want := *e
			want.CreatedAt = e.CreatedAt.Truncate(time.Microsecond)
			if stored.UserID != want.UserID || stored.Username != want.Username || stored.Kind != want.Kind ||
				stored.IP != want.IP || stored.UserAgent != want.UserAgent || stored.Detail != want.Detail ||
				!stored.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("stored %+v, want %+v", stored, want)
			}
		})

		t.Run("keeps a time it is given", func(t *testing.T) {
			t.Parallel()
			db := testDB(t)
			alice := createUser(t, db, "alice")
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
			recordEvent(t, db, alice.ID, models.EventLogout, "", at)
			events, err := models.UserEvents(ctx, db, alice.ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || !events[0].CreatedAt.Equal(at) {
				t.Errorf("UserEvents = %+v, want one at %v", events, at)
			}
		})

		t.Run("an unknown username has no user", func(t *testing.T) {
			t.Parallel()
			db := testDB(t)
			createUser(t, db, "alice")
			e := &models.SecurityEvent{Username: "mallory", Kind: models.EventLoginFailed}
			if err := models.RecordEvent(ctx, db, e); err != nil {
				t.Fatal(err)
			}
			var userless int
			err := db.NewRaw("SELECT COUNT(*) FROM security_events WHERE user_id IS NULL AND username = ?", "mallory").Scan(ctx, &userless)
			if err != nil {
				t.Fatal(err)
			}
			if userless != 1 {
				t.Errorf("%d events with a NULL user for mallory, want 1", userless)
			}
			events, err := models.Events(ctx, db, models.EventFilter{}, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].UserID != 0 || events[0].Username != "mallory" {
				t.Errorf("Events = %+v, want mallory's with no user", events)
			}
			if u := events[0].User; u != nil && u.ID != 0 {
				t.Errorf("event came with user %+v", u)
			}
		})

		t.Run("cuts and cleans what a client sent", func(t *testing.T) {
			t.Parallel()
			db := testDB(t)
			e := &models.SecurityEvent{
				Username:  "a\x00b\xffc",
				Kind:      models.EventLoginFailed,
				UserAgent: strings.Repeat("é", 600),
			}
			if err := models.RecordEvent(ctx, db, e); err != nil {
				t.Fatal(err)
			}
			stored := new(models.SecurityEvent)
			if err := db.NewSelect().Model(stored).Where("id = ?", e.ID).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if want := "a\uFFFDb\uFFFDc"; stored.Username != want {
				t.Errorf("Username = %q, want %q", stored.Username, want)
			}
			if want := strings.Repeat("é", 512); stored.UserAgent != want {
				t.Errorf("UserAgent has %d bytes, want %d", len(stored.UserAgent), len(want))
			}
		})
	})
}

func TestUserEvents(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		// Times out of id order, two of them equal: ties go to the higher id.
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		events := []struct {
			detail string
			user   *models.User
			at     time.Duration
		}{
			{"a", alice, 3 * time.Hour},
			{"b", alice, 1 * time.Hour},
			{"bob", bob, 5 * time.Hour},
			{"c", alice, 4 * time.Hour},
			{"d", alice, 2 * time.Hour},
			{"e", alice, 2 * time.Hour},
		}
		for _, tt := range events {
			recordEvent(t, db, tt.user.ID, models.EventLogin, tt.detail, base.Add(tt.at))
		}
		tests := []struct {
			offset, limit int
			want          []string
		}{
			{0, 10, []string{"c", "a", "e", "d", "b"}},
			{0, 2, []string{"c", "a"}},
			{2, 2, []string{"e", "d"}},
			{4, 2, []string{"b"}},
			{5, 2, nil},
		}
		for _, tt := range tests {
			got, err := models.UserEvents(ctx, db, alice.ID, tt.offset, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(details(got), tt.want) {
				t.Errorf("UserEvents(%d, %d) = %q, want %q", tt.offset, tt.limit, details(got), tt.want)
			}
		}
		for _, tt := range []struct {
			user *models.User
			want int
		}{{alice, 5}, {bob, 1}, {&models.User{ID: bob.ID + 1}, 0}} {
			n, err := models.CountUserEvents(ctx, db, tt.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("CountUserEvents(#%d) = %d, want %d", tt.user.ID, n, tt.want)
			}
		}
	})
}

func TestEvents(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		recordEvent(t, db, alice.ID, models.EventLogin, "alice login", base.Add(1*time.Hour))
		recordEvent(t, db, bob.ID, models.EventLoginFailed, "bob failed", base.Add(2*time.Hour))
		recordEvent(t, db, 0, models.EventLoginFailed, "unknown failed", base.Add(3*time.Hour))
		recordEvent(t, db, alice.ID, models.EventPasswordChanged, "alice password", base.Add(4*time.Hour))
		recordEvent(t, db, bob.ID, models.EventLogin, "bob login", base.Add(5*time.Hour))

		tests := []struct {
			name   string
			filter models.EventFilter
			want   []string
		}{
			{"everything", models.EventFilter{}, []string{"bob login", "alice password", "unknown failed", "bob failed", "alice login"}},
			{"one user", models.EventFilter{UserID: alice.ID}, []string{"alice password", "alice login"}},
			{"one kind", models.EventFilter{Kind: models.EventLoginFailed}, []string{"unknown failed", "bob failed"}},
			{"since, inclusive", models.EventFilter{Since: base.Add(3 * time.Hour)}, []string{"bob login", "alice password", "unknown failed"}},
			{"all three", models.EventFilter{UserID: bob.ID, Kind: models.EventLogin, Since: base.Add(2 * time.Hour)}, []string{"bob login"}},
			{"nothing", models.EventFilter{Kind: models.EventSignup}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := models.Events(ctx, db, tt.filter, 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(details(got), tt.want) {
					t.Errorf("Events = %q, want %q", details(got), tt.want)
				}
				n, err := models.CountEvents(ctx, db, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if n != len(tt.want) {
					t.Errorf("CountEvents = %d, want %d", n, len(tt.want))
				}
				for _, e := range got {
					if e.UserID == 0 {
						continue
					}
					if e.User == nil || e.User.ID != e.UserID || e.User.Username == "" || e.User.Password != "" {
						t.Errorf("event %q came with user %+v", e.Detail, e.User)
					}
				}
			})
		}

		got, err := models.Events(ctx, db, models.EventFilter{}, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"alice password", "unknown failed"}; !slices.Equal(details(got), want) {
			t.Errorf("Events(1, 2) = %q, want %q", details(got), want)
		}
	})
}

func TestDeleteEventsBefore(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		now := time.Now().UTC()
		cutoff := now.Add(-models.SecurityLogRetention)
		recordEvent(t, db, alice.ID, models.EventLogin, "old", cutoff.Add(-time.Second))
		recordEvent(t, db, 0, models.EventLoginFailed, "old unknown", cutoff.Add(-time.Hour))
		recordEvent(t, db, alice.ID, models.EventLogin, "at the cutoff", cutoff)
		recordEvent(t, db, alice.ID, models.EventLogout, "new", now)
		if err := models.DeleteEventsBefore(ctx, db, cutoff); err != nil {
			t.Fatal(err)
		}
		got, err := models.Events(ctx, db, models.EventFilter{}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"new", "at the cutoff"}; !slices.Equal(details(got), want) {
			t.Errorf("events left = %q, want %q", details(got), want)
		}
	})
}

func TestSecurityEventsDeletedWithUser(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		alice := createUser(t, db, "alice")
		bob := createUser(t, db, "bob")
		now := time.Now().UTC()
		recordEvent(t, db, alice.ID, models.EventSignup, "alice signup", now)
		recordEvent(t, db, alice.ID, models.EventLogin, "alice login", now)
		recordEvent(t, db, bob.ID, models.EventLogin, "bob login", now)
		recordEvent(t, db, 0, models.EventLoginFailed, "unknown failed", now)
		if err := models.DeleteUser(ctx, db, nil, alice.ID); err != nil {
			t.Fatal(err)
		}
		got, err := models.Events(ctx, db, models.EventFilter{}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"unknown failed", "bob login"}; !slices.Equal(details(got), want) {
			t.Errorf("events left = %q, want %q", details(got), want)
		}
	})
}
