package twofactor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// keys are what Store derives from the site secret, one key a purpose: a
// stolen database alone opens no secret and checks no recovery code.
type keys struct {
	seal      cipher.AEAD // seals TOTP secrets at rest
	codeMAC   []byte      // keys the hashes of recovery codes
	handleMAC []byte      // derives users' WebAuthn user handles
}

func deriveKeys(siteSecret []byte) (keys, error) {
	sealKey, err := hkdf.Key(sha256.New, siteSecret, nil, "gatehouse.two-factor.seal", 32)
	if err != nil {
		return keys{}, fmt.Errorf("twofactor: unable to derive the sealing key: %w", err)
	}
	codeKey, err := hkdf.Key(sha256.New, siteSecret, nil, "gatehouse.two-factor.recovery-codes", 32)
	if err != nil {
		return keys{}, fmt.Errorf("twofactor: unable to derive the recovery code key: %w", err)
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
	return keys{seal: aead, codeMAC: codeKey, handleMAC: handleKey}, nil
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

// codeHash is the stored form of a normalized recovery code.
func (k keys) codeHash(code string) []byte {
	mac := hmac.New(sha256.New, k.codeMAC)
	mac.Write([]byte(code))
	return mac.Sum(nil)
}
