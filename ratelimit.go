package streamz

import (
	"context"
	"fmt"
	"math"
	"time"
)

// RateLimiter lets items through at a rate per second, with bursts, as a
// token bucket with the arithmetic of golang.org/x/time/rate's Limiter:
// the bucket holds up to burst tokens and starts full; tokens accrue
// continuously, rate per second of the injected clock, up to burst; each
// success item takes one token. Error Results take none.
//
// In wait mode, the default, an item that finds no token is held until its
// token accrues and goes out at exactly that instant, the instant x/time/rate's
// Reserve gives for it (the token is reserved when the item arrives, so the
// bucket goes below zero as Reserve's does). While it holds an item the
// RateLimiter takes no input, so the producer blocks on its send: that is
// the back-pressure, and at most one item is ever held. An error Result
// waits behind the held item, so order is kept. The item takes its token
// when the RateLimiter takes it from the input, so a producer held back
// reserves its next token only once the previous item has gone out,
// exactly as a loop that calls x/time/rate's Wait before each send would.
//
// In drop mode (WithDrop), an item that finds no token is dropped, and
// nothing is ever held: the RateLimiter never blocks its producer for
// longer than its consumer does. As for x/time/rate's Allow, a token is
// there once the wait for it, in whole nanoseconds, truncates to zero, so
// an item may pass up to a nanosecond before its token is whole.
//
// Each decision is made on the clock's reading when the item is taken. A
// held item goes out before any input at or after its instant (the
// time-first rule). One timer is armed, in wait mode only, exactly while
// an item is held.
type RateLimiter[T any] struct {
	limit    tokenLimit
	clock    Clock
	drop     bool
	observer func(Event)
}

// NewRateLimiter returns a RateLimiter in wait mode that lets rate items a
// second through, in bursts of up to burst, timed by clock. A nil clock
// means RealClock. It panics if rate is not a positive finite number or
// burst is below 1.
func NewRateLimiter[T any](rate float64, burst int, clock Clock) *RateLimiter[T] {
	limit := newTokenLimit(rate, burst, "NewRateLimiter")
	if clock == nil {
		clock = RealClock
	}
	return &RateLimiter[T]{limit: limit, clock: clock}
}

// WithDrop sets drop mode (true) or wait mode (false, the default), and
// returns the RateLimiter. It is read when Process is called: a later call
// changes only later Process calls.
func (rl *RateLimiter[T]) WithDrop(on bool) *RateLimiter[T] {
	rl.drop = on
	return rl
}

// Name returns "rate-limiter".
func (rl *RateLimiter[T]) Name() string { return "rate-limiter" }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the RateLimiter. Process
// reads it when called, so set it before.
//
// A Process call reports: EventEmit with Count 1 and ReasonToken for every
// success item sent, once the consumer has taken it; in drop mode,
// EventDrop with ReasonRateLimit for every success item that found no
// token; in wait mode, EventTimerArm when an item is held, and then
// exactly one EventTimerFire (its token accrued) or EventTimerStop (the
// call ended); EventCancel when ctx ends, with Count the item held or
// being sent, which is lost; and EventClose last, just before the output
// is closed. Error results pass unreported.
func (rl *RateLimiter[T]) WithObserver(fn func(Event)) *RateLimiter[T] {
	rl.observer = fn
	return rl
}

