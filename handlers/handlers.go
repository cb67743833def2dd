// Package handlers is Gatehouse's HTTP layer: routes, middleware and the
// handlers that turn requests into model calls and rendered views.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/uptrace/bun"
	"github.com/valyala/bytebufferpool"

	"gatehouse/models"
	"gatehouse/models/hashpool"
	"gatehouse/models/mail"
	"gatehouse/models/password"
	"gatehouse/models/social"
	"gatehouse/models/throttle"
	"gatehouse/models/token"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// Config is what the app needs besides its database.
type Config struct {
	// CookieSecure marks cookies Secure, for a site served over HTTPS.
	CookieSecure bool
	// PasswordParams are argon2id's costs; tests lower them, as Django's test
	// settings do, and production keeps password.Default.
	PasswordParams password.Params
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; without them the client is the TCP peer.
	TrustedProxies []netip.Prefix
	// MailTransport delivers the outbox's mail: SMTP, or .eml files.
	MailTransport mail.Transport
	// MailFrom is the sender of every mail.
	MailFrom string
	// BaseURL is the site's address as users reach it, for links in mail.
	BaseURL string
	// PasswordResetTimeout is how long a reset link works (models' default if zero).
	PasswordResetTimeout time.Duration
	// Now is the app's one clock (time.Now if nil): sessions, tokens,
	// throttles, the second step and sudo mode read it; tests move it forward.
	Now func() time.Time
	// Language is the code of the language ("en", "ko") for a visitor whose
	// browser asks for none the site speaks, and for the mail of an account
	// that chose none; English if empty.
	Language string
	// RequestTimeout bounds each request's work with the stores; past it
	// the request answers 503 and commits nothing (models.StoreTimeout if zero).
	RequestTimeout time.Duration
	// BreachedPasswords looks new passwords up in a breached-password range
	// API (k-anonymity); nil, or one without a URL, checks none.
	BreachedPasswords *password.BreachChecker
	// RequireTwoFactor says who must have a second factor (models'
	// TwoFactorStaff when empty: staff, for the admin).
	RequireTwoFactor models.TwoFactorPolicy
	// SocialProviders are the sites people may log in with (none by
	// default), in the order the login page offers them.
	SocialProviders []social.Provider
	// LoginCodesOff turns off sign-in codes by mail.
	LoginCodesOff bool
	// RefusalHold is how long a refused login (by the throttle, or as the
	// hasher is busy) waits before its answer (refusalHold if zero; none
	// if negative).
	RefusalHold time.Duration
	// Logger receives errors and, with AccessLog, one line a request.
	Logger    *slog.Logger
	AccessLog bool
}

// handler holds everything the handlers need; there is no package-level state.
type handler struct {
	db             *bun.DB
	sessions       *session.Store
	sessionStorage models.SessionStorage // where sessions keeps payloads, for models to end them
	hasher         *password.Hasher
	hashQueue      *hashpool.Pool
	breached       *password.BreachChecker
	loginCodes     bool // sign-in codes by mail are offered
	twoFactorRule  models.TwoFactorPolicy
	social         map[string]*social.Client // by name
	socialButtons  []views.SocialProvider    // in the login page's order
	// contentSecurityPolicy is the header every answer carries.
	contentSecurityPolicy string
	signer                signer
	csrfTokens            csrfTokens
	cache                 *models.Cache
	// renderedEntries keeps index entries by what they show, so that an
	// index page loaded again renders only its new entries.
	renderedEntries *views.RenderedEntries
	throttle        *throttle.Limiter
	twoFactor       *twofactor.Store
	webAuthn        *webauthn.WebAuthn // nil: passkeys are off (the base URL is no domain name)
	mail            *mail.Sender
	background      sync.WaitGroup  // work that outlives its request (inBackground), waited for at shutdown
	lifetime        context.Context // the server's: ended at shutdown
	endLifetime     context.CancelFunc
	baseURL         string
	refusalHold     time.Duration
	heldRefusals    chan struct{} // a slot for each refused login being held
	resetTokens     token.Maker
	verifyTokens    token.Maker
	routeTable      routeTable // filled in by routes, read by middleware
	cookieSecure    bool
	trustedProxies  []netip.Prefix
	log             *slog.Logger
	requestTimeout  time.Duration
	now             func() time.Time
	// defaultLanguage is Config.Language: the last choice of chooseLanguage.
	defaultLanguage *views.Language
}

