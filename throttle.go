package streamz

import (
	"context"
	"time"
)

// Throttle lets at most one item through per cooldown period of d.
//
// By default it passes the first item of each cooldown and drops the rest
// (leading edge). A success item passes if no item has passed yet, or if
// Now() >= lastPass + d, where lastPass is the clock reading taken when the
// previous passing item was accepted, before it was sent. Other success
// items are dropped. So an item that arrives exactly when the cooldown ends
// passes. Nothing happens when a cooldown ends until the next item arrives,
// so the default Throttle arms no timer: each decision is one read of the
// clock when the item arrives, which is the time-first rule with nothing
// left over.
//
// WithTrailing(true) adds the trailing edge, as RxJS's throttleTime does
// with {trailing: true}: the last item that arrives during a cooldown is
// held and emitted when that cooldown ends, and that emission starts a new
// cooldown, so outputs are always at least d apart. An item emitted on the
// leading edge is not held, so a lone item comes out once, not twice. With
// d = 1s, leading and trailing, and items a at 0, b at 0.3s, c at 0.6s and
// e at 2.5s:
//
//	time:  0     0.3s  0.6s  1s          2s    2.5s        3.5s
//	in:    a     b     c                       e
//	out:   a                 c                 e
//	       [cooldown       ) [cooldown   )     [cooldown   )
//
// c goes out at 1s and starts a cooldown that ends at 2s with nothing held;
// e arrives after it and passes at once.
//
// WithLeading(false).WithTrailing(true) is the audit pattern: the first
// item starts a cooldown without passing, and only the last item of each
// cooldown is emitted, at its end. With the items above, c goes out at 1s
// and e at 3.5s.
//
// When trailing is on, a timer is armed only while an item is held, and a
// cooldown end that has been reached is applied, emitting the held item,
// before any input that arrives at or after it (the time-first rule).
type Throttle[T any] struct {
	duration time.Duration
	clock    Clock
	leading  bool
	trailing bool
	observer func(Event)
}

// NewThrottle returns a Throttle with cooldown d, timed by clock, that passes
// the leading edge only. A nil clock means RealClock. When d <= 0, every item
// passes, whatever the edges.
func NewThrottle[T any](d time.Duration, clock Clock) *Throttle[T] {
	if clock == nil {
		clock = RealClock
	}
	return &Throttle[T]{duration: d, clock: clock, leading: true}
}

// WithLeading sets whether the first item of a cooldown passes at once
// (default true), and returns the Throttle. It is read when Process is
// called: a later call changes only later Process calls. Process panics if
// both edges are off.
func (th *Throttle[T]) WithLeading(on bool) *Throttle[T] {
	th.leading = on
	return th
}

// WithTrailing sets whether the last item that arrives during a cooldown is
// emitted when the cooldown ends (default false), and returns the Throttle.
// It is read when Process is called: a later call changes only later Process
// calls. Process panics if both edges are off.
func (th *Throttle[T]) WithTrailing(on bool) *Throttle[T] {
	th.trailing = on
	return th
}

// Name returns "throttle".
func (th *Throttle[T]) Name() string { return "throttle" }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the Throttle. Process reads
// it when called, so set it before.
//
// A Process call reports: EventEmit for every success item sent, with
// Count 1 and Reason ReasonLeading (the first item of a cooldown, and every
// item when d <= 0), ReasonTrailing (the item held for the trailing edge,
// when its cooldown ends) or ReasonClose (the held item flushed at the end
// of input), once the consumer has taken it; EventDrop with ReasonCooldown
// for every success item discarded, including, with the trailing edge on,
// a held item replaced by a newer one; with the trailing edge on,
// EventTimerArm when an item is held and a timer starts for the end of its
// cooldown, and then exactly one EventTimerFire (the cooldown ended with no
// input first) or EventTimerStop (an input at or after the end applied it
// first, the input closed, or the call ended); EventCancel when ctx ends,
// with Count the items held or being sent, which are lost; and EventClose
// last, after every timer is done, just before the output is closed. Error
// results pass through unreported. The default leading-only Throttle arms
// no timer, so it reports none.
func (th *Throttle[T]) WithObserver(fn func(Event)) *Throttle[T] {
	th.observer = fn
	return th
}

