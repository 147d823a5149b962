//go:build go1.25

package streamz

// Tests of settling: a FakeClock's Advance, SetTime and BlockUntilReady wait
// for the processors on the clock, so a test in the plain style (send,
// Advance, expect) gives the same result every time. None of these tests
// sleeps, waits on synctest or calls BlockUntilContext: the point is that a
// user's test needs none of them. Each plays its pattern ltRuns times; run
// with -count=10 to see a pattern pass 1000 times in 1000.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

const ltRuns = 100

// ltWatchdog bounds, in real time, how long a test waits for an output
// that is due before it fails; it never delays a passing run.
const ltWatchdog = 10 * time.Second

var errLTMarker = errors.New("lt marker")

// ltNext receives the next output, failing the test if none comes.
func ltNext[O any](t *testing.T, out <-chan Result[O]) Result[O] {
	t.Helper()
	select {
	case r, ok := <-out:
		require.True(t, ok, "the output closed")
		return r
	case <-time.After(ltWatchdog):
		t.Fatal("no output was on offer")
		panic("unreachable")
	}
}

// ltNothingDue checks that nothing is due on out, strongly: it sends an
// error through the pipeline, which passes every processor at once, and
// requires it to be the next output. An output that was due before it
// would come first.
func ltNothingDue[O any](t *testing.T, in chan<- Result[int], out <-chan Result[O]) {
	t.Helper()
	in <- NewError(0, errLTMarker, "lt")
	r := ltNext(t, out)
	require.True(t, r.IsError() && errors.Is(r.Error(), errLTMarker), "an output came out before the marker: %v", r)
}

func ltBatcher(clock Clock, ctx context.Context, in <-chan Result[int], latency time.Duration) <-chan Result[[]int] {
	return NewBatcher[int](BatchConfig{MaxSize: 100, MaxLatency: latency}, clock).Process(ctx, in)
}

// ltClose cancels ctx and drains out, so that goleak finds nothing.
func ltClose[O any](cancel context.CancelFunc, out <-chan Result[O]) {
	cancel()
	for range out {
	}
}

func TestSettle_BatcherPlainStyle(t *testing.T) {
	const latency = 100 * time.Millisecond
	for range ltRuns {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		in := make(chan Result[int])
		out := ltBatcher(clock, ctx, in, latency)

		in <- NewSuccess(1)
		in <- NewSuccess(2)
		clock.Advance(latency)
		require.Equal(t, []int{1, 2}, ltNext(t, out).Value())

		in <- NewSuccess(3)
		in <- NewSuccess(4)
		clock.Advance(latency / 2)
		ltNothingDue(t, in, out)
		clock.Advance(latency / 2)
		require.Equal(t, []int{3, 4}, ltNext(t, out).Value())
		ltClose(cancel, out)
	}
}

func TestSettle_ThrottleDropsAtTheOldTime(t *testing.T) {
	const d = 100 * time.Millisecond
	for range ltRuns {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		in := make(chan Result[int])
		out := NewThrottle[int](d, clock).Process(ctx, in)

		in <- NewSuccess(1)
		require.Equal(t, 1, ltNext(t, out).Value())
		in <- NewSuccess(2) // in the cooldown: dropped, even though Advance follows at once
		clock.Advance(d)
		in <- NewSuccess(3)
		require.Equal(t, 3, ltNext(t, out).Value(), "2 was timed after the clock moved")
		ltClose(cancel, out)
	}
}

// The pattern the time-first rule fixed: receive an output, Advance, send.
func TestSettle_ReceiveAdvanceSend(t *testing.T) {
	const d = 100 * time.Millisecond
	for range ltRuns {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		in := make(chan Result[int])
		out := NewDebounce[int](d, clock).Process(ctx, in)

		in <- NewSuccess(1)
		clock.Advance(d)
		require.Equal(t, 1, ltNext(t, out).Value())
		clock.Advance(d)
		in <- NewSuccess(2)
		clock.Advance(d - 1)
		ltNothingDue(t, in, out)
		clock.Advance(1)
		require.Equal(t, 2, ltNext(t, out).Value())
		ltClose(cancel, out)
	}
}

func TestSettle_DebouncePlainStyle(t *testing.T) {
	const d = 100 * time.Millisecond
	for range ltRuns {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		in := make(chan Result[int])
		out := NewDebounce[int](d, clock).Process(ctx, in)

		in <- NewSuccess(1)
		clock.Advance(d - 1)
		in <- NewSuccess(2)
		clock.Advance(d - 1)
		ltNothingDue(t, in, out)
		clock.Advance(1)
		require.Equal(t, 2, ltNext(t, out).Value())
		ltClose(cancel, out)
	}
}

