package streamz

import (
	"context"
	"fmt"
	"time"
)

// KeyedDebounce is a Debounce per key: each key of the key function has its
// own pending item, deadline and bursts, as a Debounce of that key's items
// alone would, and items of different keys never coalesce. Each key's item
// goes out exactly at that key's deadline. For example, debouncing change
// events per file emits each file's last change once that file has been
// quiet for d, however busy the other files are.
//
// The options are Debounce's (leading, trailing and maxWait), applied per
// key. Whatever the number of keys, one Process call runs one goroutine
// and arms at most one timer, for the earliest deadline.
//
// The shared rules of the keyed processors (keyed.go) apply: how the key
// function is called, and what happens when it panics; memory, which
// follows the keys that hold an item or whose burst is still running;
// the order of outputs due at the same instant, by deadline and then by
// the arrival of their items; and close and cancel.
type KeyedDebounce[T any, K comparable] struct {
	duration time.Duration
	key      func(T) K
	clock    Clock
	leading  bool
	trailing bool
	maxWait  time.Duration
	observer func(Event)
}

// NewKeyedDebounce returns a KeyedDebounce with quiet period d per key of
// key, timed by clock, that emits on the trailing edge only and has no
// maxWait. A nil clock means RealClock. It panics if key is nil. When
// d <= 0, every item passes straight through, whatever the options, and
// key is not called.
func NewKeyedDebounce[T any, K comparable](d time.Duration, key func(T) K, clock Clock) *KeyedDebounce[T, K] {
	if key == nil {
		panic("streamz: NewKeyedDebounce: key must not be nil")
	}
	if clock == nil {
		clock = RealClock
	}
	return &KeyedDebounce[T, K]{duration: d, key: key, clock: clock, trailing: true}
}

// WithLeading is Debounce.WithLeading, per key, and returns kd.
func (kd *KeyedDebounce[T, K]) WithLeading(on bool) *KeyedDebounce[T, K] {
	kd.leading = on
	return kd
}

// WithTrailing is Debounce.WithTrailing, per key, and returns kd.
func (kd *KeyedDebounce[T, K]) WithTrailing(on bool) *KeyedDebounce[T, K] {
	kd.trailing = on
	return kd
}

// WithMaxWait is Debounce.WithMaxWait, per key, and returns kd. It panics
// if m is negative.
func (kd *KeyedDebounce[T, K]) WithMaxWait(m time.Duration) *KeyedDebounce[T, K] {
	if m < 0 {
		panic(fmt.Sprintf("streamz: KeyedDebounce.WithMaxWait: maxWait must not be negative, got %v", m))
	}
	kd.maxWait = m
	return kd
}

// Name returns "keyed-debounce".
func (kd *KeyedDebounce[T, K]) Name() string { return "keyed-debounce" }

// WithObserver sets fn to be told what each later Process call does, and
// returns kd. Process reads it when called, so set it before. The events
// are Debounce's (see Debounce.WithObserver), for every key: one emit per
// success item sent, a coalesce when a key's newer item replaces its
// pending one, and the arm, fire and stop of the one timer, which is armed
// for the earliest deadline of all the keys.
func (kd *KeyedDebounce[T, K]) WithObserver(fn func(Event)) *KeyedDebounce[T, K] {
	kd.observer = fn
	return kd
}

// Process debounces in, per key, and returns the output channel, which is
// unbuffered. It panics if both edges are off.
//
// Error results pass through at once and touch no key. When in is closed,
// every key's pending item is emitted at once, in the keyed order (see
// KeyedDebounce), and then the output is closed. When ctx is cancelled, the
// output is closed promptly, without emitting the pending items, even if
// nobody is reading. Each call keeps its own state and its own copy of the
// options.
func (kd *KeyedDebounce[T, K]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	d := kd.duration
	cfg := newDebounceEdges(d, kd.leading, kd.trailing, kd.maxWait, "KeyedDebounce")
	out := make(chan Result[T])
	rep := newEventReporter(kd.observer, kd.Name(), kd.clock)
	if d <= 0 {
		// Nothing is ever pending: Debounce's pass-through, with no keys.
		s := &debounceTrailing[T]{out: out, d: d}
		s.untimed = true
		return startClocked(ctx, "KeyedDebounce.Process", kd.clock, rep, s, in, out)
	}
	s := &keyedDebounceLoop[T, K]{d: d, cfg: cfg}
	s.keyedLoop = keyedLoop[T, K, debounceBurst[T], Result[T]]{
		out: out, key: kd.key, name: kd.Name(), asError: passError[T],
		keys: newKeyedStates[K, debounceBurst[T]](cfg.maxWait == 0),
	}
	return startClocked(ctx, "KeyedDebounce.Process", kd.clock, rep, s, in, out)
}

// passError is asError for a processor whose outputs are its inputs.
func passError[T any](r Result[T]) Result[T] { return r }

// keyedDebounceLoop is the state of one KeyedDebounce.Process call with
// d > 0. A key is in the due heap while it has an item pending, for its
// deadline, and in the idle heap while its burst runs with nothing pending.
type keyedDebounceLoop[T any, K comparable] struct {
	keyedLoop[T, K, debounceBurst[T], Result[T]]
	d   time.Duration
	cfg debounceEdges
}

func (s *keyedDebounceLoop[T, K]) due(now time.Duration) bool {
	return s.releaseDue(now, s.release)
}

func (s *keyedDebounceLoop[T, K]) release(e *keyedEntry[K, debounceBurst[T]], now time.Duration) keyedOutput[Result[T]] {
	r, reason := e.cell.release(s.d, s.cfg)
	s.keys.rest(e, e.cell.deadline, now)
	return keyedOutput[Result[T]]{r: r, reason: reason, n: 1}
}

func (s *keyedDebounceLoop[T, K]) input(r Result[T], now time.Duration) bool {
	s.keys.sweep(now)
	e, isNew, ok := s.entryOf(r)
	if e == nil {
		return ok
	}
	if isNew {
		e.cell = debounceBurst[T]{}
	}
	leading, coalesced := e.cell.arrive(r, now, s.d, s.cfg, s.settling)
	if coalesced {
		s.rep.reportSince(EventCoalesce, "", 1, s.timer.base, now)
	}
	if !e.cell.hasPending {
		s.keys.rest(e, e.cell.deadline, now)
		return !leading || s.emit(r, ReasonLeading, 1, now)
	}
	s.keys.hold(e, e.cell.deadline, true)
	s.wakeAt(s.keys.next(), now)
	return true
}

func (s *keyedDebounceLoop[T, K]) flush(now time.Duration) bool {
	return s.releaseAll(now, func(e *keyedEntry[K, debounceBurst[T]]) keyedOutput[Result[T]] {
		return keyedOutput[Result[T]]{r: e.cell.take(), n: 1}
	})
}

func (s *keyedDebounceLoop[T, K]) held() int {
	return s.heldBy(func(*debounceBurst[T]) int { return 1 })
}

func (s *keyedDebounceLoop[T, K]) loseHeld() { s.loseBy((*debounceBurst[T]).lose) }
