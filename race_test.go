//go:build go1.25

package streamz

// Timer races, timer cleanup and model tests for Throttle, Debounce and
// Batcher. The harness (teClock, the schedule generator, the reference
// models and teRun) is in timer_events_test.go.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// teRaceIterations is how many fresh clock + Process runs each race
// reproduction makes, per variant.
const teRaceIterations = 1000

// teSafety bounds every wait of the tests that run outside a synctest
// bubble, so that a hang fails the test instead of stalling it. It is never
// used to let something happen: those tests synchronise on channels and on
// the FakeClock.
const teSafety = 10 * time.Second

// teFmt renders an output for comparison: "1" or "[1 2]" for a success,
// "E1" or "E[1]" for an error carrying item 1.
func teFmt[O any](r Result[O]) string {
	if r.IsError() {
		return fmt.Sprintf("E%v", r.Error().Item)
	}
	return fmt.Sprint(r.Value())
}

func teSendIn(t *testing.T, in chan<- Result[int], r Result[int]) {
	t.Helper()
	select {
	case in <- r:
	case <-time.After(teSafety):
		t.Fatalf("the processor did not take an input within %v", teSafety)
	}
}

// teForward reads out as fast as it comes, so the processor never waits on
// its consumer, and hands it on rendered.
func teForward[O any](out <-chan Result[O]) <-chan string {
	fwd := make(chan string, 64)
	go func() {
		defer close(fwd)
		for r := range out {
			fwd <- teFmt(r)
		}
	}()
	return fwd
}

func teNext(t *testing.T, fwd <-chan string) string {
	t.Helper()
	select {
	case s, ok := <-fwd:
		require.True(t, ok, "the output closed early")
		return s
	case <-time.After(teSafety):
		t.Fatalf("no output within %v", teSafety)
		return ""
	}
}

func teRest(t *testing.T, fwd <-chan string) []string {
	t.Helper()
	var got []string
	for {
		select {
		case s, ok := <-fwd:
			if !ok {
				return got
			}
			got = append(got, s)
		case <-time.After(teSafety):
			t.Fatalf("the output did not close within %v (got %v)", teSafety, got)
		}
	}
}

// teDrain collects out in the background and delivers what came out once
// out has closed. For use inside a bubble.
func teDrain[O any](out <-chan Result[O]) <-chan []string {
	done := make(chan []string, 1)
	go func() {
		var got []string
		for r := range out {
			got = append(got, teFmt(r))
		}
		done <- got
	}()
	return done
}

// teClosedNow reports, without blocking, whether out is closed; a value
// ready on out is a test failure.
func teClosedNow[O any](t *testing.T, out <-chan Result[O]) bool {
	t.Helper()
	select {
	case r, ok := <-out:
		if ok {
			t.Errorf("unexpected output %s", teFmt(r))
		}
		return !ok
	default:
		return false
	}
}

// 1. Throttle: an item that arrives exactly when the cooldown ends passes.

func TestThrottle_RaceConditionReproduction(t *testing.T) {
	const d = 100 * time.Millisecond
	cases := []struct {
		name   string
		wait   time.Duration
		passes bool
	}{
		{"at the end of the cooldown", d, true},
		{"just after the cooldown", d + time.Nanosecond, true},
		{"just before the end of the cooldown", d - time.Nanosecond, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := range teRaceIterations {
				clk := NewFakeClock()
				ctx, cancel := context.WithCancel(context.Background())
				in := make(chan Result[int])
				out := teForward(NewThrottle[int](d, clk).Process(ctx, in))

				teSendIn(t, in, NewSuccess(1))
				require.Equal(t, "1", teNext(t, out), "iteration %d", i)
				clk.Advance(c.wait)
				clk.BlockUntilReady()
				teSendIn(t, in, NewSuccess(2))
				close(in)
				var want []string
				if c.passes {
					want = []string{"2"}
				}
				require.Equal(t, want, teRest(t, out), "iteration %d: second item after %v", i, c.wait)
				require.False(t, clk.HasWaiters(), "Throttle registered a clock waiter")
				cancel()
			}
		})
	}
}

