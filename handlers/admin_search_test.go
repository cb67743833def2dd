package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/uptrace/bun"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/views"
)

// seedUsers inserts n users, user000001 (joined first) to user<n>, with
// addresses mail<i>@example.com and names First<i> Last<i>, in one
// transaction of multi-row INSERTs. Every tenth is inactive, every hundredth staff.
func (a *testApp) seedUsers(n int) {
	a.t.Helper()
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	err := a.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		const batch = 5000
		for first := 1; first <= n; first += batch {
			users := make([]models.User, 0, batch)
			for i := first; i < first+batch && i <= n; i++ {
				name := fmt.Sprintf("user%06d", i)
				users = append(users, models.User{
					Username: name, UsernameKey: name, Password: "!", Email: fmt.Sprintf("mail%06d@example.com", i),
					FirstName: fmt.Sprintf("First%06d", i), LastName: fmt.Sprintf("Last%06d", i),
					IsActive: i%10 != 0, IsStaff: i%100 == 0, DateJoined: start.Add(time.Duration(i) * time.Minute),
				})
			}
			if _, err := tx.NewInsert().Model(&users).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

// TestAdminUserSearch100k searches 100,000 users through the admin, on
// SQLite and PostgreSQL, and checks that the search reads indexes, never
// the whole table.
func TestAdminUserSearch100k(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("seeds 100,000 users")
	}
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			app := newTestAppOn(t, handlers.Config{}, engine.URL(t))
			app.seedUsers(100_000)
			if engine.Name == "postgres" {
				if _, err := app.db.ExecContext(context.Background(), "ANALYZE users"); err != nil {
					t.Fatal(err)
				}
			}
			app.createStaff("zz_staff", false)
			c := app.client()
			c.loginAs("zz_staff", goodPassword)
			usernames := func(query string) (names []string, total string) {
				res := c.get(views.PathAdminUsers + query)
				wantStatus(t, res, 200)
				doc := res.doc(t)
				doc.Find(`[data-testid="user-link"]`).Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
				return names, doc.Find(`[data-testid="user-total"]`).Text()
			}

			tests := []struct {
				query, total, first string
				rows                int
			}{
				{"", "100001 users", "zz_staff", 50},
				{"?page=2001", "100001 users", "user000001", 1},
				{"?q=USER09999", "10 users", "user099999", 10}, // username, any case
				{"?q=mail04242", "10 users", "user042429", 10}, // email
				{"?q=first012345", "1 user", "user012345", 1},  // first name
				{"?q=LAST0777", "100 users", "user077799", 50}, // last name
				{"?q=last0777+first07770", "10 users", "user077709", 10},
				{"?q=user0999&active=no", "10 users", "user099990", 10},
				{"?q=user099&staff=yes&sort=username", "10 users", "user099000", 10},
				{"?q=user0000&sort=oldest", "99 users", "user000001", 50},
				{"?q=nobody", "0 users", "", 0},
				{"?q=%25&verified=yes", "0 users", "", 0},
			}
			for _, tt := range tests {
				names, total := usernames(tt.query)
				if total != tt.total || len(names) != tt.rows || (tt.rows > 0 && names[0] != tt.first) {
					t.Errorf("%s: %s, %d rows, first %v; want %s, %d rows, first %s", tt.query, total, len(names), names, tt.total, tt.rows, tt.first)
				}
			}

			// Each order of the list walks an index: a page costs 50 rows, not a sort of 100,000.
			for _, sort := range models.UserSorts {
				plan, err := models.ExplainUserSearch(context.Background(), app.db, models.UserQuery{Sort: sort.Name}, 50)
				if err != nil {
					t.Fatal(err)
				}
				text := strings.Join(plan, "\n")
				if !strings.Contains(text, "USING INDEX users_") && !strings.Contains(text, "Index Scan") || strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "Sort") {
					t.Errorf("sorted by %s, the plan is:\n%s", sort.Name, text)
				}
			}

			// Each search word looks its prefix up in the four indexes.
			for _, search := range []string{"USER09999", "mail04242", "last0777 first07770"} {
				plan, err := models.ExplainUserSearch(context.Background(), app.db, models.UserQuery{Search: search}, 50)
				if err != nil {
					t.Fatal(err)
				}
				text := strings.Join(plan, "\n")
				t.Logf("plan of %q on %s:\n%s", search, engine.Name, text)
				switch engine.Name {
				case "sqlite":
					for _, index := range []string{"users_username_key", "users_email_prefix", "users_first_name_prefix", "users_last_name_prefix"} {
						if !strings.Contains(text, "SEARCH u USING INDEX "+index) {
							t.Errorf("%q: the plan does not search %s", search, index)
						}
					}
					if strings.Contains(text, "SCAN u") {
						t.Errorf("%q: the plan scans the table", search)
					}
				case "postgres":
					if !strings.Contains(text, "Bitmap Index Scan on users_") || strings.Contains(text, "Seq Scan on users") {
						t.Errorf("%q: the plan does not read the indexes", search)
					}
				}
			}
		})
	}
}
