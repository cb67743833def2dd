package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// signer derives keyed hashes from the site's secret key. Each use names its
// purpose, so a value signed for one (a CSRF token) is never valid for
// another (a flash message), as Django's salted_hmac does.
type signer struct {
	secret []byte
}

// sign returns HMAC-SHA256 of data under the secret and purpose.
func (s signer) sign(purpose string, data []byte) []byte {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("gatehouse." + purpose + "\x00"))
	mac.Write(data)
	return mac.Sum(nil)
}

// signString is sign as URL-safe text, for cookies.
func (s signer) signString(purpose string, data []byte) string {
	return base64.RawURLEncoding.EncodeToString(s.sign(purpose, data))
}

// verify reports whether signature is signString's for purpose and data.
func (s signer) verify(purpose string, data []byte, signature string) bool {
	return hmac.Equal([]byte(signature), []byte(s.signString(purpose, data)))
}
