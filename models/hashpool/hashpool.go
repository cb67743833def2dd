// Package hashpool schedules password hashing: a few hashes at a time, with
// a bounded queue in front.
package hashpool

import (
	"errors"
	"runtime"
	"sync/atomic"
)

// ErrBusy is returned by Run when too many callers are already waiting.
var ErrBusy = errors.New("hashpool: too many hashes waiting")

// Config sizes a Pool.
type Config struct {
	Concurrent int // work items running at once, at least 1
	MaxWaiting int // callers waiting for a slot before Run refuses; 0 means no limit
}

// Pool runs CPU- and memory-hungry work items a few at a time.
type Pool struct {
	slots      chan struct{}
	maxWaiting int64
	waiting    atomic.Int64
}

// New returns a pool sized by cfg.
func New(cfg Config) *Pool {
	return &Pool{slots: make(chan struct{}, max(1, cfg.Concurrent)), maxWaiting: int64(cfg.MaxWaiting)}
}

// Run runs work once a slot is free and returns when it has finished, or
// returns ErrBusy at once if MaxWaiting callers are already waiting: a flood
// of logins is refused fast rather than pushing a real user's login back by
// seconds.
func (p *Pool) Run(work func()) error {
	if err := p.acquire(); err != nil {
		return err
	}
	defer func() { <-p.slots }()
	// No lower thread priority here: argon2 runs its work on goroutines of
	// its own, which a locked, reniced thread would not carry along.
	work()
	// An argon2 hash allocates 19 MiB and the app runs with a 36 MiB soft
	// memory limit. Collecting now, before the slot is free, returns that
	// memory before the next hash asks for its own, so the heap holds at
	// most one hash per slot instead of one per hash since the last cycle.
	runtime.GC()
	return nil
}

// acquire takes a slot, waiting for one unless too many callers already are.
func (p *Pool) acquire() error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.maxWaiting > 0 {
		if p.waiting.Add(1) > p.maxWaiting {
			p.waiting.Add(-1)
			return ErrBusy
		}
		defer p.waiting.Add(-1)
	}
	p.slots <- struct{}{}
	return nil
}
