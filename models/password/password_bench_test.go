package password

import "testing"

// BenchmarkHash hashes with the production parameters (argon2id, 7 MiB, t=5).
func BenchmarkHash(b *testing.B) {
	h := NewHasher(Default)
	for b.Loop() {
		if _, err := h.Hash("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck verifies a password against a production hash, as a login does.
func BenchmarkCheck(b *testing.B) {
	h := NewHasher(Default)
	encoded, err := h.Hash("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Check("correct horse battery", encoded); !ok || err != nil {
			b.Fatal("the password does not verify")
		}
	}
}
