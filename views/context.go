// Package views holds Gatehouse's templ components and the form view models
// they display.
package views

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/a-h/templ"

	"gatehouse/models"
)

// Page is what every component may read about the request, as Django's
// context processors give templates user, csrf_token and messages.
type Page struct {
	User      *models.User // nil when anonymous
	CSRFToken string
	Messages  []Message
	Path      string // of the page, so navigation can mark where the user is
	Next      string // the address to come back to after switching language
	Passkeys  bool   // the site offers passkeys
	// LoginCodes: the site mails sign-in codes (GATEHOUSE_LOGIN_BY_CODE).
	LoginCodes bool
	// SocialProviders are the sites people may log in with, in order.
	SocialProviders []SocialProvider
}

// SocialProvider is a site people may log in with, as the login page offers it.
type SocialProvider struct{ Name, Label string }

// Message is a one-shot notice (Django's messages framework).
type Message struct {
	Level string // LevelSuccess, LevelInfo or LevelError
	// Text is one or more sentences, put into words when shown: a message
	// queued before a login is read in the language the login chose.
	Text []Text
}

// Say is a message of level made of texts, one sentence or more.
func Say(level string, texts ...Text) Message { return Message{Level: level, Text: texts} }

// In is the message's sentences in the language of ctx, one after another.
func (m Message) In(ctx context.Context) string {
	l := LanguageOf(ctx)
	words := make([]string, 0, len(m.Text))
	for _, text := range m.Text {
		if !text.Empty() {
			words = append(words, text.in(l))
		}
	}
	return strings.Join(words, " ")
}

type pageKey struct{}

// WithPage returns ctx carrying p for the components rendered with it.
func WithPage(ctx context.Context, p Page) context.Context {
	return context.WithValue(ctx, pageKey{}, p)
}

func page(ctx context.Context) Page {
	p, _ := ctx.Value(pageKey{}).(Page)
	return p
}

// current marks a navigation link to the page shown (aria-current).
func current(ctx context.Context, href string) templ.Attributes {
	if page(ctx).Path == href {
		return templ.Attributes{"aria-current": "page"}
	}
	return nil
}

// CSRFFieldName is the hidden form field carrying the CSRF token, as in Django.
const CSRFFieldName = "csrfmiddlewaretoken"

// CSRFHeaderName is the request header carrying the CSRF token on HTMX requests.
const CSRFHeaderName = "X-CSRF-Token"

// csrfHeaders is the hx-headers value that makes every HTMX request carry the token.
func csrfHeaders(ctx context.Context) string {
	token, _ := json.Marshal(page(ctx).CSRFToken)
	return `{"` + CSRFHeaderName + `":` + string(token) + `}`
}

// Levels of a Message, each with its own style.
const (
	LevelSuccess = "success"
	LevelInfo    = "info"
	LevelError   = "error"
)