// 2. Debounce and Batcher: an input sent right after Advance reaches a
// deadline is handled after that deadline's effect, whichever of the input
// and the timer's event the loop takes first.

// teTimedProc describes a Debounce or Batcher set up for the race and
// cleanup tests, with period d.
type teTimedProc[O any] struct {
	d     time.Duration
	start func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[O]
	// one is how the lone item 1 comes out; both how items 1 and 2 come
	// out when they share a period.
	one, two, both string
}

const teProcPeriod = 100 * time.Millisecond

func teDebounceProc() teTimedProc[int] {
	return teTimedProc[int]{
		d: teProcPeriod,
		start: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](teProcPeriod, clk).Process(ctx, in)
		},
		one: "1", two: "2", both: "2",
	}
}

func teBatcherProc() teTimedProc[[]int] {
	return teTimedProc[[]int]{
		d: teProcPeriod,
		start: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[[]int] {
			return NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: teProcPeriod}, clk).Process(ctx, in)
		},
		one: "[1]", two: "[2]", both: "[1 2]",
	}
}

func teCheckDeadlineRace[O any](t *testing.T, p teTimedProc[O]) {
	d := p.d

	// run sends 1, waits for the timer, advances by wait and sends 2 at
	// once; then it either closes the input or, when the deadline was
	// reached, advances to 2's deadline first.
	run := func(t *testing.T, i int, wait time.Duration, advanceAgain bool) []string {
		clk := NewFakeClock()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		waitCtx, cancelWait := context.WithTimeout(ctx, teSafety)
		defer cancelWait()
		in := make(chan Result[int])
		out := teForward(p.start(ctx, clk, in))

		teSendIn(t, in, NewSuccess(1))
		require.NoError(t, clk.BlockUntilContext(waitCtx, 1), "iteration %d", i)
		clk.Advance(wait)
		teSendIn(t, in, NewSuccess(2))
		if !advanceAgain {
			close(in)
			return teRest(t, out)
		}
		// The timer fired at d, so whichever the loop took first, exactly
		// one waiter appears: the timer armed for 2's deadline.
		got := []string{teNext(t, out)}
		require.NoError(t, clk.BlockUntilContext(waitCtx, 1), "iteration %d", i)
		clk.Advance(d)
		got = append(got, teNext(t, out)) // before the close: emitted by the deadline
		close(in)
		return append(got, teRest(t, out)...)
	}

	t.Run("input right after the deadline, then close", func(t *testing.T) {
		for i := range teRaceIterations {
			require.Equal(t, []string{p.one, p.two}, run(t, i, d, false), "iteration %d", i)
		}
	})
	t.Run("input right after the deadline, then the next deadline", func(t *testing.T) {
		for i := range teRaceIterations {
			require.Equal(t, []string{p.one, p.two}, run(t, i, d, true), "iteration %d", i)
		}
	})
	t.Run("input 1ns after the deadline", func(t *testing.T) {
		for i := range teRaceIterations {
			require.Equal(t, []string{p.one, p.two}, run(t, i, d+time.Nanosecond, false), "iteration %d", i)
		}
	})
	t.Run("input 1ns before the deadline", func(t *testing.T) {
		for i := range teRaceIterations {
			require.Equal(t, []string{p.both}, run(t, i, d-time.Nanosecond, false), "iteration %d", i)
		}
	})

	// The runs above tie the input with the event only when the loop has
	// not yet gone back to its select when Advance fires; otherwise the
	// event is handed to the waiting select at once. Here the loop is kept
	// busy sending an error while the timer fires, so the event waits in
	// its channel; once the error is read, the event and the input are both
	// ready and select picks one at random.
	t.Run("event and input ready together", func(t *testing.T) {
		for i := range teRaceIterations {
			var got []string
			synctest.Test(t, func(t *testing.T) {
				clk := NewFakeClock()
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				in := make(chan Result[int])
				out := p.start(ctx, clk, in)

				in <- NewSuccess(1)
				in <- NewError(7, fmt.Errorf("boom"), "te")
				synctest.Wait() // the loop is blocked sending E7: nobody reads yet
				clk.Advance(d)  // the event waits in its channel
				go func() {
					in <- NewSuccess(2)
					close(in)
				}()
				synctest.Wait() // 2 waits on the input
				for r := range out {
					got = append(got, teFmt(r))
				}
			})
			require.Equal(t, []string{"E[7]", p.one, p.two}, teNormaliseErr(got), "iteration %d", i)
		}
	})
}

