//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Helpers shared by the tests of FanIn, FanOut, Switch, Partition and
// DeadLetterQueue (prefix pb).
// ---------------------------------------------------------------------------

// pbGuard bounds how long a plain-style test waits for a result that must
// come. It is a failure deadline, never a synchronisation: a correct
// pipeline delivers at once.
const pbGuard = 10 * time.Second

// pbRecv returns the next result on out, failing if out is closed or nothing
// comes within pbGuard.
func pbRecv[T any](t *testing.T, out <-chan Result[T]) Result[T] {
	t.Helper()
	select {
	case r, ok := <-out:
		if !ok {
			t.Fatalf("output closed, want a result")
		}
		return r
	case <-time.After(pbGuard):
		t.Fatalf("no result within %v", pbGuard)
	}
	panic("unreachable")
}

// pbSend sends r on in, failing if nobody takes it within pbGuard.
func pbSend[T any](t *testing.T, in chan<- Result[T], r Result[T]) {
	t.Helper()
	select {
	case in <- r:
	case <-time.After(pbGuard):
		t.Fatalf("input not taken within %v", pbGuard)
	}
}

// pbBatch receives one batch from out and returns its values.
func pbBatch(t *testing.T, out <-chan Result[[]int]) []int {
	t.Helper()
	r := pbRecv(t, out)
	require.Truef(t, r.IsSuccess(), "want a batch, got %s", describeResult(r))
	return r.Value()
}

// pbAllClosed waits, inside a synctest bubble, for every output to close,
// discarding what is left in it. A bubble whose goroutines are all blocked
// fails the test, so an output that never closes is reported, not hung on.
func pbAllClosed[T any](t *testing.T, outs ...<-chan Result[T]) {
	t.Helper()
	for _, out := range outs {
		for range out {
		}
	}
}

// pbValues returns the values of successes and the items of errors, in
// order.
func pbValues[T any](rs []Result[T]) []T {
	vs := make([]T, 0, len(rs))
	for _, r := range rs {
		if r.IsError() {
			vs = append(vs, r.Error().Item)
			continue
		}
		vs = append(vs, r.Value())
	}
	return vs
}

// pbFeed sends vs as successes on a new channel, and closes it.
func pbFeed(vs ...int) <-chan Result[int] {
	ch := make(chan Result[int], len(vs))
	for _, v := range vs {
		ch <- NewSuccess(v)
	}
	close(ch)
	return ch
}

// pbPlainIterations is how many times each plain-style settling test builds
// and drives its pipeline: a pipeline that only settles by luck fails within
// a few of them.
const pbPlainIterations = 200

// ---------------------------------------------------------------------------
// FanIn
// ---------------------------------------------------------------------------

// Every item of every input comes out once; each input keeps its order; the
// Result is forwarded untouched (same *StreamError, same metadata).
func TestFanInMergesUntouchedKeepingOrderPerInput(t *testing.T) {
	ctx := t.Context()
	a := make(chan Result[int], 100)
	b := make(chan Result[int], 100)
	errA := NewError(-1, errors.New("bad"), "up").WithMetadata("k", "v")
	for i := range 50 {
		a <- NewSuccess(i)
		b <- NewSuccess(1000+i).WithMetadata("src", "b")
	}
	a <- errA
	close(a)
	close(b)

	got := collectResults(NewFanIn[int]().Process(ctx, a, b))
	require.Len(t, got, 101)
	var fromA, fromB []int
	for _, r := range got {
		switch {
		case r.IsError():
			assert.Same(t, errA.Error(), r.Error(), "error rewrapped")
			v, _ := r.GetMetadata("k")
			assert.Equal(t, "v", v)
		case r.Value() >= 1000:
			fromB = append(fromB, r.Value())
			v, _ := r.GetMetadata("src")
			assert.Equal(t, "b", v)
		default:
			fromA = append(fromA, r.Value())
		}
	}
	for i := range 50 {
		assert.Equal(t, i, fromA[i])
		assert.Equal(t, 1000+i, fromB[i])
	}
}

