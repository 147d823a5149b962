package streamz

import "context"

// Filter keeps the success items for which its predicate returns true and
// silently drops the others.
//
// Items keep their order. A kept item is forwarded unchanged, metadata
// included. The predicate is called for one item at a time, on the Filter's
// own goroutine.
type Filter[T any] struct {
	name      string
	predicate func(T) bool
}

// NewFilter returns a Filter named "filter" that keeps the items for which
// predicate returns true. It panics if predicate is nil.
func NewFilter[T any](predicate func(T) bool) *Filter[T] {
	if predicate == nil {
		panic("streamz: NewFilter: predicate must not be nil")
	}
	return &Filter[T]{name: "filter", predicate: predicate}
}

// WithName sets the name that the Filter puts on errors, and returns the
// Filter. It must not be called while Process runs.
func (f *Filter[T]) WithName(name string) *Filter[T] {
	f.name = name
	return f
}

// Name returns the Filter's name, "filter" unless WithName changed it.
func (f *Filter[T]) Name() string { return f.name }

// Process filters in and returns the output channel, which is unbuffered.
//
// A rejected item is dropped with no trace. An error item is not given to
// the predicate: it is forwarded as a copy whose ProcessorName is the
// Filter's name, with the same Item, Err, Timestamp and metadata. If the
// predicate panics on an item, the output for that item is an error Result
// holding the item, whose Err says the predicate panicked and with what
// (errors.As reaches the panic value when it is an error); the stream goes
// on.
//
// When in is closed, the output is closed after the last item. When ctx is
// cancelled, the output is closed promptly, even while in is idle or nobody
// reads the output; the item being sent, if any, is dropped, and no item
// taken from in after cancellation reaches the predicate. Each call is
// independent, so one Filter can serve many streams.
func (f *Filter[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	lp := newLoop(ctx, "Filter.Process", nil, in, out)
	name, predicate := f.name, f.predicate
	settling := settles[T]()
	go func() {
		defer lp.exit()
		defer close(out)
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok || endedWith(lp, r) {
				return
			}
			if r.err != nil {
				r = Result[T]{metadata: r.metadata, err: &StreamError[T]{
					Item:          r.err.Item,
					Err:           r.err.Err,
					ProcessorName: name,
					Timestamp:     r.err.Timestamp,
				}}
			} else if keep, err := callPredicate(predicate, r.value); err != nil {
				r = Result[T]{metadata: r.metadata, err: NewStreamError(r.value, err, name)}
			} else if !keep {
				settleResult(settling, r, Discarded)
				continue
			}
			if !send(lp, out, r) {
				return
			}
		}
	}()
	return out
}

// callPredicate calls predicate, turning a panic into an error.
func callPredicate[T any](predicate func(T) bool, v T) (keep bool, err error) {
	defer recoverUserPanic("predicate panicked", &err)
	return predicate(v), nil
}
