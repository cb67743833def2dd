package token

import (
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	m := New([]byte("0123456789abcdef0123456789abcdef"), "reset", time.Hour)
	token := m.Make("user 1, hash A", now)

	tests := []struct {
		name  string
		maker Maker
		token string
		state string
		at    time.Time
		want  bool
	}{
		{"fresh", m, token, "user 1, hash A", now, true},
		{"just before it expires", m, token, "user 1, hash A", now.Add(time.Hour - time.Second), true},
		{"expired", m, token, "user 1, hash A", now.Add(time.Hour), false},
		{"from the future", m, token, "user 1, hash A", now.Add(-2 * time.Minute), false},
		{"state changed (used, or password changed)", m, token, "user 1, hash B", now, false},
		{"another purpose", New(m.secret, "verify", time.Hour), token, "user 1, hash A", now, false},
		{"another secret", New([]byte("another secret, another site..."), "reset", time.Hour), token, "user 1, hash A", now, false},
		{"tampered stamp", m, "z" + token, "user 1, hash A", now, false},
		{"no dash", m, "abcdef", "user 1, hash A", now, false},
		{"empty", m, "", "user 1, hash A", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.maker.Check(tt.token, tt.state, tt.at); got != tt.want {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}
