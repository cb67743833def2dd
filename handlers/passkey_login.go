package handlers

import (
	"errors"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/throttle"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// passkeyLoginBegin starts a login with a passkey alone: the browser offers
// the passkeys it holds for the site (discoverable credentials).
func (h *handler) passkeyLoginBegin(c *fiber.Ctx) error {
	// Each prompt stores a session for an anonymous visitor: counted, and
	// never taken back, per address.
	prompt := h.clientKey(c, throttle.PasskeyPromptsPerAddress)
	retryAt, err := h.throttle.Count(c.UserContext(), prompt)
	if err != nil {
		return err
	}
	if !retryAt.IsZero() {
		return &clientError{fiber.StatusTooManyRequests, h.refusal(c, retryAt)}
	}
	options, data, err := h.webAuthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	return h.startCeremony(c, ceremonyLogin, options, data)
}

// passkeyLoginSubmit logs in the owner of the passkey: a passkey verified
// with the user's PIN or biometrics counts as both factors.
func (h *handler) passkeyLoginSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "credential"); err != nil {
		return err
	}
	f := views.NewLoginForm()
	f.Next = safeNext(formValue(c, "next"))
	address := []throttle.Key{h.clientKey(c, throttle.LoginPerAddress)}
	var owner *models.User
	var credential *webauthn.Credential
	var refused error
	outcome, retryAt, err := h.throttle.Try(c.UserContext(), address, nil, func() (throttle.Outcome, error) {
		var err error
		owner, credential, err = h.checkAssertion(c, ceremonyLogin, nil)
		if err == nil && !owner.IsActive {
			err = errors.Join(errPasskeyRefused, errBadCredentials)
		}
		return passkeyOutcome(err, &refused)
	})
	switch {
	case outcome == throttle.Refused:
		f.AddError("", h.refusal(c, retryAt))
		return h.render(c, fiber.StatusTooManyRequests, views.Login(f))
	case err != nil:
		return err
	case outcome == throttle.Counted:
		h.log.Warn("passkey login refused", "err", refused)
		var userID int64
		var username string
		if owner != nil {
			userID, username = owner.ID, owner.Username
		}
		if err := h.recordEvent(c, models.EventLoginFailed, userID, username, models.NewDetail("login_passkey")); err != nil {
			return err
		}
		if err := h.recordLocks(c, userID, username, address); err != nil {
			return err
		}
		f.AddError("", views.Msg("passkey.login_failed"))
		return h.render(c, fiber.StatusUnprocessableEntity, views.Login(f))
	}
	if err := twofactor.PasskeyUsed(c.UserContext(), h.db, owner.ID, credential, h.now()); err != nil {
		return err
	}
	return h.completeLogin(c, owner, false, f.Next, models.NewDetail("login_passkey"))
}

// passkeyOutcome is how a passkey attempt ended, for the throttle: a
// refused passkey counts (its reason kept in refused), a server error does
// not.
func passkeyOutcome(err error, refused *error) (throttle.Outcome, error) {
	switch {
	case errors.Is(err, errPasskeyRefused):
		*refused = err
		return throttle.Counted, nil
	case err != nil:
		return throttle.Untried, err
	}
	return throttle.Succeeded, nil
}

// secondStepPasskeyBegin asks for one of the pending user's passkeys as
// the second factor.
func (h *handler) secondStepPasskeyBegin(c *fiber.Ctx) error {
	p, err := h.pendingSecondStep(c)
	if err != nil {
		return err
	}
	notPending := &clientError{fiber.StatusForbidden, views.Msg("passkey.password_first")}
	if p == nil {
		return notPending
	}
	u, err := h.pendingUser(c.UserContext(), p)
	if err != nil {
		return err
	}
	if u == nil {
		return notPending
	}
	return h.beginAssertion(c, u, ceremonySecondStep, protocol.VerificationPreferred)
}

// secondStepPasskeySubmit checks a passkey of the pending user, throttled
// as codes are, and logs them in.
func (h *handler) secondStepPasskeySubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "credential"); err != nil {
		return err
	}
	p, err := h.pendingOrStartOver(c)
	if p == nil {
		return err
	}
	f := views.NewSecondStepForm()
	f.Passkeys = true
	var credential *webauthn.Credential
	var refused error
	u, outcome, retryAt, err := h.secondStepTry(c, p, func(u *models.User) (throttle.Outcome, error) {
		var err error
		_, credential, err = h.checkAssertion(c, ceremonySecondStep, u)
		return passkeyOutcome(err, &refused)
	})
	switch {
	case err != nil:
		return err
	case outcome == throttle.Refused:
		f.AddError("", h.refusal(c, retryAt))
		return h.render(c, fiber.StatusTooManyRequests, views.SecondStep(f))
	case u == nil:
		return h.startOver(c, "")
	case outcome == throttle.Counted:
		h.log.Warn("passkey second step refused", "user", u.ID, "err", refused)
		if err := h.secondStepFailed(c, p, u, models.NewDetail("second_factor_passkey")); err != nil {
			return err
		}
		f.AddError("", views.Msg("passkey.second_step_failed"))
		return h.render(c, fiber.StatusUnprocessableEntity, views.SecondStep(f))
	}
	if err := twofactor.PasskeyUsed(c.UserContext(), h.db, u.ID, credential, h.now()); err != nil {
		return err
	}
	return h.completeLogin(c, u, p.remember, p.next, models.NewDetail("login_password_passkey"))
}

// confirmPasskeyBegin asks for one of the current user's passkeys, verified
// by its owner, to enter sudo mode.
func (h *handler) confirmPasskeyBegin(c *fiber.Ctx) error {
	return h.beginAssertion(c, currentUser(c), ceremonyConfirm, protocol.VerificationRequired)
}

// confirmPasskeySubmit checks the passkey, records the time in the session
// and returns to next, as confirming the password does.
func (h *handler) confirmPasskeySubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "credential"); err != nil {
		return err
	}
	u := currentUser(c)
	f, err := h.confirmForm(c)
	if err != nil {
		return err
	}
	f.Next = safeNext(formValue(c, "next"))
	_, credential, err := h.checkAssertion(c, ceremonyConfirm, u)
	if errors.Is(err, errPasskeyRefused) {
		h.log.Warn("passkey confirmation refused", "user", u.ID, "err", err)
		f.Problem = views.Msg("passkey.problem.not_confirmed")
		return h.render(c, fiber.StatusUnprocessableEntity, views.Confirm(f))
	}
	if err != nil {
		return err
	}
	if err := twofactor.PasskeyUsed(c.UserContext(), h.db, u.ID, credential, h.now()); err != nil {
		return err
	}
	return h.confirmed(c, f.Next)
}
