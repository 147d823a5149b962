package streamz

import (
	"context"
	"time"
)

// This file holds what Debounce and Batcher share: the timer that wakes a
// processor's loop when a period ends, and the send that gives up on cancel.
//
// The time-first rule. Each processor's loop selects over its input, the
// timer's events and ctx.Done(). When more than one is ready, Go's select
// picks at random, so an input can be taken before the event of a period
// that has already ended. Events therefore never decide anything: every
// decision compares the injected clock's Now() with the deadline, and a
// deadline counts as reached when Now() >= deadline. On each input, the
// loop first applies any deadline already reached (emits the debounced item
// or the aged batch), and only then handles the input. An event only wakes
// the loop when no input comes; one whose deadline has already been applied,
// or has moved later, finds nothing due and at most re-arms the timer for
// what remains. This is what makes the processors deterministic under a
// FakeClock or testing/synctest, where a test can move time and send an
// input without waiting for the event to be taken.

// stateEvent is what the timer goroutine sends when the period it was armed
// for has ended. It carries nothing: the loop reads the clock.
type stateEvent struct{}

// periodTimer wakes one Process loop when a period ends. Its events channel
// is written by a goroutine that the Clock starts when the period ends (the
// AfterFunc goroutine for RealClock; Advance's goroutine for FakeClock).
//
// One event is owed per arm, and the loop never re-arms while an event is
// owed, so at most one timer goroutine exists per Process call and the
// one-slot buffer never makes it wait. The Timer is made once and then
// re-armed with Reset, so a period costs no allocation.
//
// The loop disarms the timer whenever it emits what the timer was armed
// for, so a FakeClock shows a waiter exactly while something that has been
// timed is pending, and BlockUntilContext can tell a test when that is.
type periodTimer struct {
	clock  Clock
	events chan stateEvent
	timer  Timer
	owed   bool // armed, or fired with its event not yet received
}

func newPeriodTimer(clock Clock) *periodTimer {
	return &periodTimer{clock: clock, events: make(chan stateEvent, 1)}
}

// armFor makes sure the loop is woken within d. If an event is already owed
// it does nothing: that event comes no later than this period ends (periods
// only move later), and the loop re-arms for what remains when it comes.
func (p *periodTimer) armFor(d time.Duration) {
	if p.owed {
		return
	}
	p.owed = true
	if p.timer == nil {
		p.timer = p.clock.AfterFunc(d, p.fire)
		return
	}
	p.timer.Reset(d)
}

func (p *periodTimer) fire() { p.events <- stateEvent{} }

// received must be called when the loop takes an event.
func (p *periodTimer) received() { p.owed = false }

// disarm stops the timer. If it has already fired, disarm waits for its
// goroutine's event, which is on its way, so that the event cannot be
// mistaken for a later period's and no timer goroutine outlives Process.
func (p *periodTimer) disarm() {
	if p.owed && !p.timer.Stop() {
		<-p.events
	}
	p.owed = false
}

// send delivers r on out, or gives up and reports false when ctx ends first,
// so that a processor whose consumer has stopped reading still exits on
// cancel.
func send[T any](ctx context.Context, out chan<- T, r T) bool {
	select {
	case out <- r:
		return true
	case <-ctx.Done():
		return false
	}
}
