package password_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatehouse/models/password"
	"gatehouse/models/password/rangetest"
)

func TestBreached(t *testing.T) {
	ctx := context.Background()
	rs := rangetest.New(t, map[string]int{"P@ssw0rd1234": 2841, "seen once only": 1})
	b := &password.BreachChecker{URL: rs.RangeURL()}
	for pw, want := range map[string]bool{"P@ssw0rd1234": true, "seen once only": true, "a new long passphrase 7": false} {
		got, err := b.Breached(ctx, pw)
		if err != nil || got != want {
			t.Errorf("Breached(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	// Only five hex digits of the SHA-1 leave, with padding asked for.
	for _, r := range rs.Asked() {
		if len(strings.TrimPrefix(r.Path, "/range/")) != 5 || r.Padding != "true" {
			t.Errorf("asked %s with Add-Padding %q", r.Path, r.Padding)
		}
	}
	// A minimum of 2 lets the password seen once through.
	b.Min = 2
	if got, err := b.Breached(ctx, "seen once only"); got || err != nil {
		t.Errorf("with Min 2, Breached(seen once) = %v, %v", got, err)
	}
	// Off: nothing is asked.
	asked := len(rs.Asked())
	if got, err := (&password.BreachChecker{}).Breached(ctx, "P@ssw0rd1234"); got || err != nil || len(rs.Asked()) != asked {
		t.Errorf("off: %v, %v, %d requests", got, err, len(rs.Asked())-asked)
	}
}

// TestBreachedFailsOpen: a server that errs, refuses or does not answer in
// time lets the password through, with ErrBreachCheck for the log.
func TestBreachedFailsOpen(t *testing.T) {
	ctx := context.Background()
	rs := rangetest.New(t, map[string]int{"P@ssw0rd1234": 2841})
	b := &password.BreachChecker{URL: rs.RangeURL(), Timeout: 50 * time.Millisecond}
	rs.Fail(http.StatusServiceUnavailable)
	if got, err := b.Breached(ctx, "P@ssw0rd1234"); got || !errors.Is(err, password.ErrBreachCheck) {
		t.Errorf("5xx: %v, %v", got, err)
	}
	rs.Fail(http.StatusOK)
	rs.Hang()
	if got, err := b.Breached(ctx, "P@ssw0rd1234"); got || !errors.Is(err, password.ErrBreachCheck) {
		t.Errorf("no answer: %v, %v", got, err)
	}
	if got, err := (&password.BreachChecker{URL: "http://127.0.0.1:1/range/"}).Breached(ctx, "P@ssw0rd1234"); got || !errors.Is(err, password.ErrBreachCheck) {
		t.Errorf("refused: %v, %v", got, err)
	}
}
