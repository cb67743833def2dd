package handlers

import (
	"encoding/hex"
	"errors"
	"slices"
	"strconv"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"gatehouse/models"
	"gatehouse/models/useragent"
	"gatehouse/views"
)

// eventsPerPage is the length of a page of the security log.
const eventsPerPage = 20

// sessionsPage lists the user's live sessions.
func (h *handler) sessionsPage(c *fiber.Ctx) error {
	rows, _, err := h.sessionRows(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	fingerprint, err := h.fingerprint(c, u)
	if err != nil {
		return err
	}
	trusted, err := models.TrustedBrowsers(c.UserContext(), h.db, u.ID, fingerprint, h.now())
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.Sessions(rows, trusted))
}

// sessionsSubmit ends one of the user's other sessions (in place with htmx)
// or all of them ("end" = "others"). A session is named by its handle, never
// by its key, which would let whoever reads the page take it over.
func (h *handler) sessionsSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "end"); err != nil {
		return err
	}
	u, current := currentUser(c), currentSession(c)
	ctx := c.UserContext()
	end := formValue(c, "end")
	if end == "others" {
		ended, err := models.EndOtherSessions(ctx, h.db, h.sessionStorage, u.ID, current.Key)
		if err != nil {
			return err
		}
		if err := h.recordEvent(c, models.EventSessionRevoked, u.ID, u.Username, models.NewDetail("all_other_sessions")); err != nil {
			return err
		}
		// A setup secret this session was shown may have been seen from one of them.
		sess, err := h.session(c)
		if err != nil {
			return err
		}
		dropTOTPSetup(sess)
		if err := h.saveSession(c, sess); err != nil {
			return err
		}
		return h.sessionEnded(c, endedSessions(ended))
	}
	rows, sessions, err := h.sessionRows(c)
	if err != nil {
		return err
	}
	for i, row := range rows {
		if row.Handle != end {
			continue
		}
		if row.Current {
			return &clientError{fiber.StatusBadRequest, views.Msg("sessions.end_current")}
		}
		err := models.EndUserSession(ctx, h.db, h.sessionStorage, u.ID, sessions[i].Key)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
		device := useragent.Parse(sessions[i].UserAgent)
		ended := models.NewDetail("session", models.DetailBrowser, device.Browser, models.DetailSystem, device.System)
		if err := h.recordEvent(c, models.EventSessionRevoked, u.ID, u.Username, ended); err != nil {
			return err
		}
		return h.sessionEnded(c, views.Msg("flash.session_ended", views.Args{"Device": row.Device}))
	}
	// Ended already: by another tab, or by expiring.
	return h.sessionEnded(c, views.Msg("flash.session_gone"))
}

// sessionEnded answers the end of sessions: with htmx, the list as it now
// is, and the message in the live region; without, a redirect to the page.
func (h *handler) sessionEnded(c *fiber.Ctx, text views.Text) error {
	message := views.Say(views.LevelSuccess, text)
	if !isHTMX(c) {
		h.flashMessage(c, message)
		return h.redirect(c, views.PathSessions)
	}
	rows, _, err := h.sessionRows(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, templ.Join(views.SessionsCard(rows, true), views.FlashOOB(message)))
}

// sessionRows are the user's live sessions for the page, with the sessions
// they show (their keys, their browsers), in the same order.
func (h *handler) sessionRows(c *fiber.Ctx) ([]views.SessionRow, []models.Session, error) {
	u, current := currentUser(c), currentSession(c)
	sessions, err := models.UserSessions(c.UserContext(), h.db, u.ID, h.now())
	if err != nil {
		return nil, nil, err
	}
	// This browser first, then the others, most recently seen first.
	if i := slices.IndexFunc(sessions, func(s models.Session) bool { return s.Key == current.Key }); i > 0 {
		sessions = append(append([]models.Session{sessions[i]}, sessions[:i]...), sessions[i+1:]...)
	}
	rows := make([]views.SessionRow, len(sessions))
	for i, s := range sessions {
		rows[i] = views.SessionRow{
			Handle:     hex.EncodeToString(h.signer.sign("session-handle", []byte(s.Key))[:12]),
			Device:     views.Device(c.UserContext(), s.UserAgent),
			Address:    s.IP,
			CreatedAt:  s.CreatedAt,
			LastSeenAt: s.LastSeenAt,
			Current:    s.Key == current.Key,
		}
	}
	return rows, sessions, nil
}

// activityPage shows the user's security log, newest first, 20 a page.
func (h *handler) activityPage(c *fiber.Ctx) error {
	ctx, u := c.UserContext(), currentUser(c)
	total, err := models.CountUserEvents(ctx, h.db, u.ID)
	if err != nil {
		return err
	}
	pages := max(1, (int64(total)+eventsPerPage-1)/eventsPerPage)
	page := min(pageNumber(c), pages)
	events, err := models.UserEvents(ctx, h.db, u.ID, int((page-1)*eventsPerPage), eventsPerPage)
	if err != nil {
		return err
	}
	rows := make([]views.EventRow, len(events))
	for i, e := range events {
		rows[i] = views.EventRow{What: views.EventWhat(ctx, e.Kind, e.Detail), Device: views.Device(ctx, e.UserAgent), Address: e.IP, CreatedAt: e.CreatedAt,
			Warning: views.EventWarning(e.Kind)}
	}
	return h.render(c, fiber.StatusOK, views.Activity(views.ActivityPage{Events: rows, Page: page, Pages: pages}))
}

// pageNumber is the ?page= of a list: the first page for anything that is
// not a positive number.
func pageNumber(c *fiber.Ctx) int64 {
	page, err := strconv.ParseInt(c.Query("page"), 10, 64)
	if err != nil || page < 1 {
		return 1
	}
	return page
}
