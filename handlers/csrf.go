package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"gatehouse/views"
)

const (
	// csrfTokenAge is how long a token is accepted after it was issued.
	csrfTokenAge   = 7 * 24 * time.Hour
	localCSRFToken = "csrf"
)

var errCSRF = &clientError{fiber.StatusForbidden, views.Msg("error.csrf")}

// csrfProtect guards every unsafe request twice, as Django does: the
// browser must say it comes from this site (Sec-Fetch-Site, else Origin),
// and it must repeat, in the X-CSRF-Token header (htmx) or the
// csrfmiddlewaretoken field (forms), the token of its csrftoken cookie — a
// token this server signed for the current session. A safe request gets a
// token if it has none that is valid for its session. Failures are 403
// before any handler runs.
func (h *handler) csrfProtect(c *fiber.Ctx) error {
	cookieToken := c.Cookies(h.cookieName(csrfCookie))
	valid := h.csrfTokens.valid(cookieToken, h.sessionBinding(c))
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		if valid {
			c.Locals(localCSRFToken, cookieToken)
		} else {
			h.rotateCSRFToken(c)
		}
		return c.Next()
	}
	// A method the path has no route for gets its 405, not a 403 that
	// would hide it; nothing runs for it that a token would protect.
	if !h.routeTable.allows(c.Method(), c.Path()) {
		return c.Next()
	}
	if !sameOrigin(c) || !valid {
		return errCSRF
	}
	submitted := c.Get(views.CSRFHeaderName)
	if submitted == "" {
		submitted = formValue(c, views.CSRFFieldName)
	}
	if !hmac.Equal([]byte(submitted), []byte(cookieToken)) {
		return errCSRF
	}
	c.Locals(localCSRFToken, cookieToken)
	return c.Next()
}

// sameOrigin reports whether the browser says the request comes from this
// site, as Go's http.CrossOriginProtection decides: Sec-Fetch-Site when
// the browser sends it, else the Origin header against the Host header
// itself (not X-Forwarded-Host, which any client may send). A request with
// neither is not from a current browser, and the token still guards it.
func sameOrigin(c *fiber.Ctx) bool {
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return true
	}
	parsed, err := url.Parse(origin)
	return err == nil && parsed.Host == string(c.Request().Host())
}

// sessionBinding is what a CSRF token is tied to: the session of a logged-in
// user, or nothing for a visitor. A token minted before a login or logout
// is therefore refused after it.
func (h *handler) sessionBinding(c *fiber.Ctx) string {
	if currentUser(c) == nil {
		return ""
	}
	if s := currentSession(c); s != nil {
		return s.Key
	}
	return ""
}

// csrfToken is the token to put in the page's forms.
func csrfToken(c *fiber.Ctx) string {
	token, _ := c.Locals(localCSRFToken).(string)
	return token
}

// rotateCSRFToken issues a new token for the request's session as it now
// is: at every login and logout, as Django does, and when the key changes.
func (h *handler) rotateCSRFToken(c *fiber.Ctx) {
	token := h.csrfTokens.issue(h.sessionBinding(c))
	h.setCookie(c, csrfCookie, token, time.Time{})
	c.Locals(localCSRFToken, token)
}

// csrfTokens signs tokens instead of storing them: a token is a random nonce
// and its issue time, signed together with the session it was issued for.
// Nothing is written per request, and tokens survive restarts.
type csrfTokens struct {
	signer signer
	now    func() time.Time // the app's clock
}

const (
	csrfNonceLen = 16
	csrfTimeLen  = 8
	csrfMACLen   = 16
)

// issue returns a new token tied to binding.
func (t csrfTokens) issue(binding string) string {
	token := make([]byte, csrfNonceLen+csrfTimeLen, csrfNonceLen+csrfTimeLen+csrfMACLen)
	rand.Read(token[:csrfNonceLen])
	binary.BigEndian.PutUint64(token[csrfNonceLen:], uint64(t.now().Unix()))
	return base64.RawURLEncoding.EncodeToString(append(token, t.mac(token, binding)...))
}

func (t csrfTokens) mac(payload []byte, binding string) []byte {
	return t.signer.sign("csrf", append(append([]byte(binding), 0), payload...))[:csrfMACLen]
}

// valid reports whether token was signed here for binding and is not too old.
func (t csrfTokens) valid(token, binding string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != csrfNonceLen+csrfTimeLen+csrfMACLen {
		return false
	}
	payload, signature := raw[:csrfNonceLen+csrfTimeLen], raw[csrfNonceLen+csrfTimeLen:]
	if !hmac.Equal(signature, t.mac(payload, binding)) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[csrfNonceLen:])), 0)
	age := t.now().Sub(issued)
	return age > -time.Minute && age < csrfTokenAge
}