// Session and cookie lifetimes.
const (
	// browserSessionAge is the server-side life of a login without "remember
	// me"; its cookie has no expiry, so it also ends with the browser.
	browserSessionAge = 12 * time.Hour
	// rememberSessionAge is Django's SESSION_COOKIE_AGE: two weeks.
	rememberSessionAge = 14 * 24 * time.Hour
	// browserIdleTimeout and rememberIdleTimeout end a session left unused
	// that long (ASVS 7.3.1); last-seen is written once a minute at most.
	browserIdleTimeout  = 2 * time.Hour
	rememberIdleTimeout = 7 * 24 * time.Hour
	// lastSeenInterval bounds how often a session's last-seen time is written.
	lastSeenInterval = time.Minute
	// bodyLimit is the largest request body accepted; larger ones get 413.
	bodyLimit = 1 << 20
	// cacheLimit bounds how many query results the cache holds.
	cacheLimit = 1000
	// maxHashWait bounds how long a password check may queue for the hasher.
	maxHashWait = time.Second
	// refusalHold is how long a refused login (by the throttle, or as the
	// hasher is busy) waits before its answer: a client guessing in a loop
	// then asks twice a second rather than as fast as refusals are made,
	// and page views keep the CPU during a flood (BENCHMARKS.md, (b)
	// during (e32)). The answer itself is the same. maxHeldRefusals bounds
	// the connections held at once: past it, refusals are answered at
	// once, so a flood cannot tie up the server's connections.
	refusalHold     = 500 * time.Millisecond
	maxHeldRefusals = 64
	// cleanInterval is how often expired rows are deleted.
	cleanInterval = time.Hour
	// healthTimeout bounds a health check: a proxy's checker waits no longer.
	healthTimeout = 2 * time.Second
	// retryUnavailable is the Retry-After of a 503: a store that is down
	// is most often back within that.
	retryUnavailable = 30 * time.Second
	// headerLimit is the most request-line and header bytes accepted: a
	// browser carrying other sites' cookies of a parent domain still fits.
	headerLimit = 20 << 10
)

// New builds the Fiber app over the store: middleware, routes and error
// pages. The store stays the caller's to close, after the app has shut down.
func New(ctx context.Context, store *models.Store, cfg Config) (*fiber.App, error) {
	h, err := newHandler(ctx, store, cfg)
	if err != nil {
		return nil, err
	}
	app := fiber.New(fiber.Config{
		AppName:               "Gatehouse",
		StrictRouting:         true,
		CaseSensitive:         true,
		Immutable:             true, // strings from the request may outlive the handler (sessions, logs)
		BodyLimit:             bodyLimit,
		ReadBufferSize:        headerLimit,
		WriteBufferSize:       writeBufferSize,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		ErrorHandler:          h.errorHandler,
		DisableStartupMessage: true,
	})
	ticker := time.NewTicker(cleanInterval)
	stop := h.start(ticker.C)
	app.Hooks().OnShutdown(func() error {
		ticker.Stop()
		return stop()
	})
	h.routes(app, cfg.AccessLog)
	return app, nil
}

