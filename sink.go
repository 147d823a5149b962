package streamz

import (
	"errors"
	"iter"
)

// Sinks end a stream: each reads a Result channel until it is closed. A
// pipeline stops at its first unread output (see "Building a service" in
// the README), so a sink must be given every output that carries items,
// and read it to the end or cancel the pipeline's ctx.

// All returns an iterator over the Results received from in, in order: a
// success as its value and a nil error, an error as the item its
// StreamError holds and that *StreamError (never a nil pointer in a
// non-nil error). The iteration ends when in is closed.
//
// Stopping early (a break out of the range loop) leaves the rest of in
// unread, which blocks the stages before it until their ctx ends: cancel
// it then. Each call of the iterator reads from in afresh.
func All[T any](in <-chan Result[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for r := range in {
			var ok bool
			if r.err != nil {
				ok = yield(r.err.Item, r.err)
			} else {
				ok = yield(r.value, nil)
			}
			if !ok {
				return
			}
		}
	}
}

// Collect reads in until it is closed and returns the values of its
// successes, in order, and its errors joined with errors.Join, in order, or
// nil if there were none. errors.As on the joined error finds the first
// *StreamError; errors.Is reaches every cause.
func Collect[T any](in <-chan Result[T]) ([]T, error) {
	var values []T
	var errs []error
	for v, err := range All(in) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		values = append(values, v)
	}
	return values, errors.Join(errs...)
}
