package handlers

import (
	"cmp"
	"context"
	"errors"
	"strconv"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/hashpool"
	"gatehouse/models/password"
	"gatehouse/models/throttle"
	"gatehouse/views"
)

// signupPage shows the signup form.
func (h *handler) signupPage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.Signup(views.NewSignupForm()))
}

// signupSubmit creates the account and logs it in.
func (h *handler) signupSubmit(c *fiber.Ctx) error {
	f, err := newSignupForm(c)
	if err != nil {
		return err
	}
	// "Already exists" tells who has an account, as a login would: an
	// address that keeps hitting taken names is refused for a while.
	address := h.clientKey(c, throttle.SignupPerAddress)
	retryAt, err := h.throttle.Check(c.UserContext(), address)
	if err != nil {
		return err
	}
	if !retryAt.IsZero() {
		f.AddError("", h.refusal(c, retryAt))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.SignupFormView(f), views.Signup(f))
	}
	f.Validate()
	if len(f.Errors("username")) == 0 {
		// Checked with the other fields, as Django does, and before the
		// costly hash; the unique index decides races.
		taken, err := models.UsernameTaken(c.UserContext(), h.db, f.Username)
		if err != nil {
			return err
		}
		if taken {
			if err := h.throttle.Fail(c.UserContext(), address); err != nil {
				return err
			}
			f.AddError("username", views.UsernameDuplicate())
		}
	}
	if !h.unbreached(c, &f.Form, "password1", f.Password1) {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SignupFormView(f), views.Signup(f))
	}
	// Counted before the account is made, so that a burst cannot pass.
	retryAt, err = h.throttle.Count(c.UserContext(), h.clientKey(c, throttle.SignupsPerAddress))
	if err != nil {
		return err
	}
	if !retryAt.IsZero() {
		f.AddError("", h.limited(c, retryAt))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.SignupFormView(f), views.Signup(f))
	}
	hash, err := h.hasher.Hash(f.Password1)
	if errors.Is(err, hashpool.ErrBusy) {
		f.AddError("", hasherBusy(c))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.SignupFormView(f), views.Signup(f))
	}
	if err != nil {
		return err
	}
	// The language the visitor chose, or read the signup page in, is the
	// account's: their pages elsewhere and their mail will use it.
	u := &models.User{Username: f.Username, Email: f.Email, Password: hash, IsActive: true, NotifyNewDevice: true,
		Language: h.language(c).Code()}
	mailed, err := h.mayMailFrom(c, u.Email)
	if err != nil {
		return err
	}
	// The account and its log entry are one change; the session, in a
	// store of its own, comes after it, and if it cannot be saved the
	// account is undone: the person may simply try again.
	err = h.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := models.CreateUser(ctx, tx, u); err != nil {
			return err
		}
		return h.recordEventIn(ctx, tx, c, models.EventSignup, u.ID, u.Username, models.Detail{})
	})
	if errors.Is(err, models.ErrDuplicateUsername) {
		if err := h.throttle.Fail(c.UserContext(), address); err != nil {
			return err
		}
		f.AddError("username", views.UsernameDuplicate())
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SignupFormView(f), views.Signup(f))
	}
	if err != nil {
		return err
	}
	return h.welcome(c, u, mailed, views.PathArticles)
}

