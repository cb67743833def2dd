package handlers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/throttle"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// Keys of the session payload for recovery codes made and not shown yet:
// they are shown once, on the page after the POST that made them.
const (
	keyFreshCodes  = "_2fa_fresh_codes" // sealed (twofactor.SealCodes)
	keyJustEnabled = "_2fa_just_enabled"
	// The secret the setup page showed this session (sealed, as
	// twofactor.NewSetup made it) and when (unix seconds).
	keyTOTPSetup   = "_2fa_setup"
	keyTOTPSetupAt = "_2fa_setup_at"
)

// twoFactorPage shows whether two-factor is on and how many recovery codes are left.
func (h *handler) twoFactorPage(c *fiber.Ctx) error {
	status, err := twofactor.StatusOf(c.UserContext(), h.db, currentUser(c).ID)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.TwoFactor(views.TwoFactorStatus{Enabled: status.Enabled, RecoveryCodes: status.RecoveryCodes}))
}

// twoFactorSetupPage shows a new secret, as a QR code and as text: a new
// one at each visit, kept in this session only until a code confirms it.
func (h *handler) twoFactorSetupPage(c *fiber.Ctx) error {
	u := currentUser(c)
	enabled, err := twofactor.Enabled(c.UserContext(), h.db, u.ID)
	if err != nil {
		return err
	}
	if enabled {
		return h.redirect(c, views.PathTwoFactor)
	}
	setup, err := h.twoFactor.NewSetup(u.ID, u.Username)
	if err != nil {
		return err
	}
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	sess.Set(keyTOTPSetup, setup.Sealed)
	sess.Set(keyTOTPSetupAt, h.now().Unix())
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	view, err := totpSetupView(setup)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.TwoFactorSetup(views.NewTOTPSetupForm(view)))
}

// pendingTOTPSetup is the secret this session's setup page showed, if it
// is younger than twofactor.SetupTimeout.
func (h *handler) pendingTOTPSetup(c *fiber.Ctx) (twofactor.Setup, bool, error) {
	sess, err := h.session(c)
	if err != nil {
		return twofactor.Setup{}, false, err
	}
	sealed, _ := sess.Get(keyTOTPSetup).([]byte)
	shownAt, _ := sess.Get(keyTOTPSetupAt).(int64)
	if len(sealed) == 0 || h.now().Sub(time.Unix(shownAt, 0)) > twofactor.SetupTimeout {
		return twofactor.Setup{}, false, nil
	}
	u := currentUser(c)
	setup, err := h.twoFactor.OpenSetup(u.ID, u.Username, sealed)
	if err != nil {
		return twofactor.Setup{}, false, nil // sealed for another user, or under an older site secret
	}
	return setup, true, nil
}

// dropTOTPSetup forgets the session's pending setup secret: a changed
// password or ended sessions mean someone else may have seen it.
func dropTOTPSetup(sess *session.Session) {
	sess.Delete(keyTOTPSetup)
	sess.Delete(keyTOTPSetupAt)
}

// totpSetupView is a setup as its page shows it.
func totpSetupView(setup twofactor.Setup) (views.TOTPSetup, error) {
	qr, err := qrDataURL(setup.URL)
	if err != nil {
		return views.TOTPSetup{}, err
	}
	return views.TOTPSetup{URL: setup.URL, Secret: setup.Secret, QRCode: qr}, nil
}

