package streamz

import "context"

// FlatMap turns each item of a stream into any number of items, possibly of
// another type, with a function that may fail. It is a Stage: see there for
// its goroutine, settling and cancel.
//
// The outputs of one input come out together, in the order fn returned
// them, before those of the next input; each keeps the input's metadata.
type FlatMap[In, Out any] struct {
	name string
	fn   func(context.Context, In) ([]Out, error)
}

// NewFlatMap returns a FlatMap named "flat-map" that applies fn to every
// success item. It panics if fn is nil.
func NewFlatMap[In, Out any](fn func(context.Context, In) ([]Out, error)) *FlatMap[In, Out] {
	if fn == nil {
		panic("streamz: NewFlatMap: fn must not be nil")
	}
	return &FlatMap[In, Out]{name: "flat-map", fn: fn}
}

// WithName sets the name that the FlatMap's errors carry, and returns the
// FlatMap. It must not be called while Process runs.
func (f *FlatMap[In, Out]) WithName(name string) *FlatMap[In, Out] {
	f.name = name
	return f
}

// Name returns the FlatMap's name, "flat-map" unless WithName changed it.
func (f *FlatMap[In, Out]) Name() string { return f.name }

// Process flat-maps in and returns the output channel, which is unbuffered.
//
// For a success item, each value fn returns becomes a success; an empty or
// nil slice emits nothing. The FlatMap has emitted every value before it
// calls fn again, and keeps no reference to the slice, so fn may reuse one.
// If fn returns an error, the values it returned with it are emitted first,
// and then one error Result whose Item is the zero Out, whose Err is that
// error and whose ProcessorName is the FlatMap's name. A panic in fn is
// handled as a Stage handles one.
//
// An error item is not given to fn: it becomes one Result[Out] error whose
// Err is the incoming *StreamError[In] itself, as a Mapper passes one.
func (f *FlatMap[In, Out]) Process(ctx context.Context, in <-chan Result[In]) <-chan Result[Out] {
	name, fn := f.name, f.fn
	return runStage(ctx, "FlatMap.Process", in, name, func(ctx context.Context, r Result[In], emit func(Result[Out]) bool) {
		if r.err != nil {
			emit(retypeError[In, Out](r, name))
			return
		}
		values, err := fn(ctx, r.value)
		for i, v := range values {
			if !emit(Result[Out]{value: v, metadata: r.metadata}) {
				// emit settled v; the values after it are lost too.
				for _, rest := range values[i+1:] {
					settleValue(any(rest), Lost)
				}
				return
			}
		}
		if err != nil {
			var zero Out
			emit(Result[Out]{metadata: r.metadata, err: NewStreamError(zero, err, name)})
		}
	})
}
