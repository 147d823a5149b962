//go:build go1.25

package streamz

// Tests of Retry's rules one by one, in the plain style: a settling
// FakeClock and nothing between the steps. Every helper here starts with
// "rt"; circuit_breaker_test.go uses them too.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rtCalls records fn's calls: which item, and when on the clock.
type rtCalls struct {
	clk   Clock
	start time.Time
	mu    sync.Mutex
	calls []string
}

func newRTCalls(clk Clock) *rtCalls { return &rtCalls{clk: clk, start: clk.Now()} }

func (c *rtCalls) add(v int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf("%d@%v", v, c.clk.Since(c.start)))
}

func (c *rtCalls) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// rtFailing returns an fn that fails the first failures[v] calls for item v
// with errBoom, returning v*10 with the error, and then returns v; it
// records every call in calls.
func rtFailing(calls *rtCalls, failures map[int]int) func(context.Context, int) (int, error) {
	n := map[int]int{}
	return func(_ context.Context, v int) (int, error) {
		calls.add(v)
		n[v]++
		if n[v] <= failures[v] {
			return v * 10, errRTBoom
		}
		return v, nil
	}
}

var errRTBoom = errors.New("boom")

// rtClosed waits for the output to close with nothing more on it.
func rtClosed[T any](t *testing.T, out <-chan Result[T]) {
	t.Helper()
	select {
	case r, ok := <-out:
		require.False(t, ok, "want the output closed, got %s", describeResult(r))
	case <-time.After(teSafety):
		t.Fatalf("the output did not close within %v", teSafety)
	}
}

// rtNothing checks that nothing is on offer on out and that it is open.
// After an Advance, which settles, an output due would be on offer.
func rtNothing[T any](t *testing.T, out <-chan Result[T]) {
	t.Helper()
	select {
	case r, ok := <-out:
		if !ok {
			t.Fatal("the output closed")
		}
		t.Fatalf("unexpected output %s", describeResult(r))
	default:
	}
}

// rtRetryCount is r's MetadataRetryCount, nil when absent.
func rtRetryCount[T any](r Result[T]) any {
	n, ok := r.GetMetadata(MetadataRetryCount)
	if !ok {
		return nil
	}
	return n
}

func TestNewRetry_Panics(t *testing.T) {
	fn := func(context.Context, int) (int, error) { return 0, nil }
	for _, tc := range []struct {
		policy RetryPolicy
		want   string
	}{
		{RetryPolicy{}, "streamz: NewRetry: RetryPolicy.Attempts must be at least 1, got 0"},
		{RetryPolicy{Attempts: -2}, "streamz: NewRetry: RetryPolicy.Attempts must be at least 1, got -2"},
		{RetryPolicy{Attempts: 2, Backoff: -1}, "streamz: NewRetry: RetryPolicy.Backoff must not be negative, got -1ns"},
		{RetryPolicy{Attempts: 2, Multiplier: 0.5}, "streamz: NewRetry: RetryPolicy.Multiplier must be 0 or at least 1, and finite, got 0.5"},
		{RetryPolicy{Attempts: 2, Multiplier: -1}, "streamz: NewRetry: RetryPolicy.Multiplier must be 0 or at least 1, and finite, got -1"},
		{RetryPolicy{Attempts: 2, Multiplier: rtInf()}, "streamz: NewRetry: RetryPolicy.Multiplier must be 0 or at least 1, and finite, got +Inf"},
		{RetryPolicy{Attempts: 2, Multiplier: rtNaN()}, "streamz: NewRetry: RetryPolicy.Multiplier must be 0 or at least 1, and finite, got NaN"},
		{RetryPolicy{Attempts: 2, MaxBackoff: -time.Second}, "streamz: NewRetry: RetryPolicy.MaxBackoff must not be negative, got -1s"},
		{RetryPolicy{Attempts: 2, Jitter: 1.5}, "streamz: NewRetry: RetryPolicy.Jitter must be within [0, 1], got 1.5"},
		{RetryPolicy{Attempts: 2, Jitter: -0.1}, "streamz: NewRetry: RetryPolicy.Jitter must be within [0, 1], got -0.1"},
		{RetryPolicy{Attempts: 2, Jitter: rtNaN()}, "streamz: NewRetry: RetryPolicy.Jitter must be within [0, 1], got NaN"},
	} {
		assert.PanicsWithValue(t, tc.want, func() { NewRetry(fn, tc.policy, nil) })
	}
	assert.PanicsWithValue(t, "streamz: NewRetry: fn must not be nil", func() {
		NewRetry[int, int](nil, RetryPolicy{Attempts: 1}, nil)
	})
	assert.PanicsWithValue(t, "streamz: Retry.WithJitterSource: newSource must not be nil", func() {
		NewRetry(fn, RetryPolicy{Attempts: 1}, nil).WithJitterSource(nil)
	})
	assert.PanicsWithValue(t, "streamz: Retry.Process: ctx must not be nil", func() {
		//lint:ignore SA1012 the nil ctx is what is tested
		NewRetry(fn, RetryPolicy{Attempts: 1}, nil).Process(nil, make(chan Result[int]))
	})
	// The edges of each range are accepted.
	NewRetry(fn, RetryPolicy{Attempts: 1, Multiplier: 1, Jitter: 1}, nil)
	NewRetry(fn, RetryPolicy{Attempts: 1, Multiplier: 0, Jitter: 0}, nil)
}

