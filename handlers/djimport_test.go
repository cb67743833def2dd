package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/djimport"
	"gatehouse/models/djimport/djangotest"
	"gatehouse/views"
)

// TestDjangoPeopleLogIn imports the lecture's Django site, made by Django
// itself, and checks over HTTP that its people log in with their Django
// passwords, as they could there: staff reach the admin, authors edit their
// articles, and the first login upgrades the stored hash to argon2id.
func TestDjangoPeopleLogIn(t *testing.T) {
	for _, site := range []struct {
		name          string
		django, house func(testing.TB) string
	}{
		{"sqlite", djangotest.SQLite, dbtest.SQLite},
		{"postgres", djangotest.Postgres, dbtest.Postgres},
	} {
		t.Run(site.name, func(t *testing.T) {
			t.Parallel()
			from, house := site.django(t), site.house(t)
			app := newTestAppOn(t, handlers.Config{}, house)
			if _, err := djimport.Import(context.Background(), app.db, from, djimport.Options{}); err != nil {
				t.Fatal(err)
			}

			alice := app.client()
			alice.loginAs("alice", djangotest.AlicePassword)
			if got := app.user("alice").Password; !strings.HasPrefix(got, "argon2$argon2id$") {
				t.Errorf("alice's hash after her first login: %.30s…, want argon2id", got)
			}
			wantStatus(t, alice.get(views.PathAdmin), http.StatusOK)

			carol := app.client()
			carol.loginAs("carol", djangotest.CarolPassword) // bcrypt_sha256
			var articleID int64
			if err := app.db.NewRaw("SELECT a.id FROM articles a JOIN users u ON u.id = a.author_id WHERE u.username = 'carol'").Scan(context.Background(), &articleID); err != nil {
				t.Fatal(err)
			}
			res := carol.postForm(views.ArticleUpdatePath(articleID), views.ArticleUpdatePath(articleID),
				url.Values{"title": {"Hello from Gatehouse"}, "content": {"Edited after the move."}})
			wantStatus(t, res, http.StatusSeeOther)
			// The admin stays closed to a non-staff member.
			if res := carol.get(views.PathAdmin); res.StatusCode == http.StatusOK {
				t.Error("carol, not staff in Django, reached the admin")
			}

			app.client().loginAs("bob", djangotest.BobPassword) // argon2, staff
			app.client().loginAs("정우", djangotest.JeongwooPassword)

			for _, refused := range []struct{ username, password string }{
				{"dave", djangotest.DavePassword},       // inactive in Django
				{"mallory", djangotest.MalloryPassword}, // an MD5 hash: imported unusable
				{"erin", "!"},                           // Django's unusable password
				{"ALICE", "other alice pw 8"},           // skipped: alice's name in other letters
			} {
				res := app.client().postForm(views.PathLogin, views.PathLogin,
					url.Values{"username": {refused.username}, "password": {refused.password}})
				if res.StatusCode == http.StatusSeeOther {
					t.Errorf("%s logged in", refused.username)
				}
			}
			var imported int
			if err := app.db.NewRaw("SELECT count(*) FROM security_events WHERE kind = ?", models.EventImported).Scan(context.Background(), &imported); err != nil {
				t.Fatal(err)
			}
			if imported != 8 {
				t.Errorf("%d 'imported' entries in the security log, want 8", imported)
			}
		})
	}
}
