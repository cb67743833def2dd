package handlers

import (
	"crypto/hmac"
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
	prompt := throttle.PasskeyPromptsPerAddress.Key(addressSubject(h.clientAddress(c)))
	attempt, retryAt, err := h.throttle.Begin(c.UserContext(), prompt)
	if err != nil {
		return err
	}
	if attempt == nil {
		return &clientError{fiber.StatusTooManyRequests, refusal(c, retryAt)}
	}
	options, data, err := h.webAuthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	if err := h.keepCeremony(c, ceremonyLogin, data); err != nil {
		return err
	}
	return sendCeremony(c, options)
}

// passkeyLoginSubmit logs in the owner of the passkey: a passkey verified
// with the user's PIN or biometrics counts as both factors.
func (h *handler) passkeyLoginSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "credential"); err != nil {
		return err
	}
	ctx := c.UserContext()
	next := safeNext(formValue(c, "next"))
	address := throttle.LoginPerAddress.Key(addressSubject(h.clientAddress(c)))
	attempt, retryAt, err := h.throttle.Begin(ctx, address)
	if err != nil {
		return err
	}
	f := views.NewLoginForm()
	f.Next = next
	if attempt == nil {
		f.AddError("", refusal(c, retryAt))
		return h.render(c, fiber.StatusTooManyRequests, views.Login(f))
	}
	var owner *models.User
	data, err := h.takeCeremony(c, ceremonyLogin)
	if err != nil && !errors.Is(err, errNoCeremony) {
		return errors.Join(err, attempt.Succeeded(ctx))
	}
	var credential *webauthn.Credential
	if err == nil {
		var parsed *protocol.ParsedCredentialAssertionData
		if parsed, err = protocol.ParseCredentialRequestResponseBytes([]byte(formValue(c, "credential"))); err == nil {
			_, credential, err = h.webAuthn.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
				key, err := twofactor.PasskeyByCredentialID(ctx, h.db, rawID)
				if err != nil {
					return nil, err
				}
				if !hmac.Equal(userHandle, h.twoFactor.UserHandle(key.UserID)) {
					return nil, errors.New("the user handle is not the passkey owner's")
				}
				if owner, err = models.UserByID(ctx, h.db, key.UserID); err != nil {
					return nil, err
				}
				return h.twoFactor.PasskeyUserOf(ctx, h.db, owner.ID, owner.Username)
			}, *data, parsed)
		}
	}
	if err == nil && credential.Authenticator.CloneWarning {
		err = errors.New("the passkey's signature counter went back: a cloned authenticator?")
	}
	if err == nil && !owner.IsActive {
		err = errBadCredentials
	}
	if err != nil {
		h.log.Warn("passkey login refused", "err", err)
		var userID int64
		var username string
		if owner != nil {
			userID, username = owner.ID, owner.Username
		}
		if err := h.recordEvent(c, models.EventLoginFailed, userID, username, "with a passkey"); err != nil {
			return err
		}
		if err := h.recordLocks(c, userID, username, []throttle.Key{address}); err != nil {
			return err
		}
		f.AddError("", views.Msg("passkey.login_failed"))
		return h.render(c, fiber.StatusUnprocessableEntity, views.Login(f))
	}
	if err := attempt.Succeeded(ctx); err != nil {
		return err
	}
	if err := twofactor.PasskeyUsed(ctx, h.db, owner.ID, credential, h.now()); err != nil {
		return err
	}
	return h.completeLogin(c, owner, false, next, "with a passkey")
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
	user, err := h.twoFactor.PasskeyUserOf(c.UserContext(), h.db, u.ID, u.Username)
	if err != nil {
		return err
	}
	if len(user.Credentials) == 0 {
		return &clientError{fiber.StatusBadRequest, views.Msg("passkey.none")}
	}
	options, data, err := h.webAuthn.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return err
	}
	if err := h.keepCeremony(c, ceremonySecondStep, data); err != nil {
		return err
	}
	return sendCeremony(c, options)
}