// newHandler builds the handler over the store. Whatever can fail comes
// before the cache, which watches in the background once made: an error
// leaves nothing running.
func newHandler(ctx context.Context, store *models.Store, cfg Config) (*handler, error) {
	db := store.DB
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
	if cfg.PasswordResetTimeout == 0 {
		cfg.PasswordResetTimeout = models.PasswordResetTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = models.StoreTimeout
	}
	if cfg.RefusalHold == 0 {
		cfg.RefusalHold = refusalHold
	}
	if cfg.MailTransport == nil {
		return nil, errors.New("handlers: no mail transport configured")
	}
	defaultLanguage := views.SourceLanguage()
	if cfg.Language != "" {
		if defaultLanguage = views.LanguageByCode(cfg.Language); defaultLanguage == nil {
			return nil, fmt.Errorf("handlers: the site does not speak the default language %q", cfg.Language)
		}
	}
	sender, err := mail.NewSender(db, cfg.MailTransport, cfg.MailFrom, cfg.Logger)
	if err != nil {
		return nil, err
	}
	signer := signer{secret: secret}
	// Half the CPUs may hash at once, so a flood of logins leaves the rest
	// for pages; and a login that would wait over a second for its turn is
	// refused at once, so the queue never grows without bound.
	hashQueue := hashpool.New(hashpool.Config{
		Concurrent:   max(1, runtime.NumCPU()/2),
		MaxWait:      maxHashWait,
		CollectAfter: cfg.PasswordParams.MemoryKiB >= 1024, // not for the tests' cheap hashes
	})
	hasher := password.NewHasher(cfg.PasswordParams, password.WithScheduler(hashQueue.Run))
	twoFactor, err := twofactor.New(secret, views.SiteName, hasher)
	if err != nil {
		return nil, err
	}
	relyingParty, err := newWebAuthn(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	var providers []social.Provider
	for _, p := range cfg.SocialProviders {
		if p, err = p.Check(); err != nil {
			return nil, err
		}
		providers = append(providers, p)
	}
	cache, err := models.NewCache(ctx, store, cacheLimit)
	if err != nil {
		return nil, err
	}
	// The server's lifetime: work that outlives its request runs within
	// it, and ends with it; it keeps ctx's values, not its end.
	lifetime, endLifetime := context.WithCancel(context.WithoutCancel(ctx))
	h := &handler{
		db:              db,
		hashQueue:       hashQueue,
		breached:        cfg.BreachedPasswords,
		loginCodes:      !cfg.LoginCodesOff,
		twoFactorRule:   cfg.RequireTwoFactor,
		social:          map[string]*social.Client{},
		sessionStorage:  store.Sessions,
		hasher:          hasher,
		signer:          signer,
		csrfTokens:      csrfTokens{signer: signer, now: cfg.Now},
		cache:           cache,
		renderedEntries: views.NewRenderedEntries(),
		throttle:        throttle.New(db, cfg.Now),
		twoFactor:       twoFactor,
		webAuthn:        relyingParty,
		mail:            sender,
		lifetime:        lifetime,
		endLifetime:     endLifetime,
		baseURL:         strings.TrimSuffix(cfg.BaseURL, "/"),
		resetTokens:     token.New(secret, "password-reset", cfg.PasswordResetTimeout),
		verifyTokens:    token.New(secret, "email-verification", models.EmailVerificationTimeout),
		cookieSecure:    cfg.CookieSecure,
		trustedProxies:  cfg.TrustedProxies,
		log:             cfg.Logger,
		requestTimeout:  cfg.RequestTimeout,
		refusalHold:     cfg.RefusalHold,
		heldRefusals:    make(chan struct{}, maxHeldRefusals),
		now:             cfg.Now,
		defaultLanguage: defaultLanguage,
	}
	var formOrigins []string
	for _, p := range providers {
		if _, dup := h.social[p.Name]; dup {
			return nil, fmt.Errorf("handlers: social provider %q twice", p.Name)
		}
		h.social[p.Name] = social.NewClient(p, h.baseURL+views.SocialCallbackPath(p.Name), h.now)
		h.socialButtons = append(h.socialButtons, views.SocialProvider{Name: p.Name, Label: p.Label})
		formOrigins = append(formOrigins, p.FormOrigins()...)
	}
	h.contentSecurityPolicy = contentSecurityPolicy(formOrigins)
	h.sessions = session.New(session.Config{
		Storage:           store.Sessions,
		KeyLookup:         "cookie:" + h.cookieName(sessionCookie),
		CookiePath:        "/",
		CookieSecure:      cfg.CookieSecure,
		CookieHTTPOnly:    true,
		CookieSameSite:    fiber.CookieSameSiteLaxMode,
		CookieSessionOnly: true,
		Expiration:        browserSessionAge,
		KeyGenerator:      newSessionKey,
	})
	return h, nil
}

// start runs the background work, the cleaner at each tick and the mail
// sender, and returns what stops it all at shutdown, in order: the cleaner
// (a clean-up under way is cancelled and waited for), then the server's
// lifetime (work left by requests is cancelled and waited for), then the
// sender (which finishes the delivery under way), and the cache's watcher.
func (h *handler) start(ticks <-chan time.Time) (stop func() error) {
	stopCleaner := runEvery(ticks, h.cleanExpired)
	mailCtx, stopMail := context.WithCancel(context.Background())
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		h.mail.Run(mailCtx)
	}()
	return sync.OnceValue(func() error {
		stopCleaner()
		h.endLifetime()
		h.background.Wait()
		stopMail()
		<-mailDone
		return h.cache.Close()
	})
}

// inBackground runs work, which outlives its request, within the server's
// lifetime: shutdown cancels its context and waits for it.
func (h *handler) inBackground(work func(ctx context.Context)) {
	h.background.Go(func() { work(h.lifetime) })
}