func rtInf() float64 { return 1 / rtZero }
func rtNaN() float64 { return rtZero / rtZero }

var rtZero float64

// The attempts of one item are made at exactly the backoff instants:
// 100ms, then doubled, capped at 300ms, each counted from the attempt
// before; an Advance short of an instant by 1ns makes no attempt.
func TestRetry_AttemptsAtExactBackoffInstants(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	rec := &obsRecorder{}
	rt := NewRetry(rtFailing(calls, map[int]int{1: 4}),
		RetryPolicy{Attempts: 5, Backoff: 100 * time.Millisecond, Multiplier: 2, MaxBackoff: 300 * time.Millisecond}, fc).
		WithObserver(rec.observe)
	in := make(chan Result[int])
	out := rt.Process(t.Context(), in)
	in <- NewSuccess(1)
	want := []string{"1@0s"}
	for _, wait := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond} {
		fc.Advance(wait - time.Nanosecond)
		require.Equal(t, want, calls.all(), "1ns before the instant")
		rtNothing(t, out)
		fc.Advance(time.Nanosecond)
		want = append(want, fmt.Sprintf("1@%v", fc.Since(calls.start)))
		require.Equal(t, want, calls.all(), "at the instant")
	}
	require.Equal(t, []string{"1@0s", "1@100ms", "1@300ms", "1@600ms", "1@900ms"}, calls.all())
	r := ltNext(t, out)
	require.Equal(t, 1, r.Value())
	require.Equal(t, 5, rtRetryCount(r))
	close(in)
	rtClosed(t, out)
	require.Equal(t, []string{
		"retry//1@0s", "timer-arm//0@0s", "timer-fire//0@100ms",
		"retry//2@100ms", "timer-arm//0@100ms", "timer-fire//0@300ms",
		"retry//3@300ms", "timer-arm//0@300ms", "timer-fire//0@600ms",
		"retry//4@600ms", "timer-arm//0@600ms", "timer-fire//0@900ms",
		"emit/succeeded/1@900ms", "close//0@900ms",
	}, obsFmtAll(rec.all(), calls.start))
}

