// Package password hashes and verifies passwords and checks new ones against
// Django's four default validators.
package password

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// owaspMinimums are OWASP's argon2id configurations of equal strength
// (Password Storage Cheat Sheet): each trades memory for passes.
var owaspMinimums = []Params{
	{MemoryKiB: 46 * 1024, Time: 1, Threads: 1},
	{MemoryKiB: 19 * 1024, Time: 2, Threads: 1},
	{MemoryKiB: 12 * 1024, Time: 3, Threads: 1},
	{MemoryKiB: 9 * 1024, Time: 4, Threads: 1},
	{MemoryKiB: 7 * 1024, Time: 5, Threads: 1},
}

// Default is the one of OWASP's equal-strength minimums with the least
// memory: 7 MiB, five passes, one lane. It costs the CPU what 19 MiB with
// two passes does, and a login holds 12 MiB less while it hashes.
var Default = Params{MemoryKiB: 7 * 1024, Time: 5, Threads: 1}

// stronger reports whether p is stronger than stored: more memory or more
// passes, unless both meet OWASP's minimums, which OWASP holds equal (a
// Django hash of 19 MiB and two passes is kept, not rehashed sideways).
func (p Params) stronger(stored Params) bool {
	if p.MeetsOWASP() && stored.MeetsOWASP() {
		return false
	}
	return stored.MemoryKiB < p.MemoryKiB || stored.Time < p.Time
}

// MeetsOWASP reports whether p is at least one of OWASP's minimums.
func (p Params) MeetsOWASP() bool {
	for _, m := range owaspMinimums {
		if p.MemoryKiB >= m.MemoryKiB && p.Time >= m.Time && p.Threads >= m.Threads {
			return true
		}
	}
	return false
}

const (
	saltLen = 16
	keyLen  = 32

	// maxIterations bounds PBKDF2 rounds so a tampered row cannot hold a
	// login for minutes; Django's own default is about a million.
	maxIterations = 10_000_000
)

// ErrUnknownFormat is returned for an encoded hash this package cannot read.
var ErrUnknownFormat = errors.New("password: unknown hash format")

// b64 is the unpadded standard alphabet of the PHC string format that Django's
// argon2 hasher writes.
var b64 = base64.RawStdEncoding

// Hasher hashes with one set of argon2id parameters and verifies those
// hashes and Django's.
type Hasher struct {
	params Params
	run    func(work func()) error
}

// Option configures a Hasher.
type Option func(*Hasher)

// WithScheduler runs every key derivation through run, which may queue it,
// refuse it (returning an error) or run it elsewhere; it returns once work
// has finished or will never run.
func WithScheduler(run func(work func()) error) Option {
	return func(h *Hasher) { h.run = run }
}

// NewHasher returns a hasher using params that derives keys on the caller's
// goroutine unless a scheduler is given.
func NewHasher(params Params, opts ...Option) *Hasher {
	h := &Hasher{params: params, run: func(work func()) error { work(); return nil }}
	for _, opt := range opts {
		opt(h)
	}
	return h
}

// Hash returns the encoded argon2id hash of password with a fresh salt, in
// Django's format: argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: unable to read salt: %w", err)
	}
	key, err := h.derive(func() []byte { return h.key(password, salt) })
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("argon2$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether password matches encoded, and whether encoded should
// be replaced by a fresh Hash: another algorithm, or argon2id weaker than
// ours. It returns an error only when the scheduler refuses the work.
func (h *Hasher) Check(password, encoded string) (ok, upgrade bool, err error) {
	stored, err := h.decode(encoded)
	if err != nil {
		// Spend the same work as a real check, so a broken or unusable hash
		// does not answer faster than a wrong password.
		return false, false, h.SpendCheck(password)
	}
	got, err := h.derive(func() []byte { return stored.derive(password) })
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, stored.key) == 1
	return ok, ok && stored.upgrade, nil
}

// SpendCheck does the work of one Check against a hash that never matches,
// for callers that have no user to check: who exists is not revealed by timing.
func (h *Hasher) SpendCheck(password string) error {
	_, err := h.derive(func() []byte { return h.key(password, make([]byte, saltLen)) })
	return err
}

// key derives an argon2id key with the hasher's parameters.
func (h *Hasher) key(password string, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, keyLen)
}

// derive runs kdf through the scheduler.
func (h *Hasher) derive(kdf func() []byte) ([]byte, error) {
	var key []byte
	if err := h.run(func() { key = kdf() }); err != nil {
		return nil, fmt.Errorf("password: unable to derive key: %w", err)
	}
	return key, nil
}

// storedHash is an encoded hash taken apart: how to derive a key from a
// password, the key to compare it with, and whether a match needs a new Hash.
type storedHash struct {
	derive  func(password string) []byte
	key     []byte
	upgrade bool
}

