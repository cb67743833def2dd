package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/uptrace/bun"
	gomail "github.com/wneessen/go-mail"
)

// MaxAttempts is how many times a mail is tried before it is marked failed.
const MaxAttempts = 10

const (
	// firstRetry is the wait after a first failed attempt; it doubles with
	// each further one, up to maxRetry: ten attempts span about three hours.
	firstRetry = 30 * time.Second
	maxRetry   = time.Hour
	// pollInterval is how often a running sender looks for due mail
	// when nobody calls Notify.
	pollInterval = time.Second
	// sendTimeout bounds one delivery. It is well inside leaseDuration, so
	// that a live sender never loses its claim to another while sending.
	sendTimeout = 2 * time.Minute
	// leaseDuration is how long a claim on a mail holds: after that, the
	// sender is taken for dead and another may claim the mail.
	leaseDuration = 5 * time.Minute
	// recordTimeout bounds the bookkeeping around a delivery.
	recordTimeout = 30 * time.Second
	// shutdownGrace is how long a delivery under way may go on once Run's
	// context has ended.
	shutdownGrace = 10 * time.Second
	// batchSize is how many due mails are looked up at once.
	batchSize = 20
)

// Sender delivers the outbox's due mail through a transport, retrying failed
// attempts with exponential backoff. Senders in several app instances may
// share an outbox.
//
// A sender claims a mail before sending it, with a conditional UPDATE that
// sets locked_until, and marks it sent afterwards, on the condition that it
// still holds that claim; a claim that is not released runs out after
// five minutes. So no two senders send a mail at once, and a mail whose
// sender died is sent again later. This is exactly once but for one window:
// a sender that dies after the server accepted the mail and before the mark
// is written (the server's reply on its way, then an UPDATE of one row)
// leaves the mail to be sent again. Both copies carry the same Message-ID,
// fixed at enqueue, so the duplicate is recognisable; the file transport
// overwrites its first copy.
// Stopping Run need not open the window: the delivery under way is given ten
// seconds to finish and is then marked sent, though Run's context has ended.
type Sender struct {
	db        bun.IDB
	transport Transport
	from      *netmail.Address
	domain    string // of the From address, for Message-IDs
	log       *slog.Logger
	wake      chan struct{}
	now       func() time.Time
	grace     time.Duration
}

// NewSender returns a sender of db's outbox through transport, with the From
// address from (for example "Gatehouse <noreply@example.com>").
func NewSender(db bun.IDB, transport Transport, from string, logger *slog.Logger) (*Sender, error) {
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: unable to use %q as the From address: %w", from, err)
	}
	return &Sender{
		db:        db,
		transport: transport,
		from:      addr,
		domain:    addr.Address[strings.LastIndex(addr.Address, "@")+1:],
		log:       logger,
		wake:      make(chan struct{}, 1),
		now:       time.Now,
		grace:     shutdownGrace,
	}, nil
}

// Notify makes a running sender look for due mail now rather than at its
// next poll; call it once the transaction that enqueued mail has committed.
func (s *Sender) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers due mail until ctx ends, when Notify is called and every
// second. It logs what it sends and what fails. Once ctx has ended, Run claims
// no more mail and returns when the delivery under way, given up to ten
// seconds more, has ended.
func (s *Sender) Run(ctx context.Context) {
	// A delivery cut short may already have been accepted, and its mail is
	// then sent twice: let it finish instead, unless it takes too long.
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(s.grace, cancel) })
	defer stop()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if _, err := s.deliverDue(ctx, sendCtx); err != nil && ctx.Err() == nil {
			s.log.Error("delivering mail failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-ticker.C:
		}
	}
}

// DeliverDue delivers the mail that is due and returns how many it sent.
// Ending ctx cuts the delivery under way short.
func (s *Sender) DeliverDue(ctx context.Context) (int, error) {
	return s.deliverDue(ctx, ctx)
}

// deliverDue claims due mail under ctx and sends it under sendCtx, until no
// mail is due or ctx ends.
func (s *Sender) deliverDue(ctx, sendCtx context.Context) (int, error) {
	sent := 0
	for {
		ids, err := s.dueIDs(ctx)
		if err != nil || len(ids) == 0 {
			return sent, err
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return sent, err
			}
			ok, err := s.deliver(ctx, sendCtx, id)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
}

// dueIDs lists the pending mail that is due and unclaimed, oldest first.
func (s *Sender) dueIDs(ctx context.Context) ([]int64, error) {
	now := s.now().UTC()
	var ids []int64
	err := s.db.NewSelect().Model((*outboxMail)(nil)).Column("id").
		Where("sent_at IS NULL").Where("failed_at IS NULL").Where("next_attempt_at <= ?", now).
		Where("(locked_until IS NULL OR locked_until < ?)", now).
		OrderExpr("next_attempt_at, id").Limit(batchSize).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("mail: unable to list due mail: %w", err)
	}
	return ids, nil
}

