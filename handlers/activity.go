package handlers

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/views"
)

// recordEvent writes an entry in the security log of the user with userID
// (0 for a username no account has), with the client's address and browser.
func (h *handler) recordEvent(c *fiber.Ctx, kind string, userID int64, username string, detail models.Detail) error {
	return h.recordEventIn(c.UserContext(), h.db, c, kind, userID, username, detail)
}

// recordEventIn is recordEvent in db, the transaction of the change it logs.
func (h *handler) recordEventIn(ctx context.Context, db bun.IDB, c *fiber.Ctx, kind string, userID int64, username string, detail models.Detail) error {
	return models.RecordEvent(ctx, db, &models.SecurityEvent{
		UserID:    userID,
		Username:  username,
		Kind:      kind,
		IP:        h.clientAddress(c).String(),
		UserAgent: truncate(c.Get(fiber.HeaderUserAgent), 300),
		Detail:    detail.String(),
	})
}

// recordProfileChange logs a profile save: an email change apart, since a
// hijacked account's address is what an attacker changes first.
func (h *handler) recordProfileChange(c *fiber.Ctx, before *models.User, after views.ProfileForm) error {
	if after.Email != before.Email {
		if err := h.recordEvent(c, models.EventEmailChanged, before.ID, before.Username, models.Detail{}); err != nil {
			return err
		}
	}
	if after.FirstName != before.FirstName || after.LastName != before.LastName {
		return h.recordEvent(c, models.EventProfileChanged, before.ID, before.Username, models.Detail{})
	}
	return nil
}
