//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tryRecv receives from ch without blocking. The tests use it to look at a
// channel at the moment Advance (or Stop, Reset...) returns, with no waiting:
// anything the clock promised to have delivered by then must already be there.
func tryRecv(ch <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-ch:
		return v, true
	default:
		return time.Time{}, false
	}
}

// isDone reports, without blocking, whether ctx has ended.
func isDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// panicMessage runs f and returns what it panicked with, as a string.
func panicMessage(t *testing.T, f func()) string {
	t.Helper()
	var r any
	func() {
		defer func() { r = recover() }()
		f()
	}()
	require.NotNil(t, r, "expected a panic")
	return fmt.Sprint(r)
}

// moveFuncs are the two ways of moving a FakeClock forward. Both promise the
// same firing semantics, so the firing tests run against each.
var moveFuncs = []struct {
	name string
	move func(fc *FakeClock, d time.Duration)
}{
	{"Advance", func(fc *FakeClock, d time.Duration) { fc.Advance(d) }},
	{"SetTime", func(fc *FakeClock, d time.Duration) { fc.SetTime(fc.Now().Add(d)) }},
}

// fakeAdvance and realAdvance move time inside a synctest bubble and then
// let every goroutine in the bubble run until it blocks, so that receivers
// and AfterFunc goroutines have done their work before the test looks.
func fakeAdvance(fc *FakeClock) func(time.Duration) {
	return func(d time.Duration) {
		fc.Advance(d)
		synctest.Wait()
	}
}

func realAdvance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func TestFakeClock_StartsAtFixedInstant(t *testing.T) {
	// Logs and golden output that print fake times must not depend on when
	// the test runs, so the start is a documented constant.
	assert.Equal(t, time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC), FakeClockStart)
	assert.Equal(t, FakeClockStart, NewFakeClock().Now())

	at := time.Date(2030, time.June, 15, 12, 30, 0, 0, time.FixedZone("X", 3600))
	fc := NewFakeClockAt(at)
	assert.Equal(t, at, fc.Now())
	assert.Equal(t, time.Duration(0), fc.Since(at))
	assert.Equal(t, time.Hour, fc.Since(at.Add(-time.Hour)))

	fc.Advance(90 * time.Second)
	assert.Equal(t, at.Add(90*time.Second), fc.Now())
	assert.Equal(t, 90*time.Second, fc.Since(at))

	fc.Advance(0) // allowed, and a no-op
	assert.Equal(t, at.Add(90*time.Second), fc.Now())

	later := at.Add(time.Hour)
	fc.SetTime(later)
	assert.Equal(t, later, fc.Now())
	fc.SetTime(later) // the current time is not "earlier"
	assert.Equal(t, later, fc.Now())
}

func TestFakeClock_FiresInDeadlineOrderTiesInCreationOrder(t *testing.T) {
	for _, m := range moveFuncs {
		t.Run(m.name, func(t *testing.T) {
			fc := NewFakeClock()
			var order []string
			record := func(name string) func() {
				return func() { order = append(order, name) }
			}
			// Created out of deadline order, with a three-way tie at 1s.
			fc.AfterFunc(3*time.Second, record("3s"))
			fc.AfterFunc(time.Second, record("1s first"))
			fc.AfterFunc(2*time.Second, record("2s"))
			fc.AfterFunc(time.Second, record("1s second"))
			fc.AfterFunc(time.Second, record("1s third"))

			m.move(fc, 5*time.Second)

			assert.Equal(t, []string{"1s first", "1s second", "1s third", "2s", "3s"}, order)
		})
	}
}

func TestFakeClock_TiesInCreationOrderAcrossKinds(t *testing.T) {
	// A timer created before a tied AfterFunc has its value in its channel
	// when the AfterFunc runs; a ticker created after it has not yet ticked.
	fc := NewFakeClock()
	var ticker Ticker
	timer := fc.NewTimer(time.Second)
	var timerReady, tickerReady bool
	fc.AfterFunc(time.Second, func() {
		timerReady = len(timer.C()) == 1
		tickerReady = len(ticker.C()) == 1
	})
	ticker = fc.NewTicker(time.Second)
	defer ticker.Stop()

	fc.Advance(time.Second)

	assert.True(t, timerReady, "the earlier-created timer should fire before the AfterFunc")
	assert.False(t, tickerReady, "the later-created ticker should fire after the AfterFunc")
	_, ok := tryRecv(ticker.C())
	assert.True(t, ok, "the ticker should still fire in the same Advance")
}

func TestFakeClock_NowReadsDeadlineWhileFiring(t *testing.T) {
	fc := NewFakeClock()
	start := fc.Now()
	var seen []time.Duration
	for _, d := range []time.Duration{4 * time.Second, time.Second, 2500 * time.Millisecond} {
		fc.AfterFunc(d, func() { seen = append(seen, fc.Since(start)) })
	}
	timer := fc.NewTimer(1500 * time.Millisecond)

	// One Advance that overshoots every deadline: each callback must still
	// see its own deadline, not the start or the end of the window.
	fc.Advance(10 * time.Second)

	assert.Equal(t, []time.Duration{time.Second, 2500 * time.Millisecond, 4 * time.Second}, seen)
	v, ok := tryRecv(timer.C())
	require.True(t, ok)
	assert.Equal(t, 1500*time.Millisecond, v.Sub(start), "a timer's value is its deadline")
	assert.Equal(t, 10*time.Second, fc.Since(start), "Advance ends at its target")
}

