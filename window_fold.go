package streamz

import (
	"context"
	"time"
)

// WindowFold folds the Results of each window of a window processor into
// one value per window, emitted when the window ends, while the stream
// runs: a count, a sum or a small summary per window, with no Results held.
// See [Window] for the rules it shares with the window's Process and
// Collect.
type WindowFold[T, A any] struct {
	window  Window[T]
	initial func() A
	fn      func(A, Result[T]) A
}

// WindowValue is one window's folded value, as a WindowFold emits it: the
// window's bounds and metadata, as a WindowCollection has them, and the
// value folded from the window's Results.
//
// When the folded items must be settled (see Settler), the WindowValue
// holds their acknowledgements: it is itself a Settler, and a sink settles
// it as it settles any item once the value is safe.
type WindowValue[A any] struct {
	Start time.Time
	End   time.Time
	Meta  WindowMetadata
	Value A
	// items are the Settlers folded into Value, nil when the items carry
	// none. A pointer keeps WindowValue comparable.
	items *[]Settler
}

// Settle settles every item folded into the value with o. It does nothing
// when the items carry no acknowledgement.
func (v WindowValue[A]) Settle(o Outcome) {
	if v.items != nil {
		for _, s := range *v.items {
			s.Settle(o)
		}
	}
}

// Copied gives every item folded into the value n more holders.
func (v WindowValue[A]) Copied(n int) {
	if v.items != nil {
		for _, s := range *v.items {
			s.Copied(n)
		}
	}
}

// NewWindowFold returns a WindowFold of window's windows, with the
// window's clock, name and observer.
//
// initial makes a window's accumulator; it is called once per window, when
// the window receives its first Result. A nil initial means A's zero
// value. A window's accumulator is its own only as far as initial makes
// it so: an initial that returns a new map or slice on each call gives
// each window its own, while one that returns the same map makes every
// window share it.
//
// fn folds each Result the window receives into its accumulator and
// returns the new one: it is called once per Result and window, in
// arrival order, errors included (a Result in several sliding windows is
// folded into each), with the Result as it was received, without the
// window's metadata. fn may change the accumulator in place and return
// it: once a window has gone out, the processor keeps no reference to its
// value. initial and fn run on the processor's goroutine, one call at a
// time, and are not called once ctx has ended.
//
// A panic in initial or fn fails that window only. The window folds
// nothing more, ends when it would have ended, and then goes out as an
// error Result named by the window's Name, whose Err says "initial
// panicked: <value>" or "fn panicked: <value>" and whose Item is the
// window's WindowValue with the accumulator as it was before the panicking
// call (A's zero value after a panic in initial). Other windows and the
// stream go on. An item on which a SessionWindow's keyFunc panics joins no
// session: it goes out at once as an error Result whose Item is the zero
// WindowValue.
//
// It panics if window or fn is nil.
func NewWindowFold[T, A any](window Window[T], initial func() A, fn func(A, Result[T]) A) *WindowFold[T, A] {
	if window == nil {
		panic("streamz: NewWindowFold: window must not be nil")
	}
	if fn == nil {
		panic("streamz: NewWindowFold: fn must not be nil")
	}
	return &WindowFold[T, A]{window: window, initial: initial, fn: fn}
}

// Name returns the window's Name.
func (f *WindowFold[T, A]) Name() string { return f.window.Name() }

// Process folds in window by window and returns the output channel, which
// is unbuffered: one WindowValue per window, at exactly the window's end
// while the stream runs, and for every pending window at once when in
// closes, in the window's order; nothing once ctx is cancelled. It reads
// the window's configuration when called, as the window's own Process
// does, and each call keeps its own state.
func (f *WindowFold[T, A]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[WindowValue[A]] {
	mustHaveCtx(ctx, "WindowFold.Process") // before ctx.Done() below
	spec := f.window.spec()
	h := &foldHolder[T, A]{name: spec.name, initial: f.initial, fn: f.fn, done: ctx.Done(), settling: settles[T]()}
	return startWindows(ctx, "WindowFold.Process", spec, h, in)
}

// foldHolder is a WindowFold's windowHolder: a window holds its
// accumulator, and of its Results only their number.
type foldHolder[T, A any] struct {
	name    string
	initial func() A
	fn      func(A, Result[T]) A
	done    <-chan struct{}
	// settling is set when T's items may be Settlers: the window's value
	// then holds them.
	settling bool
}

// foldWin is one window of a fold.
type foldWin[A any] struct {
	acc A
	n   int   // the Results the window received
	err error // the panic of initial or fn that failed the window, if any
	// items are the Settlers of the Results received, when the holder
	// is settling.
	items []Settler
}

func (h *foldHolder[T, A]) open() foldWin[A] {
	var w foldWin[A]
	if h.initial != nil && !h.ended() {
		w.acc, w.err = foldInitial(h.initial)
	}
	return w
}

func (h *foldHolder[T, A]) add(w *foldWin[A], r Result[T]) {
	w.n++
	if h.settling {
		r.eachSettler(func(s Settler) { w.items = append(w.items, s) })
	}
	if w.err == nil && !h.ended() {
		w.acc, w.err = foldStep(h.fn, w.acc, r)
	}
}

// ended reports whether ctx has ended: the loop has taken an item, but the
// cancel loses it, and it must not reach the user's function.
func (h *foldHolder[T, A]) ended() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

func (h *foldHolder[T, A]) held(w *foldWin[A]) int { return w.n }

func (h *foldHolder[T, A]) lose(w *foldWin[A]) {
	for _, s := range w.items {
		s.Settle(Lost)
	}
}

func (h *foldHolder[T, A]) emit(c *clockLoop, out chan<- Result[WindowValue[A]], w *foldWin[A], b *windowBoxes) bool {
	meta := b.meta()
	v := WindowValue[A]{Start: meta.Start, End: meta.End, Meta: meta, Value: w.acc}
	if w.items != nil {
		items := w.items // release clears w
		v.items = &items
	}
	r := NewSuccess(v)
	if w.err != nil {
		r = NewError(v, w.err, h.name)
	}
	return sendKeeping(c.lp, out, r)
}

func (h *foldHolder[T, A]) release(w *foldWin[A]) { *w = foldWin[A]{} }

func (h *foldHolder[T, A]) unkeyed(_ Result[T], err error, name string) Result[WindowValue[A]] {
	return NewError(WindowValue[A]{}, err, name)
}

// foldInitial calls initial, turning a panic into an error.
func foldInitial[A any](initial func() A) (acc A, err error) {
	defer recoverUserPanic("initial panicked", &err)
	return initial(), nil
}

// foldStep returns fn(acc, r), or acc unchanged and fn's panic as an
// error.
func foldStep[T, A any](fn func(A, Result[T]) A, acc A, r Result[T]) (next A, err error) {
	next = acc
	defer recoverUserPanic("fn panicked", &err)
	return fn(acc, r), nil
}
