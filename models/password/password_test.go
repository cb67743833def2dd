package password

import (
	"strings"
	"testing"
)

var cheap = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestHashAndCheck(t *testing.T) {
	h := NewHasher(cheap, 2)
	encoded, err := h.Hash("s3cret passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "argon2$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoded hash %q does not name its algorithm and parameters", encoded)
	}
	if again, _ := h.Hash("s3cret passphrase"); again == encoded {
		t.Fatal("two hashes of one password are equal: no fresh salt")
	}
	if ok, outdated := h.Check("s3cret passphrase", encoded); !ok || outdated {
		t.Fatalf("Check(right) = %v, %v; want true, false", ok, outdated)
	}
	for _, wrong := range []string{"", "s3cret passphrasE", "s3cret passphrase "} {
		if ok, _ := h.Check(wrong, encoded); ok {
			t.Errorf("Check(%q) accepted a wrong password", wrong)
		}
	}
}

func TestCheckFlagsOldParameters(t *testing.T) {
	old := NewHasher(Params{MemoryKiB: 32, Time: 1, Threads: 1}, 1)
	encoded, _ := old.Hash("s3cret passphrase")
	if ok, outdated := NewHasher(cheap, 1).Check("s3cret passphrase", encoded); !ok || !outdated {
		t.Fatalf("Check of a hash with old parameters = %v, %v; want true, true", ok, outdated)
	}
}

func TestCheckRejectsBrokenHashes(t *testing.T) {
	h := NewHasher(cheap, 1)
	for _, encoded := range []string{
		"",
		"!",                                   // Django's unusable password
		"pbkdf2_sha256$870000$salt$hash",      // not this hasher's
		"argon2$argon2id$v=19$m=64,t=1,p=1$$", // no salt, no hash
		"argon2$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // 4 GiB
		"argon2$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",       // argon2i
	} {
		if ok, _ := h.Check("anything", encoded); ok {
			t.Errorf("Check accepted %q", encoded)
		}
	}
}

// TestDjangoArgon2Hash checks a hash in the format of Django's
// Argon2PasswordHasher with its parameters (m=102400, t=2, p=8), computed by
// the reference implementation (Debian's argon2):
//
//	echo -n password | argon2 thisisasalt -id -t 2 -k 102400 -p 8 -l 32 -e
func TestDjangoArgon2Hash(t *testing.T) {
	const django = "argon2$argon2id$v=19$m=102400,t=2,p=8$dGhpc2lzYXNhbHQ$M8L7O3C+OhVcjpbUSg2gCmDAvJeAODDRChWZ2qAgWwU"
	h := NewHasher(cheap, 1)
	if ok, outdated := h.Check("password", django); !ok || !outdated {
		t.Fatalf("Check(Django's hash) = %v, %v; want true, true", ok, outdated)
	}
}

func TestDefaultParameters(t *testing.T) {
	if Default.MemoryKiB < 19*1024 || Default.Time < 2 || Default.Threads < 1 {
		t.Fatalf("Default %+v is below OWASP's argon2id minimum", Default)
	}
	encoded, err := NewHasher(Default, 1).Hash("s3cret passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "argon2$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("production hash %q", encoded)
	}
	if ok, outdated := NewHasher(Default, 1).Check("s3cret passphrase", encoded); !ok || outdated {
		t.Fatal("the production hasher does not verify its own hash")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		password string
		user     User
		want     []string
	}{
		{"correct horse battery", User{Username: "alice"}, nil},
		{"short1!", User{}, []string{"This password is too short. It must contain at least 8 characters."}},
		{"password", User{}, []string{"This password is too common."}},
		{"PASSWORD", User{}, []string{"This password is too common."}},
		{"12345678", User{}, []string{"This password is too common.", "This password is entirely numeric."}},
		{"83749261057", User{}, []string{"This password is entirely numeric."}},
		{"alice2024!", User{Username: "alice"}, nil},
		{"alicealice", User{Username: "alice"}, nil}, // quick_ratio 0.67, under Django's 0.7
		{"alice-w9x", User{Username: "alice"}, []string{"The password is too similar to the username."}},
		{"liddell99", User{LastName: "Liddell"}, []string{"The password is too similar to the last name."}},
		{"alice.liddell", User{Email: "alice.liddell@example.com"}, []string{"The password is too similar to the email address."}},
		{"", User{}, []string{"This password is too short. It must contain at least 8 characters."}},
		{"ünïcødé!", User{}, nil}, // 8 characters, though more bytes
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			got := Validate(tt.password, tt.user)
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
