package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	gomail "github.com/wneessen/go-mail"

	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/mail"
)

const (
	from = "Gatehouse <noreply@gatehouse.example>"
	// resetURL is longer than a quoted-printable line and has '=' in it, so
	// that its encoding breaks it up.
	resetURL = "https://gatehouse.example/accounts/reset/MQ/cbzp7u-0123456789abcdef0123456789abcdef/?next=%2Farticles%2F&token=abc=="
)

// resetMessage is a password-reset mail to to, with the link in both parts.
func resetMessage(to string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Reset your password — Gatehouse",
		Text:    "Someone asked to reset your password. To choose a new one, follow this link:\n\n" + resetURL + "\n\nIf it was not you, ignore this mail.\n",
		HTML:    `<p>Someone asked to reset your password.</p><p><a href="` + strings.ReplaceAll(resetURL, "&", "&amp;") + `">Choose a new password</a></p>`,
	}
}

// openDB opens the migrated database at path, closed when the test ends.
func openDB(t *testing.T, path string) *bun.DB {
	t.Helper()
	store, err := models.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store.DB
}

// testDB opens a fresh, migrated SQLite database and returns it and its path.
func testDB(t *testing.T) (*bun.DB, string) {
	t.Helper()
	path := dbtest.SQLite(t)
	return openDB(t, path), path
}

// onEngines runs test on SQLite and on PostgreSQL, as parallel subtests;
// testDB opens a fresh database of the engine and returns it and its URL.
func onEngines(t *testing.T, test func(t *testing.T, testDB func(*testing.T) (*bun.DB, string))) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			test(t, func(t *testing.T) (*bun.DB, string) {
				url := engine.URL(t)
				return openDB(t, url), url
			})
		})
	}
}

// enqueue puts m in db's outbox.
func enqueue(t *testing.T, db bun.IDB, m mail.Message) {
	t.Helper()
	if err := mail.Enqueue(context.Background(), db, m); err != nil {
		t.Fatal(err)
	}
}

// clock is a settable time source, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// newClock returns a clock set to now. Mail is due from when it was
// enqueued, by the real clock: enqueue before making the clock.
func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newSender returns a sender of db's outbox through transport, logging to the
// test's output, reading the time from c if it is not nil.
func newSender(t *testing.T, db bun.IDB, transport mail.Transport, c *clock) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(db, transport, from, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		s.SetNow(c.Now)
	}
	return s
}

// deliverDue runs one pass of s and fails the test unless it sent want mails.
func deliverDue(t *testing.T, s *mail.Sender, want int) {
	t.Helper()
	sent, err := s.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sent != want {
		t.Errorf("DeliverDue sent %d, want %d", sent, want)
	}
}

// recorder is a transport that keeps what it is given. Its hook, if set,
// runs first on each call (numbered from 1) and may fail it.
type recorder struct {
	mu    sync.Mutex
	calls int
	sent  [][]byte
	hook  func(ctx context.Context, call int) error
}

func (r *recorder) Send(ctx context.Context, msg *gomail.Msg) (string, error) {
	r.mu.Lock()
	r.calls++
	call := r.calls
	r.mu.Unlock()
	if r.hook != nil {
		if err := r.hook(ctx, call); err != nil {
			return "", err
		}
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, buf.Bytes())
	return "recorded", nil
}

// messages returns what the recorder was given so far.
func (r *recorder) messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// parsedMail is a multipart/alternative mail, its parts decoded.
type parsedMail struct {
	header netmail.Header
	text   string
	html   string
}

// parseMail reads raw as RFC 5322 with net/mail and its two parts with
// mime/multipart, which undoes their quoted-printable encoding.
func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mail does not parse: %v\n%s", err, raw)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	p := parsedMail{header: msg.Header}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		contentType, partParams, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if partParams["charset"] != "UTF-8" {
			t.Errorf("%s part charset = %q, want UTF-8", contentType, partParams["charset"])
		}
		// Lines end in CRLF on the wire.
		text := strings.ReplaceAll(string(body), "\r\n", "\n")
		switch contentType {
		case "text/plain":
			p.text = text
		case "text/html":
			p.html = text
		default:
			t.Errorf("unexpected part %q", contentType)
		}
	}
	return p
}

// subject returns the mail's decoded Subject.
func (p parsedMail) subject(t *testing.T) string {
	t.Helper()
	subject, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return subject
}

