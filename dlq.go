package streamz

import (
	"context"
	"log"
	"sync/atomic"
	"time"
)

// dlqDropAfter is how long a DeadLetterQueue waits for a consumer to take an
// item before dropping it.
const dlqDropAfter = 10 * time.Millisecond

// DeadLetterQueue splits a stream in two: success items on one output,
// error items on the other.
//
// It drops items. Each item is offered to its output for 10 ms, measured
// on the DeadLetterQueue's Clock; an item that its consumer has not taken by
// then is dropped, counted in DroppedCount and logged with the standard log
// package. So a consumer that is absent, or merely slower than 10 ms per
// item, loses items, and a slow consumer of one output delays the other by
// up to 10 ms per item. Read both outputs promptly, or put a Buffer after
// the one that may lag.
//
// Items are handled one at a time, in input order, and pass untouched:
// metadata and *StreamError are kept.
type DeadLetterQueue[T any] struct {
	clock        Clock
	name         string
	droppedCount atomic.Uint64
	observer     func(Event)
}

// NewDeadLetterQueue returns a DeadLetterQueue named "dlq" whose 10 ms drop
// timeout is measured on clock. A nil clock means RealClock.
func NewDeadLetterQueue[T any](clock Clock) *DeadLetterQueue[T] {
	if clock == nil {
		clock = RealClock
	}
	return &DeadLetterQueue[T]{clock: clock, name: "dlq"}
}

// WithName sets the name used in log lines, and returns dlq itself. It must
// not be called while Process runs.
func (dlq *DeadLetterQueue[T]) WithName(name string) *DeadLetterQueue[T] {
	dlq.name = name
	return dlq
}

// Name returns the name, "dlq" unless set by WithName.
func (dlq *DeadLetterQueue[T]) Name() string { return dlq.name }

// WithObserver sets fn to be told what each later Process call does, and
// returns dlq. Process reads it, and the name the events carry, when
// called, so set them before.
//
// A Process call reports: EventDrop with ReasonTimeout and Count 1 for every
// item, success or error, dropped because its consumer did not take it
// within 10 ms, timed when the DeadLetterQueue gave up; EventCancel when
// ctx ends, with Count 1 if an item was being offered then (it is lost,
// and neither counted nor logged) and 0 otherwise; and EventClose last,
// just before the outputs are closed. Items delivered are not reported,
// and the timer that times an offer is not either: it is part of a send,
// not a period.
//
// fn runs synchronously on the processor's goroutine, one event at a time
// and in the order things happen, so a slow fn slows the stream. A nil fn
// means none, and costs nothing. A panic in fn is not recovered: like a
// panic in any goroutine, it ends the program.
func (dlq *DeadLetterQueue[T]) WithObserver(fn func(Event)) *DeadLetterQueue[T] {
	dlq.observer = fn
	return dlq
}

// DroppedCount returns how many items have been dropped, over every Process
// call on dlq. Safe for concurrent use.
func (dlq *DeadLetterQueue[T]) DroppedCount() uint64 { return dlq.droppedCount.Load() }

// Process returns two unbuffered outputs: success items on success, error
// items on failure.
//
// An item its consumer does not take within 10 ms is dropped and logged as
//
//	DLQ[<name>]: Dropped item from failure channel - <error text>
//	DLQ[<name>]: Dropped item from success channel - value: <value as %+v>
//
// When in is closed or ctx ends, failure and then success are closed. On
// cancel this happens promptly, even while in is idle and open or nobody is
// reading; the item in hand is then dropped without being counted or
// logged. Process may be called again; the count is shared.
func (dlq *DeadLetterQueue[T]) Process(ctx context.Context, in <-chan Result[T]) (success <-chan Result[T], failure <-chan Result[T]) {
	succ := make(chan Result[T])
	fail := make(chan Result[T])
	lp := newLoop(ctx, "DeadLetterQueue", dlq.clock, in, succ, fail)
	rep := newEventReporter(dlq.observer, dlq.Name(), dlq.clock)
	go func() {
		defer lp.exit()
		defer close(succ)
		defer close(fail)
		defer rep.report(EventClose, "", 0)
		var timer Timer
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop {
				rep.report(EventCancel, "", 0)
				return
			}
			if !ok {
				return
			}
			out := succ
			if r.IsError() {
				out = fail
			}
			delivered, cancelled := dlq.offer(lp, &timer, out, r)
			if delivered {
				lp.deliveredOne()
			}
			if cancelled {
				rep.report(EventCancel, "", 1)
				return
			}
			if !delivered {
				rep.report(EventDrop, ReasonTimeout, 1)
				dlq.drop(r)
			}
		}
	}()
	return succ, fail
}

// offer sends r on out, giving up once the clock has moved dlqDropAfter
// past the first attempt. It waits as send in loop.go does, with the timer
// added; taking the timer's value counts as work for a settling FakeClock.
// The timer is made on first need and reused, stopped again after each
// item, so that an item delivered at once costs no timer at all.
func (dlq *DeadLetterQueue[T]) offer(lp *loop, timer *Timer, out chan<- Result[T], r Result[T]) (delivered, cancelled bool) {
	select {
	case <-lp.done:
		return false, true
	default:
	}
	select {
	case out <- r:
		return true, false
	default:
	}
	if *timer == nil {
		*timer = dlq.clock.NewTimer(dlqDropAfter)
	} else {
		(*timer).Reset(dlqDropAfter)
	}
	t := *timer
	expired := t.C()
	for {
		if lp.owed != nil {
			select {
			case out <- r:
				t.Stop()
				return true, false
			case <-lp.done:
				t.Stop()
				return false, true
			case <-expired:
				lp.took()
				return false, false
			default:
				lp.answer(nil, sendChan(out))
			}
		}
		select {
		case out <- r:
			t.Stop()
			return true, false
		case <-lp.done:
			t.Stop()
			return false, true
		case <-expired:
			lp.took()
			return false, false
		case reply := <-lp.requests:
			lp.owe(reply)
		}
	}
}

func (dlq *DeadLetterQueue[T]) drop(r Result[T]) {
	dlq.droppedCount.Add(1)
	if r.IsError() {
		log.Printf("DLQ[%s]: Dropped item from failure channel - %v", dlq.name, r.Error())
		return
	}
	log.Printf("DLQ[%s]: Dropped item from success channel - value: %+v", dlq.name, r.Value())
}
