package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"

	"gatehouse/views"
)

const (
	// csrfTokenAge is how long a token is accepted after it was issued.
	csrfTokenAge   = 7 * 24 * time.Hour
	localCSRFToken = "csrf"
)

// csrfMiddleware is Fiber's CSRF middleware: a POST must repeat the token of
// the csrftoken cookie in the X-CSRF-Token header (htmx) or the
// csrfmiddlewaretoken field (forms), and the token must be one this server
// signed. A failure is a 403 before any handler runs.
func (h *handler) csrfMiddleware() fiber.Handler {
	return csrf.New(csrf.Config{
		// A method the path has no handler for gets its 405, not a 403 that
		// would hide it; nothing runs for it that a token would protect.
		Next: func(c *fiber.Ctx) bool {
			method := c.Method()
			return method != fiber.MethodGet && method != fiber.MethodHead && !h.routeTable.allows(method, c.Path())
		},
		Extractor:         csrfFromHeaderOrForm,
		CookieName:        csrfCookie,
		CookiePath:        "/",
		CookieSecure:      h.cookieSecure,
		CookieHTTPOnly:    true,
		CookieSameSite:    fiber.CookieSameSiteLaxMode,
		CookieSessionOnly: true,
		Expiration:        csrfTokenAge,
		KeyGenerator:      h.csrfTokens.New,
		Storage:           h.csrfTokens,
		ContextKey:        localCSRFToken,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			return &clientError{fiber.StatusForbidden, "CSRF verification failed: the form was too old or did not come from this site. Reload the page and try again."}
		},
	})
}

// csrfFromHeaderOrForm takes the token from the header htmx sends, or else
// from the hidden form field.
func csrfFromHeaderOrForm(c *fiber.Ctx) (string, error) {
	if token := c.Get(views.CSRFHeaderName); token != "" {
		return token, nil
	}
	if token := formValue(c, views.CSRFFieldName); token != "" {
		return token, nil
	}
	return "", csrf.ErrTokenNotFound
}

// csrfToken is the token to put in the page's forms.
func csrfToken(c *fiber.Ctx) string {
	token, _ := c.Locals(localCSRFToken).(string)
	return token
}

// rotateCSRFToken issues a new token at login and logout, as Django does, so
// a token seen before cannot be used after.
func (h *handler) rotateCSRFToken(c *fiber.Ctx) {
	token := h.csrfTokens.New()
	h.setCookie(c, csrfCookie, token, time.Time{})
	c.Locals(localCSRFToken, token)
}

// csrfTokens signs tokens instead of storing them: the middleware's storage
// is asked whether a token is live, and a valid signature with a recent
// issue time is the answer. Nothing is written per request, and tokens
// survive restarts.
type csrfTokens struct {
	signer signer
}

const (
	csrfNonceLen = 16
	csrfTimeLen  = 8
	csrfMACLen   = 16
)

// New returns a token: a random nonce and the issue time, signed.
func (t csrfTokens) New() string {
	token := make([]byte, csrfNonceLen+csrfTimeLen, csrfNonceLen+csrfTimeLen+csrfMACLen)
	rand.Read(token[:csrfNonceLen])
	binary.BigEndian.PutUint64(token[csrfNonceLen:], uint64(time.Now().Unix()))
	return base64.RawURLEncoding.EncodeToString(append(token, t.mac(token)...))
}

func (t csrfTokens) mac(payload []byte) []byte {
	return t.signer.sign("csrf", payload)[:csrfMACLen]
}

// Get returns a non-nil value when token was signed here and is not too old.
func (t csrfTokens) Get(token string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != csrfNonceLen+csrfTimeLen+csrfMACLen {
		return nil, nil
	}
	payload, signature := raw[:csrfNonceLen+csrfTimeLen], raw[csrfNonceLen+csrfTimeLen:]
	if !hmac.Equal(signature, t.mac(payload)) {
		return nil, nil
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[csrfNonceLen:])), 0)
	if age := time.Since(issued); age < -time.Minute || age > csrfTokenAge {
		return nil, nil
	}
	return []byte{1}, nil
}

// Set, Delete, Reset and Close have nothing to do: the signature is the state.
func (csrfTokens) Set(string, []byte, time.Duration) error { return nil }
func (csrfTokens) Delete(string) error                     { return nil }
func (csrfTokens) Reset() error                            { return nil }
func (csrfTokens) Close() error                            { return nil }
