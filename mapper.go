package streamz

import "context"

// Mapper turns each item of a stream into another, possibly of another
// type, with a function that may fail.
//
// It emits exactly one Result per input, in input order, and calls its
// function for one item at a time, on its own goroutine, with the ctx given
// to Process. Every output keeps the input's metadata, as [Result.Map] does.
type Mapper[In, Out any] struct {
	name string
	fn   func(context.Context, In) (Out, error)
}

// NewMapper returns a Mapper named "mapper" that applies fn to every success
// item. It panics if fn is nil.
func NewMapper[In, Out any](fn func(context.Context, In) (Out, error)) *Mapper[In, Out] {
	if fn == nil {
		panic("streamz: NewMapper: fn must not be nil")
	}
	return &Mapper[In, Out]{name: "mapper", fn: fn}
}

// WithName sets the name that the Mapper's errors carry, and returns the
// Mapper. It must not be called while Process runs.
func (m *Mapper[In, Out]) WithName(name string) *Mapper[In, Out] {
	m.name = name
	return m
}

// Name returns the Mapper's name, "mapper" unless WithName changed it.
func (m *Mapper[In, Out]) Name() string { return m.name }

// Process maps in and returns the output channel, which is unbuffered.
//
// For a success item, fn's value becomes a success. If fn returns an error,
// the output is an error Result whose Item is the Out value fn returned with
// it, whose Err is that error and whose ProcessorName is the Mapper's name.
// If fn panics, the output is an error Result whose Item is the zero Out and
// whose Err says fn panicked and with what (errors.As reaches the panic value
// when it is an error); the stream goes on.
//
// An error item is not given to fn: it becomes a Result[Out] error whose Err
// is the incoming *StreamError[In] itself, so errors.Is and errors.As reach
// it and its cause, with the zero Out as Item, the Mapper's name, and the
// incoming error's Timestamp.
//
// When in is closed, the output is closed after the last item. When ctx is
// cancelled, the output is closed promptly, even while in is idle or nobody
// reads the output; the item being sent, if any, is dropped, and no item
// taken from in after cancellation reaches fn. Each call is independent, so
// one Mapper can serve many streams.
func (m *Mapper[In, Out]) Process(ctx context.Context, in <-chan Result[In]) <-chan Result[Out] {
	out := make(chan Result[Out])
	lp := newLoop(ctx, "Mapper.Process", nil, in, out)
	name, fn := m.name, m.fn
	go func() {
		defer lp.exit()
		defer close(out)
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok || endedWith(lp, r) {
				return
			}
			if !send(lp, out, mapResult(ctx, fn, name, r)) {
				return
			}
		}
	}()
	return out
}

// mapResult is what a Mapper or an AsyncMapper emits for r.
func mapResult[In, Out any](ctx context.Context, fn func(context.Context, In) (Out, error), name string, r Result[In]) Result[Out] {
	if r.err != nil {
		return retypeError[In, Out](r, name)
	}
	v, err := callMapFn(ctx, fn, r.value)
	if err != nil {
		return Result[Out]{metadata: r.metadata, err: NewStreamError(v, err, name)}
	}
	return Result[Out]{value: v, metadata: r.metadata}
}

// retypeError is what a Mapper or an AsyncMapper emits for the error r: a
// Result[Out] error wrapping r's *StreamError[In] (so errors.Is and
// errors.As reach it and its cause), with the zero Out as its Item, the
// mapper's name and r's Timestamp and metadata.
func retypeError[In, Out any](r Result[In], name string) Result[Out] {
	return Result[Out]{metadata: r.metadata, err: &StreamError[Out]{
		Err:           r.err,
		ProcessorName: name,
		Timestamp:     r.err.Timestamp,
	}}
}

// callMapFn calls fn, turning a panic into an error.
func callMapFn[In, Out any](ctx context.Context, fn func(context.Context, In) (Out, error), v In) (out Out, err error) {
	defer recoverUserPanic("fn panicked", &err)
	return fn(ctx, v)
}
