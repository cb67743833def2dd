package password

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		password string
		user     User
		want     []string
	}{
		{"correct horse battery", User{Username: "alice"}, nil},
		{"short1!", User{}, []string{TooShort}},
		{"password", User{}, []string{TooCommon}},
		{"PASSWORD", User{}, []string{TooCommon}},
		{"12345678", User{}, []string{TooCommon, EntirelyNumeric}},
		{"83749261057", User{}, []string{EntirelyNumeric}},
		{"alice2024!", User{Username: "alice"}, nil},
		{"alicealice", User{Username: "alice"}, nil}, // quick_ratio 0.67, under Django's 0.7
		{"alice-w9x", User{Username: "alice"}, []string{TooSimilarUsername}},
		{"liddell99", User{LastName: "Liddell"}, []string{TooSimilarLastName}},
		{"alice-w9x", User{FirstName: "Alice"}, []string{TooSimilarFirstName}},
		{"alice.liddell", User{Email: "alice.liddell@example.com"}, []string{TooSimilarEmail}},
		{"", User{}, []string{TooShort}},
		{"ünïcødé!", User{}, nil}, // 8 characters, though more bytes
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			var got []string
			for _, problem := range Validate(tt.password, tt.user) {
				got = append(got, problem.Code)
				if (problem.Code == TooShort) != (problem.Min == MinLength) {
					t.Errorf("%s carries min %d", problem.Code, problem.Min)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Validate(%q, %+v) = %q, want %q", tt.password, tt.user, got, tt.want)
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	if n := len(commonPasswordLines); n < 20000 {
		t.Fatalf("%d common passwords, want at least 20,000", n)
	}
	for i := 1; i < len(commonPasswordLines); i++ {
		if previous, line := commonPassword(i-1), commonPassword(i); previous >= line || line != strings.ToLower(line) {
			t.Fatalf("common-passwords.txt is not sorted, unique and lower case at line %d: %q after %q", i+1, line, previous)
		}
	}
	for _, password := range []string{commonPassword(0), commonPassword(len(commonPasswordLines) - 1), "dragon", "Dragon", " dragon "} {
		if !isCommon(password) {
			t.Errorf("%q is not found", password)
		}
	}
	if isCommon("correct horse battery staple zebra") {
		t.Error("a long passphrase counts as common")
	}
}

func TestQuickRatioMatchesPython(t *testing.T) {
	// Values from Python: difflib.SequenceMatcher(a=a, b=b).quick_ratio()
	tests := []struct {
		a, b string
		want float64
	}{
		{"abcd", "bcde", 0.75},
		{"alicealice", "alice", 2.0 * 5 / 15},
		{"liddell99", "liddell", 0.875},
		{"", "", 1},
		{"aaa", "a", 0.5},
	}
	for _, tt := range tests {
		if got := quickRatio(tt.a, tt.b); got != tt.want {
			t.Errorf("quickRatio(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
