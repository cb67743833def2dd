package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/password"
	"gatehouse/models/throttle"
	"gatehouse/models/twofactor"
	"gatehouse/views"
)

// resetCookie holds a reset link's token once it has left the URL, where a
// Referer header or a proxy log could leak it.
const resetCookie = "reset"

// passwordResetPage asks for the address to mail a reset link to.
func (h *handler) passwordResetPage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.PasswordReset(views.NewPasswordResetForm()))
}

// passwordResetSubmit mails a reset link to every active account whose
// confirmed address this is, and answers the same whether there is one or
// not: the search and the mail happen after the answer, so timing tells
// nothing either.
func (h *handler) passwordResetSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "email"); err != nil {
		return err
	}
	f := views.NewPasswordResetForm()
	f.Email = trimmedValue(c, "email")
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.PasswordResetFormView(f), views.PasswordReset(f))
	}
	retryAt, err := h.throttle.Count(c.UserContext(), h.clientKey(c, throttle.PasswordResetPerAddress))
	if err != nil {
		return err
	}
	if !retryAt.IsZero() {
		f.AddError("", h.refusal(c, retryAt))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.PasswordResetFormView(f), views.PasswordReset(f))
	}
	h.inBackground(func(ctx context.Context) {
		if err := h.mailResetLinks(ctx, f.Email); err != nil {
			h.log.Error("password reset mail failed", "err", err)
		}
	})
	encoded := base64.RawURLEncoding.EncodeToString([]byte(f.Email))
	h.setCookie(c, resetToCookie, encoded+"."+h.signer.signString(resetToCookie, []byte(f.Email)), h.now().Add(10*time.Minute))
	return h.redirect(c, views.PathPasswordResetDone)
}

// resetTo is the address the reset form was just sent with, from its
// signed cookie, which it clears; "" if there is none or it was not ours.
func (h *handler) resetTo(c *fiber.Ctx) string {
	value := c.Cookies(h.cookieName(resetToCookie))
	if value == "" {
		return ""
	}
	h.clearCookie(c, resetToCookie)
	encoded, signature, _ := strings.Cut(value, ".")
	email, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil || !h.signer.verify(resetToCookie, email, signature) {
		return ""
	}
	return string(email)
}

// mailResetLinks enqueues a reset link for each account with this confirmed
// address, at most a few an hour to one address.
func (h *handler) mailResetLinks(ctx context.Context, email string) error {
	users, err := models.UsersWithVerifiedEmail(ctx, h.db, email)
	if err != nil || len(users) == 0 {
		return err
	}
	if mailed, err := h.mayMail(ctx, email); err != nil || !mailed {
		return err
	}
	err = h.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, u := range users {
			if err := h.enqueueResetMail(ctx, tx, &u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.mail.Notify()
	return nil
}

// enqueueResetMail enqueues the mail with a password reset link for u,
// valid from now, naming u's passkeys.
func (h *handler) enqueueResetMail(ctx context.Context, db bun.IDB, u *models.User) error {
	passkeys, err := twofactor.PasskeyNames(ctx, db, u.ID)
	if err != nil {
		return err
	}
	link := h.link(views.ResetPath(uidb64(u.ID), h.resetTokens.Make(resetState(u), h.now())))
	return h.enqueueMail(ctx, db, u, func(ctx context.Context) views.Mail {
		return views.PasswordResetMail(ctx, u.Username, link, h.resetTokens.MaxAge(), passkeys)
	})
}

// passwordResetDone says a mail may be on its way.
func (h *handler) passwordResetDone(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.PasswordResetDone(h.resetTo(c), h.resetTokens.MaxAge()))
}

// resetLink checks a reset link's token, moves it into a cookie and sends
// the browser to the same link without it, as Django's
// PasswordResetConfirmView does; there, it shows the set-password form.
func (h *handler) resetLink(c *fiber.Ctx) error {
	if c.Params("token") != views.ResetSetPassword {
		u, ok := h.resetUser(c, c.Params("token"))
		if !ok {
			return h.resetInvalid(c)
		}
		h.setCookie(c, resetCookie, c.Params("token"), h.now().Add(h.resetTokens.MaxAge()))
		return c.Redirect(views.ResetPath(uidb64(u.ID), views.ResetSetPassword), fiber.StatusFound)
	}
	u, ok := h.resetUser(c, c.Cookies(resetCookie))
	if !ok {
		return h.resetInvalid(c)
	}
	passkeys, err := twofactor.PasskeyNames(c.UserContext(), h.db, u.ID)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.SetPassword(views.NewSetPasswordForm(passkeys), c.Path()))
}

