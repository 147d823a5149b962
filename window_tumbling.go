package streamz

import (
	"context"
	"fmt"
	"time"
)

// TumblingWindow groups items into fixed, back-to-back windows of one size,
// by the time the processor receives them.
//
// The windows of one Process call are [A + k·size, A + (k+1)·size), where A
// is the clock's reading when Process is called, so they never drift. The
// windows are half-open: an item received exactly at a window's End belongs
// to the next window. A window's items are emitted together, in arrival
// order, each as its own Result decorated with the window's metadata
// (window_start, window_end, window_type "tumbling", window_size), at
// exactly the window's End: the timer is armed for it, and an input that
// arrives at or after it is placed only after the window has gone out. An
// empty window emits nothing.
//
// Error Results are windowed like successes, not passed through.
type TumblingWindow[T any] struct {
	name     string
	clock    Clock
	size     time.Duration
	observer func(Event)
}

// NewTumblingWindow returns a TumblingWindow of windows of length size,
// timed by clock. A nil clock means RealClock. It panics if size <= 0.
func NewTumblingWindow[T any](size time.Duration, clock Clock) *TumblingWindow[T] {
	if size <= 0 {
		panic(fmt.Sprintf("streamz: NewTumblingWindow: size must be positive, got %v", size))
	}
	if clock == nil {
		clock = RealClock
	}
	return &TumblingWindow[T]{name: "tumbling-window", clock: clock, size: size}
}

// WithName sets the name returned by Name and returns the TumblingWindow.
func (w *TumblingWindow[T]) WithName(name string) *TumblingWindow[T] {
	w.name = name
	return w
}

// Name returns the processor's name, "tumbling-window" by default.
func (w *TumblingWindow[T]) Name() string { return w.name }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the TumblingWindow. Process
// reads it when called, so set it before.
//
// A Process call reports, under its Name: EventEmit once per window sent,
// with Reason ReasonWindowEnd (the clock reached its End) or ReasonClose
// (flushed when the input closed before its End) and Count the window's
// items, once the consumer has taken the window's last Result; the event
// is timed when the window was decided, before its sends. It reports
// EventTimerArm when a window's first item arms the timer for its End, and
// then exactly one EventTimerFire (the timer went off) or EventTimerStop
// (an input or the close reached the End first, or the call ended);
// EventCancel when ctx ends, with Count the Results held or being sent,
// which are lost; and EventClose last, after every timer is done, just
// before the output is closed.
func (w *TumblingWindow[T]) WithObserver(fn func(Event)) *TumblingWindow[T] {
	w.observer = fn
	return w
}

// Process windows in and returns the output channel, which is unbuffered.
//
// The grid is anchored when Process is called. When in is closed, the
// current window, if it holds items, is emitted at once with its planned
// End (which may lie in the future), and then the output is closed. When
// ctx is cancelled, the output is closed promptly without emitting the
// current window, even if nobody is reading; to get the last window, close
// the input and drain the output. Each call keeps its own state.
func (w *TumblingWindow[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	return startWindows(ctx, "TumblingWindow.Process", w.spec(), &perResultHolder[T]{}, in)
}

// Collect windows in as Process does and emits each window as one
// WindowCollection when it ends: at exactly its End while the stream runs,
// or at once when in closes. See [Window] for what it shares with
// Process. The output is unbuffered.
func (w *TumblingWindow[T]) Collect(ctx context.Context, in <-chan Result[T]) <-chan Result[WindowCollection[T]] {
	return startWindows(ctx, "TumblingWindow.Collect", w.spec(), &collectHolder[T]{}, in)
}

func (w *TumblingWindow[T]) spec() windowSpec[T] {
	return windowSpec[T]{name: w.name, clock: w.clock, observer: w.observer, typ: WindowTypeTumbling, size: w.size}
}

// gridLoop is the state of one Process call of a tumbling window, or of a
// sliding one whose slide is its size. The timer is armed exactly while
// the current window is pending, for its End.
type gridLoop[T, W, O any] struct {
	clockLoop
	out   chan<- O
	h     windowHolder[T, W, O]
	size  time.Duration
	boxes windowBoxes
	// cur is the current window, pending while open is set: it has
	// received an item.
	cur  W
	open bool
	// The current window's Start and End, since the timer's base. End is
	// kept apart from Start + size because it saturates.
	start, end time.Duration
}

func (s *gridLoop[T, W, O]) due(now time.Duration) bool { return s.emit(ReasonWindowEnd, now) }

func (s *gridLoop[T, W, O]) input(r Result[T], now time.Duration) bool {
	if !s.open {
		s.start = now / s.size * s.size
		s.end = deadlineAfter(s.start, s.size)
		s.wakeAt(s.end, now)
		s.cur, s.open = s.h.open(), true
	}
	s.h.add(&s.cur, r)
	return true
}

func (s *gridLoop[T, W, O]) flush(now time.Duration) bool {
	return !s.open || s.emit(ReasonClose, now)
}

func (s *gridLoop[T, W, O]) held() int {
	if !s.open {
		return 0
	}
	return s.h.held(&s.cur)
}

func (s *gridLoop[T, W, O]) loseHeld() {
	if s.open {
		s.h.lose(&s.cur)
	}
}

// emit sends the current window, which went out for reason when the clock
// read now. A window cut short by the end of ctx keeps what it did not
// send, for the cancel's count.
func (s *gridLoop[T, W, O]) emit(reason string, now time.Duration) bool {
	s.boxes.start, s.boxes.end = s.timer.base.Add(s.start), s.timer.base.Add(s.end)
	s.wakeAt(0, now)
	n := s.h.held(&s.cur)
	if !s.h.emit(&s.clockLoop, s.out, &s.cur, &s.boxes) {
		return false
	}
	s.h.release(&s.cur)
	s.open = false
	s.rep.reportSince(EventEmit, reason, n, s.timer.base, now)
	return true
}
