package views

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"gatehouse/models"
	"gatehouse/models/password"
)

// messageFiles parses every message file: language code → key → message.
func messageFiles(t *testing.T) map[string]map[string]*i18n.Message {
	t.Helper()
	files := map[string]map[string]*i18n.Message{}
	names, err := fs.Glob(localeFiles, "locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		data, err := fs.ReadFile(localeFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := i18n.ParseMessageFileBytes(data, name, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Fatal(err)
		}
		messages := map[string]*i18n.Message{}
		for _, m := range file.Messages {
			messages[m.ID] = m
		}
		files[file.Tag.String()] = messages
	}
	return files
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders lists the {{.Name}}s of every form of m.
func placeholders(m *i18n.Message) []string {
	var names []string
	for _, form := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		for _, match := range placeholder.FindAllStringSubmatch(form, -1) {
			if !slices.Contains(names, match[1]) {
				names = append(names, match[1])
			}
		}
	}
	sort.Strings(names)
	return names
}

// TestMessageFilesHaveTheSameKeys fails when a key is in one language's
// file and not in another's, when a translation uses a placeholder the
// English message does not give it, or when a message lacks the "other"
// form every language's plural rules end in.
func TestMessageFilesHaveTheSameKeys(t *testing.T) {
	files := messageFiles(t)
	source := files["en"]
	if len(files) < 2 || len(source) < 50 {
		t.Fatalf("%d message files, %d English messages: the files were not found", len(files), len(source))
	}
	for code, messages := range files {
		for key := range source {
			if messages[key] == nil {
				t.Errorf("%s.toml lacks %q, which en.toml has", code, key)
			}
		}
		for key, m := range messages {
			english := source[key]
			if english == nil {
				t.Errorf("%s.toml has %q, which en.toml lacks", code, key)
				continue
			}
			if m.Other == "" {
				t.Errorf("%s.toml: %q has no \"other\" form", code, key)
			}
			for _, name := range placeholders(m) {
				if name != "Site" && name != "Count" && !slices.Contains(placeholders(english), name) {
					t.Errorf("%s.toml: %q uses {{.%s}}, which the English message is not given", code, key, name)
				}
			}
		}
	}
}

// keyUse finds message keys written literally in code: t(ctx, "…"),
// tn(…), views.T(…), views.TN(…), Msg("…") and MsgN("…"), with any
// expression as the context; and models.NewDetail("…"), the code of a
// security log detail or an admin log object, worded by its [event_detail]
// or [admin.repr] message.
var keyUse = regexp.MustCompile(`\b(?:t|tn|T|TN)\((?:[^(),"]|\([^()]*\))*,\s*"([^"]+)"|\bMsgN?\(\s*"([^"]+)"|\bNewDetail\(\s*"([^"]+)"`)

// detailKey marks, among the keys found, the code of a models.Detail.
const detailKey = "detail:"

var comment = regexp.MustCompile(`(?m)^\s*//.*$`)