func TestFakeClock_TimersCreatedByCallbacksFireInSameAdvance(t *testing.T) {
	fc := NewFakeClock()
	start := fc.Now()
	var ran []time.Duration
	record := func() { ran = append(ran, fc.Since(start)) }
	var inner Timer
	fc.AfterFunc(time.Second, func() {
		fc.AfterFunc(time.Second, record)   // due at +2s: inside the window
		fc.AfterFunc(2*time.Second, record) // due at +3s: the window's end is inclusive
		fc.AfterFunc(3*time.Second, record) // due at +4s: outside
		inner = fc.NewTimer(500 * time.Millisecond)
	})

	fc.Advance(3 * time.Second)

	assert.Equal(t, []time.Duration{2 * time.Second, 3 * time.Second}, ran)
	v, ok := tryRecv(inner.C())
	require.True(t, ok, "a channel timer created by a callback should fire in the same Advance")
	assert.Equal(t, 1500*time.Millisecond, v.Sub(start))

	fc.Advance(time.Second)
	assert.Equal(t, []time.Duration{2 * time.Second, 3 * time.Second, 4 * time.Second}, ran)
}

func TestFakeClock_CallbackReArmingItselfFiresRepeatedlyInOneAdvance(t *testing.T) {
	fc := NewFakeClock()
	var runs int
	var self Timer
	self = fc.AfterFunc(time.Second, func() {
		runs++
		self.Reset(time.Second)
	})

	fc.Advance(5 * time.Second)

	assert.Equal(t, 5, runs)
	assert.True(t, self.Stop(), "the callback re-armed the timer")
}

func TestFakeClock_AdvanceReturnsAfterEverythingFired(t *testing.T) {
	for _, m := range moveFuncs {
		t.Run(m.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fc := NewFakeClock()
				start := fc.Now()
				timer := fc.NewTimer(time.Second)
				ticker := fc.NewTicker(2 * time.Second)
				defer ticker.Stop()
				after := fc.After(3 * time.Second)
				var finished atomic.Bool
				fc.AfterFunc(4*time.Second, func() {
					fc.Now()
					finished.Store(true) // last thing the callback does
				})

				m.move(fc, 5*time.Second)

				// No waiting of any kind: the values and the callback's effect
				// must be there the moment the call returns.
				_, ok := tryRecv(timer.C())
				assert.True(t, ok, "timer value")
				_, ok = tryRecv(after)
				assert.True(t, ok, "After value")
				v, ok := tryRecv(ticker.C())
				assert.True(t, ok, "ticker value")
				assert.Equal(t, 2*time.Second, v.Sub(start), "the +4s tick was dropped, as the +2s one was waiting")
				_, ok = tryRecv(ticker.C())
				assert.False(t, ok, "at most one tick waits")
				assert.True(t, finished.Load(), "the AfterFunc had not returned")

				// Nothing is left to wait for. (Inside the bubble a hang here
				// would be reported as a deadlock rather than hang the run.)
				fc.BlockUntilReady()
			})
		})
	}
}

func TestFakeClock_BlockUntilReadyWaitsForAfterFuncZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := NewFakeClock()
		release := make(chan struct{})
		var finished atomic.Bool
		// If AfterFunc(0) ran f in the caller's goroutine, this call would
		// block on release and the bubble would report a deadlock.
		fc.AfterFunc(0, func() {
			<-release
			finished.Store(true)
		})

		ready := make(chan struct{})
		go func() {
			fc.BlockUntilReady()
			close(ready)
		}()
		synctest.Wait()
		select {
		case <-ready:
			t.Fatal("BlockUntilReady returned while the AfterFunc(0) callback was running")
		default:
		}

		close(release)
		<-ready
		assert.True(t, finished.Load())
	})
}

// timerCase drives a timer into one of the states that Stop and Reset tell
// apart. It returns the timer and the channel on which its firings show up:
// C() for a channel timer, or a channel the AfterFunc callback sends to.
type timerCase struct {
	name    string
	prepare func(c Clock, advance func(time.Duration)) (Timer, <-chan time.Time)
	// armed is what Stop and Reset report for the prepared timer. The values
	// are the time package's own: clock_test.go runs the same cases against
	// RealClock inside synctest.
	armed bool
}

func newChanTimer(c Clock) (Timer, <-chan time.Time) {
	tm := c.NewTimer(time.Second)
	return tm, tm.C()
}

func newFuncTimer(c Clock) (Timer, <-chan time.Time) {
	calls := make(chan time.Time, 4)
	return c.AfterFunc(time.Second, func() { calls <- c.Now() }), calls
}

var timerCases = []timerCase{
	{"armed", func(c Clock, _ func(time.Duration)) (Timer, <-chan time.Time) {
		return newChanTimer(c)
	}, true},
	{"stopped", func(c Clock, _ func(time.Duration)) (Timer, <-chan time.Time) {
		tm, ch := newChanTimer(c)
		tm.Stop()
		return tm, ch
	}, false},
	{"fired, value not received", func(c Clock, advance func(time.Duration)) (Timer, <-chan time.Time) {
		// Go 1.23: the unreceived value is discarded and counts as stopped.
		tm, ch := newChanTimer(c)
		advance(2 * time.Second)
		return tm, ch
	}, true},
	{"fired, value received", func(c Clock, advance func(time.Duration)) (Timer, <-chan time.Time) {
		tm, ch := newChanTimer(c)
		advance(2 * time.Second)
		<-ch
		return tm, ch
	}, false},
	{"re-armed after Stop", func(c Clock, _ func(time.Duration)) (Timer, <-chan time.Time) {
		tm, ch := newChanTimer(c)
		tm.Stop()
		tm.Reset(time.Second)
		return tm, ch
	}, true},
	{"AfterFunc armed", func(c Clock, _ func(time.Duration)) (Timer, <-chan time.Time) {
		return newFuncTimer(c)
	}, true},
	{"AfterFunc stopped", func(c Clock, _ func(time.Duration)) (Timer, <-chan time.Time) {
		tm, ch := newFuncTimer(c)
		tm.Stop()
		return tm, ch
	}, false},
	{"AfterFunc ran", func(c Clock, advance func(time.Duration)) (Timer, <-chan time.Time) {
		tm, ch := newFuncTimer(c)
		advance(2 * time.Second)
		<-ch
		return tm, ch
	}, false},
}

