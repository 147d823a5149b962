//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Helpers shared by the tests of Mapper, AsyncMapper, Filter, Tap, Buffer
// and Sample.

// paStage is a Process method of one of those processors on ints.
type paStage[U any] func(ctx context.Context, in <-chan Result[int]) <-chan Result[U]

// paFeed returns a closed channel holding rs.
func paFeed[T any](rs ...Result[T]) <-chan Result[T] {
	ch := make(chan Result[T], len(rs))
	for _, r := range rs {
		ch <- r
	}
	close(ch)
	return ch
}

// paInts returns successes holding the values in order.
func paInts(values ...int) []Result[int] {
	rs := make([]Result[int], len(values))
	for i, v := range values {
		rs[i] = NewSuccess(v)
	}
	return rs
}

// paValues returns the values of rs, failing on an error.
func paValues[T any](t *testing.T, rs []Result[T]) []T {
	t.Helper()
	vs := make([]T, 0, len(rs))
	for _, r := range rs {
		require.Truef(t, r.IsSuccess(), "want success, got %s", describeResult(r))
		vs = append(vs, r.Value())
	}
	return vs
}

// paErrIn is an incoming error with metadata, as an upstream stage would
// send it.
func paErrIn(item int) (Result[int], error) {
	cause := errors.New("upstream broke")
	r := NewError(item, cause, "upstream").WithMetadata("k", "v")
	return r, cause
}

// paCancelTests runs the cancellation rules every processor here shares,
// each in a synctest bubble, which also fails if any goroutine is left
// behind when the test ends:
//   - with the input idle and open and nobody reading, cancel closes the
//     output;
//   - with the processor blocked sending an item nobody reads, cancel closes
//     the output without delivering it.
//
// item is an input that makes the processor send an output.
func paCancelTests[U any](t *testing.T, st paStage[U], item Result[int]) {
	t.Run("idle input", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := st(ctx, in)
			synctest.Wait()
			cancel()
			paClosed(t, out)
		})
	})
	t.Run("no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := st(ctx, in)
			in <- item
			synctest.Wait() // blocked sending its output
			cancel()
			paClosed(t, out)
		})
	})
}

// paClosed fails unless out is closed with nothing left in it, once the
// bubble has settled.
func paClosed[U any](t *testing.T, out <-chan Result[U]) {
	t.Helper()
	synctest.Wait()
	select {
	case r, ok := <-out:
		if ok {
			t.Fatalf("want output closed, got %s", describeResult(r))
		}
	default:
		t.Fatalf("output not closed")
	}
}

// paRecv receives from out, failing after a long timeout instead of hanging
// when a broken processor never delivers. The timeout is not used to wait
// for anything that should happen.
func paRecv[U any](t *testing.T, out <-chan U) U {
	t.Helper()
	select {
	case v, ok := <-out:
		require.True(t, ok, "output closed")
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no output after 10s")
	}
	panic("unreachable")
}

// paSettleBetween checks that the clock-less stage mid takes part in the
// settling of a FakeClock when it sits between two clocked processors:
// Throttle(0) -> mid -> Batcher{MaxSize: 100, MaxLatency: d}, all on one
// FakeClock, driven in the plain style (no sleeps, no synctest). The items
// are sent, the clock is advanced by d, and the one batch that comes out
// must hold exactly want: if Advance returned, or fired the Batcher's
// timer, before every item had gone through mid, the batch would be short
// or would not come out. It runs rounds times to catch races.
func paSettleBetween[U any](t *testing.T, rounds int, mid func(ctx context.Context, in <-chan Result[int]) <-chan Result[U], items []int, want []U) {
	t.Helper()
	paSettleRounds(t, rounds, mid, items, func(round int, got []U) {
		require.Equalf(t, want, got, "round %d", round)
	})
}

