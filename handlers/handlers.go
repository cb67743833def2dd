// Package handlers is Gatehouse's HTTP layer: routes, middleware and the
// handlers that turn requests into model calls and rendered views.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/storage/sqlite3/v2"
	"github.com/uptrace/bun"
	"github.com/valyala/bytebufferpool"

	"gatehouse/models"
	"gatehouse/models/hashpool"
	"gatehouse/models/password"
	"gatehouse/views"
)

// Config is what the app needs besides its database.
type Config struct {
	// CookieSecure marks cookies Secure, for a site served over HTTPS.
	CookieSecure bool
	// PasswordParams are argon2id's costs; tests lower them, as Django's test
	// settings do, and production keeps password.Default.
	PasswordParams password.Params
	// Logger receives errors and, with AccessLog, one line a request.
	Logger    *slog.Logger
	AccessLog bool
}

// Handler holds everything the handlers need; there is no package-level state.
type Handler struct {
	db           *bun.DB
	sessions     *session.Store
	hasher       *password.Hasher
	secret       []byte
	csrfTokens   csrfTokens
	cache        *models.Cache
	routes       routeTable // filled in by register, read by middleware
	cookieSecure bool
	log          *slog.Logger
}

// Session and cookie lifetimes.
const (
	// browserSessionAge is the server-side life of a login without "remember
	// me"; its cookie has no expiry, so it also ends with the browser.
	browserSessionAge = 12 * time.Hour
	// rememberSessionAge is Django's SESSION_COOKIE_AGE: two weeks.
	rememberSessionAge = 14 * 24 * time.Hour
	// lastSeenInterval bounds how often a session's last-seen time is written.
	lastSeenInterval = time.Minute
	// bodyLimit is the largest request body accepted; larger ones get 413.
	bodyLimit = 1 << 20
	// cacheLimit bounds how many query results the cache holds.
	cacheLimit = 1000
)

// New builds the Fiber app over db: middleware, routes and error pages.
func New(ctx context.Context, db *bun.DB, cfg Config) (*fiber.App, error) {
	secret, err := models.SecretKey(ctx, db)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.PasswordParams == (password.Params{}) {
		cfg.PasswordParams = password.Default
	}
	cache, err := models.NewCache(ctx, db, cacheLimit)
	if err != nil {
		return nil, err
	}
	storage := sqlite3.NewFromConnection(db.DB, sqlite3.Config{Table: models.SessionDataTable, GCInterval: time.Minute})
	h := &Handler{
		db: db,
		sessions: session.New(session.Config{
			Storage:           storage,
			KeyLookup:         "cookie:" + sessionCookie,
			CookiePath:        "/",
			CookieSecure:      cfg.CookieSecure,
			CookieHTTPOnly:    true,
			CookieSameSite:    fiber.CookieSameSiteLaxMode,
			CookieSessionOnly: true,
			Expiration:        browserSessionAge,
			KeyGenerator:      newSessionKey,
		}),
		// Half the CPUs may hash at once: a flood of logins leaves the rest for pages.
		hasher:       password.NewHasher(cfg.PasswordParams, password.WithScheduler(hashpool.New(hashpool.Config{Concurrent: max(1, runtime.NumCPU()/2), MaxWaiting: 0}).Run)),
		secret:       secret,
		csrfTokens:   csrfTokens{secret: secret},
		cache:        cache,
		cookieSecure: cfg.CookieSecure,
		log:          cfg.Logger,
	}

	app := fiber.New(fiber.Config{
		AppName:       "Gatehouse",
		StrictRouting: true,
		CaseSensitive: true,
		Immutable:     true, // strings from the request may outlive the handler (sessions, logs)
		BodyLimit:     bodyLimit,
		// A page and its headers fit the write buffer, and go out in one write.
		WriteBufferSize:       16 << 10,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		ErrorHandler:          h.ErrorHandler,
		DisableStartupMessage: true,
	})
	stopCleaner := h.cleanExpiredSessions(time.Hour)
	app.Hooks().OnShutdown(func() error {
		stopCleaner()
		return errors.Join(storage.Close(), cache.Close())
	})

	app.Use(recover.New())
	if cfg.AccessLog {
		app.Use(h.accessLog)
	}
	app.Use(securityHeaders, h.appendSlash, rejectBadText)
	h.register(app)
	return app, nil
}

