package streamz

import (
	"context"
	"fmt"
	"slices"
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
	return processGrid(ctx, w.clock, in, w.size, nil, newEventReporter(w.observer, w.name, w.clock))
}

// processGrid runs a tumbling window of size: TumblingWindow, and
// SlidingWindow when slide == size, which passes its slide to be written
// as window_slide with type "sliding". rep is the call's observer, nil for
// none.
func processGrid[T any](ctx context.Context, clock Clock, in <-chan Result[T], size time.Duration, slide *time.Duration, rep *eventReporter) <-chan Result[T] {
	out := make(chan Result[T])
	s := &gridLoop[T]{out: out, size: size, boxes: windowBoxes{typ: string(WindowTypeTumbling), size: size}}
	if slide != nil {
		s.boxes.typ, s.boxes.slide = string(WindowTypeSliding), *slide
	}
	// The anchor, the timer's base, is read before Process returns, so
	// that a test that moves the clock right after Process sees the grid
	// it expects.
	return startClocked(ctx, clock, rep, s, in, out)
}

// gridLoop is the state of one processGrid call. The timer is armed
// exactly while the current window holds items, for its End.
type gridLoop[T any] struct {
	clockLoop
	out   chan<- Result[T]
	size  time.Duration
	boxes windowBoxes
	items []Result[T]
	// The current window's Start and End, since the timer's base. End is
	// kept apart from Start + size because it saturates.
	start, end time.Duration
}

func (s *gridLoop[T]) due(now time.Duration) bool { return s.emit(ReasonWindowEnd, now) }

func (s *gridLoop[T]) input(r Result[T], now time.Duration) bool {
	if len(s.items) == 0 {
		s.start = now / s.size * s.size
		s.end = deadlineAfter(s.start, s.size)
		s.wakeAt(s.end, now)
	}
	if len(s.items) == cap(s.items) {
		// Double, where append grows a long slice by a quarter: a long
		// window then copies what it holds about once instead of about
		// four times, and the buffer is kept for the next window anyway.
		s.items = slices.Grow(s.items, len(s.items)+1)
	}
	s.items = append(s.items, r)
	return true
}

func (s *gridLoop[T]) flush(now time.Duration) bool {
	return len(s.items) == 0 || s.emit(ReasonClose, now)
}

func (s *gridLoop[T]) held() int { return len(s.items) }

// emit sends the current window, which went out for reason when the clock
// read now. A window cut short by the end of ctx keeps what it did not
// send, for the cancel's count.
func (s *gridLoop[T]) emit(reason string, now time.Duration) bool {
	s.boxes.start, s.boxes.end = s.timer.base.Add(s.start), s.timer.base.Add(s.end)
	s.wakeAt(0, now)
	n := len(s.items)
	if sent := emitWindow(s.lp, s.out, s.items, &s.boxes); sent < n {
		s.items = s.items[sent:]
		return false
	}
	clear(s.items)
	s.items = s.items[:0]
	s.rep.reportSince(EventEmit, reason, n, s.timer.base, now)
	return true
}
