package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/a-h/templ"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/twofactor"
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
	p := views.PasskeysPage{Available: h.webAuthn != nil, CanAdd: recent, DefaultName: views.Device(c.UserContext(), c.Get(fiber.HeaderUserAgent))}
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
	return h.startCeremony(c, ceremonyRegister, options, data)
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
		name = views.Device(c.UserContext(), c.Get(fiber.HeaderUserAgent))
	}
	problem := views.Msg("passkey.problem.not_added")
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
			err = h.changeWithNotice(c, func(ctx context.Context, tx bun.Tx) (subject, body views.Text, err error) {
				if _, err := twofactor.AddPasskey(ctx, tx, u.ID, name, credential, h.now()); err != nil {
					return subject, body, err
				}
				subject, body = views.Msg("mail.notice.passkey_added.subject"), views.Msg("mail.notice.passkey_added.body", views.Args{"Name": name})
				return subject, body, nil
			})
			if errors.Is(err, twofactor.ErrDuplicatePasskey) {
				problem = views.Msg("passkey.problem.duplicate")
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
	if err := h.recordEvent(c, models.EventPasskeyAdded, u.ID, u.Username, models.NewDetail("named", "Name", name)); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("flash.passkey_added", views.Args{"Name": name}))
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
		return &clientError{fiber.StatusBadRequest, views.Msg("passkey.unknown")}
	}
	var name string // removeFactor refuses (409) a last factor the policy needs
	err = h.changeWithNotice(c, func(ctx context.Context, tx bun.Tx) (subject, body views.Text, err error) {
		err = h.removeFactor(ctx, tx, u, func() (err error) {
			name, err = twofactor.RemovePasskey(ctx, tx, u.ID, id)
			return err
		})
		if err != nil {
			return subject, body, err
		}
		subject, body = views.Msg("mail.notice.passkey_removed.subject"), views.Msg("mail.notice.passkey_removed.body", views.Args{"Name": name})
		return subject, body, nil
	})
	text := views.Msg("flash.passkey_gone")
	switch {
	case errors.Is(err, twofactor.ErrPasskeyNotFound):
	case err != nil:
		return err
	default:
		if err := h.recordEvent(c, models.EventPasskeyRemoved, u.ID, u.Username, models.NewDetail("named", "Name", name)); err != nil {
			return err
		}
		text = views.Msg("flash.passkey_removed", views.Args{"Name": name})
	}
	message := views.Say(views.LevelSuccess, text)
	if !isHTMX(c) {
		h.flashMessage(c, message)
		return h.redirect(c, views.PathPasskeys)
	}
	p, err := h.passkeysView(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, templ.Join(views.PasskeysCard(p, true), views.FlashOOB(message)))
}
