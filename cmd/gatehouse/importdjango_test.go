package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/models"
	"gatehouse/models/djimport/djangotest"
)

// importCommand runs gatehouse importdjango with args into the SQLite file
// db, and returns its summary, its progress and its error.
func importCommand(t *testing.T, db string, args ...string) (out, progress string, err error) {
	t.Helper()
	var o, p bytes.Buffer
	flags := flag.NewFlagSet("importdjango", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	err = importDjango(flags, args, &settings{db: db}, &o, &p)
	return o.String(), p.String(), err
}

func countUsers(t *testing.T, db string) int64 {
	t.Helper()
	store, err := models.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	n, err := store.DB.NewSelect().Table("users").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportDjangoCommand: the summary names what was skipped and why,
// progress goes as lines where there is no terminal, a dry run says so and
// writes nothing, and a bad source is an error that says nothing came.
func TestImportDjangoCommand(t *testing.T) {
	from := djangotest.SQLite(t)
	db := filepath.Join(t.TempDir(), "gatehouse.db")

	out, _, err := importCommand(t, db, "-from", from, "-dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "Dry run: nothing was written.") || !strings.Contains(out, "People: 10 read, 8 imported") {
		t.Errorf("dry run said:\n%s", out)
	}
	if n := countUsers(t, db); n != 0 {
		t.Fatalf("the dry run wrote %d users", n)
	}

	out, progress, err := importCommand(t, db, "-from", from)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"People: 10 read, 8 imported, 0 updated, 0 imported before and left as they are, 2 skipped",
		`"bad name!" (#7): a username with characters other than letters, digits and @.+-_`,
		`"mallory" (#8): a password hash Gatehouse cannot verify`,
		`"frank" (#10): verified address alice@example.com is another account's already`,
		"Articles: 5 read, 3 imported, 0 updated, 0 imported before and left as they are, 2 skipped",
		`"Nobody's" (#4): no author`,
		"Sessions are not imported",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(progress, "imported 15 of 15 rows (100%)\n") || strings.Contains(progress, "\r") {
		t.Errorf("progress without a terminal:\n%q", progress)
	}

	out, _, err = importCommand(t, db, "-from", from)
	if err != nil || !strings.Contains(out, "0 imported, 0 updated, 8 imported before") {
		t.Errorf("second import: %v\n%s", err, out)
	}

	for _, args := range [][]string{
		{"-from", filepath.Join(t.TempDir(), "missing.sqlite3")},
		{"-from", "sqlite:" + db}, // Gatehouse's own database
		{},
	} {
		if _, _, err := importCommand(t, filepath.Join(t.TempDir(), "other.db"), args...); err == nil ||
			!(strings.Contains(err.Error(), "nothing was imported") || strings.HasPrefix(err.Error(), "usage:")) {
			t.Errorf("importdjango %q = %v, want an error saying nothing came", args, err)
		}
	}
}
