//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stDedupe is a user's Stage: it drops a success equal to the success before
// it, and says how many it dropped in a row when a new value comes. Its
// state (last, dropped) is kept across items, per stream.
func stDedupe() *Stage[string, string] {
	return NewStage(func() StageFunc[string, string] {
		last, seen, dropped := "", false, 0
		return func(_ context.Context, r Result[string], emit func(Result[string]) bool) {
			if r.IsError() {
				emit(r)
				return
			}
			v := r.Value()
			if seen && v == last {
				dropped++
				return
			}
			if dropped > 0 && !emit(NewSuccess(fmt.Sprintf("(%d repeated)", dropped))) {
				return
			}
			last, seen, dropped = v, true, 0
			emit(r)
		}
	})
}

func TestStageEmitsAnyNumberWithState(t *testing.T) {
	cause := errors.New("bad")
	got := collectResults(stDedupe().Process(t.Context(), paFeed(
		NewSuccess("a"), NewSuccess("a"), NewSuccess("a"), NewError("x", cause, "up"), NewSuccess("b"), NewSuccess("b"), NewSuccess("c"),
	)))
	require.Len(t, got, 6)
	assert.Equal(t, "a", got[0].Value())
	assert.ErrorIs(t, got[1].Error(), cause, "the StageFunc sees errors too")
	assert.Equal(t, []string{"(2 repeated)", "b", "(1 repeated)", "c"}, paValues(t, got[2:]))
}

// Each Process call gets a StageFunc of its own, so state is per stream.
func TestStageStatePerProcess(t *testing.T) {
	s := stDedupe()
	a := s.Process(t.Context(), paFeed(NewSuccess("x"), NewSuccess("x")))
	b := s.Process(t.Context(), paFeed(NewSuccess("x"), NewSuccess("y")))
	assert.Equal(t, []string{"x", "y"}, paValues(t, collectResults(b)))
	assert.Equal(t, []string{"x"}, paValues(t, collectResults(a)))
}

func TestStageNameAndNil(t *testing.T) {
	s := stDedupe()
	assert.Equal(t, "stage", s.Name())
	assert.Same(t, s, s.WithName("dedupe"))
	assert.Equal(t, "dedupe", s.Name())
	assert.PanicsWithValue(t, "streamz: NewStage: newFunc must not be nil", func() { NewStage[int, int](nil) })
	nilFunc := NewStage(func() StageFunc[int, int] { return nil })
	assert.PanicsWithValue(t, "streamz: Stage.Process: newFunc returned a nil StageFunc", func() {
		nilFunc.Process(t.Context(), paFeed[int]())
	})
}

func TestStagePanicBecomesErrorResult(t *testing.T) {
	s := NewStage(func() StageFunc[int, string] {
		return func(_ context.Context, r Result[int], emit func(Result[string]) bool) {
			v := r.Value()
			emit(NewSuccess(fmt.Sprint("before ", v)))
			switch v {
			case 1:
				panic("boom")
			case 2:
				panic(&paRecoverWith{code: 7})
			}
		}
	}).WithName("mine")
	got := collectResults(s.Process(t.Context(), paFeed(NewSuccess(1).WithMetadata("k", 1), NewSuccess(2), NewSuccess(3))))
	require.Len(t, got, 5)
	assert.Equal(t, "before 1", got[0].Value(), "what was emitted before the panic stays")
	paCheckPanicErr(t, got[1], "mine", "fn")
	assert.Contains(t, got[1].Error().Error(), "boom")
	assert.Equal(t, "", got[1].Error().Item)
	v, _ := got[1].GetMetadata("k")
	assert.Equal(t, 1, v, "the panic error keeps the item's metadata")
	assert.Equal(t, "before 2", got[2].Value())
	paCheckPanicErr(t, got[3], "mine", "fn")
	assert.Equal(t, "before 3", got[4].Value(), "the stream goes on")
}

func TestStageCancel(t *testing.T) {
	s := NewStage(func() StageFunc[int, int] {
		return func(_ context.Context, r Result[int], emit func(Result[int]) bool) { emit(r) }
	})
	paCancelTests(t, s.Process, NewSuccess(1))
}

// emit reports the end of ctx, so that a StageFunc emitting without end
// returns; and no item taken after cancel reaches the StageFunc.
func TestStageEmitFalseAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		returned := make(chan struct{})
		s := NewStage(func() StageFunc[int, int] {
			return func(_ context.Context, r Result[int], emit func(Result[int]) bool) {
				calls.Add(1)
				defer close(returned)
				for emit(r) {
				}
			}
		})
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[int], 2)
		out := s.Process(ctx, in)
		in <- NewSuccess(1)
		assert.Equal(t, 1, paRecv(t, out).Value())
		assert.Equal(t, 1, paRecv(t, out).Value())
		synctest.Wait()
		cancel()
		in <- NewSuccess(2)
		paClosed(t, out)
		<-returned
		assert.Equal(t, int32(1), calls.Load())
	})
}

// TestStageSettlesBetweenDebounceAndBatcher runs a user's Stage between two
// clocked processors in the plain style, 1000 times: send, Advance, expect.
// Each debounced word comes out of the Stage twice; the batch must hold
// both copies when MaxLatency is reached, which only holds if Advance waits
// for the Stage.
func TestStageSettlesBetweenDebounceAndBatcher(t *testing.T) {
	twice := NewStage(func() StageFunc[string, string] {
		return func(_ context.Context, r Result[string], emit func(Result[string]) bool) {
			_ = emit(r) && emit(r.Map(func(s string) string { return s + "!" }))
		}
	})
	for round := range 1000 {
		ctx, cancel := context.WithCancel(t.Context())
		clock := NewFakeClock()
		in := make(chan Result[string])
		debounced := NewDebounce[string](100*time.Millisecond, clock).Process(ctx, in)
		batches := NewBatcher[string](BatchConfig{MaxSize: 10, MaxLatency: time.Second}, clock).
			Process(ctx, twice.Process(ctx, debounced))

		in <- NewSuccess("h")
		in <- NewSuccess("he")
		clock.Advance(100 * time.Millisecond) // "he" starts a batch, due at 1.1s
		in <- NewSuccess("hey")
		clock.Advance(100 * time.Millisecond) // "hey" joins it
		clock.Advance(899 * time.Millisecond)
		select {
		case b := <-batches:
			t.Fatalf("round %d: batch %q before MaxLatency", round, b.Value())
		default:
		}
		clock.Advance(time.Millisecond)
		require.Equalf(t, []string{"he", "he!", "hey", "hey!"}, paRecv(t, batches).Value(), "round %d", round)
		close(in)
		for range batches {
		}
		cancel()
	}
}