// The wait starts when the failed attempt returns, not when it started:
// an fn that takes 30ms moves the next attempt 30ms later. (RealClock in a
// bubble, so that fn can let time pass.)
func TestRetry_WaitStartsWhenTheAttemptReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := newRTCalls(RealClock)
		failing := rtFailing(calls, map[int]int{1: 2})
		slow := func(ctx context.Context, v int) (int, error) {
			defer time.Sleep(30 * time.Millisecond)
			return failing(ctx, v)
		}
		rec := &obsRecorder{}
		out := NewRetry(slow, RetryPolicy{Attempts: 3, Backoff: 100 * time.Millisecond}, RealClock).
			WithObserver(rec.observe).Process(t.Context(), rtFeed(1))
		require.Equal(t, 1, (<-out).Value())
		require.Equal(t, []string{"1@0s", "1@130ms", "1@260ms"}, calls.all())
		var retries []string
		for _, e := range obsFmtAll(rec.all(), calls.start) {
			if strings.HasPrefix(e, "retry/") || strings.HasPrefix(e, "timer-arm/") {
				retries = append(retries, e)
			}
		}
		require.Equal(t, []string{"retry//1@30ms", "timer-arm//0@30ms", "retry//2@160ms", "timer-arm//0@160ms"}, retries)
		_, ok := <-out
		require.False(t, ok)
	})
}

// rtFeed returns a closed input holding successes of vs.
func rtFeed(vs ...int) <-chan Result[int] {
	in := make(chan Result[int], len(vs))
	for _, v := range vs {
		in <- NewSuccess(v)
	}
	close(in)
	return in
}

// An item that runs out of attempts becomes an error Result holding what
// fn returned with its last error, that error, the Retry's name, the
// input's metadata and the attempt count.
func TestRetry_OutOfAttempts(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	in := make(chan Result[int], 1)
	in <- NewSuccess(7).WithMetadata("k", "v")
	close(in)
	out := NewRetry(rtFailing(calls, map[int]int{7: 99}), RetryPolicy{Attempts: 3, Backoff: 10 * time.Millisecond}, fc).
		WithName("fetch").Process(t.Context(), in)
	fc.Advance(20 * time.Millisecond)
	r := ltNext(t, out)
	require.True(t, r.IsError())
	require.ErrorIs(t, r.Err(), errRTBoom)
	require.Equal(t, 70, r.Error().Item)
	require.Equal(t, "fetch", r.Error().ProcessorName)
	require.Equal(t, 3, rtRetryCount(r))
	k, _ := r.GetMetadata("k")
	require.Equal(t, "v", k)
	require.Equal(t, []string{"7@0s", "7@10ms", "7@20ms"}, calls.all())
	rtClosed(t, out)
}

// An error the predicate refuses, and a panic, end the item's attempts at
// once, at any attempt; the count says how many were made.
func TestRetry_NotRetried(t *testing.T) {
	errPermanent := errors.New("permanent")
	fc := NewFakeClock()
	n := map[int]int{}
	fn := func(_ context.Context, v int) (int, error) {
		n[v]++
		switch {
		case v == 1 && n[v] == 2, v == 2:
			return -v, errPermanent
		case v == 3:
			panic("no")
		case n[v] == 1:
			return 0, errRTBoom
		}
		return v, nil
	}
	rec := &obsRecorder{}
	out := NewRetry(fn, RetryPolicy{Attempts: 5, Backoff: time.Second, Retryable: func(err error) bool { return !errors.Is(err, errPermanent) }}, fc).
		WithObserver(rec.observe).Process(t.Context(), rtFeed(1, 2, 3))
	fc.Advance(time.Second)
	r := ltNext(t, out)
	require.ErrorIs(t, r.Err(), errPermanent)
	require.Equal(t, -1, r.Error().Item)
	require.Equal(t, 2, rtRetryCount(r))
	r = ltNext(t, out)
	require.ErrorIs(t, r.Err(), errPermanent)
	require.Equal(t, 1, rtRetryCount(r))
	r = ltNext(t, out)
	var pe *userPanicError
	require.ErrorAs(t, r.Err(), &pe)
	require.EqualError(t, pe, "fn panicked: no")
	require.Equal(t, 0, r.Error().Item)
	require.Equal(t, 1, rtRetryCount(r))
	rtClosed(t, out)
	require.Equal(t, map[int]int{1: 2, 2: 1, 3: 1}, n)
	var reasons []string
	for _, e := range rec.all() {
		if e.Kind == EventEmit {
			reasons = append(reasons, e.Reason)
		}
	}
	require.Equal(t, []string{ReasonFailed, ReasonFailed, ReasonFailed}, reasons)
}

