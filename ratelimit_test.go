//go:build go1.25

package streamz

// Tests of RateLimiter and KeyedRateLimiter: model tests in the harness's
// three modes and the plain style against golang.org/x/time/rate's own
// Limiter on the same schedule (AllowN for drop mode, ReserveN for wait
// mode), and the rules one by one. Every helper here starts with "rl".

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// rlConfig is one configuration of the model tests.
type rlConfig struct {
	rate  float64
	burst int
}

// rlConfigs mix round rates with rates whose token periods are not whole
// nanoseconds, where the float arithmetic must agree with x/time/rate's.
var rlConfigs = []rlConfig{{10, 1}, {10, 3}, {3.7, 2}, {1000, 5}, {7e6 / 3, 1}}

// period is a token's period, which the schedules' waits are drawn around.
func (c rlConfig) period() time.Duration { return time.Duration(float64(time.Second) / c.rate) }

// rlBase is where the models' schedules start on x/time/rate's clock.
var rlBase = time.Unix(1_700_000_000, 0)

// rlLimiters is one x/time/rate Limiter per key, made as each key is first
// seen, full.
type rlLimiters struct {
	c    rlConfig
	byID map[int]*rate.Limiter
}

func (l *rlLimiters) of(key int) *rate.Limiter {
	if l.byID == nil {
		l.byID = map[int]*rate.Limiter{}
	}
	lim := l.byID[key]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(l.c.rate), l.c.burst)
		l.byID[key] = lim
	}
	return lim
}

// rlModelDrop is drop mode by x/time/rate: an item passes when AllowN lets
// it, at the instant it arrives. keyOf gives an item's key, or false for an
// item whose key panics, which passes at once as an error; nil is the
// unkeyed RateLimiter.
func rlModelDrop(c rlConfig, keyOf func(int) (int, bool), steps []teStep) ([]teOut, []string) {
	lims := rlLimiters{c: c}
	var out []teOut
	var reasons []string
	for _, e := range teTimeline(steps) {
		switch e.Step.Kind {
		case teFail:
			out, reasons = append(out, teError(e.At, e.Step.V)), append(reasons, "")
		case teSend:
			key, ok := 0, true
			if keyOf != nil {
				key, ok = keyOf(e.Step.V)
			}
			if !ok {
				out = append(out, teOut{Vals: []int{e.Step.V}, Err: true, Cause: -1, At: e.At})
				reasons = append(reasons, "")
				continue
			}
			if lims.of(key).AllowN(rlBase.Add(e.At), 1) {
				out, reasons = append(out, teItem(e.At, e.Step.V)), append(reasons, ReasonToken)
			}
		}
	}
	return out, reasons
}

// rlWait plays steps against wait mode by x/time/rate. Each item reserves
// its token with ReserveN when the limiter takes it and goes out when the
// reservation says; until then the limiter takes nothing, so before every
// send, error and close that would find it holding an item, a wait until
// it is free is inserted. It returns the schedule with those waits, which
// never blocks, and the outputs. A cancel loses the held item.
func rlWait(c rlConfig, keyOf func(int) (int, bool), steps []teStep) (playable []teStep, out []teOut) {
	lims := rlLimiters{c: c}
	var now, free time.Duration
	for _, s := range steps {
		if s.Kind == teSend || s.Kind == teFail || s.Kind == teClose {
			if now < free {
				playable = append(playable, teStep{Kind: teWait, W: free - now})
				now = free
			}
		}
		playable = append(playable, s)
		switch s.Kind {
		case teWait:
			now += s.W
		case teFail:
			out = append(out, teError(now, s.V))
		case teSend:
			key, ok := 0, true
			if keyOf != nil {
				key, ok = keyOf(s.V)
			}
			if !ok {
				out = append(out, teOut{Vals: []int{s.V}, Err: true, Cause: -1, At: now})
				continue
			}
			t := rlBase.Add(now)
			at := now + lims.of(key).ReserveN(t, 1).DelayFrom(t)
			out = append(out, teItem(at, s.V))
			free = at
		case teCancel:
			if now < free {
				out = out[:len(out)-1]
			}
		}
	}
	return playable, out
}

