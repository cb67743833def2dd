package handlers

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// enrolmentPaths are the pages a user who must set up a second factor may
// still use: the two-factor and passkey settings, the password
// confirmation they ask for, logging out and the language switcher.
var enrolmentPaths = []string{"/accounts/2fa/", views.PathPasskeys, views.PathConfirm, views.PathLogout, views.PathSetLanguage}

// enrolmentRequired holds a user the two-factor policy applies to, and who
// has no second factor yet, to the enrolment pages: under "all" every other
// page, under "staff" the admin, sends them to the two-factor settings
// (htmx: HX-Redirect) until they have one.
func (h *handler) enrolmentRequired(c *fiber.Ctx) error {
	u := currentUser(c)
	if !h.twoFactorRule.AppliesTo(u) {
		return c.Next()
	}
	adminOnly := h.twoFactorRule != models.TwoFactorAll
	if adminOnly && !strings.HasPrefix(c.Path(), views.PathAdmin) {
		return c.Next()
	}
	for _, path := range enrolmentPaths {
		if strings.HasPrefix(c.Path(), path) {
			return c.Next()
		}
	}
	has, err := h.hasSecondFactor(c, u.ID)
	if err != nil {
		return err
	}
	if has {
		return c.Next()
	}
	key := "two_factor.enrol_required"
	if adminOnly {
		key = "two_factor.enrol_required_admin"
	}
	h.flash(c, views.LevelInfo, views.Msg(key))
	if dest := c.Get("Sec-Fetch-Dest"); c.Method() == fiber.MethodGet && !isHTMX(c) && (dest == "" || dest == "document") {
		// Once enrolled, the recovery codes' page leads back here (a page,
		// not an icon the browser fetched on its own).
		sess, err := h.session(c)
		if err != nil {
			return err
		}
		sess.Set(keyEnrolmentNext, safeNext(c.OriginalURL()))
		if err := h.saveSession(c, sess); err != nil {
			return err
		}
	}
	return h.redirect(c, views.PathTwoFactor)
}

// keyEnrolmentNext keeps the page a user was held back from until they set
// up a second factor.
const keyEnrolmentNext = "_2fa_enrolment_next"

// factorKey keys in the cache whether a user has a second factor.
type factorKey int64

// DependsOn says the user's TOTP and passkeys.
func (factorKey) DependsOn() models.Tables { return models.TableTwoFactor | models.TablePasskeys }

// hasSecondFactor reports whether the user has TOTP on or a passkey, from
// the cache when it can.
func (h *handler) hasSecondFactor(c *fiber.Ctx, userID int64) (bool, error) {
	snapshot, err := h.snapshot(c)
	if err != nil {
		return false, err
	}
	if cached, found := snapshot.Get(factorKey(userID)); found {
		return cached.(bool), nil
	}
	has, err := twofactor.HasFactor(c.UserContext(), h.db, userID)
	if err != nil {
		return false, err
	}
	snapshot.Put(factorKey(userID), has)
	return has, nil
}

// mustKeepFactor reports whether the current user's second factor must
// stay: the policy asks them to have one, and no other remains.
func (h *handler) mustKeepFactor(c *fiber.Ctx, otherFactor bool) bool {
	return !otherFactor && h.twoFactorRule.AppliesTo(currentUser(c))
}

// errLastFactor is a removal that would leave a user the two-factor policy
// applies to without a second factor.
var errLastFactor = &clientError{fiber.StatusConflict, lastFactorRequired()}

// removeFactor runs remove, which takes away one of u's second factors, in
// tx, with u's row locked so that two removals at once cannot both pass
// the check; it fails with errLastFactor, undoing the removal, when the
// policy applies to u and none is left.
func (h *handler) removeFactor(ctx context.Context, tx bun.Tx, u *models.User, remove func() error) error {
	if err := models.LockUser(ctx, tx, u.ID); err != nil {
		return err
	}
	if err := remove(); err != nil {
		return err
	}
	if !h.twoFactorRule.AppliesTo(u) {
		return nil
	}
	has, err := twofactor.HasFactor(ctx, tx, u.ID)
	if err == nil && !has {
		err = errLastFactor
	}
	return err
}

// lastFactorRequired says why a last second factor stays.
func lastFactorRequired() views.Text { return views.Msg("two_factor.last_factor_required") }