// teNormaliseErr writes Debounce's "E7" as Batcher's "E[7]", so that one
// expectation serves both.
func teNormaliseErr(got []string) []string {
	out := slices.Clone(got)
	for i, s := range out {
		if len(s) > 1 && s[0] == 'E' && s[1] != '[' {
			out[i] = "E[" + s[1:] + "]"
		}
	}
	return out
}

func TestDebounce_RaceConditionReproduction(t *testing.T) {
	teCheckDeadlineRace(t, teDebounceProc())
}

func TestBatcher_RaceConditionReproduction(t *testing.T) {
	teCheckDeadlineRace(t, teBatcherProc())
}

// 3. Cleanup: once the output has closed, no timer is armed on the clock
// and no timer goroutine is left.

// teRequireClean checks, inside a bubble and after the output has closed,
// that no waiter is registered on clk (when it is a FakeClock) and, once
// the bubble has settled, that no goroutine is in the period timer's
// callback.
func teRequireClean(t *testing.T, clk Clock) {
	t.Helper()
	if fc, ok := clk.(*teClock); ok {
		assert.False(t, fc.HasWaiters(), "a clock waiter is left after the output closed")
	}
	synctest.Wait()
	assert.Zero(t, teFireGoroutines(), "a period timer goroutine is left after the output closed")
}

// teBubbleClock returns the clock of a cleanup scenario, made inside the
// bubble; wait lets d pass on it.
func teBubbleClock(mode teClockMode) (clk Clock, fc *teClock, wait func(time.Duration)) {
	if mode == teReal {
		return RealClock, nil, time.Sleep
	}
	fc = newTEClock(mode == teFakeAsync)
	return fc, fc, fc.Advance
}

func teCheckTimerCleanup[O any](t *testing.T, p teTimedProc[O]) {
	for _, mode := range teClockModes {
		t.Run(mode.String(), func(t *testing.T) {
			scenarios := []struct {
				name string
				// before runs after item 1 has been taken and before the
				// input is closed.
				before func(wait func(time.Duration))
				want   []string
			}{
				{"timer armed", func(func(time.Duration)) {}, []string{p.one}},
				{"timer fired, event not yet taken", func(wait func(time.Duration)) { wait(p.d) }, []string{p.one}},
				{"timer fired and handled", func(wait func(time.Duration)) { wait(p.d); synctest.Wait() }, []string{p.one}},
				{"period half gone", func(wait func(time.Duration)) { wait(p.d / 2) }, []string{p.one}},
			}
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						clk, fc, wait := teBubbleClock(mode)
						ctx, cancel := context.WithCancel(t.Context())
						defer cancel()
						in := make(chan Result[int])
						out := p.start(ctx, clk, in)
						done := teDrain(out)
						in <- NewSuccess(1)
						synctest.Wait()
						if fc != nil {
							assert.True(t, fc.HasWaiters(), "no timer armed for the period")
						}
						sc.before(wait)
						close(in)
						assert.Equal(t, sc.want, <-done)
						teRequireClean(t, clk)
					})
				})
			}
		})
	}
	// A period that does not end as first armed: Debounce's deadline moved
	// by newer items (its timer fires early and is re-armed for the rest),
	// or Batcher's first batch filled up (its timer is disarmed) and the
	// next batch armed it again.
	t.Run("re-armed timer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fc := newTEClock(false)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			in := make(chan Result[int])
			done := teDrain(p.start(ctx, fc, in))
			in <- NewSuccess(1)
			synctest.Wait()
			fc.Advance(p.d / 2)
			for v := 2; v <= 11; v++ {
				in <- NewSuccess(v)
			}
			synctest.Wait()
			fc.Advance(p.d / 2)
			synctest.Wait()
			assert.True(t, fc.HasWaiters(), "the timer was not re-armed")
			n := fc.counts()
			assert.Equal(t, 1, n.AfterFuncs, "a second timer was made")
			assert.Equal(t, 1, n.Resets, "the timer was not re-armed once")
			close(in)
			<-done
			teRequireClean(t, fc)
		})
	})
}