// rlWaitDue is the harness's due for wait mode: the outputs out by the end
// of steps, which end with the error teRunPlain appends; a held item is
// not out yet.
func rlWaitDue(c rlConfig, keyOf func(int) (int, bool)) func([]teStep) []teOut {
	return func(steps []teStep) []teOut {
		prefix := steps[:len(steps)-1]
		_, outs := rlWait(c, keyOf, prefix)
		var now time.Duration
		for _, e := range prefix {
			now += e.W
		}
		var due []teOut
		for _, o := range outs {
			if o.At <= now {
				due = append(due, o)
			}
		}
		return append(due, teOut{})
	}
}

func rlCases(keyed bool) []teModelCase[int] {
	var keyOf func(int) (int, bool)
	if keyed {
		keyOf = kmKeyOf
	}
	var cases []teModelCase[int]
	for _, c := range rlConfigs {
		for _, drop := range []bool{true, false} {
			process := func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				if keyed {
					return NewKeyedRateLimiter(c.rate, c.burst, kmKey, clk).WithDrop(drop).Process(ctx, in)
				}
				return NewRateLimiter[int](c.rate, c.burst, clk).WithDrop(drop).Process(ctx, in)
			}
			mc := teModelCase[int]{
				name:    fmt.Sprintf("keyed=%v %+v drop=%v", keyed, c, drop),
				period:  c.period(),
				process: process,
				observe: teObserveItem,
			}
			if drop {
				mc.model = func(steps []teStep) []teOut {
					out, _ := rlModelDrop(c, keyOf, steps)
					return out
				}
			} else {
				mc.playable = func(steps []teStep) []teStep {
					p, _ := rlWait(c, keyOf, steps)
					return p
				}
				mc.model = func(steps []teStep) []teOut {
					_, out := rlWait(c, keyOf, steps)
					return out
				}
				mc.due = rlWaitDue(c, keyOf)
			}
			cases = append(cases, mc)
		}
	}
	return cases
}

func TestRateLimiter_ModelSchedules(t *testing.T)      { teCheckModel(t, rlCases(false)) }
func TestKeyedRateLimiter_ModelSchedules(t *testing.T) { teCheckModel(t, rlCases(true)) }

// The keyed drop model is the unkeyed one run per key and merged in the
// keyed order: keys never share tokens.
func TestKeyedRateLimiter_DropIsUnkeyedPerKey(t *testing.T) {
	c := rlConfigs[1]
	for i := range 200 {
		steps := teGenSchedule(rlRand(t, i), c.period())
		want, _ := rlModelDrop(c, kmKeyOf, steps)
		got, _ := kmModel(steps, kmKeyOf, func(sub []teStep) ([]teOut, []string) { return rlModelDrop(c, nil, sub) })
		require.Equal(t, want, got, "%v", steps)
	}
}

// The x/time/rate timeline, written out: rate 10 a second, burst 2. Two
// items pass at 0; in wait mode the third goes out at 100ms, exactly when
// its token accrues and not a nanosecond before; the fourth, taken then,
// at 200ms; the fifth, sent at 200ms, at 300ms. In drop mode the third and
// fourth are dropped, and an item passes once the wait for its token
// truncates to zero nanoseconds, as x/time/rate's Allow decides: a
// nanosecond before 100ms, and not two.
func TestRateLimiter_ExactTimeline(t *testing.T) {
	ms := obsMs
	t.Run("wait", func(t *testing.T) {
		fc := NewFakeClock()
		start := fc.Now()
		in := make(chan Result[kmItem])
		out := NewRateLimiter[kmItem](10, 2, fc).Process(t.Context(), in)
		var got []string
		recv := func() {
			t.Helper()
			select {
			case r := <-out:
				got = append(got, fmt.Sprintf("%s@%v", teFmt(r), fc.Since(start)))
			case <-time.After(teSafety):
				t.Fatalf("no output; got %v", got)
			}
		}
		in <- NewSuccess(kmA(1))
		recv()
		in <- NewSuccess(kmA(2))
		recv()
		in <- NewSuccess(kmA(3))
		fc.Advance(ms(100) - 1)
		rlNothingOut(t, out)
		fc.Advance(1)
		recv()
		in <- NewSuccess(kmA(4))
		fc.Advance(ms(100))
		recv()
		in <- NewSuccess(kmA(5))
		fc.Advance(ms(100) - 1)
		rlNothingOut(t, out)
		fc.Advance(1)
		recv()
		close(in)
		_, open := <-out
		require.False(t, open)
		require.Equal(t, []string{"a1@0s", "a2@0s", "a3@100ms", "a4@200ms", "a5@300ms"}, got)
	})
	t.Run("drop", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewRateLimiter[kmItem](10, 2, fc).WithDrop(true).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmA(1), 1, kmA(2), 1, kmA(3), ms(100)-2, kmA(4), time.Duration(1), kmA(5), 1, time.Duration(1), kmA(6))
		require.Equal(t, []string{"a1@0s", "a2@0s", "a5@99.999999ms"}, got)
		// x/time/rate agrees: the wait for the token truncates to zero a
		// nanosecond before it is whole.
		lim := rate.NewLimiter(10, 2)
		require.True(t, lim.AllowN(rlBase, 2))
		require.False(t, lim.AllowN(rlBase.Add(ms(100)-2), 1))
		require.True(t, lim.AllowN(rlBase.Add(ms(100)-1), 1))
		require.False(t, lim.AllowN(rlBase.Add(ms(100)), 1))
	})
}

