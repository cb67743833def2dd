package views

import (
	"testing"
	"time"

	"gatehouse/models"
)

// TestEventWhat checks the security log's entries in both languages: a
// detail kept as a code is worded in the reader's language (plural forms,
// a time of day, a browser, a trusted browser's login), a name the user
// gave is shown as given, and a detail from before codes as it is.
func TestEventWhat(t *testing.T) {
	until := time.Date(2026, 12, 7, 14, 5, 0, 0, time.UTC).Format(time.RFC3339)
	tests := []struct {
		kind   string
		detail string
		en, ko string
	}{
		{models.EventLogin, "", "Logged in", "로그인"},
		{models.EventLogin, models.NewDetail("login_passkey").String(), "Logged in (with a passkey)", "로그인 (패스키로)"},
		{models.EventLogin, models.NewDetail("login_provider", "Provider", "Kakao").With(models.DetailTrusted, "yes").String(),
			"Logged in (with Kakao from a trusted browser)", "로그인 (신뢰하는 브라우저에서 Kakao 계정으로)"},
		{models.EventRecoveryCodeUsed, models.NewDetail("recovery_codes_left", models.DetailCount, "1").String(),
			"Recovery code used (1 left)", "복구 코드 사용 (1개 남음)"},
		{models.EventRecoveryCodeUsed, models.NewDetail("recovery_codes_left", models.DetailCount, "9").String(),
			"Recovery code used (9 left)", "복구 코드 사용 (9개 남음)"},
		{models.EventThrottled, models.NewDetail("second_factor_locked_until", models.DetailUntil, until).String(),
			"Login refused: too many attempts (second factor locked until 14:05 UTC)", "로그인 차단: 시도 횟수 초과 (14:05 UTC까지 2단계 인증 차단)"},
		{models.EventSessionRevoked, models.NewDetail("session", models.DetailBrowser, "Firefox", models.DetailSystem, "Linux").String(),
			"Session ended: Firefox on Linux", "세션 종료: Firefox (Linux)"},
		{models.EventPasskeyAdded, models.NewDetail("named", "Name", "<내 키>").String(), "Passkey added: <내 키>", "패스키 추가: <내 키>"},
		{models.EventPasswordChanged, models.NewDetail("by_admin", "Admin", "root").String(),
			"Password changed (by an administrator, root)", "비밀번호 변경 (관리자 root)"},
		{models.EventLoginFailed, "wrong password on the profile form", // a row from before codes
			"Failed login attempt (wrong password on the profile form)", "로그인 실패 (wrong password on the profile form)"},
	}
	for _, tt := range tests {
		for _, want := range []struct{ code, text string }{{"en", tt.en}, {"ko", tt.ko}} {
			if got := EventWhat(inLanguage(want.code), tt.kind, tt.detail); got != want.text {
				t.Errorf("%s %s %q: %q, want %q", want.code, tt.kind, tt.detail, got, want.text)
			}
		}
	}
}

// TestAdminObjectRepr checks an admin log object named by a code (a
// deleted article, an import) in both languages, and a name recorded as
// it is shown as it is, a code-like one too.
func TestAdminObjectRepr(t *testing.T) {
	deleted := models.NewDetail("article_by", "Title", "Hello", "Author", "bob").String()
	imported := models.NewDetail("django_import", "People", "8", "Articles", "3", "PeopleUpdated", "1", "ArticlesUpdated", "0").String()
	for _, tt := range []struct{ stored, en, ko string }{
		{deleted, "“Hello” by bob", "bob의 글 “Hello”"},
		{imported, "8 people and 3 articles from Django (1 and 0 updated)", "Django에서 사용자 8명과 글 3개를 가져옴(기존 사용자 1명, 글 0개 갱신)"},
		{"alice", "alice", "alice"},
		{"~article_by", "~article_by", "~article_by"}, // a title, not a code
	} {
		if got := AdminObjectRepr(inLanguage("en"), tt.stored); got != tt.en {
			t.Errorf("en %q: %q, want %q", tt.stored, got, tt.en)
		}
		if got := AdminObjectRepr(inLanguage("ko"), tt.stored); got != tt.ko {
			t.Errorf("ko %q: %q, want %q", tt.stored, got, tt.ko)
		}
	}
}
