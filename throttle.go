package streamz

import (
	"context"
	"time"
)

// Throttle passes the first item of each cooldown period and drops the rest
// (leading edge).
//
// A success item passes if no item has passed yet, or if Now() >= lastPass
// + d, where lastPass is the clock reading taken when the previous passing
// item was accepted, before it was sent. Other success items are dropped.
// So an item that arrives exactly when the cooldown ends passes.
//
// Nothing happens when a cooldown ends until the next item arrives, so
// Throttle arms no timer: each decision is one read of the clock when the
// item arrives, which is the time-first rule with nothing left over.
type Throttle[T any] struct {
	duration time.Duration
	clock    Clock
}

// NewThrottle returns a Throttle with cooldown d, timed by clock. A nil clock
// means RealClock. When d <= 0, every item passes.
func NewThrottle[T any](d time.Duration, clock Clock) *Throttle[T] {
	if clock == nil {
		clock = RealClock
	}
	return &Throttle[T]{duration: d, clock: clock}
}

// Name returns "throttle".
func (th *Throttle[T]) Name() string { return "throttle" }

// Process throttles in and returns the output channel.
//
// Items that pass keep their order. Error results pass through at once and
// neither start nor end a cooldown. When in is closed, the output is closed;
// when ctx is cancelled, the output is closed promptly, even if nobody is
// reading it. Each call keeps its own state, so one Throttle can serve many
// streams.
func (th *Throttle[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	lp := newLoop(ctx, th.clock, in, out)
	go func() {
		defer lp.exit()
		defer close(out)
		// Times are durations since base: for RealClock, Since reads only
		// the monotonic clock.
		base := th.clock.Now()
		var passed bool
		var cooldownEnds time.Duration
		for {
			r, ok, _, stop := receive[Result[T]](lp, nil, in)
			if stop || !ok {
				return
			}
			if r.IsSuccess() && th.duration > 0 {
				now := th.clock.Since(base)
				if passed && now < cooldownEnds {
					continue
				}
				passed = true
				cooldownEnds = now + th.duration
			}
			if !send(lp, out, r) {
				return
			}
		}
	}()
	return out
}
