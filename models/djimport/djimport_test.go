package djimport_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/djimport"
	"gatehouse/models/djimport/djangotest"
	"gatehouse/models/social"
)

// sites are the lecture's Django site on each engine, each imported into
// Gatehouse on the same engine.
var sites = []struct {
	name          string
	django, house func(t testing.TB) string
}{
	{"sqlite", djangotest.SQLite, dbtest.SQLite},
	{"postgres", djangotest.Postgres, dbtest.Postgres},
}

func open(t *testing.T, url string) *bun.DB { return openB(t, url) }

func openB(t testing.TB, url string) *bun.DB {
	t.Helper()
	store, err := models.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store.DB
}

func names(problems []djimport.Problem) []string {
	var out []string
	for _, p := range problems {
		out = append(out, p.Name)
	}
	return out
}

// snapshot is what an import may change in Gatehouse, as text.
func snapshot(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var rows []string
	for _, query := range []string{
		"SELECT username || '|' || password || '|' || email || '|' || CAST(email_verified AS TEXT) || '|' || CAST(is_active AS TEXT) || '|' || CAST(django_id AS TEXT) FROM users ORDER BY id",
		"SELECT title || '|' || content || '|' || CAST(author_id AS TEXT) || '|' || CAST(django_id AS TEXT) FROM articles ORDER BY id",
		"SELECT CAST(user_id AS TEXT) || '|' || kind FROM security_events ORDER BY id",
		"SELECT action || '|' || object_repr FROM admin_log ORDER BY id",
	} {
		var got []string
		if err := db.NewRaw(query).Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, strings.Join(got, "\n"))
	}
	return rows
}