// checkTimerCase applies op ("Stop" or "Reset") to the prepared timer and
// checks its result, that no value from before the call is received, and
// that the timer then stays quiet (Stop) or fires once, 1s later (Reset).
func checkTimerCase(t *testing.T, c Clock, advance func(time.Duration), tc timerCase, op string) {
	t.Helper()
	tm, fired := tc.prepare(c, advance)
	var got bool
	if op == "Stop" {
		got = tm.Stop()
	} else {
		got = tm.Reset(time.Second)
	}
	assert.Equal(t, tc.armed, got, "%s result", op)
	_, stale := tryRecv(fired)
	assert.False(t, stale, "a value from before %s was received", op)

	opAt := c.Now()
	advance(time.Second)
	v, ok := tryRecv(fired)
	if op == "Stop" {
		assert.False(t, ok, "the timer fired after Stop")
	} else if assert.True(t, ok, "Reset did not re-arm the timer") {
		assert.Equal(t, time.Second, v.Sub(opAt), "fired at the wrong time after Reset")
	}
	tm.Stop()
}

func TestFakeClock_StopAndResetResults(t *testing.T) {
	for _, tc := range timerCases {
		for _, op := range []string{"Stop", "Reset"} {
			t.Run(op+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					fc := NewFakeClock()
					checkTimerCase(t, fc, fakeAdvance(fc), tc, op)
				})
			})
		}
	}
}

func TestFakeClock_StopDiscardsFiredValue(t *testing.T) {
	// The Go 1.23 rule, spelled out on its own: the timer fired inside
	// Advance, nobody received, and after Stop the value is gone.
	fc := NewFakeClock()
	tm := fc.NewTimer(time.Second)
	fc.Advance(time.Second)
	require.Len(t, tm.C(), 1, "precondition: the value is waiting")

	assert.True(t, tm.Stop(), "Stop of a fired, unreceived timer reports true, as in Go 1.23")
	_, ok := tryRecv(tm.C())
	assert.False(t, ok, "stale value received after Stop")
	assert.False(t, tm.Stop(), "a second Stop has nothing to stop")
}

func TestFakeClock_ResetDiscardsFiredValue(t *testing.T) {
	fc := NewFakeClock()
	start := fc.Now()
	tm := fc.NewTimer(time.Second)
	fc.Advance(time.Second)
	require.Len(t, tm.C(), 1, "precondition: the value is waiting")

	assert.True(t, tm.Reset(time.Second))
	_, ok := tryRecv(tm.C())
	assert.False(t, ok, "stale value received after Reset")

	fc.Advance(time.Second)
	v, ok := tryRecv(tm.C())
	require.True(t, ok)
	assert.Equal(t, 2*time.Second, v.Sub(start), "the value is the new deadline")
}

func TestFakeClock_NonPositiveDurationFiresNow(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fc := NewFakeClock()
				fc.Advance(time.Minute) // so that "now" is not the start
				now := fc.Now()

				v, ok := tryRecv(fc.NewTimer(d).C())
				assert.True(t, ok, "NewTimer value not ready on return")
				assert.Equal(t, now, v)

				v, ok = tryRecv(fc.After(d))
				assert.True(t, ok, "After value not ready on return")
				assert.Equal(t, now, v)

				tm := fc.NewTimer(time.Hour)
				assert.True(t, tm.Reset(d))
				v, ok = tryRecv(tm.C())
				assert.True(t, ok, "Reset value not ready on return")
				assert.Equal(t, now, v)

				var ranAt time.Time
				fc.AfterFunc(d, func() { ranAt = fc.Now() })
				fc.BlockUntilReady()
				assert.Equal(t, now, ranAt)

				fc.Sleep(d) // returns at once; a hang would be a bubble deadlock
				assert.False(t, fc.HasWaiters(), "nothing should be left armed")
				assert.Equal(t, now, fc.Now(), "firing now does not move the clock")
			})
		})
	}
}

func TestFakeClock_CallbacksRunWithoutLockAndMayCallClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := NewFakeClock()
		start := fc.Now()
		var (
			self       Timer
			lockHeld   bool
			selfStop   bool
			innerFired time.Duration
			nested     time.Duration
		)
		self = fc.AfterFunc(time.Second, func() {
			// Checked first, so that a regression fails here rather than
			// deadlocking in the calls below.
			if !fc.mu.TryLock() {
				lockHeld = true
				return
			}
			fc.mu.Unlock()

			_ = fc.Now()
			_ = fc.Since(start)
			_ = fc.HasWaiters()
			selfStop = self.Stop()
			inner := fc.NewTimer(time.Second)
			fc.AfterFunc(500*time.Millisecond, func() {
				nested = fc.Since(start)
				if v, ok := tryRecv(inner.C()); ok {
					innerFired = v.Sub(start)
				}
			})
			ticker := fc.NewTicker(time.Second)
			ticker.Stop()
			ctx, cancel := fc.WithTimeout(context.Background(), time.Second)
			cancel()
			<-ctx.Done()
			fc.AfterFunc(0, func() { _ = fc.Now() })
		})

		fc.Advance(time.Second)
		require.False(t, lockHeld, "AfterFunc callback ran with the clock lock held")
		assert.False(t, selfStop, "Stop from inside the timer's own callback: it has already fired")
		assert.Equal(t, time.Duration(0), nested, "nested AfterFunc is not due yet")

		fc.Advance(time.Second)
		assert.Equal(t, 1500*time.Millisecond, nested)
		assert.Equal(t, time.Duration(0), innerFired, "inner timer (due +2s) had not fired at +1.5s")
		fc.BlockUntilReady()
		assert.False(t, fc.HasWaiters())
	})
}

