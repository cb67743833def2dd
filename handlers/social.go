package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/social"
	"gatehouse/models/throttle"
	"gatehouse/views"
)

// socialTimeout is how long a login at a provider may take, from the
// button to the callback.
const socialTimeout = 10 * time.Minute

// Session keys of a login at a provider under way: which one, its state,
// nonce and PKCE verifier, where to go after, until when; and, once the
// provider answered for a new person whose username must be chosen, who
// they are.
const (
	keySocialProvider = "_social_provider"
	keySocialState    = "_social_state"
	keySocialNonce    = "_social_nonce"
	keySocialVerifier = "_social_verifier"
	keySocialNext     = "_social_next"
	keySocialUntil    = "_social_until"
	keySocialConnect  = "_social_connect" // the user id connecting the provider or confirming with it, 0 for a login
	keySocialConfirm  = "_social_confirm" // true: the user is confirming it is them, not connecting
	keySocialSignup   = "_social_signup"  // JSON of pendingSocialSignup
)

// pendingSocialSignup is a person the provider vouched for, waiting for a
// username of their own.
type pendingSocialSignup struct {
	Provider string        `json:"provider"`
	Person   social.Person `json:"person"`
	Next     string        `json:"next"`
	Until    int64         `json:"until"`
	// Form is the one-time value of the username form shown for it: on a
	// shared browser, whoever comes later and posts a username without
	// that form does not take the account the provider vouched for.
	Form string `json:"form"`
}

// socialClient returns the client of the provider the URL names.
func (h *handler) socialClient(c *fiber.Ctx) (*social.Client, error) {
	client, ok := h.social[c.Params("provider")]
	if !ok {
		return nil, fiber.ErrNotFound
	}
	return client, nil
}

// socialLogin sends a visitor to the provider to log in.
func (h *handler) socialLogin(c *fiber.Ctx) error {
	client, err := h.socialClient(c)
	if err != nil {
		return err
	}
	return h.startSocial(c, client, 0, false, safeNext(formValue(c, "next")))
}

// socialConnect sends a logged-in user, who just confirmed it is them, to
// the provider to connect their account there.
func (h *handler) socialConnect(c *fiber.Ctx) error {
	client, err := h.socialClient(c)
	if err != nil {
		return err
	}
	return h.startSocial(c, client, currentUser(c).ID, false, views.PathSocial)
}

// socialConfirm sends a logged-in user to a provider their account is
// connected to, to confirm it is them before a sensitive change ("sudo
// mode"): the way for an account with no password of its own.
func (h *handler) socialConfirm(c *fiber.Ctx) error {
	client, err := h.socialClient(c)
	if err != nil {
		return err
	}
	return h.startSocial(c, client, currentUser(c).ID, true, safeNext(formValue(c, "next")))
}

// startSocial sends the browser to the provider, with a state, a nonce and
// a PKCE verifier kept in this browser's session: the callback must come
// back here, once. connecting is the user connecting the provider (or,
// with confirming, confirming it is them with it), or 0 for a login.
//
// An address locked out of logging in by password is locked out here too,
// and each start, which stores a session, is counted per address.
func (h *handler) startSocial(c *fiber.Ctx, client *social.Client, connecting int64, confirming bool, next string) error {
	retryAt, err := h.throttle.Check(c.UserContext(), h.clientKey(c, throttle.LoginPerAddress))
	if err == nil && retryAt.IsZero() {
		retryAt, err = h.throttle.Count(c.UserContext(), h.clientKey(c, throttle.SocialStartsPerAddress))
	}
	if err != nil {
		return err
	}
	if !retryAt.IsZero() {
		return &clientError{fiber.StatusTooManyRequests, h.refusal(c, retryAt)}
	}
	state, nonce, verifier := rand.Text(), rand.Text(), rand.Text()+rand.Text()
	target, err := client.Start(c.UserContext(), state, nonce, verifier)
	if err != nil {
		h.log.Error("social login: provider unreachable", "provider", client.Name, "err", err)
		return &clientError{fiber.StatusServiceUnavailable, views.Msg("social.unreachable", views.Args{"Provider": client.Label})}
	}
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	until := h.now().Add(socialTimeout).Unix()
	if _, ok := sess.Get(keyExpires).(int64); !ok {
		sess.Set(keyExpires, until)
	}
	sess.Set(keySocialProvider, client.Name)
	sess.Set(keySocialState, state)
	sess.Set(keySocialNonce, nonce)
	sess.Set(keySocialVerifier, verifier)
	sess.Set(keySocialNext, next)
	sess.Set(keySocialUntil, until)
	sess.Set(keySocialConnect, connecting)
	sess.Set(keySocialConfirm, confirming)
	if err := h.saveSession(c, sess); err != nil {
		return err
	}
	return h.redirect(c, target)
}

