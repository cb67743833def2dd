package views

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"gatehouse/views/i18ntest"
)

// TestMailInKoreanHasNoEnglish renders every mail in Korean and fails on
// English words left in its subject, text or HTML. (The pages get the
// same check in the handlers' Korean tours.)
func TestMailInKoreanHasNoEnglish(t *testing.T) {
	ko := inLanguage("ko")
	const link = "https://gatehouse.example/accounts/reset/Mg/abc-123/"
	mails := map[string]Mail{
		"reset":      PasswordResetMail(ko, "정우", link, time.Hour, []string{"내 휴대폰"}),
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
		what := Msg(key, Args{"Email": "new@example.com", "Browser": "Firefox", "Address": "203.0.113.7", "Provider": "Kakao",
			"Name": "내 휴대폰", "Names": "“내 휴대폰”"})
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
			if left := i18ntest.EnglishLeft(text, SiteName, "Firefox", "Kakao"); len(left) > 0 {
				t.Errorf("%s, %s: English left: %q", name, part, left)
			}
		}
	}
	// The check finds what it is for.
	english := PasswordResetMail(context.Background(), "jeongwoo", link, time.Hour, nil)
	if left := i18ntest.EnglishLeft(english.Text, SiteName); len(left) == 0 {
		t.Error("the English mail passes as Korean")
	}
}