// Items come out in input order, and none is taken while one waits for its
// next attempt: the next stays in the input, and fn never sees it early.
func TestRetry_OrderAndBackPressure(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	in := make(chan Result[int], 3)
	in <- NewSuccess(1)
	in <- NewSuccess(2)
	out := NewRetry(rtFailing(calls, map[int]int{1: 1, 2: 2}), RetryPolicy{Attempts: 3, Backoff: 10 * time.Millisecond}, fc).
		Process(t.Context(), in)
	fc.Advance(5 * time.Millisecond)
	require.Equal(t, []string{"1@0s"}, calls.all())
	require.Len(t, in, 1, "item 2 was taken while item 1 waited")
	fc.Advance(5 * time.Millisecond)
	require.Equal(t, 1, ltNext(t, out).Value())
	in <- NewSuccess(3)
	close(in)
	fc.Advance(20 * time.Millisecond)
	require.Equal(t, 2, ltNext(t, out).Value())
	require.Equal(t, 3, ltNext(t, out).Value())
	rtClosed(t, out)
	require.Equal(t, []string{"1@0s", "1@10ms", "2@10ms", "2@20ms", "2@30ms", "3@30ms"}, calls.all())
}

// A cancel stops the wait at once: the output closes with no Advance, no
// attempt follows, and the cancel counts the item waiting.
func TestRetry_CancelStopsWaitingAtOnce(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	rec := &obsRecorder{}
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan Result[int])
	out := NewRetry(rtFailing(calls, map[int]int{1: 5}), RetryPolicy{Attempts: 5, Backoff: time.Hour}, fc).
		WithObserver(rec.observe).Process(ctx, in)
	in <- NewSuccess(1)
	fc.BlockUntilReady()
	cancel()
	rtClosed(t, out)
	fc.Advance(5 * time.Hour)
	require.Equal(t, []string{"1@0s"}, calls.all())
	require.Equal(t, []string{"retry//1@0s", "timer-arm//0@0s", "cancel//1@0s", "timer-stop//0@0s", "close//0@0s"},
		obsFmtAll(rec.all(), calls.start))
	require.False(t, fc.HasWaiters())
}

// No attempt starts once ctx has ended, even one due at once.
func TestRetry_NoAttemptAfterCancel(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	ctx, cancel := context.WithCancel(t.Context())
	failing := rtFailing(calls, map[int]int{1: 5})
	cancelling := func(ctx context.Context, v int) (int, error) {
		cancel()
		return failing(ctx, v)
	}
	out := NewRetry(cancelling, RetryPolicy{Attempts: 5}, fc).Process(ctx, rtFeed(1))
	rtClosed(t, out)
	require.Equal(t, []string{"1@0s"}, calls.all())
}

// The close of the input does not cut an item's attempts short: the item
// waiting gets them, and the output closes after its Result.
func TestRetry_CloseWaitsForTheAttempts(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	in := make(chan Result[int])
	out := NewRetry(rtFailing(calls, map[int]int{1: 1}), RetryPolicy{Attempts: 2, Backoff: 100 * time.Millisecond}, fc).
		Process(t.Context(), in)
	in <- NewSuccess(1)
	close(in)
	fc.Advance(99 * time.Millisecond)
	rtNothing(t, out)
	fc.Advance(time.Millisecond)
	require.Equal(t, 1, ltNext(t, out).Value())
	rtClosed(t, out)
}

// A zero backoff retries at once, with no timer.
func TestRetry_ZeroBackoffRetriesAtOnce(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	out := NewRetry(rtFailing(calls, map[int]int{1: 2}), RetryPolicy{Attempts: 3}, fc).Process(t.Context(), rtFeed(1))
	r := ltNext(t, out)
	require.Equal(t, 1, r.Value())
	require.Equal(t, 3, rtRetryCount(r))
	require.Equal(t, []string{"1@0s", "1@0s", "1@0s"}, calls.all())
	require.False(t, fc.HasWaiters())
	rtClosed(t, out)
}