// register adds every route; login-only and anonymous-only checks, and
// no-store caching, are per route.
func (h *Handler) register(app *fiber.App) {
	// Served before the session and CSRF middleware: they need neither.
	app.Get("/healthz", h.Healthz)
	app.Get("/assets/:name", h.Asset)

	app.Use(h.loadUser, h.csrfMiddleware())

	app.Get("/", h.Home)
	app.Get("/articles/", h.ArticleIndex)
	app.Get("/articles/create/", h.loginRequired, h.ArticleCreatePage)
	app.Post("/articles/create/", h.loginRequired, h.ArticleCreateSubmit)
	app.Get("/articles/:id/", h.ArticleDetail)
	app.Get("/articles/:id/update/", h.loginRequired, h.ArticleEditPage)
	app.Post("/articles/:id/update/", h.loginRequired, h.ArticleEditSubmit)
	app.Post("/articles/:id/delete/", h.loginRequiredThen(articlePage), h.ArticleDelete)

	app.Get("/accounts/login/", noStore, h.anonymousOnly, h.LoginPage)
	app.Post("/accounts/login/", noStore, h.anonymousOnly, h.LoginSubmit)
	app.Post("/accounts/logout/", h.Logout)
	app.Get("/accounts/signup/", noStore, h.anonymousOnly, h.SignupPage)
	app.Post("/accounts/signup/", noStore, h.anonymousOnly, h.SignupSubmit)
	app.Get("/accounts/update/", noStore, h.loginRequired, h.ProfilePage)
	app.Post("/accounts/update/", noStore, h.loginRequired, h.ProfileSubmit)
	app.Get("/accounts/password/", noStore, h.loginRequired, h.PasswordPage)
	app.Post("/accounts/password/", noStore, h.loginRequired, h.PasswordSubmit)
	app.Post("/accounts/delete/", noStore, h.loginRequiredThen(fixedPage("/articles/")), h.AccountDelete)

	h.routes = newRouteTable(app)
	answerOtherMethods(app, h.routes)
}

// Home sends visitors to the articles, as the seed's root URL does.
func (h *Handler) Home(c *fiber.Ctx) error {
	return c.Redirect("/articles/", fiber.StatusFound)
}

// Healthz answers 200 while the database answers.
func (h *Handler) Healthz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := models.Ping(ctx, h.db); err != nil {
		h.log.Error("health check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable\n")
	}
	return c.SendString("ok\n")
}

// snapshot is the request's view of the cache, taken at its first use: all
// cached reads of one request see the database as of one moment.
func (h *Handler) snapshot(c *fiber.Ctx) (models.Snapshot, error) {
	if snapshot, ok := c.Locals(localSnapshot).(models.Snapshot); ok {
		return snapshot, nil
	}
	snapshot, err := h.cache.Snapshot(c.UserContext())
	if err != nil {
		return snapshot, err
	}
	c.Locals(localSnapshot, snapshot)
	return snapshot, nil
}

const localSnapshot = "snapshot"

