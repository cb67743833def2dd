package twofactor_test

import (
	"context"
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/password"
	"gatehouse/models/twofactor"
)

// codeAt is what an authenticator app shows for secret at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

type fixture struct {
	store *models.Store
	tf    *twofactor.Store
	users []*models.User
}

func setup(t *testing.T, engine dbtest.Engine) fixture {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, engine.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	secret, err := models.SecretKey(ctx, store.DB)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := twofactor.New(secret, "Gatehouse", password.NewHasher(password.Params{MemoryKiB: 64, Time: 1, Threads: 1}))
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{store: store, tf: tf}
	for _, name := range []string{"alice", "bob"} {
		u := &models.User{Username: name, Password: "x", IsActive: true}
		if err := models.CreateUser(ctx, store.DB, u); err != nil {
			t.Fatal(err)
		}
		f.users = append(f.users, u)
	}
	return f
}

// enable turns two-factor on for u at now and returns the secret and codes.
func (f fixture) enable(t *testing.T, u *models.User, now time.Time) (string, []string) {
	t.Helper()
	ctx := context.Background()
	s, err := f.tf.NewSetup(u.ID, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	codes, ok, err := f.tf.Enable(ctx, f.store.DB, u.ID, s.Sealed, codeAt(t, s.Secret, now), now)
	if err != nil || !ok {
		t.Fatalf("enable: ok %v, err %v", ok, err)
	}
	return s.Secret, codes
}

func TestTOTP(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			ctx := context.Background()
			f := setup(t, engine)
			alice := f.users[0]
			db := f.store.DB
			now := time.Date(2026, 12, 2, 10, 0, 15, 0, time.UTC)

			s, err := f.tf.NewSetup(alice.ID, alice.Username)
			if err != nil {
				t.Fatal(err)
			}
			if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s.Secret); err != nil || len(raw) != 20 {
				t.Fatalf("secret %q: %d bytes, %v", s.Secret, len(raw), err)
			}
			if !strings.HasPrefix(s.URL, "otpauth://totp/Gatehouse:alice?") {
				t.Fatalf("URL %q", s.URL)
			}
			// Each setup has a secret of its own; a sealed one opens again, for alice only.
			if again, err := f.tf.NewSetup(alice.ID, alice.Username); err != nil || again.Secret == s.Secret {
				t.Fatalf("two setups share the secret %q: %v", again.Secret, err)
			}
			if shown, err := f.tf.OpenSetup(alice.ID, alice.Username, s.Sealed); err != nil || shown.Secret != s.Secret {
				t.Fatalf("OpenSetup = %q, %v; want %q", shown.Secret, err, s.Secret)
			}
			if _, err := f.tf.OpenSetup(f.users[1].ID, alice.Username, s.Sealed); err == nil {
				t.Fatal("alice's sealed secret opened for bob")
			}
			if _, ok, err := f.tf.Enable(ctx, db, alice.ID, s.Sealed, "000000", now); ok || err != nil {
				if codeAt(t, s.Secret, now) != "000000" {
					t.Fatalf("a wrong code enabled: ok %v, err %v", ok, err)
				}
			}
			setupCode := codeAt(t, s.Secret, now)
			codes, ok, err := f.tf.Enable(ctx, db, alice.ID, s.Sealed, setupCode, now)
			if err != nil || !ok || len(codes) != twofactor.RecoveryCodeCount {
				t.Fatalf("enable: ok %v, %d codes, err %v", ok, len(codes), err)
			}
			// The secret is sealed at rest.
			var stored []byte
			if err := db.NewRaw("SELECT secret FROM two_factor WHERE user_id = ?", alice.ID).Scan(ctx, &stored); err != nil {
				t.Fatal(err)
			}
			raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s.Secret)
			if strings.Contains(string(stored), string(raw)) {
				t.Fatal("the secret is stored in the clear")
			}
			other, _ := f.tf.NewSetup(alice.ID, alice.Username)
			if _, _, err := f.tf.Enable(ctx, db, alice.ID, other.Sealed, codeAt(t, other.Secret, now), now); !errors.Is(err, twofactor.ErrEnabled) {
				t.Fatalf("enable while enabled: %v", err)
			}
			// The code that enabled it does not log in.
			if ok, err := f.tf.CheckCode(ctx, db, alice.ID, setupCode, now); ok || err != nil {
				t.Fatalf("the setup code was accepted again: %v %v", ok, err)
			}
			later := now.Add(2 * time.Minute)
			for _, tc := range []struct {
				name string
				at   time.Time
				want bool
			}{
				{"two steps behind", later.Add(-60 * time.Second), false},
				{"one step behind", later.Add(-30 * time.Second), true},
				{"replayed", later.Add(-30 * time.Second), false},
				{"current", later, true},
				{"replayed current", later, false},
				{"one step ahead", later.Add(30 * time.Second), true},
				{"two steps ahead", later.Add(90 * time.Second), false},
			} {
				ok, err := f.tf.CheckCode(ctx, db, alice.ID, codeAt(t, s.Secret, tc.at), later)
				if err != nil || ok != tc.want {
					t.Errorf("%s: ok %v, err %v; want %v", tc.name, ok, err, tc.want)
				}
			}
			// Another user's code is no code for alice.
			bob := f.users[1]
			bobSecret, _ := f.enable(t, bob, now)
			muchLater := later.Add(10 * time.Minute)
			if ok, _ := f.tf.CheckCode(ctx, db, alice.ID, codeAt(t, bobSecret, muchLater), muchLater); ok && codeAt(t, bobSecret, muchLater) != codeAt(t, s.Secret, muchLater) {
				t.Fatal("bob's code logged alice in")
			}
			// A sealed secret copied to another user's row does not open.
			if _, err := db.NewRaw("UPDATE two_factor SET secret = ? WHERE user_id = ?", stored, bob.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := f.tf.CheckCode(ctx, db, bob.ID, codeAt(t, s.Secret, muchLater), muchLater); err == nil {
				t.Fatal("a secret copied from another row opened")
			}
			was, err := twofactor.Disable(ctx, db, alice.ID)
			if err != nil || !was {
				t.Fatalf("disable: %v %v", was, err)
			}
			var n int
			if err := db.NewRaw("SELECT count(*) FROM recovery_codes WHERE user_id = ?", alice.ID).Scan(ctx, &n); err != nil || n != 0 {
				t.Fatalf("%d recovery codes left after disabling", n)
			}
			if ok, err := f.tf.CheckCode(ctx, db, alice.ID, codeAt(t, s.Secret, muchLater), muchLater); ok || !errors.Is(err, twofactor.ErrNotEnabled) {
				t.Fatalf("a code after disabling: %v %v", ok, err)
			}
		})
	}
}