// Process throttles in and returns the output channel. It panics if both
// edges are off.
//
// Items that pass keep their order. Error results pass through at once and
// neither start, end nor fill a cooldown. When in is closed, an item held
// for the trailing edge is emitted at once, without waiting for its cooldown
// to end (RxJS waits; closing the input here means "flush now", as it does
// for Debounce and Batcher), and then the output is closed; when ctx is
// cancelled, the output is closed promptly, the held item is dropped, even
// if nobody is reading it. Each call keeps its own state, so one Throttle
// can serve many streams.
func (th *Throttle[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	// The options are copied here, so that setters called later do not
	// race with the loop.
	d, clock, leading, trailing := th.duration, th.clock, th.leading, th.trailing
	requireAnEdge(leading, trailing, "Throttle")
	out := make(chan Result[T])
	rep := newEventReporter(th.observer, th.Name(), clock)
	if trailing && d > 0 {
		return startClocked(ctx, "Throttle.Process", clock, rep, &throttleTrailing[T]{out: out, d: d, leading: leading}, in, out)
	}
	return throttleLeading(ctx, clock, rep, d, in, out)
}

// throttleLeading runs the loop of a Throttle with the leading edge only,
// or with d <= 0, from in to out, and returns out. The leading edge holds
// nothing and so has no deadline to apply: its loop is a receive and a
// send, and it stays off runClocked, whose per-item call would cost it
// about a tenth more (BENCHMARKS.md).
func throttleLeading[T any](ctx context.Context, clock Clock, rep *eventReporter, d time.Duration, in <-chan Result[T], out chan Result[T]) <-chan Result[T] {
	lp := newLoop(ctx, "Throttle.Process", clock, in, out)
	settling := settles[T]()
	go func() {
		defer lp.exit()
		defer close(out)
		defer rep.report(EventClose, "", 0)
		// Times are durations since base: for RealClock, Since reads only
		// the monotonic clock.
		base := clock.Now()
		var passed bool
		var cooldownEnds time.Duration
		for {
			r, ok, _, stop := receive[Result[T]](lp, nil, in)
			if stop {
				rep.report(EventCancel, "", 0)
				return
			}
			if !ok {
				return
			}
			now := noReading // with d <= 0 the loop reads no clock
			if r.IsSuccess() && d > 0 {
				now = clock.Since(base)
				if passed && now < cooldownEnds {
					rep.reportSince(EventDrop, ReasonCooldown, 1, base, now)
					settleResult(settling, r, Discarded)
					continue
				}
				passed = true
				cooldownEnds = deadlineAfter(now, d)
			}
			if !send(lp, out, r) {
				rep.report(EventCancel, "", 1)
				return
			}
			if r.IsSuccess() {
				rep.reportSince(EventEmit, ReasonLeading, 1, base, now)
			}
		}
	}()
	return out
}

// throttleCooldown is the state of one stream's cooldowns, for a Throttle
// with the trailing edge on, or of one key's for KeyedThrottle.
type throttleCooldown[T any] struct {
	started bool          // a cooldown has started; it runs until ends
	ends    time.Duration // since the timer's base
	hold    Result[T]     // the last item of the cooldown, for the trailing edge
	holding bool
}

// arrive applies success item r, received when the clock read now. An item
// that finds no cooldown running starts one. It reports whether r goes out
// at once, on the leading edge, and whether an item was dropped: r itself,
// with the trailing edge off, or the held item r replaced. Otherwise r is
// held until c.ends, for the trailing edge. With settling (see clockLoop),
// the dropped item is settled as Discarded.
func (c *throttleCooldown[T]) arrive(r Result[T], now, d time.Duration, leading, trailing, settling bool) (lead, dropped bool) {
	if !c.started || now >= c.ends {
		c.started, c.ends = true, deadlineAfter(now, d)
		if leading {
			return true, false
		}
	}
	if !trailing {
		settleResult(settling, r, Discarded)
		return false, true
	}
	dropped = c.holding
	if dropped {
		settleResult(settling, c.hold, Discarded)
	}
	c.hold, c.holding = r, true
	return false, dropped
}

// release takes the held item, whose cooldown has ended. It goes out then,
// stamped at the end, and starts the next cooldown, which holds nothing
// yet.
func (c *throttleCooldown[T]) release(d time.Duration) Result[T] {
	c.ends = deadlineAfter(c.ends, d)
	return c.take()
}

// take takes the held item.
func (c *throttleCooldown[T]) take() Result[T] {
	r := c.hold
	c.hold, c.holding = Result[T]{}, false
	return r
}

// throttleTrailing is the state of a Throttle with the trailing edge on. It
// is apart from the leading-only loop so that the default configuration
// pays nothing for the timer it needs. The timer is armed exactly while an
// item is held, for the end of its cooldown.
type throttleTrailing[T any] struct {
	clockLoop
	out      chan<- Result[T]
	d        time.Duration
	leading  bool
	cooldown throttleCooldown[T]
}

// due ends the cooldown, whose end has come with an item held.
func (s *throttleTrailing[T]) due(now time.Duration) bool {
	r := s.cooldown.release(s.d)
	s.wakeAt(0, now)
	return emitItem(&s.clockLoop, s.out, r, ReasonTrailing, now)
}

func (s *throttleTrailing[T]) input(r Result[T], now time.Duration) bool {
	if r.IsError() {
		return deliver(&s.clockLoop, s.out, r, 1)
	}
	lead, dropped := s.cooldown.arrive(r, now, s.d, s.leading, true, s.settling)
	if lead {
		return emitItem(&s.clockLoop, s.out, r, ReasonLeading, now)
	}
	if dropped {
		s.rep.reportSince(EventDrop, ReasonCooldown, 1, s.timer.base, now)
	}
	s.wakeAt(s.cooldown.ends, now)
	return true
}

// flush emits the held item at once, for the close; one whose cooldown
// has ended went out for it in due.
func (s *throttleTrailing[T]) flush(now time.Duration) bool {
	if !s.cooldown.holding {
		return true
	}
	s.wakeAt(0, now)
	return emitItem(&s.clockLoop, s.out, s.cooldown.take(), ReasonClose, now)
}

func (s *throttleTrailing[T]) held() int { return heldCount(s.cooldown.holding) }

func (s *throttleTrailing[T]) loseHeld() { s.cooldown.lose() }

// lose settles the held item, if any, as Lost.
func (c *throttleCooldown[T]) lose() {
	if c.holding {
		c.hold.Settle(Lost)
	}
}
