package streamz

import (
	"context"
	"fmt"
	"time"
)

// BatchConfig says when a Batcher emits its current batch.
//
// The fields are declared in the previous streamz's order, MaxLatency then
// MaxSize, so that its unkeyed literals such as BatchConfig{time.Second, 10}
// keep their meaning; keyed fields are clearer in new code.
type BatchConfig struct {
	// MaxLatency is how long a batch may wait after its first item before
	// it is emitted. Zero means batches are emitted by size only (and at the
	// end of input). It must not be negative.
	MaxLatency time.Duration
	// MaxSize is the number of items at which a batch is emitted at once.
	// It must be at least 1.
	MaxSize int
}

// Batcher groups success items into slices.
//
// Items are appended to the current batch in arrival order. The batch is
// emitted the moment it holds MaxSize items, or once MaxLatency has passed
// since its first item (Now() >= first + MaxLatency), whichever comes
// first; later items do not extend that deadline. A deadline is applied
// before any input that arrives after it. No batch is ever empty, and each
// is a fresh slice owned by the receiver.
//
// Memory follows the items held, not MaxSize: a batch is gathered in a
// buffer reused from batch to batch, which grows to the longest batch so
// far, and emitted as a copy of exactly its length.
type Batcher[T any] struct {
	config   BatchConfig
	clock    Clock
	observer func(Event)
}

// NewBatcher returns a Batcher for config, timed by clock. A nil clock means
// RealClock. It panics if config.MaxSize < 1 or config.MaxLatency < 0.
func NewBatcher[T any](config BatchConfig, clock Clock) *Batcher[T] {
	config.check("NewBatcher")
	if clock == nil {
		clock = RealClock
	}
	return &Batcher[T]{config: config, clock: clock}
}

// check panics, naming the constructor fn, if config cannot be run.
func (config BatchConfig) check(fn string) {
	if config.MaxSize < 1 {
		panic(fmt.Sprintf("streamz: %s: BatchConfig.MaxSize must be at least 1, got %d", fn, config.MaxSize))
	}
	if config.MaxLatency < 0 {
		panic(fmt.Sprintf("streamz: %s: BatchConfig.MaxLatency must not be negative, got %v", fn, config.MaxLatency))
	}
}

// Name returns "batcher".
func (b *Batcher[T]) Name() string { return "batcher" }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the Batcher. Process reads
// it when called, so set it before.
//
// A Process call reports: EventEmit for every batch sent, with Reason
// ReasonSize, ReasonLatency or ReasonClose (the partial batch flushed at
// the end of input) and Count the batch's length, once the consumer has
// taken it; EventTimerArm when the first item of a batch starts the
// MaxLatency timer, and then exactly one EventTimerFire (the timer went
// off) or EventTimerStop (the batch went out first, or the call ended);
// EventCancel when ctx ends, with Count the items held or being sent,
// which are lost; and EventClose last, after every timer is done, just
// before the output is closed. Error results pass through unreported.
func (b *Batcher[T]) WithObserver(fn func(Event)) *Batcher[T] {
	b.observer = fn
	return b
}

// Process batches in and returns the output channel.
//
// An error result passes through at once, between batches, as a
// Result[[]T] error whose StreamError keeps the cause (errors.Is and
// errors.As reach it), the processor name, timestamp and metadata, with the
// failed item as []T{item}; it does not touch the current batch. When in is
// closed, the partial batch, if any, is emitted and then the output is
// closed. When ctx is cancelled, the output is closed promptly, without
// emitting the partial batch, even if nobody is reading it. Each call keeps
// its own state, so one Batcher can serve many streams.
func (b *Batcher[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[[]T] {
	out := make(chan Result[[]T])
	s := &batchLoop[T]{out: out, maxSize: b.config.MaxSize, maxLatency: b.config.MaxLatency}
	s.untimed = s.maxLatency == 0
	return startClocked(ctx, "Batcher.Process", b.clock, newEventReporter(b.observer, b.Name(), b.clock), s, in, out)
}

// batchLoop is the state of one Batcher.Process call. The timer is armed
// exactly while a batch is open and MaxLatency is set, for its deadline.
type batchLoop[T any] struct {
	clockLoop
	out        chan<- Result[[]T]
	maxSize    int
	maxLatency time.Duration
	batch      batchBuffer[T]
}

// batchBuffer gathers one batch, of a Batcher or of one key of a
// KeyedBatcher, in a buffer reused from batch to batch; take copies it out
// at its exact length, so each batch costs one allocation however its
// length varies.
type batchBuffer[T any] struct{ items []T }

// take returns the batch and empties the buffer, dropping its references
// so that the items can be collected once the receiver is done with them.
func (b *batchBuffer[T]) take() []T {
	batch := append([]T(nil), b.items...)
	clear(b.items)
	b.items = b.items[:0]
	return batch
}

func (s *batchLoop[T]) due(now time.Duration) bool { return s.emit(ReasonLatency, now) }

func (s *batchLoop[T]) input(r Result[T], now time.Duration) bool {
	if r.IsError() {
		return deliver(&s.clockLoop, s.out, batchError(r), 1)
	}
	s.batch.items = append(s.batch.items, r.Value())
	if len(s.batch.items) == s.maxSize {
		return s.emit(ReasonSize, now)
	}
	if len(s.batch.items) == 1 && s.maxLatency > 0 {
		s.wakeAt(deadlineAfter(now, s.maxLatency), now)
	}
	return true
}

func (s *batchLoop[T]) flush(now time.Duration) bool {
	return len(s.batch.items) == 0 || s.emit(ReasonClose, now)
}

func (s *batchLoop[T]) held() int { return len(s.batch.items) }

func (s *batchLoop[T]) loseHeld() { s.batch.lose() }

// lose settles the items held as Lost.
func (b *batchBuffer[T]) lose() {
	for _, v := range b.items {
		settleValue(any(v), Lost)
	}
}

// emit sends the batch, which went out for reason when the clock read now
// (noReading when the loop is untimed).
func (s *batchLoop[T]) emit(reason string, now time.Duration) bool {
	n := len(s.batch.items)
	r := NewSuccess(s.batch.take())
	s.wakeAt(0, now)
	if !deliver(&s.clockLoop, s.out, r, n) {
		return false
	}
	s.rep.reportSince(EventEmit, reason, n, s.timer.base, now)
	return true
}

// batchError carries a failed item, and its metadata, into the batch
// stream.
func batchError[T any](r Result[T]) Result[[]T] {
	se := r.err
	return Result[[]T]{metadata: r.metadata, err: &StreamError[[]T]{
		Item:          []T{se.Item},
		Err:           se.Err,
		ProcessorName: se.ProcessorName,
		Timestamp:     se.Timestamp,
	}}
}
