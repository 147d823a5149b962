package streamz

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and when a Retry calls its function again for
// an item whose call failed.
//
// The waits between attempts form a sequence: the first is Backoff, each
// next one is the one before times Multiplier, and none is longer than
// MaxBackoff. With Backoff 100ms, Multiplier 2 and MaxBackoff 300ms the
// waits are 100ms, 200ms, 300ms, 300ms, ... Jitter then shortens each wait
// by a random part of it.
type RetryPolicy struct {
	// Attempts is how many times fn is called for one item at most, the
	// first call included. It must be at least 1; 1 means no retry.
	Attempts int
	// Backoff is the wait before the second attempt. It must not be
	// negative; zero retries at once, without the clock.
	Backoff time.Duration
	// Multiplier scales each wait from the one before: 0 or 1 keeps the
	// waits constant, 2 doubles them. It must be 0 or at least 1, and
	// finite. A wait that would pass the largest Duration saturates there.
	Multiplier float64
	// MaxBackoff caps every wait, the first included, before jitter. Zero
	// means no cap. It must not be negative.
	MaxBackoff time.Duration
	// Jitter is the part of each wait that is random: a wait w becomes
	// w - Jitter·u·w, truncated to the nanosecond, with u drawn uniformly
	// from [0, 1) as rand.New(source).Float64() draws it (see
	// Retry.WithJitterSource). Zero, the default, draws nothing. It must
	// be within [0, 1].
	Jitter float64
	// Retryable reports whether an error fn returned is worth another
	// attempt. Nil means every error is. A panic in fn is never retried.
	Retryable func(error) bool
}

// check panics, naming the constructor fn, if policy cannot be run.
func (policy RetryPolicy) check(fn string) {
	switch {
	case policy.Attempts < 1:
		panic(fmt.Sprintf("streamz: %s: RetryPolicy.Attempts must be at least 1, got %d", fn, policy.Attempts))
	case policy.Backoff < 0:
		panic(fmt.Sprintf("streamz: %s: RetryPolicy.Backoff must not be negative, got %v", fn, policy.Backoff))
	case !(policy.Multiplier == 0 || policy.Multiplier >= 1) || math.IsInf(policy.Multiplier, 1):
		panic(fmt.Sprintf("streamz: %s: RetryPolicy.Multiplier must be 0 or at least 1, and finite, got %v", fn, policy.Multiplier))
	case policy.MaxBackoff < 0:
		panic(fmt.Sprintf("streamz: %s: RetryPolicy.MaxBackoff must not be negative, got %v", fn, policy.MaxBackoff))
	case !(policy.Jitter >= 0 && policy.Jitter <= 1):
		panic(fmt.Sprintf("streamz: %s: RetryPolicy.Jitter must be within [0, 1], got %v", fn, policy.Jitter))
	}
}

// firstWait is the wait before the second attempt, before jitter.
func (policy RetryPolicy) firstWait() time.Duration {
	if policy.MaxBackoff > 0 {
		return min(policy.Backoff, policy.MaxBackoff)
	}
	return policy.Backoff
}

// nextWait is the wait that follows w, before jitter.
func (policy RetryPolicy) nextWait(w time.Duration) time.Duration {
	if policy.Multiplier > 1 {
		if f := float64(w) * policy.Multiplier; f >= math.MaxInt64 {
			w = math.MaxInt64
		} else {
			w = time.Duration(f)
		}
	}
	if policy.MaxBackoff > 0 {
		w = min(w, policy.MaxBackoff)
	}
	return w
}

// Retry calls a function that may fail for each item of a stream, and calls
// it again, after a backoff on its clock, for an item whose call failed,
// until a call succeeds, the error is not retryable, or the policy's
// attempts are spent.
//
// It emits exactly one Result per input, in input order. It calls fn on its
// own goroutine, for one item at a time, with the ctx given to Process, and
// takes the next input only once the current item's Result has been sent:
// while an item waits for its next attempt, Retry takes nothing, which
// holds its producer back. The waits are timed by the clock: the next
// attempt is made when Now() >= the instant the failed attempt returned +
// the wait, so under a [FakeClock] an Advance by the wait makes it.
type Retry[In, Out any] struct {
	name      string
	fn        func(context.Context, In) (Out, error)
	policy    RetryPolicy
	clock     Clock
	newSource func() rand.Source
	observer  func(Event)
}