func TestDebounce_TimerGoroutineCleanup(t *testing.T) { teCheckTimerCleanup(t, teDebounceProc()) }
func TestBatcher_TimerGoroutineCleanup(t *testing.T)  { teCheckTimerCleanup(t, teBatcherProc()) }

func teCheckCancelDuringTimer[O any](t *testing.T, p teTimedProc[O]) {
	for _, mode := range teClockModes {
		t.Run(mode.String(), func(t *testing.T) {
			for _, fired := range []bool{false, true} {
				name := "timer armed"
				if fired {
					name = "timer fired, event not yet taken"
				}
				// Nobody reads the output: the processor must still close
				// it at once, and can emit nothing.
				t.Run(name+", nobody reading", func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						clk, _, wait := teBubbleClock(mode)
						ctx, cancel := context.WithCancel(t.Context())
						defer cancel()
						in := make(chan Result[int])
						out := p.start(ctx, clk, in)
						in <- NewSuccess(1)
						synctest.Wait()
						if fired {
							wait(p.d)
						}
						cancel()
						synctest.Wait()
						assert.True(t, teClosedNow(t, out), "the output is still open after cancel, with no time passing")
						teRequireClean(t, clk)
					})
				})
				// With a reader: nothing is flushed. Only an item whose
				// deadline has been reached may come out, if the loop took
				// the timer's event before the cancel.
				t.Run(name+", reading", func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						clk, _, wait := teBubbleClock(mode)
						ctx, cancel := context.WithCancel(t.Context())
						defer cancel()
						in := make(chan Result[int])
						done := teDrain(p.start(ctx, clk, in))
						in <- NewSuccess(1)
						synctest.Wait()
						if fired {
							wait(p.d)
						}
						cancel()
						got := <-done
						if fired {
							assert.Subset(t, []string{p.one}, got, "only the due item may come out")
							assert.LessOrEqual(t, len(got), 1)
						} else {
							assert.Empty(t, got, "the pending period was flushed on cancel")
						}
						teRequireClean(t, clk)
					})
				})
			}
		})
	}
	// The timer has fired and its goroutine has started but has not yet
	// delivered the event, as a real timer goroutine can be slow to run.
	// The output must not close before that goroutine is done with the
	// processor: no timer goroutine outlives the output.
	t.Run("timer goroutine slow to deliver", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fc := newTEClock(true)
			fc.gate = make(chan struct{})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			in := make(chan Result[int])
			out := p.start(ctx, fc, in)
			in <- NewSuccess(1)
			synctest.Wait()
			fc.Advance(p.d) // the timer goroutine starts and waits at the gate
			cancel()
			synctest.Wait()
			assert.False(t, teClosedNow(t, out),
				"the output closed while the fired timer's goroutine had not yet delivered its event")
			close(fc.gate)
			synctest.Wait()
			assert.True(t, teClosedNow(t, out), "the output did not close once the timer goroutine was done")
			teRequireClean(t, fc)
		})
	})
}

func TestDebounce_ContextCancellationDuringTimer(t *testing.T) {
	teCheckCancelDuringTimer(t, teDebounceProc())
}

func TestBatcher_ContextCancellationDuringTimer(t *testing.T) {
	teCheckCancelDuringTimer(t, teBatcherProc())
}

// teChurnRounds is how many rounds of teChurnStreams concurrent Process
// calls the MultipleTimerStops tests run per clock mode.
const (
	teChurnRounds  = 60
	teChurnStreams = 3
)

// teChurnWait draws a wait around period d.
func teChurnWait(rng *rand.Rand, d time.Duration) time.Duration {
	return []time.Duration{0, d / 2, d - 1, d, d, d + 1, 2 * d}[rng.IntN(7)]
}