func TestFakeClock_TickerPanicsOnNonPositivePeriod(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			fc := NewFakeClock()
			msg := panicMessage(t, func() { fc.NewTicker(d) })
			assert.Contains(t, msg, "FakeClock.NewTicker")
			assert.Contains(t, msg, d.String())
			assert.False(t, fc.HasWaiters())
			// The time package behaves the same way.
			assert.Panics(t, func() { time.NewTicker(d) })
		})
	}
}

func TestFakeClock_TickerTicksEveryPeriod(t *testing.T) {
	fc := NewFakeClock()
	start := fc.Now()
	tk := fc.NewTicker(time.Second)
	defer tk.Stop()

	var got []time.Duration
	// Uneven steps: the ticker keeps its own phase.
	for _, step := range []time.Duration{time.Second, 1500 * time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond, time.Millisecond} {
		fc.Advance(step)
		if v, ok := tryRecv(tk.C()); ok {
			got = append(got, v.Sub(start))
		}
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}, got)
}

// slowTickerProgram reads a 1s ticker far less often than it ticks. It runs
// on FakeClock and on RealClock in a synctest bubble, and both must agree.
func slowTickerProgram(c Clock, advance func(time.Duration)) []string {
	start := c.Now()
	var (
		mu  sync.Mutex
		log []string
	)
	record := func(when string, ch <-chan time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if v, ok := tryRecv(ch); ok {
			log = append(log, fmt.Sprintf("%s: tick +%v", when, v.Sub(start)))
		} else {
			log = append(log, when+": nothing")
		}
	}
	tk := c.NewTicker(time.Second)

	advance(5500 * time.Millisecond) // five ticks fall due; nobody receives
	record("at +5.5s", tk.C())
	record("again", tk.C())
	advance(500 * time.Millisecond)
	record("at +6s", tk.C())

	// A receiver that drains the channel mid-window makes room for exactly
	// one more tick.
	c.AfterFunc(2500*time.Millisecond, func() { record("func at +8.5s", tk.C()) })
	advance(4500 * time.Millisecond)
	record("at +10.5s", tk.C())

	tk.Stop()
	advance(3 * time.Second)
	record("after Stop", tk.C())
	return log
}

func TestFakeClock_TickerSlowReceiverFindsOneTick(t *testing.T) {
	want := []string{
		"at +5.5s: tick +1s", // the first undelivered tick, not the latest
		"again: nothing",     // the +2s..+5s ticks were dropped
		"at +6s: tick +6s",   // the ticker kept its phase
		"func at +8.5s: tick +7s",
		"at +10.5s: tick +9s", // +8s dropped; +9s filled the drained slot; +10s dropped
		"after Stop: nothing",
	}
	var fake, real []string
	synctest.Test(t, func(t *testing.T) {
		fc := NewFakeClock()
		fake = slowTickerProgram(fc, fakeAdvance(fc))
	})
	synctest.Test(t, func(t *testing.T) {
		real = slowTickerProgram(RealClock, realAdvance)
	})
	assert.Equal(t, want, real, "time.Ticker itself")
	assert.Equal(t, real, fake, "FakeClock ticker differs from time.Ticker")
}

func TestFakeClock_TickerStopDeliversNothing(t *testing.T) {
	fc := NewFakeClock()
	tk := fc.NewTicker(time.Second)
	fc.Advance(time.Second) // a tick is waiting, unreceived

	tk.Stop()
	_, ok := tryRecv(tk.C())
	assert.False(t, ok, "a tick from before Stop was received")
	assert.False(t, fc.HasWaiters())

	fc.Advance(10 * time.Second)
	_, ok = tryRecv(tk.C())
	assert.False(t, ok, "a tick was delivered after Stop")
}

func TestFakeClock_TickerSkipsDroppedTicks(t *testing.T) {
	fc := NewFakeClock()
	start := fc.Now()
	tk := fc.NewTicker(time.Nanosecond)
	defer tk.Stop()
	var drained time.Duration
	fc.AfterFunc(30*time.Minute, func() {
		if v, ok := tryRecv(tk.C()); ok {
			drained = v.Sub(start)
		}
	})

	// An hour holds 3.6e12 ticks: firing them one by one would take hours.
	// The real-time bound only turns such a regression into a failure
	// instead of a hung run; a passing test never waits on it.
	done := make(chan struct{})
	go func() {
		defer close(done)
		fc.Advance(time.Hour)
	}()
	bound := time.NewTimer(time.Minute)
	defer bound.Stop()
	select {
	case <-done:
	case <-bound.C:
		t.Fatal("Advance(1h) with a 1ns ticker did not return: dropped ticks are not skipped")
	}

	// Skipping must not change what is delivered: the callback at +30m
	// finds the first tick, and the slot it frees takes the next one.
	assert.Equal(t, time.Nanosecond, drained)
	v, ok := tryRecv(tk.C())
	require.True(t, ok)
	assert.Equal(t, 30*time.Minute+time.Nanosecond, v.Sub(start))
}

// contextParents are the parents the WithDeadline tests derive from: a
// parent that can never be cancelled, and one that can (such as t.Context()).
var contextParents = []struct {
	name string
	make func() (context.Context, context.CancelFunc)
}{
	{"Background", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }},
	{"cancellable", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
}

