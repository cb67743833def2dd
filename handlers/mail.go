package handlers

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/mail"
	"gatehouse/models/throttle"
	"gatehouse/views"
)

// enqueueMail puts the mail compose writes for u, to u's address, into
// the outbox through db, the transaction of the change the mail is about:
// the mail goes out if and only if the change commits. It is written in
// u's language, whoever set it off. Call h.mail.Notify after the commit.
func (h *handler) enqueueMail(ctx context.Context, db bun.IDB, u *models.User, compose func(context.Context) views.Mail) error {
	ctx = views.WithLanguage(ctx, h.accountLanguage(u))
	m := compose(ctx)
	var html strings.Builder
	if err := m.HTML.Render(ctx, &html); err != nil {
		return fmt.Errorf("render mail: %w", err)
	}
	return mail.Enqueue(ctx, db, mail.Message{To: u.Email, Subject: m.Subject, Text: m.Text, HTML: html.String()})
}

// mayMail counts a mail that anyone may have set off (a reset link, a
// confirmation link) to an address, and under the keys also, and reports
// whether it may go: a few an hour at most, so no one can bomb an address
// through the site. An empty address gets nothing.
func (h *handler) mayMail(ctx context.Context, to string, also ...throttle.Key) (bool, error) {
	if to == "" {
		return false, nil
	}
	retryAt, err := h.throttle.Count(ctx, append(also, throttle.MailPerRecipient.Key(strings.ToLower(to)))...)
	return err == nil && retryAt.IsZero(), err
}

// mayMailFrom is mayMail for a confirmation link the request sets off:
// counted against its client address too.
func (h *handler) mayMailFrom(c *fiber.Ctx, to string) (bool, error) {
	return h.mayMail(c.UserContext(), to, h.clientKey(c, throttle.MailPerAddress))
}

// mailRefused answers a request for a mail that mayMail did not allow:
// err if counting failed, else the reason, back on page.
func (h *handler) mailRefused(c *fiber.Ctx, err error, page string) error {
	if err != nil {
		return err
	}
	h.flash(c, views.LevelError, views.Msg("flash.mail_limited"))
	return h.redirect(c, page)
}

// link is the absolute address of a path, for mail.
func (h *handler) link(path string) string { return h.baseURL + path }

// notice enqueues a security notice to the user's address if it is
// confirmed: unconfirmed, it may not be theirs.
func (h *handler) notice(ctx context.Context, db bun.IDB, u *models.User, subject, what views.Text) error {
	if !u.EmailVerified || u.Email == "" {
		return nil
	}
	return h.enqueueMail(ctx, db, u, func(ctx context.Context) views.Mail {
		return views.NoticeMail(ctx, u.Username, subject, what, h.link(views.PathActivity))
	})
}

// changeWithNotice runs change, a change of the user's login factors, in a
// transaction, with the notice it returns (none if its subject is empty)
// enqueued in the same one: the owner hears of every change of their login
// factors (ASVS 6.3.7) that happened, and of none that did not. A change
// that happened also forgets the browsers trusted to skip the second step:
// their trust was given for the factors as they were (and a fingerprint
// alone would come back if the factors did).
func (h *handler) changeWithNotice(c *fiber.Ctx, change func(ctx context.Context, tx bun.Tx) (subject, body views.Text, err error)) error {
	u := currentUser(c)
	err := h.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		subject, body, err := change(ctx, tx)
		if err != nil || subject.Empty() {
			return err
		}
		if err := models.StopTrusting(ctx, tx, u.ID, 0); err != nil {
			return err
		}
		return h.notice(ctx, tx, u, subject, body)
	})
	if err != nil {
		return err
	}
	h.mail.Notify()
	return nil
}

// sendVerification enqueues a link confirming the user's address.
func (h *handler) sendVerification(ctx context.Context, db bun.IDB, u *models.User) error {
	link := h.link(views.EmailVerifyPath(uidb64(u.ID), h.verifyTokens.Make(verifyState(u), h.now())))
	return h.enqueueMail(ctx, db, u, func(ctx context.Context) views.Mail {
		return views.VerifyEmailMail(ctx, u.Username, link)
	})
}

// uidb64 names a user in a mailed link, as Django's urlsafe_base64_encode
// of the primary key does.
func uidb64(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// parseUIDB64 reads a user id from a link; 0 for anything else. Only the
// one spelling uidb64 writes is read ("MQ" is 1; "KzE", "+1", and "MDE",
// "01", are not): a link names a user one way.
func parseUIDB64(s string) int64 {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return 0
	}
	id, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || id < 1 || uidb64(id) != s {
		return 0
	}
	return id
}

// resetState is what a password reset token is signed with: a new password,
// a login or a new address since the mail make the link useless, so it
// works once (Django's _make_hash_value).
func resetState(u *models.User) string {
	return fmt.Sprintf("%d|%s|%d|%s", u.ID, u.Password, u.LastLogin.Unix(), u.Email)
}

// verifyState is what an email confirmation token is signed with: once the
// address is confirmed or changed, the link is spent.
func verifyState(u *models.User) string {
	return fmt.Sprintf("%d|%s|%t", u.ID, u.Email, u.EmailVerified)
}