// teCheckTimerStops starts and ends many periods on many Process calls in
// a row, with items, waits around the period and an end by close or cancel,
// often right as a period ends, and checks that each round leaves nothing
// behind.
func teCheckTimerStops[O any](t *testing.T, p teTimedProc[O]) {
	for _, mode := range teClockModes {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk, fc, wait := teBubbleClock(mode)
				rng := rand.New(rand.NewPCG(uint64(mode), 42))
				v := 0
				for round := range teChurnRounds {
					ctx, cancel := context.WithCancel(t.Context())
					ins := make([]chan Result[int], teChurnStreams)
					dones := make([]<-chan []string, teChurnStreams)
					for s := range ins {
						ins[s] = make(chan Result[int])
						dones[s] = teDrain(p.start(ctx, clk, ins[s]))
					}
					for range 1 + rng.IntN(4) {
						for _, in := range ins {
							for range rng.IntN(4) {
								v++
								if rng.IntN(5) == 0 {
									in <- NewError(v, fmt.Errorf("e%d", v), "te")
								} else {
									in <- NewSuccess(v)
								}
							}
						}
						if rng.IntN(2) == 0 {
							synctest.Wait()
						}
						wait(teChurnWait(rng, p.d))
					}
					// End every stream at once, by close or by a cancel of
					// them all.
					if rng.IntN(2) == 0 {
						cancel()
					} else {
						for _, in := range ins {
							close(in)
						}
					}
					for _, done := range dones {
						<-done
					}
					cancel()
					if fc != nil {
						require.False(t, fc.HasWaiters(), "round %d: a clock waiter is left", round)
					}
					synctest.Wait()
					require.Zero(t, teFireGoroutines(), "round %d: a period timer goroutine is left", round)
				}
				if fc != nil {
					n := fc.counts()
					assert.LessOrEqual(t, n.AfterFuncs, teChurnRounds*teChurnStreams,
						"more than one timer made per Process call")
					assert.Zero(t, n.Others, "unexpected timers, tickers or sleeps")
				}
			})
		})
	}
}

func TestDebounce_MultipleTimerStops(t *testing.T) { teCheckTimerStops(t, teDebounceProc()) }
func TestBatcher_MultipleTimerStops(t *testing.T)  { teCheckTimerStops(t, teBatcherProc()) }

// Throttle arms no timer: the same checks, plus that it never asks the
// clock for one.

func teRequireNoTimers(t *testing.T, fc *teClock) {
	t.Helper()
	assert.False(t, fc.HasWaiters(), "Throttle registered a clock waiter")
	assert.Equal(t, teCounts{}, fc.counts(), "Throttle asked the clock for a timer")
}

func TestThrottle_TimerGoroutineCleanup(t *testing.T) {
	const d = 100 * time.Millisecond
	for _, mode := range teClockModes {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk, fc, wait := teBubbleClock(mode)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				in := make(chan Result[int])
				done := teDrain(NewThrottle[int](d, clk).Process(ctx, in))
				in <- NewSuccess(1) // passes; the cooldown starts
				in <- NewSuccess(2) // dropped
				synctest.Wait()
				if fc != nil {
					teRequireNoTimers(t, fc)
				}
				wait(d / 2)
				in <- NewSuccess(3) // dropped
				close(in)
				assert.Equal(t, []string{"1"}, <-done)
				if fc != nil {
					teRequireNoTimers(t, fc)
				}
				synctest.Wait()
				assert.Zero(t, teFireGoroutines())
			})
		})
	}
}

func TestThrottle_ContextCancellationDuringTimer(t *testing.T) {
	const d = 100 * time.Millisecond
	for _, mode := range teClockModes {
		t.Run(mode.String(), func(t *testing.T) {
			for _, ended := range []bool{false, true} {
				name := "during the cooldown"
				if ended {
					name = "as the cooldown ends"
				}
				t.Run(name+", reading", func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						clk, fc, wait := teBubbleClock(mode)
						ctx, cancel := context.WithCancel(t.Context())
						defer cancel()
						in := make(chan Result[int])
						done := teDrain(NewThrottle[int](d, clk).Process(ctx, in))
						in <- NewSuccess(1)
						synctest.Wait()
						if ended {
							wait(d)
						} else {
							wait(d / 2)
						}
						cancel()
						assert.Equal(t, []string{"1"}, <-done)
						if fc != nil {
							teRequireNoTimers(t, fc)
						}
						synctest.Wait()
						assert.Zero(t, teFireGoroutines())
					})
				})
				// Nobody reads: the passing item cannot be delivered, and the
				// cancel must still close the output at once.
				t.Run(name+", nobody reading", func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						clk, fc, wait := teBubbleClock(mode)
						ctx, cancel := context.WithCancel(t.Context())
						defer cancel()
						in := make(chan Result[int])
						out := NewThrottle[int](d, clk).Process(ctx, in)
						in <- NewSuccess(1) // the loop now waits to send it
						synctest.Wait()
						if ended {
							wait(d)
						}
						cancel()
						synctest.Wait()
						assert.True(t, teClosedNow(t, out), "the output is still open after cancel")
						if fc != nil {
							teRequireNoTimers(t, fc)
						}
					})
				})
			}
		})
	}
}