var urlPattern = regexp.MustCompile(`https://\S+`)

// checkResetMail fails the test unless p is resetMessage(to) from the
// sender, with the link intact in its text part.
func checkResetMail(t *testing.T, p parsedMail, to string) {
	t.Helper()
	want := resetMessage(to)
	if got := p.subject(t); got != want.Subject {
		t.Errorf("Subject = %q, want %q", got, want.Subject)
	}
	for header, want := range map[string]string{"From": from, "To": to} {
		got, err := netmail.ParseAddress(p.header.Get(header))
		wantAddr, _ := netmail.ParseAddress(want)
		if err != nil || got.Address != wantAddr.Address {
			t.Errorf("%s = %q (%v), want %q", header, p.header.Get(header), err, want)
		}
	}
	if date, err := p.header.Date(); err != nil || time.Since(date) > time.Minute || time.Until(date) > time.Second {
		t.Errorf("Date = %q (%v), want about now", p.header.Get("Date"), err)
	}
	if id := p.header.Get("Message-ID"); !regexp.MustCompile(`^<\d{14}\.[a-z2-7]{26}@gatehouse\.example>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if p.text != want.Text {
		t.Errorf("text part = %q, want %q", p.text, want.Text)
	}
	if link := urlPattern.FindString(p.text); link != resetURL {
		t.Errorf("link in the text part = %q, want %q", link, resetURL)
	}
	if p.html != want.HTML {
		t.Errorf("HTML part = %q, want %q", p.html, want.HTML)
	}
}

// row is a mail in the outbox, as a test looks at it.
type row struct {
	bun.BaseModel `bun:"table:mail_outbox"`

	ID            int64
	MessageID     string
	Recipient     string
	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	SentAt        *time.Time
	FailedAt      *time.Time
	LastError     string
}

// outbox returns the rows of db's outbox, in order.
func outbox(t *testing.T, db bun.IDB) []row {
	t.Helper()
	var rows []row
	if err := db.NewSelect().Model(&rows).Order("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rows
}

// onlyRow returns the one row of db's outbox.
func onlyRow(t *testing.T, db bun.IDB) row {
	t.Helper()
	rows := outbox(t, db)
	if len(rows) != 1 {
		t.Fatalf("outbox has %d rows, want 1", len(rows))
	}
	return rows[0]
}

func TestEnqueueRefusesInvalidMail(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, _ := testDB(t)
		tests := []struct {
			name   string
			change func(*mail.Message)
		}{
			{"no recipient", func(m *mail.Message) { m.To = "" }},
			{"invalid recipient", func(m *mail.Message) { m.To = "alice@" }},
			{"two recipients", func(m *mail.Message) { m.To = "alice@example.com, bob@example.com" }},
			{"line break in subject", func(m *mail.Message) { m.Subject = "Hello\r\nBcc: eve@example.com" }},
			{"no text", func(m *mail.Message) { m.Text = "" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := resetMessage("alice@example.com")
				tt.change(&m)
				if err := mail.Enqueue(context.Background(), db, m); !errors.Is(err, mail.ErrInvalidMessage) {
					t.Errorf("Enqueue = %v, want ErrInvalidMessage", err)
				}
			})
		}
		if rows := outbox(t, db); len(rows) != 0 {
			t.Errorf("outbox has %d rows, want none", len(rows))
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestFileTransport(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, _ := testDB(t)
		dir := filepath.Join(t.TempDir(), "mail")
		transport, err := mail.NewTransport("", dir)
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		s, err := mail.NewSender(db, transport, from, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		enqueue(t, db, resetMessage("Alice <alice@example.com>"))
		deliverDue(t, s, 1)
		deliverDue(t, s, 0)

		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || filepath.Ext(entries[0].Name()) != ".eml" {
			t.Fatalf("directory holds %v, want one .eml file", entries)
		}
		path := filepath.Join(dir, entries[0].Name())
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p := parseMail(t, raw)
		checkResetMail(t, p, "Alice <alice@example.com>")
		if token := strings.TrimSuffix(entries[0].Name(), ".eml"); !strings.HasPrefix(p.header.Get("Message-ID"), "<"+token+"@") {
			t.Errorf("file %s is not named after Message-ID %s", entries[0].Name(), p.header.Get("Message-ID"))
		}
		if !strings.Contains(logs.String(), "written to "+path) {
			t.Errorf("log does not say where the mail was written:\n%s", logs.String())
		}
		r := onlyRow(t, db)
		if r.SentAt == nil || r.Attempts != 1 || r.LockedUntil != nil || r.FailedAt != nil {
			t.Errorf("row = %+v, want sent after one attempt", r)
		}
	})
}

func TestTextOnlyMail(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, _ := testDB(t)
		var transport recorder
		m := resetMessage("alice@example.com")
		m.HTML = ""
		enqueue(t, db, m)
		deliverDue(t, newSender(t, db, &transport, nil), 1)
		msg, err := netmail.ReadMessage(bytes.NewReader(transport.messages()[0]))
		if err != nil {
			t.Fatal(err)
		}
		if mediaType, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mediaType != "text/plain" {
			t.Errorf("Content-Type = %q, want text/plain", msg.Header.Get("Content-Type"))
		}
	})
}

func TestEnqueueRolledBackSendsNothing(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, _ := testDB(t)
		errChange := errors.New("the change failed")
		err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
			if err := mail.Enqueue(ctx, tx, resetMessage("alice@example.com")); err != nil {
				return err
			}
			return errChange
		})
		if !errors.Is(err, errChange) {
			t.Fatalf("RunInTx = %v, want %v", err, errChange)
		}
		var transport recorder
		deliverDue(t, newSender(t, db, &transport, nil), 0)
		if transport.calls != 0 {
			t.Errorf("transport called %d times, want never", transport.calls)
		}
		if rows := outbox(t, db); len(rows) != 0 {
			t.Errorf("outbox has %d rows, want none", len(rows))
		}
	})
}

func TestRetriesWithBackoffThenFails(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, _ := testDB(t)
		enqueue(t, db, resetMessage("alice@example.com"))
		c := newClock()
		transport := &recorder{hook: func(context.Context, int) error { return errors.New("connection refused") }}
		s := newSender(t, db, transport, c)

		var waits []time.Duration
		for attempt := 1; attempt <= mail.MaxAttempts; attempt++ {
			deliverDue(t, s, 0)
			r := onlyRow(t, db)
			if r.Attempts != attempt || r.LastError == "" || r.LockedUntil != nil {
				t.Fatalf("after attempt %d: row = %+v", attempt, r)
			}
			if attempt == mail.MaxAttempts {
				if r.FailedAt == nil {
					t.Errorf("not marked failed after %d attempts", attempt)
				}
				break
			}
			wait := r.NextAttemptAt.Sub(c.Now())
			waits = append(waits, wait.Round(time.Second))
			c.add(wait - time.Second)
			deliverDue(t, s, 0) // not due yet
			c.add(time.Second)
		}
		want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
			16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
		if !slices.Equal(waits, want) {
			t.Errorf("waits = %v, want %v", waits, want)
		}
		c.add(24 * time.Hour)
		deliverDue(t, s, 0)
		if transport.calls != mail.MaxAttempts {
			t.Errorf("transport called %d times, want %d", transport.calls, mail.MaxAttempts)
		}
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 8: time.Hour, 100: time.Hour} {
		if got := mail.Backoff(attempt); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

func TestTwoSendersNeverSendTwice(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, path := testDB(t)
		const mails = 30
		for i := range mails {
			enqueue(t, db, resetMessage(fmt.Sprintf("user%d@example.com", i)))
		}
		// Two app instances: each its own connections to the database, its own
		// sender and its own transport.
		transports := []*recorder{{}, {}}
		var wg sync.WaitGroup
		for i, transport := range transports {
			transport.hook = func(context.Context, int) error { time.Sleep(time.Millisecond); return nil }
			s := newSender(t, openDB(t, path), transport, nil)
			for range 2 {
				wg.Go(func() {
					if _, err := s.DeliverDue(context.Background()); err != nil {
						t.Errorf("sender %d: %v", i, err)
					}
				})
			}
		}
		wg.Wait()

		seen := map[string]int{}
		for _, transport := range transports {
			for _, raw := range transport.messages() {
				seen[parseMail(t, raw).header.Get("Message-ID")]++
			}
		}
		if len(seen) != mails {
			t.Errorf("%d distinct mails sent, want %d", len(seen), mails)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s sent %d times", id, n)
			}
		}
		for _, r := range outbox(t, db) {
			if r.SentAt == nil || r.Attempts != 1 {
				t.Errorf("row %d = %+v, want sent after one attempt", r.ID, r)
			}
		}
	})
}

func TestSenderDyingMidDelivery(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, path := testDB(t)
		enqueue(t, db, resetMessage("alice@example.com"))

		// The first instance hangs in its transport, as a process that died
		// there would: it neither sends the mail nor records anything.
		blocked, release := make(chan struct{}), make(chan struct{})
		hung := &recorder{hook: func(context.Context, int) error {
			close(blocked)
			<-release
			return errors.New("the process died")
		}}
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := newSender(t, db, hung, nil).DeliverDue(context.Background()); err != nil {
				t.Error(err)
			}
		}()
		<-blocked

		// The restarted instance finds the mail claimed, until the claim runs out.
		c := newClock()
		var transport recorder
		restarted := newSender(t, openDB(t, path), &transport, c)
		deliverDue(t, restarted, 0)
		c.add(mail.LeaseDuration + time.Second)
		deliverDue(t, restarted, 1)
		deliverDue(t, restarted, 0)

		// The first instance's late bookkeeping must not undo the second's.
		close(release)
		<-done
		if n := len(transport.messages()); n != 1 || len(hung.messages()) != 0 {
			t.Errorf("mail sent %d + %d times, want once", n, len(hung.messages()))
		}
		if r := onlyRow(t, db); r.SentAt == nil || r.Attempts != 1 || r.LastError != "" {
			t.Errorf("row = %+v, want sent after one attempt", r)
		}
	})
}

func TestStoppingRunLetsTheDeliveryFinish(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, path := testDB(t)
		enqueue(t, db, resetMessage("alice@example.com"))

		// The transport is slow and does not heed its context.
		blocked, release := make(chan struct{}), make(chan struct{})
		slow := &recorder{hook: func(context.Context, int) error {
			close(blocked)
			<-release
			return nil
		}}
		s := newSender(t, db, slow, nil)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Run(ctx)
		}()
		<-blocked
		stop()
		close(release)
		<-done

		if r := onlyRow(t, db); r.SentAt == nil || r.LockedUntil != nil {
			t.Errorf("row = %+v, want sent", r)
		}
		var transport recorder
		deliverDue(t, newSender(t, openDB(t, path), &transport, nil), 0)
		if n := len(slow.messages()) + len(transport.messages()); n != 1 {
			t.Errorf("mail sent %d times, want once", n)
		}
	})
}

func TestRunWakesOnNotify(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, _ := testDB(t)
		sent := make(chan struct{}, 1)
		transport := &recorder{hook: func(context.Context, int) error { sent <- struct{}{}; return nil }}
		s := newSender(t, db, transport, nil)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Run(ctx)
		}()
		defer func() {
			stop()
			<-done
		}()

		enqueue(t, db, resetMessage("alice@example.com"))
		s.Notify()
		select {
		case <-sent:
		case <-time.After(5 * time.Second):
			t.Fatal("mail not sent")
		}
	})
}

func TestDeleteSentBefore(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, testDB func(*testing.T) (*bun.DB, string)) {
		db, _ := testDB(t)
		ctx := context.Background()
		now := time.Now().UTC()
		for _, to := range []string{"sent@example.com", "failed@example.com", "pending@example.com"} {
			enqueue(t, db, resetMessage(to))
		}
		for column, to := range map[string]string{"sent_at": "sent@example.com", "failed_at": "failed@example.com"} {
			_, err := db.NewUpdate().Table("mail_outbox").Set("? = ?", bun.Ident(column), now).Where("recipient = ?", to).Exec(ctx)
			if err != nil {
				t.Fatal(err)
			}
		}

		if err := mail.DeleteSentBefore(ctx, db, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if rows := outbox(t, db); len(rows) != 3 {
			t.Errorf("%d rows left after deleting mail sent over an hour ago, want 3", len(rows))
		}
		if err := mail.DeleteSentBefore(ctx, db, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, r := range outbox(t, db) {
			left = append(left, r.Recipient)
		}
		if want := []string{"failed@example.com", "pending@example.com"}; !slices.Equal(left, want) {
			t.Errorf("left %q, want %q", left, want)
		}
	})
}
