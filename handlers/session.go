package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/views"
)

// Keys of the session payload, after Django's _auth_user_id and _auth_user_hash.
const (
	keyUserID   = "_auth_user_id"
	keyAuthHash = "_auth_user_hash"
	keyRemember = "remember"
	keyExpires  = "expires" // unix seconds: a login's lifetime is fixed when it starts
	// keyAuthenticatedAt is when (unix seconds) the user last proved it was
	// them: logged in, or confirmed their password since (sudo mode).
	keyAuthenticatedAt = "_auth_at"
)

// Keys of c.Locals.
const (
	localSession       = "session"
	localSessionRecord = "session-record" // the index row of a logged-in session
	localUser          = "user"
)

// newSessionKey returns 128 random bits as base32 text.
func newSessionKey() string { return rand.Text() }

// currentUser is the logged-in user, or nil for an anonymous visitor.
func currentUser(c *fiber.Ctx) *models.User {
	u, _ := c.Locals(localUser).(*models.User)
	return u
}

// loadUser finds the session of the request and its user, with Django's
// checks: the user exists and is active, and the auth hash stored at login
// still matches their password. A session failing them is flushed. A valid
// session is cached until its session or user row changes (see
// models.Cache), so a page view by a logged-in user usually costs no query.
//
// The once-a-minute last-seen touch is a write the cache lets pass, so as
// not to drop every cached value each time some user is seen: the cached
// record is replaced by a copy with the new last_seen_at instead, so the next
// requests do not touch again within the minute. A cached record may still
// hold an older last_seen_at than the database (another instance touched):
// a session that looks idle by its cached record is read again from the
// database before it is ended.
func (h *handler) loadUser(c *fiber.Ctx) error {
	key := c.Cookies(h.cookieName(sessionCookie))
	if key == "" {
		return c.Next()
	}
	now := h.now()
	snapshot, err := h.snapshot(c)
	if err != nil {
		return err
	}
	cached, found := snapshot.Get(sessionCacheKey(key))
	record, _ := cached.(*models.Session)
	if found && record != nil && now.Sub(record.LastSeenAt) >= idleTimeout(record) {
		found = false // perhaps seen elsewhere since: ask the database
	}
	if !found {
		if record, err = h.checkSession(c, now); err != nil {
			return err
		}
		if record != nil {
			snapshot.Put(sessionCacheKey(key), record)
		}
	}
	if record == nil {
		return c.Next()
	}
	if !now.Before(record.ExpiresAt) || now.Sub(record.LastSeenAt) >= idleTimeout(record) {
		if err := h.endSession(c); err != nil {
			return err
		}
		return c.Next()
	}
	if now.Sub(record.LastSeenAt) >= lastSeenInterval {
		if err := models.TouchSession(c.UserContext(), h.db, record.Key, now); err != nil {
			return err
		}
		touched := *record
		touched.LastSeenAt = now.UTC()
		record = &touched
		snapshot.Put(sessionCacheKey(key), record)
	}
	c.Locals(localUser, record.User)
	c.Locals(localSessionRecord, record)
	return c.Next()
}

// idleTimeout is how long a session may go unused before it ends: a
// browser session soon, as on a shared computer; a remembered one, which the
// user asked to keep, after a week.
func idleTimeout(s *models.Session) time.Duration {
	if s.ExpiresAt.Sub(s.CreatedAt) > browserSessionAge {
		return rememberIdleTimeout
	}
	return browserIdleTimeout
}

// sessionCacheKey keys a valid session, by its id, in the cache.
type sessionCacheKey string

// DependsOn says the session's row and its user's.
func (sessionCacheKey) DependsOn() models.Tables { return models.TableSessions | models.TableUsers }

// checkSession loads the request's session and returns its index row with
// the user, or nil for a session without a login. A session whose user is
// gone or inactive, or whose auth hash no longer matches, is ended.
func (h *handler) checkSession(c *fiber.Ctx, now time.Time) (*models.Session, error) {
	sess, err := h.session(c)
	if err != nil {
		return nil, err
	}
	userID, _ := sess.Get(keyUserID).(int64)
	if userID == 0 {
		return nil, nil
	}
	record, err := models.SessionWithUser(c.UserContext(), h.db, sess.ID(), now)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	storedHash, _ := sess.Get(keyAuthHash).(string)
	if err != nil || record.UserID != userID || !record.User.IsActive || !hmac.Equal([]byte(storedHash), []byte(h.authHash(record.User))) {
		return nil, h.endSession(c)
	}
	return record, nil
}

// authHash derives from the password hash what the session remembers of it,
// as Django's get_session_auth_hash does: a new password ends old sessions.
func (h *handler) authHash(u *models.User) string {
	return hex.EncodeToString(h.signer.sign("session-auth-hash", []byte(u.Password)))
}

// currentSession is the index row of the request's logged-in session, or
// nil. It may be shared with other requests (cached): do not modify it.
func currentSession(c *fiber.Ctx) *models.Session {
	s, _ := c.Locals(localSessionRecord).(*models.Session)
	return s
}

