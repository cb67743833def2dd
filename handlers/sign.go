package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
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
