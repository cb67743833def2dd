package handlers

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzSafeNext: whatever next is, what safeNext lets through is a path on
// this site, in ASCII, that a browser resolves to this host, and letting it
// through again changes nothing. Seeds: testdata/fuzz/FuzzSafeNext.
func FuzzSafeNext(f *testing.F) {
	site, _ := url.Parse("https://gatehouse.example/accounts/login/")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "" {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsRune(got, '\\') {
			t.Fatalf("safeNext(%q) = %q: not a local path", next, got)
		}
		for _, r := range got {
			if r >= utf8.RuneSelf || unicode.IsControl(r) || unicode.IsSpace(r) {
				t.Fatalf("safeNext(%q) = %q: holds %q", next, got, r)
			}
		}
		target, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q, which does not parse: %v", next, got, err)
		}
		if resolved := site.ResolveReference(target); resolved.Host != site.Host || resolved.Scheme != site.Scheme {
			t.Fatalf("safeNext(%q) = %q leads to %s", next, got, resolved)
		}
		if again := safeNext(got); again != got {
			t.Fatalf("safeNext(%q) = %q, but safeNext(%q) = %q", next, got, got, again)
		}
	})
}

// FuzzParseUIDB64: a link's user id is read only in the spelling uidb64
// writes, so one user has one link. Seeds: testdata/fuzz/FuzzParseUIDB64
// ("KzE" is "+1", "MDE" is "01", both refused).
func FuzzParseUIDB64(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		id := parseUIDB64(s)
		if id < 0 {
			t.Fatalf("parseUIDB64(%q) = %d", s, id)
		}
		if id != 0 && uidb64(id) != s {
			t.Fatalf("parseUIDB64(%q) = %d, whose link is %q", s, id, uidb64(id))
		}
	})
}