// deliver claims the mail with id, sends it and records how that went. It
// reports whether it sent the mail; another sender's claim makes it do nothing.
func (s *Sender) deliver(ctx, sendCtx context.Context, id int64) (bool, error) {
	now := s.now().UTC()
	// The lease doubles as the claim's token, so it must read back as written.
	lease := now.Add(leaseDuration).Truncate(time.Microsecond)
	res, err := s.db.NewUpdate().Model((*outboxMail)(nil)).Set("locked_until = ?", lease).
		Where("id = ?", id).Where("sent_at IS NULL").Where("failed_at IS NULL").Where("next_attempt_at <= ?", now).
		Where("(locked_until IS NULL OR locked_until < ?)", now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mail: unable to claim mail #%d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}

	// The claim is held: the bookkeeping goes on even if ctx ends, lest the
	// mail wait out the lease.
	loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	m := new(outboxMail)
	if err := s.db.NewSelect().Model(m).Where("id = ?", id).Scan(loadCtx); err != nil {
		return false, fmt.Errorf("mail: unable to load mail #%d: %w", id, err)
	}
	msg, err := s.message(m)
	var receipt string
	if err != nil {
		err = permanentError{err}
	} else {
		attemptCtx, cancel := context.WithTimeout(sendCtx, sendTimeout)
		receipt, err = s.transport.Send(attemptCtx, msg)
		cancel()
	}
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return err == nil, s.record(recordCtx, m, lease, receipt, err, sendCtx.Err() != nil)
}

// record writes the outcome of an attempt at m, provided the claim made with
// lease still holds, and logs it.
func (s *Sender) record(ctx context.Context, m *outboxMail, lease time.Time, receipt string, sendErr error, interrupted bool) error {
	now := s.now().UTC()
	attempt := m.Attempts + 1
	q := s.db.NewUpdate().Model((*outboxMail)(nil)).Set("locked_until = NULL").
		Where("id = ?", m.ID).Where("locked_until = ?", lease)
	log := s.log.With("message_id", s.messageID(m), "to", m.Recipient)
	var outcome func()
	switch {
	case sendErr == nil:
		q = q.Set("sent_at = ?", now).Set("attempts = ?", attempt).Set("last_error = ''")
		outcome = func() { log.Info("mail sent", "receipt", receipt) }
	case interrupted:
		// The sender is stopping: not the mail's fault, so not an attempt.
		outcome = func() { log.Info("mail delivery interrupted, to be retried", "err", sendErr) }
	case errors.As(sendErr, new(permanentError)) || attempt >= MaxAttempts:
		q = q.Set("failed_at = ?", now).Set("attempts = ?", attempt).Set("last_error = ?", sendErr.Error())
		outcome = func() { log.Error("mail failed for good", "attempts", attempt, "err", sendErr) }
	default:
		retryAt := now.Add(backoff(attempt))
		q = q.Set("next_attempt_at = ?", retryAt).Set("attempts = ?", attempt).Set("last_error = ?", sendErr.Error())
		outcome = func() {
			log.Warn("mail delivery failed, to be retried", "attempt", attempt, "retry_at", retryAt, "err", sendErr)
		}
	}
	res, err := q.Exec(ctx)
	if err != nil {
		if sendErr == nil {
			log.Error("mail sent but not marked sent: it will be sent again", "receipt", receipt, "err", err)
		}
		return fmt.Errorf("mail: unable to record an attempt at mail #%d: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		log.Warn("mail claim ran out during delivery: another sender may send it too", "receipt", receipt, "err", sendErr)
		return nil
	}
	outcome()
	return nil
}

// backoff returns the wait after the attempt-th failed attempt.
func backoff(attempt int) time.Duration {
	wait := firstRetry
	for i := 1; i < attempt && wait < maxRetry; i++ {
		wait *= 2
	}
	return min(wait, maxRetry)
}

// messageID returns m's Message-ID: its token at the From address's domain.
func (s *Sender) messageID(m *outboxMail) string { return m.MessageID + "@" + s.domain }

// message builds m's MIME message, the same for every attempt: its Date is
// when it was enqueued.
func (s *Sender) message(m *outboxMail) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.Recipient); err != nil {
		return nil, fmt.Errorf("mail: unable to address mail #%d: %w", m.ID, err)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetMessageIDWithValue(s.messageID(m))
	msg.SetBodyString(gomail.TypeTextPlain, m.TextBody)
	if m.HTMLBody != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTMLBody)
	}
	return msg, nil
}
