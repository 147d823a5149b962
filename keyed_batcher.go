package streamz

import (
	"context"
	"time"
)

// KeyedBatch is one batch of a KeyedBatcher: the key all its items share,
// as the key function gave it, and the items, in arrival order.
type KeyedBatch[K comparable, T any] struct {
	Key   K
	Items []T
}

// KeyedBatcher is a Batcher per key: each key of the key function has its
// own batch, to which MaxSize and MaxLatency apply, for example one insert
// per tenant. Each batch goes out with its key, typed, so that the
// consumer need not compute it again.
//
// A key's batch is emitted the moment it holds MaxSize items, or once
// MaxLatency has passed since its first item, whichever comes first, as a
// Batcher's is; no batch is ever empty, and each Items is a fresh slice
// owned by the receiver. Whatever the number of keys, one Process call runs
// one goroutine and arms at most one timer, for the earliest deadline.
//
// The shared rules of the keyed processors (keyed.go) apply: how the key
// function is called, and what happens when it panics; memory, which
// follows the keys that hold a batch (a key whose batch went out is
// freed); the order of batches due at the same instant, by deadline and
// then by the arrival of their first items (with MaxLatency 0, by the
// arrival of their first items alone); and close and cancel.
type KeyedBatcher[T any, K comparable] struct {
	config   BatchConfig
	key      func(T) K
	clock    Clock
	observer func(Event)
}

// NewKeyedBatcher returns a KeyedBatcher for config per key of key, timed
// by clock. A nil clock means RealClock. It panics if key is nil, if
// config.MaxSize < 1 or if config.MaxLatency < 0.
func NewKeyedBatcher[T any, K comparable](config BatchConfig, key func(T) K, clock Clock) *KeyedBatcher[T, K] {
	if key == nil {
		panic("streamz: NewKeyedBatcher: key must not be nil")
	}
	config.check("NewKeyedBatcher")
	if clock == nil {
		clock = RealClock
	}
	return &KeyedBatcher[T, K]{config: config, key: key, clock: clock}
}

// Name returns "keyed-batcher".
func (kb *KeyedBatcher[T, K]) Name() string { return "keyed-batcher" }

// WithObserver sets fn to be told what each later Process call does, and
// returns kb. Process reads it when called, so set it before. The events
// are Batcher's (see Batcher.WithObserver), for every key: one emit per
// batch sent, with its length as Count, and the arm, fire and stop of the
// one timer, which is armed for the earliest deadline of all the batches.
func (kb *KeyedBatcher[T, K]) WithObserver(fn func(Event)) *KeyedBatcher[T, K] {
	kb.observer = fn
	return kb
}

// Process batches in, per key, and returns the output channel, which is
// unbuffered.
//
// An error result passes through at once, touching no batch, as an error
// whose StreamError is the one it carried, cause, processor name,
// timestamp and metadata kept, with the failed item as Items: []T{item}
// and Key the zero K, since the key function is not called on errors; so
// is an item on which the key function panicked. When in is closed, every
// key's batch is emitted at once, in the keyed order (see KeyedBatcher),
// and then the output is closed. When ctx is cancelled, the output is
// closed promptly, without emitting the batches, even if nobody is reading.
// Each call keeps its own state.
func (kb *KeyedBatcher[T, K]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[KeyedBatch[K, T]] {
	out := make(chan Result[KeyedBatch[K, T]])
	s := &keyedBatchLoop[T, K]{maxSize: kb.config.MaxSize, maxLatency: kb.config.MaxLatency}
	s.keyedLoop = keyedLoop[T, K, batchBuffer[T], Result[KeyedBatch[K, T]]]{
		out: out, key: kb.key, name: kb.Name(), asError: keyedBatchError[K, T],
		keys: newKeyedStates[K, batchBuffer[T]](false),
	}
	s.untimed = s.maxLatency == 0
	return startClocked(ctx, "KeyedBatcher.Process", kb.clock, newEventReporter(kb.observer, kb.Name(), kb.clock), s, in, out)
}

// keyedBatchError carries a failed item, and its metadata, into the batch
// stream, as batchError does for a Batcher.
func keyedBatchError[K comparable, T any](r Result[T]) Result[KeyedBatch[K, T]] {
	b := batchError(r)
	se := b.err
	return Result[KeyedBatch[K, T]]{metadata: b.metadata, err: &StreamError[KeyedBatch[K, T]]{
		Item:          KeyedBatch[K, T]{Items: se.Item},
		Err:           se.Err,
		ProcessorName: se.ProcessorName,
		Timestamp:     se.Timestamp,
	}}
}

// keyedBatchLoop is the state of one KeyedBatcher.Process call. A key is
// in the due heap exactly while it holds a batch, for its deadline (0 when
// the loop is untimed, so that the batches are in arrival order), and
// freed once its batch goes out.
type keyedBatchLoop[T any, K comparable] struct {
	keyedLoop[T, K, batchBuffer[T], Result[KeyedBatch[K, T]]]
	maxSize    int
	maxLatency time.Duration
}

func (s *keyedBatchLoop[T, K]) due(now time.Duration) bool {
	return s.releaseDue(now, s.release)
}

func (s *keyedBatchLoop[T, K]) release(e *keyedEntry[K, batchBuffer[T]], _ time.Duration) keyedOutput[Result[KeyedBatch[K, T]]] {
	o := s.take(e)
	o.reason = ReasonLatency
	s.keys.free(e)
	return o
}

// take empties e's batch into an output.
func (s *keyedBatchLoop[T, K]) take(e *keyedEntry[K, batchBuffer[T]]) keyedOutput[Result[KeyedBatch[K, T]]] {
	n := len(e.cell.items)
	return keyedOutput[Result[KeyedBatch[K, T]]]{r: NewSuccess(KeyedBatch[K, T]{Key: e.key, Items: e.cell.take()}), n: n}
}

func (s *keyedBatchLoop[T, K]) input(r Result[T], now time.Duration) bool {
	e, _, ok := s.entryOf(r)
	if e == nil {
		return ok
	}
	e.cell.items = append(e.cell.items, r.value)
	if len(e.cell.items) == s.maxSize {
		o := s.take(e)
		s.keys.free(e)
		s.wakeAt(s.keys.next(), now)
		return s.emit(o.r, ReasonSize, o.n, now)
	}
	if len(e.cell.items) == 1 {
		deadline := time.Duration(0)
		if !s.untimed {
			deadline = deadlineAfter(now, s.maxLatency)
		}
		s.keys.hold(e, deadline, true)
		s.wakeAt(s.keys.next(), now)
	}
	return true
}

func (s *keyedBatchLoop[T, K]) flush(now time.Duration) bool { return s.releaseAll(now, s.take) }

func (s *keyedBatchLoop[T, K]) held() int {
	return s.heldBy(func(b *batchBuffer[T]) int { return len(b.items) })
}

func (s *keyedBatchLoop[T, K]) loseHeld() { s.loseBy((*batchBuffer[T]).lose) }

func (b KeyedBatch[K, T]) holdsSettlers() bool { return settles[T]() }

func (b KeyedBatch[K, T]) eachSettler(fn func(Settler)) {
	for _, v := range b.Items {
		eachSettler(any(v), fn)
	}
}
