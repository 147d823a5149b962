//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every output receives the identical sequence, in input order, each Result
// untouched; all outputs close once the input has.
func TestFanOutBroadcastsIdenticalSequences(t *testing.T) {
	in := make(chan Result[int], 10)
	fail := NewError(3, errors.New("bad"), "up").WithMetadata("k", "v")
	in <- NewSuccess(1).WithMetadata("k", "one")
	in <- NewSuccess(2)
	in <- fail
	in <- NewSuccess(4)
	close(in)

	outs := NewFanOut[int](3).Process(t.Context(), in)
	require.Len(t, outs, 3)
	got := make([][]Result[int], len(outs))
	var wg sync.WaitGroup
	for i, out := range outs {
		wg.Go(func() { got[i] = collectResults(out) })
	}
	wg.Wait()
	for i := range outs {
		require.Len(t, got[i], 4, "output %d", i)
		assert.Equal(t, []int{1, 2, 3, 4}, pbValues(got[i]), "output %d", i)
		assert.Same(t, fail.Error(), got[i][2].Error(), "output %d: error rewrapped", i)
		v, _ := got[i][0].GetMetadata("k")
		assert.Equal(t, "one", v, "output %d", i)
		v, _ = got[i][2].GetMetadata("k")
		assert.Equal(t, "v", v, "output %d", i)
	}
}

// Outputs move in lock step: output 1 sees an item only after output 0 has
// taken it, and the next item is not taken until every output has taken the
// current one, so an unread output stops the others.
func TestFanOutLockStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan Result[int], 10)
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		outs := NewFanOut[int](2).Process(t.Context(), in)
		bubbleNoResult(t, outs[1]) // 1 is offered to output 0 first
		requireSuccessValue(t, bubbleRecv(t, outs[0]), 1)
		bubbleNoResult(t, outs[0]) // 2 waits until output 1 has taken 1
		requireSuccessValue(t, bubbleRecv(t, outs[1]), 1)
		requireSuccessValue(t, bubbleRecv(t, outs[0]), 2)
		requireSuccessValue(t, bubbleRecv(t, outs[1]), 2)
		close(in)
		bubbleClosed(t, outs[0])
		bubbleClosed(t, outs[1])
	})
}

// Outputs are unbuffered, and each Process call makes its own.
func TestFanOutUnbufferedFreshChannels(t *testing.T) {
	f := NewFanOut[int](2)
	a := f.Process(t.Context(), pbFeed())
	b := f.Process(t.Context(), pbFeed())
	for i := range 2 {
		assert.Equal(t, 0, cap(a[i]))
		assert.NotEqual(t, a[i], b[i])
	}
	pbAllClosedPlain(a...)
	pbAllClosedPlain(b...)
}

// pbAllClosedPlain drains every output until it closes.
func pbAllClosedPlain[T any](outs ...<-chan Result[T]) {
	for _, out := range outs {
		for range out {
		}
	}
}

// A negative count is accepted by NewFanOut and panics in Process, naming
// the value.
func TestFanOutNegativeCountPanicsInProcess(t *testing.T) {
	f := NewFanOut[int](-1)
	assert.PanicsWithValue(t, "streamz: FanOut.Process: count must not be negative, got -1", func() {
		f.Process(t.Context(), make(chan Result[int]))
	})
}

// A count of 0 gives no outputs, and the input is still drained, so its
// producer is never blocked.
func TestFanOutZeroDrainsInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan Result[int])
		outs := NewFanOut[int](0).Process(t.Context(), in)
		assert.Empty(t, outs)
		assert.NotNil(t, outs)
		for i := range 5 {
			bubbleSend(t, in, NewSuccess(i))
		}
		close(in)
	})
}

// Cancel closes every output, with the input idle and open and nobody
// reading, or with the send blocked part way through the outputs.
func TestFanOutCancel(t *testing.T) {
	t.Run("input idle and open, no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			outs := NewFanOut[int](3).Process(ctx, make(chan Result[int]))
			synctest.Wait()
			cancel()
			pbAllClosed(t, outs...)
		})
	})
	t.Run("blocked sending to output 1", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			outs := NewFanOut[int](3).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			requireSuccessValue(t, bubbleRecv(t, outs[0]), 1)
			cancel()
			synctest.Wait()
			for i, out := range outs {
				assert.Empty(t, collectResults(out), "output %d", i)
			}
		})
	})
}

// Plain style: Debounce -> FanOut -> two Batchers, all on one FakeClock.
// Each item leaves Debounce when a timer fires and must reach both Batchers
// through FanOut at that instant, so that both batch deadlines are the
// same.
func TestFanOutSettlesBetweenClockedStages(t *testing.T) {
	const d = 100 * time.Millisecond
	for i := range pbPlainIterations {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in := make(chan Result[int])
		outs := NewFanOut[int](2).Process(ctx, NewDebounce[int](d, clk).Process(ctx, in))
		cfg := BatchConfig{MaxSize: 10, MaxLatency: 3 * d / 2}
		a := NewBatcher[int](cfg, clk).Process(ctx, outs[0])
		b := NewBatcher[int](cfg, clk).Process(ctx, outs[1])

		in <- NewSuccess(1)
		clk.Advance(d) // 1 reaches both Batchers at t = d: deadlines 2.5d
		in <- NewSuccess(2)
		clk.Advance(d)     // 2 reaches both at t = 2d
		clk.Advance(d / 2) // both batches are due
		require.Equal(t, []int{1, 2}, pbBatch(t, a), "iteration %d", i)
		require.Equal(t, []int{1, 2}, pbBatch(t, b), "iteration %d", i)
		in <- NewSuccess(3)
		clk.Advance(d)
		in <- NewSuccess(4)    // 3's batch is open since 3.5d, due at 5d
		clk.Advance(3 * d / 2) // 4 joins it at 4.5d
		require.Equal(t, []int{3, 4}, pbBatch(t, a), "iteration %d", i)
		require.Equal(t, []int{3, 4}, pbBatch(t, b), "iteration %d", i)
		cancel()
		pbAllClosedPlain(a, b)
	}
}
