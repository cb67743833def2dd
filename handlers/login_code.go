package handlers

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/throttle"
	"gatehouse/views"
)

// Session keys of a sign-in code asked for: the address typed, and where
// to go once logged in.
const (
	keyLoginCodeEmail = "_login_code_email"
	keyLoginCodeNext  = "_login_code_next"
)

// loginCodesOffered is middleware that lets sign-in code requests through
// only when the site offers them.
func (h *handler) loginCodesOffered(c *fiber.Ctx) error {
	if !h.loginCodes {
		return fiber.ErrNotFound
	}
	return c.Next()
}

// loginCodePage asks for the address to mail a sign-in code to.
func (h *handler) loginCodePage(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, views.LoginCodeRequest(views.NewLoginCodeRequestForm(safeNext(c.Query("next")))))
}

// loginCodeSubmit mails a sign-in code to the active account whose
// confirmed address this is, and answers the same whether there is one or
// not: as for reset links, the search and the mail happen after the answer.
func (h *handler) loginCodeSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "email"); err != nil {
		return err
	}
	f := views.NewLoginCodeRequestForm(safeNext(formValue(c, "next")))
	f.Email = trimmedValue(c, "email")
	if !f.Validate() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.LoginCodeRequestFormView(f), views.LoginCodeRequest(f))
	}
	retryAt, err := h.throttle.Count(c.UserContext(), h.clientKey(c, throttle.LoginCodePerAddress))
	if err != nil {
		return err
	}
	if !retryAt.IsZero() {
		f.AddError("", h.refusal(c, retryAt))
		return h.renderForm(c, fiber.StatusTooManyRequests, views.LoginCodeRequestFormView(f), views.LoginCodeRequest(f))
	}
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	if _, ok := sess.Get(keyExpires).(int64); !ok {
		sess.Set(keyExpires, h.now().Add(models.LoginCodeTimeout).Unix())
	}
	sess.Set(keyLoginCodeEmail, f.Email)
	sess.Set(keyLoginCodeNext, f.Next)
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	h.inBackground(func(ctx context.Context) {
		if err := h.mailLoginCode(ctx, f.Email); err != nil {
			h.log.Error("sign-in code mail failed", "err", err)
		}
	})
	return h.redirect(c, views.PathLoginCodeEnter)
}

// mailLoginCode makes a new sign-in code for the active account with this
// confirmed address, if there is one, and mails it, at most a few an hour
// to one address.
func (h *handler) mailLoginCode(ctx context.Context, email string) error {
	users, err := models.UsersWithVerifiedEmail(ctx, h.db, email)
	if err != nil || len(users) == 0 {
		return err
	}
	if mailed, err := h.mayMail(ctx, email); err != nil || !mailed {
		return err
	}
	u := users[0]
	err = h.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		code, err := models.NewLoginCode(ctx, tx, u.ID, h.now())
		if err != nil {
			return err
		}
		return h.enqueueMail(ctx, tx, &u, func(ctx context.Context) views.Mail {
			return views.LoginCodeMail(ctx, u.Username, code, models.LoginCodeTimeout)
		})
	})
	if err != nil {
		return err
	}
	h.mail.Notify()
	return nil
}

// loginCodeAsked returns the address a sign-in code was asked for in this
// browser, and where to go after; "" if none was.
func (h *handler) loginCodeAsked(c *fiber.Ctx) (email, next string, err error) {
	sess, err := h.existingSession(c)
	if sess == nil || err != nil {
		return "", "", err
	}
	email, _ = sess.Get(keyLoginCodeEmail).(string)
	next, _ = sess.Get(keyLoginCodeNext).(string)
	return email, next, nil
}

// loginCodeEnterPage asks for the code mailed.
func (h *handler) loginCodeEnterPage(c *fiber.Ctx) error {
	email, _, err := h.loginCodeAsked(c)
	if err != nil {
		return err
	}
	if email == "" {
		return h.redirect(c, views.PathLoginCode)
	}
	return h.render(c, fiber.StatusOK, views.LoginCodeEnter(views.NewLoginCodeForm(), email, models.LoginCodeTimeout))
}

// loginCodeEnterSubmit logs in the account the code was mailed to: a code
// counts as the password, so the second step follows where the account
// has one. A wrong code says the same for every address, known or not.
func (h *handler) loginCodeEnterSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "code"); err != nil {
		return err
	}
	email, next, err := h.loginCodeAsked(c)
	if err != nil {
		return err
	}
	if email == "" {
		return h.redirect(c, views.PathLoginCode)
	}
	f := views.NewLoginCodeForm()
	f.Code = trimmedValue(c, "code")
	render := func(status int) error {
		return h.renderForm(c, status, views.LoginCodeFormView(f), views.LoginCodeEnter(f, email, models.LoginCodeTimeout))
	}
	if !f.Validate() {
		return render(fiber.StatusUnprocessableEntity)
	}
	ctx := c.UserContext()
	users, err := models.UsersWithVerifiedEmail(ctx, h.db, email)
	if err != nil {
		return err
	}
	// Wrong codes count against the client's address as failed logins do:
	// guesses across many addresses, and a flood of log entries, stop there.
	keys := []throttle.Key{h.clientKey(c, throttle.LoginPerAddress)}
	outcome, retryAt, err := h.throttle.Try(ctx, keys, nil, func() (throttle.Outcome, error) {
		err := models.ErrLoginCodeWrong
		if len(users) > 0 {
			err = models.UseLoginCode(ctx, h.db, users[0].ID, f.Code, h.now())
		}
		switch {
		case errors.Is(err, models.ErrLoginCodeWrong):
			return throttle.Counted, nil
		case err != nil:
			return throttle.Untried, err
		}
		return throttle.Succeeded, nil
	})
	if refusal, ok := h.tryRefused(c, outcome, retryAt, err); ok {
		f.AddError("", refusal)
		return render(fiber.StatusTooManyRequests)
	}
	if err != nil {
		return err
	}
	if outcome == throttle.Counted {
		// Logged for an unknown address too (as a failed login with an
		// unknown username is): the answer takes as long either way.
		var id int64
		name := email
		if len(users) > 0 {
			id, name = users[0].ID, users[0].Username
		}
		if err := h.recordEvent(c, models.EventLoginFailed, id, name, models.NewDetail("login_mail_code")); err != nil {
			return err
		}
		f.AddError("code", views.LoginCodeWrong())
		return render(fiber.StatusUnprocessableEntity)
	}
	u := &users[0]
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	sess.Delete(keyLoginCodeEmail)
	sess.Delete(keyLoginCodeNext)
	return h.afterFirstFactor(c, u, false, next, models.NewDetail("login_mail_code"))
}