// render writes component as the response, rendered to a buffer first so a
// failure still yields a clean error page.
func (h *Handler) render(c *fiber.Ctx, status int, component templ.Component) error {
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	ctx := views.WithPage(c.UserContext(), h.page(c))
	if err := component.Render(ctx, buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// SetBody copies: the buffer goes back to the pool before the response is written.
	c.Response().SetBody(buf.Bytes())
	return nil
}

// renderForm answers a form submission: the form alone to htmx, which swaps
// it in place, or the whole page to a plain browser.
func (h *Handler) renderForm(c *fiber.Ctx, status int, form, page templ.Component) error {
	if isHTMX(c) {
		return h.render(c, status, form)
	}
	return h.render(c, status, page)
}

// page gathers what every component may read. A full page shows, and so
// uses up, the pending flash messages; an htmx fragment leaves them.
func (h *Handler) page(c *fiber.Ctx) views.Page {
	p := views.Page{User: currentUser(c), CSRFToken: csrfToken(c)}
	if !isHTMX(c) {
		p.Messages = h.takeMessages(c)
	}
	return p
}

// redirect sends the browser to url after a successful POST: 200 with
// HX-Redirect for htmx, which ignores the Location of a 3xx, and 303 otherwise.
func (h *Handler) redirect(c *fiber.Ctx, url string) error {
	if isHTMX(c) {
		c.Set("HX-Redirect", url)
		return c.SendStatus(fiber.StatusOK)
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}

// isHTMX reports whether htmx made the request for a fragment: not a boosted
// link and not a history restore, which both want the whole page.
func isHTMX(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" && c.Get("HX-History-Restore-Request") != "true"
}

// ErrorHandler logs a failed request (5xx as errors, 4xx as warnings) and
// answers with an error page that reveals nothing of the cause.
func (h *Handler) ErrorHandler(c *fiber.Ctx, err error) error {
	status, message := fiber.StatusInternalServerError, ""
	var clientErr *clientError
	var fiberErr *fiber.Error
	switch {
	case errors.As(err, &clientErr):
		status, message = clientErr.status, clientErr.message
	case errors.As(err, &fiberErr):
		status = fiberErr.Code
	}
	title, generic := statusText(status)
	if message == "" {
		message = generic
	}
	if status >= fiber.StatusInternalServerError {
		h.log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	} else {
		h.log.Warn("request refused", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	}
	if renderErr := h.render(c, status, views.Error(status, title, message)); renderErr != nil {
		h.log.Error("error page failed", "err", renderErr)
		return c.Status(status).SendString(title)
	}
	return nil
}

// clientError is a 4xx whose message is meant for the user.
type clientError struct {
	status  int
	message string
}

func (e *clientError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.message) }

// statusText gives the title and generic explanation of an error status.
func statusText(status int) (title, message string) {
	switch status {
	case fiber.StatusBadRequest:
		return "Bad request", "The request could not be understood."
	case fiber.StatusForbidden:
		return "Forbidden", "You do not have permission to do that."
	case fiber.StatusNotFound:
		return "Not found", "There is no page at this address."
	case fiber.StatusMethodNotAllowed:
		return "Method not allowed", "This address does not accept that kind of request."
	case fiber.StatusRequestEntityTooLarge:
		return "Request too large", "What you sent is larger than this site accepts."
	case fiber.StatusTooManyRequests:
		return "Too many requests", "Please wait a while and try again."
	}
	if status >= 400 && status < 500 {
		return "Request refused", "The request could not be handled."
	}
	return "Server error", "Something went wrong on our side. Please try again later."
}

// accessLog writes one line a request.
func (h *Handler) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	var fiberErr *fiber.Error
	if errors.As(err, &fiberErr) {
		status = fiberErr.Code
	}
	h.log.Info("request", "method", c.Method(), "path", c.Path(), "status", status, "duration", time.Since(start))
	return err
}

// cleanExpiredSessions deletes expired session index rows every interval
// until the returned function is called.
func (h *Handler) cleanExpiredSessions(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-ticker.C:
				if err := models.DeleteExpiredSessions(context.Background(), h.db, now); err != nil {
					h.log.Error("cleaning sessions failed", "err", err)
				}
			}
		}
	}()
	return func() { close(done) }
}

// fixedPage names the page to return to after logging in, whatever the request.
func fixedPage(path string) func(*fiber.Ctx) string {
	return func(*fiber.Ctx) string { return path }
}

// hasTrailingSlash reports whether path ends in a slash.
func hasTrailingSlash(path string) bool { return strings.HasSuffix(path, "/") }
