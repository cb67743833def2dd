package views

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"gatehouse/models"
	"gatehouse/models/useragent"
)

// The words of every page and mail, one message file per language under
// locales/, named by its language tag (ko.toml). A file found there is a
// language the site speaks: adding a language is adding its file. English
// is the source language: every key is in en.toml, and a message missing
// from another file falls back to it (a test keeps the files in step).
//
//go:embed locales/*.toml
var localeFiles embed.FS

// sourceLanguage is the language of en.toml, the one every key starts in.
var sourceLanguage = language.English

// nameKey is each file's own name for its language, as the switcher shows it.
const nameKey = "language.name"

// Args are the values a message's {{.Name}} placeholders take.
type Args map[string]any

// Language is one language the site speaks: its tag and its name for itself.
type Language struct {
	Tag  language.Tag
	Name string // in the language itself: "한국어", "English"

	localizer *i18n.Localizer
	// plain holds the messages that need no arguments and have no plural
	// forms, already as text: most of a page, looked up without a template.
	plain map[string]string
	// filled holds the messages without plural forms whose placeholders are
	// all plain {{.Name}}, cut at them: filled in by joining the pieces
	// rather than by running a text/template, which costs a page with a few
	// such messages more than the rest of its rendering.
	filled map[string][]piece
	keys   map[string]bool
}

// piece is a message's literal text, or the name of the argument that
// takes its place.
type piece struct {
	text, arg string
}

// printAction matches a template action that only prints an argument.
var printAction = regexp.MustCompile(`^\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*$`)

// cut splits a message at its {{.Name}} placeholders, or reports false
// when it holds any other template action.
func cut(message string) ([]piece, bool) {
	var pieces []piece
	for rest := message; rest != ""; {
		before, after, found := strings.Cut(rest, "{{")
		if before != "" {
			pieces = append(pieces, piece{text: before})
		}
		if !found {
			break
		}
		action, next, closed := strings.Cut(after, "}}")
		m := printAction.FindStringSubmatch(action)
		if !closed || m == nil {
			return nil, false
		}
		pieces = append(pieces, piece{arg: m[1]})
		rest = next
	}
	return pieces, true
}

// fill joins pieces with the arguments in place, as the template would
// print them; false if one is missing (the template's own text for that is
// left to it).
func (l *Language) fill(pieces []piece, args []Args) (string, bool) {
	var b strings.Builder
	for _, p := range pieces {
		if p.arg == "" {
			b.WriteString(p.text)
			continue
		}
		value, found := any(nil), false
		for _, a := range args {
			if v, ok := a[p.arg]; ok {
				value, found = v, true
			}
		}
		if !found && p.arg == "Site" {
			value, found = SiteName, true
		}
		if !found {
			return "", false
		}
		if w, ok := value.(worded); ok {
			value = w.in(l)
		}
		if text, ok := value.(string); ok {
			b.WriteString(text)
		} else {
			fmt.Fprint(&b, value)
		}
	}
	return b.String(), true
}

// Code is the language's tag as text ("ko"), as forms, cookies and the
// account store it.
func (l *Language) Code() string { return l.Tag.String() }

// catalog is every language the message files hold, read once.
type catalog struct {
	languages []*Language // by tag, the source language first
	matcher   language.Matcher
}

// messages is the catalog of the embedded files. It is built once when the
// program starts and never changed.
var messages = mustLoadCatalog(localeFiles)

func mustLoadCatalog(files fs.FS) *catalog {
	c, err := loadCatalog(files)
	if err != nil {
		panic(err)
	}
	return c
}

