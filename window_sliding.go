package streamz

import (
	"context"
	"fmt"
	"time"
)

// SlidingWindow groups items into windows of one size whose starts are a
// slide apart, by the time the processor receives them. The slide is size
// unless WithSlide sets it.
//
// When slide == size the windows tumble, exactly as [TumblingWindow]'s do:
// [A + k·size, A + (k+1)·size) with A the clock's reading when Process is
// called.
//
// Otherwise the grid is anchored at F, the time the first item is
// received: windows start at F + k·slide for k >= 0, and an item received
// at t joins every window [S, S+size) of that grid with S <= t < S+size,
// which is size/slide windows once the stream has run for size (fewer at
// the start, and never a window that does not contain it). When slide >
// size, the grid has gaps between windows, and an item received in a gap
// belongs to no window and is dropped.
//
// In both modes windows are half-open, so an item received exactly at a
// window's End is not in it. Each window's items are emitted together, in
// arrival order, each as its own Result decorated with the window's
// metadata (window_start, window_end, window_type "sliding", window_size,
// window_slide), at exactly the window's End, before any input that
// arrives at or after it is placed. Windows due together go out in order of
// End, then Start. One item is emitted once per window it is in; the copies
// share the value and the error. Empty windows emit nothing. Error Results
// are windowed like successes.
type SlidingWindow[T any] struct {
	name     string
	clock    Clock
	size     time.Duration
	slide    time.Duration
	observer func(Event)
}

// NewSlidingWindow returns a SlidingWindow of windows of length size with
// slide size (so tumbling until WithSlide changes it), timed by clock. A
// nil clock means RealClock. It panics if size <= 0.
func NewSlidingWindow[T any](size time.Duration, clock Clock) *SlidingWindow[T] {
	if size <= 0 {
		panic(fmt.Sprintf("streamz: NewSlidingWindow: size must be positive, got %v", size))
	}
	if clock == nil {
		clock = RealClock
	}
	return &SlidingWindow[T]{name: "sliding-window", clock: clock, size: size, slide: size}
}

// WithSlide sets the step between window starts and returns the
// SlidingWindow. It panics if slide <= 0. A Process call already running
// keeps the slide it started with.
func (w *SlidingWindow[T]) WithSlide(slide time.Duration) *SlidingWindow[T] {
	if slide <= 0 {
		panic(fmt.Sprintf("streamz: SlidingWindow.WithSlide: slide must be positive, got %v", slide))
	}
	w.slide = slide
	return w
}

// WithName sets the name returned by Name and returns the SlidingWindow.
func (w *SlidingWindow[T]) WithName(name string) *SlidingWindow[T] {
	w.name = name
	return w
}

// Name returns the processor's name, "sliding-window" by default.
func (w *SlidingWindow[T]) Name() string { return w.name }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the SlidingWindow. Process
// reads it when called, so set it before.
//
// A Process call reports, under its Name: EventEmit once per window sent,
// with Reason ReasonWindowEnd (the clock reached its End) or ReasonClose
// (flushed when the input closed before its End) and Count the window's
// items, once the consumer has taken the window's last Result; the event
// is timed when the window was decided, before its sends. It reports
// EventDrop with Reason ReasonGap and Count 1 for an item received in a
// gap between windows (slide > size). The one timer of the call is armed
// for the earliest pending End: EventTimerArm when it starts, and then
// exactly one EventTimerFire (it went off) or EventTimerStop (an input or
// the close reached the End first, or the call ended); moving it to the
// next window's End is not a new arm. EventCancel is reported when ctx
// ends, with Count the Results held or being sent, which are lost (an item
// held in several windows counts once per window); and EventClose last,
// after every timer is done, just before the output is closed.
func (w *SlidingWindow[T]) WithObserver(fn func(Event)) *SlidingWindow[T] {
	w.observer = fn
	return w
}

