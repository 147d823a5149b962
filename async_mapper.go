package streamz

import (
	"context"
	"runtime"
	"sync"
)

// AsyncMapper is a Mapper that runs its function on several items at once,
// on a pool of worker goroutines, for work that waits (I/O, remote calls)
// more than it computes.
//
// In ordered mode (the default) items come out in input order, however long
// each one takes; in unordered mode they come out as they finish. Either way
// there is exactly one Result per input, and every output keeps the input's
// metadata, as [Result.Map] does.
type AsyncMapper[In, Out any] struct {
	name       string
	fn         func(context.Context, In) (Out, error)
	workers    int
	ordered    bool
	bufferSize int
}

// NewAsyncMapper returns an ordered AsyncMapper named "async-mapper" that
// applies fn to every success item, with runtime.NumCPU() workers (read
// now) and a reorder window of 100 items. It panics if fn is nil.
func NewAsyncMapper[In, Out any](fn func(context.Context, In) (Out, error)) *AsyncMapper[In, Out] {
	if fn == nil {
		panic("streamz: NewAsyncMapper: fn must not be nil")
	}
	return &AsyncMapper[In, Out]{
		name:       "async-mapper",
		fn:         fn,
		workers:    runtime.NumCPU(),
		ordered:    true,
		bufferSize: 100,
	}
}

// WithWorkers sets how many calls of fn may run at once, and returns the
// AsyncMapper. A value below 1 is ignored.
func (a *AsyncMapper[In, Out]) WithWorkers(workers int) *AsyncMapper[In, Out] {
	if workers > 0 {
		a.workers = workers
	}
	return a
}

// WithOrdered chooses between input order (true, the default) and
// completion order, and returns the AsyncMapper.
func (a *AsyncMapper[In, Out]) WithOrdered(ordered bool) *AsyncMapper[In, Out] {
	a.ordered = ordered
	return a
}

// WithBufferSize sets the reorder window of ordered mode, and returns the
// AsyncMapper. A value below 1 is ignored.
//
// No worker starts an item that is size or more places ahead of the next
// item to be emitted, so however long one item takes, the AsyncMapper holds
// fewer than size + workers items. A window smaller than the number of
// workers leaves some of them idle. Unordered mode has no window: it holds
// at most one item per worker.
func (a *AsyncMapper[In, Out]) WithBufferSize(size int) *AsyncMapper[In, Out] {
	if size > 0 {
		a.bufferSize = size
	}
	return a
}

// WithName sets the name that the AsyncMapper's errors carry, and returns
// the AsyncMapper. It must not be called while Process runs.
func (a *AsyncMapper[In, Out]) WithName(name string) *AsyncMapper[In, Out] {
	a.name = name
	return a
}

// Name returns the AsyncMapper's name, "async-mapper" unless WithName
// changed it.
func (a *AsyncMapper[In, Out]) Name() string { return a.name }

// Process maps in on the workers and returns the output channel, which is
// unbuffered. The settings are read at the call.
//
// Outputs are those of [Mapper.Process]: fn's value, or an error holding
// what fn returned with its error, or an error saying fn panicked; an error
// item is not given to fn and comes out as a Result[Out] error wrapping the
// incoming *StreamError[In]. fn may run on up to workers items at once, with
// the ctx given to Process.
//
// When in is closed, every item is mapped and emitted, the workers end, and
// then the output is closed. When ctx is cancelled, the output is closed
// promptly, even while in is idle or nobody reads the output; nothing more
// is emitted, so in ordered mode nothing after a gap, and results not yet
// emitted are dropped. No item taken from in after cancellation reaches fn;
// calls of fn already running are not waited for, and their workers end as
// they return. Each call is independent, so one AsyncMapper can serve many
// streams.
func (a *AsyncMapper[In, Out]) Process(ctx context.Context, in <-chan Result[In]) <-chan Result[Out] {
	out := make(chan Result[Out])
	lp := newLoop(ctx, "AsyncMapper.Process", nil, in, out)
	am := asyncMapping[In, Out]{
		lp:         lp,
		in:         in,
		out:        out,
		ordered:    a.ordered,
		workers:    a.workers,
		bufferSize: a.bufferSize,
		// A worker's result never waits: at most workers items are in
		// flight, and each has a place in results.
		jobs:    make(chan asyncJob[In], a.workers),
		results: make(chan asyncResult[Out], a.workers),
	}
	name, fn := a.name, a.fn
	am.wg.Add(am.workers)
	for range am.workers {
		go func() {
			defer am.wg.Done()
			for j := range am.jobs {
				if ctx.Err() != nil {
					// No item reaches fn after cancellation.
					j.r.Settle(Lost)
					continue
				}
				am.results <- asyncResult[Out]{seq: j.seq, r: mapResult(ctx, fn, name, j.r)}
			}
		}()
	}
	go am.run(name)
	return out
}

