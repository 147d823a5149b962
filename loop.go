package streamz

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// This file holds how every processor's goroutine waits: the receive and
// the send that give up on cancel, and the hook through which a FakeClock
// settles the loops it times.
//
// Settling. A send on an unbuffered channel returns when the loop takes the
// item, before the loop has read the clock. So in a test that sends and
// then calls FakeClock.Advance, the loop may time the item before or after
// the clock moves. To make such tests deterministic, Advance first waits
// until every loop that belongs to the clock is settled: it has taken and
// handled everything that was ready for it and is blocked with nothing
// ready (or is blocked sending to a consumer that is not reading).
//
// The clock asks each loop in turn with a settle request, and the loop
// answers only at a blocking point, in receive or in send, after a
// non-blocking look at everything it waits for has found nothing ready.
// A request taken while something is ready is answered at the next
// blocking point, after that work. The answer says whether the loop took
// an input or a state event since its previous answer, and the clock asks
// again, in rounds, until a whole round in which no loop took anything.
// A round's answers all come after the previous round's; an item can only
// become ready for a loop by another loop taking work or by a send that
// was already pending (and so already ready at the answer), so after a
// quiet round nothing in the component can move until the test acts.
//
// Which loops take part. A loop on a FakeClock registers with it in
// Process, before its goroutine starts, so that a loop that has not been
// scheduled yet is waited for too. Once any FakeClock exists in the
// process, loops that read no clock (Mapper, FanIn and the like) register
// too, with the channels they read and write. An Advance settles its own
// loops and every clock-less loop joined to them through shared channels,
// and nothing else: loops on other clocks are never waited for. A program
// that never creates a FakeClock registers nothing, and its loops' settle
// channel is nil, a select case that never fires.

// loop is what one Process goroutine waits with. Only that goroutine uses
// it, except reg, which the settling clocks read.
type loop struct {
	done <-chan struct{}
	// requests carries settle requests: the channel to answer on. It is nil
	// unless the loop is registered, and then nothing ever arrives on it.
	requests chan chan bool
	// owed is the channel of a request taken and not yet answered.
	owed chan bool
	// worked records that an input or state event was taken since the
	// last answer.
	worked bool
	reg    *loopReg
	// plainSend lets send wait in a plain send; see drainOnCancel.
	plainSend bool
	// stopDrains cancels the drainers drainOnCancel arranged.
	stopDrains []func() bool
}

// newLoop returns the loop for one Process call. clock is the Clock the
// processor reads, or nil for one that reads none; chans are every channel
// the loop reads or writes, which join it to its neighbours for settling.
// It must be called in Process, before the goroutine starts, and the
// goroutine must call exit as it ends.
func newLoop(ctx context.Context, clock Clock, chans ...any) *loop {
	lp := &loop{done: ctx.Done()}
	fc, onFake := clock.(*FakeClock)
	if onFake || (clock == nil && fakeClockCreated.Load()) {
		lp.register(fc, ctx.Done(), chans)
	}
	return lp
}

// took records that the loop took an input or a state event; the next
// answer to a settle request reports it.
func (lp *loop) took() { lp.worked = true }

// owe records a settle request taken at a blocking point. The loop must
// then look at everything it waits for without blocking, and call answer
// before it blocks again if nothing was ready.
func (lp *loop) owe(reply chan bool) { lp.owed = reply }

// answer answers the owed settle request, if any. It never blocks: each
// reply channel has room for its one answer.
func (lp *loop) answer() {
	if lp.owed == nil {
		return
	}
	lp.owed <- lp.worked
	lp.owed, lp.worked = nil, false
}

// exit deregisters the loop; a clock waiting for its answer stops waiting.
// It also withdraws the drainers of drainOnCancel that have not started.
func (lp *loop) exit() {
	if lp.reg != nil {
		lp.reg.deregister()
	}
	for _, stop := range lp.stopDrains {
		stop()
	}
}

