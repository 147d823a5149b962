//go:build go1.25

package streamz

import (
	"bytes"
	"context"
	"errors"
	"log"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pbCaptureLog sends the standard logger's output to a buffer, without
// flags, for the rest of the test.
func pbCaptureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	out, flags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	log.SetFlags(0)
	t.Cleanup(func() {
		log.SetOutput(out)
		log.SetFlags(flags)
	})
	return &buf
}

func TestDeadLetterQueueNames(t *testing.T) {
	dlq := NewDeadLetterQueue[int](NewFakeClock())
	assert.Equal(t, "dlq", dlq.Name())
	assert.Same(t, dlq, dlq.WithName("orders"))
	assert.Equal(t, "orders", dlq.Name())
	assert.Equal(t, "", dlq.WithName("").Name())
	assert.Equal(t, RealClock, NewDeadLetterQueue[int](nil).clock, "nil clock means RealClock")
}

// Successes go to success and errors to failure, untouched and in order;
// both outputs are unbuffered.
func TestDeadLetterQueueSplitsUntouched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan Result[int])
		succ, fail := NewDeadLetterQueue[int](NewFakeClock()).Process(t.Context(), in)
		assert.Zero(t, cap(succ))
		assert.Zero(t, cap(fail))
		bad := NewError(2, errors.New("bad"), "up").WithMetadata("k", "v")
		bubbleSend(t, in, NewSuccess(1).WithMetadata("k", "one"))
		r := bubbleRecv(t, succ)
		requireSuccessValue(t, r, 1)
		k, _ := r.GetMetadata("k")
		assert.Equal(t, "one", k)
		bubbleSend(t, in, bad)
		r = bubbleRecv(t, fail)
		assert.Same(t, bad.Error(), r.Error())
		k, _ = r.GetMetadata("k")
		assert.Equal(t, "v", k)
		close(in)
		bubbleClosed(t, succ)
		bubbleClosed(t, fail)
	})
}

// Plain style with the settling FakeClock, no waits: an item its consumer
// does not take is dropped exactly when the clock reaches 10 ms after the
// DLQ took it, one drop per item, counted and logged; an item taken in time
// is delivered, and leaves no timer armed.
func TestDeadLetterQueueDropsAfter10ms(t *testing.T) {
	logs := pbCaptureLog(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	clk := NewFakeClock()
	dlq := NewDeadLetterQueue[int](clk).WithName("q")
	in := make(chan Result[int])
	succ, fail := dlq.Process(ctx, in)

	pbSend(t, in, NewSuccess(1))
	clk.Advance(10*time.Millisecond - time.Nanosecond)
	assert.Zero(t, dlq.DroppedCount(), "dropped before 10 ms")
	clk.Advance(time.Nanosecond)
	assert.Equal(t, uint64(1), dlq.DroppedCount())

	for i := range 3 {
		failed := NewError(10+i, errors.New("bad"), "up")
		failed.Error().Timestamp = FakeClockStart // a reproducible log line
		pbSend(t, in, failed)
		clk.Advance(15 * time.Millisecond)
		assert.Equal(t, uint64(2+i), dlq.DroppedCount(), "one drop per 15 ms advance")
	}

	pbSend(t, in, NewSuccess(3))
	clk.Advance(9 * time.Millisecond)
	requireSuccessValue(t, pbRecv(t, succ), 3)
	clk.BlockUntilReady()
	assert.False(t, clk.HasWaiters(), "timer left armed after delivery")
	assert.Equal(t, uint64(4), dlq.DroppedCount())

	assert.Equal(t, "DLQ[q]: Dropped item from success channel - value: 1\n"+
		"DLQ[q]: Dropped item from failure channel - StreamError[up]: bad (item: 10, time: 2024-01-01T00:00:00Z)\n"+
		"DLQ[q]: Dropped item from failure channel - StreamError[up]: bad (item: 11, time: 2024-01-01T00:00:00Z)\n"+
		"DLQ[q]: Dropped item from failure channel - StreamError[up]: bad (item: 12, time: 2024-01-01T00:00:00Z)\n", logs.String())
	cancel()
	pbAllClosedPlain(succ, fail)
}

// A success is logged with %+v.
func TestDeadLetterQueueSuccessLogUsesPlusV(t *testing.T) {
	logs := pbCaptureLog(t)
	type order struct {
		ID  int
		SKU string
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	clk := NewFakeClock()
	in := make(chan Result[order])
	succ, fail := NewDeadLetterQueue[order](clk).Process(ctx, in)
	in <- NewSuccess(order{7, "x"})
	clk.Advance(dlqDefaultTimeout)
	assert.Equal(t, "DLQ[dlq]: Dropped item from success channel - value: {ID:7 SKU:x}\n", logs.String())
	cancel()
	pbAllClosedPlain(succ, fail)
}

// The count is shared by every Process call on one DeadLetterQueue.
func TestDeadLetterQueueCountIsCumulative(t *testing.T) {
	pbCaptureLog(t)
	clk := NewFakeClock()
	dlq := NewDeadLetterQueue[int](clk)
	for i := range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[int])
		succ, fail := dlq.Process(ctx, in)
		in <- NewSuccess(i)
		clk.Advance(dlqDefaultTimeout)
		cancel()
		pbAllClosedPlain(succ, fail)
	}
	assert.Equal(t, uint64(2), dlq.DroppedCount())
}

