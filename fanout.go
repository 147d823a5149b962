package streamz

import (
	"context"
	"fmt"
)

// FanOut broadcasts one stream to a fixed number of outputs.
//
// Every output receives the identical sequence, in input order: each Result
// is sent untouched to output 0, then output 1, and so on, and the next
// item is taken only once every output has taken the current one. The
// outputs therefore move in lock step: the slowest consumer sets the pace
// for all, and one that stops reading stops every output. Put a Buffer on
// an output to let it lag.
type FanOut[T any] struct {
	name  string
	count int
}

// NewFanOut returns a FanOut with count outputs. The count is checked by
// Process, which panics if it is negative.
func NewFanOut[T any](count int) *FanOut[T] {
	return &FanOut[T]{name: "fanout", count: count}
}

// Process returns count unbuffered outputs; the slice index identifies an
// output. It panics if count is negative. With a count of 0 it returns an
// empty slice and discards the input, so that its producer is not blocked.
//
// When in is closed, every output is closed, in index order, after the last
// item has reached all of them. When ctx ends, every output is closed
// promptly, even while in is idle and open or nobody is reading; the item
// in hand may then have reached only some outputs. Each call has its own
// channels and goroutine.
func (f *FanOut[T]) Process(ctx context.Context, in <-chan Result[T]) []<-chan Result[T] {
	if f.count < 0 {
		panic(fmt.Sprintf("streamz: FanOut.Process: count must not be negative, got %d", f.count))
	}
	outs := make([]chan Result[T], f.count)
	views := make([]<-chan Result[T], f.count)
	chans := make([]any, 0, f.count+1)
	chans = append(chans, in)
	for i := range outs {
		outs[i] = make(chan Result[T])
		views[i] = outs[i]
		chans = append(chans, outs[i])
	}
	lp := newLoop(ctx, "FanOut.Process", nil, chans...)
	settling := settles[T]()
	go func() {
		defer lp.exit()
		defer func() {
			for _, out := range outs {
				close(out)
			}
		}()
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok {
				return
			}
			if settling {
				copyItems(r, len(outs))
			}
			for i, out := range outs {
				if !send(lp, out, r) {
					// send settled its own copy; the outputs after it
					// never get theirs.
					for range outs[i+1:] {
						r.Settle(Lost)
					}
					return
				}
			}
		}
	}()
	return views
}