// resetSubmit sets the new password from a checked reset link, ends every
// session of the user and logs it.
func (h *handler) resetSubmit(c *fiber.Ctx) error {
	u, ok := h.resetUser(c, c.Cookies(resetCookie))
	if !ok {
		return h.resetInvalid(c)
	}
	if err := requireFields(c, "new_password1", "new_password2"); err != nil {
		return err
	}
	passkeys, err := twofactor.PasskeyNames(c.UserContext(), h.db, u.ID)
	if err != nil {
		return err
	}
	f := views.NewSetPasswordForm(passkeys)
	f.NewPassword1 = formValue(c, "new_password1")
	f.NewPassword2 = formValue(c, "new_password2")
	f.RemovePasskeys = formValue(c, "remove_passkeys") == "on"
	f.Validate(password.User{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName})
	if !h.unbreached(c, &f.Form, "new_password1", f.NewPassword1) {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SetPasswordFormView(f, c.Path()), views.SetPassword(f, c.Path()))
	}
	hash, err := h.hasher.Hash(f.NewPassword1)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var removed []string
	err = h.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := models.ResetPassword(ctx, tx, h.sessionStorage, u.ID, u.Password, hash); err != nil {
			return err
		}
		body := views.Msg("mail.notice.password_reset.body")
		if f.RemovePasskeys && len(passkeys) > 0 {
			if removed, err = twofactor.RemovePasskeys(ctx, tx, u.ID); err != nil {
				return err
			}
			body = views.Msg("mail.notice.password_reset_passkeys.body", views.Args{"Names": views.PasskeyNames(removed)})
		}
		return h.notice(ctx, tx, u, views.Msg("mail.notice.password_reset.subject"), body)
	})
	if errors.Is(err, models.ErrLinkUsed) {
		return h.resetInvalid(c)
	}
	if err != nil {
		return err
	}
	h.mail.Notify()
	if err := h.recordEvent(c, models.EventPasswordChanged, u.ID, u.Username, models.NewDetail("reset_by_mail")); err != nil {
		return err
	}
	for _, name := range removed {
		if err := h.recordEvent(c, models.EventPasskeyRemoved, u.ID, u.Username, models.NewDetail("named", "Name", name)); err != nil {
			return err
		}
	}
	h.clearCookie(c, resetCookie)
	return h.redirect(c, views.PathResetComplete)
}

// resetUser is the active user a reset link names, if its token holds.
func (h *handler) resetUser(c *fiber.Ctx, token string) (*models.User, bool) {
	id := parseUIDB64(c.Params("uidb64"))
	if id == 0 || token == "" {
		return nil, false
	}
	u, err := models.UserByID(c.UserContext(), h.db, id)
	if err != nil || !u.IsActive || !h.resetTokens.Check(token, resetState(u), h.now()) {
		return nil, false
	}
	return u, true
}

func (h *handler) resetInvalid(c *fiber.Ctx) error {
	h.clearCookie(c, resetCookie)
	return h.render(c, fiber.StatusOK, views.LinkInvalid(views.Msg("recovery.link_invalid.reset"), views.Msg("recovery.link_invalid.reset_again"), views.PathPasswordReset))
}

// resetComplete says the password is set.
func (h *handler) resetComplete(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.PasswordResetComplete())
}

// emailVerifyPage asks to confirm the address a link was mailed to.
func (h *handler) emailVerifyPage(c *fiber.Ctx) error {
	u, ok := h.verifyUser(c)
	if !ok {
		return h.verifyInvalid(c)
	}
	return h.render(c, fiber.StatusOK, views.EmailVerify(u.Email, c.Path()))
}

// emailVerifySubmit confirms the address; one confirmed by another account
// stays unconfirmed here.
func (h *handler) emailVerifySubmit(c *fiber.Ctx) error {
	u, ok := h.verifyUser(c)
	if !ok {
		return h.verifyInvalid(c)
	}
	err := models.VerifyEmail(c.UserContext(), h.db, u.ID, u.Email)
	if errors.Is(err, models.ErrEmailTaken) {
		return &clientError{fiber.StatusConflict, views.Msg("email.taken")}
	}
	if errors.Is(err, models.ErrNotFound) {
		return h.verifyInvalid(c)
	}
	if err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("flash.email_confirmed", views.Args{"Email": u.Email}))
	if currentUser(c) != nil {
		return h.redirect(c, views.PathProfile)
	}
	return h.redirect(c, views.PathLogin)
}

// emailResend mails the confirmation link of the user's address again.
func (h *handler) emailResend(c *fiber.Ctx) error {
	u := currentUser(c)
	if u.Email == "" || u.EmailVerified {
		return h.redirect(c, views.PathProfile)
	}
	ctx := c.UserContext()
	if mailed, err := h.mayMailFrom(c, u.Email); !mailed {
		return h.mailRefused(c, err, views.PathProfile)
	}
	if err := h.sendVerification(ctx, h.db, u); err != nil {
		return err
	}
	h.mail.Notify()
	h.flash(c, views.LevelSuccess, views.Msg("flash.confirm_resent", views.Args{"Email": u.Email}))
	return h.redirect(c, views.PathProfile)
}

// verifyUser is the user a confirmation link names, if its token holds.
func (h *handler) verifyUser(c *fiber.Ctx) (*models.User, bool) {
	id := parseUIDB64(c.Params("uidb64"))
	if id == 0 {
		return nil, false
	}
	u, err := models.UserByID(c.UserContext(), h.db, id)
	if err != nil || !u.IsActive || u.Email == "" || !h.verifyTokens.Check(c.Params("token"), verifyState(u), h.now()) {
		return nil, false
	}
	return u, true
}

func (h *handler) verifyInvalid(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.LinkInvalid(views.Msg("recovery.link_invalid.confirm"), views.Msg("recovery.link_invalid.confirm_again"), views.PathProfile))
}
