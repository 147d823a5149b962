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

func TestDebounceName(t *testing.T) {
	assert.Equal(t, "debounce", NewDebounce[int](time.Second, NewFakeClock()).Name())
}

// The pending item goes out exactly at its deadline, not a nanosecond
// earlier, and only once.
func TestDebounceEmitsAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewDebounce[int](d, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		clk.Advance(d - time.Nanosecond)
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		assert.Equal(t, FakeClockStart.Add(d), clk.Now())

		clk.Advance(10 * d)
		bubbleNoResult(t, out)

		// The next item starts its own quiet period.
		bubbleSend(t, in, NewSuccess(2))
		clk.Advance(d - time.Nanosecond)
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), 2)

		close(in)
		bubbleClosed(t, out)
	})
}

// Each item replaces the pending one and moves the deadline to its own
// arrival + d.
func TestDebounceNewItemReplacesPendingAndMovesDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewDebounce[int](d, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // deadline t0 + d
		clk.Advance(d / 2)
		bubbleSend(t, in, NewSuccess(2)) // replaces 1; deadline t0 + 1.5d
		clk.Advance(d / 2)               // 1's old deadline: nothing
		bubbleNoResult(t, out)
		clk.Advance(d/2 - time.Nanosecond)
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), 2)
		bubbleNoResult(t, out)

		close(in)
		bubbleClosed(t, out)
	})
}

// Of a burst, only the last item comes out, at lastItemTime + d. Driven by
// RealClock in a bubble, where time.Since measures exactly.
func TestDebounceBurstEmitsOnlyLast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			d   = time.Second
			gap = 300 * time.Millisecond
		)
		start := time.Now()
		in := make(chan Result[int])
		out := NewDebounce[int](d, RealClock).Process(t.Context(), in)

		for i := 1; i <= 5; i++ {
			if i > 1 {
				time.Sleep(gap)
			}
			bubbleSend(t, in, NewSuccess(i))
			bubbleNoResult(t, out)
		}
		last := time.Since(start) // 4 * gap
		time.Sleep(d - time.Nanosecond)
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), 5)
		assert.Equal(t, last+d, time.Since(start))

		time.Sleep(10 * d)
		bubbleNoResult(t, out)
		close(in)
		bubbleClosed(t, out)
	})
}

// An error goes out at once while an item is pending, and leaves the pending
// item and its deadline unchanged.
func TestDebounceErrorPassesAndLeavesPendingAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		in := make(chan Result[int])
		out := NewDebounce[int](d, clk).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // deadline t0 + d
		clk.Advance(d / 2)
		cause := errors.New("upstream failed")
		bubbleSend(t, in, NewError(-1, cause, "upstream"))
		r := bubbleRecv(t, out)
		require.True(t, r.IsError(), "want the error at once, got %s", describeResult(r))
		assert.ErrorIs(t, r.Error(), cause)
		assert.Equal(t, "upstream", r.Error().ProcessorName)
		assert.Equal(t, -1, r.Error().Item)
		bubbleNoResult(t, out) // the error did not flush the pending item

		clk.Advance(d/2 - time.Nanosecond)
		bubbleNoResult(t, out)
		clk.Advance(time.Nanosecond) // the deadline set by 1, not moved by the error
		requireSuccessValue(t, bubbleRecv(t, out), 1)

		// An error with nothing pending passes too, and leaves nothing behind.
		bubbleSend(t, in, NewError(-2, cause, "upstream"))
		require.True(t, bubbleRecv(t, out).IsError())
		clk.Advance(10 * d)
		bubbleNoResult(t, out)

		close(in)
		bubbleClosed(t, out)
	})
}