// Items waiting in a buffered input when Advance is called have been handed
// to the processor: they are handled at the old time.
func TestSettle_BufferedInputIsHandledAtTheOldTime(t *testing.T) {
	const latency = 100 * time.Millisecond
	for range ltRuns {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		in := make(chan Result[int], 3)
		out := ltBatcher(clock, ctx, in, latency)

		in <- NewSuccess(1)
		in <- NewSuccess(2)
		in <- NewSuccess(3)
		clock.Advance(latency)
		require.Equal(t, []int{1, 2, 3}, ltNext(t, out).Value())
		ltClose(cancel, out)
	}
}

// Debounce -> Batcher on one clock settle as a whole: the item that leaves
// the Debounce is taken and timed by the Batcher at the instant it leaves,
// even inside one long Advance.
func TestSettle_ChainSettlesAsAWhole(t *testing.T) {
	const d, latency = 30 * time.Millisecond, 100 * time.Millisecond
	chain := func(ctx context.Context, clock *FakeClock) (chan Result[int], <-chan Result[[]int]) {
		in := make(chan Result[int])
		return in, ltBatcher(clock, ctx, NewDebounce[int](d, clock).Process(ctx, in), latency)
	}
	t.Run("step by step", func(t *testing.T) {
		for range ltRuns {
			ctx, cancel := context.WithCancel(t.Context())
			clock := NewFakeClock()
			in, out := chain(ctx, clock)
			in <- NewSuccess(1)
			in <- NewSuccess(2)
			clock.Advance(d)
			// 2 left the Debounce at d and the Batcher has timed it.
			require.True(t, clock.HasWaiters(), "the Batcher had not armed its timer when Advance returned")
			clock.Advance(latency - 1)
			ltNothingDue(t, in, out)
			clock.Advance(1)
			require.Equal(t, []int{2}, ltNext(t, out).Value())
			ltClose(cancel, out)
		}
	})
	t.Run("one Advance across both deadlines", func(t *testing.T) {
		for range ltRuns {
			ctx, cancel := context.WithCancel(t.Context())
			clock := NewFakeClock()
			in, out := chain(ctx, clock)
			in <- NewSuccess(1)
			clock.Advance(d + latency)
			require.Equal(t, []int{1}, ltNext(t, out).Value(),
				"the Batcher timed the item after the clock had moved past the Debounce's deadline")
			ltClose(cancel, out)
		}
	})
}

// A processor blocked sending to a consumer that is not reading counts as
// settled: Advance returns.
func TestSettle_BlockedOutputDoesNotBlockAdvance(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	clock := NewFakeClock()
	in := make(chan Result[int])
	out := NewBatcher[int](BatchConfig{MaxSize: 1}, clock).Process(ctx, in)
	in <- NewSuccess(1) // the Batcher now blocks sending [1]
	clock.Advance(time.Hour)
	clock.BlockUntilReady()
	require.Equal(t, []int{1}, ltNext(t, out).Value())
	ltClose(cancel, out)
}

// A loop whose ctx has ended is not waited for, even if its goroutine has
// not got round to ending.
func TestSettle_CancelledLoopIsNotWaitedFor(t *testing.T) {
	clock := NewFakeClock()
	ctx, cancel := context.WithCancel(t.Context())
	lp := newLoop(ctx, "test", clock, make(chan int))
	defer lp.exit()
	cancel()
	clock.Advance(time.Second) // no goroutine will ever answer for lp
	clock.BlockUntilReady()
}

// A loop registers in Process, before its goroutine runs: until it has
// answered, the clock waits for it.
func TestSettle_LoopIsWaitedForFromRegistration(t *testing.T) {
	clock := NewFakeClock()
	lp := newLoop(t.Context(), "test", clock, make(chan int))
	advanced := make(chan struct{})
	go func() {
		defer close(advanced)
		clock.Advance(time.Second)
	}()
	// Advance cannot return before lp has been asked and answered; the
	// loop's goroutine starts only now.
	reply := <-lp.requests
	select {
	case <-advanced:
		t.Fatal("Advance returned before the registered loop answered")
	default:
	}
	lp.owe(reply)
	lp.answer(nil, nil)
	for {
		select {
		case reply := <-lp.requests:
			lp.owe(reply)
			lp.answer(nil, nil)
			continue
		case <-advanced:
		}
		break
	}
	lp.exit()
}

