package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/models/social"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// adminConnections are a user's accounts at other sites, as their admin
// page lists them.
func (h *handler) adminConnections(ctx context.Context, userID int64) ([]views.SocialConnection, error) {
	accounts, err := social.Accounts(ctx, h.db, userID)
	if err != nil {
		return nil, err
	}
	connections := make([]views.SocialConnection, len(accounts))
	for i, a := range accounts {
		connections[i] = views.SocialConnection{ID: a.ID, Label: h.providerLabel(a.Provider), Email: a.Email, Since: a.CreatedAt, LastUsed: a.LastUsedAt}
	}
	return connections, nil
}

// providerLabel is the name a provider is shown by: its label if it is
// configured, else the name it was stored under.
func (h *handler) providerLabel(name string) string {
	if client, ok := h.social[name]; ok {
		return client.Label
	}
	return name
}

// adminUserDisconnect removes one of a user's accounts at other sites (a
// superuser's action, for an account at a provider that is lost or not
// theirs), unless it is their last way in; the admin log, the user's own
// log and a notice mail record it.
func (h *handler) adminUserDisconnect(c *fiber.Ctx) error {
	u, err := h.adminUser(c)
	if err != nil {
		return err
	}
	if err := requireFields(c, "id"); err != nil {
		return err
	}
	id, err := strconv.ParseInt(formValue(c, "id"), 10, 64)
	if err != nil {
		return &clientError{fiber.StatusBadRequest, views.Msg("error.form_unreadable")}
	}
	back := views.AdminUserPath(u.ID)
	ctx, actor := c.UserContext(), currentUser(c)
	name, err := models.AdminDisconnect(ctx, h.db, actor, u.ID, func(ctx context.Context, tx bun.Tx) (string, error) {
		last, err := lastWayIn(ctx, tx, u)
		if err != nil || last {
			return "", errors.Join(err, errLastWayIn)
		}
		name, err := social.Unlink(ctx, tx, u.ID, id)
		if errors.Is(err, social.ErrNoAccount) {
			return "", nil // removed already
		}
		if err != nil {
			return "", err
		}
		label := h.providerLabel(name)
		return name, h.notice(ctx, tx, u, views.Msg("mail.notice.social_removed_by_staff.subject", views.Args{"Provider": label}),
			views.Msg("mail.notice.social_removed_by_staff.body", views.Args{"Provider": label}))
	})
	switch {
	case errors.Is(err, errLastWayIn):
		h.flash(c, views.LevelError, views.Msg("social.admin.last_way_in", views.Args{"Username": u.Username}))
		return h.redirect(c, back)
	case err != nil:
		return adminRefusal(err)
	case name == "":
		h.flash(c, views.LevelInfo, views.Msg("social.admin.gone"))
		return h.redirect(c, back)
	}
	h.mail.Notify()
	label := h.providerLabel(name)
	if err := h.recordEvent(c, models.EventSocialDisconnected, u.ID, u.Username, byAdmin(actor)); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("social.admin.removed", views.Args{"Provider": label, "Username": u.Username}))
	return h.redirect(c, back)
}

// errLastWayIn refuses to remove a user's only way to log in.
var errLastWayIn = errors.New("the last way in")

// lastWayIn reports whether u could not log in without one of their
// accounts at other sites: no usable password, no passkey, one account.
func lastWayIn(ctx context.Context, db bun.IDB, u *models.User) (bool, error) {
	if password.Usable(u.Password) {
		return false, nil
	}
	passkeys, err := twofactor.Passkeys(ctx, db, u.ID)
	if err != nil || len(passkeys) > 0 {
		return false, err
	}
	accounts, err := social.Accounts(ctx, db, u.ID)
	return len(accounts) <= 1, err
}