// NewRetry returns a Retry named "retry" that applies fn to every success
// item with policy, timed by clock. A nil clock means RealClock. It panics
// if fn is nil or policy breaks a rule of [RetryPolicy].
func NewRetry[In, Out any](fn func(context.Context, In) (Out, error), policy RetryPolicy, clock Clock) *Retry[In, Out] {
	if fn == nil {
		panic("streamz: NewRetry: fn must not be nil")
	}
	policy.check("NewRetry")
	if clock == nil {
		clock = RealClock
	}
	return &Retry[In, Out]{name: "retry", fn: fn, policy: policy, clock: clock}
}

// WithName sets the name that the Retry's errors and events carry, and
// returns the Retry. It must not be called while Process runs.
func (rt *Retry[In, Out]) WithName(name string) *Retry[In, Out] {
	rt.name = name
	return rt
}

// Name returns the Retry's name, "retry" unless WithName changed it.
func (rt *Retry[In, Out]) Name() string { return rt.name }

// WithJitterSource sets newSource, which each later Process call calls
// once for the source its jitter draws from, and returns the Retry. By
// default each call draws from a PCG seeded at random; a test that gives a
// source seeded its own way gets the same waits on every run. Process
// reads it when called, and calls it only when RetryPolicy.Jitter is not
// zero. It panics if newSource is nil.
func (rt *Retry[In, Out]) WithJitterSource(newSource func() rand.Source) *Retry[In, Out] {
	if newSource == nil {
		panic("streamz: Retry.WithJitterSource: newSource must not be nil")
	}
	rt.newSource = newSource
	return rt
}

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the Retry. Process reads
// it when called, so set it before.
//
// A Process call reports: EventEmit for every Result fn's calls end in,
// with Count 1 and Reason ReasonSucceeded, ReasonFailed (an error that is
// not retried: not retryable, or a panic, at any attempt) or
// ReasonExhausted (the last attempt failed with a retryable error), once the consumer has taken it; EventRetry when an
// attempt fails and another will be made, with Count the attempts made so
// far, at the instant the attempt returned; EventTimerArm when a wait
// starts, and then exactly one EventTimerFire (the wait ended) or
// EventTimerStop (the call ended first); EventCancel when ctx ends, with
// Count the items held or being sent, which are lost; and EventClose last,
// after every timer is done, just before the output is closed. Error
// results pass through unreported.
func (rt *Retry[In, Out]) WithObserver(fn func(Event)) *Retry[In, Out] {
	rt.observer = fn
	return rt
}

// Process retries fn over in and returns the output channel, which is
// unbuffered. The settings are read at the call.
//
// A success of fn becomes a success with the input's metadata. When an
// item's calls end in an error (one that is not retryable, a panic, or the
// last attempt's), the output is an error Result whose Item is the Out value
// fn returned with that error, whose Err is that error and whose
// ProcessorName is the Retry's name. A panic in fn fails the item at once,
// without another attempt: the Err says fn panicked and with what
// (errors.As reaches the panic value when it is an error), with the zero
// Out as Item. Every output for which fn failed at least once carries
// MetadataRetryCount, the int number of attempts made, besides the input's
// metadata; one that succeeded at the first attempt carries only the
// input's. The Out value returned with a failure that is retried is
// dropped.
//
// An error item is not given to fn: it comes out at once, as Mapper emits
// it, a Result[Out] error whose Err is the incoming *StreamError[In] itself.
//
// Acknowledgements (see [Settler]): as with Mapper, the Out that fn
// returns, with a value or with an error, carries the input's
// acknowledgement only if fn puts it there; fn should do so for every
// attempt, since the last one's value is what goes out. When ctx ends, the
// item waiting for its next attempt and the Result being sent, if any, are
// settled Lost.
//
// When in is closed, the output is closed after the last item's Result:
// an item waiting for an attempt when in closes still gets its attempts.
// When ctx is cancelled, the output is closed promptly, even while an item
// waits for its next attempt, while in is idle or while nobody reads the
// output; the waiting item and the Result being sent, if any, are dropped,
// and no attempt starts after cancellation. Each call keeps its own state,
// so one Retry can serve many streams.
func (rt *Retry[In, Out]) Process(ctx context.Context, in <-chan Result[In]) <-chan Result[Out] {
	out := make(chan Result[Out])
	s := &retryLoop[In, Out]{ctx: ctx, out: out, fn: rt.fn, name: rt.name, policy: rt.policy}
	if s.policy.Jitter != 0 {
		var src rand.Source
		if rt.newSource != nil {
			src = rt.newSource()
		} else {
			src = rand.NewPCG(rand.Uint64(), rand.Uint64())
		}
		s.jitter = rand.New(src)
	}
	// An input never meets a deadline (none is set unless paused), and a
	// failure reads the clock for the wait it starts.
	s.untimed = true
	return startClocked(ctx, "Retry.Process", rt.clock, newEventReporter(rt.observer, rt.name, rt.clock), s, in, out)
}