// rtConstSource is a jitter source whose every draw is the same.
type rtConstSource uint64

func (s rtConstSource) Uint64() uint64 { return uint64(s) }

// Jitter shortens each wait by Jitter·u·w, u drawn from the source given:
// with u = 0.5 and Jitter 0.5, a 100ms wait is 75ms and the next, 200ms,
// 150ms. Each Process call asks for a source of its own.
func TestRetry_JitterFromTheSourceGiven(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	sources := 0
	rt := NewRetry(rtFailing(calls, map[int]int{1: 2, 2: 1}), RetryPolicy{Attempts: 3, Backoff: 100 * time.Millisecond, Multiplier: 2, Jitter: 0.5}, fc).
		WithJitterSource(func() rand.Source {
			sources++
			return rtConstSource(1 << 52) // Float64 draws 0.5
		})
	out := rt.Process(t.Context(), rtFeed(1))
	fc.Advance(75*time.Millisecond - 1)
	require.Equal(t, []string{"1@0s"}, calls.all())
	fc.Advance(1)
	fc.Advance(150*time.Millisecond - 1)
	require.Equal(t, []string{"1@0s", "1@75ms"}, calls.all())
	fc.Advance(1)
	require.Equal(t, []string{"1@0s", "1@75ms", "1@225ms"}, calls.all())
	require.Equal(t, 1, ltNext(t, out).Value())
	rtClosed(t, out)
	out = rt.Process(t.Context(), rtFeed(2))
	fc.Advance(75 * time.Millisecond)
	require.Equal(t, 2, ltNext(t, out).Value())
	rtClosed(t, out)
	require.Equal(t, 2, sources)
}

// The same seed gives the same waits; the default source differs from
// call to call.
func TestRetry_JitterSeeded(t *testing.T) {
	run := func(rt *Retry[int, int], fc *FakeClock, calls *rtCalls) []string {
		out := rt.Process(t.Context(), rtFeed(1))
		for range 4 {
			fc.Advance(time.Second)
		}
		ltNext(t, out)
		rtClosed(t, out)
		return calls.all()
	}
	policy := RetryPolicy{Attempts: 5, Backoff: time.Second, Jitter: 1}
	seeded := func() []string {
		fc := NewFakeClock()
		calls := newRTCalls(fc)
		rt := NewRetry(rtFailing(calls, map[int]int{1: 4}), policy, fc).
			WithJitterSource(func() rand.Source { return rand.NewPCG(1, 2) })
		return run(rt, fc, calls)
	}
	first := seeded()
	require.Len(t, first, 5)
	require.Equal(t, first, seeded())
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	require.NotEqual(t, first, run(NewRetry(rtFailing(calls, map[int]int{1: 4}), policy, fc), fc, calls))
}

// An error item is not given to fn: it comes out at once, wrapping the
// incoming StreamError, as Mapper emits it.
func TestRetry_ErrorItemsPassThrough(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	cause := errors.New("upstream broke")
	in := make(chan Result[int], 1)
	in <- NewError(4, cause, "upstream")
	close(in)
	out := NewRetry(rtFailing(calls, nil), RetryPolicy{Attempts: 3, Backoff: time.Second}, fc).Process(t.Context(), in)
	r := ltNext(t, out)
	require.ErrorIs(t, r.Err(), cause)
	var inner *StreamError[int]
	require.ErrorAs(t, r.Error().Err, &inner)
	require.Equal(t, 4, inner.Item)
	require.Equal(t, "retry", r.Error().ProcessorName)
	require.Nil(t, rtRetryCount(r))
	rtClosed(t, out)
	require.Empty(t, calls.all())
}

