package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/argon2"

	"gatehouse/models"
)

// binary is the gatehouse command, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-cmd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const goodPassword = "correct horse battery"

// result is what one run of the binary printed and how it exited.
type result struct {
	code           int
	stdout, stderr string
}

// gatehouse runs the binary as a user would, in an empty directory, with
// stdin a pipe holding stdin, no GATEHOUSE_* settings but env, and args.
func gatehouse(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	for _, variable := range os.Environ() {
		if !strings.HasPrefix(variable, "GATEHOUSE_") {
			cmd.Env = append(cmd.Env, variable)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// wantSuccess fails the test unless the run exited 0 with want on stdout.
func wantSuccess(t *testing.T, res result, want string) {
	t.Helper()
	if res.code != 0 || !strings.Contains(res.stdout, want) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and %q", res.code, res.stdout, res.stderr, want)
	}
}

// wantFailure fails the test unless the run exited non-zero with want on stderr.
func wantFailure(t *testing.T, res result, want string) {
	t.Helper()
	if res.code == 0 || !strings.Contains(res.stderr, want) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want an error and %q", res.code, res.stdout, res.stderr, want)
	}
}

// openDB opens the database file the commands wrote to.
func openDB(t *testing.T, path string) *bun.DB {
	t.Helper()
	store, err := models.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store.DB
}

// count runs a SELECT COUNT(*) query.
func count(t *testing.T, db bun.IDB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// user loads a user by name; nil if there is none.
func user(t *testing.T, db bun.IDB, username string) *models.User {
	t.Helper()
	u, err := models.UserByUsername(context.Background(), db, username)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// createUser inserts an active user whose password is hashed cheaply.
func createUser(t *testing.T, db bun.IDB, username, pass string) *models.User {
	t.Helper()
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pass), salt, 1, 64, 1, 32)
	hash := fmt.Sprintf("argon2$argon2id$v=%d$m=64,t=1,p=1$%s$%s",
		argon2.Version, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	u := &models.User{Username: username, Email: username + "@example.com", Password: hash, IsActive: true}
	if err := models.CreateUser(context.Background(), db, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// passwordMatches checks pass against a stored hash by running argon2id
// itself, so the test does not lean on the code under test.
func passwordMatches(t *testing.T, pass, encoded string) bool {
	t.Helper()
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "argon2" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		t.Fatalf("stored password %q is not an argon2id hash", encoded)
	}
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil {
		t.Fatalf("parameters of %q: %v", encoded, err)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("salt or key of %q: %v", encoded, err)
	}
	got := argon2.IDKey([]byte(pass), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// wantProductionHash fails the test unless encoded is pass hashed with the
// production argon2id parameters.
func wantProductionHash(t *testing.T, pass, encoded string) {
	t.Helper()
	if !strings.HasPrefix(encoded, "argon2$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Errorf("stored password %q does not use the production parameters", encoded)
	}
	if !passwordMatches(t, pass, encoded) {
		t.Errorf("%q does not verify against the stored hash", pass)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.db")
	for range 2 {
		wantSuccess(t, gatehouse(t, "", nil, "migrate", "-db", path), "database "+path+" is up to date")
	}

	// Read the schema without models.Open, which would migrate on its own.
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"users", "sessions", "session_data", "settings", "articles", "bun_migrations"} {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s missing after migrate", table)
		}
	}
}

func TestCreateSuperuser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stdin string
		env   []string
		args  []string
	}{
		{"flags", "", nil,
			[]string{"-username", "admin", "-email", "a@example.com", "-password", goodPassword}},
		{"piped", "admin\na@example.com\n" + goodPassword + "\n" + goodPassword + "\n", nil, nil},
		{"piped with CRLF", "admin\r\na@example.com\r\n" + goodPassword + "\r\n" + goodPassword + "\r\n", nil, nil},
		{"password piped, username by flag", goodPassword + "\n" + goodPassword + "\n", nil,
			[]string{"-username", "admin", "-email", "a@example.com"}},
		{"password from the environment", "", []string{"GATEHOUSE_SUPERUSER_PASSWORD=" + goodPassword},
			[]string{"-username", "admin", "-email", "a@example.com"}},
		{"password flag over the environment", "", []string{"GATEHOUSE_SUPERUSER_PASSWORD=123"},
			[]string{"-username", "admin", "-email", "a@example.com", "-password", goodPassword}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.db")
			res := gatehouse(t, tt.stdin, tt.env, append([]string{"createsuperuser", "-db", path}, tt.args...)...)
			wantSuccess(t, res, "Superuser created successfully.")

			db := openDB(t, path)
			u := user(t, db, "admin")
			if u == nil {
				t.Fatal("no user admin after createsuperuser")
			}
			if u.Username != "admin" || u.Email != "a@example.com" || !u.IsActive || !u.IsStaff || !u.IsSuperuser {
				t.Errorf("superuser %+v, want admin <a@example.com>, active, staff and superuser", u)
			}
			wantProductionHash(t, goodPassword, u.Password)
		})
	}
}

func TestCreateSuperuserErrors(t *testing.T) {
	t.Parallel()
	asBob := func(pass string) []string {
		return []string{"-username", "bob", "-email", "b@example.com", "-password", pass}
	}
	tests := []struct {
		name  string
		stdin string
		env   []string
		args  []string
		want  string
	}{
		{"username taken", "", nil, []string{"-username", "alice", "-password", goodPassword},
			"A user with that username already exists."},
		{"username taken in another case", "", nil, []string{"-username", "ALICE", "-password", goodPassword},
			"A user with that username already exists."},
		{"piped username taken", "Alice\n", nil, nil, "A user with that username already exists."},
		{"username characters", "", nil, []string{"-username", "bob smith!", "-password", goodPassword},
			"Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."},
		{"username 151 characters", "", nil, []string{"-username", strings.Repeat("b", 151), "-password", goodPassword},
			"Ensure this value has at most 150 characters (it has 151)."},
		{"username empty on stdin", "", nil, nil, "This field cannot be blank."},
		{"password common", "", nil, asBob("sunshine1"), "This password is too common."},
		{"password common in capitals", "", nil, asBob("SunShine1"), "This password is too common."},
		{"password short", "", nil, asBob("x7#kq"), "This password is too short. It must contain at least 8 characters."},
		{"password numeric", "", nil, asBob("4920571836"), "This password is entirely numeric."},
		{"password like username", "", nil, []string{"-username", "margaret", "-password", "margaret1"},
			"The password is too similar to the username."},
		{"password common in the environment", "", []string{"GATEHOUSE_SUPERUSER_PASSWORD=sunshine1"},
			[]string{"-username", "bob"}, "This password is too common."},
		{"piped passwords differ", "bob\nb@example.com\n" + goodPassword + "\n" + goodPassword + "!\n", nil, nil,
			"Your passwords didn't match."},
		{"piped password blank", "bob\nb@example.com\n\n\n", nil, nil, "Blank passwords aren't allowed."},
		{"piped password common", "bob\nb@example.com\nsunshine1\nsunshine1\n", nil, nil, "This password is too common."},
		{"piped password missing", "bob\nb@example.com\n", nil, nil, "aborted"},
		{"unknown flag", "", nil, []string{"-superuser"}, "flag provided but not defined: -superuser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.db")
			db := openDB(t, path)
			createUser(t, db, "alice", goodPassword)

			res := gatehouse(t, tt.stdin, tt.env, append([]string{"createsuperuser", "-db", path}, tt.args...)...)
			wantFailure(t, res, tt.want)
			if strings.Contains(res.stdout, "created") {
				t.Errorf("stdout %q claims success", res.stdout)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM users"); n != 1 {
				t.Errorf("%d users after a failed createsuperuser, want alice alone", n)
			}
		})
	}
}

