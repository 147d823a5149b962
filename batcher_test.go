//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Helpers shared by throttle_test.go, debounce_test.go and batcher_test.go.
//
// The bubble* helpers must be called inside a synctest bubble. Each one first
// lets every other goroutine of the bubble settle (synctest.Wait), so that a
// processor has read the clock, armed its timer or blocked on a send before
// the test looks at it, and then acts without blocking, so that a broken
// processor makes the test fail with a message instead of hanging.
// ---------------------------------------------------------------------------

// bubbleSend hands r to the processor reading in, then waits until the
// processor has dealt with it (read the clock, armed a timer, dropped the
// item or blocked sending an output). It fails if the processor is not
// waiting for input.
func bubbleSend[T any](t *testing.T, in chan<- Result[T], r Result[T]) {
	t.Helper()
	synctest.Wait()
	select {
	case in <- r:
	default:
		t.Fatalf("processor is not waiting for input (still sending an output, or gone?)")
	}
	synctest.Wait()
}

// bubbleRecv returns the result the processor is offering on out now. It
// fails if there is none or out is closed.
func bubbleRecv[T any](t *testing.T, out <-chan Result[T]) Result[T] {
	t.Helper()
	synctest.Wait()
	select {
	case r, ok := <-out:
		if !ok {
			t.Fatalf("output closed, want a result")
		}
		return r
	default:
		t.Fatalf("no result ready, want one")
	}
	panic("unreachable")
}

// bubbleNoResult fails if the processor is offering a result on out, or has
// closed it.
func bubbleNoResult[T any](t *testing.T, out <-chan Result[T]) {
	t.Helper()
	synctest.Wait()
	select {
	case r, ok := <-out:
		if ok {
			t.Fatalf("unexpected result %s", describeResult(r))
		}
		t.Fatalf("output closed, want it open and quiet")
	default:
	}
}

// bubbleClosed fails unless out is closed, with no result left in it.
func bubbleClosed[T any](t *testing.T, out <-chan Result[T]) {
	t.Helper()
	synctest.Wait()
	select {
	case r, ok := <-out:
		if ok {
			t.Fatalf("want output closed, got result %s", describeResult(r))
		}
	default:
		t.Fatalf("output not closed")
	}
}

// collectResults reads out until it is closed.
func collectResults[T any](out <-chan Result[T]) []Result[T] {
	var got []Result[T]
	for r := range out {
		got = append(got, r)
	}
	return got
}

// describeResult formats r for failure messages.
func describeResult[T any](r Result[T]) string {
	if r.IsError() {
		return fmt.Sprintf("error(%v)", r.Error())
	}
	return fmt.Sprintf("success(%v)", r.Value())
}

// requireSuccessValue fails unless r is a success holding want.
func requireSuccessValue[T any](t *testing.T, r Result[T], want T) {
	t.Helper()
	require.Truef(t, r.IsSuccess(), "want success(%v), got %s", want, describeResult(r))
	require.Equal(t, want, r.Value())
}

// frozenTimersClock reads the time of a FakeClock but never fires a timer or
// ticker. A processor using it learns that a deadline has passed only by
// reading Now() when an input arrives, so tests of the time-first rule do not
// depend on which ready select case the processor happens to pick.
type frozenTimersClock struct{ *FakeClock }

type frozenTimer struct {
	ch    chan time.Time
	armed bool
}

func (f *frozenTimer) Stop() bool {
	was := f.armed
	f.armed = false
	return was
}

func (f *frozenTimer) Reset(time.Duration) bool {
	was := f.armed
	f.armed = true
	return was
}

func (f *frozenTimer) C() <-chan time.Time { return f.ch }

type frozenTicker struct{ ch chan time.Time }

func (f frozenTicker) Stop()               {}
func (f frozenTicker) C() <-chan time.Time { return f.ch }

func (frozenTimersClock) NewTimer(time.Duration) Timer {
	return &frozenTimer{ch: make(chan time.Time), armed: true}
}

