package streamz

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrCircuitOpen is the cause of the error Result an open CircuitBreaker
// emits for an item it refuses: errors.Is(r.Err(), ErrCircuitOpen) tells a
// refused item from one whose call failed.
var ErrCircuitOpen = errors.New("streamz: circuit breaker is open")

// BreakerPolicy says when a CircuitBreaker opens and for how long. At least
// one of ConsecutiveFailures and Window must be set; with both, either
// opens it.
type BreakerPolicy struct {
	// ConsecutiveFailures opens the breaker when that many calls in a row
	// have failed. Zero turns the rule off; it must not be negative.
	ConsecutiveFailures int
	// Window and FailureRatio open the breaker when a call fails and, of
	// the last Window calls, that one included and all made since the
	// breaker last closed (or Process began), the part that failed is
	// FailureRatio or more:
	// with Window 10 and FailureRatio 0.5, a failure that makes five among
	// the last ten calls. Fewer than Window calls never open it by this
	// rule. The window counts calls, not time, so it holds Window outcomes
	// whatever the rate. Zero turns the rule off; Window must not be
	// negative, and when it is set FailureRatio must be within (0, 1].
	Window       int
	FailureRatio float64
	// CoolOff is how long the breaker stays open: once Now() >= the
	// instant it opened + CoolOff, it is half-open. It must be positive.
	CoolOff time.Duration
}

// check panics, naming the constructor fn, if policy cannot be run.
func (policy BreakerPolicy) check(fn string) {
	switch {
	case policy.ConsecutiveFailures < 0:
		panic(fmt.Sprintf("streamz: %s: BreakerPolicy.ConsecutiveFailures must not be negative, got %d", fn, policy.ConsecutiveFailures))
	case policy.Window < 0:
		panic(fmt.Sprintf("streamz: %s: BreakerPolicy.Window must not be negative, got %d", fn, policy.Window))
	case policy.Window > 0 && !(policy.FailureRatio > 0 && policy.FailureRatio <= 1):
		panic(fmt.Sprintf("streamz: %s: BreakerPolicy.FailureRatio must be within (0, 1] when Window is set, got %v", fn, policy.FailureRatio))
	case policy.Window == 0 && policy.FailureRatio != 0:
		panic(fmt.Sprintf("streamz: %s: BreakerPolicy.FailureRatio needs a Window, got %v with Window 0", fn, policy.FailureRatio))
	case policy.ConsecutiveFailures == 0 && policy.Window == 0:
		panic(fmt.Sprintf("streamz: %s: BreakerPolicy must set ConsecutiveFailures or Window, got neither", fn))
	case policy.CoolOff <= 0:
		panic(fmt.Sprintf("streamz: %s: BreakerPolicy.CoolOff must be positive, got %v", fn, policy.CoolOff))
	}
}

// CircuitBreaker calls a function that may fail for each item of a stream,
// and stops calling it for a cool-off once it fails too often, so that a
// failing dependency is not hammered.
//
// It is closed at first: every success item goes to fn, and each call's
// outcome counts toward the policy. When the policy's rule is met, it
// opens: until CoolOff has passed on its clock, every success item fails at
// once, without a call, with ErrCircuitOpen. Then it is half-open: the next
// item is a trial, called as when closed. A trial that succeeds closes the
// breaker, with its counts cleared; one that fails opens it again for
// another CoolOff. The cool-off's end is applied before an input that
// arrives at or after it (the time-first rule), so an item that arrives
// exactly then is the trial.
//
// It emits exactly one Result per input, in input order, and calls fn on its
// own goroutine, for one item at a time, with the ctx given to Process, so
// there is never more than one trial. An error fn returns, and a panic in
// fn, count as failures; error items are not calls and count for nothing.
type CircuitBreaker[In, Out any] struct {
	name     string
	fn       func(context.Context, In) (Out, error)
	policy   BreakerPolicy
	clock    Clock
	observer func(Event)
}

