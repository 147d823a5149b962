//go:build go1.25

package streamz

// Rule tests for the edge options of Throttle and Debounce (issue 11). The
// model tests and marble tables are in edges_model_test.go and
// edges_marble_test.go.

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edgeAt receives the next output and checks its value and the bubble's
// time since start.
func edgeAt(t *testing.T, out <-chan Result[int], start time.Time, want int, at time.Duration) {
	t.Helper()
	r := bubbleRecv(t, out)
	requireSuccessValue(t, r, want)
	require.Equal(t, at, time.Since(start), "item %d came out at the wrong time", want)
}

// edgeCollect reads out in the background, stamping each success with the
// bubble's time since start, and delivers them once out has closed.
func edgeCollect(out <-chan Result[int], start time.Time) <-chan []teOut {
	done := make(chan []teOut, 1)
	go func() {
		var got []teOut
		for r := range out {
			got = append(got, teItem(time.Since(start), r.Value()))
		}
		done <- got
	}()
	return done
}

// ---------------------------------------------------------------------------
// Options: fluent, defaults, panics, read at Process.

func TestEdgeOptionsReturnReceiver(t *testing.T) {
	th := NewThrottle[int](time.Second, nil)
	assert.Same(t, th, th.WithLeading(false))
	assert.Same(t, th, th.WithTrailing(true))
	db := NewDebounce[int](time.Second, nil)
	assert.Same(t, db, db.WithLeading(true))
	assert.Same(t, db, db.WithTrailing(false))
	assert.Same(t, db, db.WithMaxWait(time.Minute))
}

func TestEdgeDefaults(t *testing.T) {
	th := NewThrottle[int](time.Second, nil)
	assert.True(t, th.leading)
	assert.False(t, th.trailing)
	db := NewDebounce[int](time.Second, nil)
	assert.False(t, db.leading)
	assert.True(t, db.trailing)
	assert.Zero(t, db.maxWait)
}

func TestEdgeDebounceNegativeMaxWaitPanics(t *testing.T) {
	db := NewDebounce[int](time.Second, nil)
	assert.PanicsWithValue(t, "streamz: Debounce.WithMaxWait: maxWait must not be negative, got -1ns", func() {
		db.WithMaxWait(-time.Nanosecond)
	})
	assert.PanicsWithValue(t, "streamz: Debounce.WithMaxWait: maxWait must not be negative, got -2s", func() {
		db.WithMaxWait(-2 * time.Second)
	})
	assert.NotPanics(t, func() { db.WithMaxWait(0) })
}

// Both edges off panics in Process, naming the processor, and not in the
// setters: the edges can be switched in either order.
func TestEdgeBothEdgesOffPanicsAtProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := make(chan Result[int])
	defer close(in)

	th := NewThrottle[int](time.Second, nil)
	require.NotPanics(t, func() { th.WithLeading(false) })
	assert.PanicsWithValue(t, "streamz: Throttle.Process: WithLeading(false) and WithTrailing(false) leave no edge to emit on", func() {
		th.Process(ctx, in)
	})
	require.NotPanics(t, func() { th.WithTrailing(true).Process(ctx, in) })
	// Again in the other order, and with d <= 0, where the edges do not
	// matter but the configuration is still wrong.
	require.NotPanics(t, func() { NewThrottle[int](time.Second, nil).WithTrailing(true).WithLeading(false).Process(ctx, in) })
	assert.Panics(t, func() { NewThrottle[int](0, nil).WithLeading(false).Process(ctx, in) })

	db := NewDebounce[int](time.Second, nil)
	require.NotPanics(t, func() { db.WithTrailing(false) })
	assert.PanicsWithValue(t, "streamz: Debounce.Process: WithLeading(false) and WithTrailing(false) leave no edge to emit on", func() {
		db.Process(ctx, in)
	})
	require.NotPanics(t, func() { db.WithLeading(true).Process(ctx, in) })
	require.NotPanics(t, func() { NewDebounce[int](time.Second, nil).WithLeading(true).WithTrailing(false).Process(ctx, in) })
	assert.Panics(t, func() { NewDebounce[int](0, nil).WithTrailing(false).Process(ctx, in) })
}