// Cancel closes both outputs with the input idle and open and nobody
// reading, and, with an item waiting for its consumer, drops it without
// counting or logging it.
func TestDeadLetterQueueCancel(t *testing.T) {
	t.Run("input idle and open, no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			succ, fail := NewDeadLetterQueue[int](NewFakeClock()).Process(ctx, make(chan Result[int]))
			synctest.Wait()
			cancel()
			pbAllClosed(t, succ, fail)
		})
	})
	t.Run("item waiting: not counted", func(t *testing.T) {
		logs := pbCaptureLog(t)
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			clk := NewFakeClock()
			dlq := NewDeadLetterQueue[int](clk)
			in := make(chan Result[int])
			succ, fail := dlq.Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			clk.Advance(5 * time.Millisecond)
			cancel()
			synctest.Wait()
			assert.Empty(t, collectResults(succ))
			assert.Empty(t, collectResults(fail))
			clk.Advance(time.Second)
			assert.Zero(t, dlq.DroppedCount())
			assert.False(t, clk.HasWaiters(), "timer left armed after cancel")
		})
		assert.Empty(t, logs.String())
	})
}

// When the input closes, failure is closed before success. The observer is
// parked in a select on both, so the first close wakes it with its own case.
func TestDeadLetterQueueClosesFailureFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan Result[int])
		succ, fail := NewDeadLetterQueue[int](NewFakeClock()).Process(t.Context(), in)
		first := make(chan string, 1)
		go func() {
			select {
			case <-succ:
				first <- "success"
			case <-fail:
				first <- "failure"
			}
		}()
		synctest.Wait()
		close(in)
		assert.Equal(t, "failure", <-first)
		pbAllClosed(t, succ, fail)
	})
}

// On RealClock, a consumer slower than 10 ms per item loses items, as the
// doc comment warns.
func TestDeadLetterQueueSlowConsumerLosesItems(t *testing.T) {
	pbCaptureLog(t)
	synctest.Test(t, func(t *testing.T) {
		dlq := NewDeadLetterQueue[int](RealClock)
		in := make(chan Result[int])
		succ, _ := dlq.Process(t.Context(), in)
		go func() {
			for i := range 20 {
				in <- NewSuccess(i)
			}
			close(in)
		}()
		got := 0
		for range succ {
			got++
			time.Sleep(25 * time.Millisecond) // the slow consumer, in fake time
		}
		assert.Less(t, got, 20)
		assert.Equal(t, uint64(20-got), dlq.DroppedCount())
	})
}