// A success at the first attempt keeps the input's metadata and adds no
// count; one after a retry adds the count to the input's metadata.
func TestRetry_Metadata(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	in := make(chan Result[int], 2)
	in <- NewSuccess(1).WithMetadata("k", 1)
	in <- NewSuccess(2).WithMetadata("k", 2)
	close(in)
	out := NewRetry(rtFailing(calls, map[int]int{2: 1}), RetryPolicy{Attempts: 2}, fc).Process(t.Context(), in)
	r := ltNext(t, out)
	require.Equal(t, 1, r.Value())
	require.Nil(t, rtRetryCount(r))
	k, _ := r.GetMetadata("k")
	require.Equal(t, 1, k)
	r = ltNext(t, out)
	require.Equal(t, 2, rtRetryCount(r))
	k, _ = r.GetMetadata("k")
	require.Equal(t, 2, k)
	rtClosed(t, out)
}

// fn gets the ctx given to Process.
func TestRetry_FnGetsTheProcessCtx(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "mine")
	fn := func(ctx context.Context, v int) (string, error) { return ctx.Value(key{}).(string), nil }
	out := NewRetry(fn, RetryPolicy{Attempts: 1}, NewFakeClock()).Process(ctx, rtFeed(1))
	require.Equal(t, "mine", ltNext(t, out).Value())
	rtClosed(t, out)
}

// A wait that would pass the largest Duration saturates there: the next
// attempt is never due, rather than due in the past, and the item is still
// shown waiting on the clock.
func TestRetry_HugeBackoffSaturates(t *testing.T) {
	fc := NewFakeClock()
	calls := newRTCalls(fc)
	ctx, cancel := context.WithCancel(t.Context())
	out := NewRetry(rtFailing(calls, map[int]int{1: 5}), RetryPolicy{Attempts: 5, Backoff: time.Duration(1 << 62), Multiplier: 4}, fc).
		Process(ctx, rtFeed(1))
	fc.Advance(time.Duration(1<<62) + time.Hour)
	require.Equal(t, []string{"1@0s", fmt.Sprintf("1@%v", time.Duration(1<<62))}, calls.all())
	fc.Advance(time.Duration(1 << 61))
	require.Len(t, calls.all(), 2)
	require.True(t, fc.HasWaiters(), "the item waits for an attempt, so a timer is armed for it")
	cancel()
	rtClosed(t, out)
}

// rtMsg is an item that must be settled, as a broker's message would be.
type rtMsg struct {
	V int
	*Settlement
}

// rtSettled records the final outcome of rtMsgs by value.
type rtSettled struct {
	mu       sync.Mutex
	outcomes map[int]Outcome
}

func (s *rtSettled) msg(v int) rtMsg {
	return rtMsg{V: v, Settlement: NewSettlement(func(o Outcome) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.outcomes == nil {
			s.outcomes = map[int]Outcome{}
		}
		s.outcomes[v] = o
	})}
}

func (s *rtSettled) all() map[int]Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]Outcome{}
	for v, o := range s.outcomes {
		out[v] = o
	}
	return out
}

// A cancel settles Lost the item waiting for its next attempt, and the
// Result being sent, whose Out carries the acknowledgement fn gave it; an
// item that went out is the sink's to settle.
func TestRetry_CancelSettlesWhatItHoldsLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		read int // outputs read before the cancel
		want map[int]Outcome
	}{
		{"item 2 waiting", 1, map[int]Outcome{2: Lost}},
		{"item 1 being sent", 0, map[int]Outcome{1: Lost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock()
			var settled rtSettled
			n := map[int]int{}
			fn := func(_ context.Context, m rtMsg) (rtMsg, error) {
				n[m.V]++
				if m.V == 2 && n[m.V] == 1 {
					return m, errRTBoom
				}
				return m, nil
			}
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[rtMsg], 2)
			in <- NewSuccess(settled.msg(1))
			in <- NewSuccess(settled.msg(2))
			out := NewRetry(fn, RetryPolicy{Attempts: 2, Backoff: time.Second}, fc).Process(ctx, in)
			for range tc.read {
				ltNext(t, out)
			}
			fc.BlockUntilReady()
			cancel()
			rtClosed(t, out)
			require.Equal(t, tc.want, settled.all())
		})
	}
}
