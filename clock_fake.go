package streamz

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FakeClockStart is the instant at which [NewFakeClock] starts, fixed so that
// test output is reproducible.
var FakeClockStart = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// FakeClock is a Clock whose time moves only when a test calls Advance or
// SetTime.
//
// Its guarantees:
//   - Advance and SetTime fire every due timer, ticker, sleeper and
//     AfterFunc in deadline order, ties in creation order. While one fires,
//     Now reads its deadline. A timer created by a callback and due inside
//     the window fires in the same call.
//   - When Advance or SetTime returns, every fired timer's value is in its
//     channel (a tick whose channel is still full is dropped, as a real
//     ticker drops it) and every fired AfterFunc has returned. The one
//     exception is an AfterFunc with d <= 0, which runs in a goroutine of
//     its own even when a callback creates it; BlockUntilReady waits for
//     those.
//   - Timers follow the Go 1.23 channel semantics described on [Timer]. A
//     duration <= 0 fires at the current fake time: a channel timer has its
//     value ready before NewTimer, After or Reset returns, and an AfterFunc
//     starts its function in a goroutine of its own, as time.AfterFunc does.
//   - AfterFunc functions run with no lock held, and may call the clock.
//   - Advance and SetTime settle the processors of this package that run on
//     the clock: before moving time they wait until each has taken and
//     handled every input already handed to it (a send that has returned,
//     or an item waiting in a buffered input) and every pending timer
//     event, and is blocked with nothing ready; after each instant at which
//     something fired, they wait for the same again, before time moves on.
//     So when they return, an output that is due is on offer, an item that
//     had to be dropped has been dropped, and nothing more comes out until
//     the test acts again. BlockUntilReady settles without moving time.
//
// Settling, and its limits:
//   - A processor on this clock takes part from its Process call, before its
//     goroutine has started. Once any FakeClock exists, processors that read
//     no clock (Mapper, FanIn, Switch and the like) take part too, when they
//     share a channel with a processor on this clock, directly or through
//     other clock-less processors: a chain such as Debounce → Mapper →
//     Batcher settles as a whole. Processors on other clocks, and those
//     joined only to them, are never waited for, so tests running in
//     parallel do not hold each other up. A clock-less processor started
//     before the first FakeClock was created does not take part.
//   - A processor blocked sending to a consumer that is not reading counts
//     as settled: it has handled its item, and what it offers is what is
//     due. Its answer comes just before it parks, so a select with a default
//     case right after Advance may still miss that output; a blocking
//     receive gets it.
//   - A processor whose context has ended, or whose input is closed, is not
//     waited for.
//   - The clock cannot see the test's own goroutines. One that sits between
//     two stages breaks the chain there; for such code use synctest, or
//     BlockUntilContext. A user function run by a processor the clock
//     settles (a Mapper's fn, say) must not wait for this clock to move:
//     the Advance that would move it waits for the function first. For the
//     same reason such a function, or an observer of such a processor,
//     must not call Advance, SetTime or BlockUntilReady itself: the settle
//     waits for the processor that is running it, so the call blocks until
//     that processor's ctx ends. It is not detected: telling the calling
//     goroutine apart needs its identity, which Go gives only through
//     runtime.Stack, at several microseconds a call.
//
// A FakeClock never blocks while holding a lock, so it works inside a
// testing/synctest bubble; create it inside the bubble. The one
// package-level state it uses is the registry of processors to settle,
// which is touched only under its own lock. A FakeClock is safe for
// concurrent use, but concurrent calls to Advance or SetTime interleave
// their firings.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	nextSeq uint64
	armed   waiterHeap
	// running counts AfterFunc functions started in their own goroutine by
	// a duration <= 0; BlockUntilReady waits for them.
	running int
	// changed is closed, and replaced, whenever armed or running changes
	// while a waiter holds it (changedHeld), so that BlockUntilContext and
	// BlockUntilReady wait on a channel rather than on a lock, and a timer
	// armed and stopped with nobody waiting costs no channel.
	changed     chan struct{}
	changedHeld bool

	// component caches the loops a settle asks, as of the registry's
	// change count componentGen; both are guarded by loops.mu (loop.go).
	component    []*loopReg
	componentGen uint64
	// replies holds reply channels that settles left empty, for reuse.
	replies []settleReply
	// settleCounts counts what settling costs, for the benchmarks.
	settleCounts struct{ settles, rounds, asks atomic.Int64 }
}

// NewFakeClock returns a FakeClock set to [FakeClockStart].
func NewFakeClock() *FakeClock {
	return NewFakeClockAt(FakeClockStart)
}

