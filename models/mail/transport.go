package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Transport delivers one built message. The receipt says where it went, for
// the log: the file written, or the SMTP server's reply.
type Transport interface {
	Send(ctx context.Context, msg *gomail.Msg) (receipt string, err error)
}

// NewTransport returns the SMTP transport for smtpURL or, when smtpURL is
// empty, the file transport writing each mail into dir.
//
// smtp://user:pass@host:port submits with STARTTLS, which the server must
// offer, except to a loopback host (localhost, 127.0.0.0/8, ::1): that one is
// spoken to in plain, being a local MTA or mail catcher whose certificate, if
// it has one, would not name localhost. smtps:// uses implicit TLS. The port
// defaults to 587 and 465. A user and password, when given, authenticate
// with the first of SCRAM-SHA-256, PLAIN and LOGIN that the server offers.
func NewTransport(smtpURL, dir string) (Transport, error) {
	if smtpURL != "" {
		return newSMTPTransport(smtpURL)
	}
	if dir == "" {
		return nil, errors.New("mail: neither an SMTP URL nor a directory to write mail into")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mail: unable to create %s: %w", dir, err)
	}
	return fileTransport{dir: dir}, nil
}

// permanentError is a delivery failure that retrying will not mend: the
// server refused the mail with a 5xx reply.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// smtpTransport submits mail to an SMTP server, one connection per mail.
type smtpTransport struct {
	host        string
	port        int
	implicitTLS bool
	tlsPolicy   gomail.TLSPolicy
	user        string
	password    string
	auth        []gomail.SMTPAuthType
}

// newSMTPTransport returns the transport that smtpURL describes; see NewTransport.
func newSMTPTransport(smtpURL string) (*smtpTransport, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		// url.Error repeats the URL, password and all: keep only its cause.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("mail: unable to parse the SMTP URL: %w", err)
	}
	t := &smtpTransport{host: u.Hostname(), tlsPolicy: gomail.TLSMandatory}
	if t.host == "" {
		return nil, errors.New("mail: no host in the SMTP URL")
	}
	loopback := isLoopback(t.host)
	switch u.Scheme {
	case "smtp":
		t.port = gomail.DefaultPortTLS
		if loopback {
			t.tlsPolicy = gomail.NoTLS
		}
	case "smtps":
		t.port = gomail.DefaultPortSSL
		t.implicitTLS = true
	default:
		return nil, fmt.Errorf("mail: SMTP URL scheme is %q, want smtp or smtps", u.Scheme)
	}
	if port := u.Port(); port != "" {
		if t.port, err = strconv.Atoi(port); err != nil || t.port < 1 || t.port > 65535 {
			return nil, fmt.Errorf("mail: invalid port %q in the SMTP URL", port)
		}
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
		t.auth = []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if loopback {
			// go-mail sends a password in plain only to localhost by name or
			// to 127.0.0.1 and ::1; the rest of the loopback range is as safe.
			t.auth = []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
	}
	return t, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send submits msg in one SMTP session. A 5xx reply to the mail makes a
// permanentError; failing to connect or to log in is for retrying, as a
// mended configuration may yet send the mail.
func (t *smtpTransport) Send(ctx context.Context, msg *gomail.Msg) (string, error) {
	address := net.JoinHostPort(t.host, strconv.Itoa(t.port))
	var conn net.Conn
	detach := func() bool { return false }
	dial := func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var err error
		if conn, err = t.dial(dialCtx, network, addr); err != nil {
			return nil, err
		}
		// go-mail heeds ctx only while dialling: closing the connection is
		// what cuts a delivery short when ctx ends.
		detach = context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	// go-mail gives each command 15 s by default, but a server may take
	// minutes to accept the data, and giving up first would send the mail
	// again: let ctx alone bound the delivery.
	timeout := 10 * time.Minute
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(deadline), time.Millisecond)
	}
	client, err := gomail.NewClient(t.host, append(t.options(dial), gomail.WithTimeout(timeout))...)
	if err != nil {
		return "", fmt.Errorf("mail: unable to set up the SMTP client: %w", err)
	}
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err == nil {
		err = client.SendWithSMTPClient(session, msg)
		// The mail is marked sent only once Send returns, and a crash
		// before then sends it again: say goodbye in the background.
		detach()
		go func() {
			client.CloseWithSMTPClient(session)
			conn.Close()
		}()
	} else if conn != nil {
		detach()
		conn.Close()
	}
	if msg.IsDelivered() {
		return fmt.Sprintf("accepted by %s: %s", address, msg.ServerResponse()), nil
	}
	var sendErr *gomail.SendError
	if errors.As(err, &sendErr) && sendErr.ErrorCode()/100 == 5 {
		err = permanentError{err}
	}
	return "", fmt.Errorf("mail: unable to send through %s: %w", address, err)
}

// options returns the go-mail client options of the transport, dialling with dial.
func (t *smtpTransport) options(dial gomail.DialContextFunc) []gomail.Option {
	// One mail per session: no RSET after it, whose failure would pass for
	// the mail's.
	opts := []gomail.Option{gomail.WithPort(t.port), gomail.WithTLSPolicy(t.tlsPolicy), gomail.WithDialContextFunc(dial), gomail.WithoutRset()}
	if t.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if t.user != "" {
		opts = append(opts, gomail.WithUsername(t.user), gomail.WithPassword(t.password), gomail.WithOpportunisticSMTPAuth(t.auth...))
	}
	return opts
}

// dial connects to the server, through TLS for smtps. go-mail leaves that to
// whoever replaces its dialler.
func (t *smtpTransport) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if t.implicitTLS {
		dialer := &tls.Dialer{Config: &tls.Config{ServerName: t.host, MinVersion: tls.VersionTLS12}}
		return dialer.DialContext(ctx, network, address)
	}
	var dialer net.Dialer
	return dialer.DialContext(ctx, network, address)
}

// fileTransport writes each mail as an RFC 5322 .eml file into a directory,
// as Django's file-based email backend does: for development and tests.
type fileTransport struct{ dir string }

// Send writes msg to a temporary file, then renames it into place, so that a
// reader of the directory never sees half a mail. The name comes from the
// Message-ID, so that a mail sent twice overwrites itself.
func (t fileTransport) Send(ctx context.Context, msg *gomail.Msg) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	name, err := fileName(msg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(t.dir, name)
	tmp, err := os.CreateTemp(t.dir, ".mail-*.tmp")
	if err != nil {
		return "", fmt.Errorf("mail: unable to write mail: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	// Plain 8-bit parts (no mail system in between to need 7-bit), so that
	// a person reading the file sees each link whole, not broken by
	// quoted-printable's soft line breaks.
	for _, part := range msg.GetParts() {
		part.SetEncoding(gomail.NoEncoding)
	}
	_, err = msg.WriteTo(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("mail: unable to write %s: %w", path, err)
	}
	return "written to " + path, nil
}

// fileName names a mail's file after the left part of its Message-ID, which
// begins with the time the mail was enqueued, so that the files sort by it.
func fileName(msg *gomail.Msg) (string, error) {
	id, _, _ := strings.Cut(strings.Trim(msg.GetMessageID(), "<>"), "@")
	id = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, id)
	if strings.Trim(id, ".") == "" {
		return "", errors.New("mail: unable to name the file of a mail without a Message-ID")
	}
	return id + ".eml", nil
}
