package password

import "testing"

// BenchmarkHash hashes with the production parameters (argon2id, 19 MiB, t=2).
func BenchmarkHash(b *testing.B) {
	h := NewHasher(Default, 1)
	for b.Loop() {
		if _, err := h.Hash("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck verifies a password against a production hash, as a login does.
func BenchmarkCheck(b *testing.B) {
	h := NewHasher(Default, 1)
	encoded, err := h.Hash("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := h.Check("correct horse battery", encoded); !ok {
			b.Fatal("the password does not verify")
		}
	}
}