// Plain style: Debounce -> DeadLetterQueue -> Batcher, all on one
// FakeClock, with the failure output left unread so that its items are
// dropped on time.
func TestDeadLetterQueueSettlesBetweenClockedStages(t *testing.T) {
	logs := pbCaptureLog(t)
	const d = 100 * time.Millisecond
	for i := range pbPlainIterations {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in := make(chan Result[int])
		dlq := NewDeadLetterQueue[int](clk)
		succ, fail := dlq.Process(ctx, NewDebounce[int](d, clk).Process(ctx, in))
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: 3 * d / 2}, clk).Process(ctx, succ)

		in <- NewSuccess(1)
		clk.Advance(d) // 1 reaches Batcher at d: due at 2.5d
		in <- NewError(-1, errors.New("bad"), "up")
		clk.Advance(dlqDefaultTimeout) // passes Debounce at once, dropped at d + 10ms
		require.Equal(t, uint64(1), dlq.DroppedCount(), "iteration %d", i)
		in <- NewSuccess(2)
		clk.Advance(d) // 2 joins the batch at 2d + 10ms
		clk.Advance(d/2 - dlqDefaultTimeout)
		require.Equal(t, []int{1, 2}, pbBatch(t, out), "iteration %d", i)
		cancel()
		pbAllClosedPlain(out)
		pbAllClosedPlain(fail)
	}
	assert.Equal(t, pbPlainIterations, strings.Count(logs.String(), "failure channel"))
}

func TestDeadLetterQueueWithTimeout(t *testing.T) {
	dlq := NewDeadLetterQueue[int](NewFakeClock())
	assert.Equal(t, 10*time.Millisecond, dlq.timeout, "the previous streamz's 10 ms by default")
	assert.Same(t, dlq, dlq.WithTimeout(0))
	assert.Zero(t, dlq.timeout)
	assert.PanicsWithValue(t, "streamz: DeadLetterQueue.WithTimeout: timeout must not be negative, got -1ns", func() {
		dlq.WithTimeout(-time.Nanosecond)
	})
	assert.Zero(t, dlq.timeout, "a rejected timeout leaves the old one")
}

// The timeout is measured on the DeadLetterQueue's Clock, whatever it is
// set to: an hour of the bubble's time, which RealClock would read, drops
// nothing, and the item goes exactly when the FakeClock reaches 50 ms.
func TestDeadLetterQueueTimeoutOnItsClock(t *testing.T) {
	pbCaptureLog(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		clk := NewFakeClock()
		dlq := NewDeadLetterQueue[int](clk).WithTimeout(50 * time.Millisecond)
		in := make(chan Result[int])
		succ, fail := dlq.Process(ctx, in)
		bubbleSend(t, in, NewSuccess(1))
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Zero(t, dlq.DroppedCount(), "dropped by the time of another clock")
		clk.Advance(50*time.Millisecond - time.Nanosecond)
		assert.Zero(t, dlq.DroppedCount(), "dropped before its timeout")
		clk.Advance(time.Nanosecond)
		assert.Equal(t, uint64(1), dlq.DroppedCount())
		cancel()
		pbAllClosed(t, succ, fail)
	})
}

// Process reads the timeout when called: a later WithTimeout changes only
// later streams.
func TestDeadLetterQueueTimeoutReadAtProcess(t *testing.T) {
	pbCaptureLog(t)
	clk := NewFakeClock()
	dlq := NewDeadLetterQueue[int](clk)
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan Result[int])
	succ, fail := dlq.Process(ctx, in)
	dlq.WithTimeout(0)
	pbSend(t, in, NewSuccess(1))
	clk.Advance(dlqDefaultTimeout)
	assert.Equal(t, uint64(1), dlq.DroppedCount(), "the running call kept its 10 ms")
	cancel()
	pbAllClosedPlain(succ, fail)

	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	in = make(chan Result[int])
	succ, fail = dlq.Process(ctx, in)
	pbSend(t, in, NewSuccess(2))
	clk.Advance(time.Hour)
	requireSuccessValue(t, pbRecv(t, succ), 2)
	assert.Equal(t, uint64(1), dlq.DroppedCount(), "the next call waits")
	cancel()
	pbAllClosedPlain(succ, fail)
}