// home sends visitors to the articles.
func (h *handler) home(c *fiber.Ctx) error {
	return c.Redirect(views.PathArticles, fiber.StatusFound)
}

// healthz answers 200 while every store answers: the database and the
// session storage (Redis when sessions live there); else 503, naming it.
func (h *handler) healthz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), healthTimeout)
	defer cancel()
	for _, store := range []struct {
		name string
		ping func(context.Context) error
	}{
		{"database", func(ctx context.Context) error { return models.Ping(ctx, h.db) }},
		{"session store", func(ctx context.Context) error { return models.PingSessions(ctx, h.sessionStorage) }},
	} {
		if err := store.ping(ctx); err != nil {
			h.log.Error("health check failed", "store", store.name, "err", err)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retryUnavailable.Seconds())))
			return c.Status(fiber.StatusServiceUnavailable).SendString(store.name + " unavailable\n")
		}
	}
	return c.SendString("ok\n")
}

// deadline gives the request's work a deadline: a store that stays silent
// fails it (503) instead of holding it, and its transaction rolls back.
// The error page, rendered after it, gets the request's context back.
func (h *handler) deadline(c *fiber.Ctx) error {
	parent := c.UserContext()
	ctx, cancel := context.WithTimeout(parent, h.requestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	err := c.Next()
	c.SetUserContext(parent)
	return err
}

// snapshot is the request's view of the cache, taken at its first use: all
// cached reads of one request see the database as of one moment.
func (h *handler) snapshot(c *fiber.Ctx) (models.Snapshot, error) {
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

// writeBufferSize holds a page and its headers, so each answer goes out in
// one write(2): the logged-in index with 20 of one's own articles is 16.5 KB
// (18 in Korean), and at 16 KiB every such page took two system calls, a
// third of the server's time (TestPagesFitTheWriteBuffer).
const writeBufferSize = 32 << 10

// render writes component as the response, rendered to a buffer first so a
// failure still yields a clean error page.
func (h *handler) render(c *fiber.Ctx, status int, component templ.Component) error {
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	ctx := views.WithPage(h.withLanguage(c), h.page(c, status))
	if err := component.Render(ctx, buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// The words depend on the language chosen, by Accept-Language among
	// others: a cache must keep one copy a language.
	c.Set(fiber.HeaderContentLanguage, views.LanguageOf(ctx).Code())
	c.Vary(fiber.HeaderAcceptLanguage)
	if len(c.Response().Header.Peek(fiber.HeaderCacheControl)) == 0 {
		// Every page carries a CSRF token and may show the user: shared
		// caches must not keep it, and the browser must ask again.
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
	}
	// SetBody copies: the buffer goes back to the pool before the response is written.
	c.Response().SetBody(buf.Bytes())
	return nil
}

// renderForm answers a form submission: the form alone to htmx, which swaps
// it in place, or the whole page to a plain browser. The form in place
// clears the page's messages: one from an earlier page ("Saved.") must not
// stand above a form that now has errors.
func (h *handler) renderForm(c *fiber.Ctx, status int, form, page templ.Component) error {
	if isHTMX(c) {
		return h.render(c, status, templ.Join(form, views.FlashOOB()))
	}
	return h.render(c, status, page)
}

// page gathers what every component may read, for an answer with status.
// A full page shows, and so uses up, the pending flash messages; an htmx
// fragment leaves them.
func (h *handler) page(c *fiber.Ctx, status int) views.Page {
	p := views.Page{User: currentUser(c), CSRFToken: csrfToken(c), Path: c.Path(), Passkeys: h.webAuthn != nil, LoginCodes: h.loginCodes,
		SocialProviders: h.socialButtons}
	// The page the language switcher comes back to: this one, or the page
	// of a form that was posted; none after an error, which may have no page.
	switch get := c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead; {
	case get && status < 400:
		p.Next = c.OriginalURL()
	case !get && status < 500 && h.routeTable.allows(fiber.MethodGet, c.Path()):
		p.Next = c.Path()
	}
	if !isHTMX(c) {
		p.Messages = h.takeMessages(c)
	}
	return p
}

// errorHandler logs a failed request (5xx as errors, 4xx as warnings) and
// answers with an error page that reveals nothing of the cause.
func (h *handler) errorHandler(c *fiber.Ctx, err error) error {
	status, message := errorStatus(err)
	title, generic := statusText(status)
	if message.Empty() {
		message = generic
	}
	ctx := h.withLanguage(c)
	if status == fiber.StatusServiceUnavailable {
		// A proxy may try another instance, a browser later.
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retryUnavailable.Seconds())))
	}
	path, logged := loggedPath(c), err.Error()
	if path != c.Path() {
		logged = strings.ReplaceAll(logged, c.Path(), path) // Fiber's 404 names the path
	}
	if status >= fiber.StatusInternalServerError {
		h.log.Error("request failed", "method", c.Method(), "path", path, "status", status, "err", logged)
	} else {
		h.log.Warn("request refused", "method", c.Method(), "path", path, "status", status, "err", logged)
	}
	page := views.Error(status, title.In(ctx), message.In(ctx))
	if isHTMX(c) && status == fiber.StatusServiceUnavailable {
		page = views.ErrorBody(status, title.In(ctx), message.In(ctx))
	}
	if renderErr := h.render(c, status, page); renderErr != nil {
		h.log.Error("error page failed", "err", renderErr)
		return c.Status(status).SendString(title.In(ctx))
	}
	return nil
}

