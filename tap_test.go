//go:build go1.25

package streamz

import (
	"bytes"
	"context"
	"errors"
	"log"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paCaptureLog sends the standard logger's output to a buffer until the
// test ends. Tests that use it must not run in parallel.
func paCaptureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	w, flags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	log.SetFlags(0)
	t.Cleanup(func() { log.SetOutput(w); log.SetFlags(flags) })
	return &buf
}

func TestTapNameAndWithName(t *testing.T) {
	tp := NewTap(func(Result[int]) {})
	assert.Equal(t, "tap", tp.Name())
	assert.Same(t, tp, tp.WithName("spy"))
	assert.Equal(t, "spy", tp.Name())
}

func TestTapNilFnPanicsAtConstruction(t *testing.T) {
	msg := panicMessage(t, func() { NewTap[int](nil) })
	assert.Equal(t, "streamz: NewTap: fn must not be nil", msg)
}

// The callback sees every item, errors included, in order, and each is
// forwarded unchanged.
func TestTapSeesEveryItemAndForwardsUnchanged(t *testing.T) {
	var seen []Result[int]
	tp := NewTap(func(r Result[int]) { seen = append(seen, r) })
	errIn, _ := paErrIn(9)
	in := []Result[int]{NewSuccess(1).WithMetadata("a", 1), errIn, NewSuccess(2)}
	out := tp.Process(t.Context(), paFeed(in...))
	assert.Equal(t, 0, cap(out))
	got := collectResults(out)
	assert.Equal(t, in, got)
	assert.Equal(t, in, seen)
	assert.Same(t, errIn.Error(), got[1].Error())
}

// The callback for an item runs before that item is forwarded, and the
// next callback only once the consumer has taken it.
func TestTapCallsBeforeForwarding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		in := make(chan Result[int])
		out := NewTap(func(Result[int]) { calls.Add(1) }).Process(t.Context(), in)
		in <- NewSuccess(1)
		synctest.Wait()
		assert.EqualValues(t, 1, calls.Load()) // called, output not yet taken
		go func() { in <- NewSuccess(2) }()
		synctest.Wait()
		assert.EqualValues(t, 1, calls.Load()) // no look-ahead
		requireSuccessValue(t, <-out, 1)
		synctest.Wait()
		assert.EqualValues(t, 2, calls.Load())
		requireSuccessValue(t, <-out, 2)
		close(in)
		paClosed(t, out)
	})
}

// A panic is logged once and the item becomes an error Result; the stream
// goes on. For an error item, both the panic and the original cause stay
// reachable.
func TestTapPanicBecomesErrorResult(t *testing.T) {
	logs := paCaptureLog(t)
	errIn, cause := paErrIn(9)
	tp := NewTap(func(r Result[int]) {
		if r.IsError() {
			panic(&paRecoverWith{code: 7})
		}
		if r.Value() == 1 {
			panic("boom")
		}
	}).WithName("spy")
	got := collectResults(tp.Process(t.Context(), paFeed(
		NewSuccess(1).WithMetadata("k", 1), errIn, NewSuccess(3),
	)))
	require.Len(t, got, 3)

	paCheckPanicErr(t, got[0], "spy", "callback")
	assert.Contains(t, got[0].Error().Error(), "boom")
	assert.Equal(t, 1, got[0].Error().Item)
	v, _ := got[0].GetMetadata("k")
	assert.Equal(t, 1, v)

	paCheckPanicErr(t, got[1], "spy", "callback")
	assert.Equal(t, 9, got[1].Error().Item)
	assert.True(t, errors.Is(got[1].Error(), cause))
	v, _ = got[1].GetMetadata("k")
	assert.Equal(t, "v", v)

	requireSuccessValue(t, got[2], 3)
	assert.Equal(t, "Tap[spy]: side effect panicked: boom\nTap[spy]: side effect panicked: code 7\n", logs.String())
}

func TestTapCancel(t *testing.T) {
	paCancelTests(t, NewTap(func(Result[int]) {}).Process, NewSuccess(1))
}

func TestTapNoCallbackAfterCancel(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			var calls atomic.Int32
			tp := NewTap(func(Result[int]) { calls.Add(1) })
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int], 1)
			out := tp.Process(ctx, in)
			synctest.Wait()
			cancel()
			in <- NewSuccess(1)
			paClosed(t, out)
			assert.Zero(t, calls.Load())
		})
	}
}

func TestTapSettlesBetweenClockedProcessors(t *testing.T) {
	var mu sync.Mutex
	var seen []int
	tp := NewTap(func(r Result[int]) {
		mu.Lock()
		seen = append(seen, r.Value())
		mu.Unlock()
	})
	paSettleBetween(t, 200, tp.Process, []int{1, 2, 3}, []int{1, 2, 3})
	mu.Lock()
	assert.Len(t, seen, 600)
	mu.Unlock()
}