func TestRecoveryCodes(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			ctx := context.Background()
			f := setup(t, engine)
			alice, bob := f.users[0], f.users[1]
			db := f.store.DB
			now := time.Now()
			_, codes := f.enable(t, alice, now)
			seen := map[string]bool{}
			for _, code := range codes {
				if len(code) != 11 || code[5] != '-' || seen[code] {
					t.Fatalf("code %q (duplicate %v)", code, seen[code])
				}
				seen[code] = true
			}
			var hashes []string
			if err := db.NewRaw("SELECT code_hash FROM recovery_codes WHERE user_id = ?", alice.ID).Scan(ctx, &hashes); err != nil {
				t.Fatal(err)
			}
			for _, h := range hashes {
				for _, code := range codes {
					if strings.Contains(h, strings.ReplaceAll(code, "-", "")) {
						t.Fatal("a recovery code is stored in the clear")
					}
				}
			}
			sealed := f.tf.SealCodes(alice.ID, codes)
			if strings.Contains(string(sealed), codes[0]) {
				t.Fatal("sealed codes are readable")
			}
			if opened, err := f.tf.OpenCodes(alice.ID, sealed); err != nil || strings.Join(opened, " ") != strings.Join(codes, " ") {
				t.Fatalf("opened %q, %v", opened, err)
			}
			if _, err := f.tf.OpenCodes(bob.ID, sealed); err == nil {
				t.Fatal("alice's sealed codes opened for bob")
			}
			f.enable(t, bob, now)
			if ok, _, err := f.tf.UseRecoveryCode(ctx, db, bob.ID, codes[0]); ok || err != nil {
				t.Fatalf("alice's code worked for bob: %v %v", ok, err)
			}
			// Typed in capitals, without the hyphen, with an O for a 0.
			typed := strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(codes[0], "-", " "), "0", "o"))
			ok, left, err := f.tf.UseRecoveryCode(ctx, db, alice.ID, typed)
			if err != nil || !ok || left != 9 {
				t.Fatalf("use %q: ok %v, left %d, err %v", typed, ok, left, err)
			}
			if ok, _, err := f.tf.UseRecoveryCode(ctx, db, alice.ID, codes[0]); ok || err != nil {
				t.Fatalf("a used code worked again: %v %v", ok, err)
			}
			for _, bad := range []string{"", "12345", strings.Repeat("z", 500), "!!!!!-!!!!!"} {
				if ok, _, err := f.tf.UseRecoveryCode(ctx, db, alice.ID, bad); ok || err != nil {
					t.Fatalf("%q: %v %v", bad, ok, err)
				}
			}
			fresh, err := f.tf.RegenerateRecoveryCodes(ctx, db, alice.ID, now)
			if err != nil || len(fresh) != twofactor.RecoveryCodeCount {
				t.Fatalf("regenerate: %d, %v", len(fresh), err)
			}
			if ok, _, _ := f.tf.UseRecoveryCode(ctx, db, alice.ID, codes[1]); ok {
				t.Fatal("an old code worked after regenerating")
			}
			status, err := twofactor.StatusOf(ctx, db, alice.ID)
			if err != nil || !status.Enabled || status.RecoveryCodes != 10 {
				t.Fatalf("status %+v, %v", status, err)
			}
			if _, err := twofactor.Disable(ctx, db, alice.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.tf.RegenerateRecoveryCodes(ctx, db, alice.ID, now); !errors.Is(err, twofactor.ErrNotEnabled) {
				t.Fatalf("regenerate while off: %v", err)
			}
		})
	}
}

func TestCleanPasskeyName(t *testing.T) {
	for in, want := range map[string]string{
		"  Laptop  ":            "Laptop",
		"Work\tphone\n":         "Work phone",
		"Key\u202eyek":          "Keyyek",
		"\u2066Phone\u2069":     "Phone",
		strings.Repeat("é", 70): strings.Repeat("é", twofactor.PasskeyNameMaxLength),
	} {
		if got := twofactor.CleanPasskeyName(in); got != want {
			t.Errorf("CleanPasskeyName(%q) = %q, want %q", in, got, want)
		}
	}
}