func TestThrottle_MultipleTimerStops(t *testing.T) {
	const d = 100 * time.Millisecond
	for _, mode := range teClockModes {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk, fc, wait := teBubbleClock(mode)
				rng := rand.New(rand.NewPCG(uint64(mode), 43))
				th := NewThrottle[int](d, clk) // one Throttle, many streams
				v := 0
				for round := range teChurnRounds {
					ctx, cancel := context.WithCancel(t.Context())
					ins := make([]chan Result[int], teChurnStreams)
					dones := make([]<-chan []string, teChurnStreams)
					for s := range ins {
						ins[s] = make(chan Result[int])
						dones[s] = teDrain(th.Process(ctx, ins[s]))
					}
					for range 1 + rng.IntN(4) {
						for _, in := range ins {
							for range rng.IntN(4) {
								v++
								in <- NewSuccess(v)
							}
						}
						wait(teChurnWait(rng, d))
						if fc != nil {
							require.False(t, fc.HasWaiters(), "round %d: Throttle registered a clock waiter", round)
						}
					}
					if rng.IntN(2) == 0 {
						cancel()
					} else {
						for _, in := range ins {
							close(in)
						}
					}
					for _, done := range dones {
						<-done
					}
					cancel()
					synctest.Wait()
					require.Zero(t, teFireGoroutines(), "round %d", round)
				}
				if fc != nil {
					teRequireNoTimers(t, fc)
				}
			})
		})
	}
}

// 4. Bounds on timers.

// TestTimerGoroutinesBounded churns several Debounce and Batcher streams
// on RealClock in a bubble and counts the period timer goroutines as it
// goes: at most one per running Process call at any instant, none blocked
// (a settled bubble has none: its callback never waits), and none once the
// outputs have closed.
func TestTimerGoroutinesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		rng := rand.New(rand.NewPCG(2024, 1))

		type stream struct {
			in     chan Result[int]
			done   <-chan []string
			period time.Duration
		}
		var streams []stream
		for _, d := range []time.Duration{10 * time.Millisecond, 25 * time.Millisecond, time.Nanosecond} {
			in := make(chan Result[int])
			streams = append(streams, stream{in, teDrain(NewDebounce[int](d, RealClock).Process(ctx, in)), d})
		}
		for _, cfg := range []BatchConfig{
			{MaxSize: 3, MaxLatency: 10 * time.Millisecond},
			{MaxSize: 100, MaxLatency: 25 * time.Millisecond},
			{MaxSize: 2, MaxLatency: time.Nanosecond},
		} {
			in := make(chan Result[int])
			streams = append(streams, stream{in, teDrain(NewBatcher[int](cfg, RealClock).Process(ctx, in)), cfg.MaxLatency})
		}
		calls := len(streams)

		maxSeen, samples := 0, 0
		sample := func(settled bool, where string) {
			n := teFireGoroutines()
			samples++
			maxSeen = max(maxSeen, n)
			require.LessOrEqual(t, n, 2*calls, "%s: %d timer goroutines for %d Process calls", where, n, calls)
			require.LessOrEqual(t, n, calls, "%s: %d timer goroutines for %d Process calls", where, n, calls)
			if settled {
				require.Zero(t, n, "%s: a timer goroutine is blocked", where)
			}
		}

		v := 0
		for round := range 300 {
			for _, s := range streams {
				if rng.IntN(2) == 0 {
					continue
				}
				for range 1 + rng.IntN(5) {
					v++
					s.in <- NewSuccess(v)
				}
			}
			sample(false, fmt.Sprintf("round %d, after the burst", round))
			synctest.Wait()
			sample(true, fmt.Sprintf("round %d, settled", round))
			p := streams[rng.IntN(len(streams))].period
			time.Sleep(teChurnWait(rng, p) + time.Duration(rng.IntN(3)))
			sample(false, fmt.Sprintf("round %d, right after the wait", round))
		}
		for _, s := range streams {
			close(s.in)
		}
		for _, s := range streams {
			<-s.done
		}
		synctest.Wait()
		require.Zero(t, teFireGoroutines(), "a timer goroutine is left after every output closed")
		t.Logf("%d samples, at most %d timer goroutines for %d Process calls", samples, maxSeen, calls)
	})
}