func TestSettle_BlockUntilReadyAfterSends(t *testing.T) {
	for range ltRuns {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		in := make(chan Result[int])
		out := ltBatcher(clock, ctx, in, time.Second)
		in <- NewSuccess(1)
		clock.BlockUntilReady()
		require.True(t, clock.HasWaiters(), "BlockUntilReady returned before the Batcher timed its item")
		ltClose(cancel, out)
	}
}

// Only loops on the clock being advanced, and clock-less loops joined to
// them, are settled: a loop on RealClock is not registered at all, and a
// clock-less loop joined only to other loops is left alone, so a busy
// pipeline elsewhere cannot stall an Advance.
func TestSettle_ScopeIsTheClocksComponent(t *testing.T) {
	ctx := t.Context()
	clock, other := NewFakeClock(), NewFakeClock()
	a, b, c, d := make(chan int), make(chan int), make(chan int), make(chan int)

	onReal := newLoop(ctx, "test", RealClock, a, b)
	require.Nil(t, onReal.requests, "a loop on RealClock registered")
	require.Nil(t, onReal.reg)

	mine := newLoop(ctx, "test", clock, a)
	joined := newLoop(ctx, "test", nil, a, b)     // clock-less, shares a with mine
	joinedAgain := newLoop(ctx, "test", nil, b)   // clock-less, through joined
	otherClock := newLoop(ctx, "test", other, b)  // on another clock: a boundary
	beyond := newLoop(ctx, "test", nil, c)        // clock-less, joined to nothing of mine
	beyondOther := newLoop(ctx, "test", other, d) // another clock's own
	for _, lp := range []*loop{mine, joined, joinedAgain, otherClock, beyond, beyondOther} {
		defer lp.exit()
	}
	require.Equal(t, []*loopReg{mine.reg, joined.reg, joinedAgain.reg}, settleComponent(clock))
	require.Equal(t, []*loopReg{joined.reg, joinedAgain.reg, otherClock.reg, beyondOther.reg}, settleComponent(other))
}

// A program that never creates a FakeClock registers nothing; the flag that
// says one exists is what every Process call looks at.
func TestSettle_NothingRegistersWithoutAFakeClock(t *testing.T) {
	prev := fakeClockCreated.Load()
	fakeClockCreated.Store(false)
	defer fakeClockCreated.Store(prev)
	lp := newLoop(t.Context(), "test", nil, make(chan int))
	require.Nil(t, lp.reg)
	require.Nil(t, lp.requests)
	allocs := testing.AllocsPerRun(100, func() {
		newLoop(t.Context(), "test", RealClock, nil).exit()
	})
	require.LessOrEqual(t, allocs, 1.0, "newLoop on RealClock allocates more than the loop itself")
}

// Two Advances on the same clock from two goroutines, while items arrive,
// both settle and return, and the stream ends as it should.
func TestSettle_ConcurrentAdvances(t *testing.T) {
	clock := NewFakeClock()
	in := make(chan Result[int])
	out := NewDebounce[int](time.Millisecond, clock).Process(t.Context(), in)
	last := make(chan int)
	go func() {
		v := -1
		for r := range out {
			v = r.Value()
		}
		last <- v
	}()
	done := make(chan struct{})
	for i := range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				clock.Advance(time.Duration(i+1) * time.Microsecond)
			}
		}()
	}
	for i := range 50 {
		in <- NewSuccess(i)
	}
	<-done
	<-done
	close(in)
	require.Equal(t, 49, <-last)
}

// ltRegistered returns a loop registered with a FakeClock, whose settle
// requests the test delivers itself through a buffered channel.
func ltRegistered(t *testing.T) *loop {
	lp := newLoop(t.Context(), "test", NewFakeClock(), make(chan int))
	t.Cleanup(lp.exit)
	lp.requests = make(chan settleReply, 1)
	return lp
}

// A request taken while a state event is also ready is not answered until
// the event has been taken: the answer would tell the clock the loop is
// settled while it still has work.
func TestSettle_ReceiveDoesNotAnswerWhileWorkIsReady(t *testing.T) {
	for range ltRuns {
		lp := ltRegistered(t)
		events := make(chan stateEvent, 1)
		events <- stateEvent{}
		reply := make(settleReply, 1)
		lp.requests <- reply // both ready: select picks either
		_, _, gotEvent, _ := receive(lp, events, make(chan int))
		require.True(t, gotEvent)
		require.Empty(t, reply, "the request was answered while the event was ready")
		// The answer comes at the next blocking point, and reports the work.
		if lp.owed == nil { // the select took the event first
			lp.owe(<-lp.requests)
		}
		lp.answer(nil, nil)
		a := <-reply
		require.Equal(t, a.ticket, a.tookNothing, "the answer did not report the work")
	}
}

