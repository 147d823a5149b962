package streamz

import (
	"context"
	"fmt"
)

// DroppingBuffer holds up to size items for a slower consumer and never
// blocks its producer: it keeps taking input while the consumer is slow,
// and when it is full it drops the newest item, the one arriving.
//
// The rules it shares with SlidingBuffer, which drops the oldest instead:
// items, errors included, go out unchanged and in order, each as soon as
// the consumer takes it; an error Result takes room like any item, and a
// full buffer drops it as it drops a success. Up to size items are held,
// the one on offer to the consumer included. The buffer takes input
// whenever it is offered, so its producer never waits on it, only on its
// own channel. A dropped item is reported as EventDrop with
// ReasonOverflow and Count 1, and settled Discarded (see [Settler]). When
// in is closed, every item held goes out, and then the output is closed.
// When ctx is cancelled, the output is closed promptly, even if nobody is
// reading, and every item held is dropped (EventCancel counts them; an
// item that must be settled is settled Lost).
type DroppingBuffer[T any] struct {
	size     int
	observer func(Event)
}

// NewDroppingBuffer returns a DroppingBuffer that holds up to size items.
// It panics if size is below 1.
func NewDroppingBuffer[T any](size int) *DroppingBuffer[T] {
	checkOverflowSize(size, "NewDroppingBuffer")
	return &DroppingBuffer[T]{size: size}
}

// Name returns "dropping-buffer".
func (b *DroppingBuffer[T]) Name() string { return "dropping-buffer" }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns b. Process reads it when
// called, so set it before. A Process call reports: EventEmit with Count 1
// and ReasonBuffered for every item the consumer takes; EventDrop with
// ReasonOverflow for every item dropped; EventCancel when ctx ends, with
// Count the items held; and EventClose last, just before the output is
// closed. Its events are timed by RealClock.
func (b *DroppingBuffer[T]) WithObserver(fn func(Event)) *DroppingBuffer[T] {
	b.observer = fn
	return b
}

// Process buffers in and returns the output channel, which is unbuffered:
// the items wait in the DroppingBuffer, as its doc says.
func (b *DroppingBuffer[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	return startOverflowBuffer(ctx, "DroppingBuffer.Process", b.Name(), b.observer, b.size, false, in)
}

// SlidingBuffer holds up to size items for a slower consumer and never
// blocks its producer; when it is full it drops the oldest item it holds
// to make room for the one arriving, so the consumer sees the latest
// items. Its other rules are DroppingBuffer's.
type SlidingBuffer[T any] struct {
	size     int
	observer func(Event)
}

// NewSlidingBuffer returns a SlidingBuffer that holds up to size items. It
// panics if size is below 1.
func NewSlidingBuffer[T any](size int) *SlidingBuffer[T] {
	checkOverflowSize(size, "NewSlidingBuffer")
	return &SlidingBuffer[T]{size: size}
}

// Name returns "sliding-buffer".
func (b *SlidingBuffer[T]) Name() string { return "sliding-buffer" }

// WithObserver is DroppingBuffer.WithObserver, and returns b.
func (b *SlidingBuffer[T]) WithObserver(fn func(Event)) *SlidingBuffer[T] {
	b.observer = fn
	return b
}

// Process buffers in and returns the output channel, which is unbuffered.
func (b *SlidingBuffer[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	return startOverflowBuffer(ctx, "SlidingBuffer.Process", b.Name(), b.observer, b.size, true, in)
}

func checkOverflowSize(size int, fn string) {
	if size < 1 {
		panic(fmt.Sprintf("streamz: %s: size must be at least 1, got %d", fn, size))
	}
}

// overflowBuffer is the state of one Process call of a DroppingBuffer
// (dropOldest false) or a SlidingBuffer (true).
type overflowBuffer[T any] struct {
	lp         *loop
	rep        *eventReporter
	out        chan Result[T]
	size       int
	dropOldest bool
	settling   bool // the item type may need settling: settles[T]()
	held       ringQueue[Result[T]]
}

func startOverflowBuffer[T any](ctx context.Context, caller, name string, observer func(Event), size int, dropOldest bool, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	b := &overflowBuffer[T]{
		lp: newLoop(ctx, caller, nil, in, out), rep: newEventReporter(observer, name, nil),
		out: out, size: size, dropOldest: dropOldest, settling: settles[T](),
	}
	go b.run(in)
	return out
}

func (b *overflowBuffer[T]) run(in <-chan Result[T]) {
	defer b.lp.exit()
	defer close(b.out)
	defer b.rep.report(EventClose, "", 0)
	for {
		var out chan<- Result[T]
		var head Result[T]
		if front := b.held.front(); front != nil {
			out, head = b.out, *front
		}
		r, ok, sent, stop := exchange(b.lp, in, out, head)
		switch {
		case stop:
			b.cancelled()
			return
		case sent:
			b.held.pop()
			b.rep.report(EventEmit, ReasonBuffered, 1)
		case !ok:
			b.drain()
			return
		case b.held.len() < b.size:
			b.held.push(r)
		case b.dropOldest:
			b.drop(*b.held.front())
			b.held.pop()
			b.held.push(r)
		default:
			b.drop(r)
		}
	}
}

// drop discards r, for the overflow.
func (b *overflowBuffer[T]) drop(r Result[T]) {
	b.rep.report(EventDrop, ReasonOverflow, 1)
	settleResult(b.settling, r, Discarded)
}

// drain sends every item held, for the close of the input.
func (b *overflowBuffer[T]) drain() {
	for front := b.held.front(); front != nil; front = b.held.front() {
		if !sendKeeping(b.lp, b.out, *front) {
			b.cancelled()
			return
		}
		b.held.pop()
		b.rep.report(EventEmit, ReasonBuffered, 1)
	}
}

// cancelled reports the end of ctx and settles every item held Lost.
func (b *overflowBuffer[T]) cancelled() {
	b.rep.report(EventCancel, "", b.held.len())
	for front := b.held.front(); front != nil; front = b.held.front() {
		settleResult(b.settling, *front, Lost)
		b.held.pop()
	}
}