// paSettleRounds is paSettleBetween with the check of the batch left to
// check.
func paSettleRounds[U any](t *testing.T, rounds int, mid func(ctx context.Context, in <-chan Result[int]) <-chan Result[U], items []int, check func(round int, got []U)) {
	t.Helper()
	const d = 10 * time.Millisecond
	for round := range rounds {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in := make(chan Result[int])
		throttled := NewThrottle[int](0, clk).Process(ctx, in)
		out := NewBatcher[U](BatchConfig{MaxSize: 100, MaxLatency: d}, clk).Process(ctx, mid(ctx, throttled))

		for _, v := range items {
			in <- NewSuccess(v)
		}
		clk.Advance(d)
		got := paRecv(t, out)
		require.Truef(t, got.IsSuccess(), "round %d: %s", round, describeResult(got))
		check(round, got.Value())
		select {
		case r := <-out:
			t.Fatalf("round %d: a second output %s", round, describeResult(r))
		default:
		}
		close(in)
		for range out {
		}
		cancel()
	}
}

// paRecoverWith is a user function's panic value that is an error, for
// errors.As.
type paRecoverWith struct{ code int }

func (e *paRecoverWith) Error() string { return fmt.Sprintf("code %d", e.code) }

// paCheckPanicErr checks the error Result made from a user function's panic:
// it names the processor, says what panicked and with what value, and lets
// errors.As reach the value when it is an error.
func paCheckPanicErr[T any](t *testing.T, r Result[T], processor, function string) {
	t.Helper()
	require.True(t, r.IsError(), "want an error, got %s", describeResult(r))
	se := r.Error()
	assert.Equal(t, processor, se.ProcessorName)
	assert.Contains(t, se.Error(), function+" panicked: ")
	var pe *paRecoverWith
	if strings.Contains(se.Error(), "code 7") {
		require.True(t, errors.As(se, &pe), "errors.As does not reach the panic value")
		assert.Equal(t, 7, pe.code)
	}
}

// ---------------------------------------------------------------------------
// Mapper

func TestMapperNameAndWithName(t *testing.T) {
	m := NewMapper(func(_ context.Context, v int) (int, error) { return v, nil })
	assert.Equal(t, "mapper", m.Name())
	assert.Same(t, m, m.WithName("double"))
	assert.Equal(t, "double", m.Name())
	assert.Same(t, m, m.WithName(""))
	assert.Equal(t, "", m.Name())
}

func TestMapperNilFnPanicsAtConstruction(t *testing.T) {
	msg := panicMessage(t, func() { NewMapper[int, int](nil) })
	assert.Equal(t, "streamz: NewMapper: fn must not be nil", msg)
}

// One output per input, in order, with fn called one item at a time with
// the ctx given to Process, on an unbuffered output.
func TestMapperMapsInOrderOneAtATime(t *testing.T) {
	type paKey struct{}
	ctx := context.WithValue(t.Context(), paKey{}, "mine")
	var active, maxActive atomic.Int32
	m := NewMapper(func(ctx context.Context, v int) (string, error) {
		n := active.Add(1)
		defer active.Add(-1)
		if n > maxActive.Load() {
			maxActive.Store(n)
		}
		if ctx.Value(paKey{}) != "mine" {
			return "", errors.New("not the Process ctx")
		}
		return fmt.Sprint(v * 2), nil
	})
	var want []string
	var items []int
	for i := range 200 {
		items = append(items, i)
		want = append(want, fmt.Sprint(i*2))
	}
	out := m.Process(ctx, paFeed(paInts(items...)...))
	assert.Equal(t, 0, cap(out))
	assert.Equal(t, want, paValues(t, collectResults(out)))
	assert.EqualValues(t, 1, maxActive.Load())
}

// A success keeps its metadata; an fn error holds fn's value as Item, the
// Mapper's name and the input's metadata.
func TestMapperSuccessAndFnErrorKeepMetadata(t *testing.T) {
	cause := errors.New("odd")
	m := NewMapper(func(_ context.Context, v int) (string, error) {
		if v%2 == 1 {
			return fmt.Sprintf("partial %d", v), cause
		}
		return fmt.Sprint(v), nil
	}).WithName("stringer")
	out := m.Process(t.Context(), paFeed(
		NewSuccess(2).WithMetadata("k", 2),
		NewSuccess(3).WithMetadata("k", 3),
	))
	got := collectResults(out)
	require.Len(t, got, 2)

	assert.Equal(t, "2", got[0].Value())
	v, _ := got[0].GetMetadata("k")
	assert.Equal(t, 2, v)

	require.True(t, got[1].IsError())
	se := got[1].Error()
	assert.Equal(t, "partial 3", se.Item)
	assert.Same(t, cause, se.Err)
	assert.Equal(t, "stringer", se.ProcessorName)
	v, _ = got[1].GetMetadata("k")
	assert.Equal(t, 3, v)
}

