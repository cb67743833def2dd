package handlers

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// newWebAuthn returns the relying party of the site at baseURL: its host is
// the RP ID, its origin the only one accepted. Browsers allow passkeys under
// a domain name only (localhost included), never an IP address: for such a
// base URL it returns nil, and passkeys are off.
func newWebAuthn(baseURL string) (*webauthn.WebAuthn, error) {
	parsed, err := url.Parse(baseURL)
	if err != nil || parsed.Hostname() == "" || net.ParseIP(parsed.Hostname()) != nil {
		return nil, nil
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: models.PasskeyCeremonyTimeout, TimeoutUVD: models.PasskeyCeremonyTimeout}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          parsed.Hostname(),
		RPDisplayName: views.SiteName,
		RPOrigins:     []string{parsed.Scheme + "://" + parsed.Host},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return w, nil
}

// Keys of the session payload holding a ceremony's challenge, one per kind
// of ceremony, so that a challenge issued for one is never accepted by another.
const (
	ceremonyRegister   = "_webauthn_register"
	ceremonyLogin      = "_webauthn_login"
	ceremonySecondStep = "_webauthn_second_step"
	ceremonyConfirm    = "_webauthn_confirm"
)

// startCeremony keeps a ceremony's session data server-side, in the
// request's session (a visitor who has none gets one that lasts the
// ceremony), and answers its first step with the options for the browser's
// navigator.credentials call, as JSON.
func (h *handler) startCeremony(c *fiber.Ctx, kind string, options any, data *webauthn.SessionData) error {
	encoded, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webauthn session: %w", err)
	}
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	if _, ok := sess.Get(keyExpires).(int64); !ok {
		sess.Set(keyExpires, h.now().Add(models.PasskeyCeremonyTimeout).Unix())
	}
	sess.Set(kind, string(encoded))
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(options)
}

// errNoCeremony is a ceremony finished with no challenge in the session:
// begun in another browser, finished twice, or lost with the session.
var errNoCeremony = errors.New("no passkey ceremony under way")

// takeCeremony returns the session data of a ceremony under way and
// forgets it: each challenge is answered once.
func (h *handler) takeCeremony(c *fiber.Ctx, kind string) (*webauthn.SessionData, error) {
	sess, err := h.existingSession(c)
	if err != nil {
		return nil, err
	}
	var encoded string
	if sess != nil {
		encoded, _ = sess.Get(kind).(string)
	}
	if encoded == "" {
		return nil, errNoCeremony
	}
	sess.Delete(kind)
	if err := h.saveSession(c, sess); err != nil {
		return nil, err
	}
	var data webauthn.SessionData
	if err := json.Unmarshal([]byte(encoded), &data); err != nil {
		return nil, errNoCeremony
	}
	return &data, nil
}

// beginAssertion asks for one of u's passkeys, verified by its owner as
// verification requires, for the ceremony of kind: the options for the
// browser's navigator.credentials.get, the challenge kept in the session.
func (h *handler) beginAssertion(c *fiber.Ctx, u *models.User, kind string, verification protocol.UserVerificationRequirement) error {
	user, err := h.twoFactor.PasskeyUserOf(c.UserContext(), h.db, u.ID, u.Username)
	if err != nil {
		return err
	}
	if len(user.Credentials) == 0 {
		return &clientError{fiber.StatusBadRequest, views.Msg("passkey.none")}
	}
	options, data, err := h.webAuthn.BeginLogin(user, webauthn.WithUserVerification(verification))
	if err != nil {
		return err
	}
	return h.startCeremony(c, kind, options, data)
}

// errPasskeyRefused wraps why a passkey's answer proves no one: no
// challenge under way, an answer that does not parse or verify, a passkey
// no one has, an authenticator that looks cloned.
var errPasskeyRefused = errors.New("passkey refused")

// checkAssertion takes the ceremony of kind from the session and checks
// the browser's answer to it, the form's credential: as a passkey of u, or
// with u nil (a login with a passkey alone) as the passkey of whoever holds
// it, who is returned. A refused answer is errPasskeyRefused, with the
// holder if one was found; any other error is the server's.
func (h *handler) checkAssertion(c *fiber.Ctx, kind string, u *models.User) (*models.User, *webauthn.Credential, error) {
	ctx := c.UserContext()
	data, err := h.takeCeremony(c, kind)
	if errors.Is(err, errNoCeremony) {
		return u, nil, fmt.Errorf("%w: %w", errPasskeyRefused, err)
	}
	if err != nil {
		return u, nil, err
	}
	var user *twofactor.PasskeyUser
	if u != nil {
		if user, err = h.twoFactor.PasskeyUserOf(ctx, h.db, u.ID, u.Username); err != nil {
			return u, nil, err
		}
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(formValue(c, "credential")))
	if err != nil {
		return u, nil, fmt.Errorf("%w: %w", errPasskeyRefused, err)
	}
	var credential *webauthn.Credential
	if u != nil {
		credential, err = h.webAuthn.ValidateLogin(user, *data, parsed)
	} else {
		_, credential, err = h.webAuthn.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			key, err := twofactor.PasskeyByCredentialID(ctx, h.db, rawID)
			if err != nil {
				return nil, err
			}
			if !hmac.Equal(userHandle, h.twoFactor.UserHandle(key.UserID)) {
				return nil, errors.New("the user handle is not the passkey owner's")
			}
			if u, err = models.UserByID(ctx, h.db, key.UserID); err != nil {
				return nil, err
			}
			return h.twoFactor.PasskeyUserOf(ctx, h.db, u.ID, u.Username)
		}, *data, parsed)
	}
	if err == nil && credential.Authenticator.CloneWarning {
		err = errors.New("the passkey's signature counter went back: a cloned authenticator?")
	}
	if err != nil {
		return u, nil, fmt.Errorf("%w: %w", errPasskeyRefused, err)
	}
	return u, credential, nil
}

// passkeysOff answers a passkey request on a site without passkeys.
var passkeysOff = &clientError{fiber.StatusNotFound, views.Msg("passkey.off")}

// passkeysAvailable is middleware that lets passkey requests through only
// when the site has a relying party.
func (h *handler) passkeysAvailable(c *fiber.Ctx) error {
	if h.webAuthn == nil {
		return passkeysOff
	}
	return c.Next()
}