func TestFakeClock_WithDeadlineEndsAtFakeDeadline(t *testing.T) {
	constructors := []struct {
		name string
		make func(fc *FakeClock, parent context.Context) (context.Context, context.CancelFunc)
	}{
		{"WithTimeout", func(fc *FakeClock, parent context.Context) (context.Context, context.CancelFunc) {
			return fc.WithTimeout(parent, 2*time.Second)
		}},
		{"WithDeadline", func(fc *FakeClock, parent context.Context) (context.Context, context.CancelFunc) {
			return fc.WithDeadline(parent, fc.Now().Add(2*time.Second))
		}},
	}
	for _, p := range contextParents {
		for _, k := range constructors {
			t.Run(p.name+"/"+k.name, func(t *testing.T) {
				fc := NewFakeClock()
				parent, cancelParent := p.make()
				defer cancelParent()
				ctx, cancel := k.make(fc, parent)
				defer cancel()
				derived, cancelDerived := context.WithCancel(ctx)
				defer cancelDerived()

				deadline, ok := ctx.Deadline()
				assert.True(t, ok)
				assert.Equal(t, FakeClockStart.Add(2*time.Second), deadline)
				assert.True(t, fc.HasWaiters())

				fc.Advance(2*time.Second - time.Nanosecond)
				assert.False(t, isDone(ctx))
				assert.NoError(t, ctx.Err())

				fc.Advance(time.Nanosecond)
				require.True(t, isDone(ctx), "Done not closed when Advance returned")
				assert.Equal(t, context.DeadlineExceeded, ctx.Err())
				assert.Equal(t, context.DeadlineExceeded, context.Cause(ctx))
				assert.False(t, fc.HasWaiters())

				// The derived context learns of the end in a goroutine of
				// the context package; its Done is how to wait for it.
				<-derived.Done()
				assert.Equal(t, context.DeadlineExceeded, derived.Err())
				assert.Equal(t, context.DeadlineExceeded, context.Cause(derived))
			})
		}
	}
}

// causeProgram ends a deadline context (by its deadline, or by its
// CancelFunc) and only then cancels the parent with a cause of its own.
// Once a context has ended, its Err and Cause must not change.
func causeProgram(c Clock, advance func(time.Duration), useCancelFunc bool) []string {
	parent, cancelParent := context.WithCancelCause(context.Background())
	ctx, cancel := c.WithTimeout(parent, time.Second)
	defer cancel()
	if useCancelFunc {
		cancel()
	} else {
		advance(time.Second)
	}
	<-ctx.Done()
	log := []string{fmt.Sprintf("ended: Err=%v Cause=%v", ctx.Err(), context.Cause(ctx))}
	cancelParent(errors.New("parent cancelled afterwards"))
	advance(time.Second)
	return append(log, fmt.Sprintf("after parent: Err=%v Cause=%v", ctx.Err(), context.Cause(ctx)))
}

func TestFakeClock_WithDeadlineCauseIsStable(t *testing.T) {
	for _, useCancelFunc := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancelFunc=%v", useCancelFunc), func(t *testing.T) {
			var fake, real []string
			synctest.Test(t, func(t *testing.T) {
				real = causeProgram(RealClock, realAdvance, useCancelFunc)
			})
			synctest.Test(t, func(t *testing.T) {
				fc := NewFakeClock()
				fake = causeProgram(fc, fakeAdvance(fc), useCancelFunc)
			})
			assert.Equal(t, real, fake, "FakeClock context differs from context.WithTimeout")
		})
	}
}

// advanceOnErrContext is a parent context whose first Err call advances the
// fake clock by step. WithDeadline calls Err while it sets up, so this is a
// deterministic stand-in for another goroutine calling Advance at that moment.
type advanceOnErrContext struct {
	context.Context
	fc   *FakeClock
	step time.Duration
	once sync.Once
}

func (c *advanceOnErrContext) Err() error {
	c.once.Do(func() { c.fc.Advance(c.step) })
	return c.Context.Err()
}

func TestFakeClock_WithDeadlineEndsAtDeadlineDespiteConcurrentAdvance(t *testing.T) {
	fc := NewFakeClock()
	parent := &advanceOnErrContext{Context: context.Background(), fc: fc, step: time.Second}
	deadline := FakeClockStart.Add(2 * time.Second)
	ctx, cancel := fc.WithDeadline(parent, deadline)
	defer cancel()
	require.Equal(t, time.Second, fc.Since(FakeClockStart), "precondition: the clock moved during WithDeadline")

	got, _ := ctx.Deadline()
	assert.Equal(t, deadline, got)
	fc.Advance(time.Second) // now at the deadline the context reports
	assert.True(t, isDone(ctx), "not ended at its own Deadline(); %v", fc.BlockUntilContext(cancelledContext(), 2))
	assert.Equal(t, context.DeadlineExceeded, ctx.Err())
}

func TestFakeClock_WithDeadlineParentDeadlineWins(t *testing.T) {
	fc := NewFakeClock()
	parent, cancelParent := fc.WithTimeout(context.Background(), time.Second)
	defer cancelParent()
	ctx, cancel := fc.WithTimeout(parent, 5*time.Second)
	defer cancel()

	deadline, _ := ctx.Deadline()
	assert.Equal(t, FakeClockStart.Add(time.Second), deadline)
	assert.NoError(t, fc.BlockUntilContext(cancelledContext(), 1))
	assert.Error(t, fc.BlockUntilContext(cancelledContext(), 2), "the child should arm no timer of its own")

	fc.Advance(time.Second)
	<-ctx.Done()
	assert.Equal(t, context.DeadlineExceeded, ctx.Err())
	assert.False(t, fc.HasWaiters())
}