// NewFakeClockAt returns a FakeClock set to t.
func NewFakeClockAt(t time.Time) *FakeClock {
	fakeClockCreated.Store(true)
	return &FakeClock{now: t, changed: make(chan struct{})}
}

type waiterKind string

const (
	kindTimer     waiterKind = "timer"
	kindAfterFunc waiterKind = "AfterFunc"
	kindTicker    waiterKind = "ticker"
	kindSleep     waiterKind = "Sleep"
	kindDeadline  waiterKind = "WithDeadline"
)

// fakeTimer is anything that waits for the fake time: a timer, an
// AfterFunc, a ticker or a sleeper.
type fakeTimer struct {
	fc       *FakeClock
	kind     waiterKind
	seq      uint64 // creation order, to break deadline ties
	deadline time.Time
	period   time.Duration // tickers only
	ch       chan time.Time
	fn       func()
	index    int // position in fc.armed, or -1 when not armed
}

// Now returns the fake time.
func (fc *FakeClock) Now() time.Time {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.now
}

// Since returns Now().Sub(t).
func (fc *FakeClock) Since(t time.Time) time.Duration {
	return fc.Now().Sub(t)
}

// NewTimer returns a Timer that fires once the fake time has advanced by d.
func (fc *FakeClock) NewTimer(d time.Duration) Timer {
	t := fc.newWaiter(kindTimer, make(chan time.Time, 1), nil)
	t.Reset(d)
	return t
}

// After returns NewTimer(d).C().
func (fc *FakeClock) After(d time.Duration) <-chan time.Time {
	return fc.NewTimer(d).C()
}

// AfterFunc calls f once the fake time has advanced by d. f runs in the
// goroutine that calls Advance or SetTime, with no lock held; for d <= 0 it
// runs in a goroutine of its own.
func (fc *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	t := fc.newWaiter(kindAfterFunc, nil, f)
	t.Reset(d)
	return t
}

// NewTicker returns a Ticker that fires every d of fake time. It panics if
// d <= 0, as time.NewTicker does.
func (fc *FakeClock) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic(fmt.Sprintf("streamz: FakeClock.NewTicker: d must be positive, got %v", d))
	}
	t := fc.newWaiter(kindTicker, make(chan time.Time, 1), nil)
	t.period = d
	fc.mu.Lock()
	defer fc.mu.Unlock()
	t.deadline = fc.now.Add(d)
	fc.arm(t)
	return (*fakeTicker)(t)
}

// Sleep blocks until the fake time has advanced by d. It returns at once if
// d <= 0.
func (fc *FakeClock) Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := fc.newWaiter(kindSleep, make(chan time.Time, 1), nil)
	t.Reset(d)
	<-t.ch
}

// WithTimeout returns WithDeadline(ctx, Now().Add(d)).
func (fc *FakeClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return fc.WithDeadline(ctx, fc.Now().Add(d))
}

// WithDeadline returns a copy of ctx that is cancelled once the fake time
// reaches deadline. Its Deadline method reports deadline and, once the fake
// time has reached it, Err reports context.DeadlineExceeded, as for
// context.WithDeadline. If ctx already has an earlier deadline, that
// deadline wins and the result is context.WithCancel(ctx); if ctx ends
// first, the copy ends with ctx's error. Calling the CancelFunc, or the end
// of ctx, releases the fake timer.
func (fc *FakeClock) WithDeadline(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	if cur, ok := ctx.Deadline(); ok && !cur.After(deadline) {
		return context.WithCancel(ctx)
	}
	inner, cancelInner := context.WithCancelCause(ctx)
	c := &fakeDeadlineContext{Context: inner, cancelInner: cancelInner, deadline: deadline, done: make(chan struct{})}
	if err := ctx.Err(); err != nil {
		c.end(err, context.Cause(ctx))
		return c, func() {}
	}
	c.timer = fc.newWaiter(kindDeadline, nil, func() { c.end(context.DeadlineExceeded, context.DeadlineExceeded) })
	fc.mu.Lock()
	expired := !deadline.After(fc.now)
	if !expired {
		c.timer.deadline = deadline
		fc.arm(c.timer)
	}
	fc.mu.Unlock()
	if expired {
		c.end(context.DeadlineExceeded, context.DeadlineExceeded)
		return c, func() {}
	}
	stop := context.AfterFunc(ctx, func() { c.end(ctx.Err(), context.Cause(ctx)) })
	c.mu.Lock()
	ended := c.err != nil
	c.stopWatchingParent = stop
	c.mu.Unlock()
	if ended {
		stop()
	}
	return c, func() { c.end(context.Canceled, context.Canceled) }
}