// errorStatus is the status a handler's error answers with, and the
// message for the user if the error carries one: the error page and the
// access log both ask here.
func errorStatus(err error) (status int, message views.Text) {
	var clientErr *clientError
	var fiberErr *fiber.Error
	switch {
	case errors.As(err, &clientErr):
		return clientErr.status, clientErr.message
	case errors.As(err, &fiberErr):
		return fiberErr.Code, views.Text{}
	case errors.Is(err, hashpool.ErrBusy): // the forms answer it themselves; this is the fallback
		return fiber.StatusTooManyRequests, views.Msg("error.busy")
	case models.Unavailable(err):
		return fiber.StatusServiceUnavailable, views.Text{}
	}
	return fiber.StatusInternalServerError, views.Text{}
}

// clientError is a 4xx whose message is meant for the user, in their
// language once shown.
type clientError struct {
	status  int
	message views.Text
}

func (e *clientError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.message.Key) }

// statusText gives the title and generic explanation of an error status,
// in plain words: the reader wants to know what to do, not the status's name.
func statusText(status int) (title, message views.Text) {
	switch status {
	case fiber.StatusBadRequest, fiber.StatusForbidden, fiber.StatusNotFound, fiber.StatusMethodNotAllowed,
		fiber.StatusRequestEntityTooLarge, fiber.StatusTooManyRequests, fiber.StatusServiceUnavailable:
		key := "error." + strconv.Itoa(status)
		return views.Msg(key + ".title"), views.Msg(key + ".message")
	}
	if status >= 400 && status < 500 {
		return views.Msg("error.4xx.title"), views.Msg("error.4xx.message")
	}
	return views.Msg("error.5xx.title"), views.Msg("error.5xx.message")
}

// accessLog writes one line a request, with the status the client got.
func (h *handler) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status, _ = errorStatus(err)
	}
	h.log.Info("request", "method", c.Method(), "path", loggedPath(c), "status", status, "duration", time.Since(start))
	return err
}

// loggedPath is the request's path as log lines name it: without the
// token of a reset or confirmation link, live for a while after it is logged.
func loggedPath(c *fiber.Ctx) string { return views.RedactTokens(c.Path()) }

// runEvery calls work at each tick until the returned stop is called;
// stop cancels the context of a call under way and waits for it to return.
func runEvery(ticks <-chan time.Time, work func(ctx context.Context, now time.Time)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-ticks:
				work(ctx, now)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// cleanExpired deletes expired session index rows and throttle counters,
// sent mail and security log entries past their retention, as of now.
func (h *handler) cleanExpired(ctx context.Context, now time.Time) {
	err := errors.Join(
		models.DeleteExpiredSessions(ctx, h.db, now),
		mail.DeleteSentBefore(ctx, h.db, now.Add(-mail.SentRetention)),
		h.throttle.DeleteExpired(ctx, now),
		models.DeleteEventsBefore(ctx, h.db, now.Add(-models.SecurityLogRetention)),
	)
	if err != nil && ctx.Err() == nil {
		h.log.Error("cleaning up failed", "err", err)
	}
}

// fixedPage names the page to return to after logging in, whatever the request.
func fixedPage(path string) func(*fiber.Ctx) string {
	return func(*fiber.Ctx) string { return path }
}
