package streamz

import (
	"context"
	"time"
)

// Debounce emits an item once its stream has been quiet for a period
// (trailing edge): of a burst, only the last item comes out.
//
// Each success item replaces the pending one and sets its deadline to
// Now() + d. The pending item is emitted when the clock reaches its deadline
// (Now() >= deadline) with no newer item. A deadline is applied before any
// input that arrives after it, so the item goes out first.
//
// A burst does not start a timer per item: one timer is armed per quiet
// period, and when it fires early because newer items moved the deadline,
// it re-arms itself for the remainder.
type Debounce[T any] struct {
	duration time.Duration
	clock    Clock
}

// NewDebounce returns a Debounce with quiet period d, timed by clock. A nil
// clock means RealClock. When d <= 0, every item passes straight through.
func NewDebounce[T any](d time.Duration, clock Clock) *Debounce[T] {
	if clock == nil {
		clock = RealClock
	}
	return &Debounce[T]{duration: d, clock: clock}
}

// Name returns "debounce".
func (db *Debounce[T]) Name() string { return "debounce" }

// Process debounces in and returns the output channel.
//
// Error results pass through at once and leave the pending item and its
// deadline unchanged. When in is closed, the pending item, if any, is
// emitted at once and then the output is closed. When ctx is cancelled, the
// output is closed promptly, without emitting the pending item, even if
// nobody is reading it. Each call keeps its own state, so one Debounce can
// serve many streams.
func (db *Debounce[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	lp := newLoop(ctx, db.clock, in, out)
	go func() {
		defer lp.exit()
		defer close(out)
		timer := newPeriodTimer(db.clock)
		defer timer.disarm()

		var pending Result[T]
		var hasPending bool
		var deadline time.Duration // since the timer's base
		// emitIfDue emits the pending item if now has reached its deadline.
		// It reports false if ctx ended during the send.
		emitIfDue := func(now time.Duration) bool {
			if !hasPending || now < deadline {
				return true
			}
			r := pending
			pending, hasPending = Result[T]{}, false
			timer.disarm()
			return send(lp, out, r)
		}

		for {
			r, ok, gotEvent, stop := receive(lp, timer.events, in)
			switch {
			case stop:
				return
			case gotEvent:
				timer.taken()
				if !emitIfDue(timer.now()) {
					return
				}
			default:
				if !ok {
					if hasPending {
						send(lp, out, pending)
					}
					return
				}
				if db.duration <= 0 {
					if !send(lp, out, r) {
						return
					}
					continue
				}
				now := timer.now()
				if !emitIfDue(now) {
					return
				}
				if r.IsError() {
					if !send(lp, out, r) {
						return
					}
					continue
				}
				pending, hasPending, deadline = r, true, now+db.duration
				timer.schedule(deadline, now)
			}
		}
	}()
	return out
}
