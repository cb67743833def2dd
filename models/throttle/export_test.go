package throttle

import "time"

// SetNow makes the limiter read the time from now.
func (l *Limiter) SetNow(now func() time.Time) { l.now = now }