func (c frozenTimersClock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

func (frozenTimersClock) AfterFunc(time.Duration, func()) Timer { return &frozenTimer{armed: true} }

func (frozenTimersClock) NewTicker(time.Duration) Ticker {
	return frozenTicker{ch: make(chan time.Time)}
}

// ---------------------------------------------------------------------------
// Batcher tests.
// ---------------------------------------------------------------------------

func TestBatcherName(t *testing.T) {
	assert.Equal(t, "batcher", NewBatcher[int](BatchConfig{MaxSize: 1}, NewFakeClock()).Name())
}

func TestNewBatcherPanicsOnInvalidConfig(t *testing.T) {
	cases := []struct {
		name   string
		config BatchConfig
		want   []string // substrings of the panic message
	}{
		{"MaxSize zero", BatchConfig{MaxSize: 0, MaxLatency: time.Second},
			[]string{"streamz: NewBatcher: BatchConfig.MaxSize must be at least 1, got 0"}},
		{"MaxSize negative", BatchConfig{MaxSize: -1},
			[]string{"NewBatcher", "BatchConfig.MaxSize", "got -1"}},
		{"MaxLatency negative", BatchConfig{MaxSize: 5, MaxLatency: -time.Nanosecond},
			[]string{"NewBatcher", "BatchConfig.MaxLatency", "-1ns"}},
		{"MaxLatency very negative", BatchConfig{MaxSize: 5, MaxLatency: -3 * time.Second},
			[]string{"NewBatcher", "BatchConfig.MaxLatency", "-3s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var recovered any
			func() {
				defer func() { recovered = recover() }()
				NewBatcher[int](tc.config, NewFakeClock())
			}()
			require.NotNil(t, recovered, "NewBatcher(%+v) did not panic", tc.config)
			msg := fmt.Sprint(recovered)
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
		})
	}

	t.Run("smallest valid config", func(t *testing.T) {
		assert.NotPanics(t, func() { NewBatcher[int](BatchConfig{MaxSize: 1, MaxLatency: 0}, nil) })
	})
}

func TestBatcherFlushesAtMaxSizeInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 3, MaxLatency: time.Hour}, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		bubbleSend(t, in, NewSuccess(2))
		bubbleNoResult(t, out)
		bubbleSend(t, in, NewSuccess(3))
		// Size reached: out at once, with no time passing.
		requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2, 3})
		bubbleSend(t, in, NewSuccess(4))
		bubbleSend(t, in, NewSuccess(5))
		bubbleSend(t, in, NewSuccess(6))
		requireSuccessValue(t, bubbleRecv(t, out), []int{4, 5, 6})
		bubbleSend(t, in, NewSuccess(7))
		bubbleNoResult(t, out)
		assert.Equal(t, FakeClockStart, clk.Now())

		close(in)
		requireSuccessValue(t, bubbleRecv(t, out), []int{7})
		bubbleClosed(t, out)
	})
}

func TestBatcherMaxSizeOneEmitsEachItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan Result[string])
		out := NewBatcher[string](BatchConfig{MaxSize: 1, MaxLatency: time.Second}, NewFakeClock()).Process(t.Context(), in)
		for _, s := range []string{"a", "b", "c"} {
			bubbleSend(t, in, NewSuccess(s))
			requireSuccessValue(t, bubbleRecv(t, out), []string{s})
		}
		close(in)
		bubbleClosed(t, out)
	})
}

