//go:build go1.25

package streamz

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func paEven(v int) bool { return v%2 == 0 }

func TestFilterNameAndWithName(t *testing.T) {
	f := NewFilter(paEven)
	assert.Equal(t, "filter", f.Name())
	assert.Same(t, f, f.WithName("evens"))
	assert.Equal(t, "evens", f.Name())
}

func TestFilterNilPredicatePanicsAtConstruction(t *testing.T) {
	msg := panicMessage(t, func() { NewFilter[int](nil) })
	assert.Equal(t, "streamz: NewFilter: predicate must not be nil", msg)
}

// Kept items come out unchanged (metadata included) and in order; rejected
// ones vanish; the output is unbuffered.
func TestFilterKeepsMatchingInOrderUnchanged(t *testing.T) {
	in := []Result[int]{}
	for i := range 20 {
		in = append(in, NewSuccess(i).WithMetadata("i", i))
	}
	out := NewFilter(paEven).Process(t.Context(), paFeed(in...))
	assert.Equal(t, 0, cap(out))
	got := collectResults(out)
	require.Len(t, got, 10)
	for k, r := range got {
		assert.Equal(t, in[2*k], r) // the very same Result
	}
}

// An error skips the predicate and comes out as a relabelled copy: same
// Item, Err and Timestamp, the Filter's name, and the metadata.
func TestFilterRelabelsErrors(t *testing.T) {
	var calls atomic.Int32
	f := NewFilter(func(int) bool { calls.Add(1); return false }).WithName("gate")
	in, cause := paErrIn(3)
	got := collectResults(f.Process(t.Context(), paFeed(in)))
	require.Len(t, got, 1)
	se := got[0].Error()
	require.NotNil(t, se)
	assert.NotSame(t, in.Error(), se)
	assert.Equal(t, 3, se.Item)
	assert.Same(t, cause, se.Err)
	assert.Equal(t, "gate", se.ProcessorName)
	assert.Equal(t, in.Error().Timestamp, se.Timestamp)
	assert.Contains(t, se.Error(), "gate")
	v, _ := got[0].GetMetadata("k")
	assert.Equal(t, "v", v)
	assert.Equal(t, "upstream", in.Error().ProcessorName, "the input's error was changed")
	assert.Zero(t, calls.Load())
}

func TestFilterPanicBecomesErrorResult(t *testing.T) {
	f := NewFilter(func(v int) bool {
		switch v {
		case 1:
			panic("boom")
		case 2:
			panic(&paRecoverWith{code: 7})
		}
		return true
	})
	got := collectResults(f.Process(t.Context(), paFeed(
		NewSuccess(1).WithMetadata("k", 1), NewSuccess(2), NewSuccess(3),
	)))
	require.Len(t, got, 3)
	paCheckPanicErr(t, got[0], "filter", "predicate")
	assert.Contains(t, got[0].Error().Error(), "boom")
	assert.Equal(t, 1, got[0].Error().Item)
	v, _ := got[0].GetMetadata("k")
	assert.Equal(t, 1, v)
	paCheckPanicErr(t, got[1], "filter", "predicate")
	requireSuccessValue(t, got[2], 3)
}

func TestFilterCancel(t *testing.T) {
	paCancelTests(t, NewFilter(paEven).Process, NewSuccess(2))
}

func TestFilterNoPredicateAfterCancel(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			var calls atomic.Int32
			f := NewFilter(func(int) bool { calls.Add(1); return true })
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int], 1)
			out := f.Process(ctx, in)
			synctest.Wait()
			cancel()
			in <- NewSuccess(1)
			paClosed(t, out)
			assert.Zero(t, calls.Load())
		})
	}
}

// The Filter is busy in the predicate when ctx ends, the item is rejected
// (so nothing is sent, and send never sees the cancel), and the next item is
// already waiting: it is taken, and dropped before the predicate.
func TestFilterNoPredicateForItemWaitingAtCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		entered, release := make(chan struct{}), make(chan struct{})
		f := NewFilter(func(int) bool {
			if calls.Add(1) == 1 {
				close(entered)
				<-release
			}
			return false
		})
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[int], 2)
		in <- NewSuccess(1)
		out := f.Process(ctx, in)
		<-entered
		in <- NewSuccess(2)
		cancel()
		close(release)
		paClosed(t, out)
		assert.Equal(t, int32(1), calls.Load(), "the predicate saw an item taken after cancel")
	})
}

func TestFilterSettlesBetweenClockedProcessors(t *testing.T) {
	paSettleBetween(t, 200, NewFilter(paEven).Process, []int{1, 2, 3, 4, 5, 6}, []int{2, 4, 6})
}