// twoFactorSetupSubmit turns two-factor on once the app's first code is
// right, then shows the recovery codes. Without a secret shown to this
// session lately, the setup page shows a new one.
func (h *handler) twoFactorSetupSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "code"); err != nil {
		return err
	}
	u := currentUser(c)
	setup, ok, err := h.pendingTOTPSetup(c)
	if err != nil {
		return err
	}
	if !ok {
		h.flash(c, views.LevelInfo, views.Msg("two_factor.setup_expired"))
		return h.redirect(c, views.PathTwoFactorSetup)
	}
	view, err := totpSetupView(setup)
	if err != nil {
		return err
	}
	f := views.NewTOTPSetupForm(view)
	f.Code = trimmedValue(c, "code")
	if f.Validate() {
		var codes []string
		var ok bool
		err := h.changeWithNotice(c, func(ctx context.Context, tx bun.Tx) (subject, body views.Text, err error) {
			if codes, ok, err = h.twoFactor.Enable(ctx, tx, u.ID, setup.Sealed, f.Code, h.now()); !ok || err != nil {
				return subject, body, err
			}
			subject, body = views.Msg("mail.notice.two_factor_enabled.subject"), views.Msg("mail.notice.two_factor_enabled.body")
			return subject, body, nil
		})
		if errors.Is(err, twofactor.ErrEnabled) {
			return h.redirect(c, views.PathTwoFactor)
		}
		if err != nil {
			return err
		}
		if ok {
			if err := h.recordEvent(c, models.EventTwoFactorEnabled, u.ID, u.Username, models.Detail{}); err != nil {
				return err
			}
			if err := h.keepFreshCodes(c, codes, true); err != nil {
				return err
			}
			h.flash(c, views.LevelSuccess, views.Msg("flash.two_factor_on"))
			return h.redirect(c, views.PathRecoveryCodes)
		}
		f.AddError("code", views.Msg("two_factor.setup_code_wrong"))
	}
	return h.renderForm(c, fiber.StatusUnprocessableEntity, views.TwoFactorSetupFormView(f), views.TwoFactorSetup(f))
}

// keepFreshCodes holds new recovery codes in the session for the page
// that shows them once.
func (h *handler) keepFreshCodes(c *fiber.Ctx, codes []string, justEnabled bool) error {
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	sess.Set(keyFreshCodes, h.twoFactor.SealCodes(currentUser(c).ID, codes))
	sess.Set(keyJustEnabled, justEnabled)
	dropTOTPSetup(sess) // used
	return h.saveSession(c, sess)
}

// recoveryCodesPage shows the recovery codes just made, once; after that
// it sends the user back to the two-factor page.
func (h *handler) recoveryCodesPage(c *fiber.Ctx) error {
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	sealed, _ := sess.Get(keyFreshCodes).([]byte)
	justEnabled, _ := sess.Get(keyJustEnabled).(bool)
	codes, err := h.twoFactor.OpenCodes(currentUser(c).ID, sealed)
	if len(sealed) == 0 || err != nil {
		h.flash(c, views.LevelInfo, views.Msg("flash.codes_shown_once"))
		return c.Redirect(views.PathTwoFactor, fiber.StatusFound)
	}
	sess.Delete(keyFreshCodes)
	sess.Delete(keyJustEnabled)
	// Codes saved, on to the page the enrolment held the user back from.
	next := views.PathTwoFactor
	if held, _ := sess.Get(keyEnrolmentNext).(string); justEnabled && held != "" {
		next = held
		sess.Delete(keyEnrolmentNext)
	}
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.RecoveryCodes(codes, justEnabled, next))
}

// recoveryCodesSubmit replaces the user's recovery codes with a new set.
func (h *handler) recoveryCodesSubmit(c *fiber.Ctx) error {
	u := currentUser(c)
	var codes []string
	err := h.changeWithNotice(c, func(ctx context.Context, tx bun.Tx) (subject, body views.Text, err error) {
		if codes, err = h.twoFactor.RegenerateRecoveryCodes(ctx, tx, u.ID, h.now()); err != nil {
			return subject, body, err
		}
		subject, body = views.Msg("mail.notice.recovery_codes.subject"), views.Msg("mail.notice.recovery_codes.body")
		return subject, body, nil
	})
	if errors.Is(err, twofactor.ErrNotEnabled) {
		return h.redirect(c, views.PathTwoFactor)
	}
	if err != nil {
		return err
	}
	if err := h.recordEvent(c, models.EventRecoveryCodesRenewed, u.ID, u.Username, models.Detail{}); err != nil {
		return err
	}
	if err := h.keepFreshCodes(c, codes, false); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("flash.codes_new"))
	return h.redirect(c, views.PathRecoveryCodes)
}

// twoFactorDisablePage asks for a code or the password before turning two-factor off.
func (h *handler) twoFactorDisablePage(c *fiber.Ctx) error {
	on, err := twofactor.Enabled(c.UserContext(), h.db, currentUser(c).ID)
	if err != nil {
		return err
	}
	if !on {
		return c.Redirect(views.PathTwoFactor, fiber.StatusFound)
	}
	return h.render(c, fiber.StatusOK, views.TwoFactorDisable(views.NewTwoFactorDisableForm()))
}

