package handlers

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// Bounds of what the user list reads from a request.
const (
	searchMaxLength = 200
	bulkMaxUsers    = 500 // a page is 50; more is not from the form
)

// adminUsers lists the users: searched, filtered and sorted as the query
// string asks, 50 a page.
func (h *handler) adminUsers(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q := models.UserQuery{Search: truncate(strings.TrimSpace(c.Query("q")), searchMaxLength), Sort: c.Query("sort")}
	q.Active, q.Staff, q.Superuser, q.Verified = queryFlag(c, "active"), queryFlag(c, "staff"), queryFlag(c, "superuser"), queryFlag(c, "verified")
	total, err := models.CountUsers(ctx, h.db, q)
	if err != nil {
		return err
	}
	page, pages := pageOf(c, total)
	users, err := models.SearchUsers(ctx, h.db, q, (page-1)*adminPerPage, adminPerPage)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminUsers(views.AdminUsersPage{
		Query: q, Users: users, Total: total, Page: page, Pages: pages, Viewer: currentUser(c), BackURL: safeNext(c.OriginalURL()),
	}))
}

// queryFlag reads a yes/no filter of the query string; anything else is no filter.
func queryFlag(c *fiber.Ctx, name string) *bool {
	switch c.Query(name) {
	case "yes":
		return new(true)
	case "no":
		return new(false)
	}
	return nil
}

// adminUsersSubmit activates or deactivates the selected users: first a
// page that says how many and asks, then the change. Those the viewer may
// not change, or who must stay (themselves, the last superuser), are left
// alone, and the message says so.
func (h *handler) adminUsersSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "action"); err != nil {
		return err
	}
	action := formValue(c, "action")
	if action != "activate" && action != "deactivate" {
		return &clientError{fiber.StatusBadRequest, views.Msg("admin.bulk_action")}
	}
	ids, err := formIDs(c, "ids")
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		h.flash(c, views.LevelError, views.Msg("admin.flash.select_first"))
		return h.redirect(c, views.PathAdminUsers)
	}
	ctx := c.UserContext()
	if !confirmed(c) {
		users, err := models.UsersByID(ctx, h.db, ids)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return fiber.ErrNotFound
		}
		return h.render(c, fiber.StatusOK, views.AdminBulkConfirm(action, users))
	}
	result, err := models.SetUsersActive(ctx, h.db, h.sessionStorage, currentUser(c), ids, action == "activate")
	if err != nil {
		return err
	}
	h.flashMessage(c, bulkMessage(action, result))
	return h.redirect(c, views.PathAdminUsers)
}

// bulkMessage says what a bulk action did, and whom it left alone and why.
func bulkMessage(action string, result models.BulkResult) views.Message {
	done := views.MsgN("admin.flash.bulk_activated", len(result.Changed))
	if action == "deactivate" {
		done = views.MsgN("admin.flash.bulk_deactivated", len(result.Changed))
	}
	message := views.Say(views.LevelSuccess, done)
	if action == "deactivate" && len(result.Changed) > 0 {
		message.Text = append(message.Text, views.Msg("admin.flash.bulk_sessions_ended"))
	}
	for _, skip := range result.Skipped {
		message.Text = append(message.Text, views.Msg("admin.flash.left_alone", views.Args{"Username": skip.Username}), refusalText(skip.Reason))
		message.Level = views.LevelError
	}
	return message
}