// NewCircuitBreaker returns a CircuitBreaker named "circuit-breaker" that
// applies fn to every success item with policy, timed by clock. A nil clock
// means RealClock. It panics if fn is nil or policy breaks a rule of
// [BreakerPolicy].
func NewCircuitBreaker[In, Out any](fn func(context.Context, In) (Out, error), policy BreakerPolicy, clock Clock) *CircuitBreaker[In, Out] {
	if fn == nil {
		panic("streamz: NewCircuitBreaker: fn must not be nil")
	}
	policy.check("NewCircuitBreaker")
	if clock == nil {
		clock = RealClock
	}
	return &CircuitBreaker[In, Out]{name: "circuit-breaker", fn: fn, policy: policy, clock: clock}
}

// WithName sets the name that the CircuitBreaker's errors and events carry,
// and returns the CircuitBreaker. It must not be called while Process runs.
func (cb *CircuitBreaker[In, Out]) WithName(name string) *CircuitBreaker[In, Out] {
	cb.name = name
	return cb
}

// Name returns the CircuitBreaker's name, "circuit-breaker" unless WithName
// changed it.
func (cb *CircuitBreaker[In, Out]) Name() string { return cb.name }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the CircuitBreaker.
// Process reads it when called, so set it before.
//
// A Process call reports: EventEmit for every success item's Result, with
// Count 1 and Reason ReasonSucceeded, ReasonFailed (fn failed) or
// ReasonRefused (the breaker was open), once the consumer has taken it;
// EventBreakerOpen when it opens, with Reason ReasonConsecutive,
// ReasonRatio or ReasonTrial, before the Result of the call that opened it;
// EventBreakerHalfOpen at the instant the cool-off ends, and
// EventBreakerClosed when a trial succeeds, before the trial's Result;
// EventTimerArm when it opens, and then exactly one EventTimerFire (the
// cool-off ended with no input first) or EventTimerStop (an input at or
// after its end applied it first, or the call ended); EventCancel when ctx
// ends, with Count the Result being sent or the item just taken, which is
// lost; and EventClose
// last, after every timer is done, just before the output is closed. Error
// results pass through unreported.
func (cb *CircuitBreaker[In, Out]) WithObserver(fn func(Event)) *CircuitBreaker[In, Out] {
	cb.observer = fn
	return cb
}

// Process calls fn over in through the breaker and returns the output
// channel, which is unbuffered. The settings are read at the call, and each
// call has a breaker of its own, closed at first.
//
// Outputs are those of [Mapper.Process] for an item fn is called for: fn's
// value, or an error whose Item is the Out fn returned with its error, or
// an error saying fn panicked; an error item is not given to fn and comes
// out as a Result[Out] error wrapping the incoming *StreamError[In]. An item
// refused while the breaker is open comes out as an error Result whose Err
// is ErrCircuitOpen, with the zero Out as Item, the input's metadata and
// the breaker's name. Acknowledgements (see [Settler]): fn carries an item
// called with to its Out, as with Mapper; a refused item was never
// processed and its error Result cannot hold it, so it is settled Lost,
// for its source to deliver it again.
//
// When in is closed, the output is closed after the last item. When ctx is
// cancelled, the output is closed promptly, even while in is idle or nobody
// reads the output; the Result being sent, if any, is dropped and settled
// Lost, and an item taken from in after cancellation is settled Lost and
// never reaches fn.
func (cb *CircuitBreaker[In, Out]) Process(ctx context.Context, in <-chan Result[In]) <-chan Result[Out] {
	out := make(chan Result[Out])
	s := &breakerLoop[In, Out]{ctx: ctx, out: out, fn: cb.fn, name: cb.name, policy: cb.policy}
	if s.policy.Window > 0 {
		s.window = make([]bool, s.policy.Window)
	}
	// Closed, the breaker has no deadline for an input to meet.
	s.untimed = true
	return startClocked(ctx, "CircuitBreaker.Process", cb.clock, newEventReporter(cb.observer, cb.name, cb.clock), s, in, out)
}

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

// breakerLoop is the state of one CircuitBreaker.Process call. The timer is
// armed exactly while the breaker is open, for the end of its cool-off, and
// the loop reads the clock for an input only then.
type breakerLoop[In, Out any] struct {
	clockLoop
	ctx    context.Context
	out    chan<- Result[Out]
	fn     func(context.Context, In) (Out, error)
	name   string
	policy BreakerPolicy

	state        breakerState
	cooldownEnds time.Duration // since the timer's base, while open
	consecutive  int           // failures in a row since the last success or change of state
	// window is a ring of the last calls' outcomes since the breaker
	// closed, true for a failure: next is the slot the next call takes,
	// calls how many slots are filled, failures how many of those failed.
	window         []bool
	next, calls    int
	windowFailures int
}