// The options are copied at Process: setters called while a stream runs
// change nothing for it (and, under -race, do not race with its loop).
func TestEdgeOptionsReadAtProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		th := NewThrottle[int](d, nil).WithTrailing(true)
		db := NewDebounce[int](d, nil).WithLeading(true).WithMaxWait(2 * d)
		thIn, dbIn := make(chan Result[int]), make(chan Result[int])
		thOut := th.Process(t.Context(), thIn)
		dbOut := db.Process(t.Context(), dbIn)
		var wg sync.WaitGroup
		wg.Go(func() { th.WithTrailing(false).WithLeading(false) })
		wg.Go(func() { db.WithLeading(false).WithTrailing(true).WithMaxWait(0) })
		wg.Wait()

		bubbleSend(t, thIn, NewSuccess(1))
		edgeAt(t, thOut, start, 1, 0) // still leading
		bubbleSend(t, thIn, NewSuccess(2))
		time.Sleep(d)
		edgeAt(t, thOut, start, 2, d) // still trailing

		bubbleSend(t, dbIn, NewSuccess(3))
		edgeAt(t, dbOut, start, 3, d) // still leading
		for range 4 {
			bubbleSend(t, dbIn, NewSuccess(4))
			time.Sleep(d / 2)
		}
		edgeAt(t, dbOut, start, 4, 3*d) // still maxWait 2d after 3
		close(thIn)
		close(dbIn)
		bubbleClosed(t, thOut)
		bubbleClosed(t, dbOut)
	})
}

// ---------------------------------------------------------------------------
// Throttle with the trailing edge.

// The last item of a cooldown comes out when it ends, which starts a new
// cooldown: outputs are at least d apart, and a cooldown that ends with
// nothing held lets the next item through at once.
func TestEdgeThrottleTrailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewThrottle[int](d, RealClock).WithTrailing(true).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		edgeAt(t, out, start, 1, 0) // leading
		time.Sleep(d / 4)
		bubbleSend(t, in, NewSuccess(2))
		time.Sleep(d / 4)
		bubbleSend(t, in, NewSuccess(3)) // replaces 2
		time.Sleep(d/2 - time.Nanosecond)
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		edgeAt(t, out, start, 3, d) // at the cooldown's end

		// That emission started a cooldown [d, 2d): 4 waits for its end,
		// not for 4's arrival + d.
		time.Sleep(d / 2)
		bubbleSend(t, in, NewSuccess(4))
		time.Sleep(d/2 - time.Nanosecond)
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		edgeAt(t, out, start, 4, 2*d)

		// The cooldown [2d, 3d) ends with nothing held: the next item after
		// it passes at once.
		time.Sleep(3 * d / 2)
		bubbleSend(t, in, NewSuccess(5))
		edgeAt(t, out, start, 5, 7*d/2)
		close(in)
		bubbleClosed(t, out)
	})
}

// A lone item comes out once with both edges on, and arms no timer.
func TestEdgeThrottleLoneItemOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		fc := newTEClock(false)
		in := make(chan Result[int])
		out := NewThrottle[int](d, fc).WithTrailing(true).Process(t.Context(), in)
		for v := range 3 {
			bubbleSend(t, in, NewSuccess(v))
			requireSuccessValue(t, bubbleRecv(t, out), v)
			fc.Advance(d)
			bubbleNoResult(t, out)
			fc.Advance(3 * d)
			bubbleNoResult(t, out)
		}
		assert.Equal(t, teCounts{}, fc.counts(), "a timer was armed with nothing held")
		close(in)
		bubbleClosed(t, out)
	})
}

// The audit pattern: the first item starts the window without passing;
// only the window's last item comes out, at its end.
func TestEdgeThrottleAudit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewThrottle[int](d, nil).WithLeading(false).WithTrailing(true).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		bubbleNoResult(t, out)
		time.Sleep(d / 2)
		bubbleSend(t, in, NewSuccess(2))
		time.Sleep(d/2 - time.Nanosecond)
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		edgeAt(t, out, start, 2, d)

		// Much later, a new window starts with the next item.
		time.Sleep(5 * d)
		bubbleSend(t, in, NewSuccess(3))
		bubbleNoResult(t, out)
		time.Sleep(d)
		edgeAt(t, out, start, 3, 7*d)
		close(in)
		bubbleClosed(t, out)
	})
}

