package mail_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/uptrace/bun"

	"gatehouse/models/mail"
)

// received is one mail an SMTP server accepted.
type received struct {
	user string
	from string
	to   []string
	data []byte
}

// smtpServer is a real SMTP server on a loopback port that requires AUTH
// PLAIN as user "gatehouse", password "s3cret:/@". Its rcpt hook, if set, runs
// on each RCPT command (numbered from 1) and may refuse it.
type smtpServer struct {
	addr string

	mu       sync.Mutex
	rcpts    int
	accepted []received
	rcpt     func(call int) error
}

const (
	smtpUser     = "gatehouse"
	smtpPassword = "s3cret:/@"
)

// startSMTPServer starts an SMTP server on 127.0.0.1, stopped when the test ends.
func startSMTPServer(t *testing.T, rcpt func(call int) error) *smtpServer {
	t.Helper()
	return startSMTPServerOn(t, "127.0.0.1", rcpt)
}

// startSMTPServerOn starts an SMTP server on the address ip, stopped when the test ends.
func startSMTPServerOn(t *testing.T, ip string, rcpt func(call int) error) *smtpServer {
	t.Helper()
	srv := &smtpServer{rcpt: rcpt}
	server := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: srv}, nil
	}))
	server.Domain = "localhost"
	server.AllowInsecureAuth = true // plain on loopback, as in development
	server.ReadTimeout = 10 * time.Second
	server.WriteTimeout = 10 * time.Second
	listener, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = listener.Addr().String()
	go server.Serve(listener)
	t.Cleanup(func() { server.Close() })
	return srv
}

// url returns the server's SMTP URL, with credentials.
func (s *smtpServer) url() string {
	u := url.URL{Scheme: "smtp", User: url.UserPassword(smtpUser, smtpPassword), Host: s.addr}
	return u.String()
}

// mails returns the mails the server accepted so far.
func (s *smtpServer) mails() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.accepted...)
}

// rcptCalls returns how many RCPT commands the server has had.
func (s *smtpServer) rcptCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpts
}

type smtpSession struct {
	srv  *smtpServer
	user string
	from string
	to   []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != smtpUser || password != smtpPassword {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
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

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.accepted = append(s.srv.accepted, received{user: s.user, from: s.from, to: s.to, data: data})
	return nil
}

func (s *smtpSession) Reset() {
	s.from = ""
	s.to = nil
}

func (s *smtpSession) Logout() error { return nil }

// smtpSender returns a sender of db's outbox through the server.
func smtpSender(t *testing.T, srv *smtpServer, db bun.IDB, c *clock) *mail.Sender {
	t.Helper()
	transport, err := mail.NewTransport(srv.url(), "")
	if err != nil {
		t.Fatal(err)
	}
	return newSender(t, db, transport, c)
}

func TestSMTPTransport(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := startSMTPServer(t, nil)
	s := smtpSender(t, srv, db, nil)
	enqueue(t, db, resetMessage("Alice <alice@example.com>"))
	deliverDue(t, s, 1)
	deliverDue(t, s, 0)

	mails := srv.mails()
	if len(mails) != 1 {
		t.Fatalf("server accepted %d mails, want 1", len(mails))
	}
	got := mails[0]
	if got.user != smtpUser || got.from != "noreply@gatehouse.example" || len(got.to) != 1 || got.to[0] != "alice@example.com" {
		t.Errorf("session: user %q, MAIL FROM %q, RCPT TO %q", got.user, got.from, got.to)
	}
	checkResetMail(t, parseMail(t, got.data), "Alice <alice@example.com>")
	if r := onlyRow(t, db); r.SentAt == nil || r.Attempts != 1 {
		t.Errorf("row = %+v, want sent after one attempt", r)
	}
}

func TestSMTPTransientFailureIsRetried(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := startSMTPServer(t, func(call int) error {
		if call == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	})
	enqueue(t, db, resetMessage("alice@example.com"))
	c := newClock()
	s := smtpSender(t, srv, db, c)

	deliverDue(t, s, 0)
	r := onlyRow(t, db)
	if r.Attempts != 1 || r.SentAt != nil || r.FailedAt != nil || !strings.Contains(r.LastError, "451") {
		t.Errorf("after the first attempt: row = %+v, want a retry", r)
	}
	if wait := r.NextAttemptAt.Sub(c.Now()); wait < 29*time.Second || wait > 30*time.Second {
		t.Errorf("next attempt in %v, want 30s", wait)
	}
	deliverDue(t, s, 0)
	c.add(30 * time.Second)
	deliverDue(t, s, 1)
	deliverDue(t, s, 0)

	if n := len(srv.mails()); n != 1 {
		t.Errorf("server accepted %d mails, want 1", n)
	}
	if r := onlyRow(t, db); r.SentAt == nil || r.Attempts != 2 || r.LastError != "" {
		t.Errorf("row = %+v, want sent at the second attempt", r)
	}
}

func TestSMTPPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := startSMTPServer(t, func(int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	})
	enqueue(t, db, resetMessage("nobody@example.com"))
	c := newClock()
	s := smtpSender(t, srv, db, c)

	deliverDue(t, s, 0)
	c.add(24 * time.Hour)
	deliverDue(t, s, 0)

	r := onlyRow(t, db)
	if r.FailedAt == nil || r.SentAt != nil || r.Attempts != 1 || !strings.Contains(r.LastError, "550") {
		t.Errorf("row = %+v, want failed after one attempt", r)
	}
	if n := srv.rcptCalls(); n != 1 {
		t.Errorf("server asked %d times, want once", n)
	}
}