// asyncJob is an item handed to a worker; seq is its place in the input.
type asyncJob[In any] struct {
	seq uint64
	r   Result[In]
}

// asyncResult is a worker's result for the item with place seq.
type asyncResult[Out any] struct {
	seq uint64
	r   Result[Out]
}

// asyncMapping is the state of one AsyncMapper.Process call, owned by its
// main goroutine. That goroutine takes the inputs, hands them to the
// workers, takes their results back and emits them; the workers only run
// fn. So the main goroutine knows what is in flight, and as a loop that a
// FakeClock settles it does not count as settled while any item is with a
// worker: the item will come out, and the next stage must see it before the
// clock moves.
type asyncMapping[In, Out any] struct {
	lp                  *loop
	in                  <-chan Result[In]
	out                 chan Result[Out]
	ordered             bool
	workers, bufferSize int
	jobs                chan asyncJob[In]
	results             chan asyncResult[Out]
	wg                  sync.WaitGroup

	// pending holds the outputs not yet emitted. In ordered mode it is the
	// reorder window: slot i is the item with place emitted+i, ready once
	// its result is back. In unordered mode it is a queue of ready results,
	// in completion order.
	pending  ringQueue[pendingSlot[Out]]
	inFlight int    // items with a worker
	taken    uint64 // items taken from in
	inOpen   bool
}

// canTake reports whether the main goroutine may take another input: it
// needs an idle worker, and in ordered mode a place in the window.
func (am *asyncMapping[In, Out]) canTake() bool {
	if !am.inOpen || am.inFlight >= am.workers {
		return false
	}
	if am.ordered {
		return am.pending.len() < am.bufferSize
	}
	return am.inFlight+am.pending.len() < am.workers
}

