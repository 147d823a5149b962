package streamz

import (
	"context"
	"sync/atomic"
)

// FanIn merges several streams into one.
//
// Every Result, success or error, is forwarded untouched: the same value,
// metadata and *StreamError. Items from one input keep their order; how the
// inputs interleave is unspecified. A FanIn holds no state, so one value may
// serve any number of Process calls.
type FanIn[T any] struct {
	name string
}

// NewFanIn returns a FanIn.
func NewFanIn[T any]() *FanIn[T] {
	return &FanIn[T]{name: "fanin"}
}

// Process merges ins into one unbuffered output, forwarding each input in a
// goroutine of its own.
//
// The output is closed once every input has closed. A nil input counts as
// already closed, and with no inputs (or only nil ones) the output is
// closed before Process returns. When ctx ends, the output is closed
// promptly, even while the inputs are idle and open or nobody is reading,
// and no goroutine is left behind; the items in hand are dropped. Passing
// the same channel twice gives it two forwarders, which share its items.
func (*FanIn[T]) Process(ctx context.Context, ins ...<-chan Result[T]) <-chan Result[T] {
	mustHaveCtx(ctx, "FanIn.Process") // also when no input is live and no loop starts
	out := make(chan Result[T])
	live := 0
	for _, in := range ins {
		if in != nil {
			live++
		}
	}
	if live == 0 {
		close(out)
		return out
	}
	// The last forwarder to finish closes out, so that no closer goroutine
	// outlives the forwarders unseen by a settling FakeClock.
	var remaining atomic.Int64
	remaining.Store(int64(live))
	for _, in := range ins {
		if in == nil {
			continue
		}
		lp := newLoop(ctx, "FanIn.Process", nil, in, out)
		go fanInForward(lp, in, out, &remaining)
	}
	return out
}

// fanInForward forwards in to out until in closes or ctx ends.
func fanInForward[T any](lp *loop, in <-chan Result[T], out chan<- Result[T], remaining *atomic.Int64) {
	defer lp.exit()
	defer func() {
		if remaining.Add(-1) == 0 {
			close(out)
		}
	}()
	for {
		r, ok, _, stop := receive(lp, nil, in)
		if stop || !ok {
			return
		}
		if !send(lp, out, r) {
			return
		}
	}
}
