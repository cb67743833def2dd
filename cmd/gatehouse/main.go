// Command gatehouse serves Gatehouse and manages its database.
//
//	gatehouse [serve] [-addr 127.0.0.1:3000] [-db ./data/gatehouse.db] [-cookie-secure] [-access-log=false]
//	gatehouse migrate [-db …]
//	gatehouse createsuperuser [-db …] [-username u -email e -password p]
//	gatehouse changepassword [-db …] [-password p] username
//	gatehouse copydb -from sqlite:./data/gatehouse.db -to postgres://… [-force]
//	gatehouse importdjango -from sqlite:/path/to/db.sqlite3 [-db …] [-dry-run] [-update] [-user-table auth_user]
//
// -db (GATEHOUSE_DB) is a SQLite file, or a postgres:// URL;
// GATEHOUSE_SESSION_STORE=redis://… keeps session payloads in Redis.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/mail"
	"gatehouse/models/password"
	"gatehouse/views"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

// defaultMemoryLimit is the Go heap's soft limit unless GOMEMLIMIT sets one:
// a password hash's 7 MiB and 21 MiB beside it for pages and the cache. At
// 24 MiB the collector ran so often during a login flood that page views
// kept 39 % of their rate instead of 51 % (BENCHMARKS.md).
const defaultMemoryLimit = 28 << 20

// settings are read from the environment, then overridden by flags.
type settings struct {
	addr         string
	db           string
	sessionStore string
	cookieSecure bool
	accessLog    bool
	proxies      string
	smtpURL      string
	mailFrom     string
	mailDir      string
	baseURL      string
	resetTimeout time.Duration
	// requestTimeout bounds each request's work with the stores (0: models.StoreTimeout).
	requestTimeout time.Duration
	language       string
	pwnedURL       string
	pwnedMin       int
	loginByCode    bool
	require2FA     string
	cpuProfile     string
	memProfile     string
	// logger receives what the stores' clients report (serve's log).
	logger *slog.Logger
}