// welcome logs in u, whose account was just made, in this browser (which
// it trusts from now on), mails the confirmation link if mail may go to
// their unconfirmed address, and greets them on next. If the session
// cannot be saved, the account is undone: the person may simply try again.
func (h *handler) welcome(c *fiber.Ctx, u *models.User, mail bool, next string) error {
	if err := h.login(c, u, false); err != nil {
		undoCtx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), h.requestTimeout)
		defer cancel()
		if undoErr := models.UndoSignup(undoCtx, h.db, u.ID); undoErr != nil {
			h.log.Error("signup left without its session", "user", u.ID, "err", undoErr)
		}
		return err
	}
	h.trustDevice(c, u.UsernameKey)
	// The confirmation mail follows the account, which stands without it:
	// if it cannot be queued, the profile page offers to send it again.
	mailed := mail && u.Email != "" && !u.EmailVerified
	if mailed {
		if err := h.sendVerification(c.UserContext(), h.db, u); err != nil {
			h.log.Error("confirmation mail not queued", "user", u.ID, "err", err)
			mailed = false
		}
		h.mail.Notify()
	}
	welcome := views.Say(views.LevelSuccess, views.Msg("flash.welcome", views.Args{"Username": u.Username}))
	if mailed {
		welcome.Text = append(welcome.Text, views.Msg("flash.confirm_sent", views.Args{"Email": u.Email}))
	}
	h.flashMessage(c, welcome)
	return h.redirect(c, cmp.Or(next, views.PathArticles))
}

// profilePage shows the profile form filled with the user's details.
func (h *handler) profilePage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.Profile(views.NewProfileForm(currentUser(c))))
}

// profileSubmit saves email, first and last name.
func (h *handler) profileSubmit(c *fiber.Ctx) error {
	f, err := newProfileForm(c)
	if err != nil {
		return err
	}
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.ProfileFormView(f), views.Profile(f))
	}
	u := currentUser(c)
	// Any change of the stored string is one, letter case too: folding
	// would let the Kelvin sign K pass for k (EqualFold) unasked.
	changed := f.Email != u.Email
	if changed && f.NoPassword {
		// No password to give: having confirmed it is them lately
		// (through a provider) stands in for it.
		if recent, err := h.confirmUnlessRecent(c, views.PathProfile); !recent || err != nil {
			return err
		}
	} else if changed {
		// The address receives password resets: changing it takes the
		// password, so a borrowed session cannot take the account (ASVS 7.5.1).
		problem, status := views.PasswordNeeded(), fiber.StatusUnprocessableEntity
		if f.Password != "" {
			if problem, status, err = h.checkCurrentPassword(c, f.Password, views.WrongPassword(), models.NewDetail("wrong_password_profile")); err != nil {
				return err
			}
		}
		if !problem.Empty() {
			f.AddError("current_password", problem)
			return h.renderForm(c, status, views.ProfileFormView(f), views.Profile(f))
		}
	}
	mailed := false
	if changed {
		retryAt, err := h.throttle.Count(c.UserContext(), throttle.EmailChangesPerUser.Key(strconv.FormatInt(u.ID, 10)))
		if err != nil {
			return err
		}
		if !retryAt.IsZero() {
			f.AddError("email", h.limited(c, retryAt))
			return h.renderForm(c, fiber.StatusTooManyRequests, views.ProfileFormView(f), views.Profile(f))
		}
		if mailed, err = h.mayMailFrom(c, f.Email); err != nil {
			return err
		}
	}
	err = h.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := models.UpdateProfile(ctx, tx, u.ID, f.Email, f.FirstName, f.LastName, f.NotifyNewDevice); err != nil || !changed {
			return err
		}
		// The old address hears of the change; the new one must confirm itself.
		if err := h.notice(ctx, tx, u, views.Msg("mail.notice.email_changed.subject"),
			views.Msg("mail.notice.email_changed.body", views.Args{"Email": f.Email})); err != nil || !mailed {
			return err
		}
		updated := *u
		updated.Email, updated.EmailVerified = f.Email, false
		return h.sendVerification(ctx, tx, &updated)
	})
	if err != nil {
		return err
	}
	h.mail.Notify()
	if err := h.recordProfileChange(c, u, f); err != nil {
		return err
	}
	f.SavedEmail, f.EmailVerified = f.Email, u.EmailVerified && !changed
	saved := views.Say(views.LevelSuccess, views.Msg("flash.profile_saved"))
	if mailed {
		saved.Text = append(saved.Text, views.Msg("flash.confirm_sent", views.Args{"Email": f.Email}))
	} else if changed && f.Email != "" {
		saved.Text = append(saved.Text, views.Msg("flash.confirm_limited", views.Args{"Email": f.Email}))
	}
	if isHTMX(c) {
		// No field takes the focus: it stays on Save, the message announced.
		f.FocusOn("")
		return h.render(c, fiber.StatusOK, templ.Join(views.ProfileFormView(f), views.EmailResend(f, true), views.FlashOOB(saved)))
	}
	h.flashMessage(c, saved)
	return h.redirect(c, views.PathProfile)
}

