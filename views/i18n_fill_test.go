package views

import (
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestFilledMessagesMatchTheirTemplates: every message filled in by joining
// its pieces reads exactly as go-i18n's template makes it, with strings,
// numbers and worded values as arguments, and the site's name by default.
func TestFilledMessagesMatchTheirTemplates(t *testing.T) {
	samples := []any{"‹value›", 42, UserAgent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")}
	checked := 0
	for _, l := range Languages() {
		for key, pieces := range l.filled {
			for _, sample := range samples {
				args := Args{}
				for _, p := range pieces {
					if p.arg != "" && p.arg != "Site" {
						args[p.arg] = sample
					}
				}
				fast, ok := l.fill(pieces, []Args{args})
				if !ok {
					t.Fatalf("%s %s: not filled with every argument given", l.Code(), key)
				}
				data := map[string]any{"Site": SiteName}
				for name, value := range args {
					if w, ok := value.(worded); ok {
						value = w.in(l)
					}
					data[name] = value
				}
				slow, err := l.localizer.Localize(&i18n.LocalizeConfig{MessageID: key, TemplateData: data})
				if err != nil {
					t.Fatal(err)
				}
				if fast != slow {
					t.Errorf("%s %s: filled %q, the template says %q", l.Code(), key, fast, slow)
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d messages checked: the fast path takes too few", checked)
	}
	if pieces, ok := cut("{{if .A}}x{{end}}"); ok {
		t.Errorf("a message with a condition was cut into %v", pieces)
	}
}