func TestFakeClock_WithDeadlineParentAlreadyCancelled(t *testing.T) {
	fc := NewFakeClock()
	parent, cancelParent := context.WithCancel(context.Background())
	cancelParent()
	ctx, cancel := fc.WithTimeout(parent, time.Second)
	defer cancel()

	assert.True(t, isDone(ctx), "should be done before WithTimeout returns")
	assert.Equal(t, context.Canceled, ctx.Err())
	assert.False(t, fc.HasWaiters())
}

func TestFakeClock_WithDeadlineParentCancelledLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := NewFakeClock()
		cause := errors.New("parent went away")
		parent, cancelParent := context.WithCancelCause(context.Background())
		ctx, cancel := fc.WithTimeout(parent, 5*time.Second)
		defer cancel()
		require.True(t, fc.HasWaiters())

		cancelParent(cause)
		<-ctx.Done()
		assert.Equal(t, context.Canceled, ctx.Err(), "the parent's error wins")
		assert.Equal(t, cause, context.Cause(ctx))

		synctest.Wait() // the release runs in the context package's goroutine
		assert.False(t, fc.HasWaiters(), "the fake timer was not released")

		fc.Advance(5 * time.Second)
		assert.Equal(t, context.Canceled, ctx.Err(), "the deadline must not overwrite the error")
	})
}

func TestFakeClock_WithDeadlineCancelFunc(t *testing.T) {
	fc := NewFakeClock()
	ctx, cancel := fc.WithTimeout(context.Background(), time.Second)
	require.True(t, fc.HasWaiters())

	cancel()
	assert.True(t, isDone(ctx))
	assert.Equal(t, context.Canceled, ctx.Err())
	assert.False(t, fc.HasWaiters(), "CancelFunc should release the fake timer")

	fc.Advance(time.Second)
	assert.Equal(t, context.Canceled, ctx.Err())
	cancel() // a second call is harmless
}

func TestFakeClock_WithDeadlineAlreadyPassed(t *testing.T) {
	cases := []struct {
		name string
		make func(fc *FakeClock) (context.Context, context.CancelFunc)
	}{
		{"deadline now", func(fc *FakeClock) (context.Context, context.CancelFunc) {
			return fc.WithDeadline(context.Background(), fc.Now())
		}},
		{"deadline 1ns ago", func(fc *FakeClock) (context.Context, context.CancelFunc) {
			return fc.WithDeadline(context.Background(), fc.Now().Add(-time.Nanosecond))
		}},
		{"timeout 0", func(fc *FakeClock) (context.Context, context.CancelFunc) {
			return fc.WithTimeout(context.Background(), 0)
		}},
		{"timeout -1h", func(fc *FakeClock) (context.Context, context.CancelFunc) {
			return fc.WithTimeout(context.Background(), -time.Hour)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock()
			ctx, cancel := tc.make(fc)
			defer cancel()
			assert.True(t, isDone(ctx), "should be done before WithDeadline returns")
			assert.Equal(t, context.DeadlineExceeded, ctx.Err())
			assert.False(t, fc.HasWaiters())
		})
	}
}

func TestFakeClock_TimeNeverGoesBackwards(t *testing.T) {
	fc := NewFakeClock()
	fc.Advance(time.Hour)
	now := fc.Now()

	msg := panicMessage(t, func() { fc.SetTime(now.Add(-time.Nanosecond)) })
	assert.Contains(t, msg, "SetTime")
	assert.Contains(t, msg, "before the current fake time")
	assert.Contains(t, msg, "backwards")

	msg = panicMessage(t, func() { fc.Advance(-time.Nanosecond) })
	assert.Contains(t, msg, "Advance")
	assert.Contains(t, msg, "negative")
	assert.Contains(t, msg, "-1ns")

	assert.Equal(t, now, fc.Now(), "a rejected move must not change the time")
}

func TestFakeClock_HasWaiters(t *testing.T) {
	cases := []struct {
		name string
		arm  func(fc *FakeClock) // what is left armed, or not
		want bool
	}{
		{"new clock", func(*FakeClock) {}, false},
		{"armed timer", func(fc *FakeClock) { fc.NewTimer(time.Second) }, true},
		{"fired timer", func(fc *FakeClock) { fc.NewTimer(time.Second); fc.Advance(time.Second) }, false},
		{"stopped timer", func(fc *FakeClock) { fc.NewTimer(time.Second).Stop() }, false},
		{"After", func(fc *FakeClock) { fc.After(time.Second) }, true},
		{"armed AfterFunc", func(fc *FakeClock) { fc.AfterFunc(time.Second, func() {}) }, true},
		{"AfterFunc that ran", func(fc *FakeClock) { fc.AfterFunc(time.Second, func() {}); fc.Advance(time.Second) }, false},
		{"ticker, even after ticking", func(fc *FakeClock) { fc.NewTicker(time.Second); fc.Advance(5 * time.Second) }, true},
		{"stopped ticker", func(fc *FakeClock) { fc.NewTicker(time.Second).Stop() }, false},
		{"WithTimeout", func(fc *FakeClock) { fc.WithTimeout(context.Background(), time.Second) }, true},
		{"cancelled WithTimeout", func(fc *FakeClock) {
			_, cancel := fc.WithTimeout(context.Background(), time.Second)
			cancel()
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock()
			tc.arm(fc)
			assert.Equal(t, tc.want, fc.HasWaiters())
		})
	}
}

