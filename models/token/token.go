// Package token makes and checks the one-time tokens of mailed links, as
// Django's PasswordResetTokenGenerator does: no token is stored. A token
// signs the time it was made with the state it may act on (for a password
// reset: the password hash and the last login), so it dies when that state
// changes — after one use — or when it is older than its lifetime.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Maker makes and checks tokens for one purpose under the site's secret.
type Maker struct {
	secret  []byte
	purpose string
	maxAge  time.Duration
}

// New returns a Maker of tokens for purpose that live for maxAge.
func New(secret []byte, purpose string, maxAge time.Duration) Maker {
	return Maker{secret: secret, purpose: purpose, maxAge: maxAge}
}

// Make returns a token for state, made at now.
func (m Maker) Make(state string, now time.Time) string {
	stamp := strconv.FormatInt(now.Unix(), 36)
	return stamp + "-" + m.sign(stamp, state)
}

// Check reports whether token was made for state less than maxAge before now.
func (m Maker) Check(token, state string, now time.Time) bool {
	stamp, signature, found := strings.Cut(token, "-")
	if !found || len(stamp) > 13 {
		return false
	}
	if !hmac.Equal([]byte(signature), []byte(m.sign(stamp, state))) {
		return false
	}
	made, err := strconv.ParseInt(stamp, 36, 64)
	if err != nil {
		return false
	}
	age := now.Sub(time.Unix(made, 0))
	return age >= -time.Minute && age < m.maxAge
}

func (m Maker) sign(stamp, state string) string {
	mac := hmac.New(sha256.New, m.secret)
	mac.Write([]byte("gatehouse.token." + m.purpose + "\x00" + stamp + "\x00" + state))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:20])
}

// MaxAge is how long the tokens live.
func (m Maker) MaxAge() time.Duration { return m.maxAge }