// socialCallback is where the provider sends the browser back: the state
// must be this browser's login under way (and is used up), the code is
// exchanged with the PKCE verifier, the ID token checked with the nonce.
// Then the person logs in to the account tied to them, or gets a new one.
func (h *handler) socialCallback(c *fiber.Ctx) error {
	client, err := h.socialClient(c)
	if err != nil {
		return err
	}
	sess, err := h.existingSession(c)
	if err != nil {
		return err
	}
	var provider, state, nonce, verifier, next string
	var until, connecting int64
	var confirming bool
	if sess != nil {
		provider, _ = sess.Get(keySocialProvider).(string)
		state, _ = sess.Get(keySocialState).(string)
		nonce, _ = sess.Get(keySocialNonce).(string)
		verifier, _ = sess.Get(keySocialVerifier).(string)
		next, _ = sess.Get(keySocialNext).(string)
		until, _ = sess.Get(keySocialUntil).(int64)
		connecting, _ = sess.Get(keySocialConnect).(int64)
		confirming, _ = sess.Get(keySocialConfirm).(bool)
		for _, key := range []string{keySocialProvider, keySocialState, keySocialNonce, keySocialVerifier, keySocialNext, keySocialUntil, keySocialConnect, keySocialConfirm} {
			sess.Delete(key) // once: a replayed callback finds nothing
		}
		// Stored now, whatever follows: a connection or a failure would
		// otherwise leave the state in the store.
		if err := h.saveSession(c, sess); err != nil {
			return err
		}
	}
	if u := currentUser(c); (u == nil) != (connecting == 0) || (u != nil && u.ID != connecting) {
		// A login's callback reaching a logged-in browser, or a connection's
		// another user's (or none): neither goes on.
		state = ""
	}
	given := c.Query("state")
	if state == "" || provider != client.Name || subtle.ConstantTimeCompare([]byte(given), []byte(state)) != 1 || !h.now().Before(time.Unix(until, 0)) {
		return h.socialRefused(c, client, "social.failed_state")
	}
	if c.Query("error") != "" || c.Query("code") == "" {
		return h.socialFailed(c, client, "social.failed_denied")
	}
	person, err := client.Finish(c.UserContext(), c.Query("code"), verifier, nonce)
	if errors.Is(err, social.ErrRefused) {
		h.log.Warn("social login refused", "provider", client.Name, "err", err)
		return h.socialRefused(c, client, "social.failed_token")
	}
	if err != nil {
		h.log.Error("social login: provider unreachable", "provider", client.Name, "err", err)
		return h.socialFailed(c, client, "social.unreachable")
	}
	switch {
	case connecting != 0 && confirming:
		return h.socialConfirmed(c, client, person, next)
	case connecting != 0:
		return h.socialConnected(c, client, person)
	}
	return h.socialPerson(c, client, person, next)
}

// socialConnected ties the provider account to the logged-in user, unless
// it logs in to another account already; the log and a notice say so.
func (h *handler) socialConnected(c *fiber.Ctx, client *social.Client, person *social.Person) error {
	ctx, u := c.UserContext(), currentUser(c)
	account, err := social.AccountOf(ctx, h.db, client.Name, person.Subject)
	switch {
	case err == nil && account.UserID != u.ID:
		return h.socialFailed(c, client, "social.settings.taken")
	case err == nil:
		return h.redirect(c, views.PathSocial) // connected already
	case !errors.Is(err, social.ErrNoAccount):
		return err
	}
	err = h.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := social.Link(ctx, tx, u.ID, client.Name, person.Subject, person.Email, h.now()); err != nil {
			return err
		}
		what := views.Msg("mail.notice.social_connected.body", views.Args{"Provider": client.Label, "Email": person.Email})
		return h.notice(ctx, tx, u, views.Msg("mail.notice.social_connected.subject", views.Args{"Provider": client.Label}), what)
	})
	if errors.Is(err, social.ErrLinked) {
		return h.socialConnected(c, client, person) // linked meanwhile, by another callback
	}
	if err != nil {
		return err
	}
	h.mail.Notify()
	if err := h.recordEvent(c, models.EventSocialConnected, u.ID, u.Username, models.NewDetail("named", "Name", client.Label)); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("social.settings.connected_flash", views.Args{"Provider": client.Label}))
	return h.redirect(c, views.PathSocial)
}

