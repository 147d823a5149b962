package streamz

import (
	"context"
	"errors"
	"log"
)

// Tap calls a function on every item of a stream, successes and errors
// alike, for its side effect (logging, metrics, debugging), and forwards
// the items unchanged.
//
// The callback runs on the Tap's own goroutine, for one item at a time and
// before that item is forwarded, so a slow callback slows the stream, and
// the callback for an item runs only once the previous item has been taken
// by the consumer.
type Tap[T any] struct {
	name string
	fn   func(Result[T])
}

// NewTap returns a Tap named "tap" that calls fn on every item. It panics if
// fn is nil.
func NewTap[T any](fn func(Result[T])) *Tap[T] {
	if fn == nil {
		panic("streamz: NewTap: fn must not be nil")
	}
	return &Tap[T]{name: "tap", fn: fn}
}

// WithName sets the name that the Tap puts on errors and log lines, and
// returns the Tap. It must not be called while Process runs.
func (t *Tap[T]) WithName(name string) *Tap[T] {
	t.name = name
	return t
}

// Name returns the Tap's name, "tap" unless WithName changed it.
func (t *Tap[T]) Name() string { return t.name }

// Process calls the callback on each item of in and then forwards the item,
// unchanged and in order, on the returned channel, which is unbuffered.
//
// If the callback panics, the Tap writes one line through the standard log
// package, "Tap[<name>]: side effect panicked: <value>", and forwards an
// error Result in place of the item: it holds the item (the failed item, for
// an error), the Tap's name, the item's metadata, and an Err that says the
// callback panicked and with what (errors.As reaches the panic value when it
// is an error, and, for an error item, its original cause too). The stream
// goes on.
//
// When in is closed, the output is closed after the last item. When ctx is
// cancelled, the output is closed promptly, even while in is idle or nobody
// reads the output, and no item taken from in after cancellation reaches
// the callback. The callback may have seen an item that is then dropped,
// because ctx ended while the Tap was sending it. Each call is independent,
// so one Tap can serve many streams.
func (t *Tap[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	lp := newLoop(ctx, "Tap.Process", nil, in, out)
	name, fn := t.name, t.fn
	go func() {
		defer lp.exit()
		defer close(out)
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok || endedWith(lp, r) {
				return
			}
			if err := callTapFn(fn, r); err != nil {
				log.Printf("Tap[%s]: side effect panicked: %v", name, err.(*userPanicError).value)
				r = tapPanicResult(r, err, name)
			}
			if !send(lp, out, r) {
				return
			}
		}
	}()
	return out
}

// callTapFn calls fn, turning a panic into an error.
func callTapFn[T any](fn func(Result[T]), r Result[T]) (err error) {
	defer recoverUserPanic("callback panicked", &err)
	fn(r)
	return nil
}

// tapPanicResult is the error Result a Tap emits for r when its callback
// panicked with err.
func tapPanicResult[T any](r Result[T], err error, name string) Result[T] {
	if r.err == nil {
		return Result[T]{metadata: r.metadata, err: NewStreamError(r.value, err, name)}
	}
	return Result[T]{metadata: r.metadata, err: NewStreamError(r.err.Item, errors.Join(err, r.err.Err), name)}
}