// A timer is armed only while an item is held, and disarmed once it is out.
func TestEdgeThrottleTimerOnlyWhileHolding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		fc := NewFakeClock()
		in := make(chan Result[int])
		out := NewThrottle[int](d, fc).WithTrailing(true).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		assert.False(t, fc.HasWaiters(), "armed with nothing held")
		bubbleSend(t, in, NewError(0, errors.New("e"), "up")) // errors hold nothing
		require.True(t, bubbleRecv(t, out).IsError())
		assert.False(t, fc.HasWaiters(), "armed for an error")
		bubbleSend(t, in, NewSuccess(2))
		assert.True(t, fc.HasWaiters(), "not armed with an item held")
		fc.Advance(d)
		requireSuccessValue(t, bubbleRecv(t, out), 2)
		synctest.Wait()
		assert.False(t, fc.HasWaiters(), "still armed after the held item went out")
		close(in)
		bubbleClosed(t, out)
	})
}

// Errors pass at once during a cooldown and are never held.
func TestEdgeThrottleTrailingErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewThrottle[int](d, nil).WithTrailing(true).Process(t.Context(), in)
		bubbleSend(t, in, NewSuccess(1))
		edgeAt(t, out, start, 1, 0)
		bubbleSend(t, in, NewSuccess(2))
		bubbleSend(t, in, NewError(3, errors.New("e"), "up"))
		r := bubbleRecv(t, out)
		require.True(t, r.IsError())
		assert.Equal(t, 3, r.Error().Item)
		time.Sleep(d)
		edgeAt(t, out, start, 2, d) // the error did not replace 2
		close(in)
		bubbleClosed(t, out)
	})
}

// Close emits the held item at once; cancel drops it.
func TestEdgeThrottleCloseAndCancel(t *testing.T) {
	for _, leading := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			in := make(chan Result[int])
			out := NewThrottle[int](time.Second, nil).WithLeading(leading).WithTrailing(true).Process(t.Context(), in)
			bubbleSend(t, in, NewSuccess(1))
			if leading {
				edgeAt(t, out, start, 1, 0)
			}
			bubbleSend(t, in, NewSuccess(2))
			time.Sleep(time.Second / 4)
			close(in)
			edgeAt(t, out, start, 2, time.Second/4)
			bubbleClosed(t, out)
		})
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			out := NewThrottle[int](time.Second, nil).WithLeading(leading).WithTrailing(true).Process(ctx, in)
			done := teDrain(out)
			in <- NewSuccess(1)
			in <- NewSuccess(2)
			synctest.Wait()
			cancel()
			got := <-done
			if leading {
				assert.Equal(t, []string{"1"}, got, "the held item was not dropped")
			} else {
				assert.Empty(t, got, "the held item was not dropped")
			}
		})
	}
}

// The time-first rule with a clock whose timers never fire: the end of a
// cooldown is applied, emitting the held item and starting the next
// cooldown at that end, before an input that arrives after it.
func TestEdgeThrottleTimeFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := frozenTimersClock{NewFakeClock()}
		in := make(chan Result[int])
		out := NewThrottle[int](d, clk).WithTrailing(true).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1))
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		bubbleSend(t, in, NewSuccess(2)) // held until d
		clk.Advance(3 * d / 2)
		bubbleSend(t, in, NewSuccess(3)) // 2 goes out first, as of d
		requireSuccessValue(t, bubbleRecv(t, out), 2)
		bubbleNoResult(t, out) // 3 is in the cooldown [d, 2d) that 2 started
		clk.Advance(d / 2)
		bubbleSend(t, in, NewSuccess(4)) // at 2d: 3 goes out, 4 is held
		requireSuccessValue(t, bubbleRecv(t, out), 3)
		bubbleNoResult(t, out)
		clk.Advance(5 * d)
		bubbleSend(t, in, NewError(5, errors.New("e"), "up")) // 4 goes out before the error
		requireSuccessValue(t, bubbleRecv(t, out), 4)
		require.True(t, bubbleRecv(t, out).IsError())
		bubbleSend(t, in, NewSuccess(6)) // every cooldown has ended: leading
		requireSuccessValue(t, bubbleRecv(t, out), 6)
		close(in)
		bubbleClosed(t, out)
	})
}

