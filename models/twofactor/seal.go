package twofactor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// keys are what Store derives from the site secret, one key a purpose. The
// site secret is kept in the settings table: a copy of the two_factor table
// alone (an export, a log) opens no secret, a copy of the whole database does.
type keys struct {
	seal      cipher.AEAD // seals TOTP secrets at rest
	handleMAC []byte      // derives users' WebAuthn user handles
}

func deriveKeys(siteSecret []byte) (keys, error) {
	sealKey, err := hkdf.Key(sha256.New, siteSecret, nil, "gatehouse.two-factor.seal", 32)
	if err != nil {
		return keys{}, fmt.Errorf("twofactor: unable to derive the sealing key: %w", err)
	}
	handleKey, err := hkdf.Key(sha256.New, siteSecret, nil, "gatehouse.two-factor.webauthn-user-handle", 32)
	if err != nil {
		return keys{}, fmt.Errorf("twofactor: unable to derive the user handle key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return keys{}, fmt.Errorf("twofactor: unable to build the cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keys{}, fmt.Errorf("twofactor: unable to build the cipher: %w", err)
	}
	return keys{seal: aead, handleMAC: handleKey}, nil
}

// sealFor encrypts plaintext for one user's row: the user id is bound in as
// associated data, so a sealed secret copied to another row does not open.
func (k keys) sealFor(context string, plaintext []byte) []byte {
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(plaintext)+k.seal.Overhead())
	rand.Read(nonce)
	return k.seal.Seal(nonce, nonce, plaintext, []byte(context))
}

var errUnsealable = errors.New("twofactor: a sealed value does not open with this site's key")

// openFor decrypts what sealFor sealed for context.
func (k keys) openFor(context string, sealed []byte) ([]byte, error) {
	if len(sealed) < k.seal.NonceSize() {
		return nil, errUnsealable
	}
	nonce, ciphertext := sealed[:k.seal.NonceSize()], sealed[k.seal.NonceSize():]
	plaintext, err := k.seal.Open(nil, nonce, ciphertext, []byte(context))
	if err != nil {
		return nil, errUnsealable
	}
	return plaintext, nil
}