// formIDs reads the ids a form posted under name; one that is not a
// positive number is a 400.
func formIDs(c *fiber.Ctx, name string) ([]int64, error) {
	var values []string
	if isMultipart(c) {
		if form, err := c.MultipartForm(); err == nil {
			values = form.Value[name]
		}
	} else {
		for _, value := range c.Request().PostArgs().PeekMulti(name) {
			values = append(values, string(value))
		}
	}
	if len(values) > bulkMaxUsers {
		return nil, &clientError{fiber.StatusBadRequest, views.MsgN("admin.bulk_too_many", bulkMaxUsers)}
	}
	ids := make([]int64, 0, len(values))
	for _, value := range values {
		id, err := strconv.ParseInt(value, 10, 64)
		if err != nil || id < 1 {
			return nil, &clientError{fiber.StatusBadRequest, views.Msg("admin.bulk_unreadable")}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// adminUserActive activates or deactivates one user from their row: htmx
// swaps the row and says what happened in the live region; without it the
// browser goes back to the list it came from.
func (h *handler) adminUserActive(c *fiber.Ctx) error {
	u, err := h.managedUser(c)
	if err != nil {
		return err
	}
	if err := requireFields(c, "active"); err != nil {
		return err
	}
	active := formValue(c, "active") == "yes"
	viewer := currentUser(c)
	if !active && u.ID == viewer.ID {
		return adminRefusal(models.ErrSelf)
	}
	ctx := c.UserContext()
	result, err := models.SetUsersActive(ctx, h.db, h.sessionStorage, viewer, []int64{u.ID}, active)
	if err != nil {
		return err
	}
	if u, err = models.UserByID(ctx, h.db, u.ID); err != nil {
		return adminRefusal(err)
	}
	who := views.Args{"Username": u.Username}
	message := views.Say(views.LevelInfo, views.Msg("admin.flash.already_inactive", who))
	if u.IsActive {
		message = views.Say(views.LevelInfo, views.Msg("admin.flash.already_active", who))
	}
	switch {
	case len(result.Changed) > 0 && active:
		message = views.Say(views.LevelSuccess, views.Msg("admin.flash.activated", who))
	case len(result.Changed) > 0:
		message = views.Say(views.LevelSuccess, views.Msg("admin.flash.deactivated", who))
	case len(result.Skipped) > 0:
		message = views.Say(views.LevelError, refusalText(result.Skipped[0].Reason))
	}
	back := safeNext(formValue(c, "next"))
	if !strings.HasPrefix(back, views.PathAdminUsers) {
		back = views.PathAdminUsers
	}
	return h.adminMessage(c, back, message, func() (templ.Component, error) {
		return views.AdminUserRow(u, viewer), nil
	})
}

// adminUser loads the user the URL names.
func (h *handler) adminUser(c *fiber.Ctx) (*models.User, error) {
	id, err := idParam(c)
	if err != nil {
		return nil, err
	}
	u, err := models.UserByID(c.UserContext(), h.db, id)
	if err != nil {
		return nil, adminRefusal(err)
	}
	return u, nil
}

// managedUser loads the user the URL names, if the viewer may act on them.
func (h *handler) managedUser(c *fiber.Ctx) (*models.User, error) {
	u, err := h.adminUser(c)
	if err != nil {
		return nil, err
	}
	if !models.MayManage(currentUser(c), u) {
		return nil, adminRefusal(models.ErrNotAllowed)
	}
	return u, nil
}

// adminUserPage shows a user: details, forms, sessions, security log,
// articles and the admin actions on them.
func (h *handler) adminUserPage(c *fiber.Ctx) error {
	u, err := h.adminUser(c)
	if err != nil {
		return err
	}
	page, err := h.adminUserView(c, u)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminUser(page))
}

// adminUserView gathers a user's page, its forms fresh.
func (h *handler) adminUserView(c *fiber.Ctx, u *models.User) (views.AdminUserPage, error) {
	ctx := c.UserContext()
	// Neither form takes the focus on a page with both; one with errors,
	// put in by the caller, gives it to its first invalid field.
	p := views.AdminUserPage{
		User:     u,
		Form:     views.NewAdminUserForm(u, models.MayChangeFlags(currentUser(c))),
		Password: views.NewSetPasswordForm(nil),
	}
	p.Form.FocusOn("")
	p.Password.FocusOn("")
	var err error
	if p.TwoFactor, err = twofactor.Enabled(ctx, h.db, u.ID); err != nil {
		return p, err
	}
	if p.Sessions, err = h.adminSessionRows(ctx, u.ID); err != nil {
		return p, err
	}
	if p.Connections, err = h.adminConnections(ctx, u.ID); err != nil {
		return p, err
	}
	events, err := models.UserEvents(ctx, h.db, u.ID, 0, eventsPerPage)
	if err != nil {
		return p, err
	}
	for _, e := range events {
		p.Events = append(p.Events, views.EventRow{What: views.EventWhat(ctx, e.Kind, e.Detail), Device: views.Device(ctx, e.UserAgent),
			Address: e.IP, CreatedAt: e.CreatedAt, Warning: views.EventWarning(e.Kind)})
	}
	if p.Articles, err = models.ArticlesBy(ctx, h.db, u.ID, adminLatest); err != nil {
		return p, err
	}
	if p.ArticleCount, err = models.CountArticlesBy(ctx, h.db, u.ID); err != nil {
		return p, err
	}
	p.Log, err = models.AdminLog(ctx, h.db, models.AdminLogFilter{ObjectType: models.ObjectUser, ObjectID: u.ID}, 0, adminLatest)
	return p, err
}

// adminSessionRows are a user's live sessions as the admin shows them.
func (h *handler) adminSessionRows(ctx context.Context, userID int64) ([]views.SessionRow, error) {
	sessions, err := models.UserSessions(ctx, h.db, userID, h.now())
	if err != nil {
		return nil, err
	}
	rows := make([]views.SessionRow, len(sessions))
	for i, s := range sessions {
		rows[i] = views.SessionRow{Device: views.Device(ctx, s.UserAgent), Address: s.IP, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt}
	}
	return rows, nil
}

// adminUserSubmit saves the edit of a user: email, names, active, and the
// flags when a superuser sends them. A refusal (deactivating oneself, the
// last superuser) is shown on the form.
func (h *handler) adminUserSubmit(c *fiber.Ctx) error {
	u, err := h.managedUser(c)
	if err != nil {
		return err
	}
	if err := requireFields(c, "email", "first_name", "last_name"); err != nil {
		return err
	}
	viewer := currentUser(c)
	f := views.NewAdminUserForm(u, models.MayChangeFlags(viewer))
	f.Email, f.FirstName, f.LastName = trimmedValue(c, "email"), trimmedValue(c, "first_name"), trimmedValue(c, "last_name")
	f.IsActive = formValue(c, "is_active") != ""
	if f.WithFlags {
		f.IsStaff, f.IsSuperuser = formValue(c, "is_staff") != "", formValue(c, "is_superuser") != ""
		f.TwoFactorExempt = formValue(c, "two_factor_exempt") != ""
	}
	var changes []models.FieldChange
	if f.Validate() {
		err = h.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
			changes, err = models.AdminUpdateUser(ctx, tx, h.sessionStorage, viewer, u.ID, f.Edit())
			if err != nil || !changed(changes, "email") {
				return err
			}
			// The old address hears of it, as when the user changes it.
			what := views.Msg("mail.notice.email_changed_by_staff.body", views.Args{"Email": f.Email})
			if f.Email == "" {
				what = views.Msg("mail.notice.email_removed_by_staff.body")
			}
			return h.notice(ctx, tx, u, views.Msg("mail.notice.email_changed.subject"), what)
		})
		if text := refusalText(err); !text.Empty() && !errors.Is(err, models.ErrNotFound) {
			f.AddError("", text)
		} else if err != nil {
			return adminRefusal(err)
		}
	}
	if !f.Valid() {
		page, err := h.adminUserView(c, u)
		if err != nil {
			return err
		}
		page.Form = f
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.AdminUserFormView(u, f), views.AdminUser(page))
	}
	if changed(changes, "email") {
		h.mail.Notify()
		if err := h.recordEvent(c, models.EventEmailChanged, u.ID, u.Username, byAdmin(viewer)); err != nil {
			return err
		}
	}
	message := views.Say(views.LevelInfo, views.Msg("admin.flash.nothing_changed"))
	if len(changes) > 0 {
		fields := make([]string, len(changes))
		for i, change := range changes {
			fields[i] = change.Field
		}
		saved := views.Args{"Username": u.Username, "Fields": views.ChangedFields(c.UserContext(), fields)}
		message = views.Say(views.LevelSuccess, views.Msg("admin.flash.saved", saved))
	}
	return h.adminMessage(c, views.AdminUserPath(u.ID), message, func() (templ.Component, error) {
		saved, err := models.UserByID(c.UserContext(), h.db, u.ID)
		if err != nil {
			return nil, err
		}
		fresh := views.NewAdminUserForm(saved, f.WithFlags)
		fresh.FocusOn("") // the focus stays on Save
		return views.AdminUserFormView(saved, fresh), nil
	})
}