// With a clock whose timers never fire, a reached deadline can only be seen
// by reading the clock when the next input arrives: the pending item must go
// out before that input has any effect.
func TestDebounceDueItemGoesOutBeforeNextInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := frozenTimersClock{NewFakeClock()}
		in := make(chan Result[int])
		out := NewDebounce[int](d, clk).Process(t.Context(), in)
		cause := errors.New("e")

		bubbleSend(t, in, NewSuccess(1)) // deadline t0 + d
		clk.Advance(d - time.Nanosecond)
		bubbleSend(t, in, NewError(-1, cause, "up")) // not yet due: only the error
		r := bubbleRecv(t, out)
		require.True(t, r.IsError(), "want only the error, got %s", describeResult(r))
		bubbleNoResult(t, out)

		clk.Advance(time.Nanosecond)     // 1 is due; no timer fires
		bubbleSend(t, in, NewSuccess(2)) // 1 must go out before 2 replaces it
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		bubbleNoResult(t, out)

		clk.Advance(d)                               // 2 is due
		bubbleSend(t, in, NewError(-2, cause, "up")) // 2 goes out before the error
		requireSuccessValue(t, bubbleRecv(t, out), 2)
		r = bubbleRecv(t, out)
		require.True(t, r.IsError(), "want the error after 2, got %s", describeResult(r))
		assert.Equal(t, -2, r.Error().Item)

		close(in)
		bubbleClosed(t, out)
	})
}

// The same rule with a real FakeClock timer: the deadline passes while the
// processor is busy sending an error, so when it next selects, the timer's
// event and the next item are both ready and either may be taken. Repeated
// so that both orders occur.
func TestDebounceDueItemBeforeInputWhenBothReady(t *testing.T) {
	const d = time.Second
	for range 40 {
		synctest.Test(t, func(t *testing.T) {
			ctx := t.Context()
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewDebounce[int](d, clk).Process(ctx, in)

			bubbleSend(t, in, NewSuccess(1))
			bubbleSend(t, in, NewError(0, errors.New("e"), "up")) // processor now blocked sending it
			clk.Advance(d)                                        // the timer's event waits in its buffer
			go func() {
				select {
				case in <- NewSuccess(2):
				case <-ctx.Done():
				}
			}()
			synctest.Wait()
			require.True(t, bubbleRecv(t, out).IsError())
			requireSuccessValue(t, bubbleRecv(t, out), 1)
			bubbleNoResult(t, out)
			clk.Advance(d)
			requireSuccessValue(t, bubbleRecv(t, out), 2)
			close(in)
			bubbleClosed(t, out)
		})
	}
}

func TestDebounceNonPositiveDurationPassesThrough(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := NewFakeClock()
				in := make(chan Result[int])
				out := NewDebounce[int](d, clk).Process(t.Context(), in)
				cause := errors.New("e")

				inputs := []Result[int]{
					NewSuccess(1), NewError(2, cause, "up"), NewSuccess(3), NewSuccess(4),
					NewError(5, cause, "up"), NewError(6, cause, "up"), NewSuccess(7),
				}
				// Each result comes out at once, in order, with no time passing.
				for _, want := range inputs {
					bubbleSend(t, in, want)
					got := bubbleRecv(t, out)
					if want.IsError() {
						require.True(t, got.IsError(), "want %s, got %s", describeResult(want), describeResult(got))
						assert.Same(t, want.Error(), got.Error())
					} else {
						requireSuccessValue(t, got, want.Value())
					}
				}
				assert.False(t, clk.HasWaiters(), "no timer when d <= 0: %s", clk.describeWaiters())
				close(in)
				bubbleClosed(t, out)
			})
		})
	}
}

func TestDebounceCloseFlushesPending(t *testing.T) {
	t.Run("pending item", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewDebounce[int](time.Second, clk).Process(t.Context(), in)

			bubbleSend(t, in, NewSuccess(1))
			bubbleSend(t, in, NewSuccess(2))
			clk.Advance(time.Second / 2)
			close(in)
			// Out at once, before its deadline, then closed.
			requireSuccessValue(t, bubbleRecv(t, out), 2)
			bubbleClosed(t, out)
			assert.Equal(t, FakeClockStart.Add(time.Second/2), clk.Now())
		})
	})

	t.Run("nothing pending", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewDebounce[int](time.Second, clk).Process(t.Context(), in)
			bubbleSend(t, in, NewSuccess(1))
			clk.Advance(time.Second)
			requireSuccessValue(t, bubbleRecv(t, out), 1)
			close(in)
			bubbleClosed(t, out)
		})
	})
}