// drainOnCancel lets send wait for a consumer in a plain send on out
// instead of a select over out and done, which costs the runtime about
// twice as much (a select locks, and queues on, every channel it names) and
// is most of what a forwarding loop costs beyond a bare one. Cancel must
// still release that send when nobody reads, so once ctx ends a drainer
// goroutine (context.AfterFunc) receives and discards from each out until
// it is closed. All it can take is the item being sent, which cancel drops
// anyway: the loop sees the end at its next receive or send, exits, and
// closes out, which ends the drainer.
//
// A processor calls it in Process, after newLoop, with every channel the
// loop sends on, or not at all. It does nothing when a channel is buffered
// (its items must stay readable after cancel) or the loop is registered
// for settling (a loop blocked in send must answer settle requests). Each
// out must be closed once the loop's goroutine ends, and exit withdraws
// the drainers that have not started.
func drainOnCancel[T any](ctx context.Context, lp *loop, outs ...chan T) {
	if lp.requests != nil {
		return
	}
	for _, out := range outs {
		if cap(out) != 0 {
			return
		}
	}
	lp.plainSend = true
	if lp.done == nil {
		return // ctx never ends
	}
	for _, out := range outs {
		lp.stopDrains = append(lp.stopDrains, context.AfterFunc(ctx, func() {
			for range out {
			}
		}))
	}
}

// addChan joins a channel made after Process, such as a Switch route, to
// the loop's neighbours.
func (lp *loop) addChan(ch any) {
	if lp.reg != nil {
		lp.reg.addChan(ch)
	}
}

// receive takes the next input, or an event, or notices done. When an
// input is ready it costs one channel operation and a lock-free look at
// done; only when none is ready does it block in a select over done, events
// (nil for none), in and settle requests. Preferring a ready input to a
// ready event is safe because of the time-first rule: the input applies
// the deadline itself.
//
// Done is looked at before an input is taken, so an input that receive
// returns has been handed over for good: the processor places it, and
// counts it among what a cancel loses. A processor that hands the item to
// user code must look again with ended, since ctx may end between the two.
func receive[T any](lp *loop, events <-chan stateEvent, in <-chan T) (r T, ok, gotEvent, stop bool) {
	select {
	case <-lp.done:
		return r, false, false, true
	default:
	}
	select {
	case r, ok = <-in:
		lp.worked = true
		return r, ok, false, false
	default:
	}
	for {
		if lp.owed != nil {
			select {
			case <-lp.done:
				return r, false, false, true
			case <-events:
				lp.worked = true
				return r, false, true, false
			case r, ok = <-in:
				lp.worked = true
				return r, ok, false, false
			default:
				lp.answer()
			}
		}
		select {
		case <-lp.done:
			return r, false, false, true
		case <-events:
			lp.worked = true
			return r, false, true, false
		case r, ok = <-in:
			lp.worked = true
			return r, ok, false, false
		case reply := <-lp.requests:
			lp.owe(reply)
		}
	}
}

// send delivers r on out, or gives up and reports false when ctx ends first,
// so that a processor whose consumer has stopped reading still exits on
// cancel. A select locks every channel it names, so send, like receive,
// first tries the cheap operations on their own and blocks in the full
// select only when neither is ready; a context already ended wins. A loop
// blocked here counts as settled: it has handled its item, and what it
// offers is what is due. After drainOnCancel it waits in a plain send
// instead, which the drainer releases on cancel; true then means that r
// was delivered or, once ctx has ended, discarded.
func send[T any](lp *loop, out chan<- T, r T) bool {
	select {
	case <-lp.done:
		return false
	default:
	}
	if lp.plainSend {
		out <- r
		return true
	}
	select {
	case out <- r:
		return true
	default:
	}
	for {
		if lp.owed != nil {
			select {
			case out <- r:
				return true
			case <-lp.done:
				return false
			default:
				lp.answer()
			}
		}
		select {
		case out <- r:
			return true
		case <-lp.done:
			return false
		case reply := <-lp.requests:
			lp.owe(reply)
		}
	}
}

// ended reports, without blocking, whether the loop's ctx has ended. A loop
// must call it after taking an item and before handing that item to user
// code: ctx may end between receive's look at done and the take, or select
// may take the input when both it and the end of ctx are ready, and that
// item must not reach the user's function.
func (lp *loop) ended() bool {
	select {
	case <-lp.done:
		return true
	default:
		return false
	}
}

// fakeClockCreated is set by the first NewFakeClock; until then no loop
// registers, so a program without a FakeClock pays nothing for settling.
var fakeClockCreated atomic.Bool

