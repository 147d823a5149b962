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
	size, slide := w.size, w.slide
	rep := newEventReporter(w.observer, w.name, w.clock)
	if slide == size {
		mustHaveCtx(ctx, "SlidingWindow.Process") // before the tumbling loop's own check names TumblingWindow
		return processGrid(ctx, w.clock, in, size, &slide, rep)
	}
	out := make(chan Result[T])
	lp := newLoop(ctx, "SlidingWindow.Process", w.clock, in, out)
	timer := newPeriodTimer(w.clock)
	timer.rep = rep
	go func() {
		defer lp.exit()
		defer close(out)
		defer rep.report(EventClose, "", 0)
		defer timer.disarm()

		boxes := windowBoxes{typ: string(WindowTypeSliding), size: size, slide: slide}
		var bufs windowBuffers[T]
		// open holds the windows with items, by ascending k, so by
		// ascending End and Start: an item joins the open windows and
		// windows after them, and every window before the ones it joins
		// has ended and gone out first (the time-first rule).
		type slidingWin struct {
			start time.Duration // since the timer's base
			items []Result[T]
		}
		var open []slidingWin
		var anchor time.Duration // F, since the timer's base
		anchored := false

		// cancelled reports the end of ctx with the Results still held:
		// emitted windows hold none, and a window cut short holds what it
		// did not send.
		cancelled := func() {
			if rep == nil {
				return
			}
			n := 0
			for i := range open {
				n += len(open[i].items)
			}
			rep.report(EventCancel, "", n)
		}
		// emitWin sends win, which went out for reason when the clock read
		// now.
		emitWin := func(win *slidingWin, reason string, now time.Duration) bool {
			boxes.start, boxes.end = timer.base.Add(win.start), timer.base.Add(deadlineAfter(win.start, size))
			n := len(win.items)
			if sent := emitWindow(lp, out, win.items, &boxes); sent < n {
				win.items = win.items[sent:]
				cancelled()
				return false
			}
			bufs.put(win.items)
			win.items = nil
			rep.reportSince(EventEmit, reason, n, timer.base, now)
			return true
		}
		// emitDue emits, in order, every open window whose End now has
		// reached, and re-arms the timer for the next End, if any.
		emitDue := func(now time.Duration) bool {
			n := 0
			for n < len(open) && now >= deadlineAfter(open[n].start, size) {
				n++
			}
			if n == 0 {
				return true
			}
			if n == len(open) {
				timer.disarmAt(now)
			} else {
				timer.schedule(deadlineAfter(open[n].start, size), now)
			}
			for i := range n {
				if !emitWin(&open[i], ReasonWindowEnd, now) {
					return false
				}
			}
			m := copy(open, open[n:])
			clear(open[m:])
			open = open[:m]
			return true
		}

		for {
			r, ok, gotEvent, stop := receive(lp, timer.events, in)
			switch {
			case stop:
				cancelled()
				return
			case gotEvent:
				timer.taken()
				if !emitDue(timer.now()) {
					return
				}
			case !ok:
				if len(open) == 0 {
					return
				}
				// Time first: windows whose End has come go out for it,
				// and the rest for the close.
				now := timer.now()
				if !emitDue(now) {
					return
				}
				timer.disarmAt(now)
				for i := range open {
					if !emitWin(&open[i], ReasonClose, now) {
						return
					}
				}
				return
			default:
				now := timer.now()
				if !emitDue(now) {
					return
				}
				if !anchored {
					anchor, anchored = now, true
				}
				// The windows that contain now are k in [lo, hi]: those
				// with start <= now < start+size.
				rel := now - anchor
				hi := rel / slide
				lo := time.Duration(0)
				if rel >= size {
					lo = (rel-size)/slide + 1
				}
				if lo > hi {
					// In a gap of a grid with slide > size.
					rep.reportSince(EventDrop, ReasonGap, 1, timer.base, now)
					continue
				}
				wasEmpty := len(open) == 0
				for i := range open {
					open[i].items = append(open[i].items, r)
				}
				next := lo
				if len(open) > 0 {
					next = max(next, (open[len(open)-1].start-anchor)/slide+1)
				}
				for k := next; k <= hi; k++ {
					open = append(open, slidingWin{start: anchor + k*slide, items: append(bufs.get(), r)})
				}
				if wasEmpty {
					timer.schedule(deadlineAfter(open[0].start, size), now)
				}
			}
		}
	}()
	return out
}
