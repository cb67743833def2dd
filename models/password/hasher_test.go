package password

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

var cheap = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestHashAndCheck(t *testing.T) {
	h := NewHasher(cheap)
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
	if ok, upgrade, err := h.Check("s3cret passphrase", encoded); !ok || upgrade || err != nil {
		t.Fatalf("Check(right) = %v, %v, %v; want true, false, nil", ok, upgrade, err)
	}
	for _, wrong := range []string{"", "s3cret passphrasE", "s3cret passphrase "} {
		if ok, upgrade, err := h.Check(wrong, encoded); ok || upgrade || err != nil {
			t.Errorf("Check(%q) = %v, %v, %v; want false, false, nil", wrong, ok, upgrade, err)
		}
	}
}

// Django's own test vectors, from tests/auth_tests/test_hashers.py in
// github.com/django/django: the 390000-iteration PBKDF2 and the argon2 ones at
// commit 02dbf1667c6da61ea9346f7c9f174a158b896811 (test_pbkdf2,
// test_low_level_pbkdf2, test_low_level_pbkdf2_sha1, test_argon2,
// test_argon2_version_upgrade), the 30000-iteration ones at commit
// d7087c398d7234b0a49417ce9409cd6c7807e86f (test_pbkdf2,
// test_low_level_pbkdf2_sha1).
var djangoVectors = []struct {
	password, encoded string
}{
	{"lètmein", "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c="},
	{"lètmein", "pbkdf2_sha256$390000$seasalt2$geC/uZ92nRXDSjSxeoiBqYyRcrLzMm8xK3ro1QS1uo8="},
	{"lètmein", "pbkdf2_sha1$390000$seasalt2$aDapRanzW8aHTz97v2TcfHzWD+I="},
	{"lètmein", "pbkdf2_sha256$30000$seasalt$VrX+V8drCGo68wlvy6rfu8i1d1pfkdeXA4LJkRGJodY="},
	{"lètmein", "pbkdf2_sha1$30000$seasalt2$pMzU1zNPcydf6wjnJFbiVKwgULc="},
	{"secret", "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw"},
	{"secret", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q"},
	// Not Django's: Django's argon2 parameters with a 32-byte key, from the
	// reference implementation (Debian's argon2):
	//   echo -n password | argon2 thisisasalt -id -t 2 -k 102400 -p 8 -l 32 -e
	{"password", "argon2$argon2id$v=19$m=102400,t=2,p=8$dGhpc2lzYXNhbHQ$M8L7O3C+OhVcjpbUSg2gCmDAvJeAODDRChWZ2qAgWwU"},
	// Django 3.2's make_password with its bcrypt_sha256 and bcrypt hashers
	// (Debian's python3-django and python3-bcrypt); the second password is
	// longer than bcrypt's 72 bytes, which bcrypt_sha256 exists for.
	{"s3cret passphrase", "bcrypt_sha256$$2b$12$2zpfMrP.nthj/9Cyn3cRJuZOgdaTqlu5xKsotYeLFqWzdjjMpGCeW"},
	{strings.Repeat("x", 100), "bcrypt_sha256$$2b$12$V5vOyV2TUcshWedskH23Qequrw4HfsJUV9HwrcpH9MKmkRPPtg09."},
	{"s3cret passphrase", "bcrypt$$2b$12$sh0tr97h1MIpuCXFPGtdfO/gOAAIXmye28jy/mu6bzIkGVXV3pcdu"},
}

// TestVerifiable tells the hashes Check reads from those it cannot: the
// unusable password Django sets, and algorithms Gatehouse does not verify.
func TestVerifiable(t *testing.T) {
	for _, v := range djangoVectors {
		if !Verifiable(v.encoded) {
			t.Errorf("Verifiable(%q) = false", v.encoded)
		}
	}
	for _, encoded := range []string{
		"", "!", "!T8fDw1ZBXcRQmI0m0wYz3ffsL5MYn0zbSFrPHGY8",
		"md5$seasalt$94a10ae1d5d49f2f5b25a6b2a8f4d5e1", "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8",
		"unsalted_md5$5f4dcc3b5aa765d61d8327deb882cf99", "crypt$$abN/qM.L/H8EQ",
		"bcrypt_sha256$$2b$31$2zpfMrP.nthj/9Cyn3cRJuZOgdaTqlu5xKsotYeLFqWzdjjMpGCeW", // cost 31
		"bcrypt$not-a-bcrypt-hash",
	} {
		if Verifiable(encoded) {
			t.Errorf("Verifiable(%q) = true", encoded)
		}
	}
}

func TestCheckDjangoVectors(t *testing.T) {
	h := NewHasher(Default)
	for _, v := range djangoVectors {
		t.Run(v.encoded, func(t *testing.T) {
			t.Parallel()
			// Every one is upgraded: another algorithm, or a salt or key
			// shorter than ours.
			if ok, upgrade, err := h.Check(v.password, v.encoded); !ok || !upgrade || err != nil {
				t.Errorf("Check(right) = %v, %v, %v; want true, true, nil", ok, upgrade, err)
			}
			if ok, upgrade, err := h.Check(v.password+"z", v.encoded); ok || upgrade || err != nil {
				t.Errorf("Check(wrong) = %v, %v, %v; want false, false, nil", ok, upgrade, err)
			}
		})
	}
}

// encodeArgon2id writes a hash in Django's format with any salt and key length.
func encodeArgon2id(password, salt string, p Params, keyLength uint32) string {
	key := argon2.IDKey([]byte(password), []byte(salt), p.Time, p.MemoryKiB, p.Threads, keyLength)
	return fmt.Sprintf("argon2$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString([]byte(salt)), b64.EncodeToString(key))
}

func TestCheckUpgradesOnlyWeakerHashes(t *testing.T) {
	ours := Params{MemoryKiB: 64, Time: 2, Threads: 2}
	salt := "Xo3kQ9vLr2TnW8cYb5HzA1" // Django's salts are 22 characters
	tests := []struct {
		name        string
		encoded     string
		wantUpgrade bool
	}{
		{"ours", encodeArgon2id("pw", salt, ours, keyLen), false},
		{"more memory", encodeArgon2id("pw", salt, Params{MemoryKiB: 128, Time: 2, Threads: 2}, keyLen), false},
		{"more time", encodeArgon2id("pw", salt, Params{MemoryKiB: 64, Time: 3, Threads: 2}, keyLen), false},
		{"fewer lanes", encodeArgon2id("pw", salt, Params{MemoryKiB: 64, Time: 2, Threads: 1}, keyLen), false},
		{"more lanes", encodeArgon2id("pw", salt, Params{MemoryKiB: 64, Time: 2, Threads: 8}, keyLen), false},
		{"longer key", encodeArgon2id("pw", salt, ours, 64), false},
		{"less memory", encodeArgon2id("pw", salt, Params{MemoryKiB: 32, Time: 2, Threads: 2}, keyLen), true},
		{"less time", encodeArgon2id("pw", salt, Params{MemoryKiB: 64, Time: 1, Threads: 2}, keyLen), true},
		{"shorter salt", encodeArgon2id("pw", "8bytesal", ours, keyLen), true},
		{"shorter key", encodeArgon2id("pw", salt, ours, 16), true},
	}
	h := NewHasher(ours)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, upgrade, err := h.Check("pw", tt.encoded); !ok || upgrade != tt.wantUpgrade || err != nil {
				t.Errorf("Check(%q) = %v, %v, %v; want true, %v, nil", tt.encoded, ok, upgrade, err, tt.wantUpgrade)
			}
		})
	}
}

