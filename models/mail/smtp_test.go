package mail_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/uptrace/bun"

	"gatehouse/models/mail"
	"gatehouse/models/mailtest"
)

// smtpSender returns a sender of db's outbox through the server.
func smtpSender(t *testing.T, srv *mailtest.Server, db bun.IDB, c *clock) *mail.Sender {
	t.Helper()
	transport, err := mail.NewTransport(srv.URL(), "")
	if err != nil {
		t.Fatal(err)
	}
	return newSender(t, db, transport, c)
}

func TestSMTPTransport(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := mailtest.Start(t, nil)
	s := smtpSender(t, srv, db, nil)
	enqueue(t, db, resetMessage("Alice <alice@example.com>"))
	deliverDue(t, s, 1)
	deliverDue(t, s, 0)

	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("server accepted %d mails, want 1", len(mails))
	}
	got := mails[0]
	if got.User != mailtest.User || got.From != "noreply@gatehouse.example" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
		t.Errorf("session: user %q, MAIL FROM %q, RCPT TO %q", got.User, got.From, got.To)
	}
	checkResetMail(t, parseMail(t, got.Data), "Alice <alice@example.com>")
	if r := onlyRow(t, db); r.SentAt == nil || r.Attempts != 1 {
		t.Errorf("row = %+v, want sent after one attempt", r)
	}
}

func TestSMTPTransientFailureIsRetried(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := mailtest.Start(t, func(call int) error {
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

	if n := len(srv.Mails()); n != 1 {
		t.Errorf("server accepted %d mails, want 1", n)
	}
	if r := onlyRow(t, db); r.SentAt == nil || r.Attempts != 2 || r.LastError != "" {
		t.Errorf("row = %+v, want sent at the second attempt", r)
	}
}

func TestSMTPPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := mailtest.Start(t, func(int) error {
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
	if n := srv.RcptCalls(); n != 1 {
		t.Errorf("server asked %d times, want once", n)
	}
}

func TestSMTPSenderKilledMidDelivery(t *testing.T) {
	t.Parallel()
	db, path := testDB(t)
	blocked, release := make(chan struct{}), make(chan struct{})
	srv := mailtest.Start(t, func(call int) error {
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
	if n := len(srv.Mails()); n != 1 {
		t.Errorf("server accepted %d mails, want 1", n)
	}
}

func TestSMTPWrongPassword(t *testing.T) {
	t.Parallel()
	db, _ := testDB(t)
	srv := mailtest.Start(t, nil)
	transport, err := mail.NewTransport("smtp://"+mailtest.User+":wrong@"+srv.Addr, "")
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
	if n := len(srv.Mails()); n != 0 {
		t.Errorf("server accepted %d mails, want none", n)
	}
}

func TestSMTPRequiresSTARTTLSBeyondLoopback(t *testing.T) {
	t.Parallel()
	ip := nonLoopbackIP(t)
	// The server offers no STARTTLS: the transport gives up rather than send
	// the password and the mail in the clear.
	srv := mailtest.StartOn(t, ip, nil)
	transport, err := mail.NewTransport("smtp://"+mailtest.User+":pw@"+srv.Addr, "")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := testDB(t)
	enqueue(t, db, resetMessage("alice@example.com"))
	deliverDue(t, newSender(t, db, transport, nil), 0)
	if r := onlyRow(t, db); !strings.Contains(r.LastError, "STARTTLS") {
		t.Errorf("last error = %q, want one about STARTTLS", r.LastError)
	}
	if n := srv.RcptCalls(); n != 0 {
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