// loopReg is a registered loop, as the settling clocks see it.
type loopReg struct {
	seq      uint64     // registration order, so that rounds ask in a stable order
	clock    *FakeClock // nil for a loop that reads no clock
	requests chan chan bool
	done     <-chan struct{} // the loop's ctx.Done(): a cancelled loop is not waited for
	exited   chan struct{}   // closed when the loop's goroutine ends
	chans    []unsafe.Pointer
}

// loops is the package's registry of loops that a FakeClock may settle.
var loops struct {
	mu      sync.Mutex
	nextSeq uint64
	byChan  map[unsafe.Pointer][]*loopReg
	byClock map[*FakeClock][]*loopReg
}

func chanKey(ch any) unsafe.Pointer { return reflect.ValueOf(ch).UnsafePointer() }

func (lp *loop) register(fc *FakeClock, done <-chan struct{}, chans []any) {
	reg := &loopReg{clock: fc, requests: make(chan chan bool), done: done, exited: make(chan struct{})}
	lp.reg, lp.requests = reg, reg.requests
	loops.mu.Lock()
	defer loops.mu.Unlock()
	if loops.byChan == nil {
		loops.byChan = make(map[unsafe.Pointer][]*loopReg)
		loops.byClock = make(map[*FakeClock][]*loopReg)
	}
	loops.nextSeq++
	reg.seq = loops.nextSeq
	for _, ch := range chans {
		reg.addChanLocked(ch)
	}
	if fc != nil {
		loops.byClock[fc] = append(loops.byClock[fc], reg)
	}
}

func (reg *loopReg) addChan(ch any) {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	reg.addChanLocked(ch)
}

func (reg *loopReg) addChanLocked(ch any) {
	k := chanKey(ch)
	reg.chans = append(reg.chans, k)
	loops.byChan[k] = append(loops.byChan[k], reg)
}

func (reg *loopReg) deregister() {
	loops.mu.Lock()
	for _, k := range reg.chans {
		loops.byChan[k] = removeReg(loops.byChan[k], reg)
		if len(loops.byChan[k]) == 0 {
			delete(loops.byChan, k)
		}
	}
	if reg.clock != nil {
		loops.byClock[reg.clock] = removeReg(loops.byClock[reg.clock], reg)
		if len(loops.byClock[reg.clock]) == 0 {
			delete(loops.byClock, reg.clock)
		}
	}
	loops.mu.Unlock()
	close(reg.exited)
}

func removeReg(regs []*loopReg, reg *loopReg) []*loopReg {
	return slices.DeleteFunc(regs, func(r *loopReg) bool { return r == reg })
}

// settleComponent returns fc's loops and every clock-less loop joined to
// them through shared channels, in registration order.
func settleComponent(fc *FakeClock) []*loopReg {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	seeds := loops.byClock[fc]
	if len(seeds) == 0 {
		return nil
	}
	// Components are a handful of loops: a linear look-up beats a map.
	component := append([]*loopReg(nil), seeds...)
	for i := 0; i < len(component); i++ {
		for _, k := range component[i].chans {
			for _, n := range loops.byChan[k] {
				if (n.clock == nil || n.clock == fc) && !slices.Contains(component, n) {
					component = append(component, n)
				}
			}
		}
	}
	slices.SortFunc(component, func(a, b *loopReg) int { return int(a.seq) - int(b.seq) })
	return component
}

// settle waits until every loop in fc's component is settled: it asks them
// in rounds until a round in which none took an input or an event.
func (fc *FakeClock) settle() {
	var reply chan bool
	for {
		component := settleComponent(fc)
		if len(component) == 0 {
			return
		}
		if reply == nil {
			reply = make(chan bool, 1)
		}
		worked := false
		for _, reg := range component {
			if reg.ask(reply) {
				worked = true
			}
		}
		if !worked {
			return
		}
	}
}

// ask sends one settle request to the loop and waits for its answer. A loop
// whose ctx has ended is not asked; one that ends while asked counts as
// having worked, since its end closes channels its neighbours read.
func (reg *loopReg) ask(reply chan bool) (worked bool) {
	select {
	case reg.requests <- reply:
	case <-reg.done:
		return false
	case <-reg.exited:
		return false
	}
	select {
	case worked = <-reply:
		return worked
	case <-reg.exited:
		// The loop may have answered just before it ended; take the answer
		// so that it is not read as the next loop's.
		select {
		case <-reply:
		default:
		}
		return true
	}
}