// TestCheckKeepsDjangosDefault checks that a hash from Django's
// Argon2PasswordHasher (m=102400, t=2, p=8, a 22-character salt, a 32-byte
// key) is kept by the production hasher: rehashing it would weaken it.
func TestCheckKeepsDjangosDefault(t *testing.T) {
	django := encodeArgon2id("s3cret passphrase", "aB3dE5gH7jK9mN1pQ3sT5v", Params{MemoryKiB: 102400, Time: 2, Threads: 8}, 32)
	if ok, upgrade, err := NewHasher(Default).Check("s3cret passphrase", django); !ok || upgrade || err != nil {
		t.Fatalf("Check = %v, %v, %v; want true, false, nil", ok, upgrade, err)
	}
}

// TestCheckKeepsEqualStrength: a hash at another of OWASP's equal-strength
// minimums is kept by the production hasher; one below them is rehashed.
func TestCheckKeepsEqualStrength(t *testing.T) {
	salt := "Xo3kQ9vLr2TnW8cYb5HzA1"
	for _, tt := range []struct {
		p           Params
		wantUpgrade bool
	}{
		{Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}, false},
		{Params{MemoryKiB: 12 * 1024, Time: 3, Threads: 1}, false},
		{Params{MemoryKiB: 19 * 1024, Time: 1, Threads: 1}, true},
		{Params{MemoryKiB: 7 * 1024, Time: 4, Threads: 1}, true},
	} {
		encoded := encodeArgon2id("pw", salt, tt.p, keyLen)
		if ok, upgrade, err := NewHasher(Default).Check("pw", encoded); !ok || upgrade != tt.wantUpgrade || err != nil {
			t.Errorf("%+v: Check = %v, %v, %v; want true, %v, nil", tt.p, ok, upgrade, err, tt.wantUpgrade)
		}
	}
}