// loadCatalog reads every locales/*.toml file of files into one catalog.
func loadCatalog(files fs.FS) (*catalog, error) {
	bundle := i18n.NewBundle(sourceLanguage)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(files, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	c := &catalog{}
	for _, name := range names {
		file, err := bundle.LoadMessageFileFS(files, name)
		if err != nil {
			return nil, fmt.Errorf("views: message file %s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".toml"); file.Tag.String() != want {
			return nil, fmt.Errorf("views: message file %s: %q is not a language tag in its canonical form", name, want)
		}
		l := &Language{Tag: file.Tag, localizer: i18n.NewLocalizer(bundle, file.Tag.String()),
			plain: map[string]string{}, filled: map[string][]piece{}, keys: map[string]bool{}}
		for _, m := range file.Messages {
			l.keys[m.ID] = true
			if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
				continue
			}
			if !strings.Contains(m.Other, "{{") {
				l.plain[m.ID] = m.Other
			} else if pieces, ok := cut(m.Other); ok {
				l.filled[m.ID] = pieces
			}
		}
		if l.Name = l.plain[nameKey]; l.Name == "" {
			return nil, fmt.Errorf("views: message file %s has no %s", name, nameKey)
		}
		c.languages = append(c.languages, l)
	}
	sort.Slice(c.languages, func(i, j int) bool {
		a, b := c.languages[i], c.languages[j]
		if (a.Tag == sourceLanguage) != (b.Tag == sourceLanguage) {
			return a.Tag == sourceLanguage
		}
		return a.Code() < b.Code()
	})
	if len(c.languages) == 0 || c.languages[0].Tag != sourceLanguage {
		return nil, fmt.Errorf("views: no message file for the source language %s", sourceLanguage)
	}
	tags := make([]language.Tag, len(c.languages))
	for i, l := range c.languages {
		tags[i] = l.Tag
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// Languages lists the languages the site speaks, English first.
func Languages() []*Language { return messages.languages }

// LanguageByCode is the language with this code ("ko"), or nil for one the
// site does not speak.
func LanguageByCode(code string) *Language {
	for _, l := range messages.languages {
		if l.Code() == code {
			return l
		}
	}
	return nil
}

// SourceLanguage is English, the language every message is written in first.
func SourceLanguage() *Language { return messages.languages[0] }

// MatchLanguage is the language an Accept-Language header asks for most,
// weighing its q-values, or nil when it asks for none the site speaks or
// cannot be read.
func MatchLanguage(acceptLanguage string) *Language {
	if acceptLanguage == "" || len(acceptLanguage) > 1024 {
		return nil
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return nil
	}
	_, index, confidence := messages.matcher.Match(tags...)
	if confidence < language.High {
		return nil
	}
	return messages.languages[index]
}

type languageKey struct{}

// WithLanguage returns ctx in which components and T speak l.
func WithLanguage(ctx context.Context, l *Language) context.Context {
	return context.WithValue(ctx, languageKey{}, l)
}

// LanguageOf is the language ctx speaks: the one WithLanguage gave it, or
// English.
func LanguageOf(ctx context.Context) *Language {
	if l, ok := ctx.Value(languageKey{}).(*Language); ok && l != nil {
		return l
	}
	return SourceLanguage()
}

// missing is what a message key that no file holds shows: loud, so that a
// test reading the page finds it (the test client fails on it), and still
// telling the reader something rather than nothing.
func missing(key string) string { return MissingMark + key + "⟧" }

// MissingMark starts the text shown for a message key that no file holds.
const MissingMark = "⟦"

// T is the message key in the language of ctx, its placeholders filled from
// args (at most one Args).
func T(ctx context.Context, key string, args ...Args) string {
	return LanguageOf(ctx).translate(key, nil, args)
}

// TN is T for a message with plural forms, chosen by count as the
// language's CLDR rules say (English: one, other; Korean: other only);
// {{.Count}} in the message is count.
func TN(ctx context.Context, key string, count int, args ...Args) string {
	return LanguageOf(ctx).translate(key, &count, args)
}

// t is T, for templ components: { t(ctx, "login.title") }.
func t(ctx context.Context, key string, args ...Args) string { return T(ctx, key, args...) }

// tn is TN, for templ components.
func tn(ctx context.Context, key string, count int, args ...Args) string {
	return TN(ctx, key, count, args...)
}

func (l *Language) translate(key string, count *int, args []Args) string {
	if count == nil {
		if text, ok := l.plain[key]; ok && len(args) == 0 {
			return text
		}
		if pieces, ok := l.filled[key]; ok {
			if text, ok := l.fill(pieces, args); ok {
				return text
			}
		}
	}
	data := map[string]any{"Site": SiteName}
	for _, a := range args {
		for name, value := range a {
			if w, ok := value.(worded); ok {
				value = w.in(l)
			}
			data[name] = value
		}
	}
	config := &i18n.LocalizeConfig{MessageID: key, TemplateData: data}
	if count != nil {
		data["Count"] = *count
		config.PluralCount = *count
	}
	text, err := l.localizer.Localize(config)
	if text == "" && err != nil {
		return missing(key)
	}
	return text
}

// HasMessage reports whether l's file holds key.
func (l *Language) HasMessage(key string) bool { return l.keys[key] }

// EventWarning reports whether an event of this kind is shown as a warning
// (red, ⚠): a failed or refused attempt. The user's log and the admin's
// both ask here, so one event looks the same in both.
func EventWarning(kind string) bool {
	switch kind {
	case models.EventLoginFailed, models.EventThrottled, models.EventTwoFactorFailed:
		return true
	}
	return false
}

// EventDescription says in words what a security log entry of this kind
// records; an unknown kind (from a later version, say) is shown as it is.
func EventDescription(ctx context.Context, kind string) string {
	key := "event." + kind
	if !SourceLanguage().HasMessage(key) {
		return kind
	}
	return T(ctx, key)
}

// Device names the browser and system of a User-Agent header in words, in
// the language of ctx: "Firefox on Linux", "Firefox (Linux)".
func Device(ctx context.Context, ua string) string { return UserAgent(ua).in(LanguageOf(ctx)) }

// UserAgent is a User-Agent header as a message's argument: it is worded
// as Device words it, in the language the message is put into (for a
// mail, the recipient's).
type UserAgent string

func (ua UserAgent) in(l *Language) string {
	a := useragent.Parse(string(ua))
	return deviceWords(l, a.Browser, a.System)
}

// deviceWords names a browser and a system (either may be unknown: "") in
// l: "Firefox on Linux".
func deviceWords(l *Language, browser, system string) string {
	switch {
	case browser != "" && system != "":
		return l.translate("device.browser_on_system", nil, []Args{{"Browser": browser, "System": system}})
	case browser != "":
		return browser
	case system != "":
		return l.translate("device.unknown_browser_on", nil, []Args{{"System": system}})
	}
	return l.translate("device.unknown", nil, nil)
}

// worded is an argument put into words in the message's language: a
// UserAgent, a Text.
type worded interface{ in(*Language) string }

// Text is words for the user kept as a message key and its arguments, put
// into a language only when shown, as Django's lazy translations are: a
// form's errors are found before anyone knows who reads them.
type Text struct {
	Key   string
	Args  Args
	Count *int // for a message with plural forms
}

// Msg is the Text of key with args.
func Msg(key string, args ...Args) Text {
	var merged Args
	for _, a := range args {
		if merged == nil {
			merged = Args{}
		}
		for name, value := range a {
			merged[name] = value
		}
	}
	return Text{Key: key, Args: merged}
}

// MsgN is the Text of a message with plural forms, chosen by count.
func MsgN(key string, count int, args ...Args) Text {
	m := Msg(key, args...)
	m.Count = &count
	return m
}

// Empty reports whether m holds no message.
func (m Text) Empty() bool { return m.Key == "" }

// In is the text in the language of ctx.
func (m Text) In(ctx context.Context) string { return m.in(LanguageOf(ctx)) }

func (m Text) in(l *Language) string {
	var args []Args
	if m.Args != nil {
		args = []Args{m.Args}
	}
	return l.translate(m.Key, m.Count, args)
}
