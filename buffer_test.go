//go:build go1.25

package streamz

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBufferName(t *testing.T) {
	assert.Equal(t, "buffer", NewBuffer[int](3).Name())
}

// The output has capacity exactly size, and 0 is allowed.
func TestBufferCapacity(t *testing.T) {
	for _, size := range []int{0, 1, 7} {
		in := make(chan Result[int])
		out := NewBuffer[int](size).Process(t.Context(), in)
		assert.Equal(t, size, cap(out))
		close(in)
		assert.Empty(t, collectResults(out))
	}
}

// A negative size is accepted by NewBuffer and panics at Process, naming
// the value.
func TestBufferNegativeSizePanicsAtProcess(t *testing.T) {
	b := NewBuffer[int](-2)
	msg := panicMessage(t, func() { b.Process(t.Context(), make(chan Result[int])) })
	assert.Equal(t, "streamz: Buffer.Process: size must not be negative, got -2", msg)
}

// Everything passes through unchanged and in order, errors included; the
// producer runs up to size items ahead of the consumer.
func TestBufferPassesThroughAndRunsAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errIn, _ := paErrIn(4)
		in := make(chan Result[int])
		out := NewBuffer[int](3).Process(t.Context(), in)
		want := []Result[int]{NewSuccess(1).WithMetadata("a", 1), NewSuccess(2), NewSuccess(3), errIn, NewSuccess(5)}
		for _, r := range want[:4] { // 3 buffered, 1 held
			bubbleSend(t, in, r)
		}
		select {
		case in <- want[4]:
			t.Fatal("took a fifth item with three buffered and one held")
		default:
		}
		assert.Len(t, out, 3)
		go func() { in <- want[4]; close(in) }()
		got := collectResults(out)
		assert.Equal(t, want, got)
		assert.Same(t, errIn.Error(), got[3].Error())
	})
}

// When in closes, the buffered items stay readable before the close.
func TestBufferCloseKeepsBufferedItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan Result[int])
		out := NewBuffer[int](2).Process(t.Context(), in)
		bubbleSend(t, in, NewSuccess(1))
		bubbleSend(t, in, NewSuccess(2))
		close(in)
		synctest.Wait()
		assert.Equal(t, []int{1, 2}, paValues(t, collectResults(out)))
	})
}

// On cancel with a full buffer, the held item is dropped and exactly the
// size buffered items remain readable.
func TestBufferCancelKeepsBufferedDropsHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[int])
		out := NewBuffer[int](3).Process(ctx, in)
		for i := range 4 {
			bubbleSend(t, in, NewSuccess(i))
		}
		cancel()
		synctest.Wait()
		assert.Equal(t, []int{0, 1, 2}, paValues(t, collectResults(out)))
	})
}

func TestBufferCancel(t *testing.T) {
	paCancelTests(t, NewBuffer[int](0).Process, NewSuccess(1))
	t.Run("idle input, size 2", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewBuffer[int](2).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			cancel()
			synctest.Wait()
			got := collectResults(out)
			require.Len(t, got, 1)
		})
	})
}

func TestBufferSettlesBetweenClockedProcessors(t *testing.T) {
	paSettleBetween(t, 200, NewBuffer[int](2).Process, []int{1, 2, 3, 4, 5}, []int{1, 2, 3, 4, 5})
}
