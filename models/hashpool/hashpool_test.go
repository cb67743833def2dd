package hashpool

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCapsConcurrency(t *testing.T) {
	const concurrent, callers = 3, 40
	p := New(Config{Concurrent: concurrent})
	var running, most, ran atomic.Int64
	// Every item waits until the pool has been full once: the test sees
	// it at its cap, without work that takes time.
	full := make(chan struct{})
	var fill sync.Once
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			err := p.Run(func() {
				now := running.Add(1)
				for seen := most.Load(); now > seen && !most.CompareAndSwap(seen, now); seen = most.Load() {
				}
				if now == concurrent {
					fill.Do(func() { close(full) })
				}
				<-full
				running.Add(-1)
				ran.Add(1)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() > concurrent {
		t.Errorf("%d work items ran at once, want at most %d", most.Load(), concurrent)
	}
	if ran.Load() != callers {
		t.Errorf("%d of %d work items ran", ran.Load(), callers)
	}
}

// TestNotBusyWithAFreeSlot: on a slow machine a work item may take longer
// than MaxWait, yet a caller who finds a slot free waits for nothing: Busy
// says no, as Run takes the slot. (Busy once counted the caller's own work
// as a wait, and a loaded test machine refused a lone login.)
func TestNotBusyWithAFreeSlot(t *testing.T) {
	p := New(Config{Concurrent: 1, MaxWait: 50 * time.Millisecond})
	p.average.Store(int64(200 * time.Millisecond))
	if p.Busy() {
		t.Fatal("a pool with a free slot is busy")
	}
	if err := p.Run(func() {}); err != nil {
		t.Fatalf("Run with a free slot = %v", err)
	}
}

func TestRunRefusesWhenTheQueueIsFull(t *testing.T) {
	// Work takes 20 ms; a third waiter would wait 60 ms, over the 50 allowed.
	// The average is set, not measured: a loaded machine would stretch it.
	p := New(Config{Concurrent: 1, MaxWait: 50 * time.Millisecond})
	p.average.Store(int64(20 * time.Millisecond))
	release := make(chan struct{})
	var ran atomic.Int64
	block := func() { <-release; ran.Add(1) }

	var wg sync.WaitGroup
	for range 3 { // one runs, two wait
		wg.Go(func() {
			if err := p.Run(block); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(t, func() bool { return p.waiting.Load() == 2 })

	refused := make(chan error, 1)
	go func() { refused <- p.Run(func() { t.Error("work ran although the queue was full") }) }()
	select {
	case err := <-refused:
		if !errors.Is(err, ErrBusy) {
			t.Errorf("Run with a full queue = %v, want ErrBusy", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run with a full queue waited instead of refusing")
	}

	close(release)
	wg.Wait()
	if ran.Load() != 3 {
		t.Errorf("%d of 3 queued work items ran", ran.Load())
	}
	if err := p.Run(func() {}); err != nil {
		t.Errorf("Run after the queue drained = %v", err)
	}
}

func TestRunReraisesPanics(t *testing.T) {
	p := New(Config{Concurrent: 1})
	defer func() {
		if recover() != "boom" {
			t.Error("the work's panic did not reach the caller")
		}
		if err := p.Run(func() {}); err != nil {
			t.Errorf("Run after a panic = %v; the slot was not released", err)
		}
	}()
	_ = p.Run(func() { panic("boom") })
}

func TestRunLeaksNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(Config{Concurrent: 2, MaxWait: time.Millisecond})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _ = p.Run(func() { time.Sleep(time.Millisecond) }) })
	}
	wg.Wait()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

// waitFor polls condition until it holds, failing the test after a few seconds.
func waitFor(t *testing.T, condition func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !condition(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
	}
}

func TestBusy(t *testing.T) {
	// Work takes 20 ms (set, not measured, as above) and one runs at a
	// time; a wait over 50 ms is refused.
	p := New(Config{Concurrent: 1, MaxWait: 50 * time.Millisecond})
	p.average.Store(int64(20 * time.Millisecond))
	if p.Busy() {
		t.Fatal("an idle pool is busy")
	}
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 { // one runs, two wait: a third waiter would wait 60 ms
		wg.Go(func() { _ = p.Run(func() { <-release }) })
	}
	waitFor(t, func() bool { return p.waiting.Load() == 2 })
	if !p.Busy() {
		t.Error("a full queue is not busy")
	}
	close(release)
	wg.Wait()
	p.average.Store(int64(20 * time.Millisecond)) // the blocked items stretched it
	if p.Busy() {
		t.Error("a drained pool is still busy")
	}
}
