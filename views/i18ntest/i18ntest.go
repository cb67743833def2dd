// Package i18ntest finds English left in a page or mail that should be in
// another language. The views' and the handlers' tests share it.
package i18ntest

import (
	"html"
	"regexp"
	"strings"
)

// englishRun is two or more Latin words in a row: a sentence, or a piece
// of one, left untranslated.
var englishRun = regexp.MustCompile(`[A-Za-z][A-Za-z'’]+(?:[ ,.:;-]+[A-Za-z][A-Za-z'’]+)+`)

var (
	comments = regexp.MustCompile(`(?s)<!--.*?-->`)
	hidden   = regexp.MustCompile(`(?is)<(script|style|svg)\b.*?</(script|style|svg)>`)
	tags     = regexp.MustCompile(`(?s)<[^>]*>`)
	address  = regexp.MustCompile(`\S+@\S+|https?://\S+`)
)

// readable are the attributes whose words a person reads or hears: alt,
// title, placeholder, aria-label, a table cell's label on a phone, the
// question asked before an action, the words scripts show (copied, a
// passkey's problems).
var readable = regexp.MustCompile(`(?i)\s(?:alt|title|placeholder|aria-label|aria-description|data-label|hx-confirm|data-copied|data-cancelled|data-failed)="([^"]*)"`)

// EnglishLeft lists the runs of English words in text (HTML tags, scripts,
// web and mail addresses taken out; the attributes a person reads kept)
// that are not among allowed: brand names, fixtures' names. A page or
// mail in Korean should have none.
func EnglishLeft(text string, allowed ...string) []string {
	text = comments.ReplaceAllString(text, " ")
	text = hidden.ReplaceAllString(text, " ")
	var attrs []string
	for _, m := range readable.FindAllStringSubmatch(text, -1) {
		attrs = append(attrs, m[1])
	}
	text = tags.ReplaceAllString(text, " ") + " \n " + strings.Join(attrs, " \n ")
	text = html.UnescapeString(text)
	text = address.ReplaceAllString(text, " ")
	for _, a := range allowed {
		text = strings.ReplaceAll(text, a, " ")
	}
	return englishRun.FindAllString(text, -1)
}