// teBurst is the size of the bursts in the timer-counting tests.
const teBurst = 100_000

func TestDebounce_BurstArmsOneTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Hour
		fc := newTEClock(false)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		in := make(chan Result[int])
		out := NewDebounce[int](d, fc).Process(ctx, in)
		var got []string
		go func() {
			for r := range out {
				got = append(got, teFmt(r))
			}
		}()

		for i := 1; i <= teBurst; i++ {
			in <- NewSuccess(i)
		}
		synctest.Wait()
		require.Equal(t, teCounts{AfterFuncs: 1}, fc.counts(),
			"a burst of %d items must make one timer and arm it once", teBurst)
		fc.Advance(d)
		synctest.Wait()
		require.Equal(t, []string{fmt.Sprint(teBurst)}, got)

		// Later quiet periods reuse the timer: one Reset each, no new timer.
		const periods = 3
		for p := 1; p <= periods; p++ {
			for i := range 1000 {
				in <- NewSuccess(p*1_000_000 + i)
			}
			synctest.Wait()
			fc.Advance(d)
			synctest.Wait()
		}
		n := fc.counts()
		require.Equal(t, 1, n.AfterFuncs, "a new timer was made for a later period")
		require.Equal(t, periods, n.Resets, "want one re-arm per later period")
		require.Len(t, got, 1+periods)
		close(in)
		synctest.Wait()
		require.False(t, fc.HasWaiters())
	})
}

func TestBatcher_ArmsTimerAtMostOncePerBatch(t *testing.T) {
	t.Run("burst", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fc := newTEClock(false)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: time.Hour}, fc).Process(ctx, in)
			batches := 0
			go func() {
				for range out {
					batches++
				}
			}()
			for i := range teBurst {
				in <- NewSuccess(i)
			}
			synctest.Wait()
			require.Equal(t, teBurst/10, batches)
			n := fc.counts()
			require.Equal(t, 1, n.AfterFuncs, "a new timer was made for a later batch")
			require.LessOrEqual(t, n.Arms(), batches, "a batch armed the timer more than once")
			require.Zero(t, n.Others)
			require.False(t, fc.HasWaiters(), "a timer is armed with no batch open")
			close(in)
		})
	})
	t.Run("mixed size and latency", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			const latency = time.Hour
			fc := newTEClock(false)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			in := make(chan Result[int])
			out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: latency}, fc).Process(ctx, in)
			batches := 0
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range out {
					batches++
				}
			}()
			rng := rand.New(rand.NewPCG(5, 6))
			v := 0
			for range 2000 {
				for range rng.IntN(25) {
					v++
					in <- NewSuccess(v)
				}
				fc.advanceInSteps([]time.Duration{0, latency / 3, latency / 2, latency, latency + 1}[rng.IntN(5)])
			}
			close(in)
			<-done
			n := fc.counts()
			require.Equal(t, 1, n.AfterFuncs, "a new timer was made for a later batch")
			require.LessOrEqual(t, n.Arms(), batches, "a batch armed the timer more than once")
			require.Greater(t, n.Resets, 0, "the schedule never re-armed the timer")
			t.Logf("%d batches, %d arms", batches, n.Arms())
		})
	})
}

// 5. Model tests: random schedules against the reference models in
// timer_events_test.go.