func (am *asyncMapping[In, Out]) run(name string) {
	lp := am.lp
	defer lp.exit()
	defer close(am.out)
	am.inOpen = true
	for {
		if !am.inOpen && am.inFlight == 0 && am.pending.len() == 0 {
			// Every worker is idle: wait for them to end, so that none is
			// left when the output closes.
			close(am.jobs)
			am.wg.Wait()
			return
		}
		var in <-chan Result[In]
		if am.canTake() {
			in = am.in
		}
		var results <-chan asyncResult[Out]
		if am.inFlight > 0 {
			results = am.results
		}
		var out chan<- Result[Out]
		var head Result[Out]
		if s := am.pending.front(); s != nil && s.ready {
			out, head = am.out, s.r
		}

		// The blocking point follows the protocol of receive and send in
		// loop.go, except that a settle request is not answered while an
		// item is with a worker: the loop then blocks until the result is
		// back, and answers at a later blocking point. Until then it takes
		// no other request (settleRequests is nil while one is owed), so a
		// second settler waits for the loop instead of displacing the
		// first one's request.
		var (
			r    Result[In]
			ok   bool
			res  asyncResult[Out]
			what asyncEvent
		)
		for first := true; what == asyncNone; first = false {
			if first || lp.owed != nil {
				select {
				case <-lp.done:
					what = asyncDone
				case r, ok = <-in:
					what = asyncInput
				case res = <-results:
					what = asyncReturned
				case out <- head:
					what = asyncSent
				default:
					if am.inFlight == 0 {
						lp.answer(recvChan(in), sendChan(out))
					}
				}
				if what != asyncNone {
					break
				}
			}
			select {
			case <-lp.done:
				what = asyncDone
			case r, ok = <-in:
				what = asyncInput
			case res = <-results:
				what = asyncReturned
			case out <- head:
				what = asyncSent
			case reply := <-lp.settleRequests():
				lp.owe(reply)
			}
		}

		switch what {
		case asyncDone:
			// Workers still in fn are not waited for; they end as fn
			// returns, and their results fit in results, where the
			// last one to end settles them.
			close(am.jobs)
			am.loseAll()
			return
		case asyncInput:
			lp.took()
			if !ok {
				am.inOpen = false
				continue
			}
			if lp.ended() {
				close(am.jobs)
				return
			}
			am.take(r, name)
		case asyncReturned:
			lp.took()
			am.inFlight--
			if am.ordered {
				*am.pending.at(int(res.seq - (am.taken - uint64(am.pending.len())))) = pendingSlot[Out]{r: res.r, ready: true}
			} else {
				am.pending.push(pendingSlot[Out]{r: res.r, ready: true})
			}
		case asyncSent:
			lp.deliveredOne()
			am.pending.pop()
		}
	}
}

type asyncEvent uint8

const (
	asyncNone     asyncEvent = iota
	asyncDone                // ctx ended
	asyncInput               // an input, or the close of in, was taken
	asyncReturned            // a worker's result was taken
	asyncSent                // the head output was delivered
)

// take places the input r: an error becomes its output at once, without a
// worker; a success goes to an idle worker.
func (am *asyncMapping[In, Out]) take(r Result[In], name string) {
	seq := am.taken
	am.taken++
	if r.err != nil {
		am.pending.push(pendingSlot[Out]{r: retypeError[In, Out](r, name), ready: true})
		return
	}
	if am.ordered {
		am.pending.push(pendingSlot[Out]{})
	}
	am.inFlight++
	am.jobs <- asyncJob[In]{seq: seq, r: r} // never blocks: a worker is idle
}

// pendingSlot is an output place, ready once its result is in r.
type pendingSlot[Out any] struct {
	r     Result[Out]
	ready bool
}

// ringQueue is a FIFO in a ring that grows by doubling, so that it takes
// only the room the stream needs and, once grown, allocates nothing.
type ringQueue[E any] struct {
	buf  []E
	head int
	n    int
}

func (q *ringQueue[E]) len() int { return q.n }

// front returns the first element, or nil when the queue is empty.
func (q *ringQueue[E]) front() *E {
	if q.n == 0 {
		return nil
	}
	return &q.buf[q.head]
}

// at returns element i, counted from the front; i must be below len.
func (q *ringQueue[E]) at(i int) *E {
	return &q.buf[(q.head+i)%len(q.buf)]
}

func (q *ringQueue[E]) push(e E) {
	if q.n == len(q.buf) {
		grown := make([]E, max(2*len(q.buf), 4))
		for i := range q.n {
			grown[i] = *q.at(i)
		}
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
}

// pop drops the first element, clearing it so that what it references can
// be collected.
func (q *ringQueue[E]) pop() {
	var zero E
	q.buf[q.head] = zero
	q.head = (q.head + 1) % len(q.buf)
	q.n--
}

// loseAll settles as Lost, for a cancel, the outputs not yet sent: those
// pending now, and every result the workers leave in results, once the
// last worker has ended.
func (am *asyncMapping[In, Out]) loseAll() {
	for i := range am.pending.len() {
		if slot := am.pending.at(i); slot.ready {
			slot.r.Settle(Lost)
		}
	}
	go func() {
		am.wg.Wait()
		close(am.results)
		for res := range am.results {
			res.r.Settle(Lost)
		}
	}()
}
