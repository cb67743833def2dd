// Package hashpool schedules password hashing: a few hashes at a time, with
// a bounded queue in front.
package hashpool

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by Run when a new caller would wait too long.
var ErrBusy = errors.New("hashpool: too many hashes waiting")

// Config sizes a Pool.
type Config struct {
	Concurrent int           // work items running at once, at least 1
	MaxWait    time.Duration // longest expected wait before Run refuses; 0 means no limit
	// CollectAfter runs the garbage collector after each work item, for
	// work that allocates much and briefly (an argon2 hash: 7 MiB, with
	// the app's 28 MiB soft memory limit): collecting before the slot is
	// free returns that memory before the next item asks for its own, so
	// the heap holds one item's worth per slot.
	CollectAfter bool
}

// Pool runs CPU- and memory-hungry work items a few at a time.
type Pool struct {
	slots   chan struct{}
	maxWait time.Duration
	collect bool
	waiting atomic.Int64
	average atomic.Int64 // nanoseconds a work item takes, a moving average
}

// New returns a pool sized by cfg.
func New(cfg Config) *Pool {
	return &Pool{slots: make(chan struct{}, max(1, cfg.Concurrent)), maxWait: cfg.MaxWait, collect: cfg.CollectAfter}
}

// Run runs work once a slot is free and returns when it has finished, or
// returns ErrBusy at once if the callers already waiting would keep this one
// waiting longer than MaxWait: a flood of logins is refused fast rather than
// pushing a real user's login back by seconds. The wait is estimated from
// how long work items took so far, so it holds whatever a hash costs.
func (p *Pool) Run(work func()) error {
	if err := p.acquire(); err != nil {
		return err
	}
	defer func() { <-p.slots }()
	// No lower thread priority here: argon2 runs its work on goroutines of
	// its own, which a locked, reniced thread would not carry along.
	start := time.Now()
	work()
	p.record(time.Since(start))
	if p.collect {
		runtime.GC()
	}
	return nil
}

// Busy reports whether Run would refuse a new caller now, so that callers
// can refuse before doing any other work for a hash that will not run. As
// Run, it never refuses while a slot is free, however long work items take.
func (p *Pool) Busy() bool {
	return p.maxWait > 0 && len(p.slots) == cap(p.slots) && p.expectedWait(p.waiting.Load()+1) > p.maxWait
}

// expectedWait is how long the waiting-th caller in the queue waits for a slot.
func (p *Pool) expectedWait(waiting int64) time.Duration {
	rounds := (waiting + int64(cap(p.slots)) - 1) / int64(cap(p.slots))
	return time.Duration(rounds * p.average.Load())
}

// acquire takes a slot, waiting for one unless too many callers already are.
func (p *Pool) acquire() error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	waiting := p.waiting.Add(1)
	defer p.waiting.Add(-1)
	if p.maxWait > 0 && p.expectedWait(waiting) > p.maxWait {
		return ErrBusy
	}
	p.slots <- struct{}{}
	return nil
}

// record folds one work item's duration into the moving average.
func (p *Pool) record(took time.Duration) {
	for {
		old := p.average.Load()
		updated := int64(took)
		if old != 0 {
			updated = old + (int64(took)-old)/8
		}
		if p.average.CompareAndSwap(old, updated) {
			return
		}
	}
}
