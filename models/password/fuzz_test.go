package password

import "testing"

// FuzzDecode: no stored hash, however broken, panics the parser, and one it
// accepts stays within the bounds that keep a login cheap: a tampered row
// cannot make a check allocate gigabytes or loop for minutes. Seeds:
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	h := NewHasher(Params{MemoryKiB: 64, Time: 1, Threads: 1})
	f.Fuzz(func(t *testing.T, encoded string) {
		stored, err := h.decode(encoded)
		if err != nil {
			if stored.derive != nil || stored.key != nil {
				t.Fatalf("decode(%q) failed but returned a hash", encoded)
			}
			return
		}
		if stored.derive == nil || len(stored.key) < 16 || len(stored.key) > 64 {
			t.Fatalf("decode(%q): key of %d bytes", encoded, len(stored.key))
		}
	})
}
