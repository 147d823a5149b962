package streamz

import (
	"math"
	"sync"
	"time"
)

// This file holds what the processors with deadlines share: the timer that
// wakes a processor's loop when a period ends. How a loop waits (receive,
// send, and the settle hook of a FakeClock) is in loop.go.
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
// or has since moved later, finds nothing due and at most re-arms the timer
// for what remains. This is what makes the processors deterministic under a
// FakeClock or testing/synctest, where a test can move time and send an
// input without waiting for the event to be taken.

// deadlineAfter returns the instant d after t, both measured since a
// timer's base. It saturates at the largest Duration instead of wrapping, so
// a huge d, such as math.MaxInt64 meant as "forever", gives a deadline that
// the clock does not reach rather than one in the past. Every deadline a
// processor computes from a configured duration goes through it.
func deadlineAfter(t, d time.Duration) time.Duration {
	if d > 0 && t > math.MaxInt64-d {
		return math.MaxInt64
	}
	return t + d
}

// stateEvent is what the timer goroutine sends when the clock has reached
// the pending deadline. It carries nothing: the loop reads the clock. It is
// an alias so that a ctx.Done() channel can be receive's events too, as
// TakeUntil's stop is.
type stateEvent = struct{}

// periodTimer wakes one Process loop when the clock reaches the deadline of
// what is pending. Its events channel is written by a goroutine that the
// Clock starts when the timer fires (the AfterFunc goroutine for RealClock;
// Advance's goroutine for FakeClock).
//
// The loop moves the deadline with schedule, which re-arms nothing while a
// timer is armed: when the armed timer fires before the deadline, its own
// goroutine re-arms it for the remainder, so a burst that moves a Debounce
// deadline a million times arms one timer. The re-arm belongs there and
// not in the loop, because a FakeClock stands still at the firing instant
// while that goroutine runs (and fires a timer re-armed inside the window
// in the same Advance), whereas the loop's reading of the clock may be
// stale by the time it re-arms, with an Advance running concurrently.
//
// One event is owed per firing that reaches the deadline, and nothing is
// re-armed while an event is owed, so at most one timer goroutine exists
// per Process call and the one-slot buffer never makes it wait. The Timer
// is made once and re-armed with Reset, so a period costs no allocation.
//
// The loop disarms the timer whenever it emits what was pending, so a
// FakeClock shows a waiter exactly while something that has been timed is
// pending, and BlockUntilContext can tell a test when that is.
//
// With rep set, the timer reports its life to the processor's observer,
// always from the loop's goroutine: an arm when schedule starts a timer
// that is not armed, a stop when disarm stops one before it goes off, and
// a fire when the loop takes the event (in taken, or in disarm when an
// event is owed), never from the timer's goroutine, which would race the
// loop's own events. A re-arm for a deadline that has moved is part of the
// same arm. So every arm is matched by exactly one fire or stop, and once
// the loop's last disarm returns, every arm has been.
type periodTimer struct {
	clock  Clock
	events chan stateEvent
	rep    *eventReporter // nil when the processor has no observer

	base time.Time // the clock reading that durations are measured from

	mu       sync.Mutex // shared by the loop and the timer goroutine
	timer    Timer
	deadline time.Duration // since base, of what is pending; 0 when nothing is
	state    timerState
}

type timerState uint8

const (
	timerIdle  timerState = iota // not armed, no event owed
	timerArmed                   // armed, or its goroutine is deciding
	timerOwed                    // an event is sent or on its way, not yet taken
)

func newPeriodTimer(clock Clock) *periodTimer {
	return &periodTimer{clock: clock, events: make(chan stateEvent, 1), base: clock.Now()}
}

// now reads the clock as the time since base. For RealClock that is one
// read of the monotonic clock, where Now reads the wall clock too.
func (p *periodTimer) now() time.Duration { return p.clock.Since(p.base) }

// schedule sets the pending deadline, which must be after now, the loop's
// latest reading of the clock, and makes sure the loop will be woken once
// the clock reaches it. If an event is owed, taken re-arms for the new
// deadline when the loop takes that event.
func (p *periodTimer) schedule(deadline, now time.Duration) {
	p.mu.Lock()
	p.deadline = deadline
	if p.state != timerIdle {
		p.mu.Unlock()
		return
	}
	p.state = timerArmed
	if p.timer == nil {
		p.timer = p.clock.AfterFunc(deadline-now, p.fire)
	} else {
		p.timer.Reset(deadline - now)
	}
	p.mu.Unlock()
	// Reported outside the lock, so that a slow observer never holds up the
	// timer's goroutine (or an Advance running it).
	p.rep.reportSince(EventTimerArm, "", 0, p.base, now)
}

func (p *periodTimer) fire() {
	p.mu.Lock()
	if p.rearmLocked() {
		p.mu.Unlock()
		return
	}
	p.state = timerOwed
	p.mu.Unlock()
	p.events <- stateEvent{}
}

// rearmLocked re-arms the timer for what remains of the deadline, if the
// clock has not reached it, and reports whether it did. p.mu must be held.
func (p *periodTimer) rearmLocked() bool {
	if p.deadline == 0 {
		return false
	}
	now := p.now()
	if now >= p.deadline {
		return false
	}
	p.timer.Reset(p.deadline - now)
	return true
}

// taken must be called when the loop receives an event. The event means
// the clock had reached the deadline when the timer's goroutine looked; if
// an input has moved the deadline since, taken re-arms for the remainder,
// so the loop only has to emit what is due.
func (p *periodTimer) taken() {
	p.mu.Lock()
	p.state = timerIdle
	rearmed := p.rearmLocked()
	if rearmed {
		p.state = timerArmed
	}
	p.mu.Unlock()
	p.rep.report(EventTimerFire, "", 0)
	if rearmed {
		// The timer went off, so this is a new arm, not a moved deadline.
		p.rep.report(EventTimerArm, "", 0)
	}
}

// disarm clears the deadline and stops the timer. If the timer's goroutine
// is already running, disarm waits for its event, so that the event cannot
// be mistaken for a later period's and no timer goroutine outlives Process.
func (p *periodTimer) disarm() { p.disarmAt(noReading) }

// disarmAt is disarm for a loop that has just read the clock as now (or
// noReading): a stop it reports is timed by that reading, so that
// observing costs no clock read per period.
func (p *periodTimer) disarmAt(now time.Duration) {
	p.mu.Lock()
	p.deadline = 0
	stopped := p.state == timerArmed && p.timer.Stop()
	if stopped {
		p.state = timerIdle
	}
	owed := p.state != timerIdle
	p.mu.Unlock()
	if stopped {
		p.rep.reportSince(EventTimerStop, "", 0, p.base, now)
	}
	if owed {
		// The timer went off: taken reports the fire.
		<-p.events
		p.taken()
	}
}