// ---------------------------------------------------------------------------
// Debounce with a leading edge and maxWait.

func TestEdgeDebounceLeading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewDebounce[int](d, nil).WithLeading(true).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // first of a burst: at once
		edgeAt(t, out, start, 1, 0)
		time.Sleep(d / 2)
		bubbleSend(t, in, NewSuccess(2))
		time.Sleep(d - time.Nanosecond)
		bubbleSend(t, in, NewSuccess(3)) // less than d after 2: same burst
		bubbleNoResult(t, out)
		time.Sleep(d)
		edgeAt(t, out, start, 3, 5*d/2-time.Nanosecond) // the burst's last, at its end

		// A lone item: once.
		time.Sleep(d)
		bubbleSend(t, in, NewSuccess(4))
		edgeAt(t, out, start, 4, 7*d/2-time.Nanosecond)
		time.Sleep(10 * d)
		bubbleNoResult(t, out)
		close(in)
		bubbleClosed(t, out)
	})
}

func TestEdgeDebounceLeadingOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		fc := NewFakeClock()
		in := make(chan Result[int])
		out := NewDebounce[int](d, fc).WithLeading(true).WithTrailing(false).Process(t.Context(), in)
		bubbleSend(t, in, NewSuccess(1))
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		for v := 2; v <= 5; v++ {
			fc.Advance(d / 2)
			bubbleSend(t, in, NewSuccess(v))
			bubbleNoResult(t, out)
		}
		fc.Advance(d / 2)
		assert.False(t, fc.HasWaiters(), "a timer with no trailing edge")
		fc.Advance(d/2 - time.Nanosecond) // 5 arrived d - 1ns ago
		bubbleSend(t, in, NewSuccess(6))
		bubbleNoResult(t, out)
		fc.Advance(d)
		bubbleSend(t, in, NewSuccess(7)) // d after 6: a new burst
		requireSuccessValue(t, bubbleRecv(t, out), 7)
		bubbleSend(t, in, NewSuccess(8))
		close(in) // nothing held for a trailing edge
		bubbleClosed(t, out)
	})
}

// The example: d = 100ms, maxWait = 250ms, items every 60ms from 0
// to 480ms: the item from 240ms at 250ms, the item from 480ms at 500ms.
func TestEdgeDebounceMaxWaitExample(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ms = time.Millisecond
		start := time.Now()
		in := make(chan Result[int])
		out := NewDebounce[int](100*ms, nil).WithMaxWait(250*ms).Process(t.Context(), in)
		done := edgeCollect(out, start)
		for at := time.Duration(0); at <= 480*ms; at += 60 * ms {
			time.Sleep(at - time.Since(start))
			in <- NewSuccess(int(at / ms))
		}
		time.Sleep(time.Second)
		close(in)
		assert.Equal(t, []teOut{teItem(250*ms, 240), teItem(500*ms, 480)}, <-done)
	})
}

// maxWait counts from the later of the previous emission and the burst's
// first item, and an emission it makes does not end the burst.
func TestEdgeDebounceMaxWaitAnchor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewDebounce[int](d, nil).WithLeading(true).WithMaxWait(3*d).Process(t.Context(), in)
		bubbleSend(t, in, NewSuccess(1))
		edgeAt(t, out, start, 1, 0) // leading: the burst starts at 0
		v := 2
		for range 5 { // items every d/2 up to 2.5d
			time.Sleep(d / 2)
			bubbleSend(t, in, NewSuccess(v))
			v++
		}
		time.Sleep(d / 2)
		edgeAt(t, out, start, 6, 3*d) // 3d after the burst's start
		// The burst goes on (7 comes less than d after 6): no leading
		// emission, and the next maxWait counts from the emission at 3d.
		time.Sleep(d / 4)
		for i := range 6 { // items every d/2 from 3.25d up to 5.75d
			if i > 0 {
				time.Sleep(d / 2)
			}
			bubbleSend(t, in, NewSuccess(v))
			bubbleNoResult(t, out)
			v++
		}
		time.Sleep(d/4 - time.Nanosecond)
		bubbleNoResult(t, out)
		time.Sleep(time.Nanosecond)
		edgeAt(t, out, start, 12, 6*d) // 3d after the emission at 3d
		time.Sleep(d / 4)
		bubbleSend(t, in, NewSuccess(13))
		time.Sleep(d)
		edgeAt(t, out, start, 13, 7*d+d/4) // the rest of the burst: d after 13
		close(in)
		bubbleClosed(t, out)
	})
}