func run(args []string) error {
	command := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		command, args = args[0], args[1:]
	}
	flags := flag.NewFlagSet(command, flag.ContinueOnError)
	s := settings{
		addr:         envOr("GATEHOUSE_ADDR", "127.0.0.1:3000"),
		db:           envOr("GATEHOUSE_DB", "./data/gatehouse.db"),
		sessionStore: os.Getenv("GATEHOUSE_SESSION_STORE"),
		proxies:      os.Getenv("GATEHOUSE_TRUSTED_PROXIES"),
		smtpURL:      os.Getenv("GATEHOUSE_SMTP_URL"),
		mailFrom:     envOr("GATEHOUSE_MAIL_FROM", "Gatehouse <gatehouse@localhost>"),
		mailDir:      os.Getenv("GATEHOUSE_MAIL_DIR"),
		baseURL:      os.Getenv("GATEHOUSE_BASE_URL"),
		language:     envOr("GATEHOUSE_LANGUAGE", "en"),
		require2FA:   envOr("GATEHOUSE_REQUIRE_2FA", string(models.TwoFactorStaff)),
	}
	if value := os.Getenv("GATEHOUSE_PASSWORD_RESET_TIMEOUT"); value != "" {
		timeout, err := parseTimeout("password reset timeout", value)
		if err != nil {
			return err
		}
		s.resetTimeout = timeout
	}
	if value := os.Getenv("GATEHOUSE_REQUEST_TIMEOUT"); value != "" {
		timeout, err := parseTimeout("request timeout", value)
		if err != nil {
			return err
		}
		s.requestTimeout = timeout
	}
	s.pwnedURL = password.DefaultBreachURL
	if value, ok := os.LookupEnv("GATEHOUSE_PWNED_URL"); ok {
		s.pwnedURL = value // empty turns the look-up off
	}
	s.pwnedMin = 1
	if value := os.Getenv("GATEHOUSE_PWNED_MIN"); value != "" {
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("GATEHOUSE_PWNED_MIN %q: give a count of 1 or more", value)
		}
		s.pwnedMin = n
	}
	s.loginByCode = os.Getenv("GATEHOUSE_LOGIN_BY_CODE") != "off"
	if value, err := strconv.ParseBool(os.Getenv("GATEHOUSE_LOGIN_BY_CODE")); err == nil {
		s.loginByCode = value
	}
	s.cookieSecure, _ = strconv.ParseBool(os.Getenv("GATEHOUSE_COOKIE_SECURE"))
	s.accessLog = true
	if value, err := strconv.ParseBool(os.Getenv("GATEHOUSE_ACCESS_LOG")); err == nil {
		s.accessLog = value
	}
	flags.StringVar(&s.db, "db", s.db, "SQLite database file, or postgres://user@host/db URL (env GATEHOUSE_DB)")
	flags.StringVar(&s.sessionStore, "session-store", s.sessionStore, "keep session payloads in Redis: redis://host:6379/0 (env GATEHOUSE_SESSION_STORE; default: in the database)")
	flags.DurationVar(&s.requestTimeout, "request-timeout", s.requestTimeout, "how long a request's (and a connection's) work with the database and Redis may take before it answers 503 (env GATEHOUSE_REQUEST_TIMEOUT, a duration or seconds; default 10s)")

	switch command {
	case "serve":
		flags.StringVar(&s.addr, "addr", s.addr, "address to listen on (env GATEHOUSE_ADDR)")
		flags.BoolVar(&s.cookieSecure, "cookie-secure", s.cookieSecure, "mark cookies Secure, for HTTPS (env GATEHOUSE_COOKIE_SECURE)")
		flags.BoolVar(&s.accessLog, "access-log", s.accessLog, "log one line a request (env GATEHOUSE_ACCESS_LOG)")
		flags.StringVar(&s.smtpURL, "smtp-url", s.smtpURL, "deliver mail over SMTP: smtp://user:pass@host:587 (STARTTLS) or smtps://… (env GATEHOUSE_SMTP_URL); without it, .eml files")
		flags.StringVar(&s.mailFrom, "mail-from", s.mailFrom, "sender of every mail (env GATEHOUSE_MAIL_FROM)")
		flags.StringVar(&s.mailDir, "mail-dir", s.mailDir, "folder of .eml files when there is no SMTP server (env GATEHOUSE_MAIL_DIR; default: outbox/ beside the database)")
		flags.StringVar(&s.baseURL, "base-url", s.baseURL, "the site's address as users reach it, for links in mail (env GATEHOUSE_BASE_URL; default: http:// and -addr)")
		flags.DurationVar(&s.resetTimeout, "password-reset-timeout", s.resetTimeout, "how long a password reset link works (env GATEHOUSE_PASSWORD_RESET_TIMEOUT, a duration or seconds; default 1h)")
		flags.StringVar(&s.language, "language", s.language, "language for visitors whose browser asks for none the site speaks, and for the mail of accounts that chose none: en or ko (env GATEHOUSE_LANGUAGE)")
		flags.StringVar(&s.pwnedURL, "pwned-url", s.pwnedURL, "breached-password range API that new passwords are looked up in by the first 5 hex digits of their SHA-1; empty: off (env GATEHOUSE_PWNED_URL)")
		flags.IntVar(&s.pwnedMin, "pwned-min", s.pwnedMin, "refuse a new password seen this many times in breaches or more (env GATEHOUSE_PWNED_MIN)")
		flags.StringVar(&s.require2FA, "require-2fa", s.require2FA, "who must set up a second factor (TOTP or a passkey): off, staff (for the admin) or all (for every page) (env GATEHOUSE_REQUIRE_2FA)")
		flags.BoolVar(&s.loginByCode, "login-by-code", s.loginByCode, "offer sign-in codes by mail on the login page (env GATEHOUSE_LOGIN_BY_CODE=off turns them off)")
		flags.StringVar(&s.proxies, "trusted-proxies", s.proxies, "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (env GATEHOUSE_TRUSTED_PROXIES)")
		flags.StringVar(&s.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) to this file until shutdown")
		flags.StringVar(&s.memProfile, "memprofile", "", "write a heap profile (pprof) to this file at shutdown")
		if err := parseNoArgs(flags, args); err != nil {
			return err
		}
		return serve(s)
	case "migrate":
		if err := parseNoArgs(flags, args); err != nil {
			return err
		}
		store, err := s.open(context.Background())
		if err != nil {
			return err
		}
		fmt.Println("database", redactURL(s.db), "is up to date")
		return store.Close()
	case "createsuperuser":
		return createSuperuser(flags, args, &s)
	case "changepassword":
		return changePassword(flags, args, &s)
	case "copydb":
		return copyDB(flags, args)
	case "importdjango":
		return importDjango(flags, args, &s, os.Stdout, os.Stderr)
	default:
		return fmt.Errorf("unknown command %q (serve, migrate, createsuperuser, changepassword, copydb, importdjango)", command)
	}
}

