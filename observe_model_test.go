//go:build go1.25

package streamz

// Model tests with an observer for Throttle and Debounce: the random
// schedules of race_test.go and edges_model_test.go, played with an
// observer attached, checked against the models' outputs and the reasons
// the models give them. Every helper here starts with "ow".

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// owObsCase is one configuration of an observed model test.
type owObsCase struct {
	name   string
	period time.Duration
	start  func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int]
	model  func(steps []teStep) ([]teOut, []string)
	// accounted: every success item sent shows in exactly one emit, drop,
	// coalesce or cancel. False where items are discarded unreported (a
	// Debounce with the trailing edge off).
	accounted bool
}

// owThrottleObsCases are the default Throttle's configurations of
// TestThrottle_ModelSchedules and the edge options' of
// edgeThrottleConfigs, with an observer.
func owThrottleObsCases() []owObsCase {
	cfgs := []edgeConfig{}
	for _, d := range []time.Duration{100 * time.Millisecond, time.Nanosecond, 0, -time.Second} {
		cfgs = append(cfgs, edgeConfig{d, edgeOpts{leading: true}})
	}
	cfgs = append(cfgs, edgeThrottleConfigs()...)
	var cases []owObsCase
	for _, c := range cfgs {
		cases = append(cases, owObsCase{
			name:   fmt.Sprintf("Throttle(%v, %v)", c.d, c.o),
			period: c.d,
			start: func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
				return edgeThrottle(c.d, c.o, clk).WithObserver(fn).Process(ctx, in)
			},
			model:     func(steps []teStep) ([]teOut, []string) { return edgeModelThrottleReasons(c.d, c.o, steps) },
			accounted: true,
		})
	}
	return cases
}

func owDebounceObsCases() []owObsCase {
	cfgs := []edgeConfig{}
	for _, d := range []time.Duration{100 * time.Millisecond, time.Nanosecond, 0, -time.Second} {
		cfgs = append(cfgs, edgeConfig{d, edgeOpts{trailing: true}})
	}
	cfgs = append(cfgs, edgeDebounceConfigs()...)
	var cases []owObsCase
	for _, c := range cfgs {
		cases = append(cases, owObsCase{
			name:   fmt.Sprintf("Debounce(%v, %v)", c.d, c.o),
			period: c.d,
			start: func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
				return edgeDebounce(c.d, c.o, clk).WithObserver(fn).Process(ctx, in)
			},
			model:     func(steps []teStep) ([]teOut, []string) { return edgeModelDebounceReasons(c.d, c.o, steps) },
			accounted: c.o.trailing || c.d <= 0,
		})
	}
	return cases
}

// owCheckModelObserved plays teModelSchedules/2 random schedules, spread
// over cases, under RealClock in a bubble and under a FakeClock (timer
// functions inline and in goroutines), with an observer, and checks: the
// outputs are the model's; each success output has exactly one emit event,
// in order, with the model's reason, Count 1 and the output's time; every
// success item sent is accounted for once (emitted, dropped, coalesced or
// lost in the cancel) where the case says so; and the lifecycle rules of
// obsCheckLifecycle, from one goroutine.
func owCheckModelObserved(t *testing.T, cases []owObsCase) {
	base := teSeed(t)
	for i := range teModelSchedules / 2 {
		c := cases[i%len(cases)]
		rng := rand.New(rand.NewPCG(base, uint64(i)))
		steps := teGenSchedule(rng, c.period)
		want, reasons := c.model(steps)
		sent := 0
		for _, s := range steps {
			if s.Kind == teSend {
				sent++
			}
		}
		for _, mode := range []teClockMode{teReal, teFakeSync, teFakeAsync} {
			rec := &obsRecorder{}
			var t0 time.Time
			got := teRun(t, mode, steps, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				t0 = clk.Now()
				return c.start(ctx, clk, rec.observe, in)
			}, teObserveItem)
			events := rec.all()
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("schedule %d of %s under %s: %s\n"+
					"replay with STREAMZ_MODEL_SEED=%d (schedule %d)\n"+
					"schedule: %v\nwant: %v %q\ngot:  %v\nevents: %v",
					i, c.name, mode, fmt.Sprintf(format, args...), base, i, steps, want, reasons, got, obsFmtAll(events, t0))
			}
			if len(got) != len(want) {
				fail("%d outputs, the model has %d", len(got), len(want))
			}
			var emits []Event
			accounted := 0
			for _, e := range events {
				switch e.Kind {
				case EventEmit:
					emits = append(emits, e)
					accounted += e.Count
				case EventDrop, EventCoalesce, EventCancel:
					accounted += e.Count
				}
			}
			k := 0
			for j, w := range want {
				g := got[j]
				if !slices.Equal(w.Vals, g.Vals) || w.Err != g.Err || w.Cause != g.Cause || w.At != g.At {
					fail("output %d is %v, the model's is %v", j, g, w)
				}
				if w.Err {
					continue
				}
				if k == len(emits) {
					fail("output %d (%v) has no emit event", j, g)
				}
				e := emits[k]
				k++
				if e.Reason != reasons[j] || e.Count != 1 || e.At.Sub(t0) != g.At {
					fail("output %d (%v) has emit event %s, want reason %q", j, g, obsFmt(e, t0), reasons[j])
				}
			}
			if k != len(emits) {
				fail("%d emit events for %d success outputs", len(emits), k)
			}
			if c.accounted && accounted != sent {
				fail("the events account for %d items, %d were sent", accounted, sent)
			}
			obsCheckLifecycle(t, events)
			rec.requireOneGoroutine(t)
		}
	}
}

func TestThrottle_ModelSchedulesObserved(t *testing.T) { owCheckModelObserved(t, owThrottleObsCases()) }
func TestDebounce_ModelSchedulesObserved(t *testing.T) { owCheckModelObserved(t, owDebounceObsCases()) }
