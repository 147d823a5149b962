package streamz

import (
	"context"
	"time"
)

// KeyedRateLimiter is a RateLimiter per key: each key of the key function
// has its own token bucket of rate and burst, as a RateLimiter of that
// key's items alone would, for example at most 10 requests a second per
// client. A key's items never use up another key's tokens.
//
// The modes are RateLimiter's. In drop mode every key is independent. In
// wait mode the KeyedRateLimiter still holds one item at a time, whatever
// its key, and takes no input while it does: a key out of tokens holds
// back the items of every key behind it, which is what keeps the order of
// the input and bounds what is held. For keys that must not wait on each
// other, use drop mode, or a Partition with a RateLimiter per partition.
//
// A key's bucket is kept while it is below full; once it has refilled it
// is no different from a new one and is freed. The shared rules of the
// keyed processors (keyed.go) apply: how the key function is called, and
// what happens when it panics; memory, which follows the keys whose bucket
// is refilling; and close and cancel.
type KeyedRateLimiter[T any, K comparable] struct {
	limit    tokenLimit
	key      func(T) K
	clock    Clock
	drop     bool
	observer func(Event)
}

// NewKeyedRateLimiter returns a KeyedRateLimiter in wait mode that lets
// rate items a second through per key of key, in bursts of up to burst,
// timed by clock. A nil clock means RealClock. It panics if rate is not a
// positive finite number, burst is below 1 or key is nil.
func NewKeyedRateLimiter[T any, K comparable](rate float64, burst int, key func(T) K, clock Clock) *KeyedRateLimiter[T, K] {
	limit := newTokenLimit(rate, burst, "NewKeyedRateLimiter")
	if key == nil {
		panic("streamz: NewKeyedRateLimiter: key must not be nil")
	}
	if clock == nil {
		clock = RealClock
	}
	return &KeyedRateLimiter[T, K]{limit: limit, key: key, clock: clock}
}

// WithDrop is RateLimiter.WithDrop, and returns kl.
func (kl *KeyedRateLimiter[T, K]) WithDrop(on bool) *KeyedRateLimiter[T, K] {
	kl.drop = on
	return kl
}

// Name returns "keyed-rate-limiter".
func (kl *KeyedRateLimiter[T, K]) Name() string { return "keyed-rate-limiter" }

// WithObserver sets fn to be told what each later Process call does, and
// returns kl. Process reads it when called, so set it before. The events
// are RateLimiter's (see RateLimiter.WithObserver), for every key.
func (kl *KeyedRateLimiter[T, K]) WithObserver(fn func(Event)) *KeyedRateLimiter[T, K] {
	kl.observer = fn
	return kl
}

// Process limits in, per key, and returns the output channel, which is
// unbuffered. Close and cancel are as for RateLimiter.Process. Each call
// keeps its own buckets.
func (kl *KeyedRateLimiter[T, K]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	rep := newEventReporter(kl.observer, kl.Name(), kl.clock)
	s := &keyedRateLoop[T, K]{gate: rateGate[T]{limit: kl.limit, drop: kl.drop}}
	s.keyedLoop = keyedLoop[T, K, tokenBucket, Result[T]]{
		out: out, key: kl.key, name: kl.Name(), asError: passError[T],
		keys: newKeyedStates[K, tokenBucket](false),
	}
	return startClocked(ctx, "KeyedRateLimiter.Process", kl.clock, rep, s, in, out)
}

// keyedRateLoop is the state of one KeyedRateLimiter.Process call. Every
// key is in the idle heap, until its bucket is full; the held item, in
// wait mode, is the gate's, not a key's.
type keyedRateLoop[T any, K comparable] struct {
	keyedLoop[T, K, tokenBucket, Result[T]]
	gate rateGate[T]
}

func (s *keyedRateLoop[T, K]) due(now time.Duration) bool {
	return s.gate.release(&s.clockLoop, s.out, now)
}

func (s *keyedRateLoop[T, K]) input(r Result[T], now time.Duration) bool {
	s.keys.sweep(now)
	e, isNew, ok := s.entryOf(r)
	if e == nil {
		return ok
	}
	if isNew {
		e.cell.fill(s.gate.limit)
	}
	sent := s.gate.admit(&s.clockLoop, s.out, &e.cell, r, now)
	s.keys.rest(e, e.cell.fullAt(s.gate.limit), now)
	return sent
}

func (s *keyedRateLoop[T, K]) flush(time.Duration) bool { return true }

func (s *keyedRateLoop[T, K]) held() int { return heldCount(s.gate.holding) }

func (s *keyedRateLoop[T, K]) loseHeld() { s.gate.lose() }