// cancelledContext makes BlockUntilContext a non-blocking check: it returns
// nil if the count is already reached, and an error otherwise.
func cancelledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestFakeClock_BlockUntilContextCountsEachKind(t *testing.T) {
	kinds := []struct {
		name string
		// arm is run in its own goroutine, as code under test would; it
		// returns once whatever it armed is released.
		arm func(fc *FakeClock)
	}{
		{"timer", func(fc *FakeClock) { <-fc.NewTimer(time.Second).C() }},
		{"After", func(fc *FakeClock) { <-fc.After(time.Second) }},
		{"AfterFunc", func(fc *FakeClock) {
			done := make(chan struct{})
			fc.AfterFunc(time.Second, func() { close(done) })
			<-done
		}},
		{"ticker", func(fc *FakeClock) {
			tk := fc.NewTicker(time.Second)
			defer tk.Stop()
			<-tk.C()
		}},
		{"Sleep", func(fc *FakeClock) { fc.Sleep(time.Second) }},
		{"WithTimeout", func(fc *FakeClock) {
			ctx, cancel := fc.WithTimeout(context.Background(), time.Second)
			defer cancel()
			<-ctx.Done()
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			// In a bubble, a waiter that is never counted shows up as a
			// deadlock instead of a hung test.
			synctest.Test(t, func(t *testing.T) {
				fc := NewFakeClock()
				done := make(chan struct{})
				go func() {
					defer close(done)
					k.arm(fc)
				}()

				require.NoError(t, fc.BlockUntilContext(context.Background(), 1))
				fc.Advance(time.Second)
				<-done
			})
		})
	}
}

func TestFakeClock_BlockUntilContextWaitsForArming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := NewFakeClock()
		require.NoError(t, fc.BlockUntilContext(context.Background(), 0), "n=0 is reached at once")

		var err error
		returned := make(chan struct{})
		go func() {
			defer close(returned)
			err = fc.BlockUntilContext(context.Background(), 3)
		}()
		stillWaiting := func() bool {
			synctest.Wait()
			select {
			case <-returned:
				return false
			default:
				return true
			}
		}

		require.True(t, stillWaiting(), "returned with 0 waiters")
		timer := fc.NewTimer(time.Second)
		require.True(t, stillWaiting(), "returned with 1 waiter")
		ticker := fc.NewTicker(time.Second)
		require.True(t, stillWaiting(), "returned with 2 waiters")
		fn := fc.AfterFunc(time.Second, func() {})
		require.False(t, stillWaiting(), "did not return with 3 waiters")
		assert.NoError(t, err)

		timer.Stop()
		ticker.Stop()
		fn.Stop()
	})
}

func TestFakeClock_BlockUntilContextReportsPendingWaiters(t *testing.T) {
	ended := []struct {
		name string
		ctx  func() context.Context
		want error
	}{
		{"cancelled", cancelledContext, context.Canceled},
		{"deadline exceeded", func() context.Context {
			ctx, _ := NewFakeClock().WithTimeout(context.Background(), 0)
			return ctx
		}, context.DeadlineExceeded},
	}
	for _, e := range ended {
		t.Run(e.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fc := NewFakeClock()
				err := fc.BlockUntilContext(e.ctx(), 1)
				require.ErrorIs(t, err, e.want)
				assert.Contains(t, err.Error(), "none")

				timer := fc.NewTimer(time.Second)
				ticker := fc.NewTicker(2 * time.Second)
				fn := fc.AfterFunc(3*time.Second, func() {})
				_, cancel := fc.WithTimeout(context.Background(), 4*time.Second)
				slept := make(chan struct{})
				go func() {
					defer close(slept)
					fc.Sleep(5 * time.Second)
				}()
				require.NoError(t, fc.BlockUntilContext(context.Background(), 5))

				err = fc.BlockUntilContext(e.ctx(), 6)
				require.ErrorIs(t, err, e.want)
				msg := err.Error()
				for i, kind := range []string{"timer", "ticker", "AfterFunc", "WithDeadline", "Sleep"} {
					due := FakeClockStart.Add(time.Duration(i+1) * time.Second).Format(time.RFC3339Nano)
					assert.Contains(t, msg, kind+" due "+due, "pending waiters should be listed with their deadlines")
				}
				assert.Contains(t, msg, "6", "the count waited for")

				timer.Stop()
				ticker.Stop()
				fn.Stop()
				cancel()
				fc.Advance(5 * time.Second)
				<-slept
			})
		})
	}
}

func TestFakeClock_InSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := NewFakeClock()
		start := fc.Now()
		var (
			mu  sync.Mutex
			log []string
			wg  sync.WaitGroup
		)
		record := func(event string) {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, fmt.Sprintf("%s at +%v", event, fc.Since(start)))
		}

		wg.Go(func() {
			fc.Sleep(2 * time.Second)
			record("sleeper woke")
		})
		wg.Go(func() {
			<-fc.After(time.Second)
			record("After fired")
		})
		wg.Go(func() {
			tk := fc.NewTicker(400 * time.Millisecond)
			defer tk.Stop()
			for range 3 {
				<-tk.C()
				record("tick")
			}
		})
		wg.Go(func() {
			ctx, cancel := fc.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			<-ctx.Done()
			record("context ended")
		})

		synctest.Wait() // every goroutine is now blocked on the fake clock
		require.NoError(t, fc.BlockUntilContext(cancelledContext(), 4), "all four waiters are armed")

		// Steps small enough that no two events share one, so the log order
		// is fixed.
		for range 20 {
			fc.Advance(100 * time.Millisecond)
			synctest.Wait()
		}
		wg.Wait()

		assert.Equal(t, []string{
			"tick at +400ms",
			"tick at +800ms",
			"After fired at +1s",
			"tick at +1.2s",
			"context ended at +1.5s",
			"sleeper woke at +2s",
		}, log)
		assert.False(t, fc.HasWaiters())
	})
}