// fakeDeadlineContext is a context ended by fake time. It keeps its own
// Done channel and error, so that it and the contexts derived from it
// report context.DeadlineExceeded; its private inner context, which it
// cancels as it ends, is what context.Cause finds, so the cause stays the
// one it ended with.
type fakeDeadlineContext struct {
	context.Context // inner
	cancelInner     context.CancelCauseFunc
	deadline        time.Time
	timer           *fakeTimer
	done            chan struct{}

	mu                 sync.Mutex
	err                error
	stopWatchingParent func() bool
}

func (c *fakeDeadlineContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *fakeDeadlineContext) Done() <-chan struct{}       { return c.done }

func (c *fakeDeadlineContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// end ends the context with err and cause, unless it has already ended,
// and releases its timer and its watch on the parent.
func (c *fakeDeadlineContext) end(err, cause error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	c.cancelInner(cause)
	close(c.done)
	stop := c.stopWatchingParent
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	if c.timer != nil {
		c.timer.Stop()
	}
}

// Advance moves the fake time forward by d, firing what falls due on the
// way, one instant at a time. It first waits until the processors on the
// clock are settled, and after each instant at which something fired it
// waits until they have handled it, before time moves on (see
// [FakeClock]). It panics if d < 0: fake time never goes backwards.
func (fc *FakeClock) Advance(d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("streamz: FakeClock.Advance: d must not be negative, got %v", d))
	}
	fc.mu.Lock()
	target := fc.now.Add(d)
	fc.mu.Unlock()
	fc.advanceTo(target)
}

// SetTime moves the fake time forward to t, firing what falls due on the
// way and settling the processors on the clock as Advance does. It panics
// if t is before the current fake time: fake time never goes backwards.
func (fc *FakeClock) SetTime(t time.Time) {
	fc.mu.Lock()
	now := fc.now
	fc.mu.Unlock()
	if t.Before(now) {
		panic(fmt.Sprintf("streamz: FakeClock.SetTime: %v is before the current fake time %v; fake time cannot go backwards",
			t.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano)))
	}
	fc.advanceTo(t)
}

// advanceTo settles the clock's loops, then fires what falls due up to
// target one instant at a time, settling the loops after each instant so
// that what one firing causes (an item emitted into the next stage, a new
// deadline) is handled at that instant, before time moves on.
func (fc *FakeClock) advanceTo(target time.Time) {
	fc.settle()
	fired := false
	for {
		fc.mu.Lock()
		due := len(fc.armed) > 0 && !fc.armed[0].deadline.After(target)
		if fired && (!due || fc.armed[0].deadline.After(fc.now)) {
			// Everything due at this instant has fired: settle before time
			// moves on.
			fc.mu.Unlock()
			fc.settle()
			fired = false
			continue
		}
		if !due {
			// Settled since the last firing, or since the start: moving time
			// on with nothing due changes nothing a loop can see.
			if target.After(fc.now) {
				fc.now = target
			}
			fc.mu.Unlock()
			return
		}
		t := fc.armed[0]
		if t.deadline.After(fc.now) {
			fc.now = t.deadline
		}
		fn := fc.fire(t, target)
		fc.mu.Unlock()
		if fn != nil {
			fn()
		}
		fired = true
	}
}

// fire delivers t's value, or returns its function for the caller to run
// once the lock is released. It is called with fc.mu held, with t the
// earliest armed waiter.
func (fc *FakeClock) fire(t *fakeTimer, target time.Time) func() {
	if t.kind != kindTicker {
		fc.disarm(t)
		if t.ch != nil {
			t.ch <- fc.now // cannot block: Stop and Reset leave the buffer empty
		}
		return t.fn
	}
	select {
	case t.ch <- fc.now:
		t.deadline = t.deadline.Add(t.period)
	default:
		// The tick is dropped. Until the receiver drains the channel, every
		// tick up to the next other waiter (or the target) would be dropped
		// too, so skip them rather than fire each one.
		next := t.deadline.Add(t.period)
		limit := target
		if other := fc.armed.secondEarliest(); other != nil && other.deadline.Before(limit) {
			limit = other.deadline
		}
		if next.Before(limit) {
			skipped := (limit.Sub(next) + t.period - 1) / t.period
			next = next.Add(skipped * t.period)
		}
		t.deadline = next
	}
	heap.Fix(&fc.armed, t.index)
	return nil
}

// HasWaiters reports whether any timer, ticker or sleeper is armed.
func (fc *FakeClock) HasWaiters() bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.armed) > 0
}

