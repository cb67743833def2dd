package handlers

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/throttle"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// loginPage shows the login form.
func (h *handler) loginPage(c *fiber.Ctx) error {
	f := views.NewLoginForm()
	f.Next = safeNext(c.Query("next"))
	return h.render(c, fiber.StatusOK, views.Login(f))
}

// loginSubmit logs the user in and sends them to next, if it is a local
// path, or to the articles.
func (h *handler) loginSubmit(c *fiber.Ctx) error {
	f, err := newLoginForm(c)
	if err != nil {
		return err
	}
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.LoginFormView(f), views.Login(f))
	}
	ctx := c.UserContext()
	if h.hashQueue.Busy() {
		// Refused before anything is written: a flood of logins costs the
		// database nothing, and page views keep their share.
		h.holdRefusal(ctx)
		f.AddError("", hasherBusy(c))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.LoginFormView(f), views.Login(f))
	}
	keys := h.loginKeys(c, f.Username)
	// A refusal is read from the cache while the counts stand still: a flood
	// against one account costs as little as a page view.
	snapshot, err := h.snapshot(c)
	if err != nil {
		return err
	}
	var u *models.User
	// The account's (or this device's) count starts again on a success; the
	// address's does not, or guessing between logins to one's own account
	// would reset it.
	outcome, retryAt, err := h.throttle.In(snapshot).Try(ctx, keys, keys[len(keys)-1:], func() (throttle.Outcome, error) {
		var err error
		u, err = h.checkCredentials(c, f.Username, f.Password)
		switch {
		case errors.Is(err, errBadCredentials):
			return throttle.Counted, nil
		case err != nil:
			return throttle.Untried, err // not tried after all: the attempt does not count
		}
		return throttle.Succeeded, nil
	})
	if refusal, ok := h.tryRefused(c, outcome, retryAt, err); ok {
		// Refused before the hasher runs: guessing costs the attacker, not
		// us. Nothing is written either; the log has the lock already.
		h.holdRefusal(ctx)
		f.AddError("", refusal)
		f.RetryAt = retryAt
		return h.renderForm(c, fiber.StatusTooManyRequests, views.LoginFormView(f), views.Login(f))
	}
	switch {
	case err != nil:
		return err
	case outcome == throttle.Counted:
		if err := h.loginFailed(c, u, f.Username, keys); err != nil {
			return err
		}
		f.AddError("", views.LoginFailed())
		// The username is kept and most likely right; the password, emptied, is to type again.
		f.FocusOn("password")
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.LoginFormView(f), views.Login(f))
	}
	return h.afterFirstFactor(c, u, f.Remember, f.Next, models.Detail{})
}

// secondStepNeeded reports whether u must give a second factor after the
// first: with TOTP on; and, where the two-factor policy applies to them,
// with a passkey, which the policy counts as their second factor (without
// the policy a passkey is a way to log in on its own, not a second step).
func (h *handler) secondStepNeeded(c *fiber.Ctx, u *models.User) (bool, error) {
	totp, err := twofactor.Enabled(c.UserContext(), h.db, u.ID)
	if err != nil || totp || !h.twoFactorRule.AppliesTo(u) {
		return totp, err
	}
	return h.hasSecondFactor(c, u.ID)
}

// afterFirstFactor goes on from a first factor (a password, a sign-in code,
// a provider): to the second step when the user has one, unless this
// browser is one they trusted to skip it; else to the login. how says how
// the first factor was given, for the security log.
func (h *handler) afterFirstFactor(c *fiber.Ctx, u *models.User, remember bool, next string, how models.Detail) error {
	secondStep, err := h.secondStepNeeded(c, u)
	if err != nil {
		return err
	}
	if !secondStep {
		return h.completeLogin(c, u, remember, next, how)
	}
	trusted, err := h.browserTrusted(c, u)
	if err != nil {
		return err
	}
	if trusted {
		if how.Code == "" {
			how = models.NewDetail("trusted_browser")
		} else {
			how = how.With(models.DetailTrusted, "yes")
		}
		return h.completeLogin(c, u, remember, next, how)
	}
	// Not logged in yet: the second factor is asked for first.
	if err := h.beginSecondStep(c, u, remember, next); err != nil {
		return err
	}
	return h.redirect(c, views.PathLoginSecondStep)
}