func TestThrottle_ModelSchedules(t *testing.T) {
	var cases []teModelCase[int]
	for _, d := range []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, time.Nanosecond, 0, -time.Second} {
		cases = append(cases, teModelCase[int]{
			name:   fmt.Sprintf("Throttle(%v)", d),
			period: d,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				return NewThrottle[int](d, clk).Process(ctx, in)
			},
			observe: teObserveItem,
			model:   func(steps []teStep) []teOut { return teModelThrottle(d, steps) },
		})
	}
	teCheckModel(t, cases)
}

func TestDebounce_ModelSchedules(t *testing.T) {
	var cases []teModelCase[int]
	for _, d := range []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, time.Nanosecond, 0, -time.Second} {
		cases = append(cases, teModelCase[int]{
			name:   fmt.Sprintf("Debounce(%v)", d),
			period: d,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				return NewDebounce[int](d, clk).Process(ctx, in)
			},
			observe: teObserveItem,
			model:   func(steps []teStep) []teOut { return teModelDebounce(d, steps) },
		})
	}
	teCheckModel(t, cases)
}

func TestBatcher_ModelSchedules(t *testing.T) {
	var cases []teModelCase[[]int]
	for _, cfg := range []BatchConfig{
		{MaxSize: 3, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 1000, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 5, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 1, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 4, MaxLatency: 0},
		{MaxSize: 2, MaxLatency: time.Nanosecond},
	} {
		cases = append(cases, teModelCase[[]int]{
			name:   fmt.Sprintf("Batcher(MaxSize %d, MaxLatency %v)", cfg.MaxSize, cfg.MaxLatency),
			period: cfg.MaxLatency,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[[]int] {
				return NewBatcher[int](cfg, clk).Process(ctx, in)
			},
			observe: teObserveBatch,
			model:   func(steps []teStep) []teOut { return teModelBatcher(cfg, steps) },
		})
	}
	teCheckModel(t, cases)
}

// teStaleReadClock is a FakeClock on which a test can make the processor's
// loop read the time and then stall before it acts on the reading, while
// the test moves the clock on. Timer functions run inside Advance and let
// the bubble settle before Advance moves on, so the loop reads the time at
// which the timer fired.
type teStaleReadClock struct {
	*FakeClock
	inTimer atomic.Bool
	stall   chan chan struct{} // the loop's next Now, outside a timer, takes one and waits for it to close
}

func (c *teStaleReadClock) AfterFunc(d time.Duration, f func()) Timer {
	return c.FakeClock.AfterFunc(d, func() {
		c.inTimer.Store(true)
		f()
		c.inTimer.Store(false)
		synctest.Wait()
	})
}

func (c *teStaleReadClock) Now() time.Time {
	now := c.FakeClock.Now()
	if !c.inTimer.Load() {
		select {
		case release := <-c.stall:
			<-release
		default:
		}
	}
	return now
}

// A Debounce timer that fires before a deadline that has since moved is
// re-armed for the remainder. If the loop re-armed it from its own reading
// of the clock, an Advance that went on between that reading and the
// re-arm would push the timer past the deadline, and the item would be
// emitted late, or, in a test that advanced once, never. The re-arm is
// made where the clock stands still: in the timer's own goroutine.
func TestDebounce_ReArmWhileAdvanceRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = 300 * time.Millisecond
		clk := &teStaleReadClock{FakeClock: NewFakeClock(), stall: make(chan chan struct{}, 1)}
		start := clk.Now()
		in := make(chan Result[int])
		out := NewDebounce[int](d, clk).Process(t.Context(), in)

		in <- NewSuccess(1) // deadline +300ms
		synctest.Wait()
		clk.Advance(100 * time.Millisecond)
		in <- NewSuccess(2) // deadline +400ms; the timer stays armed for +300ms
		synctest.Wait()

		release := make(chan struct{})
		clk.stall <- release
		clk.Advance(d) // to +400ms, through the early firing at +300ms
		close(release)

		r := <-out
		require.Equal(t, 2, r.Value())
		require.Equal(t, 400*time.Millisecond, clk.Since(start))
		close(in)
		_, open := <-out
		require.False(t, open)
	})
}