// twoFactorDisableSubmit turns two-factor off when a current code, a
// recovery code or the password is right. Wrong codes count against the
// user as at login, wrong passwords as on every current-password form.
func (h *handler) twoFactorDisableSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "code", "password"); err != nil {
		return err
	}
	f := views.NewTwoFactorDisableForm()
	f.Code, f.Password = trimmedValue(c, "code"), formValue(c, "password")
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.TwoFactorDisableFormView(f), views.TwoFactorDisable(f))
	}
	u := currentUser(c)
	passkeys, err := twofactor.Passkeys(c.UserContext(), h.db, u.ID)
	if err != nil {
		return err
	}
	if h.mustKeepFactor(c, len(passkeys) > 0) {
		f.AddError("", lastFactorRequired())
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.TwoFactorDisableFormView(f), views.TwoFactorDisable(f))
	}
	if f.Code != "" {
		problem, status, err := h.checkSecondFactor(c, f.Code)
		if err != nil {
			return err
		}
		if !problem.Empty() {
			f.AddError("code", problem)
			return h.renderForm(c, status, views.TwoFactorDisableFormView(f), views.TwoFactorDisable(f))
		}
	} else {
		problem, status, err := h.checkCurrentPassword(c, f.Password, views.WrongPassword(), models.NewDetail("wrong_password_two_factor"))
		if err != nil {
			return err
		}
		if !problem.Empty() {
			f.AddError("password", problem)
			return h.renderForm(c, status, views.TwoFactorDisableFormView(f), views.TwoFactorDisable(f))
		}
	}
	var was bool
	err = h.changeWithNotice(c, func(ctx context.Context, tx bun.Tx) (subject, body views.Text, err error) {
		err = h.removeFactor(ctx, tx, u, func() (err error) {
			was, err = twofactor.Disable(ctx, tx, u.ID)
			return err
		})
		if !was || err != nil {
			return subject, body, err
		}
		subject, body = views.Msg("mail.notice.two_factor_disabled.subject"), views.Msg("mail.notice.two_factor_disabled.body")
		return subject, body, nil
	})
	if err != nil {
		return err
	}
	if was {
		if err := h.recordEvent(c, models.EventTwoFactorDisabled, u.ID, u.Username, models.Detail{}); err != nil {
			return err
		}
	}
	h.flash(c, views.LevelSuccess, views.Msg("flash.two_factor_off"))
	return h.redirect(c, views.PathTwoFactor)
}

// checkSecondFactor checks a code of the current user, throttled as the
// login's second step is: it returns what to say beside the field when it
// is wrong (422) or when guesses are refused (429), nothing when it is right.
func (h *handler) checkSecondFactor(c *fiber.Ctx, code string) (problem views.Text, status int, err error) {
	ctx, u := c.UserContext(), currentUser(c)
	keys := []throttle.Key{
		throttle.TwoFactorPerUser.Key(strconv.FormatInt(u.ID, 10)),
		throttle.TwoFactorPerUserDay.Key(strconv.FormatInt(u.ID, 10)),
	}
	var check twofactor.CodeCheck
	outcome, retryAt, err := h.throttle.Try(ctx, keys, nil, func() (throttle.Outcome, error) {
		var err error
		check, err = h.twoFactor.CheckSecondFactor(ctx, h.db, u.ID, code, h.now())
		return codeOutcome(check, err)
	})
	switch {
	case errors.Is(err, twofactor.ErrNotEnabled):
		return views.Text{}, 0, nil // off already: nothing to guard
	case err != nil:
		return views.Text{}, 0, err
	case outcome == throttle.Refused:
		return h.refusal(c, retryAt), fiber.StatusTooManyRequests, nil
	case outcome == throttle.Succeeded && check.Recovery: // used up: logged as at login
		return views.Text{}, 0, h.recordEvent(c, models.EventRecoveryCodeUsed, u.ID, u.Username, models.NewDetail("recovery_codes_left_two_factor_form", models.DetailCount, strconv.Itoa(check.Left)))
	case outcome == throttle.Succeeded:
		return views.Text{}, 0, nil
	}
	if err := h.recordEvent(c, models.EventTwoFactorFailed, u.ID, u.Username, models.NewDetail("two_factor_form")); err != nil {
		return views.Text{}, 0, err
	}
	if err := h.recordLocks(c, u.ID, u.Username, keys); err != nil {
		return views.Text{}, 0, err
	}
	return views.WrongSecondFactor(), fiber.StatusUnprocessableEntity, nil
}
