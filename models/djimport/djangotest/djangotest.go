// Package djangotest makes the lecture's Django site's database, as Django
// writes it, for the import's tests (here and in handlers). Only tests
// import it.
package djangotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"gatehouse/models/dbtest"
)

// The people populate.py makes in the lecture's Django site, with their
// Django passwords.
const (
	AlicePassword    = "alice django pw 1" // superuser, PBKDF2-SHA256, address verified in allauth
	BobPassword      = "bob django pw 2"   // staff, argon2
	CarolPassword    = "carol django pw 3" // bcrypt_sha256
	DavePassword     = "dave django pw 4"  // inactive
	JeongwooPassword = "정우 장고 비번 5"        // username 정우, PBKDF2-SHA1
	MalloryPassword  = "mallory pw 7"      // MD5, which Gatehouse does not verify
)

// siteDir is the Django project in testdata, beside this file.
func siteDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// djangoPython returns a Python that imports Django (and, for PostgreSQL,
// psycopg2): Debian's, which a virtualenv's python3 earlier on PATH may
// hide; or "" if there is none.
func djangoPython(modules string) string {
	for _, python := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(python, "-c", "import "+modules).Run() == nil {
			return python
		}
	}
	return ""
}

// SQLite returns a SQLite database of the lecture's site made by
// Django itself (populate.py) when Django is installed, or a copy of the
// one committed, made the same way, when it is not (under CI=true Django
// must be there: .ci/run installs it).
func SQLite(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "django.sqlite3")
	python := djangoPython("django, bcrypt, argon2")
	if python == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3-django (with python3-bcrypt, python3-argon2) is not installed; CI=true: .ci/run installs it")
		}
		committed, err := os.ReadFile(filepath.Join(siteDir(), "django.sqlite3"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, committed, 0o644); err != nil {
			t.Fatal(err)
		}
		return "sqlite:" + path
	}
	populate(t, python, "sqlite:"+path)
	return "sqlite:" + path
}

// Postgres returns the URL of a PostgreSQL schema that Django
// migrated and populate.py filled; the test skips without Django's
// PostgreSQL driver (CI=true: fails).
func Postgres(t testing.TB) string {
	t.Helper()
	python := djangoPython("django, bcrypt, argon2, psycopg2")
	if python == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3-django and python3-psycopg2 are not installed; CI=true: .ci/run installs them")
		}
		t.Skip("python3-django and python3-psycopg2 are not installed: apt-get install python3-django python3-psycopg2 python3-bcrypt python3-argon2")
	}
	url := dbtest.Postgres(t)
	populate(t, python, url)
	return url
}

func populate(t testing.TB, python, db string) {
	t.Helper()
	cmd := exec.Command(python, filepath.Join(siteDir(), "djangosite", "populate.py"))
	cmd.Env = append(os.Environ(), "DJANGO_DB="+db, "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("populate.py: %v\n%s", err, out)
	}
}