// An incoming error skips fn and becomes the retyped wrap: Err is the
// incoming *StreamError itself, Item the zero Out, the Mapper's name, the
// incoming Timestamp and metadata.
func TestMapperRetypesIncomingErrors(t *testing.T) {
	var calls atomic.Int32
	m := NewMapper(func(_ context.Context, v int) (string, error) {
		calls.Add(1)
		return "x", nil
	}).WithName("conv")
	in, cause := paErrIn(5)
	got := collectResults(m.Process(t.Context(), paFeed(in)))
	require.Len(t, got, 1)
	require.True(t, got[0].IsError())
	se := got[0].Error()
	assert.Equal(t, "", se.Item)
	assert.Equal(t, "conv", se.ProcessorName)
	assert.Equal(t, in.Error().Timestamp, se.Timestamp)
	assert.True(t, errors.Is(se, cause))
	var inner *StreamError[int]
	require.True(t, errors.As(se, &inner))
	assert.Same(t, in.Error(), inner)
	assert.Contains(t, se.Error(), "upstream broke")
	v, _ := got[0].GetMetadata("k")
	assert.Equal(t, "v", v)
	assert.Zero(t, calls.Load())
}

func TestMapperPanicBecomesErrorResult(t *testing.T) {
	m := NewMapper(func(_ context.Context, v int) (int, error) {
		switch v {
		case 1:
			panic("boom")
		case 2:
			panic(&paRecoverWith{code: 7})
		}
		return v * 10, nil
	})
	got := collectResults(m.Process(t.Context(), paFeed(
		NewSuccess(1).WithMetadata("k", 1), NewSuccess(2), NewSuccess(3),
	)))
	require.Len(t, got, 3)
	paCheckPanicErr(t, got[0], "mapper", "fn")
	assert.Contains(t, got[0].Error().Error(), "boom")
	assert.Equal(t, 0, got[0].Error().Item)
	v, _ := got[0].GetMetadata("k")
	assert.Equal(t, 1, v)
	paCheckPanicErr(t, got[1], "mapper", "fn")
	assert.Contains(t, got[1].Error().Error(), "code 7")
	requireSuccessValue(t, got[2], 30) // the stream goes on
}

func TestMapperCancel(t *testing.T) {
	m := NewMapper(func(_ context.Context, v int) (int, error) { return v, nil })
	paCancelTests(t, m.Process, NewSuccess(1))
}

// An item sent after cancellation is never given to fn, whichever way the
// Mapper learns of the cancel.
func TestMapperNoFnAfterCancel(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			var calls atomic.Int32
			m := NewMapper(func(_ context.Context, v int) (int, error) {
				calls.Add(1)
				return v, nil
			})
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int], 1)
			out := m.Process(ctx, in)
			synctest.Wait()
			cancel()
			in <- NewSuccess(1)
			paClosed(t, out)
			assert.Zero(t, calls.Load())
		})
	}
}

// A Mapper can serve many streams at once.
func TestMapperProcessCallsAreIndependent(t *testing.T) {
	m := NewMapper(func(_ context.Context, v int) (int, error) { return v + 1, nil })
	a := m.Process(t.Context(), paFeed(paInts(1, 2, 3)...))
	b := m.Process(t.Context(), paFeed(paInts(10, 20)...))
	assert.Equal(t, []int{11, 21}, paValues(t, collectResults(b)))
	assert.Equal(t, []int{2, 3, 4}, paValues(t, collectResults(a)))
}

func TestMapperSettlesBetweenClockedProcessors(t *testing.T) {
	m := NewMapper(func(_ context.Context, v int) (int, error) { return v * 10, nil })
	paSettleBetween(t, 200, m.Process, []int{1, 2, 3, 4, 5}, []int{10, 20, 30, 40, 50})
}