// The batch goes out exactly MaxLatency after its first item, not earlier,
// and a later item does not push the deadline back.
func TestBatcherLatencyDeadlineFromFirstItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: latency}, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // first item at t0
		clk.Advance(latency / 2)
		bubbleSend(t, in, NewSuccess(2)) // must not extend the deadline
		clk.Advance(latency/2 - time.Nanosecond)
		bubbleNoResult(t, out) // t0 + latency - 1ns: not yet
		clk.Advance(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2}) // exactly t0 + latency
		assert.Equal(t, FakeClockStart.Add(latency), clk.Now())

		// The next batch's deadline counts from its own first item.
		t1 := clk.Now()
		clk.Advance(3 * latency)
		bubbleNoResult(t, out)
		bubbleSend(t, in, NewSuccess(3))
		clk.Advance(latency - time.Nanosecond)
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), []int{3})
		assert.Equal(t, t1.Add(4*latency), clk.Now())

		close(in)
		bubbleClosed(t, out)
	})
}

func TestBatcherZeroMaxLatencyIsSizeOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 3, MaxLatency: 0}, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		bubbleSend(t, in, NewSuccess(2))
		assert.False(t, clk.HasWaiters(), "MaxLatency 0 must arm no timer: %s", clk.describeWaiters())
		for range 5 {
			clk.Advance(24 * time.Hour)
			bubbleNoResult(t, out)
		}
		bubbleSend(t, in, NewSuccess(3))
		requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2, 3})

		bubbleSend(t, in, NewSuccess(4))
		clk.Advance(1000 * time.Hour)
		bubbleNoResult(t, out)
		assert.False(t, clk.HasWaiters(), "MaxLatency 0 must arm no timer: %s", clk.describeWaiters())

		close(in)
		requireSuccessValue(t, bubbleRecv(t, out), []int{4})
		bubbleClosed(t, out)
	})
}

func TestBatcherNeverEmitsEmptyBatch(t *testing.T) {
	t.Run("timer fires after a size flush", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			const latency = time.Second
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 2, MaxLatency: latency}, clk).Process(t.Context(), in)

			bubbleSend(t, in, NewSuccess(1)) // arms the latency timer
			bubbleSend(t, in, NewSuccess(2)) // size flush
			requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2})
			clk.Advance(latency) // the old timer's period ends with nothing held
			bubbleNoResult(t, out)
			clk.Advance(10 * latency)
			bubbleNoResult(t, out)
			close(in)
			bubbleClosed(t, out)
		})
	})

	t.Run("close with nothing held", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 2, MaxLatency: time.Second}, NewFakeClock()).Process(t.Context(), in)
			close(in)
			bubbleClosed(t, out)
		})
	})

	t.Run("close after a latency flush", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 5, MaxLatency: time.Second}, clk).Process(t.Context(), in)
			bubbleSend(t, in, NewSuccess(1))
			clk.Advance(time.Second)
			requireSuccessValue(t, bubbleRecv(t, out), []int{1})
			close(in)
			bubbleClosed(t, out)
		})
	})

	t.Run("only errors", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 5, MaxLatency: time.Second}, clk).Process(t.Context(), in)
			cause := errors.New("bad")
			bubbleSend(t, in, NewError(1, cause, "up"))
			require.True(t, bubbleRecv(t, out).IsError())
			clk.Advance(time.Hour)
			bubbleNoResult(t, out)
			close(in)
			bubbleClosed(t, out)
		})
	})
}