func TestCheckRejectsBrokenHashes(t *testing.T) {
	derivations := 0
	h := NewHasher(cheap, WithScheduler(func(work func()) error { derivations++; work(); return nil }))
	for _, encoded := range []string{
		"",
		"!",                                    // Django's unusable password
		"bcrypt_sha256$$2b$12$abcdefghijklmno", // a hasher we do not read
		"argon2$argon2id$v=19$m=64,t=1,p=1$$",  // no salt, no hash
		"argon2$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // 4 GiB
		"argon2$argon2id$v=19$m=64,t=65,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",     // 65 passes
		"argon2$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",      // no lanes
		"argon2$argon2id$v=19$m=64,t=1,p=256$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",    // lanes overflow uint8
		"argon2$argon2id$v=19$m=64,t=1,p=1,x=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",  // trailing text
		"argon2$argon2id$v=19$m=+64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",     // not as we write it
		"argon2$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",      // argon2 1.0
		"argon2$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",       // argon2d
		// Django's argon2i without a version (argon2 1.0), from test_argon2:
		// golang.org/x/crypto/argon2 computes only 1.3.
		"argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg",
		"pbkdf2_sha256$0$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",        // no iterations
		"pbkdf2_sha256$10000001$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", // too many
		"pbkdf2_sha256$-1$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
		"pbkdf2_sha256$390000$$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",         // no salt
		"pbkdf2_sha256$390000$sea$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", // $ in salt
		"pbkdf2_sha256$390000$seasalt$aDapRanzW8aHTz97v2TcfHzWD+I=",                  // SHA-1's length
		"pbkdf2_sha256$390000$seasalt$not base64",
		"pbkdf2_sha512$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
	} {
		derivations = 0
		if ok, upgrade, err := h.Check("lètmein", encoded); ok || upgrade || err != nil {
			t.Errorf("Check(%q) = %v, %v, %v; want false, false, nil", encoded, ok, upgrade, err)
		}
		// A broken hash costs one of our hashes, as a wrong password does.
		if derivations != 1 {
			t.Errorf("Check(%q) derived %d keys, want 1", encoded, derivations)
		}
	}
}

func TestSchedulerRunsEveryDerivation(t *testing.T) {
	derivations := 0
	h := NewHasher(cheap, WithScheduler(func(work func()) error { derivations++; work(); return nil }))
	encoded, err := h.Hash("s3cret passphrase")
	if err != nil || derivations != 1 {
		t.Fatalf("Hash: %d derivations, error %v; want 1, nil", derivations, err)
	}
	if ok, _, err := h.Check("s3cret passphrase", encoded); !ok || err != nil || derivations != 2 {
		t.Fatalf("Check: ok %v, %d derivations, error %v; want true, 2, nil", ok, derivations, err)
	}
	if err := h.SpendCheck("s3cret passphrase"); err != nil || derivations != 3 {
		t.Fatalf("SpendCheck: %d derivations, error %v; want 3, nil", derivations, err)
	}
}

func TestSchedulerErrorsReachTheCaller(t *testing.T) {
	errRefused := errors.New("refused")
	valid, err := NewHasher(cheap).Hash("s3cret passphrase")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(cheap, WithScheduler(func(func()) error { return errRefused }))
	if _, err := h.Hash("s3cret passphrase"); !errors.Is(err, errRefused) {
		t.Errorf("Hash error = %v, want %v", err, errRefused)
	}
	for _, encoded := range []string{valid, "!"} {
		if ok, upgrade, err := h.Check("s3cret passphrase", encoded); ok || upgrade || !errors.Is(err, errRefused) {
			t.Errorf("Check(%q) = %v, %v, %v; want false, false, %v", encoded, ok, upgrade, err, errRefused)
		}
	}
	if err := h.SpendCheck("s3cret passphrase"); !errors.Is(err, errRefused) {
		t.Errorf("SpendCheck error = %v, want %v", err, errRefused)
	}
}

func TestDefaultParameters(t *testing.T) {
	if !Default.MeetsOWASP() {
		t.Fatalf("Default %+v is below OWASP's argon2id minimums", Default)
	}
	for _, p := range []Params{{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}, {MemoryKiB: 64 * 1024, Time: 1, Threads: 4}} {
		if !p.MeetsOWASP() {
			t.Errorf("%+v does not meet OWASP's minimums, but should", p)
		}
	}
	for _, p := range []Params{{MemoryKiB: 19 * 1024, Time: 1, Threads: 1}, {MemoryKiB: 6 * 1024, Time: 5, Threads: 1}, {MemoryKiB: 12 * 1024, Time: 2, Threads: 1}} {
		if p.MeetsOWASP() {
			t.Errorf("%+v meets OWASP's minimums, but should not", p)
		}
	}
	encoded, err := NewHasher(Default).Hash("s3cret passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "argon2$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Fatalf("production hash %q", encoded)
	}
	if ok, upgrade, err := NewHasher(Default).Check("s3cret passphrase", encoded); !ok || upgrade || err != nil {
		t.Fatal("the production hasher does not verify its own hash")
	}
}