func TestDebounceCancelClosesWithoutFlushing(t *testing.T) {
	t.Run("pending item, consumer waiting", func(t *testing.T) {
		// A consumer is already waiting on the output when ctx is
		// cancelled; repeated so that a racy flush would be seen.
		for range 20 {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				in := make(chan Result[int])
				out := NewDebounce[int](time.Second, NewFakeClock()).Process(ctx, in)
				bubbleSend(t, in, NewSuccess(1))

				var got []Result[int]
				done := make(chan struct{})
				go func() {
					defer close(done)
					got = collectResults(out)
				}()
				synctest.Wait()
				cancel()
				<-done
				assert.Empty(t, got, "pending item flushed on cancel")
			})
		}
	})

	t.Run("consumer stopped reading a due item", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			clk := NewFakeClock()
			in := make(chan Result[int])
			out := NewDebounce[int](time.Second, clk).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			clk.Advance(time.Second) // processor blocked sending 1
			synctest.Wait()
			cancel()
			bubbleClosed(t, out)
		})
	})

	t.Run("consumer stopped reading an error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewDebounce[int](time.Second, NewFakeClock()).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1))
			bubbleSend(t, in, NewError(2, errors.New("e"), "up")) // blocked sending the error
			cancel()
			bubbleClosed(t, out)
		})
	})

	t.Run("consumer stopped reading, d <= 0", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewDebounce[int](0, NewFakeClock()).Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1)) // blocked sending it
			cancel()
			bubbleClosed(t, out)
		})
	})
}

func TestDebounceNilClockIsRealClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewDebounce[int](d, nil).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		time.Sleep(d - time.Nanosecond)
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		assert.Equal(t, d, time.Since(start))

		close(in)
		bubbleClosed(t, out)
	})
}

// Two Process calls on one Debounce run at the same time, each with its own
// pending item and deadline.
func TestDebounceStateBelongsToProcessCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := NewFakeClock()
		db := NewDebounce[string](d, clk)
		in1, in2 := make(chan Result[string]), make(chan Result[string])
		out1 := db.Process(t.Context(), in1)
		out2 := db.Process(t.Context(), in2)

		bubbleSend(t, in1, NewSuccess("a")) // deadline t0 + d
		clk.Advance(d / 2)
		bubbleSend(t, in2, NewSuccess("b")) // deadline t0 + 1.5d; does not replace a
		clk.Advance(d / 2)
		requireSuccessValue(t, bubbleRecv(t, out1), "a")
		bubbleNoResult(t, out2)
		clk.Advance(d / 2)
		requireSuccessValue(t, bubbleRecv(t, out2), "b")
		bubbleNoResult(t, out1)

		bubbleSend(t, in1, NewSuccess("a2"))
		close(in2) // ending stream 2 flushes nothing of stream 1
		bubbleClosed(t, out2)
		bubbleNoResult(t, out1)
		clk.Advance(d)
		requireSuccessValue(t, bubbleRecv(t, out1), "a2")
		close(in1)
		bubbleClosed(t, out1)
	})
}

// The FakeClock style without a bubble: BlockUntilContext waits until the
// processor has read the clock and armed its timer, and Advance fires it.
func TestDebounceEmitsWithBlockUntil(t *testing.T) {
	const d = time.Second
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // guard only
	defer cancel()
	clk := NewFakeClock()
	in := make(chan Result[int])
	out := NewDebounce[int](d, clk).Process(ctx, in)

	for round := range 3 {
		in <- NewSuccess(round)
		require.NoError(t, clk.BlockUntilContext(ctx, 1))
		clk.Advance(d - time.Nanosecond)
		require.True(t, clk.HasWaiters(), "timer fired before the deadline")
		clk.Advance(time.Nanosecond)
		select {
		case r := <-out:
			requireSuccessValue(t, r, round)
		case <-ctx.Done():
			t.Fatal("no item at the deadline")
		}
	}
	close(in)
	for r := range out {
		t.Errorf("unexpected result after close: %s", describeResult(r))
	}
}