// socialConfirmed lets the user on, as a password confirmation would, if
// the provider account that answered is one connected to them.
func (h *handler) socialConfirmed(c *fiber.Ctx, client *social.Client, person *social.Person, next string) error {
	ctx, u := c.UserContext(), currentUser(c)
	account, err := social.AccountOf(ctx, h.db, client.Name, person.Subject)
	switch {
	case errors.Is(err, social.ErrNoAccount) || (err == nil && account.UserID != u.ID):
		return h.socialFailed(c, client, "social.confirm.other_account")
	case err != nil:
		return err
	}
	if err := social.Used(ctx, h.db, account.ID, person.Email, h.now()); err != nil {
		return err
	}
	return h.confirmed(c, next)
}

// socialSettingsPage lists the user's accounts at other sites.
func (h *handler) socialSettingsPage(c *fiber.Ctx) error {
	p, err := h.socialSettingsView(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, views.SocialSettings(p))
}

// socialSettingsView is what the settings page of other sites shows.
func (h *handler) socialSettingsView(c *fiber.Ctx) (views.SocialSettingsPage, error) {
	var p views.SocialSettingsPage
	accounts, err := social.Accounts(c.UserContext(), h.db, currentUser(c).ID)
	if err != nil {
		return p, err
	}
	connected := map[string]bool{}
	for _, a := range accounts {
		connected[a.Provider] = true
		p.Connected = append(p.Connected, views.SocialConnection{ID: a.ID, Label: h.providerLabel(a.Provider), Email: a.Email, Since: a.CreatedAt})
	}
	for _, b := range h.socialButtons {
		if !connected[b.Name] {
			p.Available = append(p.Available, b)
		}
	}
	return p, nil
}

// socialDisconnect removes one of the user's accounts at other sites,
// unless it is their last way in: no usable password, no passkey, no other.
func (h *handler) socialDisconnect(c *fiber.Ctx) error {
	if err := requireFields(c, "id"); err != nil {
		return err
	}
	id, err := strconv.ParseInt(formValue(c, "id"), 10, 64)
	if err != nil {
		return &clientError{fiber.StatusBadRequest, views.Msg("error.form_unreadable")}
	}
	ctx, u := c.UserContext(), currentUser(c)
	last, err := lastWayIn(ctx, h.db, u)
	if err != nil {
		return err
	}
	if last {
		p, err := h.socialSettingsView(c)
		if err != nil {
			return err
		}
		p.Problem = views.Msg("social.settings.last_way_in")
		return h.render(c, fiber.StatusConflict, views.SocialSettings(p))
	}
	name, err := social.Unlink(ctx, h.db, u.ID, id)
	if errors.Is(err, social.ErrNoAccount) {
		return h.redirect(c, views.PathSocial)
	}
	if err != nil {
		return err
	}
	label := h.providerLabel(name)
	if err := h.recordEvent(c, models.EventSocialDisconnected, u.ID, u.Username, models.NewDetail("named", "Name", label)); err != nil {
		return err
	}
	h.flash(c, views.LevelSuccess, views.Msg("social.settings.disconnected_flash", views.Args{"Provider": label}))
	return h.redirect(c, views.PathSocial)
}

// socialRefused is socialFailed for a callback that may be forged or
// replayed (a wrong state, a token that does not verify): it counts as a
// failed login from the client's address.
func (h *handler) socialRefused(c *fiber.Ctx, client *social.Client, key string) error {
	if err := h.throttle.Fail(c.UserContext(), h.clientKey(c, throttle.LoginPerAddress)); err != nil {
		return err
	}
	return h.socialFailed(c, client, key)
}

