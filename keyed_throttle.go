package streamz

import (
	"context"
	"time"
)

// KeyedThrottle is a Throttle per key: each key of the key function has its
// own cooldown of d, as a Throttle of that key's items alone would, for
// example at most one page per alert name per minute. A key's items never
// use up another key's cooldown.
//
// The options are Throttle's (WithLeading and WithTrailing), applied per
// key. Whatever the number of keys, one Process call runs one goroutine
// and arms at most one timer, for the earliest end of a cooldown that holds
// an item for the trailing edge; with the leading edge only, it arms none.
//
// The shared rules of the keyed processors (keyed.go) apply: how the key
// function is called, and what happens when it panics; memory, which
// follows the keys whose cooldown is running; the order of outputs due at
// the same instant, by deadline and then by the arrival of their items;
// and close and cancel.
type KeyedThrottle[T any, K comparable] struct {
	duration time.Duration
	key      func(T) K
	clock    Clock
	leading  bool
	trailing bool
	observer func(Event)
}

// NewKeyedThrottle returns a KeyedThrottle with cooldown d per key of key,
// timed by clock, that passes the leading edge only. A nil clock means
// RealClock. It panics if key is nil. When d <= 0, every item passes,
// whatever the edges, and key is not called.
func NewKeyedThrottle[T any, K comparable](d time.Duration, key func(T) K, clock Clock) *KeyedThrottle[T, K] {
	if key == nil {
		panic("streamz: NewKeyedThrottle: key must not be nil")
	}
	if clock == nil {
		clock = RealClock
	}
	return &KeyedThrottle[T, K]{duration: d, key: key, clock: clock, leading: true}
}

// WithLeading is Throttle.WithLeading, per key, and returns kt.
func (kt *KeyedThrottle[T, K]) WithLeading(on bool) *KeyedThrottle[T, K] {
	kt.leading = on
	return kt
}

// WithTrailing is Throttle.WithTrailing, per key, and returns kt.
func (kt *KeyedThrottle[T, K]) WithTrailing(on bool) *KeyedThrottle[T, K] {
	kt.trailing = on
	return kt
}

// Name returns "keyed-throttle".
func (kt *KeyedThrottle[T, K]) Name() string { return "keyed-throttle" }

// WithObserver sets fn to be told what each later Process call does, and
// returns kt. Process reads it when called, so set it before. The events
// are Throttle's (see Throttle.WithObserver), for every key: one emit per
// success item sent, a drop for every success item discarded, and, with
// the trailing edge on, the arm, fire and stop of the one timer, which is
// armed for the earliest cooldown end of the keys holding an item.
func (kt *KeyedThrottle[T, K]) WithObserver(fn func(Event)) *KeyedThrottle[T, K] {
	kt.observer = fn
	return kt
}

// Process throttles in, per key, and returns the output channel, which is
// unbuffered. It panics if both edges are off.
//
// Error results pass through at once and touch no key. When in is closed,
// every item held for a trailing edge is emitted at once, in the keyed
// order (see KeyedThrottle), and then the output is closed. When ctx is
// cancelled, the output is closed promptly and the held items are dropped,
// even if nobody is reading. Each call keeps its own state and its own
// copy of the options.
func (kt *KeyedThrottle[T, K]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	d, leading, trailing := kt.duration, kt.leading, kt.trailing
	requireAnEdge(leading, trailing, "KeyedThrottle")
	out := make(chan Result[T])
	rep := newEventReporter(kt.observer, kt.Name(), kt.clock)
	if d <= 0 {
		// Every item passes: Throttle's pass-through, with no keys.
		return throttleLeading(ctx, kt.clock, rep, d, in, out)
	}
	s := &keyedThrottleLoop[T, K]{d: d, leading: leading, trailing: trailing}
	s.keyedLoop = keyedLoop[T, K, throttleCooldown[T], Result[T]]{
		out: out, key: kt.key, name: kt.Name(), asError: passError[T],
		keys: newKeyedStates[K, throttleCooldown[T]](false),
	}
	return startClocked(ctx, "KeyedThrottle.Process", kt.clock, rep, s, in, out)
}

// keyedThrottleLoop is the state of one KeyedThrottle.Process call with
// d > 0. A key is in the due heap while it holds an item for the trailing
// edge, for the end of its cooldown, and in the idle heap while its
// cooldown runs with nothing held.
type keyedThrottleLoop[T any, K comparable] struct {
	keyedLoop[T, K, throttleCooldown[T], Result[T]]
	d                 time.Duration
	leading, trailing bool
}

func (s *keyedThrottleLoop[T, K]) due(now time.Duration) bool {
	return s.releaseDue(now, s.release)
}

func (s *keyedThrottleLoop[T, K]) release(e *keyedEntry[K, throttleCooldown[T]], now time.Duration) keyedOutput[Result[T]] {
	r := e.cell.release(s.d)
	s.keys.rest(e, e.cell.ends, now)
	return keyedOutput[Result[T]]{r: r, reason: ReasonTrailing, n: 1}
}

func (s *keyedThrottleLoop[T, K]) input(r Result[T], now time.Duration) bool {
	s.keys.sweep(now)
	e, isNew, ok := s.entryOf(r)
	if e == nil {
		return ok
	}
	if isNew {
		e.cell = throttleCooldown[T]{}
	}
	ends := e.cell.ends
	lead, dropped := e.cell.arrive(r, now, s.d, s.leading, s.trailing, s.settling)
	if dropped {
		s.rep.reportSince(EventDrop, ReasonCooldown, 1, s.timer.base, now)
	}
	if !e.cell.holding {
		if isNew || e.cell.ends != ends {
			// A cooldown started; an item it dropped changes nothing.
			s.keys.rest(e, e.cell.ends, now)
		}
		return !lead || s.emit(r, ReasonLeading, 1, now)
	}
	s.keys.hold(e, e.cell.ends, true)
	s.wakeAt(s.keys.next(), now)
	return true
}

func (s *keyedThrottleLoop[T, K]) flush(now time.Duration) bool {
	return s.releaseAll(now, func(e *keyedEntry[K, throttleCooldown[T]]) keyedOutput[Result[T]] {
		return keyedOutput[Result[T]]{r: e.cell.take(), n: 1}
	})
}

func (s *keyedThrottleLoop[T, K]) held() int {
	return s.heldBy(func(*throttleCooldown[T]) int { return 1 })
}

func (s *keyedThrottleLoop[T, K]) loseHeld() { s.loseBy((*throttleCooldown[T]).lose) }
