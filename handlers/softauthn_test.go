package handlers_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softAuthenticator is a passkey authenticator in the test: one ES256 key
// pair per credential, answering ceremonies as a browser and a security
// key together would, for the origin given.
type softAuthenticator struct {
	t      testing.TB
	origin string
	rpID   string
	count  uint32
}

// softCredential is a passkey the soft authenticator made.
type softCredential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	userHandle []byte
}

func newSoftAuthenticator(t testing.TB, app *testApp) *softAuthenticator {
	u, err := url.Parse(app.url)
	if err != nil {
		t.Fatal(err)
	}
	return &softAuthenticator{t: t, origin: app.url, rpID: u.Hostname()}
}

var b64 = base64.RawURLEncoding

// ceremonyOptions is what a begin endpoint answers, as far as the
// authenticator reads it.
type ceremonyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func parseOptions(t testing.TB, body string) ceremonyOptions {
	t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal([]byte(body), &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("not ceremony options (%v):\n%s", err, body)
	}
	return o
}

func (a *softAuthenticator) clientData(kind, challenge string) []byte {
	data, err := json.Marshal(map[string]any{"type": kind, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	if err != nil {
		a.t.Fatal(err)
	}
	return data
}

// authData is the authenticator data: the RP ID's hash, flags (user present
// and verified), the signature counter, and what follows.
func (a *softAuthenticator) authData(flags byte, rest []byte) []byte {
	a.count++
	rpHash := sha256.Sum256([]byte(a.rpID))
	out := append(rpHash[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.count)
	return append(out, rest...)
}

// create answers registration options with a new credential, as the JSON
// the page's script posts.
func (a *softAuthenticator) create(optionsBody string) (string, *softCredential) {
	a.t.Helper()
	o := parseOptions(a.t, optionsBody)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		a.t.Fatal(err)
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	cred := &softCredential{id: make([]byte, 32), key: key, userHandle: handle}
	rand.Read(cred.id)
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		a.t.Fatal(err)
	}
	coseKey, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
	if err != nil {
		a.t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(cred.id)))
	attested = append(append(attested, cred.id...), coseKey...)
	const userPresent, userVerified, attestedData = 0x01, 0x04, 0x40
	object, err := webauthncbor.Marshal(map[string]any{
		"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(userPresent|userVerified|attestedData, attested),
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return a.encode(map[string]any{
		"id": b64.EncodeToString(cred.id), "rawId": b64.EncodeToString(cred.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(object),
			"transports":        []string{"internal"},
		},
	}), cred
}

// get answers login options with cred, signed over the challenge.
func (a *softAuthenticator) get(optionsBody string, cred *softCredential) string {
	a.t.Helper()
	o := parseOptions(a.t, optionsBody)
	clientData := a.clientData("webauthn.get", o.PublicKey.Challenge)
	authData := a.authData(0x01|0x04, nil)
	digest := sha256.Sum256(clientData)
	signed := sha256.Sum256(append(append([]byte{}, authData...), digest[:]...))
	signature, err := ecdsa.SignASN1(rand.Reader, cred.key, signed[:])
	if err != nil {
		a.t.Fatal(err)
	}
	return a.encode(map[string]any{
		"id": b64.EncodeToString(cred.id), "rawId": b64.EncodeToString(cred.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(signature),
			"userHandle":        b64.EncodeToString(cred.userHandle),
		},
	})
}

func (a *softAuthenticator) encode(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		a.t.Fatal(err)
	}
	return string(data)
}