// Process windows in and returns the output channel, which is unbuffered.
//
// When in is closed, every window that holds items is emitted at once, in
// order of End, then Start, with its planned End, and then the output is
// closed. When ctx is cancelled, the output is closed promptly without
// emitting the pending windows, even if nobody is reading; to get them,
// close the input and drain the output. Each call keeps its own state and
// its own copy of size and slide.
func (w *SlidingWindow[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	return startWindows(ctx, "SlidingWindow.Process", w.spec(), &perResultHolder[T]{}, in)
}

// Collect windows in as Process does and emits each window as one
// WindowCollection when it ends: at exactly its End while the stream runs,
// or at once when in closes, in order of End, then Start. See [Window] for
// what it shares with Process. The output is unbuffered.
func (w *SlidingWindow[T]) Collect(ctx context.Context, in <-chan Result[T]) <-chan Result[WindowCollection[T]] {
	return startWindows(ctx, "SlidingWindow.Collect", w.spec(), &collectHolder[T]{}, in)
}

func (w *SlidingWindow[T]) spec() windowSpec[T] {
	return windowSpec[T]{name: w.name, clock: w.clock, observer: w.observer, typ: WindowTypeSliding, size: w.size, slide: w.slide}
}

// slidingLoop is the state of one Process call of a sliding window with
// slide != size. The timer is armed exactly while a window is pending, for
// the earliest End.
type slidingLoop[T, W, O any] struct {
	clockLoop
	out         chan<- O
	h           windowHolder[T, W, O]
	size, slide time.Duration
	boxes       windowBoxes
	// open holds the pending windows, by ascending k, so by ascending End
	// and Start: an item joins the open windows and windows after them,
	// and every window before the ones it joins has ended and gone out
	// first (the time-first rule).
	open     []slidingWin[W]
	anchor   time.Duration // F, since the timer's base
	anchored bool
}

type slidingWin[W any] struct {
	start time.Duration // since the timer's base
	w     W
}

// due emits, in order, every open window whose End now has reached, after
// setting the timer for the next End, if any.
func (s *slidingLoop[T, W, O]) due(now time.Duration) bool {
	n := 0
	for n < len(s.open) && now >= deadlineAfter(s.open[n].start, s.size) {
		n++
	}
	next := time.Duration(0)
	if n < len(s.open) {
		next = deadlineAfter(s.open[n].start, s.size)
	}
	s.wakeAt(next, now)
	for i := range n {
		if !s.emit(&s.open[i], ReasonWindowEnd, now) {
			return false
		}
	}
	m := copy(s.open, s.open[n:])
	clear(s.open[m:])
	s.open = s.open[:m]
	return true
}

func (s *slidingLoop[T, W, O]) input(r Result[T], now time.Duration) bool {
	if !s.anchored {
		s.anchor, s.anchored = now, true
	}
	// The windows that contain now are k in [lo, hi]: those with start <=
	// now < start+size.
	rel := now - s.anchor
	hi := rel / s.slide
	lo := time.Duration(0)
	if rel >= s.size {
		lo = (rel-s.size)/s.slide + 1
	}
	if lo > hi {
		// In a gap of a grid with slide > size.
		s.rep.reportSince(EventDrop, ReasonGap, 1, s.timer.base, now)
		settleResult(s.settling, r, Discarded)
		return true
	}
	next := lo
	if len(s.open) > 0 {
		next = max(next, (s.open[len(s.open)-1].start-s.anchor)/s.slide+1)
	}
	if s.settling {
		// Every open window contains now: r goes into each, and into
		// the ones it opens.
		copyItems(r, len(s.open)+int(max(0, hi-next+1)))
	}
	for i := range s.open {
		s.h.add(&s.open[i].w, r)
	}
	for k := next; k <= hi; k++ {
		s.open = append(s.open, slidingWin[W]{start: s.anchor + k*s.slide, w: s.h.open()})
		s.h.add(&s.open[len(s.open)-1].w, r)
	}
	s.wakeAt(deadlineAfter(s.open[0].start, s.size), now)
	return true
}

func (s *slidingLoop[T, W, O]) flush(now time.Duration) bool {
	s.wakeAt(0, now)
	for i := range s.open {
		if !s.emit(&s.open[i], ReasonClose, now) {
			return false
		}
	}
	return true
}

// held counts the Results still held: emitted windows hold none, and a
// window cut short holds what it did not send.
func (s *slidingLoop[T, W, O]) held() int {
	n := 0
	for i := range s.open {
		n += s.h.held(&s.open[i].w)
	}
	return n
}

func (s *slidingLoop[T, W, O]) loseHeld() {
	for i := range s.open {
		s.h.lose(&s.open[i].w)
	}
}

// emit sends win, which went out for reason when the clock read now.
func (s *slidingLoop[T, W, O]) emit(win *slidingWin[W], reason string, now time.Duration) bool {
	s.boxes.start, s.boxes.end = s.timer.base.Add(win.start), s.timer.base.Add(deadlineAfter(win.start, s.size))
	n := s.h.held(&win.w)
	if !s.h.emit(&s.clockLoop, s.out, &win.w, &s.boxes) {
		return false
	}
	s.h.release(&win.w)
	s.rep.reportSince(EventEmit, reason, n, s.timer.base, now)
	return true
}
