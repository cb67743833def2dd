// Package password hashes and verifies passwords and checks new ones against
// Django's four default validators.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Default is OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
var Default = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	prefix  = "argon2$argon2id$"
)

// ErrUnknownFormat is returned for an encoded hash this package cannot read.
var ErrUnknownFormat = errors.New("password: unknown hash format")

// b64 is the unpadded standard alphabet of the PHC string format that Django's
// argon2 hasher writes.
var b64 = base64.RawStdEncoding

// Hasher hashes with one set of parameters and caps how many hashes run at
// once, so a flood of logins queues instead of starving other requests of
// CPU and memory.
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a hasher using params that runs at most maxConcurrent
// hashes at a time.
func NewHasher(params Params, maxConcurrent int) *Hasher {
	h := &Hasher{params: params, slots: make(chan struct{}, max(1, maxConcurrent))}
	h.dummy = h.encode(make([]byte, saltLen), make([]byte, keyLen))
	return h
}

// Hash returns the encoded argon2id hash of password with a fresh salt, in
// Django's format: argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: unable to read salt: %w", err)
	}
	return h.encode(salt, h.key(password, salt, h.params, keyLen)), nil
}

// Check reports whether password matches encoded, and whether encoded should
// be replaced by a fresh Hash because its parameters are not the current ones.
func (h *Hasher) Check(password, encoded string) (ok, outdated bool) {
	params, salt, want, err := decode(encoded)
	if err != nil {
		// Spend the same work as a real check, so a broken or unusable hash
		// does not answer faster than a wrong password.
		h.SpendCheck(password)
		return false, false
	}
	got := h.key(password, salt, params, uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, ok && (params != h.params || len(salt) < saltLen || len(want) != keyLen)
}

// SpendCheck does the work of one Check against a hash that never matches,
// for callers that have no user to check: who exists is not revealed by timing.
func (h *Hasher) SpendCheck(password string) {
	params, salt, _, _ := decode(h.dummy)
	h.key(password, salt, params, keyLen)
}

// key runs argon2id once a slot is free. It runs on an OS thread of the
// lowest CPU priority, so that under load the scheduler serves page views
// before logins, and it hands its memory back to the collector at once, so
// the process holds one hash's worth of memory, not one per collection cycle.
func (h *Hasher) key(password string, salt []byte, params Params, length uint32) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	done := make(chan []byte, 1)
	go func() {
		lowerThreadPriority()
		done <- argon2.IDKey([]byte(password), salt, params.Time, params.MemoryKiB, params.Threads, length)
	}()
	key := <-done
	runtime.GC()
	return key
}

func (h *Hasher) encode(salt, key []byte) string {
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", prefix, argon2.Version,
		h.params.MemoryKiB, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash.
func decode(encoded string) (params Params, salt, key []byte, err error) {
	rest, found := strings.CutPrefix(encoded, prefix)
	if !found {
		return params, nil, nil, ErrUnknownFormat
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 4 || parts[0] != fmt.Sprintf("v=%d", argon2.Version) {
		return params, nil, nil, ErrUnknownFormat
	}
	if _, err := fmt.Sscanf(parts[1], "m=%d,t=%d,p=%d", &params.MemoryKiB, &params.Time, &params.Threads); err != nil {
		return params, nil, nil, ErrUnknownFormat
	}
	// Bounds keep a tampered row from making a login allocate gigabytes.
	if params.MemoryKiB < 8 || params.MemoryKiB > 1<<21 || params.Time < 1 || params.Time > 64 || params.Threads < 1 {
		return params, nil, nil, ErrUnknownFormat
	}
	salt, err1 := b64.DecodeString(parts[2])
	key, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return params, nil, nil, ErrUnknownFormat
	}
	return params, salt, key, nil
}