// TestKeysUsedInCodeExist fails when a message key that the code names
// literally is missing from a message file.
func TestKeysUsedInCodeExist(t *testing.T) {
	root := ".."
	used := map[string][]string{} // key → files
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".templ") && (!strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		code := comment.ReplaceAllString(string(data), "") // examples in doc comments are no use
		for _, match := range keyUse.FindAllStringSubmatch(code, -1) {
			key := match[1] + match[2]
			if match[3] != "" {
				key = detailKey + match[3]
			}
			used[key] = append(used[key], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"layout.skip", "form.required", "error.csrf", "mail.reset.subject", detailKey + "reset_by_mail"} {
		if used[key] == nil {
			t.Fatalf("the scan did not find %q in the code: the pattern no longer matches how keys are written", key)
		}
	}
	for _, l := range Languages() {
		for key, files := range used {
			if code, ok := strings.CutPrefix(key, detailKey); ok {
				// A security log detail's or an admin log object's words.
				if !l.HasMessage("event_detail."+code) && !l.HasMessage("admin.repr."+code) {
					t.Errorf("%s.toml lacks event_detail.%s or admin.repr.%s, used in %s", l.Code(), code, code, strings.Join(slices.Compact(files), ", "))
				}
				continue
			}
			if !l.HasMessage(key) {
				t.Errorf("%s.toml lacks %q, used in %s", l.Code(), key, strings.Join(slices.Compact(files), ", "))
			}
		}
	}
}

// TestKeysMadeInCodeExist checks the keys the code builds rather than
// writes: the models' codes, the security log's kinds, error statuses.
func TestKeysMadeInCodeExist(t *testing.T) {
	keys := []string{
		models.UsernameInvalid, models.UsernameDuplicate,
		password.TooSimilarUsername, password.TooSimilarFirstName, password.TooSimilarLastName,
		password.TooSimilarEmail, password.TooShort, password.TooCommon, password.EntirelyNumeric,
		"duration.days", "duration.hours", "duration.minutes", "duration.seconds",
		dateDay, dateDayTime, dateClock,
	}
	for _, kind := range []string{
		models.EventLogin, models.EventLoginFailed, models.EventThrottled, models.EventLogout,
		models.EventPasswordChanged, models.EventEmailChanged, models.EventSessionRevoked,
		models.EventProfileChanged, models.EventSignup, models.EventTwoFactorEnabled,
		models.EventTwoFactorDisabled, models.EventTwoFactorFailed, models.EventRecoveryCodeUsed,
		models.EventRecoveryCodesRenewed, models.EventPasskeyAdded, models.EventPasskeyRemoved,
	} {
		keys = append(keys, "event."+kind)
	}
	for _, status := range []string{"400", "403", "404", "405", "413", "429", "4xx", "5xx"} {
		keys = append(keys, "error."+status+".title", "error."+status+".message")
	}
	for _, l := range Languages() {
		for _, key := range keys {
			if !l.HasMessage(key) {
				t.Errorf("%s.toml lacks %q", l.Code(), key)
			}
		}
	}
	if got := UsernameProblem(models.UsernameTooLong, strings.Repeat("가", 151)).In(context.Background()); got != "Ensure this value has at most 150 characters (it has 151)." {
		t.Errorf("too long a username: %q", got)
	}
}

func inLanguage(code string) context.Context {
	return WithLanguage(context.Background(), LanguageByCode(code))
}

const firefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

func TestTranslate(t *testing.T) {
	en, ko := inLanguage("en"), inLanguage("ko")
	tests := []struct {
		ctx  context.Context
		got  string
		want string
	}{
		{en, T(en, "field.username"), "Username"},
		{ko, T(ko, "field.username"), "아이디"},
		{context.Background(), T(context.Background(), "field.username"), "Username"},
		// CLDR plurals: English has one and other, Korean only other.
		{en, TN(en, "password.too_short", 1), "This password is too short. It must contain at least 1 character."},
		{en, TN(en, "password.too_short", 8), "This password is too short. It must contain at least 8 characters."},
		{ko, TN(ko, "password.too_short", 1), "비밀번호가 너무 짧습니다. 1자 이상 입력하세요."},
		{en, MsgN("form.max_length", 100, Args{"Length": 101}).In(en), "Ensure this value has at most 100 characters (it has 101)."},
		{ko, MsgN("form.max_length", 100, Args{"Length": 101}).In(ko), "100자 이하로 입력하세요. (지금 101자)"},
		{en, T(en, "mail.reset.subject"), "Reset your Gatehouse password"},
		{en, duration(en, 60*60*1e9), "an hour"},
		{ko, duration(ko, 2*60*60*1e9), "2시간"},
		{ko, T(ko, "mail.greeting", Args{"Username": "<정우>"}), "<정우> 님, 안녕하세요."},
		{en, Device(en, firefoxLinux), "Firefox on Linux"},
		{ko, Device(ko, firefoxLinux), "Firefox (Linux)"},
		{en, Device(en, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"), "Unknown browser on macOS"},
		{ko, Device(ko, ""), "알 수 없는 기기"},
		{ko, Device(ko, "curl/8.5.0"), "curl"},
		// A User-Agent as an argument is worded in the message's language.
		{ko, Msg("mail.notice.new_login.body", Args{"Browser": UserAgent(firefoxLinux), "Address": "203.0.113.7"}).In(ko),
			"처음 사용하는 브라우저에서 계정에 로그인되었습니다. 브라우저: Firefox (Linux), IP 주소: 203.0.113.7"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", LanguageOf(tt.ctx).Code(), tt.got, tt.want)
		}
	}
}

// TestMissingKeyIsLoud checks that a key no file holds shows marked, for
// the tests that read pages to find, and never as silence.
func TestMissingKeyIsLoud(t *testing.T) {
	for _, l := range Languages() {
		ctx := WithLanguage(context.Background(), l)
		for _, got := range []string{T(ctx, "no.such.key"), TN(ctx, "no.such.key", 2), Msg("no.such.key").In(ctx)} {
			if !strings.Contains(got, MissingMark+"no.such.key") {
				t.Errorf("%s: a missing key shows as %q", l.Code(), got)
			}
		}
	}
}

func TestMatchLanguage(t *testing.T) {
	tests := []struct {
		header string
		want   string // "" for none
	}{
		{"ko", "ko"},
		{"ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"},
		{"en-US,en;q=0.9", "en"},
		{"en;q=0.5, ko;q=0.8", "ko"},
		{"fr-FR, ko;q=0.3", "ko"},  // the first it can serve
		{"ko;q=0, en;q=0.1", "en"}, // q=0: not acceptable
		{"fr, de;q=0.9", ""},       // none it speaks: the site's default
		{"ja", ""},
		{"", ""},
		{"*", ""},
		{";;;,,,q=x", ""},                   // malformed
		{"ko-KR;q=abc", ""},                 // malformed weight
		{strings.Repeat("ko-KR,", 500), ""}, // too long to read
		{"\xff\xfe", ""},                    // not text
		{"zh-Hant-TW, ko-Kore-KR;q=0.5", "ko"},
	}
	for _, tt := range tests {
		got := ""
		if l := MatchLanguage(tt.header); l != nil {
			got = l.Code()
		}
		if got != tt.want {
			t.Errorf("MatchLanguage(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestLanguages(t *testing.T) {
	var codes, names []string
	for _, l := range Languages() {
		codes, names = append(codes, l.Code()), append(names, l.Name)
	}
	if !slices.Equal(codes, []string{"en", "ko"}) || !slices.Equal(names, []string{"English", "한국어"}) {
		t.Errorf("languages %q named %q", codes, names)
	}
	if LanguageByCode("ko") == nil || LanguageByCode("KO") != nil || LanguageByCode("ko-KR") != nil || LanguageByCode("") != nil {
		t.Error("LanguageByCode takes only the codes of the files")
	}
}

func TestAdminLogChangesReadable(t *testing.T) {
	for _, tt := range []struct {
		code   string
		change models.FieldChange
		want   string
	}{
		{"en", models.FieldChange{Field: "is_active", From: "true", To: "false"}, "Active: yes → no"},
		{"en", models.FieldChange{Field: "email", From: "", To: "a@example.com"}, "Email address: (empty) → a@example.com"},
		{"en", models.FieldChange{Field: "two_factor", From: "on", To: "off"}, "Two-factor: on → off"},
		{"en", models.FieldChange{Field: models.FieldPassword}, "Password set"},
		{"ko", models.FieldChange{Field: "is_staff", From: "false", To: "true"}, "스태프: 아니요 → 예"},
	} {
		var line strings.Builder
		if err := changeLine(tt.change).Render(inLanguage(tt.code), &line); err != nil {
			t.Fatal(err)
		}
		if got := strings.NewReplacer("<bdi>", "", "</bdi>", "").Replace(line.String()); got != tt.want {
			t.Errorf("%s %+v reads %q, want %q", tt.code, tt.change, got, tt.want)
		}
	}
}

func TestOneSeverityForAnEvent(t *testing.T) {
	for kind, want := range map[string]bool{
		models.EventLoginFailed: true, models.EventThrottled: true, models.EventTwoFactorFailed: true,
		models.EventLogin: false, models.EventPasswordChanged: false,
	} {
		if EventWarning(kind) != want {
			t.Errorf("%s: warning %v, want %v", kind, !want, want)
		}
	}
}

func TestMailFitsAPhone(t *testing.T) {
	ctx := inLanguage("en")
	var html strings.Builder
	if err := PasswordResetMail(ctx, "alice", "http://127.0.0.1:3000/accounts/reset/MQ/token/", time.Hour, nil).HTML.Render(ctx, &html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
		t.Errorf("the HTML mail has no viewport meta:\n%s", html.String())
	}
}