// A loop that owes an answer and blocks sending to a consumer that is not
// reading answers from there: it is settled.
func TestSettle_SendAnswersWhileBlocked(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	lp := newLoop(ctx, "test", NewFakeClock(), make(chan int))
	defer lp.exit()
	reply := make(settleReply, 1)
	lp.owe(reply)
	lp.took()
	sent := make(chan bool)
	go func() { sent <- send(lp, make(chan int), 1) }()
	select {
	case a := <-reply:
		require.Equal(t, a.ticket, a.tookNothing, "the answer did not report the work")
	case <-time.After(ltWatchdog):
		t.Fatal("a loop blocked in send did not answer its owed request")
	}
	cancel()
	require.False(t, <-sent)
}

// Once ctx has ended, receive reports stop even when an input is ready: the
// end of ctx wins over the input.
func TestReceive_StopsOnceCancelledEvenWithInputReady(t *testing.T) {
	for _, clock := range []Clock{nil, NewFakeClock()} {
		for range ltRuns {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan int, 1)
			lp := newLoop(ctx, "test", clock, in)
			cancel()
			in <- 1
			_, _, _, stop := receive(lp, nil, in)
			lp.exit()
			require.True(t, stop, "an input was taken after cancel")
		}
	}
}

// An AsyncMapper holds a settle request unanswered while an item is with a
// worker. A second settle that comes meanwhile waits its turn; it must not
// take the place of the first, whose settle would then never return.
func TestSettle_TwoSettlersWhileAnItemIsWithAWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := NewFakeClock()
		release := make(chan struct{})
		slow := NewAsyncMapper(func(_ context.Context, v int) (int, error) {
			<-release
			return v, nil
		})
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxLatency: time.Second, MaxSize: 10}, clock).Process(t.Context(), slow.Process(t.Context(), in))
		in <- NewSuccess(1)
		settled := make(chan struct{}, 2)
		go func() {
			clock.Advance(0)
			settled <- struct{}{}
		}()
		go func() {
			clock.BlockUntilReady()
			settled <- struct{}{}
		}()
		synctest.Wait() // both settles wait for the AsyncMapper
		close(release)
		<-settled
		<-settled
		clock.Advance(time.Second)
		require.Equal(t, []int{1}, ltNext(t, out).Value())
		close(in)
		for range out {
		}
	})
}

// A settle that overlaps another still waits for a quiet instant of its
// own. A TumblingWindow emits 200 Results at its End through three
// Mappers, the last of which stamps each with the fake time, into a Buffer
// with room for all, while four other goroutines call BlockUntilReady over
// and over. When the Advance that reaches the End returns, all 200 must be in
// the Buffer, stamped with the End.
func TestSettle_OverlappingSettlesEachWaitForQuiet(t *testing.T) {
	const items = 200
	identity := func(_ context.Context, v int) (int, error) { return v, nil }
	for round := range 50 {
		clock := NewFakeClock()
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[int])
		stage := NewTumblingWindow[int](time.Second, clock).Process(ctx, in)
		for range 2 {
			stage = NewMapper(identity).Process(ctx, stage)
		}
		stamped := NewMapper(func(context.Context, int) (time.Time, error) { return clock.Now(), nil }).Process(ctx, stage)
		held := NewBuffer[time.Time](items).Process(ctx, stamped)
		stop := make(chan struct{})
		var others sync.WaitGroup
		for range 4 {
			others.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						clock.BlockUntilReady()
					}
				}
			})
		}
		for i := range items {
			in <- NewSuccess(i)
		}
		clock.Advance(time.Second)
		inBuffer := len(held)
		close(stop)
		others.Wait()
		require.Equalf(t, items, inBuffer, "round %d: Advance returned with Results still on their way", round)
		for range items {
			require.Equal(t, clock.Now(), ltNext(t, held).Value())
		}
		close(in)
		for range held {
		}
		cancel()
	}
}

// The documented limit: an Advance called from inside a user function of a
// processor that the clock settles waits for that very processor, and so
// returns only once the processor's ctx ends; it must not hang for good.
func TestSettle_AdvanceFromInsideAUserFunctionWaitsForCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		advanced := make(chan struct{})
		tap := NewTap(func(Result[int]) {
			clock.Advance(time.Second)
			close(advanced)
		})
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxLatency: time.Hour, MaxSize: 10}, clock).Process(ctx, tap.Process(ctx, in))
		in <- NewSuccess(1)
		synctest.Wait()
		select {
		case <-advanced:
			t.Fatal("Advance returned while the Tap that called it was running")
		default:
		}
		cancel()
		<-advanced
		for range out {
		}
	})
}
