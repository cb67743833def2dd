package views

import (
	"context"
	"html"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// englishRun is two or more Latin words in a row: a sentence, or a piece
// of one, left untranslated.
var englishRun = regexp.MustCompile(`[A-Za-z][A-Za-z'’]+(?:[ ,.:;-]+[A-Za-z][A-Za-z'’]+)+`)

var (
	tags    = regexp.MustCompile(`(?s)<[^>]*>`)
	address = regexp.MustCompile(`\S+@\S+|https?://\S+`)
)

// englishLeft lists the runs of English words in text (HTML tags, web and
// mail addresses taken out) that are not among allowed: brand names,
// fixtures' names. A page or mail in Korean should have none.
func englishLeft(text string, allowed ...string) []string {
	text = html.UnescapeString(tags.ReplaceAllString(text, " "))
	text = address.ReplaceAllString(text, " ")
	for _, a := range allowed {
		text = strings.ReplaceAll(text, a, " ")
	}
	return englishRun.FindAllString(text, -1)
}

// TestMailInKoreanHasNoEnglish renders every mail in Korean and fails on
// English words left in its subject, text or HTML. (The pages get the
// same check once their words are keys.)
func TestMailInKoreanHasNoEnglish(t *testing.T) {
	ko := inLanguage("ko")
	const link = "https://gatehouse.example/accounts/reset/Mg/abc-123/"
	mails := map[string]Mail{
		"reset":      PasswordResetMail(ko, "정우", link, time.Hour),
		"verify":     VerifyEmailMail(ko, "정우", link),
		"login code": LoginCodeMail(ko, "정우", "K7QPX2MH", 5*time.Minute),
	}
	var notices []string
	for key := range LanguageByCode("ko").keys {
		if strings.HasPrefix(key, "mail.notice.") && strings.HasSuffix(key, ".body") {
			notices = append(notices, key)
		}
	}
	sort.Strings(notices)
	if len(notices) < 7 {
		t.Fatalf("%d notices found", len(notices))
	}
	for _, key := range notices {
		what := Msg(key, Args{"Email": "new@example.com", "Browser": "Firefox", "Address": "203.0.113.7"})
		mails[key] = NoticeMail(ko, "정우", Msg("mail.notice.password_changed.subject"), what, link)
	}
	for name, m := range mails {
		var body strings.Builder
		if err := m.HTML.Render(ko, &body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body.String(), `<html lang="ko">`) {
			t.Errorf("%s: HTML not marked Korean", name)
		}
		for part, text := range map[string]string{"subject": m.Subject, "text": m.Text, "html": body.String()} {
			if left := englishLeft(text, SiteName, "Firefox"); len(left) > 0 {
				t.Errorf("%s, %s: English left: %q", name, part, left)
			}
		}
	}
	// The check finds what it is for.
	english := PasswordResetMail(context.Background(), "jeongwoo", link, time.Hour)
	if left := englishLeft(english.Text, SiteName); len(left) == 0 {
		t.Error("the English mail passes as Korean")
	}
}
