package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gatehouse/views"
)

// messagesCookie carries one-shot messages to the next page, as Django's
// default (cookie) message storage does; it is signed so no one else can
// put words in the site's mouth.
const messagesCookie = "messages"

const localMessages = "messages"

// flash queues a message for the next full page this browser loads.
func (h *Handler) flash(c *fiber.Ctx, level, text string) {
	pending := append(h.pendingMessages(c), views.Message{Level: level, Text: text})
	c.Locals(localMessages, pending)
	encoded, err := json.Marshal(pending)
	if err != nil {
		return // a Message always marshals
	}
	payload := base64.RawURLEncoding.EncodeToString(encoded)
	c.Cookie(&fiber.Cookie{
		Name:        messagesCookie,
		Value:       payload + "." + h.signMessages(payload),
		Path:        "/",
		Secure:      h.cookieSecure,
		HTTPOnly:    true,
		SameSite:    fiber.CookieSameSiteLaxMode,
		SessionOnly: true,
	})
}

// takeMessages returns the pending messages and clears them.
func (h *Handler) takeMessages(c *fiber.Ctx) []views.Message {
	messages := h.pendingMessages(c)
	if len(messages) > 0 {
		c.Locals(localMessages, []views.Message{})
		c.Cookie(&fiber.Cookie{Name: messagesCookie, Path: "/", Expires: time.Unix(0, 0), MaxAge: -1, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	}
	return messages
}

// pendingMessages are those queued in this response, or else those the
// request's cookie carries if its signature holds.
func (h *Handler) pendingMessages(c *fiber.Ctx) []views.Message {
	if messages, ok := c.Locals(localMessages).([]views.Message); ok {
		return messages
	}
	payload, signature, found := strings.Cut(c.Cookies(messagesCookie), ".")
	if !found || !hmac.Equal([]byte(signature), []byte(h.signMessages(payload))) {
		return nil
	}
	encoded, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	var messages []views.Message
	if json.Unmarshal(encoded, &messages) != nil {
		return nil
	}
	return messages
}

func (h *Handler) signMessages(payload string) string {
	mac := hmac.New(sha256.New, h.secret)
	mac.Write([]byte("gatehouse.messages\x00"))
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