// adminUserPassword sets a user's password, checked by the validators, and
// ends every session of theirs; a notice goes to their confirmed address.
func (h *handler) adminUserPassword(c *fiber.Ctx) error {
	u, err := h.managedUser(c)
	if err != nil {
		return err
	}
	if u.ID == currentUser(c).ID {
		return adminRefusal(models.ErrOwnPassword)
	}
	if err := requireFields(c, "new_password1", "new_password2"); err != nil {
		return err
	}
	f := views.NewSetPasswordForm(nil)
	f.NewPassword1, f.NewPassword2 = formValue(c, "new_password1"), formValue(c, "new_password2")
	if f.Validate(views.PasswordUser(u)); !h.unbreached(c, &f.Form, "new_password1", f.NewPassword1) {
		page, err := h.adminUserView(c, u)
		if err != nil {
			return err
		}
		page.Password = f
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.AdminPasswordFormView(u, f), views.AdminUser(page))
	}
	hash, err := h.hasher.Hash(f.NewPassword1)
	if err != nil {
		return err
	}
	var ended int
	err = h.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if ended, err = models.AdminSetPassword(ctx, tx, h.sessionStorage, currentUser(c), u.ID, hash); err != nil {
			return err
		}
		return h.notice(ctx, tx, u, views.Msg("mail.notice.password_set_by_staff.subject"), views.Msg("mail.notice.password_set_by_staff.body"))
	})
	if err != nil {
		return adminRefusal(err)
	}
	h.mail.Notify()
	if err := h.recordEvent(c, models.EventPasswordChanged, u.ID, u.Username, byAdmin(currentUser(c))); err != nil {
		return err
	}
	message := views.Say(views.LevelSuccess, views.MsgN("admin.flash.password_set", ended, views.Args{"Username": u.Username}))
	return h.adminMessage(c, views.AdminUserPath(u.ID), message, func() (templ.Component, error) {
		fresh := views.NewSetPasswordForm(nil)
		fresh.FocusOn("")
		return views.AdminPasswordFormView(u, fresh), nil
	})
}

