package handlers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"

	"gatehouse/models"
	"gatehouse/models/throttle"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// Keys of the session payload between a right password and the second
// factor: the session is not logged in meanwhile.
const (
	keyPendingUser     = "_2fa_user_id"
	keyPendingHash     = "_2fa_user_hash" // the auth hash then: a password changed meanwhile ends it
	keyPendingRemember = "_2fa_remember"
	keyPendingNext     = "_2fa_next"
	keyPendingUntil    = "_2fa_until" // unix seconds
)

// pendingLogin is a login waiting for its second factor.
type pendingLogin struct {
	userID   int64
	hash     string
	remember bool
	next     string
}

// forgetSecondStep drops a pending login from the session.
func forgetSecondStep(sess *session.Session) {
	for _, key := range []string{keyPendingUser, keyPendingHash, keyPendingRemember, keyPendingNext, keyPendingUntil} {
		sess.Delete(key)
	}
}

// pendingSecondStep returns the request's login waiting for its second
// factor, or nil if there is none or it took too long.
func (h *handler) pendingSecondStep(c *fiber.Ctx) (*pendingLogin, error) {
	sess, err := h.existingSession(c)
	if sess == nil || err != nil {
		return nil, err
	}
	userID, _ := sess.Get(keyPendingUser).(int64)
	until, _ := sess.Get(keyPendingUntil).(int64)
	if userID == 0 || !h.now().Before(time.Unix(until, 0)) {
		return nil, nil
	}
	p := &pendingLogin{userID: userID}
	p.hash, _ = sess.Get(keyPendingHash).(string)
	p.remember, _ = sess.Get(keyPendingRemember).(bool)
	p.next, _ = sess.Get(keyPendingNext).(string)
	return p, nil
}

// pendingOrStartOver returns the request's login waiting for its second
// factor; without one it sends the visitor to start over and returns nil,
// and the handler returns err.
func (h *handler) pendingOrStartOver(c *fiber.Ctx) (p *pendingLogin, err error) {
	if p, err = h.pendingSecondStep(c); err == nil && p == nil {
		err = h.startOver(c, "")
	}
	return p, err
}

// secondStepKeys are the throttle keys of a second-step attempt for the
// pending user: per user (the first, cleared by a success), per address,
// and a daily cap per user that a success does not clear.
func (h *handler) secondStepKeys(c *fiber.Ctx, p *pendingLogin) []throttle.Key {
	user := strconv.FormatInt(p.userID, 10)
	return []throttle.Key{
		throttle.TwoFactorPerUser.Key(user),
		h.clientKey(c, throttle.LoginPerAddress),
		throttle.TwoFactorPerUserDay.Key(user),
	}
}

