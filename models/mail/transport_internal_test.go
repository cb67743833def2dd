package mail

import (
	"reflect"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"
)

func TestSMTPURL(t *testing.T) {
	t.Parallel()
	plainAuth := []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
	loopbackAuth := []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
	tests := []struct {
		url  string
		want smtpTransport
	}{
		{"smtp://user:p%40ss@mail.example.com", smtpTransport{host: "mail.example.com", port: 587, tlsPolicy: gomail.TLSMandatory, user: "user", password: "p@ss", auth: plainAuth}},
		{"smtp://mail.example.com:25", smtpTransport{host: "mail.example.com", port: 25, tlsPolicy: gomail.TLSMandatory}},
		{"smtp://192.0.2.1:2525", smtpTransport{host: "192.0.2.1", port: 2525, tlsPolicy: gomail.TLSMandatory}},
		{"smtps://user:pw@mail.example.com", smtpTransport{host: "mail.example.com", port: 465, implicitTLS: true, tlsPolicy: gomail.TLSMandatory, user: "user", password: "pw", auth: plainAuth}},
		{"smtp://localhost:1025", smtpTransport{host: "localhost", port: 1025, tlsPolicy: gomail.NoTLS}},
		{"smtp://user:pw@127.0.0.2:1025", smtpTransport{host: "127.0.0.2", port: 1025, tlsPolicy: gomail.NoTLS, user: "user", password: "pw", auth: loopbackAuth}},
		{"smtp://[::1]:1025", smtpTransport{host: "::1", port: 1025, tlsPolicy: gomail.NoTLS}},
		{"smtps://localhost", smtpTransport{host: "localhost", port: 465, implicitTLS: true, tlsPolicy: gomail.TLSMandatory}},
	}
	for _, tt := range tests {
		got, err := newSMTPTransport(tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.url, *got, tt.want)
		}
	}
}

func TestSMTPURLErrors(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"mail.example.com:587",
		"http://mail.example.com",
		"smtp://",
		"smtp://user:secret@mail.example.com:99999",
		"smtp://user:secret@mail.example.com:x",
		"smtp://user:secret@mail.example.com:587/%zz",
	} {
		_, err := NewTransport(url, "")
		if err == nil {
			t.Errorf("%s: no error", url)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %q shows the password", url, err)
		}
	}
}
