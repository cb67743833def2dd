package views

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/a-h/templ"
)

func render(t *testing.T, ctx context.Context, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPhrase checks a sentence with a link inside: the link where each
// language's sentence puts it, the rest of the words escaped, and a value
// given as an argument (a user's) escaped too, never taken for a part.
func TestPhrase(t *testing.T) {
	c, err := loadCatalog(fstest.MapFS{
		"locales/en.toml": {Data: []byte("[language]\nname = \"English\"\n[x]\nsignup = \"No account, {{.Name}}? Sign up {{.Link}} & go.\"\n")},
		"locales/ko.toml": {Data: []byte("[language]\nname = \"한국어\"\n[x]\nsignup = \"{{.Name}}님, {{.Link}}에서 회원가입하세요.\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	link := templ.Raw(`<a href="/signup/">here</a>`)
	text := Msg("x.signup", Args{"Name": "<b>Kim</b>"})
	for i, want := range []string{
		`No account, &lt;b&gt;Kim&lt;/b&gt;? Sign up <a href="/signup/">here</a> &amp; go.`,
		`&lt;b&gt;Kim&lt;/b&gt;님, <a href="/signup/">here</a>에서 회원가입하세요.`,
	} {
		ctx := WithLanguage(context.Background(), c.languages[i])
		if got := render(t, ctx, Phrase(text, Parts{"Link": link})); got != want {
			t.Errorf("%s: %s, want %s", c.languages[i].Code(), got, want)
		}
	}
}

// TestDatesInLanguage checks the dates sent in the page: each language's
// layout, always in UTC.
func TestDatesInLanguage(t *testing.T) {
	at := time.Date(2026, 3, 9, 14, 5, 0, 0, time.FixedZone("KST", 9*3600))
	for _, tt := range []struct {
		code, day, dayTime, clock string
	}{
		{"en", "9 Mar 2026", "9 Mar 2026, 05:05 UTC", "05:05 UTC"},
		{"ko", "2026년 3월 9일", "2026년 3월 9일 05:05 UTC", "05:05 UTC"},
	} {
		ctx := inLanguage(tt.code)
		if got := FormatDate(ctx, at); got != tt.day {
			t.Errorf("%s: day %q, want %q", tt.code, got, tt.day)
		}
		if got := FormatDateTime(ctx, at); got != tt.dayTime {
			t.Errorf("%s: day and time %q, want %q", tt.code, got, tt.dayTime)
		}
		if got := FormatClock(ctx, at); got != tt.clock {
			t.Errorf("%s: clock %q, want %q", tt.code, got, tt.clock)
		}
	}
}