func TestImportDjangoSite(t *testing.T) {
	for _, site := range sites {
		t.Run(site.name, func(t *testing.T) {
			ctx := context.Background()
			from := site.django(t)
			db := open(t, site.house(t))
			s, err := djimport.Import(ctx, db, from, djimport.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Users != 10 || s.Imported != 8 || s.Updated != 0 || s.Unchanged != 0 {
				t.Errorf("people: %+v", s)
			}
			if got, want := names(s.Skipped), []string{"bad name!", "ALICE"}; !reflect.DeepEqual(got, want) {
				t.Errorf("skipped %q, want %q", got, want)
			}
			if got, want := names(s.Unusable), []string{"erin", "mallory"}; !reflect.DeepEqual(got, want) {
				t.Errorf("unusable %q, want %q", got, want)
			}
			if got, want := names(s.Unconfirmed), []string{"frank"}; !reflect.DeepEqual(got, want) {
				t.Errorf("unconfirmed %q, want %q", got, want)
			}
			if s.Articles != 5 || s.ArticlesImported != 3 {
				t.Errorf("articles: %+v", s)
			}
			if got, want := names(s.ArticlesSkipped), []string{"Nobody's", "From a bad name"}; !reflect.DeepEqual(got, want) {
				t.Errorf("articles skipped %q, want %q", got, want)
			}

			alice, err := models.UserByUsername(ctx, db, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if !alice.IsStaff || !alice.IsSuperuser || !alice.IsActive || !alice.EmailVerified ||
				alice.Email != "Alice@Example.com" || alice.FirstName != "Alice" || alice.LastName != "Kim" ||
				!strings.HasPrefix(alice.Password, "pbkdf2_sha256$") || alice.DateJoined.Year() != 2024 || alice.LastLogin.IsZero() {
				t.Errorf("alice: %+v", alice)
			}
			for username, want := range map[string]string{"bob": "argon2$argon2id$", "carol": "bcrypt_sha256$", "정우": "pbkdf2_sha1$", "erin": "!", "mallory": "!"} {
				u, err := models.UserByUsername(ctx, db, username)
				if err != nil {
					t.Fatalf("%s: %v", username, err)
				}
				if !strings.HasPrefix(u.Password, want) || u.EmailVerified {
					t.Errorf("%s: password %.20s…, verified %v; want %s…, unverified", username, u.Password, u.EmailVerified, want)
				}
			}
			if mallory, _ := models.UserByUsername(ctx, db, "mallory"); mallory.Password != "!" {
				t.Errorf("mallory's MD5 hash kept: %q", mallory.Password)
			}
			if dave, _ := models.UserByUsername(ctx, db, "dave"); dave.IsActive {
				t.Error("dave is active")
			}
			var kinds []string
			if err := db.NewRaw("SELECT kind FROM security_events").Scan(ctx, &kinds); err != nil {
				t.Fatal(err)
			}
			if len(kinds) != 8 || kinds[0] != models.EventImported {
				t.Errorf("security log: %q, want 8 %q", kinds, models.EventImported)
			}
			log, err := models.AdminLog(ctx, db, models.AdminLogFilter{}, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 1 || log[0].Action != models.ActionImport || log[0].Actor != models.ImportActor || log[0].ObjectRepr != models.NewDetail("django_import", "People", "8", "Articles", "3", "PeopleUpdated", "0", "ArticlesUpdated", "0").String() {
				t.Errorf("admin log: %+v", log)
			}
			var authors []string
			if err := db.NewRaw("SELECT u.username FROM articles a JOIN users u ON u.id = a.author_id ORDER BY a.id").Scan(ctx, &authors); err != nil {
				t.Fatal(err)
			}
			if want := []string{"alice", "carol", "정우"}; !reflect.DeepEqual(authors, want) {
				t.Errorf("authors %q, want %q", authors, want)
			}

			// A second import changes nothing.
			before := snapshot(t, db)
			again, err := djimport.Import(ctx, db, from, djimport.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Imported != 0 || again.Unchanged != 8 || again.ArticlesImported != 0 || again.ArticlesUnchanged != 3 || len(again.Unusable) != 0 {
				t.Errorf("second import: %+v", again)
			}
			if after := snapshot(t, db); !reflect.DeepEqual(before, after) {
				t.Errorf("the second import changed Gatehouse:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

// TestImportLeavesAccountsMadeHere: a username taken in Gatehouse, in any
// letter case, is reported and left alone, unless -update.
func TestImportLeavesAccountsMadeHere(t *testing.T) {
	ctx := context.Background()
	from := djangotest.SQLite(t)
	db := open(t, dbtest.SQLite(t))
	squatter := &models.User{Username: "Carol", Password: "!", Email: "carol@here.example", IsActive: true}
	if err := models.CreateUser(ctx, db, squatter); err != nil {
		t.Fatal(err)
	}
	// Ways in of whoever made "Carol" here, which -update must not hand over.
	if err := social.Link(ctx, db, squatter.ID, "mock", "squatter-subject", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := models.TrustBrowser(ctx, db, squatter.ID, "fp", "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	s, err := djimport.Import(ctx, db, from, djimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(s.Skipped); !reflect.DeepEqual(got, []string{"carol", "bad name!", "ALICE"}) || s.Imported != 7 {
		t.Errorf("skipped %q, imported %d", got, s.Imported)
	}
	if s.ArticlesImported != 2 || s.ArticlesSkipped[0].Name != "Hello from Django" {
		t.Errorf("carol's article: %+v", s)
	}
	carol, _ := models.UserByUsername(ctx, db, "carol")
	if carol.Username != "Carol" || carol.Email != "carol@here.example" {
		t.Errorf("the account made here changed: %+v", carol)
	}

	s, err = djimport.Import(ctx, db, from, djimport.Options{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Updated != 8 || s.Imported != 0 || s.ArticlesImported != 1 || s.ArticlesUpdated != 2 {
		t.Errorf("-update: %+v", s)
	}
	carol, _ = models.UserByUsername(ctx, db, "carol")
	if carol.Username != "carol" || carol.Email != "carol@example.com" || !strings.HasPrefix(carol.Password, "bcrypt_sha256$") {
		t.Errorf("-update left carol: %+v", carol)
	}
	for _, table := range []string{"social_accounts", "trusted_browsers"} {
		var n int
		if err := db.NewRaw("SELECT count(*) FROM "+table+" WHERE user_id = ?", carol.ID).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("-update left %d %s of the account's maker (%v)", n, table, err)
		}
	}
}

// TestImportDryRunWritesNothing: the same summary, and no row.
func TestImportDryRunWritesNothing(t *testing.T) {
	ctx := context.Background()
	from := djangotest.SQLite(t)
	db := open(t, dbtest.SQLite(t))
	before := snapshot(t, db)
	dry, err := djimport.Import(ctx, db, from, djimport.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("a dry run wrote: %q", after)
	}
	real, err := djimport.Import(ctx, db, from, djimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dry, real) {
		t.Errorf("dry run said %+v, the import did %+v", dry, real)
	}
}

// TestImportFailureLeavesNothing: an import that fails midway (here the
// context ends after the first rows are written) leaves Gatehouse as it was.
func TestImportFailureLeavesNothing(t *testing.T) {
	from := djangotest.SQLite(t)
	db := open(t, dbtest.SQLite(t))
	before := snapshot(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	written := 0
	_, err := djimport.Import(ctx, db, from, djimport.Options{Progress: func(done, total int) {
		written = done
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || written == 0 {
		t.Fatalf("Import = %v after %d rows; want the context's end after some", err, written)
	}
	if after := snapshot(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("a failed import left: %q", after)
	}
}

// TestImportWithoutAllauth: Django alone verifies no address, so none is
// imported confirmed.
func TestImportWithoutAllauth(t *testing.T) {
	ctx := context.Background()
	from := djangotest.SQLite(t)
	src, err := sql.Open("sqlite3", strings.TrimPrefix(from, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Exec("DROP TABLE account_emailaddress"); err != nil {
		t.Fatal(err)
	}
	src.Close()
	db := open(t, dbtest.SQLite(t))
	s, err := djimport.Import(ctx, db, from, djimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var verified int
	if err := db.NewRaw("SELECT count(*) FROM users WHERE email_verified").Scan(ctx, &verified); err != nil {
		t.Fatal(err)
	}
	if verified != 0 || len(s.Unconfirmed) != 0 || s.Imported != 8 {
		t.Errorf("%d verified addresses, summary %+v", verified, s)
	}
}

// TestImportRefusesBadSources: each a clear error, and nothing written.
func TestImportRefusesBadSources(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.sqlite3")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	gatehouseFile := filepath.Join(dir, "gatehouse.db")
	open(t, "sqlite:"+gatehouseFile) // a database, but Gatehouse's, not Django's
	db := open(t, dbtest.SQLite(t))
	before := snapshot(t, db)
	for _, c := range []struct {
		name, from, table, want string
	}{
		{"missing file", "sqlite:" + filepath.Join(dir, "missing.sqlite3"), "", "no such file"},
		{"a folder", "sqlite:" + dir, "", "is not a file"},
		{"not a database", "sqlite:" + garbage, "", "not a database"},
		{"not Django's", "sqlite:" + gatehouseFile, "", "not a Django database: it has no auth_user table"},
		{"a table name that is SQL", "sqlite:" + gatehouseFile, "users; DROP TABLE users", "is not a table name"},
		{"no PostgreSQL there", "postgres://postgres@127.0.0.1:1/nothing?connect_timeout=2", "", "unable to open the Django database"},
		{"another kind of URL", "mysql://root@localhost/site", "", "sqlite:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := djimport.Import(ctx, db, c.from, djimport.Options{UserTable: c.table})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Import(%s) = %v, want an error saying %q", c.from, err, c.want)
			}
		})
	}
	if after := snapshot(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused import wrote: %q", after)
	}
}
