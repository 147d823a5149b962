//go:build go1.25

package streamz

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRealClock_HandsOutRuntimeChannels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The Go 1.23 guarantees on Timer hold only if callers receive
		// from the runtime's own channel, with no relay in between.
		tm := RealClock.NewTimer(time.Hour)
		defer tm.Stop()
		require.NotNil(t, tm.C())
		assert.Equal(t, tm.(realTimer).t.C, tm.C())

		tk := RealClock.NewTicker(time.Hour)
		defer tk.Stop()
		require.NotNil(t, tk.C())
		assert.Equal(t, tk.(realTicker).t.C, tk.C())

		// A runtime timer channel reports a capacity of 0 (Go 1.23); a relay
		// made with make(chan time.Time, 1) would report 1.
		assert.Equal(t, 0, cap(tm.C()))
		assert.Equal(t, 0, cap(RealClock.After(time.Hour)))

		fn := RealClock.AfterFunc(time.Hour, func() {})
		defer fn.Stop()
		assert.Nil(t, fn.C(), "an AfterFunc timer has no channel")
	})
}

func TestRealClock_StopAndResetResults(t *testing.T) {
	// The same cases as TestFakeClock_StopAndResetResults: their expected
	// results are what time.Timer does, checked here.
	for _, tc := range timerCases {
		for _, op := range []string{"Stop", "Reset"} {
			t.Run(op+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					checkTimerCase(t, RealClock, realAdvance, tc, op)
				})
			})
		}
	}
}

func TestRealClock_WithTimeoutEndsWithDeadlineExceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ctx, cancel := RealClock.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		byDeadline, cancel2 := RealClock.WithDeadline(context.Background(), start.Add(3*time.Second))
		defer cancel2()

		deadline, ok := ctx.Deadline()
		assert.True(t, ok)
		assert.Equal(t, 2*time.Second, deadline.Sub(start))

		realAdvance(2*time.Second - time.Nanosecond)
		assert.NoError(t, ctx.Err())
		realAdvance(time.Nanosecond)
		assert.Equal(t, context.DeadlineExceeded, ctx.Err())

		assert.NoError(t, byDeadline.Err())
		realAdvance(time.Second)
		assert.Equal(t, context.DeadlineExceeded, byDeadline.Err())
	})
}

func TestRealClock_SinceSleepAndAfterInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := RealClock.Now()
		RealClock.Sleep(3 * time.Second)
		assert.Equal(t, 3*time.Second, RealClock.Since(start))

		RealClock.Sleep(0) // return at once: a block would be a bubble deadlock
		RealClock.Sleep(-time.Second)
		assert.Equal(t, 3*time.Second, RealClock.Since(start))

		v := <-RealClock.After(time.Second)
		assert.Equal(t, 4*time.Second, v.Sub(start))
	})
}

func TestRealClock_TickerPanicsOnNonPositivePeriod(t *testing.T) {
	assert.Panics(t, func() { RealClock.NewTicker(0) })
	assert.Panics(t, func() { RealClock.NewTicker(-time.Second) })
}