// Process limits in and returns the output channel, which is unbuffered.
//
// Items keep their order. When in is closed (which a paused RateLimiter
// sees once its held item has gone out), the output is closed. When ctx is
// cancelled, the output is closed promptly and the item held or being
// sent is dropped, even if nobody is reading; an item that must be settled
// is settled Lost. A dropped item is settled Discarded (see [Settler]).
// Each call has its own bucket, starting full.
func (rl *RateLimiter[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	rep := newEventReporter(rl.observer, rl.Name(), rl.clock)
	s := &rateLimiterLoop[T]{out: out, gate: rateGate[T]{limit: rl.limit, drop: rl.drop}}
	s.bucket.fill(rl.limit)
	return startClocked(ctx, "RateLimiter.Process", rl.clock, rep, s, in, out)
}

// tokenLimit is a token bucket's rate and size.
type tokenLimit struct {
	rate  float64 // tokens per second
	burst float64 // the most tokens the bucket holds, at least 1
}

// newTokenLimit checks and returns the limit of a RateLimiter or
// KeyedRateLimiter, for its constructor fn.
func newTokenLimit(rate float64, burst int, fn string) tokenLimit {
	if !(rate > 0) {
		panic(fmt.Sprintf("streamz: %s: rate must be positive, got %v", fn, rate))
	}
	if math.IsInf(rate, 1) {
		panic(fmt.Sprintf("streamz: %s: rate must be finite, got %v", fn, rate))
	}
	if burst < 1 {
		panic(fmt.Sprintf("streamz: %s: burst must be at least 1, got %d", fn, burst))
	}
	return tokenLimit{rate: rate, burst: float64(burst)}
}

// durationOf is how long the bucket takes to accrue tokens, computed as
// x/time/rate computes it (truncated to the nanosecond, and saturating), so
// that the instants agree with its Reserve to the nanosecond.
func (l tokenLimit) durationOf(tokens float64) time.Duration {
	d := tokens / l.rate * float64(time.Second)
	if d > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// tokenBucket is one bucket's state: tokens as they stood at last. Below
// zero, tokens are owed to a reservation.
type tokenBucket struct {
	tokens float64
	last   time.Duration // since the timer's base
}

// fill makes the bucket full, as a new bucket is.
func (b *tokenBucket) fill(l tokenLimit) { b.tokens, b.last = l.burst, 0 }

// at is what the bucket holds when the clock reads now.
func (b *tokenBucket) at(now time.Duration, l tokenLimit) float64 {
	elapsed := max(now-b.last, 0)
	return min(b.tokens+elapsed.Seconds()*l.rate, l.burst)
}

// reserve takes a token at now, going into debt if there is none, and
// returns the instant the token is there: now, or when it accrues.
func (b *tokenBucket) reserve(now time.Duration, l tokenLimit) time.Duration {
	tokens := b.at(now, l) - 1
	b.tokens, b.last = tokens, now
	if tokens >= 0 {
		return now
	}
	return deadlineAfter(now, l.durationOf(-tokens))
}

// allow takes a token at now if one is there, and reports whether it did.
// One is there when the wait for it rounds to zero, as for x/time/rate's
// Allow.
func (b *tokenBucket) allow(now time.Duration, l tokenLimit) bool {
	tokens := b.at(now, l) - 1
	if tokens < 0 && l.durationOf(-tokens) > 0 {
		return false
	}
	b.tokens, b.last = tokens, now
	return true
}

// fullAt is the instant after which the bucket is full again, and so no
// different from a new one: a keyed bucket can be freed then. The extra
// nanosecond covers durationOf's truncation.
func (b *tokenBucket) fullAt(l tokenLimit) time.Duration {
	return deadlineAfter(deadlineAfter(b.last, l.durationOf(l.burst-b.tokens)), 1)
}

// rateGate is what a RateLimiter and a KeyedRateLimiter share: the mode,
// the one item held in wait mode, and what is done with an item that has
// found its bucket.
type rateGate[T any] struct {
	limit   tokenLimit
	drop    bool
	held    Result[T]
	holding bool
}

// admit lets success item r, received when the clock read now, through
// bucket b: it sends r if a token is there, and otherwise drops it (drop
// mode) or holds it until its token accrues (wait mode), pausing the loop.
func (g *rateGate[T]) admit(c *clockLoop, out chan<- Result[T], b *tokenBucket, r Result[T], now time.Duration) bool {
	if g.drop {
		if !b.allow(now, g.limit) {
			c.rep.reportSince(EventDrop, ReasonRateLimit, 1, c.timer.base, now)
			settleResult(c.settling, r, Discarded)
			return true
		}
		return emitItem(c, out, r, ReasonToken, now)
	}
	at := b.reserve(now, g.limit)
	if at <= now {
		return emitItem(c, out, r, ReasonToken, now)
	}
	g.held, g.holding = r, true
	c.paused = true
	c.wakeAt(at, now)
	return true
}

// release sends the held item, whose token has accrued, and takes input
// again.
func (g *rateGate[T]) release(c *clockLoop, out chan<- Result[T], now time.Duration) bool {
	r := g.held
	g.held, g.holding = Result[T]{}, false
	c.paused = false
	c.wakeAt(0, now)
	return emitItem(c, out, r, ReasonToken, now)
}

// lose settles the held item, if any, as Lost.
func (g *rateGate[T]) lose() {
	if g.holding {
		g.held.Settle(Lost)
	}
}

// rateLimiterLoop is the state of one RateLimiter.Process call.
type rateLimiterLoop[T any] struct {
	clockLoop
	out    chan<- Result[T]
	gate   rateGate[T]
	bucket tokenBucket
}

func (s *rateLimiterLoop[T]) due(now time.Duration) bool {
	return s.gate.release(&s.clockLoop, s.out, now)
}

func (s *rateLimiterLoop[T]) input(r Result[T], now time.Duration) bool {
	if r.IsError() {
		return deliver(&s.clockLoop, s.out, r, 1)
	}
	return s.gate.admit(&s.clockLoop, s.out, &s.bucket, r, now)
}

// flush has nothing to do: the input's close is seen only when nothing is
// held.
func (s *rateLimiterLoop[T]) flush(time.Duration) bool { return true }

func (s *rateLimiterLoop[T]) held() int { return heldCount(s.gate.holding) }

func (s *rateLimiterLoop[T]) loseHeld() { s.gate.lose() }
