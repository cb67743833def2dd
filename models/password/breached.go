package password

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Breached is the code of a new password found in a known breach.
const Breached = "password.breached"

// DefaultBreachURL is Have I Been Pwned's range API, which answers for the
// first five hex digits of a password's SHA-1 with every suffix it knows.
const DefaultBreachURL = "https://api.pwnedpasswords.com/range/"

// BreachTimeout bounds one look-up: past it, the password is let through
// (the common-password list still applies) rather than signups stalling.
const BreachTimeout = 2 * time.Second

// maxBreachResponse bounds what a range answer may be: a real one, padded,
// is about 40 KiB.
const maxBreachResponse = 4 << 20

// BreachChecker looks passwords up in a range API by k-anonymity: only the
// first five hex digits of the SHA-1 leave the machine, with padding asked
// for so that the answer's size says nothing either. The password and its
// full hash are never sent, logged or kept.
type BreachChecker struct {
	URL    string // the range endpoint, the prefix appended; "" turns the check off
	Min    int    // seen this many times or more is refused (1 when 0)
	Client *http.Client
	// Timeout bounds one look-up (BreachTimeout when 0).
	Timeout time.Duration
}

// ErrBreachCheck wraps a look-up that did not answer: the caller lets the
// password through and logs it.
var ErrBreachCheck = errors.New("password: breach look-up failed")

// Breached reports whether the range API has seen password at least Min
// times. Off (no URL), it reports false.
func (b *BreachChecker) Breached(ctx context.Context, password string) (bool, error) {
	if b == nil || b.URL == "" {
		return false, nil
	}
	sum := sha1.Sum([]byte(password))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := digest[:5], digest[5:]

	timeout := b.Timeout
	if timeout == 0 {
		timeout = BreachTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+prefix, nil)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrBreachCheck, err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", "Gatehouse")
	client := b.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrBreachCheck, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%w: status %d", ErrBreachCheck, res.StatusCode)
	}
	count, err := countOf(io.LimitReader(res.Body, maxBreachResponse), suffix)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrBreachCheck, err)
	}
	return count >= max(b.Min, 1), nil
}

// countOf finds suffix in a range answer, lines of SUFFIX:COUNT; padding
// lines count 0.
func countOf(body io.Reader, suffix string) (int, error) {
	lines := bufio.NewScanner(body)
	for lines.Scan() {
		hash, count, ok := strings.Cut(strings.TrimSpace(lines.Text()), ":")
		if !ok || !strings.EqualFold(hash, suffix) {
			continue
		}
		n, err := strconv.Atoi(count)
		if err != nil {
			return 0, fmt.Errorf("unreadable count %q", count)
		}
		return n, nil
	}
	return 0, lines.Err()
}
