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
	name  string
	clock Clock
	size  time.Duration
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

// WithName sets the name returned by Name and returns w.
func (w *TumblingWindow[T]) WithName(name string) *TumblingWindow[T] {
	w.name = name
	return w
}

// Name returns the processor's name, "tumbling-window" by default.
func (w *TumblingWindow[T]) Name() string { return w.name }

// Process windows in and returns the output channel, which is unbuffered.
//
// The grid is anchored when Process is called. When in is closed, the
// current window, if it holds items, is emitted at once with its planned
// End (which may lie in the future), and then the output is closed. When
// ctx is cancelled, the output is closed promptly without emitting the
// current window, even if nobody is reading; to get the last window, close
// the input and drain the output. Each call keeps its own state.
func (w *TumblingWindow[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	return processGrid(ctx, w.clock, in, w.size, nil)
}

// processGrid runs a tumbling window of size: TumblingWindow, and
// SlidingWindow when slide == size, which passes its slide to be written
// as window_slide with type "sliding".
func processGrid[T any](ctx context.Context, clock Clock, in <-chan Result[T], size time.Duration, slide *time.Duration) <-chan Result[T] {
	out := make(chan Result[T])
	lp := newLoop(ctx, clock, in, out)
	// The anchor is read here, before Process returns, so that a test that
	// moves the clock right after Process sees the grid it expects.
	timer := newPeriodTimer(clock)
	go func() {
		defer lp.exit()
		defer close(out)
		defer timer.disarm()

		boxes := windowBoxes{typ: string(WindowTypeTumbling), size: size}
		if slide != nil {
			boxes.typ, boxes.slide = string(WindowTypeSliding), *slide
		}
		var items []Result[T]
		var end time.Duration // of the current window, since the timer's base
		emit := func() bool {
			boxes.start, boxes.end = timer.base.Add(end-size), timer.base.Add(end)
			ok := emitWindow(lp, out, items, &boxes) == len(items)
			clear(items)
			items = items[:0]
			return ok
		}
		// emitIfDue emits the current window if now has reached its End.
		emitIfDue := func(now time.Duration) bool {
			if len(items) == 0 || now < end {
				return true
			}
			timer.disarm()
			return emit()
		}

		for {
			r, ok, gotEvent, stop := receive(lp, timer.events, in)
			switch {
			case stop:
				return
			case gotEvent:
				timer.taken()
				if !emitIfDue(timer.now()) {
					return
				}
			case !ok:
				if len(items) > 0 {
					emit()
				}
				return
			default:
				now := timer.now()
				if !emitIfDue(now) {
					return
				}
				if len(items) == 0 {
					end = (now/size + 1) * size
					timer.schedule(end, now)
				}
				items = append(items, r)
			}
		}
	}()
	return out
}
