//go:build go1.25

package streamz

// Tests of CircuitBreaker's rules one by one, in the plain style. Every
// helper here starts with "cb"; the "rt" helpers are retry_test.go's.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewCircuitBreaker_Panics(t *testing.T) {
	fn := func(context.Context, int) (int, error) { return 0, nil }
	for _, tc := range []struct {
		policy BreakerPolicy
		want   string
	}{
		{BreakerPolicy{ConsecutiveFailures: -1, CoolOff: time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy.ConsecutiveFailures must not be negative, got -1"},
		{BreakerPolicy{Window: -3, CoolOff: time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy.Window must not be negative, got -3"},
		{BreakerPolicy{Window: 3, CoolOff: time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy.FailureRatio must be within (0, 1] when Window is set, got 0"},
		{BreakerPolicy{Window: 3, FailureRatio: 1.5, CoolOff: time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy.FailureRatio must be within (0, 1] when Window is set, got 1.5"},
		{BreakerPolicy{Window: 3, FailureRatio: rtNaN(), CoolOff: time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy.FailureRatio must be within (0, 1] when Window is set, got NaN"},
		{BreakerPolicy{ConsecutiveFailures: 2, FailureRatio: 0.5, CoolOff: time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy.FailureRatio needs a Window, got 0.5 with Window 0"},
		{BreakerPolicy{CoolOff: time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy must set ConsecutiveFailures or Window, got neither"},
		{BreakerPolicy{ConsecutiveFailures: 2}, "streamz: NewCircuitBreaker: BreakerPolicy.CoolOff must be positive, got 0s"},
		{BreakerPolicy{ConsecutiveFailures: 2, CoolOff: -time.Second}, "streamz: NewCircuitBreaker: BreakerPolicy.CoolOff must be positive, got -1s"},
	} {
		assert.PanicsWithValue(t, tc.want, func() { NewCircuitBreaker(fn, tc.policy, nil) })
	}
	assert.PanicsWithValue(t, "streamz: NewCircuitBreaker: fn must not be nil", func() {
		NewCircuitBreaker[int, int](nil, BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Second}, nil)
	})
	assert.PanicsWithValue(t, "streamz: CircuitBreaker.Process: ctx must not be nil", func() {
		//lint:ignore SA1012 the nil ctx is what is tested
		NewCircuitBreaker(fn, BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Second}, nil).Process(nil, make(chan Result[int]))
	})
	NewCircuitBreaker(fn, BreakerPolicy{Window: 1, FailureRatio: 1, CoolOff: 1}, nil)
}

// cbFn returns an fn that fails exactly for the items in failing, records
// its calls, and returns v*10 with an error.
func cbFn(calls *rtCalls, failing ...int) func(context.Context, int) (int, error) {
	return func(_ context.Context, v int) (int, error) {
		calls.add(v)
		for _, f := range failing {
			if f == v {
				return v * 10, errRTBoom
			}
		}
		return v, nil
	}
}

// cbOut renders an output: "v" for a success, "E(v)" for fn's error and
// "open" for a refusal.
func cbOut(t *testing.T, r Result[int]) string {
	t.Helper()
	switch {
	case r.IsSuccess():
		return "ok"
	case errors.Is(r.Err(), ErrCircuitOpen):
		require.Equal(t, 0, r.Error().Item)
		return "open"
	case errors.Is(r.Err(), errRTBoom):
		return "failed"
	}
	t.Fatalf("unexpected output %s", describeResult(r))
	return ""
}

// cbStep returns a step of a test: send v, and require the output to be
// want (as cbOut renders it).
func cbStep(t *testing.T, in chan<- Result[int], out <-chan Result[int]) func(v int, want string) {
	return func(v int, want string) {
		t.Helper()
		in <- NewSuccess(v)
		require.Equal(t, want, cbOut(t, ltNext(t, out)), "item %d", v)
	}
}

// The whole cycle, to the tick: two failures in a row open the breaker;
// while open, items are refused without a call, up to 1ns before the
// cool-off ends; at its end the breaker is half-open (an event at exactly
// that instant); a trial that succeeds closes it; a trial that fails
// reopens it for another cool-off from the trial.
func TestCircuitBreaker_Transitions(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	rec := &obsRecorder{}
	in := make(chan Result[int])
	out := NewCircuitBreaker(cbFn(calls, 1, 2, 6, 7, 8), BreakerPolicy{ConsecutiveFailures: 2, CoolOff: time.Second}, fc).
		WithObserver(rec.observe).Process(t.Context(), in)
	step := cbStep(t, in, out)
	step(1, "failed")
	step(2, "failed") // opens at 0
	step(3, "open")
	fc.Advance(time.Second - 1)
	step(4, "open")
	fc.Advance(1) // half-open at 1s
	step(5, "ok") // the trial closes it
	step(6, "failed")
	step(7, "failed") // opens at 1s
	fc.Advance(time.Second + 500*time.Millisecond)
	step(8, "failed") // a failed trial at 2.5s reopens it until 3.5s
	fc.Advance(time.Second - 1)
	step(9, "open")
	fc.Advance(1)
	step(10, "ok")
	close(in)
	rtClosed(t, out)
	require.Equal(t, []string{"1@0s", "2@0s", "5@1s", "6@1s", "7@1s", "8@2.5s", "10@3.5s"}, calls.all())
	require.Equal(t, []string{
		"emit/failed/1@0s",
		"breaker-open/consecutive/0@0s", "timer-arm//0@0s", "emit/failed/1@0s",
		"emit/refused/1@0s",
		"emit/refused/1@999.999999ms",
		"timer-fire//0@1s", "breaker-half-open//0@1s",
		"breaker-closed//0@1s", "emit/succeeded/1@1s",
		"emit/failed/1@1s",
		"breaker-open/consecutive/0@1s", "timer-arm//0@1s", "emit/failed/1@1s",
		"timer-fire//0@2s", "breaker-half-open//0@2s",
		"breaker-open/trial/0@2.5s", "timer-arm//0@2.5s", "emit/failed/1@2.5s",
		"emit/refused/1@3.499999999s",
		"timer-fire//0@3.5s", "breaker-half-open//0@3.5s",
		"breaker-closed//0@3.5s", "emit/succeeded/1@3.5s",
		"close//0@3.5s",
	}, obsFmtAll(rec.all(), calls.start))
}

// cbSilentClock is a FakeClock whose AfterFunc timers never call their
// function, so that a processor on it never takes a timer's event: what
// falls due can only be applied by an input.
type cbSilentClock struct{ *FakeClock }

func (c cbSilentClock) AfterFunc(d time.Duration, _ func()) Timer { return c.NewTimer(d) }

// The time-first rule: an item that arrives at or after the cool-off's
// end, before the timer's event is taken, is the trial; one 1ns before is
// refused. The clock's timers never fire, so only inputs apply the end.
func TestCircuitBreaker_CoolOffEndAppliedBeforeTheInput(t *testing.T) {
	clk := cbSilentClock{NewFakeClock()}
	calls := newRTCalls(clk)
	rec := &obsRecorder{}
	in := make(chan Result[int])
	out := NewCircuitBreaker(cbFn(calls, 1, 4), BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Second}, clk).
		WithObserver(rec.observe).Process(t.Context(), in)
	step := cbStep(t, in, out)
	step(1, "failed")
	clk.SetTime(clk.Now().Add(time.Second - 1))
	step(2, "open")
	clk.SetTime(clk.Now().Add(1))
	step(3, "ok") // the trial, at exactly the end
	step(4, "failed")
	clk.SetTime(clk.Now().Add(1500 * time.Millisecond))
	step(5, "ok") // the trial, half a second after the end
	close(in)
	rtClosed(t, out)
	require.Equal(t, []string{"1@0s", "3@1s", "4@1s", "5@2.5s"}, calls.all())
	var states []string
	for _, e := range obsFmtAll(rec.all(), calls.start) {
		if strings.HasPrefix(e, "breaker-") {
			states = append(states, e)
		}
	}
	// The half-open state began at the end of the cool-off, whenever the
	// input that applied it came.
	require.Equal(t, []string{
		"breaker-open/consecutive/0@0s", "breaker-half-open//0@1s", "breaker-closed//0@1s",
		"breaker-open/consecutive/0@1s", "breaker-half-open//0@2s", "breaker-closed//0@2.5s",
	}, states)
}

// The ratio rule: over a window of 4 calls, a failure that makes 2 of the
// last 4 opens it, but not before 4 calls; a success never opens it; the
// window slides, forgetting older calls.
func TestCircuitBreaker_FailureRatio(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	rec := &obsRecorder{}
	in := make(chan Result[int])
	// Calls: 1 F, 2 F (2 of 2: too few calls), 3 S, 4 S (2 of 4, but a
	// success), 5 S, 6 F (1 of 4: 1 and 2 have left the window), 7 F (2 of
	// 4: opens).
	out := NewCircuitBreaker(cbFn(calls, 1, 2, 6, 7), BreakerPolicy{Window: 4, FailureRatio: 0.5, CoolOff: time.Second}, fc).
		WithObserver(rec.observe).Process(t.Context(), in)
	for v, want := range []string{1: "failed", 2: "failed", 3: "ok", 4: "ok", 5: "ok", 6: "failed", 7: "failed", 8: "open"} {
		if v == 0 {
			continue
		}
		in <- NewSuccess(v)
		require.Equal(t, want, cbOut(t, ltNext(t, out)), "item %d", v)
	}
	close(in)
	rtClosed(t, out)
	var opens []string
	for _, e := range rec.all() {
		if e.Kind == EventBreakerOpen {
			opens = append(opens, e.Reason)
		}
	}
	require.Equal(t, []string{ReasonRatio}, opens)
}

// A closed breaker starts its counts afresh: failures before it opened do
// not count after the trial closes it.
func TestCircuitBreaker_ClosingClearsTheCounts(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	in := make(chan Result[int])
	out := NewCircuitBreaker(cbFn(calls, 1, 2, 3, 5, 6), BreakerPolicy{ConsecutiveFailures: 3, Window: 4, FailureRatio: 0.75, CoolOff: time.Second}, fc).
		Process(t.Context(), in)
	for _, v := range []int{1, 2, 3} {
		in <- NewSuccess(v)
		ltNext(t, out)
	}
	fc.Advance(time.Second)
	// Trial 4 succeeds; 5 and 6 fail: two in a row and 2 of 3 calls, which
	// opens nothing if the counts were cleared.
	for _, c := range []struct {
		v    int
		want string
	}{{4, "ok"}, {5, "failed"}, {6, "failed"}, {7, "ok"}} {
		in <- NewSuccess(c.v)
		require.Equal(t, c.want, cbOut(t, ltNext(t, out)), "item %d", c.v)
	}
	close(in)
	rtClosed(t, out)
}

// A panic in fn counts as a failure; an error item is not a call and
// counts for nothing, while open too.
func TestCircuitBreaker_PanicsAndErrorItems(t *testing.T) {
	fc := NewFakeClock()
	fn := func(_ context.Context, v int) (int, error) {
		if v == 2 {
			panic("no")
		}
		return v, nil
	}
	cause := errors.New("upstream broke")
	in := make(chan Result[int])
	out := NewCircuitBreaker(fn, BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Second}, fc).Process(t.Context(), in)
	in <- NewError(1, cause, "upstream")
	r := ltNext(t, out)
	require.ErrorIs(t, r.Err(), cause)
	in <- NewSuccess(3)
	require.Equal(t, 3, ltNext(t, out).Value(), "an error item opened the breaker")
	in <- NewSuccess(2)
	r = ltNext(t, out)
	var pe *userPanicError
	require.ErrorAs(t, r.Err(), &pe)
	require.EqualError(t, pe, "fn panicked: no")
	in <- NewError(4, cause, "upstream")
	r = ltNext(t, out)
	require.ErrorIs(t, r.Err(), cause)
	require.NotErrorIs(t, r.Err(), ErrCircuitOpen)
	in <- NewSuccess(5)
	require.ErrorIs(t, ltNext(t, out).Err(), ErrCircuitOpen)
	close(in)
	rtClosed(t, out)
}

// A refused item keeps its metadata and carries the breaker's name.
func TestCircuitBreaker_RefusedResult(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	in := make(chan Result[int], 2)
	in <- NewSuccess(1)
	in <- NewSuccess(2).WithMetadata("k", "v")
	close(in)
	out := NewCircuitBreaker(cbFn(calls, 1), BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Second}, fc).
		WithName("db").Process(t.Context(), in)
	ltNext(t, out)
	r := ltNext(t, out)
	require.ErrorIs(t, r.Err(), ErrCircuitOpen)
	require.Equal(t, "db", r.Error().ProcessorName)
	k, _ := r.GetMetadata("k")
	require.Equal(t, "v", k)
	require.EqualError(t, ErrCircuitOpen, "streamz: circuit breaker is open")
	rtClosed(t, out)
}

// A cancel while open closes the output at once and stops the cool-off's
// timer.
func TestCircuitBreaker_CancelWhileOpen(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	rec := &obsRecorder{}
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan Result[int])
	out := NewCircuitBreaker(cbFn(calls, 1), BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Hour}, fc).
		WithObserver(rec.observe).Process(ctx, in)
	in <- NewSuccess(1)
	ltNext(t, out)
	fc.BlockUntilReady()
	cancel()
	rtClosed(t, out)
	require.False(t, fc.HasWaiters())
	require.Equal(t, []string{"breaker-open/consecutive/0@0s", "timer-arm//0@0s", "emit/failed/1@0s", "cancel//0@0s", "timer-stop//0@0s", "close//0@0s"},
		obsFmtAll(rec.all(), calls.start))
}

// Each Process call has a breaker of its own, closed at first.
func TestCircuitBreaker_EachProcessCallItsOwn(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	cb := NewCircuitBreaker(cbFn(calls, 1), BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Hour}, fc)
	out := cb.Process(t.Context(), rtFeed(1, 2))
	require.Equal(t, "failed", cbOut(t, ltNext(t, out)))
	require.Equal(t, "open", cbOut(t, ltNext(t, out)))
	rtClosed(t, out)
	out = cb.Process(t.Context(), rtFeed(2))
	require.Equal(t, "ok", cbOut(t, ltNext(t, out)))
	rtClosed(t, out)
}

// A refused item was never processed and its error Result cannot hold it:
// it is settled Lost, for its source to deliver it again. An item fn is
// called with is the fn's to carry on, and the breaker settles nothing.
func TestCircuitBreaker_RefusedItemSettledLost(t *testing.T) {
	fc := NewFakeClock()
	var settled rtSettled
	fn := func(_ context.Context, m rtMsg) (rtMsg, error) {
		if m.V == 1 {
			return m, errRTBoom
		}
		return m, nil
	}
	in := make(chan Result[rtMsg], 3)
	for v := 1; v <= 3; v++ {
		in <- NewSuccess(settled.msg(v))
	}
	close(in)
	out := NewCircuitBreaker(fn, BreakerPolicy{ConsecutiveFailures: 1, CoolOff: time.Second}, fc).Process(t.Context(), in)
	r := ltNext(t, out)
	require.Equal(t, 1, r.Error().Item.V)
	for range 2 {
		require.ErrorIs(t, ltNext(t, out).Err(), ErrCircuitOpen)
	}
	rtClosed(t, out)
	require.Equal(t, map[int]Outcome{2: Lost, 3: Lost}, settled.all())
}
