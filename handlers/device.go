package handlers

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// deviceCookieAge is how long a browser stays trusted for a user after a
// successful login.
const deviceCookieAge = 365 * 24 * time.Hour

// trustedDevice returns the id of the device cookie the browser holds for
// the account, or "" when it holds none that this server signed for it.
func (h *handler) trustedDevice(c *fiber.Ctx, account string) string {
	payload, signature, found := strings.Cut(c.Cookies(deviceCookie), ".")
	if !found || !h.signer.verify("device", []byte(payload), signature) {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	device, cookieAccount, found := strings.Cut(string(raw), ":")
	if !found || cookieAccount != account {
		return ""
	}
	return device
}

// trustDevice gives the browser a device cookie for the account it just
// logged in as, keeping the id it had for that account.
func (h *handler) trustDevice(c *fiber.Ctx, account string) {
	device := h.trustedDevice(c, account)
	if device == "" {
		device = newSessionKey()
	}
	payload := base64.RawURLEncoding.EncodeToString([]byte(device + ":" + account))
	h.setCookie(c, deviceCookie, payload+"."+h.signer.signString("device", []byte(payload)), h.now().Add(deviceCookieAge))
}