// With a timeout of 0, a consumer far slower than 10 ms per item loses
// nothing: the same stream as TestDeadLetterQueueSlowConsumerLosesItems,
// with errors mixed in, all delivered in input order.
func TestDeadLetterQueueTimeoutZeroSlowConsumerKeepsAll(t *testing.T) {
	logs := pbCaptureLog(t)
	synctest.Test(t, func(t *testing.T) {
		dlq := NewDeadLetterQueue[int](RealClock).WithTimeout(0)
		in := make(chan Result[int])
		succ, fail := dlq.Process(t.Context(), in)
		go func() {
			for i := range 20 {
				if i%3 == 0 {
					in <- NewError(i, errors.New("bad"), "up")
				} else {
					in <- NewSuccess(i)
				}
			}
			close(in)
		}()
		var got []int
		for succ != nil || fail != nil {
			select {
			case r, ok := <-succ:
				if !ok {
					succ = nil
					continue
				}
				got = append(got, r.Value())
			case r, ok := <-fail:
				if !ok {
					fail = nil
					continue
				}
				got = append(got, r.Error().Item)
			}
			time.Sleep(25 * time.Millisecond) // the slow consumer, in fake time
		}
		want := make([]int, 20)
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, got)
		assert.Zero(t, dlq.DroppedCount())
	})
	assert.Empty(t, logs.String())
}

// Plain style, Debounce -> DeadLetterQueue(0) -> Batcher on one FakeClock:
// an error whose consumer reads it only after the clock has moved far past
// 10 ms is kept, and the stages around the waiting DeadLetterQueue still
// settle.
func TestDeadLetterQueueTimeoutZeroSettlesBetweenClockedStages(t *testing.T) {
	const d = 100 * time.Millisecond
	for i := range pbPlainIterations {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in := make(chan Result[int])
		dlq := NewDeadLetterQueue[int](clk).WithTimeout(0)
		succ, fail := dlq.Process(ctx, NewDebounce[int](d, clk).Process(ctx, in))
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: 3 * d}, clk).Process(ctx, succ)

		in <- NewSuccess(1)
		clk.Advance(d) // 1 reaches Batcher at d: due at 4d
		in <- NewError(-1, errors.New("bad"), "up")
		clk.Advance(d) // the error waits for its consumer
		require.Zero(t, dlq.DroppedCount(), "iteration %d", i)
		r := pbRecv(t, fail)
		require.Equal(t, -1, r.Error().Item, "iteration %d", i)
		in <- NewSuccess(2)
		clk.Advance(d) // 2 joins the batch at 3d
		clk.Advance(d)
		require.Equal(t, []int{1, 2}, pbBatch(t, out), "iteration %d", i)
		cancel()
		pbAllClosedPlain(out)
		pbAllClosedPlain(fail)
	}
}

// With a timeout of 0, cancel still closes both outputs promptly: with the
// input idle and open, and with an item waiting for a consumer that never
// reads, which is then dropped without being counted or logged.
func TestDeadLetterQueueTimeoutZeroCancel(t *testing.T) {
	t.Run("input idle and open, no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			succ, fail := NewDeadLetterQueue[int](NewFakeClock()).WithTimeout(0).Process(ctx, make(chan Result[int]))
			synctest.Wait()
			cancel()
			pbAllClosed(t, succ, fail)
		})
	})
	for name, item := range map[string]Result[int]{
		"success waiting": NewSuccess(1),
		"error waiting":   NewError(1, errors.New("bad"), "up"),
	} {
		t.Run(name, func(t *testing.T) {
			logs := pbCaptureLog(t)
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				clk := NewFakeClock()
				dlq := NewDeadLetterQueue[int](clk).WithTimeout(0)
				in := make(chan Result[int])
				succ, fail := dlq.Process(ctx, in)
				bubbleSend(t, in, item)
				clk.Advance(time.Hour)
				cancel()
				synctest.Wait()
				assert.Empty(t, collectResults(succ))
				assert.Empty(t, collectResults(fail))
				assert.Zero(t, dlq.DroppedCount())
				assert.False(t, clk.HasWaiters(), "a timer armed with a timeout of 0")
			})
			assert.Empty(t, logs.String())
		})
	}
}