// serve runs the app until SIGINT or SIGTERM, then lets in-flight requests finish.
func serve(s settings) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	policy, err := models.ParseTwoFactorPolicy(s.require2FA)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Each password hash takes 7 MiB for a moment; a soft limit has the
		// garbage collector hand it back promptly instead of letting the heap
		// grow to twice its peak.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if s.cpuProfile != "" {
		f, err := os.Create(s.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if s.memProfile != "" {
		defer writeHeapProfile(logger, s.memProfile)
	}
	proxies, err := parsePrefixes(s.proxies)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s.logger = logger
	// A newcomer's first run says what it is doing, and then what to do next.
	say := views.WithLanguage(ctx, views.LanguageByCode(s.language))
	fmt.Fprintln(os.Stderr, views.T(say, "cli.opening", views.Args{"DB": redactURL(s.db)}))
	store, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if s.mailDir == "" {
		dir := models.LocalDir(s.db)
		if dir == "" {
			dir = "data" // the database is a server's: the default SQLite file's folder
		}
		s.mailDir = filepath.Join(dir, "outbox")
	}
	if s.baseURL == "" {
		s.baseURL = "http://" + s.addr
	}
	transport, err := mail.NewTransport(s.smtpURL, s.mailDir)
	if err != nil {
		return err
	}
	app, err := handlers.New(ctx, store, handlers.Config{
		CookieSecure:         s.cookieSecure,
		TrustedProxies:       proxies,
		MailTransport:        transport,
		MailFrom:             s.mailFrom,
		BaseURL:              s.baseURL,
		PasswordResetTimeout: s.resetTimeout,
		Language:             s.language,
		RequestTimeout:       s.requestTimeout,
		BreachedPasswords:    &password.BreachChecker{URL: s.pwnedURL, Min: s.pwnedMin},
		LoginCodesOff:        !s.loginByCode,
		SocialProviders:      socialProviders(os.Environ()),
		RequireTwoFactor:     policy,
		Logger:               logger,
		AccessLog:            s.accessLog,
	})
	if err != nil {
		return err
	}

	app.Hooks().OnListen(func(fiber.ListenData) error {
		fmt.Fprintln(os.Stderr, views.T(say, "cli.serving", views.Args{"URL": "http://" + s.addr + "/"}))
		fmt.Fprintln(os.Stderr, views.T(say, "cli.next_steps", views.Args{"Command": "go run ./cmd/gatehouse createsuperuser"}))
		if s.smtpURL == "" {
			fmt.Fprintln(os.Stderr, views.T(say, "cli.outbox", views.Args{"Outbox": s.mailDir}))
		}
		fmt.Fprintln(os.Stderr, views.T(say, "cli.stop"))
		return nil
	})
	listenErr := make(chan error, 1)
	go func() { listenErr <- app.Listen(s.addr) }()
	logger.Info("gatehouse is serving", "url", "http://"+s.addr+"/", "db", redactURL(s.db))

	select {
	case err := <-listenErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	if err := app.ShutdownWithTimeout(30 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// open opens the database and session store the settings name.
func (s *settings) open(ctx context.Context) (*models.Store, error) {
	opts := []models.Option{models.WithSessionStore(s.sessionStore), models.WithTimeout(s.requestTimeout)}
	if s.logger != nil {
		opts = append(opts, models.WithLogger(s.logger))
	}
	return models.Open(ctx, s.db, opts...)
}

// redactURL hides the password in a database URL, for messages and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// parseTimeout reads a duration ("1h30m") or, as Django's setting, seconds.
func parseTimeout(name, value string) (time.Duration, error) {
	if seconds, err := strconv.Atoi(value); err == nil && seconds > 0 {
		return time.Duration(seconds) * time.Second, nil
	}
	timeout, err := time.ParseDuration(value)
	if err != nil || timeout <= 0 {
		return 0, fmt.Errorf("%s %q: give a duration such as 1h or 10s, or seconds", name, value)
	}
	return timeout, nil
}

// parsePrefixes reads comma-separated CIDRs; a bare address is its own /32 or /128.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(item)
		if err != nil {
			addr, addrErr := netip.ParseAddr(item)
			if addrErr != nil {
				return nil, fmt.Errorf("trusted proxies: %q is not a CIDR or an address", item)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		prefixes = append(prefixes, prefix.Masked())
	}
	return prefixes, nil
}

// parseNoArgs parses flags and refuses words left over, such as a command
// written after a flag ("gatehouse -db x migrate"), which would otherwise
// start the server.
func parseNoArgs(flags *flag.FlagSet, args []string) error {
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected %q: a command comes before its flags (gatehouse COMMAND [flags])", flags.Arg(0))
	}
	return nil
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// writeHeapProfile writes what the heap holds, once collected, to path.
func writeHeapProfile(logger *slog.Logger, path string) {
	f, err := os.Create(path)
	if err != nil {
		logger.Error("heap profile", "err", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		logger.Error("heap profile", "err", err)
	}
}
