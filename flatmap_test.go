//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fmWords splits a line into its words; "fail" fails after the words before
// it, "panic" panics.
func fmWords(_ context.Context, line string) ([]string, error) {
	var words []string
	for w := range strings.FieldsSeq(line) {
		switch w {
		case "fail":
			return words, errors.New("fail word")
		case "panic":
			panic(&paRecoverWith{code: 7})
		}
		words = append(words, w)
	}
	return words, nil
}

func TestFlatMapOrderAndMetadata(t *testing.T) {
	f := NewFlatMap(fmWords)
	got := collectResults(f.Process(t.Context(), paFeed(
		NewSuccess("a b").WithMetadata("k", 1), NewSuccess(""), NewSuccess("c d e"),
	)))
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, paValues(t, got), "an empty result emits nothing")
	for _, r := range got[:2] {
		v, _ := r.GetMetadata("k")
		assert.Equal(t, 1, v, "outputs keep the input's metadata")
	}
	assert.False(t, got[2].HasMetadata())
}

func TestFlatMapErrors(t *testing.T) {
	cause := errors.New("upstream broke")
	got := collectResults(NewFlatMap(fmWords).Process(t.Context(), paFeed(
		NewSuccess("x fail y"), NewError("in", cause, "up"), NewSuccess("panic"), NewSuccess("z"),
	)))
	require.Len(t, got, 5)
	assert.Equal(t, "x", got[0].Value(), "values returned with an error come first")
	require.True(t, got[1].IsError())
	assert.Equal(t, "flat-map", got[1].Error().ProcessorName)
	assert.Equal(t, "", got[1].Error().Item)
	assert.EqualError(t, got[1].Error().Err, "fail word")

	require.True(t, got[2].IsError(), "an error item is passed on")
	var inErr *StreamError[string]
	require.ErrorAs(t, got[2].Error().Err, &inErr)
	assert.Equal(t, "in", inErr.Item)
	assert.ErrorIs(t, got[2].Error(), cause)
	assert.Equal(t, "flat-map", got[2].Error().ProcessorName)

	paCheckPanicErr(t, got[3], "flat-map", "fn")
	assert.Equal(t, "z", got[4].Value(), "the stream goes on")
}

// fn may reuse its slice: FlatMap has emitted every element before it calls
// fn again.
func TestFlatMapReusedSlice(t *testing.T) {
	buf := make([]int, 2)
	f := NewFlatMap(func(_ context.Context, v int) ([]int, error) {
		buf[0], buf[1] = v, -v
		return buf, nil
	})
	assert.Equal(t, []int{1, -1, 2, -2}, paValues(t, collectResults(f.Process(t.Context(), paFeed(paInts(1, 2)...)))))
}

func TestFlatMapNameAndNil(t *testing.T) {
	f := NewFlatMap(fmWords)
	assert.Equal(t, "flat-map", f.Name())
	assert.Same(t, f, f.WithName("words"))
	assert.Equal(t, "words", f.Name())
	assert.PanicsWithValue(t, "streamz: NewFlatMap: fn must not be nil", func() {
		NewFlatMap[int, int](nil)
	})
}

func TestFlatMapCancel(t *testing.T) {
	f := NewFlatMap(func(_ context.Context, v int) ([]int, error) { return []int{v, v}, nil })
	paCancelTests(t, f.Process, NewSuccess(1))
}

func TestFlatMapNoFnAfterCancel(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			var calls atomic.Int32
			f := NewFlatMap(func(_ context.Context, v int) ([]int, error) {
				calls.Add(1)
				return []int{v}, nil
			})
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

func TestFlatMapSettlesBetweenClockedProcessors(t *testing.T) {
	f := NewFlatMap(func(_ context.Context, v int) ([]int, error) { return []int{v, v * 10}, nil })
	paSettleBetween(t, 200, f.Process, []int{1, 2, 3}, []int{1, 10, 2, 20, 3, 30})
}