// retryLoop is the state of one Retry.Process call. It holds at most one
// item, from its input to its Result's send, and is paused, with the timer
// armed for the next attempt, exactly while that item waits.
type retryLoop[In, Out any] struct {
	clockLoop
	ctx    context.Context
	out    chan<- Result[Out]
	fn     func(context.Context, In) (Out, error)
	name   string
	policy RetryPolicy
	jitter *rand.Rand // nil when the policy has no jitter

	item     Result[In] // the item being tried
	holding  bool
	attempts int           // made for item so far
	wait     time.Duration // before the next attempt, before jitter
}

// due makes the next attempt, whose wait has ended.
func (s *retryLoop[In, Out]) due(now time.Duration) bool {
	s.wakeAt(0, now)
	return s.try(now)
}

func (s *retryLoop[In, Out]) input(r Result[In], now time.Duration) bool {
	if r.err != nil {
		return deliver(&s.clockLoop, s.out, retypeError[In, Out](r, s.name), 1)
	}
	s.item, s.holding, s.attempts, s.wait = r, true, 0, s.policy.firstWait()
	return s.try(now)
}

// try makes attempts on the item held, when the clock read now (or
// noReading), until one succeeds, it fails for good, or the next must wait.
func (s *retryLoop[In, Out]) try(now time.Duration) bool {
	for {
		if s.lp.ended() {
			// No attempt after cancellation; the item is still held, and
			// the cancel loses it.
			return false
		}
		v, err := callMapFn(s.ctx, s.fn, s.item.value)
		s.attempts++
		if err == nil {
			r := Result[Out]{value: v, metadata: s.item.metadata}
			if s.attempts > 1 {
				r = r.WithMetadata(MetadataRetryCount, s.attempts)
			}
			return s.emit(r, ReasonSucceeded, now)
		}
		_, panicked := err.(*userPanicError)
		reason := ""
		switch {
		case panicked || (s.policy.Retryable != nil && !s.policy.Retryable(err)):
			reason = ReasonFailed
		case s.attempts == s.policy.Attempts:
			reason = ReasonExhausted
		}
		if reason != "" {
			r := Result[Out]{metadata: s.item.metadata, err: NewStreamError(v, err, s.name)}
			return s.emit(r.WithMetadata(MetadataRetryCount, s.attempts), reason, now)
		}
		w := s.wait
		s.wait = s.policy.nextWait(w)
		if s.jitter != nil {
			w -= time.Duration(s.policy.Jitter * s.jitter.Float64() * float64(w))
		}
		if w <= 0 {
			s.rep.reportSince(EventRetry, "", s.attempts, s.timer.base, now)
			continue
		}
		// The wait starts when the attempt returned, which fn may have
		// taken time to do.
		now = s.timer.now()
		s.rep.reportSince(EventRetry, "", s.attempts, s.timer.base, now)
		s.wakeAt(deadlineAfter(now, w), now)
		s.paused = true
		return true
	}
}

// emit sends r, the item's Result, which went out for reason when the clock
// read now (or noReading), and takes the next input once it is sent.
func (s *retryLoop[In, Out]) emit(r Result[Out], reason string, now time.Duration) bool {
	s.item, s.holding, s.paused = Result[In]{}, false, false
	return emitItem(&s.clockLoop, s.out, r, reason, now)
}

// flush has nothing to do: an item being tried holds the loop paused, so
// the close is seen only once it has gone out.
func (s *retryLoop[In, Out]) flush(time.Duration) bool { return true }

func (s *retryLoop[In, Out]) held() int { return heldCount(s.holding) }

// loseHeld settles the item being tried, if any, as Lost: a cancel caught
// it waiting for an attempt, or before one. Its Result, once made, is no
// longer held, and send settles it if the cancel stops its delivery.
func (s *retryLoop[In, Out]) loseHeld() {
	if s.holding {
		s.item.Settle(Lost)
	}
}