// A maxWait shorter than d is raised to d.
func TestEdgeDebounceMaxWaitRaisedToD(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		start := time.Now()
		in := make(chan Result[int])
		out := NewDebounce[int](d, nil).WithMaxWait(d/10).Process(t.Context(), in)
		done := edgeCollect(out, start)
		for v := range 4 { // items every 0.6d
			if v > 0 {
				time.Sleep(6 * d / 10)
			}
			in <- NewSuccess(v)
		}
		time.Sleep(2 * d)
		close(in)
		// 0, 1 (at 0.6d): 1 out at d, not 0 at d/10; 2 (1.2d), 3 (1.8d):
		// 3 out at 2d, maxWait after the emission at d.
		assert.Equal(t, []teOut{teItem(d, 1), teItem(2*d, 3)}, <-done)
	})
}

// With the trailing edge off and maxWait = d, Debounce is a leading-edge
// Throttle, as lodash's throttle is built.
func TestEdgeDebounceLeadingMaxWaitIsThrottle(t *testing.T) {
	base := teSeed(t)
	const d = 100 * time.Millisecond
	for i := range 100 {
		rng := rand.New(rand.NewPCG(base, uint64(i)))
		steps := teGenSchedule(rng, d)
		th := teRun(t, teReal, steps, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewThrottle[int](d, clk).Process(ctx, in)
		}, teObserveItem)
		db := teRun(t, teReal, steps, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](d, clk).WithLeading(true).WithTrailing(false).WithMaxWait(d).Process(ctx, in)
		}, teObserveItem)
		require.Equal(t, th, db, "seed %d, schedule %d: %v", base, i, steps)
	}
}

// Close emits the pending item at once; cancel drops it.
func TestEdgeDebounceCloseAndCancel(t *testing.T) {
	for _, o := range []edgeOpts{{true, true, 0}, {false, true, 3 * time.Second}, {true, true, time.Second}} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			in := make(chan Result[int])
			out := edgeDebounce(time.Second, o, nil).Process(t.Context(), in)
			bubbleSend(t, in, NewSuccess(1))
			if o.leading {
				edgeAt(t, out, start, 1, 0)
			}
			bubbleSend(t, in, NewSuccess(2))
			time.Sleep(time.Second / 4)
			close(in)
			edgeAt(t, out, start, 2, time.Second/4)
			bubbleClosed(t, out)
		})
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			done := teDrain(edgeDebounce(time.Second, o, nil).Process(ctx, in))
			in <- NewSuccess(1)
			in <- NewSuccess(2)
			synctest.Wait()
			cancel()
			got := <-done
			if o.leading {
				assert.Equal(t, []string{"1"}, got, "%v: the pending item was not dropped", o)
			} else {
				assert.Empty(t, got, "%v: the pending item was not dropped", o)
			}
		})
	}
}