// decode reads the hashes Django writes with its argon2 and PBKDF2 hashers.
func (h *Hasher) decode(encoded string) (storedHash, error) {
	algorithm, rest, _ := strings.Cut(encoded, "$")
	switch algorithm {
	case "argon2":
		return h.decodeArgon2(rest)
	case "pbkdf2_sha256":
		return decodePBKDF2(rest, sha256.New)
	case "pbkdf2_sha1":
		return decodePBKDF2(rest, sha1.New)
	case "bcrypt_sha256":
		return decodeBcrypt(rest, func(password string) []byte {
			sum := sha256.Sum256([]byte(password))
			return []byte(hex.EncodeToString(sum[:]))
		})
	case "bcrypt":
		return decodeBcrypt(rest, func(password string) []byte { return []byte(password) })
	}
	return storedHash{}, ErrUnknownFormat
}

// Verifiable reports whether Check can verify a password against encoded:
// one of Django's argon2, PBKDF2 or bcrypt hashes. An unusable password
// (Django's "!…") is not.
func Verifiable(encoded string) bool {
	_, err := (&Hasher{params: Default}).decode(encoded)
	return err == nil
}

// decodeArgon2 parses argon2id$v=19$m=…,t=…,p=…$salt$hash, or argon2i, which
// older Django wrote. A hash at least as strong as ours is kept: rehashing it
// with our parameters would weaken it.
func (h *Hasher) decodeArgon2(rest string) (storedHash, error) {
	parts := strings.Split(rest, "$")
	if len(parts) != 5 || (parts[0] != "argon2id" && parts[0] != "argon2i") || parts[1] != fmt.Sprintf("v=%d", argon2.Version) {
		return storedHash{}, ErrUnknownFormat
	}
	var p Params
	_, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads)
	if err != nil || parts[2] != fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads) {
		return storedHash{}, ErrUnknownFormat
	}
	// Bounds keep a tampered row from making a login allocate gigabytes.
	if p.MemoryKiB < 8 || p.MemoryKiB > 1<<21 || p.Time < 1 || p.Time > 64 || p.Threads < 1 {
		return storedHash{}, ErrUnknownFormat
	}
	salt, err1 := b64.DecodeString(parts[3])
	key, err2 := b64.DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return storedHash{}, ErrUnknownFormat
	}
	kdf := argon2.IDKey
	if parts[0] == "argon2i" {
		kdf = argon2.Key
	}
	return storedHash{
		derive: func(password string) []byte {
			return kdf([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
		},
		key:     key,
		upgrade: parts[0] != "argon2id" || h.params.stronger(p) || len(salt) < saltLen || len(key) < keyLen,
	}, nil
}

// maxBcryptCost bounds a stored bcrypt hash's cost (Django's default is 12;
// each step doubles the work): a tampered row must not stall a login.
const maxBcryptCost = 16

// decodeBcrypt parses the bcrypt hash ($2b$12$…) after Django's bcrypt or
// bcrypt_sha256 prefix; prepare turns the password into what bcrypt was
// given (bcrypt_sha256: the hex of its SHA-256, so long passwords count).
// bcrypt compares on its own, so the derived "key" is whether it matched.
// A match is always upgraded to argon2id.
func decodeBcrypt(rest string, prepare func(password string) []byte) (storedHash, error) {
	cost, err := bcrypt.Cost([]byte(rest))
	if err != nil || cost > maxBcryptCost {
		return storedHash{}, ErrUnknownFormat
	}
	matched := []byte{1}
	return storedHash{
		derive: func(password string) []byte {
			if bcrypt.CompareHashAndPassword([]byte(rest), prepare(password)) != nil {
				return []byte{0}
			}
			return matched
		},
		key:     matched,
		upgrade: true,
	}, nil
}

// decodePBKDF2 parses Django's <iterations>$<salt>$<base64 hash>, whose salt
// is used as text. A match is always upgraded to argon2id.
func decodePBKDF2(rest string, newHash func() hash.Hash) (storedHash, error) {
	parts := strings.Split(rest, "$")
	if len(parts) != 3 || parts[1] == "" {
		return storedHash{}, ErrUnknownFormat
	}
	iterations, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil || iterations < 1 || iterations > maxIterations {
		return storedHash{}, ErrUnknownFormat
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != newHash().Size() {
		return storedHash{}, ErrUnknownFormat
	}
	salt := []byte(parts[1])
	return storedHash{
		derive: func(password string) []byte {
			// Key fails only for lengths we ruled out, or for a short salt in
			// FIPS-only mode; a nil key then never matches.
			derived, _ := pbkdf2.Key(newHash, password, salt, int(iterations), len(key))
			return derived
		},
		key:     key,
		upgrade: true,
	}, nil
}

// Usable reports whether encoded can ever match a password: not empty and
// not Django's unusable mark ("!…").
func Usable(encoded string) bool {
	return encoded != "" && !strings.HasPrefix(encoded, "!")
}