// adminUserReset mails the user a password reset link, as the reset page
// would: to a confirmed address only, and a few an hour at most.
func (h *handler) adminUserReset(c *fiber.Ctx) error {
	u, err := h.managedUser(c)
	if err != nil {
		return err
	}
	if !u.IsActive || !u.EmailVerified || u.Email == "" {
		return &clientError{fiber.StatusConflict, views.Msg("admin.no_reset_address", views.Args{"Username": u.Username})}
	}
	ctx := c.UserContext()
	if mailed, err := h.mayMail(ctx, u.Email); !mailed {
		return h.mailRefused(c, err, views.AdminUserPath(u.ID))
	}
	err = h.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := h.enqueueResetMail(ctx, tx, u); err != nil {
			return err
		}
		return models.RecordResetMail(ctx, tx, currentUser(c), u)
	})
	if err != nil {
		return err
	}
	h.mail.Notify()
	h.flash(c, views.LevelSuccess, views.Msg("admin.flash.reset_mailed", views.Args{"Email": u.Email}))
	return h.redirect(c, views.AdminUserPath(u.ID))
}

// adminUserSessions ends every session of the user: htmx swaps the list,
// now empty, and says so in the live region.
func (h *handler) adminUserSessions(c *fiber.Ctx) error {
	u, err := h.managedUser(c)
	if err != nil {
		return err
	}
	keep := "" // someone else's: all of them; one's own: all but this one
	if u.ID == currentUser(c).ID {
		keep = currentSession(c).Key
	}
	ended, err := models.AdminEndSessions(c.UserContext(), h.db, h.sessionStorage, currentUser(c), u.ID, keep)
	if err != nil {
		return adminRefusal(err)
	}
	message := views.Say(views.LevelSuccess, views.MsgN("admin.flash.sessions_ended", ended, views.Args{"Username": u.Username}))
	return h.adminMessage(c, views.AdminUserPath(u.ID), message, func() (templ.Component, error) {
		rows, err := h.adminSessionRows(c.UserContext(), u.ID)
		return views.AdminSessionsCard(u, rows, true), err
	})
}

