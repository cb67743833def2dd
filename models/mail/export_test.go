package mail

import "time"

// LeaseDuration is how long a sender's claim on a mail holds.
const LeaseDuration = leaseDuration

// Backoff returns the wait after the attempt-th failed attempt.
var Backoff = backoff

// SetNow makes the sender read the time from now.
func (s *Sender) SetNow(now func() time.Time) { s.now = now }

// SetShutdownGrace sets how long Run lets a delivery under way go on once its
// context has ended.
func (s *Sender) SetShutdownGrace(grace time.Duration) { s.grace = grace }
