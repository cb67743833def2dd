package handlers

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/hashpool"
	"gatehouse/models/throttle"
	"gatehouse/views"
)

// loginKeys are the throttle keys a login attempt as username is counted
// under: the client address, and the account — or, from a browser that has
// logged in as this user before, that browser's own allowance.
func (h *handler) loginKeys(c *fiber.Ctx, username string) []throttle.Key {
	account := models.UsernameKey(username)
	keys := []throttle.Key{h.clientKey(c, throttle.LoginPerAddress)}
	if device := h.trustedDevice(c, account); device != "" {
		return append(keys, throttle.LoginPerDevice.Key(device+":"+account))
	}
	return append(keys, throttle.LoginPerAccount.Key(account))
}

// refusal sets Retry-After for an attempt refused until retryAt and says
// when to try again (in whole minutes, rounded up), for the form that was
// refused (answered with 429).
func (h *handler) refusal(c *fiber.Ctx, retryAt time.Time) views.Text {
	return h.refusalSaying(c, retryAt, "throttle.refused")
}

// limited is refusal for an action that succeeds too often rather than
// fails: so many accounts or address changes lately.
func (h *handler) limited(c *fiber.Ctx, retryAt time.Time) views.Text {
	return h.refusalSaying(c, retryAt, "throttle.limited")
}

func (h *handler) refusalSaying(c *fiber.Ctx, retryAt time.Time, key string) views.Text {
	wait := retryAt.Sub(h.now())
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	return views.MsgN(key, max(1, int(math.Ceil(wait.Minutes()))))
}

// tryRefused words a throttled try that did not run: the hasher had no
// room, or the limit was reached. ok is false for any other result, which
// the caller decides.
func (h *handler) tryRefused(c *fiber.Ctx, outcome throttle.Outcome, retryAt time.Time, err error) (refusal views.Text, ok bool) {
	switch {
	case errors.Is(err, hashpool.ErrBusy):
		return hasherBusy(c), true
	case err == nil && outcome == throttle.Refused:
		return h.refusal(c, retryAt), true
	}
	return views.Text{}, false
}

// hasherBusy sets Retry-After for a password check refused because too many
// wait for the hasher, and says so.
func hasherBusy(c *fiber.Ctx) views.Text {
	c.Set(fiber.HeaderRetryAfter, "1")
	return views.Msg("error.busy")
}

// loginFailed logs a failed login (counted already by its attempt) for the
// account the username names (user nil: none). When this failure locks the
// account or the address, the lock is logged too: the account's in its
// user's log, the address's in nobody's. Refused attempts write nothing, so
// they cannot flood the log.
func (h *handler) loginFailed(c *fiber.Ctx, u *models.User, username string, keys []throttle.Key) error {
	var userID int64
	if u != nil {
		userID = u.ID
	}
	if err := h.recordEvent(c, models.EventLoginFailed, userID, username, models.Detail{}); err != nil {
		return err
	}
	return h.recordLocks(c, userID, username, keys)
}

// recordLocks logs, after a failure counted under keys, the locks it set
// off: the address's in nobody's log, any other in the user's (userID 0:
// none). The second step and the passkey forms log theirs here too, so a
// user's log and the dashboard show a guessed second factor as they show
// guessed passwords.
func (h *handler) recordLocks(c *fiber.Ctx, userID int64, username string, keys []throttle.Key) error {
	ctx := c.UserContext()
	for _, key := range keys {
		retryAt, err := h.throttle.Check(ctx, key)
		if err != nil {
			return err
		}
		if retryAt.IsZero() {
			continue
		}
		until := retryAt.UTC().Format(time.RFC3339)
		switch key.Rule {
		case throttle.LoginPerAddress:
			err = h.recordEvent(c, models.EventThrottled, 0, "", models.NewDetail("address_locked_until", models.DetailUntil, until))
		case throttle.TwoFactorPerUser, throttle.TwoFactorPerUserDay:
			err = h.recordEvent(c, models.EventThrottled, userID, username, models.NewDetail("second_factor_locked_until", models.DetailUntil, until))
		default:
			err = h.recordEvent(c, models.EventThrottled, userID, username, models.NewDetail("locked_until", models.DetailUntil, until))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// holdRefusal waits refusalHold before a refused attempt is answered,
// unless maxHeldRefusals are waiting already, ctx ends first (the request's
// deadline) or the server shuts down.
func (h *handler) holdRefusal(ctx context.Context) {
	if h.refusalHold <= 0 {
		return
	}
	select {
	case h.heldRefusals <- struct{}{}:
	default:
		return
	}
	defer func() { <-h.heldRefusals }()
	timer := time.NewTimer(h.refusalHold)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	case <-h.lifetime.Done():
	}
}
