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

// The throttle tests run in a synctest bubble with a FakeClock created inside
// it. Throttle arms no timer, so bubbleSend's synctest.Wait is what makes
// sure the processor has read the clock before the test moves it.

func TestThrottleName(t *testing.T) {
	assert.Equal(t, "throttle", NewThrottle[int](time.Second, NewFakeClock()).Name())
}

// An item passes exactly at lastPass + d, not a nanosecond earlier, and
// dropped items do not restart the cooldown.
func TestThrottleCooldownBoundary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewThrottle[int](d, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // first item always passes
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		bubbleSend(t, in, NewSuccess(2)) // same instant: dropped
		bubbleNoResult(t, out)
		clk.Advance(d - time.Nanosecond)
		bubbleSend(t, in, NewSuccess(3)) // lastPass + d - 1ns: dropped
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		bubbleSend(t, in, NewSuccess(4)) // exactly lastPass + d: passes
		requireSuccessValue(t, bubbleRecv(t, out), 4)

		// The cooldown now counts from 4.
		clk.Advance(d - time.Nanosecond)
		bubbleSend(t, in, NewSuccess(5))
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		bubbleSend(t, in, NewSuccess(6))
		requireSuccessValue(t, bubbleRecv(t, out), 6)

		// Long after the cooldown, the next item passes too.
		clk.Advance(10 * d)
		bubbleSend(t, in, NewSuccess(7))
		requireSuccessValue(t, bubbleRecv(t, out), 7)

		close(in)
		bubbleClosed(t, out)
	})
}

// lastPass is read when the item is accepted, before it is sent: a consumer
// slow to take the item does not push the cooldown back.
func TestThrottleCooldownCountsFromAcceptance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewThrottle[int](d, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // accepted at t0; the processor now waits to send it
		clk.Advance(3 * d / 4)           // the consumer is slow
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		clk.Advance(d/4 - time.Nanosecond)
		bubbleSend(t, in, NewSuccess(2)) // t0 + d - 1ns: dropped
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		bubbleSend(t, in, NewSuccess(3)) // t0 + d: passes, though only d/4 after 1 was delivered
		requireSuccessValue(t, bubbleRecv(t, out), 3)

		close(in)
		bubbleClosed(t, out)
	})
}

func TestThrottleNonPositiveDurationPassesEverything(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := NewFakeClock()
				in := make(chan Result[int])
				out := NewThrottle[int](d, clk).Process(t.Context(), in)

				cause := errors.New("e")
				// All at the same instant, and then a nanosecond apart.
				for i := range 5 {
					bubbleSend(t, in, NewSuccess(i))
					requireSuccessValue(t, bubbleRecv(t, out), i)
				}
				bubbleSend(t, in, NewError(99, cause, "up"))
				require.True(t, bubbleRecv(t, out).IsError())
				for i := range 5 {
					clk.Advance(time.Nanosecond)
					bubbleSend(t, in, NewSuccess(10+i))
					requireSuccessValue(t, bubbleRecv(t, out), 10+i)
				}
				close(in)
				bubbleClosed(t, out)
			})
		})
	}
}

// An error passes at once, does not start a cooldown, is not dropped during
// one, and does not end or restart one.
func TestThrottleErrorsPassAndLeaveCooldownAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewThrottle[int](d, clk).Process(t.Context(), in)
		cause := errors.New("upstream failed")

		bubbleSend(t, in, NewError(-1, cause, "upstream"))
		r := bubbleRecv(t, out)
		require.True(t, r.IsError(), "want error, got %s", describeResult(r))
		assert.ErrorIs(t, r.Error(), cause)
		assert.Equal(t, "upstream", r.Error().ProcessorName)
		assert.Equal(t, -1, r.Error().Item)

		bubbleSend(t, in, NewSuccess(1)) // the error started no cooldown
		requireSuccessValue(t, bubbleRecv(t, out), 1)

		clk.Advance(d / 2)
		bubbleSend(t, in, NewError(-2, cause, "upstream")) // during the cooldown: not dropped
		r = bubbleRecv(t, out)
		require.True(t, r.IsError(), "want error, got %s", describeResult(r))
		assert.Equal(t, -2, r.Error().Item)
		bubbleSend(t, in, NewSuccess(2)) // the error did not end the cooldown
		bubbleNoResult(t, out)

		clk.Advance(d/2 - time.Nanosecond)
		bubbleSend(t, in, NewSuccess(3))
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		bubbleSend(t, in, NewSuccess(4)) // the error did not restart the cooldown
		requireSuccessValue(t, bubbleRecv(t, out), 4)

		close(in)
		bubbleClosed(t, out)
	})
}

func TestThrottleCloseInputClosesOutput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewThrottle[int](time.Second, clk).Process(t.Context(), in)
		bubbleSend(t, in, NewSuccess(1))
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		bubbleSend(t, in, NewSuccess(2)) // dropped, and stays dropped
		close(in)
		bubbleClosed(t, out)
	})
}

func TestThrottleCancelClosesOutput(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewThrottle[int](time.Second, NewFakeClock()).Process(ctx, in)
			bubbleNoResult(t, out)
			cancel()
			bubbleClosed(t, out)
		})
	})

	t.Run("consumer stopped reading an item", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewThrottle[int](time.Second, NewFakeClock()).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1)) // the processor waits to send it
			cancel()
			bubbleClosed(t, out)
		})
	})

	t.Run("consumer stopped reading an error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewThrottle[int](time.Second, NewFakeClock()).Process(ctx, in)
			bubbleSend(t, in, NewError(1, errors.New("e"), "up"))
			cancel()
			bubbleClosed(t, out)
		})
	})
}

func TestThrottleNilClockIsRealClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		in := make(chan Result[int])
		out := NewThrottle[int](d, nil).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		time.Sleep(d - time.Nanosecond)
		bubbleSend(t, in, NewSuccess(2))
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		bubbleSend(t, in, NewSuccess(3))
		requireSuccessValue(t, bubbleRecv(t, out), 3)

		close(in)
		bubbleClosed(t, out)
	})
}

// Two Process calls on one Throttle run at the same time, each with its own
// cooldown.
func TestThrottleStateBelongsToProcessCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		th := NewThrottle[string](d, clk)
		in1, in2 := make(chan Result[string]), make(chan Result[string])
		out1 := th.Process(t.Context(), in1)
		out2 := th.Process(t.Context(), in2)

		bubbleSend(t, in1, NewSuccess("a1"))
		requireSuccessValue(t, bubbleRecv(t, out1), "a1")
		bubbleSend(t, in2, NewSuccess("b1")) // stream 2's first item: passes
		requireSuccessValue(t, bubbleRecv(t, out2), "b1")

		clk.Advance(d / 2)
		bubbleSend(t, in1, NewSuccess("a2"))
		bubbleNoResult(t, out1)
		bubbleSend(t, in2, NewSuccess("b2"))
		bubbleNoResult(t, out2)

		clk.Advance(d / 2)
		bubbleSend(t, in2, NewSuccess("b3"))
		requireSuccessValue(t, bubbleRecv(t, out2), "b3")
		bubbleSend(t, in1, NewSuccess("a3")) // b3 did not start a cooldown for stream 1
		requireSuccessValue(t, bubbleRecv(t, out1), "a3")

		// Stream 2 ends while stream 1 goes on.
		close(in2)
		bubbleClosed(t, out2)
		clk.Advance(d)
		bubbleSend(t, in1, NewSuccess("a4"))
		requireSuccessValue(t, bubbleRecv(t, out1), "a4")
		close(in1)
		bubbleClosed(t, out1)
	})
}