// socialFailed ends a login at a provider that proves no one: the session
// forgets it, and the page says so plainly, with the way back to login.
func (h *handler) socialFailed(c *fiber.Ctx, client *social.Client, key string) error {
	return h.render(c, fiber.StatusBadRequest, views.SocialFailed(views.Msg(key, views.Args{"Provider": client.Label})))
}

// socialPerson logs the person in to the account tied to their provider
// account; a new person gets a new account, unless an account has their
// address: that one is never entered by the address alone.
func (h *handler) socialPerson(c *fiber.Ctx, client *social.Client, person *social.Person, next string) error {
	ctx := c.UserContext()
	account, err := social.AccountOf(ctx, h.db, client.Name, person.Subject)
	switch {
	case err == nil:
		u, err := models.UserByID(ctx, h.db, account.UserID)
		if err != nil {
			return err
		}
		if !u.IsActive {
			return h.socialFailed(c, client, "social.failed_inactive")
		}
		retryAt, err := h.throttle.Count(ctx, throttle.SocialLoginsPerAccount.Key(client.Name+":"+person.Subject))
		if err != nil {
			return err
		}
		if !retryAt.IsZero() {
			return h.render(c, fiber.StatusTooManyRequests, views.SocialFailed(h.limited(c, retryAt)))
		}
		if err := social.Used(ctx, h.db, account.ID, person.Email, h.now()); err != nil {
			return err
		}
		return h.afterFirstFactor(c, u, false, next, models.NewDetail("login_provider", "Provider", client.Label))
	case !errors.Is(err, social.ErrNoAccount):
		return err
	}
	if person.Email != "" {
		taken, err := models.EmailInUse(ctx, h.db, person.Email)
		if err != nil {
			return err
		}
		if taken {
			if linked, err := h.signedUpMeanwhile(c, client, person, next); linked || err != nil {
				return err
			}
			return h.render(c, fiber.StatusConflict, views.SocialAddressTaken(client.Label, person.Email))
		}
	}
	pending := pendingSocialSignup{Provider: client.Name, Person: *person, Next: next, Until: h.now().Add(socialTimeout).Unix()}
	username := suggestedUsername(person)
	if models.UsernameProblem(username) == "" && username != "" {
		taken, err := models.UsernameTaken(ctx, h.db, username)
		if err != nil {
			return err
		}
		if !taken {
			err := h.socialSignup(c, client, pending, username)
			if !errors.Is(err, models.ErrDuplicateUsername) && !errors.Is(err, social.ErrLinked) {
				return err
			}
		}
		// Taken, before or as it was made: by this person's own other
		// callback, meanwhile, or by someone else, and they choose another.
		if linked, err := h.signedUpMeanwhile(c, client, person, next); linked || err != nil {
			return err
		}
	}
	// The username is taken or refused: the person chooses one.
	pending.Form = rand.Text()
	if err := h.keepSocialSignup(c, pending); err != nil {
		return err
	}
	f := views.NewSocialSignupForm(client.Label)
	f.Token = pending.Form
	f.Username = username
	if username != "" {
		f.Validate()
		if f.Valid() {
			f.AddError("username", views.UsernameDuplicate())
		}
	}
	return h.render(c, fiber.StatusOK, views.SocialSignup(f))
}

// suggestedUsername is the provider's preferred username, or the local
// part of the address, under Django's rules (NFKC).
func suggestedUsername(p *social.Person) string {
	name := p.PreferredUsername
	if name == "" {
		name, _, _ = strings.Cut(p.Email, "@")
	}
	return models.NormalizeUsername(strings.TrimSpace(name))
}

// keepSocialSignup keeps the person the provider vouched for in the
// session until they choose a username.
func (h *handler) keepSocialSignup(c *fiber.Ctx, pending pendingSocialSignup) error {
	encoded, err := json.Marshal(pending)
	if err != nil {
		return err
	}
	sess, err := h.session(c)
	if err != nil {
		return err
	}
	sess.Set(keySocialSignup, string(encoded))
	return h.saveSession(c, sess)
}

// pendingSocial returns the person waiting for a username in this browser.
func (h *handler) pendingSocial(c *fiber.Ctx) (*pendingSocialSignup, *social.Client, error) {
	sess, err := h.existingSession(c)
	if sess == nil || err != nil {
		return nil, nil, err
	}
	encoded, _ := sess.Get(keySocialSignup).(string)
	var pending pendingSocialSignup
	if encoded == "" || json.Unmarshal([]byte(encoded), &pending) != nil || !h.now().Before(time.Unix(pending.Until, 0)) {
		return nil, nil, nil
	}
	client, ok := h.social[pending.Provider]
	if !ok {
		return nil, nil, nil
	}
	return &pending, client, nil
}