func TestSMTPSenderKilledMidDelivery(t *testing.T) {
	t.Parallel()
	db, path := testDB(t)
	blocked, release := make(chan struct{}), make(chan struct{})
	srv := startSMTPServer(t, func(call int) error {
		if call == 1 {
			close(blocked)
			<-release
		}
		return nil
	})
	enqueue(t, db, resetMessage("alice@example.com"))

	// Stop the sender, with no grace, while the server holds the delivery.
	s := smtpSender(t, srv, db, nil)
	s.SetShutdownGrace(0)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	<-blocked
	stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return while the delivery was blocked")
	}
	close(release)
	if r := onlyRow(t, db); r.SentAt != nil || r.LockedUntil != nil || r.Attempts != 0 {
		t.Errorf("after the kill: row = %+v, want pending and unclaimed", r)
	}

	restarted := smtpSender(t, srv, openDB(t, path), nil)
	deliverDue(t, restarted, 1)
	deliverDue(t, restarted, 0)
	if n := len(srv.mails()); n != 1 {
		t.Errorf("server accepted %d mails, want 1", n)
	}
}

func TestSMTPWrongPassword(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := startSMTPServer(t, nil)
	transport, err := mail.NewTransport("smtp://"+smtpUser+":wrong@"+srv.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(t, db, transport, nil)
	enqueue(t, db, resetMessage("alice@example.com"))
	deliverDue(t, s, 0)
	// A configuration mistake: retried, so that mail goes out once it is mended.
	if r := onlyRow(t, db); r.FailedAt != nil || r.Attempts != 1 || !strings.Contains(r.LastError, "535") {
		t.Errorf("row = %+v, want a retry", r)
	}
	if n := len(srv.mails()); n != 0 {
		t.Errorf("server accepted %d mails, want none", n)
	}
}

func TestSMTPRequiresSTARTTLSBeyondLoopback(t *testing.T) {
	t.Parallel()
	ip := nonLoopbackIP(t)
	// The server offers no STARTTLS: the transport gives up rather than send
	// the password and the mail in the clear.
	srv := startSMTPServerOn(t, ip, nil)
	transport, err := mail.NewTransport("smtp://"+smtpUser+":pw@"+srv.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := testDB(t)
	enqueue(t, db, resetMessage("alice@example.com"))
	deliverDue(t, newSender(t, db, transport, nil), 0)
	if r := onlyRow(t, db); !strings.Contains(r.LastError, "STARTTLS") {
		t.Errorf("last error = %q, want one about STARTTLS", r.LastError)
	}
	if n := srv.rcptCalls(); n != 0 {
		t.Errorf("server had %d RCPT commands, want none", n)
	}
}

// nonLoopbackIP returns an address of this machine outside the loopback
// range, or skips the test.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, addr := range addrs {
		if ipNet, ok := addr.(*net.IPNet); ok && !ipNet.IP.IsLoopback() && ipNet.IP.To4() != nil {
			return ipNet.IP.String()
		}
	}
	t.Skip("no address outside the loopback range")
	return ""
}
