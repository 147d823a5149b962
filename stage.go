package streamz

import "context"

// StageFunc is the per-item function of a Stage: it handles r, one Result
// of the Stage's input, by calling emit for each Result it outputs, any
// number of times, zero included. emit returns true once the consumer has
// taken the Result, or false once ctx has ended, when the Result is
// dropped, never delivered later, and the function should return. emit may
// be called only during the StageFunc's call, on its goroutine.
type StageFunc[In, Out any] func(ctx context.Context, r Result[In], emit func(Result[Out]) bool)

// Stage is a processor of your own, written as a StageFunc: given each
// Result of its input, success or error, it emits any number of Results,
// with state kept across items. A Stage takes part in a FakeClock's
// settling as the plumbing processors do, so a pipeline with one between
// two streamz stages stays deterministic in the plain style. FlatMap and
// Unbatcher are built on it.
//
// The StageFunc runs on the Stage's own goroutine, for one item at a time,
// in input order. A StageFunc that starts goroutines of its own, or waits
// for anything but emit, is outside the FakeClock's view; test such a stage
// in a testing/synctest bubble instead (see "Testing your own pipeline" in
// the README).
type Stage[In, Out any] struct {
	name    string
	newFunc func() StageFunc[In, Out]
}

// NewStage returns a Stage named "stage". Each Process call calls newFunc
// once, before it starts, for the StageFunc of that stream: state the
// StageFunc keeps in its closure belongs to one stream, so one Stage can
// serve many. It panics if newFunc is nil.
func NewStage[In, Out any](newFunc func() StageFunc[In, Out]) *Stage[In, Out] {
	if newFunc == nil {
		panic("streamz: NewStage: newFunc must not be nil")
	}
	return &Stage[In, Out]{name: "stage", newFunc: newFunc}
}

// WithName sets the name that the Stage's panic errors carry, and returns the
// Stage. It must not be called while Process runs.
func (s *Stage[In, Out]) WithName(name string) *Stage[In, Out] {
	s.name = name
	return s
}

// Name returns the Stage's name, "stage" unless WithName changed it.
func (s *Stage[In, Out]) Name() string { return s.name }

// Process runs a new StageFunc over in and returns the output channel, which
// is unbuffered. It panics if newFunc returns nil.
//
// If the StageFunc panics on an item, what it emitted before the panic
// stays emitted, and then an error Result follows, with the item's
// metadata, whose Item is the zero Out and whose Err says fn panicked and
// with what (errors.As reaches the panic value when it is an error), named
// by the Stage; the stream goes on, with the same StageFunc and whatever
// state the panic left it in.
//
// When in is closed, the output is closed after the last item's Results.
// When ctx is cancelled, the output is closed promptly, even while in is
// idle or nobody reads the output, as soon as the StageFunc has returned;
// the Result being emitted is dropped, and no item taken from in after
// cancellation reaches the StageFunc.
func (s *Stage[In, Out]) Process(ctx context.Context, in <-chan Result[In]) <-chan Result[Out] {
	fn := s.newFunc()
	if fn == nil {
		panic("streamz: Stage.Process: newFunc returned a nil StageFunc")
	}
	return runStage(ctx, "Stage.Process", in, s.name, fn)
}

// runStage is the loop of a Stage, a FlatMap and an Unbatcher: it calls fn
// for each item of in, on one goroutine, with an emit that sends on the
// returned channel. caller names the Process called, for newLoop.
func runStage[In, Out any](ctx context.Context, caller string, in <-chan Result[In], name string, fn StageFunc[In, Out]) <-chan Result[Out] {
	out := make(chan Result[Out])
	lp := newLoop(ctx, caller, nil, in, out)
	go func() {
		defer lp.exit()
		defer close(out)
		emit := func(r Result[Out]) bool { return send(lp, out, r) }
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok || endedWith(lp, r) {
				return
			}
			if err := callStageFunc(ctx, fn, r, emit); err != nil {
				var zero Out
				if !send(lp, out, Result[Out]{metadata: r.metadata, err: NewStreamError(zero, err, name)}) {
					return
				}
			}
		}
	}()
	return out
}

// callStageFunc calls fn, turning a panic into an error.
func callStageFunc[In, Out any](ctx context.Context, fn StageFunc[In, Out], r Result[In], emit func(Result[Out]) bool) (err error) {
	defer recoverUserPanic("fn panicked", &err)
	fn(ctx, r, emit)
	return nil
}