// completeLogin logs u in once every factor they have was given: a new
// session, a trusted device, the new-device notice, the log entry (with
// how, in detail) and the welcome; then on to next, or the articles.
func (h *handler) completeLogin(c *fiber.Ctx, u *models.User, remember bool, next string, how models.Detail) error {
	ctx := c.UserContext()
	newDevice := h.trustedDevice(c, u.UsernameKey) == ""
	if err := h.login(c, u, remember); err != nil {
		return err
	}
	h.trustDevice(c, u.UsernameKey)
	if newDevice && u.NotifyNewDevice {
		what := views.Msg("mail.notice.new_login.body", views.Args{
			"Browser": views.UserAgent(c.Get(fiber.HeaderUserAgent)), "Address": h.clientAddress(c).String()})
		if err := h.notice(ctx, h.db, u, views.Msg("mail.notice.new_login.subject"), what); err != nil {
			return err
		}
		h.mail.Notify()
	}
	if err := h.recordEvent(c, models.EventLogin, u.ID, u.Username, how); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("flash.welcome_back", views.Args{"Username": u.Username}))
	if next != "" {
		return h.redirect(c, next)
	}
	return h.redirect(c, views.PathArticles)
}

// logoutPage asks "Log out?" with the button that posts: a link or a typed
// address reaches it, and only a POST logs out.
func (h *handler) logoutPage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.Logout())
}

// logout ends the session, if there is one; it never fails for a visitor
// who is not logged in.
func (h *handler) logout(c *fiber.Ctx) error {
	u := currentUser(c)
	if u != nil {
		if err := h.recordEvent(c, models.EventLogout, u.ID, u.Username, models.Detail{}); err != nil {
			return err
		}
	}
	if err := h.endSession(c); err != nil {
		return err
	}
	h.rotateCSRFToken(c)
	if u != nil {
		h.flash(c, views.LevelInfo, views.Msg("flash.logged_out"))
	}
	return h.redirect(c, views.PathArticles)
}

// errBadCredentials covers an unknown user, a wrong password and an inactive
// account, which the login form must not tell apart.
var errBadCredentials = errors.New("bad credentials")

// checkCredentials returns the active user with this username and password,
// upgrading their stored hash if its parameters are old. An unknown username
// costs one hash too, so timing does not tell who has an account. With
// errBadCredentials it returns the account the username names, if any, for
// the security log.
func (h *handler) checkCredentials(c *fiber.Ctx, username, password string) (*models.User, error) {
	u, err := models.UserByUsername(c.UserContext(), h.db, username)
	if errors.Is(err, models.ErrNotFound) {
		if err := h.hasher.SpendCheck(password); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, outdated, err := h.hasher.Check(password, u.Password)
	if err != nil {
		return nil, err
	}
	if !ok || !u.IsActive {
		return u, errBadCredentials
	}
	if outdated {
		hash, err := h.hasher.Hash(password)
		if err != nil {
			return nil, err
		}
		if err := models.SetPassword(c.UserContext(), h.db, u.ID, hash); err != nil {
			return nil, err
		}
		u.Password = hash
	}
	return u, nil
}

// login starts a session for u under a new id (no session fixation), records
// it in the session index with last_login, and rotates the CSRF token.
func (h *handler) login(c *fiber.Ctx, u *models.User, remember bool) error {
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	if err := sess.Regenerate(); err != nil {
		return fmt.Errorf("regenerate session: %w", err)
	}
	now := h.now().UTC()
	age := browserSessionAge
	if remember {
		age = rememberSessionAge
	}
	record := &models.Session{
		Key:        sess.ID(),
		UserID:     u.ID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(age),
		IP:         h.clientAddress(c).String(),
		UserAgent:  truncate(c.Get(fiber.HeaderUserAgent), 300),
	}
	if err := models.RecordLogin(c.UserContext(), h.db, record); err != nil {
		return err
	}
	forgetSecondStep(sess)
	sess.Set(keyUserID, u.ID)
	sess.Set(keyAuthHash, h.authHash(u))
	sess.Set(keyRemember, remember)
	sess.Set(keyExpires, record.ExpiresAt.Unix())
	sess.Set(keyAuthenticatedAt, now.Unix())
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	c.Locals(localUser, u)
	c.Locals(localSessionRecord, record)
	h.rotateCSRFToken(c)
	h.applyAccountLanguage(c, u)
	return nil
}

// beginSecondStep stores, under a new session id, that u gave the right
// password, for models.SecondStepTimeout; the session is not logged in.
func (h *handler) beginSecondStep(c *fiber.Ctx, u *models.User, remember bool, next string) error {
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	if err := sess.Regenerate(); err != nil {
		return err
	}
	until := h.now().Add(models.SecondStepTimeout)
	sess.Set(keyPendingUser, u.ID)
	sess.Set(keyPendingHash, h.authHash(u))
	sess.Set(keyPendingRemember, remember)
	sess.Set(keyPendingNext, next)
	sess.Set(keyPendingUntil, until.Unix())
	// The stored session ends with the step; its cookie with the browser.
	sess.Set(keyExpires, until.Unix())
	sess.Set(keyRemember, false)
	return h.saveSession(c, sess)
}