// With no input, or only nil ones, the output is already closed when
// Process returns.
func TestFanInNoInputsClosesAtOnce(t *testing.T) {
	for name, ins := range map[string][]<-chan Result[int]{
		"none":     nil,
		"all nil":  {nil, nil},
		"one nil":  {nil},
		"empty []": {},
	} {
		t.Run(name, func(t *testing.T) {
			out := NewFanIn[int]().Process(t.Context(), ins...)
			select {
			case _, ok := <-out:
				assert.False(t, ok, "want closed, got an item")
			default:
				t.Fatal("output not closed when Process returned")
			}
		})
	}
}

// A nil input counts as closed: the output closes once the real inputs
// have.
func TestFanInNilInputCountsAsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan Result[int])
		out := NewFanIn[int]().Process(t.Context(), nil, in, nil)
		bubbleSend(t, in, NewSuccess(7))
		requireSuccessValue(t, bubbleRecv(t, out), 7)
		close(in)
		bubbleClosed(t, out)
	})
}

// The same channel passed twice is read by two forwarders: each item comes
// out once.
func TestFanInDuplicateInput(t *testing.T) {
	in := pbFeed(1, 2, 3, 4, 5)
	got := pbValues(collectResults(NewFanIn[int]().Process(t.Context(), in, in)))
	assert.ElementsMatch(t, []int{1, 2, 3, 4, 5}, got)
}

// The output stays open until the last input closes.
func TestFanInClosesAfterLastInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := make(chan Result[int]), make(chan Result[int])
		out := NewFanIn[int]().Process(t.Context(), a, b)
		close(a)
		bubbleNoResult(t, out)
		bubbleSend(t, b, NewSuccess(1))
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		close(b)
		bubbleClosed(t, out)
	})
}

// Cancel closes the output with the inputs idle and open and nobody
// reading, or with forwarders blocked sending, and leaves no goroutine.
func TestFanInCancel(t *testing.T) {
	t.Run("inputs idle and open, no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			a, b := make(chan Result[int]), make(chan Result[int])
			out := NewFanIn[int]().Process(ctx, a, b, nil)
			synctest.Wait()
			cancel()
			pbAllClosed(t, out)
		})
	})
	t.Run("forwarders blocked sending", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			a, b := make(chan Result[int]), make(chan Result[int])
			out := NewFanIn[int]().Process(ctx, a, b)
			bubbleSend(t, a, NewSuccess(1))
			bubbleSend(t, b, NewSuccess(2))
			cancel()
			synctest.Wait()
			// Nobody was reading when ctx ended: the items in hand are
			// dropped, none is delivered late.
			assert.Empty(t, collectResults(out))
		})
	})
	t.Run("cancelled before Process", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			in := pbFeed(1, 2, 3)
			out := NewFanIn[int]().Process(ctx, in)
			assert.Empty(t, collectResults(out), "items taken after cancel")
		})
	})
}

// Plain style, no sleeps and no synctest: Debounce -> FanIn -> Batcher on
// one FakeClock. y enters FanIn directly and is in flight in FanIn, unseen
// by the clock, when the test advances; the settle must wait for it to
// reach the Batcher before the batch's deadline fires.
func TestFanInSettlesBetweenClockedStages(t *testing.T) {
	const d = 100 * time.Millisecond
	for i := range pbPlainIterations {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in, direct := make(chan Result[int]), make(chan Result[int])
		debounced := NewDebounce[int](d, clk).Process(ctx, in)
		merged := NewFanIn[int]().Process(ctx, debounced, direct)
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: d / 2}, clk).Process(ctx, merged)

		in <- NewSuccess(1)
		clk.Advance(d) // 1 leaves Debounce and reaches Batcher at t = d
		direct <- NewSuccess(2)
		clk.Advance(d / 2) // 2 joins the batch before its deadline fires
		require.Equal(t, []int{1, 2}, pbBatch(t, out), "iteration %d", i)

		direct <- NewSuccess(3)
		in <- NewSuccess(4)
		clk.Advance(d / 2) // 3's batch is due; 4 is still debounced
		require.Equal(t, []int{3}, pbBatch(t, out), "iteration %d", i)
		clk.Advance(d / 2) // 4 leaves Debounce and starts a batch
		clk.Advance(d / 2)
		require.Equal(t, []int{4}, pbBatch(t, out), "iteration %d", i)
		cancel()
		for range out {
		}
	}
}