// socialSignupSubmit takes the username a new person chose.
func (h *handler) socialSignupSubmit(c *fiber.Ctx) error {
	if err := requireFields(c, "username"); err != nil {
		return err
	}
	pending, client, err := h.pendingSocial(c)
	if err != nil {
		return err
	}
	if pending == nil || subtle.ConstantTimeCompare([]byte(formValue(c, "form")), []byte(pending.Form)) != 1 {
		return h.redirect(c, views.PathLogin)
	}
	f := views.NewSocialSignupForm(client.Label)
	f.Token = pending.Form
	f.Username = models.NormalizeUsername(trimmedValue(c, "username"))
	if f.Validate() {
		taken, err := models.UsernameTaken(c.UserContext(), h.db, f.Username)
		if err != nil {
			return err
		}
		if taken {
			f.AddError("username", views.UsernameDuplicate())
		}
	}
	if !f.Valid() {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SocialSignupFormView(f), views.SocialSignup(f))
	}
	err = h.socialSignup(c, client, *pending, f.Username)
	if errors.Is(err, models.ErrDuplicateUsername) || errors.Is(err, social.ErrLinked) {
		if linked, err := h.signedUpMeanwhile(c, client, &pending.Person, pending.Next); linked || err != nil {
			return err
		}
		f.AddError("username", views.UsernameDuplicate())
		return h.renderForm(c, fiber.StatusUnprocessableEntity, views.SocialSignupFormView(f), views.SocialSignup(f))
	}
	return err
}

// signedUpMeanwhile logs the person in if another callback of theirs (a
// second click at the provider, another tab) made their account while this
// one was making it too, and reports whether it did.
func (h *handler) signedUpMeanwhile(c *fiber.Ctx, client *social.Client, person *social.Person, next string) (bool, error) {
	_, err := social.AccountOf(c.UserContext(), h.db, client.Name, person.Subject)
	if errors.Is(err, social.ErrNoAccount) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, h.socialPerson(c, client, person, next)
}

// socialSignup makes the account of a new person the provider vouched for:
// no usable password until they set one, the address confirmed only if
// the provider says it verified it; then logs them in.
func (h *handler) socialSignup(c *fiber.Ctx, client *social.Client, pending pendingSocialSignup, username string) error {
	// Counted as every signup is, before the account is made.
	retryAt, err := h.throttle.Count(c.UserContext(), h.clientKey(c, throttle.SignupsPerAddress))
	if err != nil {
		return err
	}
	if !retryAt.IsZero() {
		return h.render(c, fiber.StatusTooManyRequests, views.SocialFailed(h.limited(c, retryAt)))
	}
	p := pending.Person
	u := &models.User{Username: username, Email: p.Email, EmailVerified: p.EmailVerified && p.Email != "", Password: "!",
		IsActive: true, NotifyNewDevice: true, Language: h.language(c).Code()}
	err = h.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := models.CreateUser(ctx, tx, u); err != nil {
			return err
		}
		if err := social.Link(ctx, tx, u.ID, client.Name, p.Subject, p.Email, h.now()); err != nil {
			return err
		}
		return models.RecordEvent(ctx, tx, &models.SecurityEvent{UserID: u.ID, Username: u.Username, Kind: models.EventSignup,
			IP: h.clientAddress(c).String(), UserAgent: c.Get(fiber.HeaderUserAgent), Detail: models.NewDetail("login_provider", "Provider", client.Label).String(), CreatedAt: h.now()})
	})
	if err != nil {
		return err
	}
	if sess, err := h.existingSession(c); err == nil && sess != nil {
		sess.Delete(keySocialSignup)
	}
	mail := false
	if u.Email != "" && !u.EmailVerified {
		// An address the provider did not verify is confirmed by link, as
		// at any signup, within the same limits.
		if mail, err = h.mayMailFrom(c, u.Email); err != nil {
			return err
		}
	}
	return h.welcome(c, u, mail, pending.Next)
}
