package streamz

import (
	"context"
	"fmt"
	"time"
)

// Dedupe drops every success item whose key was seen within the TTL, for
// example a message redelivered within a minute of the first delivery.
//
// The TTL counts from the first sighting: the item that passes remembers
// its key until Now() >= passed + ttl, and the duplicates dropped in the
// meantime do not extend that. So at most one item per key passes per
// TTL, a key that keeps coming passes again once every TTL, and an item
// that arrives exactly when its key's TTL ends passes (the time-first
// rule). This is JetStream's duplicate window; counting from the last
// sighting instead would drop a key that repeats more often than the TTL
// for ever.
//
// Memory is bounded by the keys that passed within the TTL: a key is
// freed at the first input at or after its TTL ends, and the map of keys
// shrinks as keyed.go's shared rule on memory says. Dedupe arms no timer,
// so a quiet stream keeps its keys until its next input or its close.
//
// The shared rules of the keyed processors (keyed.go) apply: how the key
// function is called, and what happens when it panics, and close and
// cancel; Dedupe holds nothing, so a close or a cancel loses nothing.
type Dedupe[T any, K comparable] struct {
	key      func(T) K
	ttl      time.Duration
	clock    Clock
	observer func(Event)
}

// NewDedupe returns a Dedupe by key that remembers each key for ttl,
// timed by clock. A nil clock means RealClock. It panics if key is nil or
// ttl is not positive. A ttl of math.MaxInt64 remembers every key for
// ever, and so keeps every key seen.
func NewDedupe[T any, K comparable](key func(T) K, ttl time.Duration, clock Clock) *Dedupe[T, K] {
	if key == nil {
		panic("streamz: NewDedupe: key must not be nil")
	}
	if ttl <= 0 {
		panic(fmt.Sprintf("streamz: NewDedupe: ttl must be positive, got %v", ttl))
	}
	if clock == nil {
		clock = RealClock
	}
	return &Dedupe[T, K]{key: key, ttl: ttl, clock: clock}
}

// Name returns "dedupe".
func (dd *Dedupe[T, K]) Name() string { return "dedupe" }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns dd. Process reads it when
// called, so set it before.
//
// A Process call reports: EventEmit with Count 1 and ReasonFirst for every
// success item sent, once the consumer has taken it; EventDrop with
// ReasonDuplicate for every success item dropped; EventCancel when ctx
// ends, with Count 1 if an item was being sent; and EventClose last, just
// before the output is closed. Error results, and items on which the key
// function panicked, pass unreported. It reports no timer events.
func (dd *Dedupe[T, K]) WithObserver(fn func(Event)) *Dedupe[T, K] {
	dd.observer = fn
	return dd
}

// Process drops the duplicates of in and returns the output channel, which
// is unbuffered. Items keep their order. Error results pass at once and
// touch no key. When in is closed, the output is closed; when ctx is
// cancelled, the output is closed promptly, even if nobody is reading, and
// the item being sent is dropped. A duplicate is settled Discarded (see
// [Settler]). Each call remembers its own keys.
func (dd *Dedupe[T, K]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	rep := newEventReporter(dd.observer, dd.Name(), dd.clock)
	s := &dedupeLoop[T, K]{ttl: dd.ttl}
	s.keyedLoop = keyedLoop[T, K, struct{}, Result[T]]{
		out: out, key: dd.key, name: dd.Name(), asError: passError[T],
		keys: newKeyedStates[K, struct{}](true),
	}
	return startClocked(ctx, "Dedupe.Process", dd.clock, rep, s, in, out)
}

// dedupeLoop is the state of one Dedupe.Process call. Every key seen within
// the TTL is in the due list, with the end of its TTL as its deadline:
// every key's TTL is as long, so the list is in the order of the ends, and
// a key is added and freed in constant time where the idle heap would
// take a logarithm of the keys. The list arms no timer, since Dedupe gives
// wakeAt nothing: a key is freed by the first input at or after its end.
type dedupeLoop[T any, K comparable] struct {
	keyedLoop[T, K, struct{}, Result[T]]
	ttl time.Duration
}

// due is never called: Dedupe gives wakeAt no deadline.
func (s *dedupeLoop[T, K]) due(time.Duration) bool { return true }

func (s *dedupeLoop[T, K]) input(r Result[T], now time.Duration) bool {
	for e, ok := s.keys.popDue(now); ok; e, ok = s.keys.popDue(now) {
		s.keys.free(e)
	}
	e, isNew, ok := s.entryOf(r)
	if e == nil {
		return ok
	}
	if !isNew {
		s.rep.reportSince(EventDrop, ReasonDuplicate, 1, s.timer.base, now)
		settleResult(s.settling, r, Discarded)
		return true
	}
	s.keys.hold(e, deadlineAfter(now, s.ttl), true)
	return s.emit(r, ReasonFirst, 1, now)
}

func (s *dedupeLoop[T, K]) flush(time.Duration) bool { return true }

func (s *dedupeLoop[T, K]) held() int { return 0 }

// loseHeld has nothing to settle: Dedupe holds nothing.
func (s *dedupeLoop[T, K]) loseHeld() {}