// rlNothingOut fails if out has an output on offer. After an Advance the
// settling clock has let the processor do all it would.
func rlNothingOut[O any](t *testing.T, out <-chan Result[O]) {
	t.Helper()
	select {
	case r := <-out:
		t.Fatalf("%s came out early", teFmt(r))
	default:
	}
}

func rlRand(t *testing.T, i int) *rand.Rand {
	return rand.New(rand.NewPCG(teSeed(t), uint64(i)))
}

// In wait mode the producer is held back: while an item waits for its
// token the RateLimiter takes nothing, not even an error or the close, so
// a send blocks until the token accrues.
func TestRateLimiter_WaitIsBackPressure(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fc := NewFakeClock()
				in := make(chan Result[int])
				var out <-chan Result[int]
				if keyed {
					out = NewKeyedRateLimiter(10, 1, func(v int) int { return v % 2 }, fc).Process(t.Context(), in)
				} else {
					out = NewRateLimiter[int](10, 1, fc).Process(t.Context(), in)
				}
				in <- NewSuccess(2)
				require.Equal(t, 2, (<-out).Value())
				in <- NewSuccess(4) // held: its key's token comes at 100ms
				taken := make(chan struct{})
				go func() {
					in <- NewError(3, fmt.Errorf("e"), "te")
					close(taken)
				}()
				synctest.Wait()
				select {
				case <-taken:
					t.Fatal("the RateLimiter took an input while it held an item")
				default:
				}
				fc.Advance(obsMs(100))
				require.Equal(t, 4, (<-out).Value())
				<-taken
				require.True(t, (<-out).IsError())
				close(in)
				_, open := <-out
				require.False(t, open)
			})
		})
	}
}

// Cancel while an item is held: the output closes at once, without it.
func TestRateLimiter_CancelDropsTheHeldItem(t *testing.T) {
	fc := NewFakeClock()
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan Result[int])
	rec := &obsRecorder{}
	out := NewRateLimiter[int](1, 1, fc).WithObserver(rec.observe).Process(ctx, in)
	in <- NewSuccess(1)
	<-out
	in <- NewSuccess(2)
	fc.BlockUntilReady()
	cancel()
	_, open := <-out
	require.False(t, open)
	require.Equal(t, []string{"emit/token/1", "timer-arm//0", "cancel//1", "timer-stop//0", "close//0"}, rlKinds(rec))
}

func rlKinds(rec *obsRecorder) []string {
	var s []string
	for _, e := range rec.all() {
		s = append(s, fmt.Sprintf("%s/%s/%d", e.Kind, e.Reason, e.Count))
	}
	return s
}

