package models

import (
	"strings"
	"testing"
)

// TestDetailRoundTrip checks that a detail reads back as it was written,
// that a long Korean value still fits the log whole, and that plain text
// (the details of rows from before codes) is not taken for a code.
func TestDetailRoundTrip(t *testing.T) {
	long := strings.Repeat("정", 300)
	for _, d := range []Detail{
		NewDetail("reset_by_mail"),
		NewDetail("by_admin", "Admin", "root"),
		NewDetail("named", "Name", `"quoted" & <odd> ~ {}`),
		NewDetail("by_admin", "Admin", long),
	} {
		stored := d.String()
		if n := len([]rune(stored)); n > eventTextMaxLength {
			t.Errorf("%s: %d characters, more than the log keeps", d.Code, n)
		}
		got, ok := ParseDetail(stored)
		if !ok || got.Code != d.Code || len(got.Args) != len(d.Args) {
			t.Errorf("%q read back as %+v, %v", stored, got, ok)
		}
		for k, v := range d.Args {
			if got.Args[k] != v {
				t.Errorf("%s: %s read back as %q, want %q", d.Code, k, got.Args[k], v)
			}
		}
	}
	for _, plain := range []string{"", "with a passkey", "3 left", "~reset_by_mail", "\x1f", "\x1fNot a code", "\x1fcode {broken", "by an administrator, root"} {
		if d, ok := ParseDetail(plain); ok {
			t.Errorf("plain %q read as the code %+v", plain, d)
		}
	}
	if got := NewDetail("x", "Admin", long).Args["Admin"]; len([]rune(got)) != detailValueMaxChars {
		t.Errorf("a long value kept %d characters", len([]rune(got)))
	}
}