// pendingUser loads the pending login's user, or nil if they were deleted,
// deactivated or given a new password since the password step.
func (h *handler) pendingUser(ctx context.Context, p *pendingLogin) (*models.User, error) {
	u, err := models.UserByID(ctx, h.db, p.userID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil || !u.IsActive || p.hash != h.authHash(u) {
		return nil, err
	}
	return u, nil
}

// secondStepPage asks for the second factor after a right password.
func (h *handler) secondStepPage(c *fiber.Ctx) error {
	p, f, err := h.pendingWithForm(c)
	if p == nil || err != nil {
		return err
	}
	f.Recovery = c.Query("recovery") != ""
	return h.render(c, fiber.StatusOK, views.SecondStep(f))
}

// pendingWithForm returns the pending login, as pendingOrStartOver does,
// and an empty second-step form for it: a code asked for when the user has
// an authenticator app, a passkey offered when they have one.
func (h *handler) pendingWithForm(c *fiber.Ctx) (*pendingLogin, views.SecondStepForm, error) {
	f := views.NewSecondStepForm()
	p, err := h.pendingOrStartOver(c)
	if p == nil || err != nil {
		return p, f, err
	}
	if f.Codes, err = twofactor.Enabled(c.UserContext(), h.db, p.userID); err != nil || h.webAuthn == nil {
		return p, f, err
	}
	keys, err := twofactor.Passkeys(c.UserContext(), h.db, p.userID)
	f.Passkeys = len(keys) > 0
	return p, f, err
}

// secondStepSubmit checks an authenticator code or a recovery code and, if
// it is right, logs the pending user in. Wrong codes are throttled per user
// and per address, as passwords are.
func (h *handler) secondStepSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "code"); err != nil {
		return err
	}
	p, f, err := h.pendingWithForm(c)
	if p == nil || err != nil {
		return err
	}
	f.Code = trimmedValue(c, "code")
	f.Trust = formValue(c, "trust") != ""
	if !f.Codes && f.Passkeys {
		// No app, so no code can be right: the pending login stays for
		// the passkey.
		f.AddError("", views.Msg("two_factor.second_step.passkey_only"))
		return h.render(c, fiber.StatusUnprocessableEntity, views.SecondStep(f))
	}
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SecondStepFormView(f), views.SecondStep(f))
	}
	var check twofactor.CodeCheck
	u, outcome, retryAt, err := h.secondStepTry(c, p, func(u *models.User) (throttle.Outcome, error) {
		var err error
		check, err = h.twoFactor.CheckSecondFactor(c.UserContext(), h.db, u.ID, f.Code, h.now())
		return codeOutcome(check, err)
	})
	if errors.Is(err, twofactor.ErrNotEnabled) {
		// Turned off meanwhile: the password alone logs in now, but it was
		// given under other rules; ask for it again.
		return h.startOver(c, p.next)
	}
	if refusal, ok := h.tryRefused(c, outcome, retryAt, err); ok { // recovery codes are hashed as passwords are
		f.AddError("", refusal)
		return h.renderForm(c, fiber.StatusTooManyRequests, views.SecondStepFormView(f), views.SecondStep(f))
	}
	switch {
	case err != nil:
		return err
	case u == nil:
		return h.startOver(c, "")
	case outcome == throttle.Counted:
		if err := h.secondStepFailed(c, p, u, models.Detail{}); err != nil {
			return err
		}
		f.AddError("code", views.WrongSecondFactor())
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SecondStepFormView(f), views.SecondStep(f))
	}
	how := models.NewDetail("login_authenticator")
	if check.Recovery {
		how = models.NewDetail("login_recovery_code")
		if err := h.recordEvent(c, models.EventRecoveryCodeUsed, u.ID, u.Username, models.NewDetail("recovery_codes_left", models.DetailCount, strconv.Itoa(check.Left))); err != nil {
			return err
		}
		h.flash(c, views.LevelInfo, views.RecoveryCodesLeft(check.Left))
		// A recovery code is for a lost authenticator: every browser
		// trusted before stops skipping the second step, and this one is
		// not trusted for it.
		if err := models.StopTrusting(c.UserContext(), h.db, u.ID, 0); err != nil {
			return err
		}
	} else if f.Trust {
		if err := h.trustBrowser(c, u); err != nil {
			return err
		}
	}
	return h.completeLogin(c, u, p.remember, p.next, how)
}

// secondStepTry makes one attempt at the pending login's second factor,
// throttled under its keys: check runs for the pending user and says how
// it went. A user who no longer stands (returned nil) leaves the attempt
// untried.
func (h *handler) secondStepTry(c *fiber.Ctx, p *pendingLogin, check func(u *models.User) (throttle.Outcome, error)) (*models.User, throttle.Outcome, time.Time, error) {
	keys := h.secondStepKeys(c, p)
	var u *models.User
	// A success clears the user's count, not the address's or the day's.
	outcome, retryAt, err := h.throttle.Try(c.UserContext(), keys, keys[:1], func() (throttle.Outcome, error) {
		var err error
		if u, err = h.pendingUser(c.UserContext(), p); err != nil || u == nil {
			return throttle.Untried, err
		}
		return check(u)
	})
	return u, outcome, retryAt, err
}

// secondStepFailed logs a wrong second factor of the pending login (detail
// says which kind, if not a code) and the locks it set off.
func (h *handler) secondStepFailed(c *fiber.Ctx, p *pendingLogin, u *models.User, detail models.Detail) error {
	if err := h.recordEvent(c, models.EventTwoFactorFailed, u.ID, u.Username, detail); err != nil {
		return err
	}
	return h.recordLocks(c, u.ID, u.Username, h.secondStepKeys(c, p))
}

// codeOutcome is how a second-factor code's check ended, for the throttle:
// a wrong code counts, an error leaves the attempt untried.
func codeOutcome(check twofactor.CodeCheck, err error) (throttle.Outcome, error) {
	switch {
	case err != nil:
		return throttle.Untried, err
	case check.OK:
		return throttle.Succeeded, nil
	}
	return throttle.Counted, nil
}

// startOver sends a visitor whose second step is missing or too old back to
// the login page.
func (h *handler) startOver(c *fiber.Ctx, next string) error {
	// The half-way session, if any, ends: it logs no one in.
	if err := h.endSession(c); err != nil {
		return err
	}
	h.flash(c, views.LevelInfo, views.Msg("flash.login_again"))
	return h.redirect(c, views.LoginPath(next))
}