// sessionFixture is alice and bob with two live sessions for alice, one for
// bob, and a payload row for each session.
func sessionFixture(t *testing.T, db bun.IDB) (alice, bob *models.User) {
	t.Helper()
	alice = createUser(t, db, "alice", goodPassword)
	bob = createUser(t, db, "bob", goodPassword)
	now := time.Now().UTC()
	for key, owner := range map[string]int64{"alice-laptop": alice.ID, "alice-phone": alice.ID, "bob-laptop": bob.ID} {
		_, err := db.NewRaw("INSERT INTO sessions (key, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			key, owner, now, now, now.Add(24*time.Hour)).Exec(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.NewRaw("INSERT INTO session_data (k, v, e) VALUES (?, ?, ?)",
			key, []byte("payload"), now.Add(24*time.Hour).Unix()).Exec(context.Background())
		if err != nil {
			t.Fatal(err)
		}
	}
	return alice, bob
}

// sessionCounts is how many session index and payload rows remain per owner.
func sessionCounts(t *testing.T, db bun.IDB, prefix string) (sessions, payloads int) {
	t.Helper()
	return count(t, db, "SELECT COUNT(*) FROM sessions WHERE key LIKE ?", prefix+"-%"),
		count(t, db, "SELECT COUNT(*) FROM session_data WHERE k LIKE ?", prefix+"-%")
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	const newPassword = "tangerine typewriter 42"
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"flag", "", []string{"-password", newPassword, "alice"}},
		{"piped", newPassword + "\n" + newPassword + "\n", []string{"alice"}},
		{"username in another case", "", []string{"-password", newPassword, "ALICE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.db")
			db := openDB(t, path)
			alice, bob := sessionFixture(t, db)

			res := gatehouse(t, tt.stdin, nil, append([]string{"changepassword", "-db", path}, tt.args...)...)
			wantSuccess(t, res, "Password changed successfully for user 'alice'.")

			u := user(t, db, "alice")
			if u.Password == alice.Password {
				t.Fatal("alice's stored hash did not change")
			}
			wantProductionHash(t, newPassword, u.Password)
			if passwordMatches(t, goodPassword, u.Password) {
				t.Error("the old password still verifies")
			}
			if sessions, payloads := sessionCounts(t, db, "alice"); sessions != 0 || payloads != 0 {
				t.Errorf("alice keeps %d sessions and %d payloads, want none", sessions, payloads)
			}
			if sessions, payloads := sessionCounts(t, db, "bob"); sessions != 1 || payloads != 1 {
				t.Errorf("bob keeps %d sessions and %d payloads, want his one", sessions, payloads)
			}
			if got := user(t, db, "bob"); got.Password != bob.Password {
				t.Error("bob's password changed too")
			}
		})
	}
}

func TestChangePasswordErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown user", "", []string{"-password", "tangerine typewriter 42", "nobody"}, `user "nobody" does not exist`},
		{"no username", "", []string{"-password", "tangerine typewriter 42"}, "usage: gatehouse changepassword"},
		{"two usernames", "", []string{"alice", "bob"}, "usage: gatehouse changepassword"},
		{"password common", "", []string{"-password", "sunshine1", "alice"}, "This password is too common."},
		{"password like username", "", []string{"-password", "alice1234", "alice"}, "The password is too similar to the username."},
		{"piped passwords differ", "tangerine typewriter 42\ntangerine typewriter 43\n", []string{"alice"}, "Your passwords didn't match."},
		{"piped password short", "x7#kq\nx7#kq\n", []string{"alice"}, "This password is too short."},
		{"piped password missing", "", []string{"alice"}, "aborted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.db")
			db := openDB(t, path)
			alice, _ := sessionFixture(t, db)

			res := gatehouse(t, tt.stdin, nil, append([]string{"changepassword", "-db", path}, tt.args...)...)
			wantFailure(t, res, tt.want)
			if strings.Contains(res.stdout, "successfully") {
				t.Errorf("stdout %q claims success", res.stdout)
			}
			if got := user(t, db, "alice"); got.Password != alice.Password {
				t.Error("alice's password changed")
			}
			if sessions, payloads := sessionCounts(t, db, "alice"); sessions != 2 || payloads != 2 {
				t.Errorf("alice keeps %d sessions and %d payloads, want both", sessions, payloads)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"unknowncommand", "createuser"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			res := gatehouse(t, "", nil, command)
			wantFailure(t, res, fmt.Sprintf("unknown command %q", command))
			for _, known := range []string{"serve", "migrate", "createsuperuser", "changepassword"} {
				if !strings.Contains(res.stderr, known) {
					t.Errorf("stderr %q does not list %s", res.stderr, known)
				}
			}
		})
	}
}

func TestCommandAfterFlag(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-db", "x.db", "-addr", "127.0.0.1:0", "migrate"}, {"migrate", "extra"}} {
		wantFailure(t, gatehouse(t, "", nil, args...), "a command comes before its flags")
	}
}

func TestPipedPasswordKeepsSpaces(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.db")
	spaced := "  " + goodPassword + "  "
	res := gatehouse(t, "admin\na@example.com\n"+spaced+"\n"+spaced+"\n", nil, "createsuperuser", "-db", path)
	wantSuccess(t, res, "Superuser created successfully.")
	if u := user(t, openDB(t, path), "admin"); !passwordMatches(t, spaced, u.Password) {
		t.Fatal("the spaces around a piped password were dropped")
	}
}

func TestServeSaysWhatToDoNext(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	in := startInstance(t, addr, filepath.Join(t.TempDir(), "first.db"))
	// The OnListen hook prints just as the port opens: the first answer may
	// come a moment before the lines are written, which the exit waits for.
	in.stop()
	log := in.logText()
	for _, want := range []string{
		"Opening the database",
		"Gatehouse is running: open http://" + addr + "/ in your browser.",
		"go run ./cmd/gatehouse createsuperuser",
		"written as .eml files to",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the first run's output lacks %q:\n%s", want, log)
		}
	}
	if strings.Index(log, "Opening the database") > strings.Index(log, "Gatehouse is running") {
		t.Errorf("the output says it serves before it opens the database:\n%s", log)
	}
}
