package handlers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"

	"gatehouse/models"
	"gatehouse/models/hashpool"
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
	if c.Cookies(h.cookieName(sessionCookie)) == "" {
		return nil, nil
	}
	sess, err := h.session(c)
	if err != nil {
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

// secondStepKeys are the throttle keys of a second-step attempt for the
// pending user: per user (the first, cleared by a success), per address,
// and a daily cap per user that a success does not clear.
func (h *handler) secondStepKeys(c *fiber.Ctx, p *pendingLogin) []throttle.Key {
	user := strconv.FormatInt(p.userID, 10)
	return []throttle.Key{
		throttle.TwoFactorPerUser.Key(user),
		throttle.LoginPerAddress.Key(addressSubject(h.clientAddress(c))),
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
	p, err := h.pendingSecondStep(c)
	if err != nil {
		return err
	}
	if p == nil {
		return h.startOver(c, "")
	}
	f, err := h.secondStepForm(c, p)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.SecondStep(f))
}

// secondStepForm is an empty second-step form for the pending login,
// offering a passkey when the user has one.
func (h *handler) secondStepForm(c *fiber.Ctx, p *pendingLogin) (views.SecondStepForm, error) {
	f := views.NewSecondStepForm()
	if h.webAuthn == nil {
		return f, nil
	}
	keys, err := twofactor.Passkeys(c.UserContext(), h.db, p.userID)
	f.Passkeys = len(keys) > 0
	return f, err
}

// secondStepSubmit checks an authenticator code or a recovery code and, if
// it is right, logs the pending user in. Wrong codes are throttled per user
// and per address, as passwords are.
func (h *handler) secondStepSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "code"); err != nil {
		return err
	}
	p, err := h.pendingSecondStep(c)
	if err != nil {
		return err
	}
	if p == nil {
		return h.startOver(c, "")
	}
	f, err := h.secondStepForm(c, p)
	if err != nil {
		return err
	}
	f.Code = trimmedValue(c, "code")
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SecondStepFormView(f), views.SecondStep(f))
	}
	ctx := c.UserContext()
	keys := h.secondStepKeys(c, p)
	attempt, retryAt, err := h.throttle.Begin(ctx, keys...)
	if err != nil {
		return err
	}
	if attempt == nil {
		f.AddError("", refusal(c, retryAt))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.SecondStepFormView(f), views.SecondStep(f))
	}
	u, err := h.pendingUser(ctx, p)
	if err != nil {
		return errors.Join(err, attempt.Succeeded(ctx))
	}
	if u == nil {
		if err := attempt.Succeeded(ctx); err != nil {
			return err
		}
		return h.startOver(c, "")
	}
	var ok, recovery bool
	var left int
	if twofactor.LooksLikeTOTP(f.Code) {
		ok, err = h.twoFactor.CheckCode(ctx, h.db, u.ID, f.Code, h.now())
	} else {
		recovery = true
		ok, left, err = h.twoFactor.UseRecoveryCode(ctx, h.db, u.ID, f.Code)
	}
	if errors.Is(err, twofactor.ErrNotEnabled) {
		// Turned off meanwhile: the password alone logs in now, but it was
		// given under other rules; ask for it again.
		if err := attempt.Succeeded(ctx); err != nil {
			return err
		}
		return h.startOver(c, p.next)
	}
	if err != nil {
		// Not tried after all: the attempt does not count.
		if err := attempt.Succeeded(ctx); err != nil {
			return err
		}
		if errors.Is(err, hashpool.ErrBusy) { // recovery codes are hashed as passwords are
			f.AddError("", hasherBusy(c))
			return h.renderForm(c, fiber.StatusTooManyRequests, views.SecondStepFormView(f), views.SecondStep(f))
		}
		return err
	}
	if !ok {
		if err := h.recordEvent(c, models.EventTwoFactorFailed, u.ID, u.Username, ""); err != nil {
			return err
		}
		if err := h.recordLocks(c, u.ID, u.Username, keys); err != nil {
			return err
		}
		f.AddError("code", views.WrongSecondFactor())
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SecondStepFormView(f), views.SecondStep(f))
	}
	if err := attempt.Succeeded(ctx, keys[0]); err != nil {
		return err
	}
	how := "with an authenticator code"
	if recovery {
		how = "with a recovery code"
		if err := h.recordEvent(c, models.EventRecoveryCodeUsed, u.ID, u.Username, strconv.Itoa(left)+" left"); err != nil {
			return err
		}
		h.flash(c, views.LevelInfo, views.RecoveryCodesLeft(left))
	}
	return h.completeLogin(c, u, p.remember, p.next, how)
}

// startOver sends a visitor whose second step is missing or too old back to
// the login page.
func (h *handler) startOver(c *fiber.Ctx, next string) error {
	// The half-way session, if any, ends: it logs no one in.
	if err := h.endSession(c); err != nil {
		return err
	}
	h.flash(c, views.LevelInfo, "Please log in again: the login took too long, or was not started.")
	return h.redirect(c, views.LoginPath(next))
}