// The observer's events in both modes.
func TestRateLimiter_ObserverSequences(t *testing.T) {
	ms := obsMs
	t.Run("drop", func(t *testing.T) {
		fc := NewFakeClock()
		rec := &obsRecorder{}
		in := make(chan Result[kmItem])
		out := NewRateLimiter[kmItem](10, 1, fc).WithDrop(true).WithObserver(rec.observe).Process(t.Context(), in)
		kmPlay(t, fc, in, out, kmA(1), 1, kmA(2), ms(100), kmA(3), 1)
		require.Equal(t, []string{"emit/token/1", "drop/rate-limit/1", "emit/token/1", "close//0"}, rlKinds(rec))
	})
	t.Run("wait", func(t *testing.T) {
		fc := NewFakeClock()
		rec := &obsRecorder{}
		in := make(chan Result[kmItem])
		out := NewKeyedRateLimiter(10, 1, kmItemKey, fc).WithObserver(rec.observe).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmA(1), 1, kmA(2), ms(100), 1)
		require.Equal(t, []string{"a1@0s", "a2@100ms"}, got)
		require.Equal(t, []string{"emit/token/1", "timer-arm//0", "timer-fire//0", "emit/token/1", "close//0"}, rlKinds(rec))
	})
}

func TestRateLimiter_ConstructorPanics(t *testing.T) {
	key := func(v int) int { return v }
	require.PanicsWithValue(t, "streamz: NewRateLimiter: rate must be positive, got 0", func() { NewRateLimiter[int](0, 1, nil) })
	require.PanicsWithValue(t, "streamz: NewRateLimiter: rate must be positive, got NaN", func() { NewRateLimiter[int](math.NaN(), 1, nil) })
	require.PanicsWithValue(t, "streamz: NewRateLimiter: rate must be finite, got +Inf", func() { NewRateLimiter[int](math.Inf(1), 1, nil) })
	require.PanicsWithValue(t, "streamz: NewRateLimiter: burst must be at least 1, got 0", func() { NewRateLimiter[int](1, 0, nil) })
	require.PanicsWithValue(t, "streamz: NewKeyedRateLimiter: rate must be positive, got -1", func() { NewKeyedRateLimiter(-1, 1, key, nil) })
	require.PanicsWithValue(t, "streamz: NewKeyedRateLimiter: key must not be nil", func() { NewKeyedRateLimiter[int, int](1, 1, nil, nil) })
}

// A key's bucket is freed once it has refilled (after a second and a
// nanosecond, for a bucket of 1 at 1 a second), and not before.
func TestKeyedRateLimiter_FreesRefilledBuckets(t *testing.T) {
	rlRequireKeysFreed(t, time.Second+1, func(clk Clock, in <-chan Result[int]) <-chan Result[int] {
		return NewKeyedRateLimiter(1, 1, func(v int) int { return v }, clk).WithDrop(true).Process(t.Context(), in)
	})
}

// rlRequireKeysFreed checks that a keyed processor started by start frees
// a key's state period after the key's one item, at the first input then:
// 100,000 keys are seen once each, and the heap is measured while they are
// live, at period less a nanosecond after (still kept: more than half the
// room), and at period (less than a tenth left).
func rlRequireKeysFreed(t *testing.T, period time.Duration, start func(Clock, <-chan Result[int]) <-chan Result[int]) {
	t.Helper()
	const keys = 100_000
	fc := NewFakeClock()
	in := make(chan Result[int])
	out := start(fc, in)
	drained := make(chan int)
	go func() {
		n := 0
		for range out {
			n++
		}
		drained <- n
	}()
	heap := func(before runtime.MemStats) float64 {
		return float64(settledMem().HeapAlloc) - float64(before.HeapAlloc)
	}
	before := settledMem()
	for i := range keys {
		in <- NewSuccess(i)
	}
	fc.BlockUntilReady()
	live := heap(before)
	fc.Advance(period - 1)
	in <- NewSuccess(-1)
	fc.BlockUntilReady()
	kept := heap(before)
	fc.Advance(1)
	in <- NewSuccess(-2)
	fc.BlockUntilReady()
	left := heap(before)
	close(in)
	require.Equal(t, keys+2, <-drained)
	t.Logf("heap for %d live keys: %.0f B/key; once they are freed: %.0f B in all", keys, live/keys, left)
	require.Greater(t, kept, live/2, "keys freed early")
	require.Less(t, left, live/10, "keys not freed")
}