// The time-first rule with timers that never fire: a reached deadline,
// the quiet one or maxWait's, is applied before the next input.
func TestEdgeDebounceTimeFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		clk := frozenTimersClock{NewFakeClock()}
		in := make(chan Result[int])
		out := NewDebounce[int](d, clk).WithLeading(true).WithMaxWait(2*d).Process(t.Context(), in)

		bubbleSend(t, in, NewSuccess(1)) // leading
		requireSuccessValue(t, bubbleRecv(t, out), 1)
		clk.Advance(d / 2)
		bubbleSend(t, in, NewSuccess(2))
		clk.Advance(d / 2)
		bubbleSend(t, in, NewSuccess(3))
		clk.Advance(d / 2)
		bubbleSend(t, in, NewSuccess(4))
		clk.Advance(d / 2) // 2d: maxWait's deadline for 4
		bubbleSend(t, in, NewSuccess(5))
		requireSuccessValue(t, bubbleRecv(t, out), 4)
		bubbleNoResult(t, out) // 5 is pending: the burst goes on
		clk.Advance(d)         // 5's quiet deadline
		bubbleSend(t, in, NewError(6, errors.New("e"), "up"))
		requireSuccessValue(t, bubbleRecv(t, out), 5)
		require.True(t, bubbleRecv(t, out).IsError())
		bubbleSend(t, in, NewSuccess(7)) // a new burst: leading
		requireSuccessValue(t, bubbleRecv(t, out), 7)
		close(in)
		bubbleClosed(t, out)
	})
}

// The options do nothing when d <= 0: every item passes straight through.
func TestEdgeNonPositiveDurationPassesEverything(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		synctest.Test(t, func(t *testing.T) {
			fc := NewFakeClock()
			procs := []*Debounce[int]{
				NewDebounce[int](d, fc).WithLeading(true),
				NewDebounce[int](d, fc).WithLeading(true).WithTrailing(false).WithMaxWait(time.Second),
			}
			for _, db := range procs {
				in := make(chan Result[int])
				out := db.Process(t.Context(), in)
				for v := range 3 {
					bubbleSend(t, in, NewSuccess(v))
					requireSuccessValue(t, bubbleRecv(t, out), v)
				}
				close(in)
				bubbleClosed(t, out)
			}
			for _, lead := range []bool{true, false} {
				in := make(chan Result[int])
				out := NewThrottle[int](d, fc).WithLeading(lead).WithTrailing(true).Process(t.Context(), in)
				for v := range 3 {
					bubbleSend(t, in, NewSuccess(v))
					requireSuccessValue(t, bubbleRecv(t, out), v)
				}
				close(in)
				bubbleClosed(t, out)
			}
			assert.False(t, fc.HasWaiters())
		})
	}
}

// ---------------------------------------------------------------------------
// The timer races and cleanup checks of race_test.go, on the options'
// loops: the audit Throttle and a Debounce with maxWait, whose timers arm
// for the first item.

func edgeAuditProc() teTimedProc[int] {
	return teTimedProc[int]{
		d: teProcPeriod,
		start: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewThrottle[int](teProcPeriod, clk).WithLeading(false).WithTrailing(true).Process(ctx, in)
		},
		one: "1", two: "2", both: "2",
	}
}

func edgeMaxWaitProc() teTimedProc[int] {
	return teTimedProc[int]{
		d: teProcPeriod,
		start: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](teProcPeriod, clk).WithMaxWait(2*teProcPeriod).Process(ctx, in)
		},
		one: "1", two: "2", both: "2",
	}
}

func TestEdgeAudit_RaceConditionReproduction(t *testing.T) { teCheckDeadlineRace(t, edgeAuditProc()) }
func TestEdgeMaxWait_RaceConditionReproduction(t *testing.T) {
	teCheckDeadlineRace(t, edgeMaxWaitProc())
}
func TestEdgeMaxWait_TimerGoroutineCleanup(t *testing.T) { teCheckTimerCleanup(t, edgeMaxWaitProc()) }
func TestEdgeAudit_ContextCancellationDuringTimer(t *testing.T) {
	teCheckCancelDuringTimer(t, edgeAuditProc())
}
func TestEdgeMaxWait_ContextCancellationDuringTimer(t *testing.T) {
	teCheckCancelDuringTimer(t, edgeMaxWaitProc())
}
func TestEdgeAudit_MultipleTimerStops(t *testing.T)   { teCheckTimerStops(t, edgeAuditProc()) }
func TestEdgeMaxWait_MultipleTimerStops(t *testing.T) { teCheckTimerStops(t, edgeMaxWaitProc()) }
