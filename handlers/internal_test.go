package handlers

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/models"
	"gatehouse/models/mail"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/articles/":                     "/articles/",
		"/articles/?page=2#top":          "/articles/?page=2#top",
		"/accounts/update/":              "/accounts/update/",
		"":                               "",
		"articles/":                      "",
		"//evil.example":                 "",
		"///evil.example":                "",
		"http://evil.example/":           "",
		"https:/evil.example":            "",
		`\\evil.example`:                 "",
		`/\evil.example`:                 "",
		`/\/evil.example`:                "",
		"javascript:alert(1)":            "",
		"/\x00/evil.example":             "",
		"/\t/evil.example":               "",
		"/\r\n/evil.example":             "",
		" /articles/":                    "",
		"/articles/\u2028":               "",
		"/\xff":                          "",
		"/a@evil.example":                "/a@evil.example", // a path, not a host
		"/" + string(make([]byte, 3000)): "",
	}
	for next, want := range tests {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestCSRFTokens(t *testing.T) {
	t.Parallel()
	tokens := csrfTokens{signer{secret: []byte("0123456789abcdef0123456789abcdef")}, time.Now}
	token := tokens.issue("session-a")
	if !tokens.valid(token, "session-a") {
		t.Fatal("a fresh token is refused")
	}
	if tokens.issue("session-a") == token {
		t.Fatal("two tokens are equal")
	}
	for _, binding := range []string{"", "session-b"} {
		if tokens.valid(token, binding) {
			t.Errorf("a token of one session is accepted for %q", binding)
		}
	}
	if tokens.valid(tokens.issue(""), "session-a") {
		t.Error("a visitor's token is accepted after login")
	}
	other := csrfTokens{signer{secret: []byte("another secret, another site...")}, time.Now}
	if other.valid(token, "session-a") {
		t.Fatal("a token signed with another secret is accepted")
	}

	// A token re-signed with an old issue time is refused.
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	payload := raw[:csrfNonceLen+csrfTimeLen]
	binary.BigEndian.PutUint64(payload[csrfNonceLen:], uint64(time.Now().Add(-csrfTokenAge-time.Hour).Unix()))
	old := base64.RawURLEncoding.EncodeToString(append(payload, tokens.mac(payload, "session-a")...))
	if tokens.valid(old, "session-a") {
		t.Fatal("an expired token is accepted")
	}

	// Any change to a token breaks its signature.
	tampered := []byte(token)
	tampered[3] ^= 1
	for _, bad := range []string{string(tampered), token[:len(token)-2], "", "not base64!"} {
		if tokens.valid(bad, "session-a") {
			t.Errorf("token %q is accepted", bad)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	if got := truncate("héllo", 2); got != "h" {
		t.Errorf("truncate split a character: %q", got)
	}
	if got := truncate("hello", 10); got != "hello" {
		t.Errorf("truncate(hello, 10) = %q", got)
	}
}

// TestRunEveryStopWaitsForWork: the cleaner's stop cancels a clean-up under
// way and returns once it has ended, so that the store is never closed
// under it.
func TestRunEveryStopWaitsForWork(t *testing.T) {
	t.Parallel()
	ticks := make(chan time.Time)
	started := make(chan struct{})
	var ended atomic.Bool
	stop := runEvery(ticks, func(ctx context.Context, now time.Time) {
		close(started)
		<-ctx.Done() // a clean-up that would go on
		ended.Store(true)
	})
	ticks <- time.Now()
	<-started
	stop()
	if !ended.Load() {
		t.Fatal("stop returned while a clean-up was under way")
	}
}

// TestShutdownEndsBackgroundWork: work a request leaves behind (the reset
// mail) runs within the server's lifetime: shutdown cancels its context
// and waits for it, then stops the rest.
func TestShutdownEndsBackgroundWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := models.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	transport, err := mail.NewTransport("", filepath.Join(t.TempDir(), "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(ctx, store, Config{MailTransport: transport, MailFrom: "gatehouse@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	stop := h.start(make(chan time.Time))
	started := make(chan struct{})
	var ended atomic.Bool
	h.inBackground(func(ctx context.Context) {
		close(started)
		<-ctx.Done() // a mail that would wait on
		ended.Store(true)
	})
	<-started
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !ended.Load() {
		t.Fatal("shutdown returned while work left by a request was under way")
	}
}

// TestHoldRefusal: a refusal waits its hold out unless the request ends or
// the server shuts down first, and once maxHeldRefusals wait, the next is
// not held at all.
func TestHoldRefusal(t *testing.T) {
	t.Parallel()
	lifetime, endLifetime := context.WithCancel(context.Background())
	h := &handler{refusalHold: time.Hour, heldRefusals: make(chan struct{}, maxHeldRefusals), lifetime: lifetime}

	request, endRequest := context.WithCancel(context.Background())
	held := make(chan struct{})
	go func() {
		h.holdRefusal(request)
		close(held)
	}()
	for len(h.heldRefusals) == 0 {
		runtime.Gosched() // until the refusal holds its slot
	}
	endRequest()
	<-held
	if n := len(h.heldRefusals); n != 0 {
		t.Fatalf("%d slots still taken after the held refusal was let go", n)
	}

	for range maxHeldRefusals {
		h.heldRefusals <- struct{}{}
	}
	h.holdRefusal(context.Background()) // returns at once: every slot is taken
	for range maxHeldRefusals {
		<-h.heldRefusals
	}

	endLifetime()
	h.holdRefusal(context.Background()) // returns at once: the server is shutting down
}