// BlockUntilReady waits until every processor on this clock is settled, as
// Advance does before it moves time (see [FakeClock]), and until every
// AfterFunc function started by a duration <= 0, which runs in a goroutine
// of its own, has returned. It does not move time. So after
//
//	in <- x
//	clock.BlockUntilReady()
//
// the processor has taken x and read the clock for it.
func (fc *FakeClock) BlockUntilReady() {
	for {
		fc.mu.Lock()
		running, changed := fc.running, fc.changed
		fc.changedHeld = true
		fc.mu.Unlock()
		if running == 0 {
			break
		}
		<-changed
	}
	fc.settle()
}

// BlockUntilContext waits until at least n waiters (armed timers,
// AfterFuncs, tickers and sleepers) are registered, so that a test can wait
// for the code under test to arm its timer before it advances the clock.
// If ctx ends first, it returns an error that wraps ctx.Err() and lists the
// waiters that were registered.
func (fc *FakeClock) BlockUntilContext(ctx context.Context, n int) error {
	for {
		fc.mu.Lock()
		count, changed := len(fc.armed), fc.changed
		fc.changedHeld = true
		fc.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("streamz: FakeClock.BlockUntilContext: waiting for %d waiters, have %s: %w",
				n, fc.describeWaiters(), ctx.Err())
		}
	}
}

func (fc *FakeClock) describeWaiters() string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.armed) == 0 {
		return "none"
	}
	sorted := slices.SortedFunc(slices.Values(fc.armed), compareWaiters)
	parts := make([]string, len(sorted))
	for i, t := range sorted {
		parts[i] = fmt.Sprintf("%s due %s (in %v)", t.kind, t.deadline.Format(time.RFC3339Nano), t.deadline.Sub(fc.now))
	}
	return fmt.Sprintf("%d [%s]", len(sorted), strings.Join(parts, ", "))
}

func (fc *FakeClock) newWaiter(kind waiterKind, ch chan time.Time, fn func()) *fakeTimer {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.nextSeq++
	return &fakeTimer{fc: fc, kind: kind, seq: fc.nextSeq, ch: ch, fn: fn, index: -1}
}

// arm and disarm are called with fc.mu held.
func (fc *FakeClock) arm(t *fakeTimer) {
	heap.Push(&fc.armed, t)
	fc.notify()
}

func (fc *FakeClock) disarm(t *fakeTimer) bool {
	if t.index < 0 {
		return false
	}
	heap.Remove(&fc.armed, t.index)
	fc.notify()
	return true
}

func (fc *FakeClock) notify() {
	if !fc.changedHeld {
		return
	}
	close(fc.changed)
	fc.changed, fc.changedHeld = make(chan struct{}), false
}

// Stop implements Timer.
func (t *fakeTimer) Stop() bool {
	t.fc.mu.Lock()
	defer t.fc.mu.Unlock()
	return t.stopLocked()
}

// stopLocked disarms t and drains a value that was delivered but not
// received, which then counts as stopped, as it does for a Go 1.23 timer.
func (t *fakeTimer) stopLocked() bool {
	stopped := t.fc.disarm(t)
	if t.ch != nil {
		select {
		case <-t.ch:
			stopped = true
		default:
		}
	}
	return stopped
}

// Reset implements Timer.
func (t *fakeTimer) Reset(d time.Duration) bool {
	fc := t.fc
	fc.mu.Lock()
	defer fc.mu.Unlock()
	wasArmed := t.stopLocked()
	t.deadline = fc.now.Add(d)
	switch {
	case d > 0:
		fc.arm(t)
	case t.ch != nil:
		t.ch <- fc.now
	default:
		fc.running++
		fc.notify()
		go func() {
			defer fc.callbackDone()
			t.fn()
		}()
	}
	return wasArmed
}

func (fc *FakeClock) callbackDone() {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.running--
	fc.notify()
}

// C implements Timer.
func (t *fakeTimer) C() <-chan time.Time { return t.ch }

type fakeTicker fakeTimer

// Stop implements Ticker.
func (t *fakeTicker) Stop() { (*fakeTimer)(t).Stop() }

// C implements Ticker.
func (t *fakeTicker) C() <-chan time.Time { return t.ch }

// waiterHeap orders armed waiters by deadline, then creation order.
type waiterHeap []*fakeTimer

func (h waiterHeap) Len() int { return len(h) }

func (h waiterHeap) Less(i, j int) bool { return compareWaiters(h[i], h[j]) < 0 }

func compareWaiters(a, b *fakeTimer) int {
	if c := a.deadline.Compare(b.deadline); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *waiterHeap) Push(x any) {
	t := x.(*fakeTimer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *waiterHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

// secondEarliest returns the earliest waiter after the root, or nil.
func (h waiterHeap) secondEarliest() *fakeTimer {
	switch len(h) {
	case 0, 1:
		return nil
	case 2:
		return h[1]
	}
	if h.Less(2, 1) {
		return h[2]
	}
	return h[1]
}