// timerProgram is the program of TestFakeClock_DifferentialAgainstRealClock.
// It is written once against Clock and moves time only through advance, so it
// runs unchanged on RealClock in a synctest bubble and on a FakeClock.
//
// Time moves in 100ms steps. After each step every channel is polled without
// blocking, in a fixed order, and then the Stop/Reset scheduled for that
// instant (if any) is applied. No two events, and no event and an action on
// the same timer, share an instant, so the log order is the same for both
// clocks. Ties are left to TestFakeClock_FiresInDeadlineOrderTiesInCreationOrder:
// the runtime starts tied AfterFuncs in goroutines with no defined order.
func timerProgram(c Clock, advance func(time.Duration)) []string {
	var (
		mu     sync.Mutex
		log    []string
		timers = map[string]Timer{}
		polled []string // timers whose channels are polled, in order
	)
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, fmt.Sprintf(format, args...))
	}
	start := c.Now()
	newTimer := func(name string, d time.Duration, poll bool) {
		mu.Lock()
		defer mu.Unlock()
		timers[name] = c.NewTimer(d)
		if poll {
			polled = append(polled, name)
		}
	}
	afterFunc := func(name string, d time.Duration, then func()) Timer {
		return c.AfterFunc(d, func() {
			logf("func %s ran at +%v, Now()=+%v", name, c.Since(start), c.Now().Sub(start))
			then()
		})
	}

	newTimer("A", 1500*time.Millisecond, true) // fires, is received, then Reset
	newTimer("B", 3*time.Second, true)         // Reset while armed
	newTimer("C", 2400*time.Millisecond, true) // left alone
	newTimer("D", 4*time.Second, true)         // stopped while armed
	newTimer("E", 800*time.Millisecond, false) // fires; Reset before anyone receives
	F := afterFunc("F", 2500*time.Millisecond, func() {
		newTimer("I", time.Second, true) // created inside a callback
	})
	G := afterFunc("G", 5*time.Second, func() {}) // stopped before it runs
	H := afterFunc("H", time.Second, func() {})   // Reset after it ran
	ticker := c.NewTicker(700 * time.Millisecond)

	timer := func(name string) Timer {
		mu.Lock()
		defer mu.Unlock()
		return timers[name]
	}
	actions := map[time.Duration]func(){
		1000 * time.Millisecond: func() { logf("Reset(B)=%v", timer("B").Reset(time.Second)) },
		1200 * time.Millisecond: func() {
			logf("Reset(E)=%v", timer("E").Reset(time.Second))
			if _, ok := tryRecv(timer("E").C()); ok {
				logf("stale value from E after Reset")
			}
			mu.Lock()
			polled = append(polled, "E")
			mu.Unlock()
		},
		1700 * time.Millisecond: func() { logf("Reset(A)=%v", timer("A").Reset(2*time.Second)) },
		2100 * time.Millisecond: func() { ticker.Stop(); logf("ticker stopped") },
		2600 * time.Millisecond: func() { logf("Stop(F)=%v", F.Stop()) },
		3000 * time.Millisecond: func() {
			logf("Stop(D)=%v", timer("D").Stop())
			logf("Stop(D)=%v", timer("D").Stop())
		},
		3200 * time.Millisecond: func() { logf("Reset(H)=%v", H.Reset(600*time.Millisecond)) },
		4500 * time.Millisecond: func() { logf("Stop(G)=%v", G.Stop()) },
	}
	poll := func() {
		mu.Lock()
		names := append([]string(nil), polled...)
		mu.Unlock()
		for _, name := range names {
			if v, ok := tryRecv(timer(name).C()); ok {
				logf("timer %s fired at +%v", name, v.Sub(start))
			}
		}
		// Polled after Stop too: a tick then would show up in the log.
		if v, ok := tryRecv(ticker.C()); ok {
			logf("tick at +%v", v.Sub(start))
		}
	}

	const step = 100 * time.Millisecond
	for elapsed := step; elapsed <= 6*time.Second; elapsed += step {
		advance(step)
		poll()
		if act := actions[elapsed]; act != nil {
			act()
		}
	}
	logf("end at +%v", c.Since(start))

	for _, tm := range timers {
		tm.Stop()
	}
	F.Stop()
	G.Stop()
	H.Stop()
	return log
}

func TestFakeClock_DifferentialAgainstRealClock(t *testing.T) {
	var real, fake []string
	synctest.Test(t, func(t *testing.T) {
		real = timerProgram(RealClock, realAdvance)
	})
	synctest.Test(t, func(t *testing.T) {
		fc := NewFakeClock()
		fake = timerProgram(fc, fakeAdvance(fc))
	})

	// What the time package does, for the reader; the check that matters is
	// the next one.
	assert.Equal(t, []string{
		"tick at +700ms",
		"func H ran at +1s, Now()=+1s",
		"Reset(B)=true",
		"Reset(E)=true", // fired but unreceived: Go 1.23 counts it as stopped
		"tick at +1.4s",
		"timer A fired at +1.5s",
		"Reset(A)=false", // fired and received
		"timer B fired at +2s",
		"tick at +2.1s",
		"ticker stopped",
		"timer E fired at +2.2s",
		"timer C fired at +2.4s",
		"func F ran at +2.5s, Now()=+2.5s",
		"Stop(F)=false",
		"Stop(D)=true",
		"Stop(D)=false",
		"Reset(H)=false",
		"timer I fired at +3.5s",
		"timer A fired at +3.7s",
		"func H ran at +3.8s, Now()=+3.8s",
		"Stop(G)=true",
		"end at +6s",
	}, real, "RealClock log")
	assert.Equal(t, real, fake, "FakeClock log differs from RealClock's")
}
