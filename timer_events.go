package streamz

import (
	"context"
	"math"
	"sync"
	"time"
)

// This file holds what the processors with deadlines share: the driver of
// their loop (runClocked) and the one timer that wakes it when a deadline
// comes (periodTimer). How a loop waits (receive, send, and the settle hook
// of a FakeClock) is in loop.go.
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
// input without waiting for the event to be taken. runClocked applies the
// rule for every processor with deadlines; each supplies only what its
// deadlines, inputs and close do (clocked).

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

// schedule sets the pending deadline, 0 for none, when now is the loop's
// latest reading of the clock; a deadline must be after now. It makes sure
// the loop will be woken once the clock reaches the deadline: it arms the
// timer, moves its deadline, or, for 0, disarms it. A later deadline
// re-arms nothing while a timer is armed (fire re-arms for the remainder),
// and if an event is owed, taken re-arms when the loop takes it; any other
// change goes to moveBack. Only the loop's goroutine writes the deadline,
// so it reads it here without the lock.
func (p *periodTimer) schedule(deadline, now time.Duration) {
	if deadline <= p.deadline {
		p.moveBack(deadline, now)
		return
	}
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

// moveBack is schedule for a deadline no later than the pending one: the
// same one costs nothing, 0 disarms, and an earlier one resets an armed
// timer, which is still the same arm. If the timer cannot be stopped, its
// goroutine is already running and re-arms for the new deadline itself; if
// an event is owed, taken does. The timer is never idle here with a
// deadline pending, since that deadline has been reached and a new one is
// after now.
func (p *periodTimer) moveBack(deadline, now time.Duration) {
	switch {
	case deadline == p.deadline:
	case deadline == 0:
		p.disarmAt(now)
	default:
		p.mu.Lock()
		p.deadline = deadline
		if p.state == timerArmed && p.timer.Stop() {
			p.timer.Reset(deadline - now)
		}
		p.mu.Unlock()
	}
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

// clocked is what a processor with deadlines supplies to runClocked, which
// does everything else: it receives, takes the timer's events, applies the
// time-first rule, arms the one timer, and handles cancel and close with
// their observer events. Every method is called on the loop's goroutine,
// with now the clock's reading as the time since the timer's base
// (noReading for an untimed loop; see clockLoop). A method that sends
// reports false when ctx ended during a send, and runClocked then reports
// the cancel and ends.
//
// After each call the processor's earliest deadline must be what it last
// gave wakeAt, later than now; due is called exactly when the clock has
// reached that deadline, so a processor never compares now with it itself.
type clocked[T any] interface {
	// due applies every deadline that now has reached: it emits what they
	// release, in order, and gives wakeAt the next deadline before sending.
	due(now time.Duration) bool
	// input handles r, received when the clock read now, after every
	// deadline now has reached has been applied.
	input(r Result[T], now time.Duration) bool
	// flush emits everything still held when the input closes, after
	// due has applied what was due.
	flush(now time.Duration) bool
	// held is how many items a cancel now loses: what EventCancel counts,
	// besides an item that deliver could not send.
	held() int
	// loseHeld settles every item held as Lost, for a cancel. runClocked
	// calls it only when settling applies.
	loseHeld()
	// driver is promoted from the embedded clockLoop.
	driver() *clockLoop
}

// heldCount is held for a processor that holds at most one item.
func heldCount(holding bool) int {
	if holding {
		return 1
	}
	return 0
}

// clockLoop is the state runClocked keeps for one Process call. A
// processor embeds it in its own state and starts the loop with
// startClocked.
type clockLoop struct {
	lp    *loop
	rep   *eventReporter // nil when the processor has no observer
	timer *periodTimer
	// untimed is set for a configuration that never needs the clock (such
	// as a Batcher without MaxLatency), and while a processor has no
	// deadline that an input could meet and reads the clock itself when it
	// sets one (a Retry, a closed CircuitBreaker): the loop then reads no
	// clock for an input or the close, and now is noReading there.
	untimed bool
	// lost is how many items deliver was sending when ctx ended.
	lost int
	// settling is set when the processor's items may be Settlers: what it
	// drops on purpose it settles as Discarded, and what a cancel loses
	// runClocked settles as Lost (see Settler).
	settling bool
	// paused is set while the processor takes no input: a RateLimiter in
	// wait mode holding an item until its token accrues, or a Retry
	// waiting to try an item again, which is their back-pressure on the
	// producer. The loop then waits for the timer and ctx alone, and sees
	// neither an input nor the close of in. No input can meet a deadline
	// set while paused, so a processor that sets deadlines only then may
	// be untimed, and read the clock itself when it sets one (Retry).
	paused bool
}

// driver returns c; embedding clockLoop gives a processor's state this
// method, through which runClocked finds the state it keeps.
func (c *clockLoop) driver() *clockLoop { return c }

// startClocked starts the loop of one Process call of p, from in to out,
// timed by clock and observed through rep, and returns out; caller names
// the Process for newLoop's panic on a nil ctx. It must be
// called in Process: it registers the loop for settling and reads the
// timer's base before returning.
func startClocked[T, O any](ctx context.Context, caller string, clock Clock, rep *eventReporter, p clocked[T], in <-chan Result[T], out chan O) <-chan O {
	c := p.driver()
	c.lp = newLoop(ctx, caller, clock, in, out)
	c.rep = rep
	c.settling = settles[T]()
	c.timer = newPeriodTimer(clock)
	c.timer.rep = rep
	go runClocked(c, p, in, out)
	return out
}

// now reads the clock, unless the loop is untimed.
func (c *clockLoop) now() time.Duration {
	if c.untimed {
		return noReading
	}
	return c.timer.now()
}

// wakeAt sets the processor's next deadline, 0 for none, when the clock
// read now: it arms the timer, moves its deadline, or disarms it. A
// processor calls it whenever its earliest deadline changes, and before
// sending what a deadline released, so that a loop blocked on a slow
// consumer holds no timer for what it has already decided. Giving it the
// deadline already set costs a comparison.
func (c *clockLoop) wakeAt(deadline, now time.Duration) { c.timer.schedule(deadline, now) }

// deliver sends r, which stands for n items the processor no longer holds,
// and reports whether it was delivered; when ctx ends first, the n items
// count among what the cancel loses.
func deliver[O any](c *clockLoop, out chan<- O, r O, n int) bool {
	if send(c.lp, out, r) {
		return true
	}
	c.lost = n
	return false
}

// emitItem delivers r, one item that went out for reason when the clock
// read now, and reports its EventEmit.
func emitItem[T any](c *clockLoop, out chan<- Result[T], r Result[T], reason string, now time.Duration) bool {
	if !deliver(c, out, r, 1) {
		return false
	}
	c.rep.reportSince(EventEmit, reason, 1, c.timer.base, now)
	return true
}

// runClocked is the loop of a processor with deadlines, p, whose state
// embeds c, from in to out; the output is closed when it returns.
//
// On each input it reads the clock once and, if that reading has reached
// the deadline given to wakeAt, calls due before input (the time-first
// rule). A timer event only wakes the loop: due is called if the deadline
// has still been reached, which an input may already have applied or moved
// later. While the processor is paused, nothing is taken from in, and its
// close is seen only once the pause ends. When in closes, what is due goes
// out for its deadline and the rest for the close; when ctx ends, the
// cancel is reported with what it loses, and nothing more is sent. Either way the timer is disarmed before
// EventClose, which is the last event.
func runClocked[T, O any](c *clockLoop, p clocked[T], in <-chan Result[T], out chan<- O) {
	defer c.lp.exit()
	defer close(out)
	defer c.rep.report(EventClose, "", 0)
	defer c.timer.disarm()
	for {
		src, events := in, c.timer.events
		if c.paused {
			src = nil
		}
		if c.timer.deadline == 0 {
			// Nothing is armed and no event is owed (disarm waits for
			// one), so none can come: a select with one case fewer is
			// cheaper to block in.
			events = nil
		}
		r, ok, gotEvent, stop := receive(c.lp, events, src)
		switch {
		case stop:
			c.cancelled(p)
			return
		case gotEvent:
			c.timer.taken()
			if !applyDue(c, p, c.timer.now()) {
				return
			}
		case !ok:
			now := c.now()
			if applyDue(c, p, now) && !p.flush(now) {
				c.cancelled(p)
			}
			return
		default:
			now := c.now()
			// applyDue, written out: this is the per-item path.
			if d := c.timer.deadline; d != 0 && now >= d && !p.due(now) {
				c.cancelled(p)
				return
			}
			if !p.input(r, now) {
				c.cancelled(p)
				return
			}
		}
	}
}

// applyDue calls p.due if now has reached the deadline, and reports false
// if ctx ended during its sends, after reporting the cancel.
func applyDue[T any](c *clockLoop, p clocked[T], now time.Duration) bool {
	if d := c.timer.deadline; d == 0 || now < d || p.due(now) {
		return true
	}
	c.cancelled(p)
	return false
}

// cancelled reports the end of ctx with the items it loses, and settles
// them as Lost.
func (c *clockLoop) cancelled(p interface {
	held() int
	loseHeld()
}) {
	if c.rep != nil {
		c.rep.report(EventCancel, "", c.lost+p.held())
	}
	if c.settling {
		p.loseHeld()
	}
}
