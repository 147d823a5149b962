package streamz

import (
	"context"
	"fmt"
	"log"
	"sync/atomic"
	"time"
)

// dlqDefaultTimeout is how long a DeadLetterQueue waits for a consumer to
// take an item before dropping it, unless WithTimeout says otherwise: the
// previous streamz's fixed rule.
const dlqDefaultTimeout = 10 * time.Millisecond

// DeadLetterQueue splits a stream in two: success items on one output,
// error items on the other.
//
// By default it drops items, as the previous streamz did. Each item is
// offered to its output for 10 ms, measured on the DeadLetterQueue's Clock;
// an item that its consumer has not taken by then is dropped, counted in
// DroppedCount and logged with the standard log package. So a consumer that
// is absent, or merely slower than 10 ms per item, loses items, and a slow
// consumer of one output delays the other by up to 10 ms per item.
//
// WithTimeout(0) makes it lossless: each item waits for its consumer for
// as long as it takes, or until ctx ends. Then a consumer that stops
// reading either output stops both, and the stream behind them, so both
// must be read. Choose 0 for dead letters that must be kept; keep the
// default only where losing an item is better than waiting for a consumer.
//
// Items are handled one at a time, in input order, and pass untouched:
// metadata and *StreamError are kept.
type DeadLetterQueue[T any] struct {
	clock        Clock
	name         string
	timeout      time.Duration
	droppedCount atomic.Uint64
	observer     func(Event)
}

// NewDeadLetterQueue returns a DeadLetterQueue named "dlq" that drops an
// item its consumer has not taken within 10 ms, measured on clock. A nil
// clock means RealClock.
func NewDeadLetterQueue[T any](clock Clock) *DeadLetterQueue[T] {
	if clock == nil {
		clock = RealClock
	}
	return &DeadLetterQueue[T]{clock: clock, name: "dlq", timeout: dlqDefaultTimeout}
}

// WithTimeout sets how long an item is offered to its consumer, measured
// on the DeadLetterQueue's Clock, before it is dropped, and returns the
// DeadLetterQueue. 0 means never: the item waits until its consumer takes
// it or ctx ends, and nothing is dropped. The default is 10 ms. A negative
// timeout panics. Process reads it when called: a later call changes only
// later streams.
func (dlq *DeadLetterQueue[T]) WithTimeout(timeout time.Duration) *DeadLetterQueue[T] {
	if timeout < 0 {
		panic(fmt.Sprintf("streamz: DeadLetterQueue.WithTimeout: timeout must not be negative, got %v", timeout))
	}
	dlq.timeout = timeout
	return dlq
}

// WithName sets the name used in log lines, and returns the
// DeadLetterQueue. It must not be called while Process runs.
func (dlq *DeadLetterQueue[T]) WithName(name string) *DeadLetterQueue[T] {
	dlq.name = name
	return dlq
}

// Name returns the name, "dlq" unless set by WithName.
func (dlq *DeadLetterQueue[T]) Name() string { return dlq.name }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the DeadLetterQueue.
// Process reads it, and the name the events carry, when called, so set
// them before.
//
// A Process call reports: EventDrop with ReasonTimeout and Count 1 for every
// item, success or error, dropped because its consumer did not take it
// within the timeout, timed when the DeadLetterQueue gave up (never with
// a timeout of 0); EventCancel when ctx ends, with Count 1 if an item was
// being offered then (it is lost, and neither counted nor logged) and 0
// otherwise; and EventClose last, just before the outputs are closed.
// Items delivered are not reported, and the timer that times an offer is
// not either: it is part of a send, not a period.
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
// An item its consumer does not take within the timeout (10 ms unless
// WithTimeout set it; with 0, never) is dropped and logged as
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
	lp := newLoop(ctx, "DeadLetterQueue.Process", dlq.clock, in, succ, fail)
	rep := newEventReporter(dlq.observer, dlq.Name(), dlq.clock)
	timeout := dlq.timeout
	settling := settles[T]()
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
			delivered, cancelled := dlq.offer(lp, &timer, timeout, out, r)
			if delivered {
				lp.deliveredOne()
			}
			if cancelled {
				rep.report(EventCancel, "", 1)
				r.Settle(Lost)
				return
			}
			if !delivered {
				rep.report(EventDrop, ReasonTimeout, 1)
				dlq.drop(r)
				settleResult(settling, r, Lost)
			}
		}
	}()
	return succ, fail
}

// offer sends r on out, giving up once the clock has moved timeout past
// the first attempt; with a timeout of 0 it never gives up, and is send.
// It waits as send in loop.go does, with the timer added; taking the
// timer's value counts as work for a settling FakeClock. The timer is made
// on first need and reused, stopped again after each item, so that an item
// delivered at once costs no timer at all.
func (dlq *DeadLetterQueue[T]) offer(lp *loop, timer *Timer, timeout time.Duration, out chan<- Result[T], r Result[T]) (delivered, cancelled bool) {
	if timeout == 0 {
		delivered = sendKeeping(lp, out, r)
		return delivered, !delivered
	}
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
		*timer = dlq.clock.NewTimer(timeout)
	} else {
		(*timer).Reset(timeout)
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
