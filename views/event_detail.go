package views

import (
	"context"
	"strconv"
	"time"

	"gatehouse/models"
)

// EventWhat says in words what a security log entry records, in the
// language of ctx: its kind, then its detail — "Passkey added: YubiKey",
// "Logged in (with a passkey)". The user's log and the admin's both ask
// here, so one entry reads the same in both.
func EventWhat(ctx context.Context, kind, detail string) string {
	what := EventDescription(ctx, kind)
	words := EventDetail(ctx, detail)
	switch {
	case words == "":
		return what
	case namesAThing(kind):
		return what + ": " + words
	}
	return what + " (" + words + ")"
}

// namesAThing reports whether an entry of this kind names what it was done
// to — a passkey, a session, another site — rather than how.
func namesAThing(kind string) bool {
	switch kind {
	case models.EventSessionRevoked, models.EventPasskeyAdded, models.EventPasskeyRemoved,
		models.EventSocialConnected, models.EventSocialDisconnected:
		return true
	}
	return false
}

// EventDetail is a security log entry's detail in the language of ctx: a
// code (models.Detail) in words from the [event_detail] messages, a detail
// stored before codes as it is.
func EventDetail(ctx context.Context, stored string) string {
	return detailWords(ctx, "event_detail.", stored)
}

// AdminObjectRepr is how an admin log entry names its object, in the
// language of ctx: a code from the [admin.repr] messages (a deleted
// article: its title and author), or a name as it was recorded.
func AdminObjectRepr(ctx context.Context, stored string) string {
	return detailWords(ctx, "admin.repr.", stored)
}

// detailWords puts a stored models.Detail into words with the message
// prefix+code; text stored as it is (a name, a row from before codes)
// stays as it is.
func detailWords(ctx context.Context, prefix, stored string) string {
	d, ok := models.ParseDetail(stored)
	if !ok {
		return stored
	}
	key := prefix + d.Code
	if !SourceLanguage().HasMessage(key) {
		return d.Code // from a later version, say
	}
	args := Args{}
	for name, value := range d.Args {
		args[name] = value
	}
	if until, err := time.Parse(time.RFC3339, d.Args[models.DetailUntil]); err == nil {
		args[models.DetailUntil] = FormatClock(ctx, until)
	}
	_, browser := d.Args[models.DetailBrowser]
	if _, system := d.Args[models.DetailSystem]; browser || system {
		args["Device"] = deviceWords(LanguageOf(ctx), d.Args[models.DetailBrowser], d.Args[models.DetailSystem])
	}
	var words string
	if count, err := strconv.Atoi(d.Args[models.DetailCount]); err == nil {
		words = TN(ctx, key, count, args)
	} else {
		words = T(ctx, key, args)
	}
	if d.Args[models.DetailTrusted] != "" {
		words = T(ctx, "event_detail.trusted", Args{"How": words})
	}
	return words
}