// secondStepPasskeySubmit checks a passkey of the pending user, throttled
// as codes are, and logs them in.
func (h *handler) secondStepPasskeySubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "credential"); err != nil {
		return err
	}
	p, err := h.pendingSecondStep(c)
	if err != nil {
		return err
	}
	if p == nil {
		return h.startOver(c, "")
	}
	f := views.NewSecondStepForm()
	ctx := c.UserContext()
	keys := h.secondStepKeys(c, p)
	attempt, retryAt, err := h.throttle.Begin(ctx, keys...)
	if err != nil {
		return err
	}
	f.Passkeys = true
	if attempt == nil {
		f.AddError("", refusal(c, retryAt))
		return h.render(c, fiber.StatusTooManyRequests, views.SecondStep(f))
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
	data, err := h.takeCeremony(c, ceremonySecondStep)
	if err != nil && !errors.Is(err, errNoCeremony) {
		return errors.Join(err, attempt.Succeeded(ctx))
	}
	var credential *webauthn.Credential
	if err == nil {
		var parsed *protocol.ParsedCredentialAssertionData
		var user *twofactor.PasskeyUser
		if user, err = h.twoFactor.PasskeyUserOf(ctx, h.db, u.ID, u.Username); err != nil {
			return errors.Join(err, attempt.Succeeded(ctx))
		}
		if parsed, err = protocol.ParseCredentialRequestResponseBytes([]byte(formValue(c, "credential"))); err == nil {
			credential, err = h.webAuthn.ValidateLogin(user, *data, parsed)
		}
	}
	if err == nil && credential.Authenticator.CloneWarning {
		err = errors.New("the passkey's signature counter went back: a cloned authenticator?")
	}
	if err != nil {
		h.log.Warn("passkey second step refused", "user", u.ID, "err", err)
		if err := h.recordEvent(c, models.EventTwoFactorFailed, u.ID, u.Username, "passkey"); err != nil {
			return err
		}
		if err := h.recordLocks(c, u.ID, u.Username, keys); err != nil {
			return err
		}
		f.AddError("", views.Msg("passkey.second_step_failed"))
		return h.render(c, fiber.StatusUnprocessableEntity, views.SecondStep(f))
	}
	if err := attempt.Succeeded(ctx, keys[0]); err != nil {
		return err
	}
	if err := twofactor.PasskeyUsed(ctx, h.db, u.ID, credential, h.now()); err != nil {
		return err
	}
	return h.completeLogin(c, u, p.remember, p.next, "with a password and a passkey")
}

// confirmPasskeyBegin asks for one of the current user's passkeys, verified
// by its owner, to enter sudo mode.
func (h *handler) confirmPasskeyBegin(c *fiber.Ctx) error {
	u := currentUser(c)
	user, err := h.twoFactor.PasskeyUserOf(c.UserContext(), h.db, u.ID, u.Username)
	if err != nil {
		return err
	}
	if len(user.Credentials) == 0 {
		return &clientError{fiber.StatusBadRequest, views.Msg("passkey.none")}
	}
	options, data, err := h.webAuthn.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	if err := h.keepCeremony(c, ceremonyConfirm, data); err != nil {
		return err
	}
	return sendCeremony(c, options)
}

// confirmPasskeySubmit checks the passkey, records the time in the session
// and returns to next, as confirming the password does.
func (h *handler) confirmPasskeySubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "credential"); err != nil {
		return err
	}
	ctx, u := c.UserContext(), currentUser(c)
	f, err := h.confirmForm(c)
	if err != nil {
		return err
	}
	f.Next = safeNext(formValue(c, "next"))
	data, err := h.takeCeremony(c, ceremonyConfirm)
	if err != nil && !errors.Is(err, errNoCeremony) {
		return err
	}
	var credential *webauthn.Credential
	if err == nil {
		var user *twofactor.PasskeyUser
		if user, err = h.twoFactor.PasskeyUserOf(ctx, h.db, u.ID, u.Username); err != nil {
			return err
		}
		var parsed *protocol.ParsedCredentialAssertionData
		if parsed, err = protocol.ParseCredentialRequestResponseBytes([]byte(formValue(c, "credential"))); err == nil {
			credential, err = h.webAuthn.ValidateLogin(user, *data, parsed)
		}
	}
	if err == nil && credential.Authenticator.CloneWarning {
		err = errors.New("the passkey's signature counter went back: a cloned authenticator?")
	}
	if err != nil {
		h.log.Warn("passkey confirmation refused", "user", u.ID, "err", err)
		f.Problem = "That passkey could not confirm it is you. Try again, or enter your password."
		return h.render(c, fiber.StatusUnprocessableEntity, views.Confirm(f))
	}
	if err := twofactor.PasskeyUsed(ctx, h.db, u.ID, credential, h.now()); err != nil {
		return err
	}
	if err := h.markAuthenticated(c); err != nil {
		return err
	}
	if f.Next != "" {
		return h.redirect(c, f.Next)
	}
	return h.redirect(c, views.PathTwoFactor)
}
