package handlers

import (
	"errors"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/views"
)

// adminPerPage is the length of a page of the admin's lists.
const adminPerPage = 50

// adminLatest is how many entries of the log the dashboard and an object's page show.
const adminLatest = 20

// staffOnly guards the admin, as Django's admin_view does: an anonymous
// visitor (an inactive user is one) goes to the login page and comes back,
// a logged-in user who is not staff gets 403.
func (h *handler) staffOnly(c *fiber.Ctx) error {
	u := currentUser(c)
	if u == nil {
		return h.loginRequiredThen(h.adminReturnPage)(c)
	}
	if !u.IsStaff {
		return &clientError{fiber.StatusForbidden, views.Msg("admin.staff_only")}
	}
	return c.Next()
}

// adminRecentAuth lets staff look around the admin, but has every action
// wait for a recent authentication (sudo mode, as the two-factor settings
// do): a stolen staff session alone cannot change users. After the
// confirmation the staff member is back on the action's page.
func (h *handler) adminRecentAuth(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	return h.requireRecentAuth(c, h.adminReturnPage(c))
}

// adminReturnPage is where a login for an admin request returns: the page
// asked for, or for an action, the page it belongs to (the path without
// its last segment when the action has no page of its own).
func (h *handler) adminReturnPage(c *fiber.Ctx) string {
	path := c.Path()
	if (c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) && h.routeTable.allows(fiber.MethodGet, path) {
		return c.OriginalURL()
	}
	for len(path) > len(views.PathAdmin) && strings.HasPrefix(path, views.PathAdmin) {
		if path = path[:strings.LastIndex(strings.TrimSuffix(path, "/"), "/")+1]; h.routeTable.allows(fiber.MethodGet, path) {
			return path
		}
	}
	return views.PathAdmin
}

// adminRefusal turns the admin's refusals into answers that say why.
func adminRefusal(err error) error {
	switch {
	case errors.Is(err, models.ErrNotAllowed):
		return &clientError{fiber.StatusForbidden, views.Msg("admin.superuser_only")}
	case errors.Is(err, models.ErrSelf):
		return &clientError{fiber.StatusConflict, views.Msg("admin.not_yourself")}
	case errors.Is(err, models.ErrOwnPassword):
		return &clientError{fiber.StatusConflict, views.Msg("admin.own_password")}
	case errors.Is(err, models.ErrOwnTwoFactor):
		return &clientError{fiber.StatusConflict, views.Msg("admin.own_two_factor")}
	case errors.Is(err, models.ErrLastSuperuser):
		return &clientError{fiber.StatusConflict, views.Msg("admin.last_superuser")}
	case errors.Is(err, models.ErrNotFound):
		return fiber.ErrNotFound
	}
	return err
}

// refusalText is the message of an admin refusal, for a form or the live
// region; empty for an error that is no refusal.
func refusalText(err error) views.Text {
	var clientErr *clientError
	if errors.As(adminRefusal(err), &clientErr) {
		return clientErr.message
	}
	return views.Text{}
}

// adminDashboard shows the counts and the latest admin actions.
func (h *handler) adminDashboard(c *fiber.Ctx) error {
	ctx := c.UserContext()
	counts, err := models.DashboardCounts(ctx, h.db, h.now())
	if err != nil {
		return err
	}
	latest, err := models.AdminLog(ctx, h.db, models.AdminLogFilter{}, 0, adminLatest)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminDashboardView(views.AdminDashboard{Counts: counts, Latest: latest}))
}

// adminLog shows the admin log, filtered by actor and action, 50 a page.
func (h *handler) adminLog(c *fiber.Ctx) error {
	ctx := c.UserContext()
	filter := models.AdminLogFilter{Action: c.Query("action")}
	filter.ActorID, _ = strconv.ParseInt(c.Query("actor"), 10, 64)
	total, err := models.CountAdminLog(ctx, h.db, filter)
	if err != nil {
		return err
	}
	page, pages := pageOf(c, total)
	entries, err := models.AdminLog(ctx, h.db, filter, (page-1)*adminPerPage, adminPerPage)
	if err != nil {
		return err
	}
	actors, err := models.AdminLogActors(ctx, h.db)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminLogView(views.AdminLogPage{
		Filter: filter, Actors: actors, Entries: entries, Total: total, Page: page, Pages: pages,
	}))
}

// pageOf is the page of an admin list the query asks for (the last one if
// past it) and how many there are.
func pageOf(c *fiber.Ctx, total int64) (page, pages int64) {
	pages = max(1, (total+adminPerPage-1)/adminPerPage)
	return min(pageNumber(c), pages), pages
}

// idParam is the :id of the URL; an id that is not a positive number is a 404.
func idParam(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// adminMessage answers an admin action: with htmx, the fragment and the
// message in the live region, announced while the focus stays where the
// admin acted; without htmx, the message on the page at back.
func (h *handler) adminMessage(c *fiber.Ctx, back string, message views.Message, fragment func() (templ.Component, error)) error {
	if !isHTMX(c) {
		h.flashMessage(c, message)
		return h.redirect(c, back)
	}
	component, err := fragment()
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, templ.Join(component, views.FlashOOB(message)))
}
