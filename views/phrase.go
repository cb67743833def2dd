package views

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// Parts are the components a Phrase puts into its sentence, by the name of
// the placeholder each fills.
type Parts map[string]templ.Component

// partMark brackets a part's name in the worded message, where Phrase cuts
// it out again: a byte no message holds.
const partMark = "\x00"

// Phrase is the sentence of m with components inside it — a link, a time —
// where its {{.Name}} placeholders named in parts stand, the rest of the
// text escaped. Each language orders its sentence as it needs:
// "{{.Link}}에서 회원가입하세요" and "Sign up {{.Link}}" both read right.
func Phrase(m Text, parts Parts) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		args := Args{}
		for name, value := range m.Args {
			args[name] = value
		}
		for name := range parts {
			args[name] = partMark + name + partMark
		}
		worded := Text{Key: m.Key, Args: args, Count: m.Count}.In(ctx)
		for i, piece := range strings.Split(worded, partMark) {
			if i%2 == 0 {
				if _, err := io.WriteString(w, templ.EscapeString(piece)); err != nil {
					return err
				}
				continue
			}
			if err := parts[piece].Render(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// The layouts of dates and times shown in the page as it is sent (app.js
// then shows them in the reader's own time zone): each language's
// [date] messages, written as Go's reference time.
const (
	dateDay     = "date.day"      // 2 Jan 2006
	dateDayTime = "date.day_time" // 2 Jan 2006, 15:04 UTC
	dateClock   = "date.clock"    // 15:04 UTC
)

// FormatDate is t's day in UTC, as the language of ctx writes one.
func FormatDate(ctx context.Context, t time.Time) string { return formatTime(ctx, dateDay, t) }

// FormatDateTime is t's day and time of day in UTC, as the language of ctx
// writes them.
func FormatDateTime(ctx context.Context, t time.Time) string {
	return formatTime(ctx, dateDayTime, t)
}

// FormatClock is t's time of day in UTC.
func FormatClock(ctx context.Context, t time.Time) string { return formatTime(ctx, dateClock, t) }

func formatTime(ctx context.Context, layout string, t time.Time) string {
	return t.UTC().Format(T(ctx, layout))
}