// Each batch is a fresh slice: what the receiver does with it, including
// appending into its spare capacity, never shows in another batch, and
// building later batches never changes one already received.
func TestBatcherBatchesDoNotShareMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 100, MaxLatency: latency}, clk).Process(t.Context(), in)

		for _, v := range []int{1, 2, 3} {
			bubbleSend(t, in, NewSuccess(v))
		}
		clk.Advance(latency)
		b1 := bubbleRecv(t, out).Value()
		require.Equal(t, []int{1, 2, 3}, b1)
		if cap(b1) == len(b1) {
			t.Logf("first batch has no spare capacity (len=cap=%d); the append check below is then trivial", len(b1))
		}
		// Write into b1, and into its spare capacity, while the next batch
		// is being built.
		b1ext := append(b1, 99)
		b1[0] = -1
		for _, v := range []int{4, 5, 6} {
			bubbleSend(t, in, NewSuccess(v))
		}
		b1[1] = -2 // again, with the next batch's items held
		clk.Advance(latency)
		b2 := bubbleRecv(t, out).Value()
		assert.Equal(t, []int{4, 5, 6}, b2, "second batch changed by writes to the first")
		assert.Equal(t, []int{-1, -2, 3}, b1, "first batch changed after it was received")
		assert.Equal(t, 99, b1ext[3], "the batcher wrote into the first batch's spare capacity")

		b2ext := append(b2, 100)
		b2[0] = -4
		bubbleSend(t, in, NewSuccess(7))
		bubbleSend(t, in, NewSuccess(8))
		b2[1] = -5
		close(in)
		b3 := bubbleRecv(t, out).Value()
		assert.Equal(t, []int{7, 8}, b3, "third batch changed by writes to the second")
		assert.Equal(t, []int{-4, -5, 6}, b2, "second batch changed after it was received")
		assert.Equal(t, 100, b2ext[3], "the batcher wrote into the second batch's spare capacity")
		bubbleClosed(t, out)
	})
}

// An error goes out at once as a Result[[]T] error keeping the cause, the
// original processor name and the item, and leaves the current batch (its
// items, its size count and its deadline) as it was.
func TestBatcherErrorPassesThroughWithoutTouchingBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 3, MaxLatency: latency}, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // batch deadline t0 + latency
		clk.Advance(latency / 2)

		cause := errors.New("upstream failed")
		failed := NewError(7, cause, "upstream").WithMetadata(MetadataSource, "sensor-1")
		bubbleSend(t, in, failed)
		r := bubbleRecv(t, out) // at once, before the batch
		require.True(t, r.IsError(), "want an error, got %s", describeResult(r))
		se := r.Error()
		require.NotNil(t, se)
		assert.ErrorIs(t, se, cause)
		assert.Same(t, cause, se.Err)
		assert.Equal(t, "upstream", se.ProcessorName)
		assert.Equal(t, []int{7}, se.Item)
		assert.Equal(t, failed.Error().Timestamp, se.Timestamp)
		src, ok, err := r.GetStringMetadata(MetadataSource)
		assert.NoError(t, err)
		assert.True(t, ok, "metadata of the failed item lost")
		assert.Equal(t, "sensor-1", src)
		bubbleNoResult(t, out) // the error did not flush the batch

		// The error did not count towards MaxSize (3): with 2, the batch
		// holds two items and stays.
		bubbleSend(t, in, NewSuccess(2))
		bubbleNoResult(t, out)

		// The error did not move the deadline.
		clk.Advance(latency/2 - time.Nanosecond)
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2})

		// Errors do not count towards the size of the batch.
		bubbleSend(t, in, NewSuccess(3))
		bubbleSend(t, in, NewError(8, cause, "upstream"))
		require.True(t, bubbleRecv(t, out).IsError())
		bubbleSend(t, in, NewError(9, cause, "upstream"))
		require.True(t, bubbleRecv(t, out).IsError())
		bubbleSend(t, in, NewSuccess(4))
		bubbleNoResult(t, out)
		bubbleSend(t, in, NewSuccess(5))
		requireSuccessValue(t, bubbleRecv(t, out), []int{3, 4, 5})

		close(in)
		bubbleClosed(t, out)
	})
}

// With a clock whose timers never fire, an aged batch can only go out
// because the processor reads the clock when the next input arrives: it must
// go out before that input has any effect.
func TestBatcherAgedBatchGoesOutBeforeNextInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = time.Second
		clk := frozenTimersClock{NewFakeClock()}
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: latency}, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		clk.Advance(latency - time.Nanosecond)
		bubbleSend(t, in, NewSuccess(2)) // deadline not reached: joins the batch
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond) // deadline reached, no timer fires
		bubbleSend(t, in, NewSuccess(3))
		requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2})
		bubbleNoResult(t, out) // 3 starts the next batch

		clk.Advance(latency) // 3's batch is now due
		cause := errors.New("x")
		bubbleSend(t, in, NewError(4, cause, "up"))
		requireSuccessValue(t, bubbleRecv(t, out), []int{3})
		r := bubbleRecv(t, out)
		require.True(t, r.IsError(), "want the error after the aged batch, got %s", describeResult(r))
		assert.Equal(t, []int{4}, r.Error().Item)

		close(in)
		bubbleClosed(t, out)
	})
}