// passwordPage shows the password change form.
func (h *handler) passwordPage(c *fiber.Ctx) error {
	if !password.Usable(currentUser(c).Password) {
		return h.redirect(c, views.PathPasswordSet) // nothing to change yet
	}
	return h.render(c, fiber.StatusOK, views.Password(views.NewPasswordForm()))
}

// passwordSubmit changes the password, keeps this session logged in and
// ends every other session of the user.
func (h *handler) passwordSubmit(c *fiber.Ctx) error {
	u := currentUser(c)
	if !password.Usable(u.Password) {
		return h.redirect(c, views.PathPasswordSet)
	}
	f, err := newPasswordForm(c)
	if err != nil {
		return err
	}
	f.Validate(password.User{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName})
	if f.OldPassword != "" {
		problem, status, err := h.checkCurrentPassword(c, f.OldPassword, views.WrongOldPassword(), models.NewDetail("wrong_password_password"))
		if err != nil {
			return err
		}
		if !problem.Empty() {
			f.AddError("old_password", problem)
			if status == fiber.StatusTooManyRequests {
				return h.renderForm(c, status, views.PasswordFormView(f), views.Password(f))
			}
		}
	}
	if !h.unbreached(c, &f.Form, "new_password1", f.NewPassword1) {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.PasswordFormView(f), views.Password(f))
	}
	err = h.replacePassword(c, f.NewPassword1, views.Msg("flash.password_changed"))
	if errors.Is(err, hashpool.ErrBusy) {
		f.AddError("", hasherBusy(c))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.PasswordFormView(f), views.Password(f))
	}
	return err
}

// replacePassword gives the logged-in user newPassword: this session is
// cycled and stays logged in, every other ends, the log and a notice
// record it, and the password page says done. hashpool.ErrBusy: the hasher
// had no room, and nothing changed.
func (h *handler) replacePassword(c *fiber.Ctx, newPassword string, done views.Text) error {
	hash, err := h.hasher.Hash(newPassword)
	if err != nil {
		return err
	}
	ended, err := h.cyclePassword(c, hash)
	if err != nil {
		return err
	}
	u := currentUser(c)
	if err := h.recordEvent(c, models.EventPasswordChanged, u.ID, u.Username, models.Detail{}); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, done, endedSessions(ended))
	return h.redirect(c, views.PathPassword)
}

// accountDeletePage asks for the password before the account is deleted,
// and says what goes with it.
func (h *handler) accountDeletePage(c *fiber.Ctx) error {
	f := views.NewAccountDeleteForm()
	if f.NoPassword = !password.Usable(currentUser(c).Password); f.NoPassword {
		if recent, err := h.confirmUnlessRecent(c, views.PathAccountDelete); !recent || err != nil {
			return err
		}
	}
	articles, err := models.CountArticlesBy(c.UserContext(), h.db, currentUser(c).ID)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.AccountDelete(f, articles))
}

