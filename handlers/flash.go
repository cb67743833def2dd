package handlers

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gatehouse/views"
)

const localMessages = "messages"

// maxMessages is how many queued messages are kept, the latest: changes made
// through htmx queue messages that no page shows until the next one loads.
const maxMessages = 3

// flash queues a message for the next full page this browser loads.
func (h *handler) flash(c *fiber.Ctx, level string, text ...views.Text) {
	h.flashMessage(c, views.Say(level, text...))
}

// flashMessage queues message for the next page shown.
func (h *handler) flashMessage(c *fiber.Ctx, message views.Message) {
	pending := append(h.pendingMessages(c), message)
	pending = pending[max(0, len(pending)-maxMessages):]
	c.Locals(localMessages, pending)
	encoded, err := json.Marshal(pending)
	if err != nil {
		return // a Message always marshals
	}
	payload := base64.RawURLEncoding.EncodeToString(encoded)
	// Signed, as Django's cookie message storage does: no one else can put
	// words in the site's mouth.
	h.setCookie(c, messagesCookie, payload+"."+h.signer.signString("messages", []byte(payload)), time.Time{})
}

// takeMessages returns the pending messages and clears them.
func (h *handler) takeMessages(c *fiber.Ctx) []views.Message {
	messages := h.pendingMessages(c)
	if len(messages) > 0 {
		c.Locals(localMessages, []views.Message{})
		h.clearCookie(c, messagesCookie)
	}
	return messages
}

// pendingMessages are those queued in this response, or else those the
// request's cookie carries if its signature holds.
func (h *handler) pendingMessages(c *fiber.Ctx) []views.Message {
	if messages, ok := c.Locals(localMessages).([]views.Message); ok {
		return messages
	}
	payload, signature, found := strings.Cut(c.Cookies(messagesCookie), ".")
	if !found || !h.signer.verify("messages", []byte(payload), signature) {
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
