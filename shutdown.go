package streamz

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Graceful shutdown. A signal must stop a pipeline's sources and let every
// stage flush what it holds, which only closing their input does; cancelling
// their ctx drops it. So a pipeline that shuts down gracefully runs every
// source, stage and sink under one ctx from WithGrace, and passes the signal
// only to a TakeUntil right after the sources:
//
//	signalled, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stopSignals()
//	ctx, cancel := streamz.WithGrace(signalled, 10*time.Second, streamz.RealClock)
//	defer cancel()
//	lines := streamz.NewTakeUntil[string](signalled).Process(ctx, streamz.FromLines(ctx, os.Stdin, 0))
//
// On the signal, TakeUntil closes its output; each stage after it flushes
// and closes its own, down to the sink, whose loop then ends. If that takes
// longer than the grace period, ctx ends and every stage closes at once,
// dropping what it still holds. The README's "Building a service" walks
// through a whole pipeline.

// TakeUntil forwards a stream until a stop signal, then ends it: it turns
// the end of a stop context into the end of its output, which downstream
// stages see as the end of their input, so they flush.
type TakeUntil[T any] struct {
	stop context.Context
}

// NewTakeUntil returns a TakeUntil that ends its streams when stop ends. A
// stop that never ends (context.Background()) makes it a plain forwarder.
// It panics if stop is nil.
func NewTakeUntil[T any](stop context.Context) *TakeUntil[T] {
	if stop == nil {
		panic("streamz: NewTakeUntil: stop must not be nil")
	}
	return &TakeUntil[T]{stop: stop}
}

// Process forwards in, unchanged and in order, on an unbuffered output, and
// closes the output when in is closed or once stop has ended.
//
// Once stop has ended, TakeUntil takes nothing more from in (it may take the
// one item it was receiving as stop ended). Every item it has taken is
// delivered, however long the consumer takes, unless ctx ends first. What is
// left in in, and in the stages before it, is not read; they are released
// when their ctx ends. So place TakeUntil right after the sources, before
// any stage that holds items, and give the sources the same ctx as the
// rest.
//
// When ctx is cancelled, the output is closed promptly, even while in is
// idle or nobody reads the output; the item being sent, if any, is dropped.
func (t *TakeUntil[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	lp := newLoop(ctx, nil, in, out)
	drainOnCancel(ctx, lp, out)
	stopped := t.stop.Done()
	go func() {
		defer lp.exit()
		defer close(out)
		for {
			// receive prefers a ready input to a ready event, so a stop
			// must be looked at on its own, or a busy input would hide it.
			select {
			case <-stopped:
				return
			default:
			}
			r, ok, _, stop := receive(lp, stopped, in)
			if stop || !ok || !send(lp, out, r) {
				return
			}
		}
	}()
	return out
}

// WithGrace returns the context for a pipeline that shuts down gracefully
// on stop: a context that ends grace after stop ends, as measured on clock,
// or when cancel is called, whichever is first. It carries stop's values.
// Its cause (context.Cause) is an error that names the grace period when
// the period ran out, and context.Canceled after cancel.
//
// The period starts when WithGrace's watcher sees stop end, just after it
// does: on a FakeClock, wait for the timer (BlockUntilContext) before
// advancing past it. A zero grace ends the context as soon as stop ends,
// which flushes nothing; a negative grace panics. A nil clock means
// RealClock. Call cancel once the pipeline is done, as with
// context.WithCancel: it stops the timer and the watcher, and releases
// what is still blocked under the context.
func WithGrace(stop context.Context, grace time.Duration, clock Clock) (ctx context.Context, cancel context.CancelFunc) {
	if stop == nil {
		panic("streamz: WithGrace: stop must not be nil")
	}
	if grace < 0 {
		panic(fmt.Sprintf("streamz: WithGrace: grace must not be negative, got %v", grace))
	}
	if clock == nil {
		clock = RealClock
	}
	ctx, cancelCause := context.WithCancelCause(context.WithoutCancel(stop))
	expired := fmt.Errorf("streamz: WithGrace: the grace period of %v after stop ran out", grace)
	var mu sync.Mutex
	var timer Timer
	ended := false // cancel has been called: start no timer
	unwatch := context.AfterFunc(stop, func() {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			timer = clock.AfterFunc(grace, func() { cancelCause(expired) })
		}
	})
	return ctx, func() {
		unwatch()
		mu.Lock()
		ended = true
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancelCause(context.Canceled)
	}
}
