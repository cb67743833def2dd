package handlers

import (
	"crypto/hmac"
	"errors"
	"strconv"

	"github.com/a-h/templ"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/throttle"
	"gatehouse/models/twofactor"
	"gatehouse/models/useragent"
	"gatehouse/views"
)

// passkeysPage lists the user's passkeys and, in sudo mode, offers to add one.
func (h *handler) passkeysPage(c *fiber.Ctx) error {
	p, err := h.passkeysView(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.Passkeys(p))
}

// passkeysView gathers what the passkeys page shows.
func (h *handler) passkeysView(c *fiber.Ctx) (views.PasskeysPage, error) {
	keys, err := twofactor.Passkeys(c.UserContext(), h.db, currentUser(c).ID)
	if err != nil {
		return views.PasskeysPage{}, err
	}
	recent, err := h.recentlyAuthenticated(c)
	if err != nil {
		return views.PasskeysPage{}, err
	}
	p := views.PasskeysPage{Available: h.webAuthn != nil, CanAdd: recent, DefaultName: useragent.Describe(c.Get(fiber.HeaderUserAgent))}
	for _, k := range keys {
		p.Passkeys = append(p.Passkeys, views.PasskeyRow{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	return p, nil
}

// passkeyRegisterBegin starts adding a passkey: the options for
// navigator.credentials.create, its challenge kept in the session.
func (h *handler) passkeyRegisterBegin(c *fiber.Ctx) error {
	u := currentUser(c)
	user, err := h.twoFactor.PasskeyUserOf(c.UserContext(), h.db, u.ID, u.Username)
	if err != nil {
		return err
	}
	options, data, err := h.webAuthn.BeginRegistration(user,
		webauthn.WithExclusions(webauthn.Credentials(user.Credentials).CredentialDescriptors()))
	if err != nil {
		return err
	}
	if err := h.keepCeremony(c, ceremonyRegister, data); err != nil {
		return err
	}
	return sendCeremony(c, options)
}

// passkeyRegisterSubmit checks the new credential against the challenge
// and stores it under the name given.
func (h *handler) passkeyRegisterSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "credential"); err != nil {
		return err
	}
	u := currentUser(c)
	ctx := c.UserContext()
	name := twofactor.CleanPasskeyName(formValue(c, "name"))
	if name == "" {
		name = useragent.Describe(c.Get(fiber.HeaderUserAgent))
	}
	problem := "The passkey could not be added. Please try again."
	data, err := h.takeCeremony(c, ceremonyRegister)
	if err != nil && !errors.Is(err, errNoCeremony) {
		return err
	}
	if err == nil {
		var parsed *protocol.ParsedCredentialCreationData
		var credential *webauthn.Credential
		var user *twofactor.PasskeyUser
		if parsed, err = protocol.ParseCredentialCreationResponseBytes([]byte(formValue(c, "credential"))); err == nil {
			if user, err = h.twoFactor.PasskeyUserOf(ctx, h.db, u.ID, u.Username); err != nil {
				return err
			}
			credential, err = h.webAuthn.CreateCredential(user, *data, parsed)
		}
		if err == nil {
			_, err = twofactor.AddPasskey(ctx, h.db, u.ID, name, credential, h.now())
			if errors.Is(err, twofactor.ErrDuplicatePasskey) {
				problem = "That passkey was added already."
			} else if err != nil {
				return err
			}
		}
	}
	if err != nil {
		h.log.Warn("passkey registration refused", "user", u.ID, "err", err)
		p, viewErr := h.passkeysView(c)
		if viewErr != nil {
			return viewErr
		}
		p.Problem = problem
		return h.render(c, fiber.StatusUnprocessableEntity, views.Passkeys(p))
	}
	if err := h.recordEvent(c, models.EventPasskeyAdded, u.ID, u.Username, name); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, "Passkey “"+name+"” added. You can now log in with it, without your password.")
	return h.redirect(c, views.PathPasskeys)
}

// passkeyRemove deletes one of the user's passkeys: in place with htmx.
func (h *handler) passkeyRemove(c *fiber.Ctx) error {
	if err := requireFields(c, "id"); err != nil {
		return err
	}
	u := currentUser(c)
	id, err := strconv.ParseInt(formValue(c, "id"), 10, 64)
	if err != nil {
		return &clientError{fiber.StatusBadRequest, "That passkey does not exist."}
	}
	name, err := twofactor.RemovePasskey(c.UserContext(), h.db, u.ID, id)
	text := "That passkey had already been removed."
	switch {
	case errors.Is(err, twofactor.ErrPasskeyNotFound):
	case err != nil:
		return err
	default:
		if err := h.recordEvent(c, models.EventPasskeyRemoved, u.ID, u.Username, name); err != nil {
			return err
		}
		text = "Passkey “" + name + "” removed."
	}
	message := views.Message{Level: views.LevelSuccess, Text: text}
	if !isHTMX(c) {
		h.flash(c, message.Level, message.Text)
		return h.redirect(c, views.PathPasskeys)
	}
	p, err := h.passkeysView(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, templ.Join(views.PasskeysCard(p, true), views.FlashOOB(false, message)))
}

// passkeyLoginBegin starts a login with a passkey alone: the browser offers
// the passkeys it holds for the site (discoverable credentials).
func (h *handler) passkeyLoginBegin(c *fiber.Ctx) error {
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
		f.AddError("", "That passkey could not log you in. Try again, or log in with your password.")
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
	if p == nil {
		return &clientError{fiber.StatusForbidden, "Log in with your password first."}
	}
	u, err := models.UserByID(c.UserContext(), h.db, p.userID)
	if err != nil {
		return err
	}
	user, err := h.twoFactor.PasskeyUserOf(c.UserContext(), h.db, u.ID, u.Username)
	if err != nil {
		return err
	}
	if len(user.Credentials) == 0 {
		return &clientError{fiber.StatusBadRequest, "This account has no passkey."}
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
	keys := []throttle.Key{
		throttle.TwoFactorPerUser.Key(strconv.FormatInt(p.userID, 10)),
		throttle.LoginPerAddress.Key(addressSubject(h.clientAddress(c))),
	}
	attempt, retryAt, err := h.throttle.Begin(ctx, keys...)
	if err != nil {
		return err
	}
	f.Passkeys = true
	if attempt == nil {
		f.AddError("", refusal(c, retryAt))
		return h.render(c, fiber.StatusTooManyRequests, views.SecondStep(f))
	}
	u, err := models.UserByID(ctx, h.db, p.userID)
	if err != nil || !u.IsActive || p.hash != h.authHash(u) {
		if errors.Is(err, models.ErrNotFound) || err == nil {
			if err := attempt.Succeeded(ctx); err != nil {
				return err
			}
			return h.startOver(c, "")
		}
		return errors.Join(err, attempt.Succeeded(ctx))
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
		f.AddError("", "That passkey could not confirm it is you. Try again, or enter a code.")
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
		return &clientError{fiber.StatusBadRequest, "This account has no passkey."}
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