// The same rule with a real FakeClock timer: the period ends while the
// processor is busy sending an earlier result, so when it next selects, the
// timer's event and the next input are both ready and either may be taken.
// Repeated so that both orders occur.
func TestBatcherAgedBatchBeforeInputWhenBothReady(t *testing.T) {
	const latency = time.Second
	for range 40 {
		synctest.Test(t, func(t *testing.T) {
			ctx := t.Context()
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: latency}, clk).Process(ctx, in)

			bubbleSend(t, in, NewSuccess(1))
			bubbleSend(t, in, NewError(0, errors.New("e"), "up")) // processor now blocked sending it
			clk.Advance(latency)                                  // the timer's event waits in its buffer
			go func() {
				select {
				case in <- NewSuccess(2):
				case <-ctx.Done():
				}
			}()
			synctest.Wait()
			require.True(t, bubbleRecv(t, out).IsError())
			requireSuccessValue(t, bubbleRecv(t, out), []int{1})
			bubbleNoResult(t, out)
			clk.Advance(latency)
			requireSuccessValue(t, bubbleRecv(t, out), []int{2})
			close(in)
			bubbleClosed(t, out)
		})
	}
}

func TestBatcherCloseFlushesPartialBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: time.Hour}, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		bubbleSend(t, in, NewSuccess(2))
		close(in)
		// Out at once, without waiting for the deadline, then closed.
		requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2})
		bubbleClosed(t, out)
		assert.Equal(t, FakeClockStart, clk.Now())
	})
}

func TestBatcherCancelClosesWithoutFlushing(t *testing.T) {
	t.Run("partial batch, consumer waiting", func(t *testing.T) {
		// A consumer is already waiting on the output when ctx is
		// cancelled; repeated so that a racy flush would be seen.
		for range 20 {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				in := make(chan Result[int])
				out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: time.Second}, NewFakeClock()).Process(ctx, in)
				bubbleSend(t, in, NewSuccess(1))
				bubbleSend(t, in, NewSuccess(2))

				var got []Result[[]int]
				done := make(chan struct{})
				go func() {
					defer close(done)
					got = collectResults(out)
				}()
				synctest.Wait()
				cancel()
				<-done
				assert.Empty(t, got, "partial batch flushed on cancel")
			})
		}
	})

	t.Run("consumer stopped reading a size flush", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 2, MaxLatency: time.Second}, NewFakeClock()).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			bubbleSend(t, in, NewSuccess(2)) // processor blocked sending [1 2]
			cancel()
			bubbleClosed(t, out)
		})
	})

	t.Run("consumer stopped reading a latency flush", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: time.Second}, clk).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			clk.Advance(time.Second) // processor blocked sending [1]
			synctest.Wait()
			cancel()
			bubbleClosed(t, out)
		})
	})

	t.Run("consumer stopped reading an error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: time.Second}, NewFakeClock()).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			bubbleSend(t, in, NewError(2, errors.New("e"), "up")) // blocked sending the error
			cancel()
			bubbleClosed(t, out)
		})
	})
}

func TestBatcherNilClockIsRealClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: latency}, nil).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		time.Sleep(300 * time.Millisecond)
		bubbleSend(t, in, NewSuccess(2))
		time.Sleep(700*time.Millisecond - time.Nanosecond)
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), []int{1, 2})
		assert.Equal(t, latency, time.Since(start))

		close(in)
		bubbleClosed(t, out)
	})
}