// cyclePassword stores the current user's new password hash and ends their
// other sessions; this one stays logged in under a new key, with a new CSRF
// token, as Django's update_session_auth_hash cycles the key. A notice goes
// to the user's confirmed address. It returns how many other sessions ended.
func (h *handler) cyclePassword(c *fiber.Ctx, hash string) (int, error) {
	old := currentSession(c)
	sess, err := h.session(c)
	if err != nil {
		return 0, err
	}
	// From here until the save, a request with the old key finds no
	// payload and is anonymous: never logged out of the new session.
	if err := sess.Regenerate(); err != nil {
		return 0, fmt.Errorf("regenerate session: %w", err)
	}
	dropTOTPSetup(sess)
	cycled := *old
	cycled.Key, cycled.User, cycled.LastSeenAt = sess.ID(), nil, h.now().UTC()
	u := currentUser(c)
	var ended int
	err = h.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if ended, err = models.ChangePassword(ctx, tx, h.sessionStorage, old.UserID, hash, old.Key, &cycled); err != nil {
			return err
		}
		return h.notice(ctx, tx, u, views.Msg("mail.notice.password_changed.subject"), views.Msg("mail.notice.password_changed.body"))
	})
	if err != nil {
		return 0, err
	}
	h.mail.Notify()
	changed := *u
	changed.Password = hash
	sess.Set(keyAuthHash, h.authHash(&changed))
	if err := h.saveSession(c, sess); err != nil {
		return 0, err
	}
	c.Locals(localUser, &changed)
	c.Locals(localSessionRecord, &cycled)
	h.rotateCSRFToken(c)
	return ended, nil
}

// endedSessions says how many other sessions a change logged out.
func endedSessions(n int) views.Text {
	if n == 0 {
		return views.Msg("flash.no_other_sessions")
	}
	return views.MsgN("flash.other_sessions_ended", n)
}

// session returns the request's session, loading it if loadUser did not.
func (h *handler) session(c *fiber.Ctx) (*session.Session, error) {
	if sess, ok := c.Locals(localSession).(*session.Session); ok {
		return sess, nil
	}
	sess, err := h.sessions.Get(c)
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	c.Locals(localSession, sess)
	return sess, nil
}

// existingSession returns the request's session if the browser sent one or
// this request began one, and nil otherwise: reading must not create one.
func (h *handler) existingSession(c *fiber.Ctx) (*session.Session, error) {
	if c.Cookies(h.cookieName(sessionCookie)) == "" && c.Locals(localSession) == nil {
		return nil, nil
	}
	return h.session(c)
}

// saveSession stores the session and sets its cookie: without an expiry for
// a browser session, with the login's fixed expiry for a remembered one.
// The session must not be used afterwards (Fiber recycles it).
func (h *handler) saveSession(c *fiber.Ctx, sess *session.Session) error {
	expiresUnix, _ := sess.Get(keyExpires).(int64)
	remember, _ := sess.Get(keyRemember).(bool)
	expires := time.Unix(expiresUnix, 0)
	sess.SetExpiry(expires.Sub(h.now()))
	key := sess.ID()
	c.Locals(localSession, nil)
	if err := sess.Save(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if remember {
		h.setCookie(c, sessionCookie, key, expires)
	}
	return nil
}

// endSession deletes the request's session server-side, payload and index
// row, and expires its cookie. Without a session it does nothing.
func (h *handler) endSession(c *fiber.Ctx) error {
	sess, err := h.existingSession(c)
	if sess == nil || err != nil {
		return err
	}
	key := sess.ID()
	if err := sess.Destroy(); err != nil {
		return fmt.Errorf("destroy session: %w", err)
	}
	c.Locals(localSession, nil)
	c.Locals(localUser, nil)
	c.Locals(localSessionRecord, nil)
	return models.DeleteSession(c.UserContext(), h.db, h.sessionStorage, key)
}

// loginRequired sends anonymous visitors to the login page, to come back to
// this page afterwards.
func (h *handler) loginRequired(c *fiber.Ctx) error {
	return h.loginRequiredThen(samePage)(c)
}

// loginRequiredThen sends anonymous visitors to the login page, to come back
// to the page nextPage names: for a POST-only action that must be a page
// that answers GET, or the login would lead back to a POST-only URL and a
// 405 (the trap of pairing login_required with require_POST in Django).
func (h *handler) loginRequiredThen(nextPage func(*fiber.Ctx) string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if currentUser(c) != nil {
			return c.Next()
		}
		return redirectWith(c, views.LoginPath(nextPage(c)), fiber.StatusFound)
	}
}

// samePage is the page a login-only request came from: the URL itself for a
// GET, the path (which shows the form) for a POST.
func samePage(c *fiber.Ctx) string {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.OriginalURL()
	}
	return c.Path()
}

// anonymousOnly sends logged-in users away from the login and signup pages.
func (h *handler) anonymousOnly(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return h.redirect(c, views.PathArticles)
	}
	return c.Next()
}

// safeNext returns next if it is a path on this site, or "" for anything a
// browser could take elsewhere: another host (//host, /\host), a scheme
// (http:, javascript:), backslashes, control or space characters.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !utf8.ValidString(next) {
		return ""
	}
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return ""
	}
	if strings.IndexFunc(next, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return ""
	}
	parsed, err := url.Parse(next)
	if err != nil || parsed.Scheme != "" || parsed.Host != "" || parsed.User != nil {
		return ""
	}
	return escapeNonASCII(next)
}

// escapeNonASCII percent-encodes the bytes of non-ASCII characters, so that
// a path or query in other scripts goes into a Location header as ASCII.
func escapeNonASCII(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