// accountDelete deletes the user, their articles and all their sessions,
// once their password is confirmed, then logs them out.
func (h *handler) accountDelete(c *fiber.Ctx) error {
	f, err := newAccountDeleteForm(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	if f.NoPassword {
		if recent, err := h.confirmUnlessRecent(c, views.PathAccountDelete); !recent || err != nil {
			return err
		}
	} else if f.Validate() {
		problem, status, err := h.checkCurrentPassword(c, f.Password, views.WrongPassword(), models.NewDetail("wrong_password_account_deletion"))
		if err != nil {
			return err
		}
		if !problem.Empty() {
			f.AddError("password", problem)
			return h.renderAccountDelete(c, status, f)
		}
	}
	if !f.Valid() {
		return h.renderAccountDelete(c, fiber.StatusUnprocessableEntity, f)
	}
	// A second, racing delete finds the account gone: it ends the same way.
	err = models.DeleteOwnAccount(c.UserContext(), h.db, h.sessionStorage, u.ID)
	if errors.Is(err, models.ErrLastSuperuser) {
		f.AddError("", views.Msg("account.last_superuser"))
		return h.renderAccountDelete(c, fiber.StatusUnprocessableEntity, f)
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	if err := h.endSession(c); err != nil {
		return err
	}
	h.rotateCSRFToken(c)
	h.flash(c, views.LevelInfo, views.Msg("flash.account_deleted"))
	return h.redirect(c, views.PathArticles)
}

// checkCurrentPassword re-authenticates the current user before a change:
// it returns what to say beside the field when password is wrong (wrong, 422), or
// when guesses are refused (429); nothing when it is right. Someone at an
// unlocked, logged-in browser may guess too: guesses count per user, and
// wrong ones are logged as failed logins, naming the form.
func (h *handler) checkCurrentPassword(c *fiber.Ctx, password string, wrong views.Text, failed models.Detail) (problem views.Text, status int, err error) {
	u := currentUser(c)
	key := throttle.PasswordCheckPerUser.Key(strconv.FormatInt(u.ID, 10))
	outcome, retryAt, err := h.throttle.Try(c.UserContext(), []throttle.Key{key}, nil, func() (throttle.Outcome, error) {
		ok, _, err := h.hasher.Check(password, u.Password)
		switch {
		case err != nil:
			return throttle.Untried, err
		case ok:
			return throttle.Succeeded, nil
		}
		return throttle.Counted, nil
	})
	switch {
	case errors.Is(err, hashpool.ErrBusy):
		return hasherBusy(c), fiber.StatusTooManyRequests, nil
	case err != nil:
		return views.Text{}, 0, err
	case outcome == throttle.Refused:
		return h.refusal(c, retryAt), fiber.StatusTooManyRequests, nil
	case outcome == throttle.Succeeded:
		return views.Text{}, 0, nil
	}
	if err := h.recordEvent(c, models.EventLoginFailed, u.ID, u.Username, failed); err != nil {
		return views.Text{}, 0, err
	}
	return wrong, fiber.StatusUnprocessableEntity, nil
}

// renderAccountDelete answers a deletion form that has errors: in place to
// htmx, or on its page, which counts the articles that would go.
func (h *handler) renderAccountDelete(c *fiber.Ctx, status int, f views.AccountDeleteForm) error {
	var articles int64
	if !isHTMX(c) {
		var err error
		if articles, err = models.CountArticlesBy(c.UserContext(), h.db, currentUser(c).ID); err != nil {
			return err
		}
	}
	return h.renderForm(c, status, views.AccountDeleteFormView(f), views.AccountDelete(f, articles))
}

// unbreached reports whether the form is valid once its new password,
// acceptable to the validators, was looked up among breached ones (ASVS
// 6.2.12): seen there, it is refused beside field. A look-up that fails
// lets the password through, logged, as the offline list still applied.
func (h *handler) unbreached(c *fiber.Ctx, f *views.Form, field, newPassword string) bool {
	if !f.Valid() {
		return false
	}
	breached, err := h.breached.Breached(c.UserContext(), newPassword)
	if err != nil {
		h.log.Warn("breached-password look-up failed; the password was let through", "err", err)
		return true
	}
	if breached {
		f.AddError(field, views.Msg(password.Breached))
	}
	return f.Valid()
}