// Two Process calls on one Batcher run at the same time and keep separate
// batches and deadlines.
func TestBatcherStateBelongsToProcessCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = time.Second
		clk := NewFakeClock()
		b := NewBatcher[string](BatchConfig{MaxSize: 2, MaxLatency: latency}, clk)
		in1, in2 := make(chan Result[string]), make(chan Result[string])
		out1 := b.Process(t.Context(), in1)
		out2 := b.Process(t.Context(), in2)

		bubbleSend(t, in1, NewSuccess("a1"))
		bubbleSend(t, in2, NewSuccess("b1"))
		bubbleNoResult(t, out1)
		bubbleNoResult(t, out2)
		bubbleSend(t, in2, NewSuccess("b2"))
		requireSuccessValue(t, bubbleRecv(t, out2), []string{"b1", "b2"})
		bubbleNoResult(t, out1)

		clk.Advance(latency / 2)
		bubbleSend(t, in2, NewSuccess("b3")) // b3's deadline: t0 + 1.5 latency
		clk.Advance(latency / 2)
		requireSuccessValue(t, bubbleRecv(t, out1), []string{"a1"})
		bubbleNoResult(t, out2)
		clk.Advance(latency / 2)
		requireSuccessValue(t, bubbleRecv(t, out2), []string{"b3"})

		bubbleSend(t, in1, NewSuccess("a2"))
		close(in2)
		bubbleClosed(t, out2)
		close(in1)
		requireSuccessValue(t, bubbleRecv(t, out1), []string{"a2"})
		bubbleClosed(t, out1)
	})
}

// With a huge MaxSize, a batch closed by latency after a few items must cost
// memory for those items, not for MaxSize.
func TestBatcherMemoryFollowsItemsHeld(t *testing.T) {
	const (
		maxSize   = 1_000_000
		perBatch  = 10
		latency   = time.Second
		maxCap    = 64
		batches   = 20
		byteLimit = 64 << 10 // per batch; preallocating MaxSize ints costs 8 MB
	)
	synctest.Test(t, func(t *testing.T) {
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: maxSize, MaxLatency: latency}, clk).Process(t.Context(), in)

		runBatch := func() []int {
			t.Helper()
			for i := range perBatch {
				bubbleSend(t, in, NewSuccess(i))
			}
			clk.Advance(latency)
			b := bubbleRecv(t, out).Value()
			require.Len(t, b, perBatch)
			require.LessOrEqual(t, cap(b), maxCap, "batch capacity follows MaxSize, not the items held")
			return b
		}

		runBatch()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range batches {
			runBatch()
		}
		runtime.ReadMemStats(&after)
		per := (after.TotalAlloc - before.TotalAlloc) / batches
		t.Logf("%d bytes allocated per batch of %d items", per, perBatch)
		assert.Less(t, per, uint64(byteLimit), "allocated %d bytes per batch of %d items", per, perBatch)

		close(in)
		bubbleClosed(t, out)
	})
}

// The FakeClock style without a bubble: BlockUntilContext waits until the
// processor has read the clock and armed its timer for the first item, and
// Advance then fires it.
func TestBatcherLatencyFlushWithBlockUntil(t *testing.T) {
	const latency = time.Second
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // guard only
	defer cancel()
	clk := NewFakeClock()
	in := make(chan Result[int])
	out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: latency}, clk).Process(ctx, in)

	for round := range 3 {
		in <- NewSuccess(round)
		require.NoError(t, clk.BlockUntilContext(ctx, 1))
		clk.Advance(latency - time.Nanosecond)
		require.True(t, clk.HasWaiters(), "timer fired before MaxLatency")
		clk.Advance(time.Nanosecond)
		select {
		case r := <-out:
			requireSuccessValue(t, r, []int{round})
		case <-ctx.Done():
			t.Fatal("no batch at MaxLatency")
		}
	}
	close(in)
	for r := range out {
		t.Errorf("unexpected result after close: %s", describeResult(r))
	}
}
