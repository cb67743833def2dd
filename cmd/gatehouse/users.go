package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/uptrace/bun"
	"golang.org/x/term"

	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/views"
)

var errAborted = errors.New("aborted")

// createSuperuser creates a staff superuser, from flags or by prompting.
func createSuperuser(flags *flag.FlagSet, args []string, s *settings) error {
	username := flags.String("username", "", "username (prompted when empty)")
	email := flags.String("email", "", "email address")
	pass := flags.String("password", os.Getenv("GATEHOUSE_SUPERUSER_PASSWORD"), "password (env GATEHOUSE_SUPERUSER_PASSWORD; prompted when empty)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	store, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	db := store.DB
	in := bufio.NewReader(os.Stdin)
	prompting := *username == ""

	for {
		if *username == "" {
			*username = prompt(in, "Username: ")
		}
		*username = models.NormalizeUsername(*username)
		problem, err := newUsernameProblem(ctx, db, *username)
		if err != nil {
			return err
		}
		if problem == "" {
			break
		}
		if !interactive() {
			return fmt.Errorf("username: %s", problem)
		}
		fmt.Fprintln(os.Stderr, "Error:", problem)
		*username = ""
	}
	if *email == "" && prompting {
		*email = prompt(in, "Email address: ")
	}
	hash, err := choosePasswordHash(in, *pass, password.User{Username: *username, Email: *email})
	if err != nil {
		return err
	}
	u := &models.User{Username: *username, Email: *email, Password: hash, IsActive: true, IsStaff: true, IsSuperuser: true, NotifyNewDevice: true}
	if err := models.CreateUser(ctx, db, u); err != nil {
		return err
	}
	fmt.Println("Superuser created successfully.")
	return nil
}

// newUsernameProblem is what the signup form would say of username (in
// English, as Django's commands speak), or "".
func newUsernameProblem(ctx context.Context, db bun.IDB, username string) (string, error) {
	if username == "" {
		return "This field cannot be blank.", nil
	}
	if problem := models.UsernameProblem(username); problem != "" {
		return views.UsernameProblem(problem, username).In(ctx), nil
	}
	taken, err := models.UsernameTaken(ctx, db, username)
	if err != nil || !taken {
		return "", err
	}
	return views.UsernameDuplicate().In(ctx), nil
}

// changePassword sets a user's password and so ends all their sessions.
func changePassword(flags *flag.FlagSet, args []string, s *settings) error {
	pass := flags.String("password", "", "new password (prompted when empty)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return errors.New("usage: gatehouse changepassword [-db url] [-password p] username")
	}
	ctx := context.Background()
	store, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := models.UserByUsername(ctx, store.DB, flags.Arg(0))
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("user %q does not exist", flags.Arg(0))
	}
	if err != nil {
		return err
	}
	fmt.Printf("Changing password for user '%s'\n", u.Username)
	hash, err := choosePasswordHash(bufio.NewReader(os.Stdin), *pass,
		password.User{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName})
	if err != nil {
		return err
	}
	if _, err := models.ChangePassword(ctx, store.DB, store.Sessions, u.ID, hash, "", nil); err != nil {
		return err
	}
	fmt.Printf("Password changed successfully for user '%s'.\n", u.Username)
	return nil
}

// choosePasswordHash hashes, with production's costs, the password
// choosePassword returns.
func choosePasswordHash(in *bufio.Reader, given string, user password.User) (string, error) {
	chosen, err := choosePassword(in, given, user)
	if err != nil {
		return "", err
	}
	return password.NewHasher(password.Default).Hash(chosen)
}

// choosePassword returns given if it passes the validators, or prompts
// (twice, without echo) until a password passes.
func choosePassword(in *bufio.Reader, given string, user password.User) (string, error) {
	if given != "" {
		if problems := password.Validate(given, user); len(problems) > 0 {
			return "", fmt.Errorf("password: %s", passwordProblems(problems))
		}
		return given, nil
	}
	for {
		first := promptSecret(in, "Password: ")
		second := promptSecret(in, "Password (again): ")
		switch {
		case first != second:
			fmt.Fprintln(os.Stderr, "Error: Your passwords didn't match.")
		case first == "":
			fmt.Fprintln(os.Stderr, "Error: Blank passwords aren't allowed.")
		default:
			problems := password.Validate(first, user)
			if len(problems) == 0 {
				return first, nil
			}
			fmt.Fprintln(os.Stderr, "Error:", passwordProblems(problems))
		}
		if !interactive() {
			return "", errAborted
		}
	}
}

// passwordProblems says what the validators found, in English.
func passwordProblems(problems []password.Problem) string {
	words := make([]string, len(problems))
	for i, problem := range problems {
		words[i] = views.PasswordProblem(problem).In(context.Background())
	}
	return strings.Join(words, " ")
}

func interactive() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

func prompt(in *bufio.Reader, label string) string {
	return strings.TrimSpace(readLine(in, label))
}

func readLine(in *bufio.Reader, label string) string {
	fmt.Fprint(os.Stderr, label)
	line, _ := in.ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

// promptSecret reads a line without echo from a terminal, or plainly from a
// pipe; either way spaces around it are part of the password.
func promptSecret(in *bufio.Reader, label string) string {
	if !interactive() {
		return readLine(in, label)
	}
	fmt.Fprint(os.Stderr, label)
	secret, _ := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(secret)
}
