package token

import (
	"testing"
	"time"
)

// FuzzCheck: no token but the one Make writes for the state passes Check:
// not another spelling of its time stamp, nor of its signature. Seeds:
// testdata/fuzz/FuzzCheck.
func FuzzCheck(f *testing.F) {
	m := New([]byte("fuzz secret"), "fuzz", time.Hour)
	now := time.Unix(1_800_000_000, 0)
	valid := m.Make("state", now)
	f.Add(valid)
	f.Fuzz(func(t *testing.T, token string) {
		if m.Check(token, "state", now) && token != valid {
			t.Fatalf("Check passed %q, which Make did not write (it wrote %q)", token, valid)
		}
	})
}