// due ends the cool-off: the breaker is half-open.
func (s *breakerLoop[In, Out]) due(now time.Duration) bool {
	s.state = breakerHalfOpen
	s.untimed = true
	s.wakeAt(0, now)
	s.rep.reportSince(EventBreakerHalfOpen, "", 0, s.timer.base, s.cooldownEnds)
	return true
}

func (s *breakerLoop[In, Out]) input(r Result[In], now time.Duration) bool {
	if r.err != nil {
		return deliver(&s.clockLoop, s.out, retypeError[In, Out](r, s.name), 1)
	}
	if s.state == breakerOpen {
		settleResult(s.settling, r, Lost)
		var zero Out
		refused := Result[Out]{metadata: r.metadata, err: NewStreamError(zero, ErrCircuitOpen, s.name)}
		return emitItem(&s.clockLoop, s.out, refused, ReasonRefused, now)
	}
	if endedWith(s.lp, r) {
		s.lost = 1 // taken, and not called for
		return false
	}
	v, err := callMapFn(s.ctx, s.fn, r.value)
	if err != nil {
		s.failed(now)
		return emitItem(&s.clockLoop, s.out, Result[Out]{metadata: r.metadata, err: NewStreamError(v, err, s.name)}, ReasonFailed, now)
	}
	s.succeeded()
	return emitItem(&s.clockLoop, s.out, Result[Out]{value: v, metadata: r.metadata}, ReasonSucceeded, now)
}

// succeeded counts a call that succeeded; a trial's closes the breaker.
func (s *breakerLoop[In, Out]) succeeded() {
	if s.state == breakerHalfOpen {
		s.state = breakerClosed
		s.rep.report(EventBreakerClosed, "", 0)
		return
	}
	s.consecutive = 0
	s.record(false)
}

// failed counts a call that failed when the clock read now (or noReading),
// and opens the breaker if that meets the policy.
func (s *breakerLoop[In, Out]) failed(now time.Duration) {
	if s.state == breakerHalfOpen {
		s.open(ReasonTrial, now)
		return
	}
	s.consecutive++
	s.record(true)
	switch {
	case s.policy.ConsecutiveFailures > 0 && s.consecutive >= s.policy.ConsecutiveFailures:
		s.open(ReasonConsecutive, now)
	case s.window != nil && s.calls == len(s.window) &&
		float64(s.windowFailures)/float64(s.calls) >= s.policy.FailureRatio:
		s.open(ReasonRatio, now)
	}
}

// record puts a call's outcome in the window, if the policy has one.
func (s *breakerLoop[In, Out]) record(failed bool) {
	if s.window == nil {
		return
	}
	if s.calls == len(s.window) {
		if s.window[s.next] {
			s.windowFailures--
		}
	} else {
		s.calls++
	}
	s.window[s.next] = failed
	if failed {
		s.windowFailures++
	}
	s.next = (s.next + 1) % len(s.window)
}

// open opens the breaker for reason, when the clock read now (or
// noReading), for a cool-off that starts then, with its counts cleared.
func (s *breakerLoop[In, Out]) open(reason string, now time.Duration) {
	if now == noReading {
		now = s.timer.now()
	}
	s.state = breakerOpen
	s.untimed = false
	s.consecutive, s.next, s.calls, s.windowFailures = 0, 0, 0, 0
	s.cooldownEnds = deadlineAfter(now, s.policy.CoolOff)
	s.rep.reportSince(EventBreakerOpen, reason, 0, s.timer.base, now)
	s.wakeAt(s.cooldownEnds, now)
}

func (s *breakerLoop[In, Out]) flush(time.Duration) bool { return true }

// held is 0: the breaker holds nothing but the Result it is sending, which
// deliver counts (and send settles).
func (s *breakerLoop[In, Out]) held() int { return 0 }

func (s *breakerLoop[In, Out]) loseHeld() {}
