// Package mail sends Gatehouse's outgoing mail through an outbox table: a mail
// is written in the transaction of the change that causes it, and a Sender
// delivers it afterwards, retrying with backoff, over SMTP or into a directory.
package mail

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// SentRetention is how long sent mail is kept in the outbox.
const SentRetention = 7 * 24 * time.Hour

// ErrInvalidMessage is returned by Enqueue for a mail that could not be sent.
var ErrInvalidMessage = errors.New("mail: invalid message")

// Message is one mail to one recipient; the From address is the Sender's.
// HTML may be empty for a text-only mail.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// outboxMail is a mail in the outbox, pending, sent or failed.
type outboxMail struct {
	bun.BaseModel `bun:"table:mail_outbox,alias:o"`

	ID            int64      `bun:"id,pk,autoincrement"`
	MessageID     string     `bun:"message_id,notnull"`
	Recipient     string     `bun:"recipient,notnull"`
	Subject       string     `bun:"subject,notnull"`
	TextBody      string     `bun:"text_body,notnull"`
	HTMLBody      string     `bun:"html_body,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	Attempts      int        `bun:"attempts,notnull"`
	NextAttemptAt time.Time  `bun:"next_attempt_at,notnull"`
	LockedUntil   *time.Time `bun:"locked_until"`
	SentAt        *time.Time `bun:"sent_at"`
	FailedAt      *time.Time `bun:"failed_at"`
	LastError     string     `bun:"last_error,notnull"`
}

// Enqueue puts m in the outbox, due now. Pass the transaction of the change
// that causes the mail, so that the mail exists if and only if the change
// does, and call the Sender's Notify once it has committed.
func Enqueue(ctx context.Context, db bun.IDB, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	token, err := newMessageToken(now)
	if err != nil {
		return err
	}
	row := &outboxMail{
		MessageID:     token,
		Recipient:     m.To,
		Subject:       m.Subject,
		TextBody:      m.Text,
		HTMLBody:      m.HTML,
		CreatedAt:     now,
		NextAttemptAt: now,
	}
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("mail: unable to enqueue mail: %w", err)
	}
	return nil
}

// validate refuses a mail that no attempt could send, so that the mistake
// shows where it was made rather than in the sender's log.
func (m Message) validate() error {
	if _, err := netmail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("%w: recipient %q: %w", ErrInvalidMessage, m.To, err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: line break in subject", ErrInvalidMessage)
	}
	if m.Text == "" {
		return fmt.Errorf("%w: no text body", ErrInvalidMessage)
	}
	return nil
}

// newMessageToken returns a fresh left part of a Message-ID: the time, to sort
// by, and 128 random bits, to be unique.
func newMessageToken(now time.Time) (string, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("mail: unable to make a message id: %w", err)
	}
	encoding := base32.StdEncoding.WithPadding(base32.NoPadding)
	return now.Format("20060102150405") + "." + strings.ToLower(encoding.EncodeToString(random)), nil
}

// DeleteSentBefore deletes the mail sent before before; callers pass now
// minus SentRetention. Failed mail stays.
func DeleteSentBefore(ctx context.Context, db bun.IDB, before time.Time) error {
	_, err := db.NewDelete().Model((*outboxMail)(nil)).Where("sent_at < ?", before.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mail: unable to delete mail sent before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return nil
}
