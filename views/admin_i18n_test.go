package views

import (
	"strings"
	"testing"

	"gatehouse/models"
)

// TestAdminKeysMadeInCodeExist checks the admin's keys the code builds
// from the models' names rather than writes: each order of the user list,
// each action of the admin log, each kind of object it is about, and the
// links of the admin's navigation.
func TestAdminKeysMadeInCodeExist(t *testing.T) {
	var keys []string
	for _, s := range models.UserSorts {
		keys = append(keys, "admin.sort."+s.Name)
	}
	for _, a := range models.AdminActions {
		keys = append(keys, "admin.action."+a)
	}
	for _, o := range []string{models.ObjectUser, models.ObjectArticle} {
		keys = append(keys, "admin.object."+o)
	}
	for _, p := range adminPages {
		keys = append(keys, p.label)
	}
	if len(keys) < 20 {
		t.Fatalf("only %d keys: the models' lists were not found", len(keys))
	}
	for _, l := range Languages() {
		for _, key := range keys {
			if !l.HasMessage(key) {
				t.Errorf("%s.toml lacks %q", l.Code(), key)
			}
		}
	}
}

// TestAdminWordsInEnglishAndKorean checks a few of the admin's words as
// each language says them, and that a name from a later version shows as
// it is.
func TestAdminWordsInEnglishAndKorean(t *testing.T) {
	en, ko := inLanguage("en"), inLanguage("ko")
	for _, tt := range []struct{ got, want string }{
		{actionLabel(en, models.ActionDisconnect), "Disconnected another site"},
		{actionLabel(ko, models.ActionDisconnect), "다른 사이트 연결 해제"},
		{actionLabel(ko, "someday"), "someday"},
		{sortLabel(en, "joined"), "Newest first"},
		{sortLabel(ko, "username"), "아이디순"},
		{objectLabel(en, models.ObjectArticle), "article"},
		{objectLabel(ko, models.ObjectUser), "사용자"},
		{TN(en, "admin.users.total", 1), "1 user"},
		{TN(en, "admin.users.total", 3), "3 users"},
		{TN(ko, "admin.users.total", 3), "사용자 3명"},
		{bulkQuestion(en, "deactivate", 2), "Deactivate 2 users?"},
		{usersTitle(en, 2), "Users, page 2"},
		{orNone(en, ""), "none"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestNameOrder checks that a full name, and the forms that ask for one,
// follow the language: Korean writes the family name first.
func TestNameOrder(t *testing.T) {
	u := &models.User{FirstName: "민수", LastName: "김"}
	if got := fullName(inLanguage("ko"), u); got != "김 민수" {
		t.Errorf("ko: %q", got)
	}
	if got := fullName(inLanguage("en"), &models.User{FirstName: "Alice", LastName: "Liddell"}); got != "Alice Liddell" {
		t.Errorf("en: %q", got)
	}
	for code, want := range map[string][]string{"ko": {"last_name", "first_name"}, "en": {"first_name", "last_name"}} {
		html := render(t, inLanguage(code), ProfileFormView(NewProfileForm(u)))
		if strings.Index(html, `name="`+want[0]+`"`) > strings.Index(html, `name="`+want[1]+`"`) {
			t.Errorf("%s: the profile asks for %s after %s", code, want[0], want[1])
		}
	}
}