// adminUserTwoFactor turns off a user's two-factor authentication (a
// superuser's action, for someone who lost their phone and their recovery
// codes); the user's own log records it and they are told by mail.
func (h *handler) adminUserTwoFactor(c *fiber.Ctx) error {
	u, err := h.adminUser(c)
	if err != nil {
		return err
	}
	actor := currentUser(c)
	wasOn, err := models.AdminTurnOffTwoFactor(c.UserContext(), h.db, actor, u.ID, func(ctx context.Context, tx bun.Tx) (bool, error) {
		on, err := twofactor.Disable(ctx, tx, u.ID)
		if err != nil || !on {
			return on, err
		}
		return true, h.notice(ctx, tx, u, views.Msg("mail.notice.two_factor_disabled_by_staff.subject"), views.Msg("mail.notice.two_factor_disabled_by_staff.body"))
	})
	if err != nil {
		return adminRefusal(err)
	}
	text := views.Msg("admin.flash.two_factor_was_off", views.Args{"Username": u.Username})
	if wasOn {
		h.mail.Notify()
		if err := h.recordEvent(c, models.EventTwoFactorDisabled, u.ID, u.Username, byAdmin(actor)); err != nil {
			return err
		}
		text = views.Msg("admin.flash.two_factor_off", views.Args{"Username": u.Username})
	}
	h.flash(c, views.LevelSuccess, text)
	return h.redirect(c, views.AdminUserPath(u.ID))
}

// adminUserDeletePage says what deleting the user takes with them, and asks.
func (h *handler) adminUserDeletePage(c *fiber.Ctx) error {
	u, err := h.deletableUser(c)
	if err != nil {
		return err
	}
	return h.renderUserDelete(c, u)
}

func (h *handler) renderUserDelete(c *fiber.Ctx, u *models.User) error {
	ctx := c.UserContext()
	articles, err := models.CountArticlesBy(ctx, h.db, u.ID)
	if err != nil {
		return err
	}
	sessions, err := models.CountLiveSessions(ctx, h.db, u.ID, h.now())
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AdminUserDelete(views.AdminDeletion{User: u, Articles: articles, Sessions: sessions}))
}

// adminUserDelete deletes the user with their articles and sessions, once
// confirmed; superusers only, never themselves or the last superuser.
func (h *handler) adminUserDelete(c *fiber.Ctx) error {
	u, err := h.deletableUser(c)
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return h.renderUserDelete(c, u)
	}
	if err := models.AdminDeleteUser(c.UserContext(), h.db, h.sessionStorage, currentUser(c), u.ID); err != nil {
		return adminRefusal(err)
	}
	h.flash(c, views.LevelSuccess, views.Msg("admin.flash.user_deleted", views.Args{"Username": u.Username}))
	return h.redirect(c, views.PathAdminUsers)
}

// deletableUser loads the user the URL names if the viewer may delete them.
func (h *handler) deletableUser(c *fiber.Ctx) (*models.User, error) {
	u, err := h.adminUser(c)
	if err != nil {
		return nil, err
	}
	switch viewer := currentUser(c); {
	case !models.MayChangeFlags(viewer):
		return nil, adminRefusal(models.ErrNotAllowed)
	case viewer.ID == u.ID:
		return nil, adminRefusal(models.ErrSelf)
	}
	return u, nil
}

// changed reports whether changes include field.
func changed(changes []models.FieldChange, field string) bool {
	return slices.ContainsFunc(changes, func(c models.FieldChange) bool { return c.Field == field })
}

// byAdmin says, in a user's own security log, that an admin made a change.
func byAdmin(actor *models.User) models.Detail {
	return models.NewDetail("by_admin", "Admin", actor.Username)
}
