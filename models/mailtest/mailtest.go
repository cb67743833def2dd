// Package mailtest is a real SMTP server on a loopback port, for the tests
// of mail delivery: it requires AUTH PLAIN and keeps what it accepts. Only
// tests import it.
package mailtest

import (
	"io"
	"net"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server takes.
const (
	User     = "gatehouse"
	Password = "s3cret:/@"
)

// Mail is one mail the server accepted, with its envelope.
type Mail struct {
	User string // who authenticated
	From string
	To   []string
	Data []byte
}

// Server is an SMTP server that requires AUTH PLAIN as User with Password.
// Its rcpt hook, if set, runs on each RCPT command (numbered from 1) and
// may refuse it.
type Server struct {
	// Addr is the server's host and port.
	Addr string

	mu       sync.Mutex
	rcpts    int
	accepted []Mail
	rcpt     func(call int) error
}

// Start starts a server on 127.0.0.1, stopped when the test ends; rcpt
// (nil: none) may refuse recipients.
func Start(t testing.TB, rcpt func(call int) error) *Server {
	t.Helper()
	return StartOn(t, "127.0.0.1", rcpt)
}

// StartOn is Start on the address ip.
func StartOn(t testing.TB, ip string, rcpt func(call int) error) *Server {
	t.Helper()
	srv := &Server{rcpt: rcpt}
	server := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: srv}, nil
	}))
	server.Domain = "localhost"
	server.AllowInsecureAuth = true // plain on loopback, as in development
	server.ReadTimeout = 10 * time.Second
	server.WriteTimeout = 10 * time.Second
	listener, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Addr = listener.Addr().String()
	go server.Serve(listener)
	t.Cleanup(func() { server.Close() })
	return srv
}

// URL is the server's SMTP URL, with the credentials.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", User: url.UserPassword(User, Password), Host: s.Addr}
	return u.String()
}

// Mails returns the mails accepted so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

// RcptCalls returns how many RCPT commands the server has had.
func (s *Server) RcptCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpts
}

// session is one SMTP connection's state.
type session struct {
	srv  *Server
	user string
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != User || password != Password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	s.srv.rcpts++
	call := s.srv.rcpts
	s.srv.mu.Unlock()
	if s.srv.rcpt != nil {
		if err := s.srv.rcpt(call); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.accepted = append(s.srv.accepted, Mail{User: s.user, From: s.from, To: s.to, Data: data})
	return nil
}

func (s *session) Reset() {
	s.from = ""
	s.to = nil
}

func (s *session) Logout() error { return nil }
