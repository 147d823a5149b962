//go:build go1.25

package streamz

// Model tests for Retry and CircuitBreaker (issue 19, items 4 and 5):
// random schedules, with a random script of what fn does on each call,
// against small reference models written from the documented behaviour,
// under RealClock in a synctest bubble, under a FakeClock in a bubble (with
// timer functions in Advance and in goroutines of their own), and in the
// plain style with a settling FakeClock and nothing between the steps. The
// outputs, with their times, and the observer's events, with theirs, must
// be the model's exactly.
//
// Every helper here starts with "rs".

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// rsOutcome is what fn does on one call.
type rsOutcome uint8

const (
	rsOK        rsOutcome = iota
	rsTransient           // an error every policy retries
	rsPermanent           // an error that rsRetryable refuses
	rsPanic
)

var errRSPermanent = errors.New("permanent")

// rsRetryable is the Retryable of the model policies that have one.
func rsRetryable(err error) bool { return !errors.Is(err, errRSPermanent) }

// rsScript says what fn does on each call for each item: sc[v][k-1] is call
// k's outcome for item v; calls beyond the script succeed.
type rsScript map[int][]rsOutcome

func (sc rsScript) outcome(v, call int) rsOutcome {
	if o := sc[v]; call <= len(o) {
		return o[call-1]
	}
	return rsOK
}

// rsGenScript draws a script for every success item of steps: up to five
// failures, mostly transient, ended by a success.
func rsGenScript(rng *rand.Rand, steps []teStep) rsScript {
	sc := rsScript{}
	for _, s := range steps {
		if s.Kind != teSend {
			continue
		}
		var calls []rsOutcome
		for range rng.IntN(6) {
			switch r := rng.IntN(20); {
			case r < 13:
				calls = append(calls, rsTransient)
			case r < 17:
				calls = append(calls, rsPermanent)
			case r < 18:
				calls = append(calls, rsPanic)
			default:
				calls = append(calls, rsOK)
			}
		}
		sc[s.V] = calls
	}
	return sc
}

// rsFn is fn for a script. It counts each item's calls itself, and runs on
// the processor's goroutine only.
func rsFn(sc rsScript) func(context.Context, int) (int, error) {
	calls := map[int]int{}
	return func(_ context.Context, v int) (int, error) {
		calls[v]++
		switch sc.outcome(v, calls[v]) {
		case rsOK:
			return v, nil
		case rsTransient:
			return v, fmt.Errorf("transient %d/%d", v, calls[v])
		case rsPermanent:
			return v, fmt.Errorf("%w %d/%d", errRSPermanent, v, calls[v])
		default:
			panic(fmt.Sprintf("rs panic %d", v))
		}
	}
}

// rsOut is one output as the tests see it.
type rsOut struct {
	Kind    string // "ok", "err" (fn's error), "panic", "refused" or "passed" (an error input)
	V       int    // the value, or the item the error holds (the input's for "passed")
	Retries int    // MetadataRetryCount, 0 when absent
	At      time.Duration
}

func (o rsOut) String() string {
	s := fmt.Sprintf("%s:%d@%v", o.Kind, o.V, o.At)
	if o.Retries != 0 {
		s += fmt.Sprintf("(%d attempts)", o.Retries)
	}
	return s
}

func rsObserve(r Result[int], at time.Duration) rsOut {
	o := rsOut{At: at}
	if n, ok := r.GetMetadata(MetadataRetryCount); ok {
		o.Retries = n.(int)
	}
	if r.IsSuccess() {
		o.Kind, o.V = "ok", r.Value()
		return o
	}
	se := r.Error()
	var pe *userPanicError
	switch inner, passed := se.Err.(*StreamError[int]); {
	case passed:
		o.Kind, o.V = "passed", inner.Item
	case errors.Is(se.Err, ErrCircuitOpen):
		o.Kind, o.V = "refused", se.Item
	case errors.As(se.Err, &pe):
		o.Kind, o.V = "panic", se.Item
	default:
		o.Kind, o.V = "err", se.Item
	}
	return o
}

// rsEvent is an observer event as the tests see it: every kind but the
// timer events, the cancel and the close, which other tests cover.
type rsEvent struct {
	Kind   EventKind
	Reason string
	Count  int
	At     time.Duration
}

func (e rsEvent) String() string {
	return fmt.Sprintf("%v/%s/%d@%v", e.Kind, e.Reason, e.Count, e.At)
}

// rsCase is one processor configuration of a model test.
type rsCase struct {
	name    string
	period  time.Duration // what waits are drawn around
	process func(ctx context.Context, clk Clock, obs func(Event), fn func(context.Context, int) (int, error), in <-chan Result[int]) <-chan Result[int]
	model   func(steps []teStep, sc rsScript) ([]rsOut, []rsEvent)
}

// rsBuffer is the capacity of the Buffer every run puts before the
// processor, so that a send never waits for a Retry that holds its
// producer back: longer than any schedule.
const rsBuffer = 128

// rsRun plays steps, with fn following sc, against the case's processor
// under mode, and returns what came out and what the observer saw, with
// their times. A Buffer before the processor takes every send at once; the
// model says when the processor takes each item. After the input closes,
// time moves on to the model's last output, so that every attempt is made.
func rsRun(t *testing.T, mode teClockMode, steps []teStep, sc rsScript, c rsCase) (outs []rsOut, events []rsEvent) {
	t.Helper()
	errs, _ := teErrors(steps, "rs")
	want, _ := c.model(steps, sc)
	var horizon time.Duration
	for _, o := range want {
		horizon = max(horizon, o.At)
	}
	run := func(t *testing.T) {
		var (
			clk     Clock
			start   time.Time
			wait    func(time.Duration)
			settled func() // what fell due is handled
		)
		switch mode {
		case teReal:
			clk, wait, settled = RealClock, time.Sleep, synctest.Wait
		case teFakeSync, teFakeAsync:
			tc := newTEClock(mode == teFakeAsync)
			clk, wait, settled = tc, tc.advanceInSteps, synctest.Wait
		default:
			fc := NewFakeClock()
			clk, wait, settled = fc, fc.Advance, fc.BlockUntilReady
		}
		start = clk.Now()
		var mu sync.Mutex
		obs := func(e Event) {
			switch e.Kind {
			case EventTimerArm, EventTimerFire, EventTimerStop, EventCancel, EventClose:
				return
			}
			mu.Lock()
			defer mu.Unlock()
			events = append(events, rsEvent{e.Kind, e.Reason, e.Count, e.At.Sub(start)})
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		in := make(chan Result[int])
		out := c.process(ctx, clk, obs, rsFn(sc), NewBuffer[int](rsBuffer).Process(ctx, in))

		done, stopCollector := edgeCollectLoop(out, func(r Result[int]) { outs = append(outs, rsObserve(r, clk.Since(start))) })
		defer stopCollector()
		var now time.Duration
		for _, s := range steps {
			switch s.Kind {
			case teSend:
				in <- NewSuccess(s.V)
			case teFail:
				in <- NewError(s.V, errs[s.V], "rs")
			case teWait:
				wait(s.W)
				now += s.W
			case teClose:
				close(in)
				if mode != teReal && horizon > now {
					wait(horizon - now)
				}
			case teCancel:
				settled()
				cancel()
			}
			if mode != tePlain && (s.Kind == teSend || s.Kind == teFail) {
				synctest.Wait()
			}
		}
		if mode != tePlain {
			<-done
			return
		}
		select {
		case <-done:
		case <-time.After(teWatchdog):
			t.Fatalf("the output did not close within %v\nschedule: %v\ngot: %v", teWatchdog, steps, outs)
		}
	}
	if mode == tePlain {
		run(t)
	} else {
		synctest.Test(t, run)
	}
	return outs, events
}

// rsCheckModel plays teModelSchedules random schedules, spread over cases,
// under every clock mode.
func rsCheckModel(t *testing.T, cases []rsCase) {
	base := teSeed(t)
	for i := range teModelSchedules {
		c := cases[i%len(cases)]
		rng := rand.New(rand.NewPCG(base, uint64(i)))
		steps := teGenSchedule(rng, c.period)
		sc := rsGenScript(rng, steps)
		want, wantEvents := c.model(steps, sc)
		for _, mode := range teClockModes {
			got, gotEvents := rsRun(t, mode, steps, sc, c)
			if !slices.Equal(want, got) || !slices.Equal(wantEvents, gotEvents) {
				t.Fatalf("schedule %d of %s under %s differs from the model\n"+
					"replay with STREAMZ_MODEL_SEED=%d (schedule %d)\n"+
					"schedule: %v\nscript: %v\nwant: %v\ngot:  %v\nwant events: %v\ngot events:  %v",
					i, c.name, mode, base, i, steps, sc, want, got, wantEvents, gotEvents)
			}
		}
	}
}

// rsCancelAt returns the instant of the schedule's cancel, or the largest
// Duration when it closes instead.
func rsCancelAt(steps []teStep) time.Duration {
	for _, e := range teTimeline(steps) {
		if e.Step.Kind == teCancel {
			return e.At
		}
	}
	return math.MaxInt64
}

// rsModelRetry is Retry with policy p as its documentation describes it:
// items are taken one at a time, each when it has been sent and the one
// before has gone out; attempt k+1 is made wait_k after attempt k, where
// wait_k = min(Backoff·Multiplier^(k-1), MaxBackoff) less its jitter; the
// item goes out at the attempt that ends its tries. A cancel ends
// everything after its instant. retryable says whether the policy has
// rsRetryable; newSource gives the jitter's draws.
func rsModelRetry(p RetryPolicy, retryable bool, newSource func() rand.Source) func([]teStep, rsScript) ([]rsOut, []rsEvent) {
	return func(steps []teStep, sc rsScript) (outs []rsOut, events []rsEvent) {
		var jitter *rand.Rand
		if p.Jitter != 0 {
			jitter = rand.New(newSource())
		}
		waitAfter := func(k int) time.Duration {
			m := max(p.Multiplier, 1)
			w := time.Duration(float64(p.Backoff) * math.Pow(m, float64(k-1)))
			if p.MaxBackoff > 0 {
				w = min(w, p.MaxBackoff)
			}
			if jitter != nil {
				w -= time.Duration(p.Jitter * jitter.Float64() * float64(w))
			}
			return w
		}
		end := rsCancelAt(steps)
		var free time.Duration // when the processor takes its next input
		emit := func(kind, reason string, v, k int, at time.Duration) {
			o := rsOut{Kind: kind, V: v, At: at}
			if k > 1 || kind != "ok" {
				o.Retries = k
			}
			outs = append(outs, o)
			events = append(events, rsEvent{EventEmit, reason, 1, at})
		}
	items:
		for _, e := range teTimeline(steps) {
			at := max(e.At, free)
			if at > end {
				break
			}
			v := e.Step.V
			switch e.Step.Kind {
			case teFail:
				outs = append(outs, rsOut{Kind: "passed", V: v, At: at})
			case teSend:
				for k := 1; ; k++ {
					if at > end {
						break items
					}
					o := sc.outcome(v, k)
					switch {
					case o == rsOK:
						emit("ok", ReasonSucceeded, v, k, at)
					case o == rsPanic:
						emit("panic", ReasonFailed, 0, k, at)
					case o == rsPermanent && retryable:
						emit("err", ReasonFailed, v, k, at)
					case k == p.Attempts:
						emit("err", ReasonExhausted, v, k, at)
					default:
						events = append(events, rsEvent{EventRetry, "", k, at})
						at += max(waitAfter(k), 0)
						continue
					}
					break
				}
			}
			free = at
		}
		return outs, events
	}
}

// rsPCG is the jitter source of the model cases: the same draws for the
// processor and the model.
func rsPCG() rand.Source { return rand.NewPCG(19, 4) }

func rsRetryCases() []rsCase {
	type cfg struct {
		p         RetryPolicy
		retryable bool
	}
	cfgs := []cfg{
		{RetryPolicy{Attempts: 3, Backoff: 100 * time.Millisecond, Multiplier: 2, MaxBackoff: 300 * time.Millisecond}, false},
		{RetryPolicy{Attempts: 4, Backoff: 50 * time.Millisecond}, true},
		{RetryPolicy{Attempts: 1, Backoff: 50 * time.Millisecond}, false},
		{RetryPolicy{Attempts: 3}, true},
		{RetryPolicy{Attempts: 5, Backoff: 30 * time.Millisecond, Multiplier: 1.5, Jitter: 0.5}, true},
		{RetryPolicy{Attempts: 6, Backoff: 20 * time.Millisecond, Multiplier: 2, MaxBackoff: 70 * time.Millisecond, Jitter: 1}, false},
	}
	var cases []rsCase
	for _, c := range cfgs {
		p := c.p
		if c.retryable {
			p.Retryable = rsRetryable
		}
		period := max(p.Backoff, 10*time.Millisecond)
		cases = append(cases, rsCase{
			name:   fmt.Sprintf("Retry(%+v, retryable=%v)", c.p, c.retryable),
			period: period,
			process: func(ctx context.Context, clk Clock, obs func(Event), fn func(context.Context, int) (int, error), in <-chan Result[int]) <-chan Result[int] {
				return NewRetry(fn, p, clk).WithJitterSource(rsPCG).WithObserver(obs).Process(ctx, in)
			},
			model: rsModelRetry(p, c.retryable, rsPCG),
		})
	}
	return cases
}

// rsModelBreaker is CircuitBreaker with policy p as its documentation
// describes it, with the cool-off's end applied before any step at or after
// it.
func rsModelBreaker(p BreakerPolicy) func([]teStep, rsScript) ([]rsOut, []rsEvent) {
	return func(steps []teStep, sc rsScript) (outs []rsOut, events []rsEvent) {
		const (
			closed = iota
			open
			halfOpen
		)
		state := closed
		var ends time.Duration
		var calls []bool // outcomes since the breaker closed, true for a failure
		consecutive := 0
		for _, e := range teTimeline(steps) {
			if state == open && e.At >= ends {
				state = halfOpen
				events = append(events, rsEvent{EventBreakerHalfOpen, "", 0, ends})
			}
			at, v := e.At, e.Step.V
			openFor := func(reason string) {
				state, ends, calls, consecutive = open, at+p.CoolOff, nil, 0
				events = append(events, rsEvent{EventBreakerOpen, reason, 0, at})
			}
			switch e.Step.Kind {
			case teFail:
				outs = append(outs, rsOut{Kind: "passed", V: v, At: at})
				continue
			case teSend:
			default:
				continue
			}
			if state == open {
				outs = append(outs, rsOut{Kind: "refused", At: at})
				events = append(events, rsEvent{EventEmit, ReasonRefused, 1, at})
				continue
			}
			o := sc.outcome(v, 1)
			failed := o != rsOK
			switch {
			case state == halfOpen && failed:
				openFor(ReasonTrial)
			case state == halfOpen:
				state = closed
				events = append(events, rsEvent{EventBreakerClosed, "", 0, at})
			case failed:
				consecutive++
				calls = append(calls, true)
				last := calls[max(0, len(calls)-p.Window):]
				failures := 0
				for _, f := range last {
					if f {
						failures++
					}
				}
				switch {
				case p.ConsecutiveFailures > 0 && consecutive >= p.ConsecutiveFailures:
					openFor(ReasonConsecutive)
				case p.Window > 0 && len(last) == p.Window && float64(failures)/float64(p.Window) >= p.FailureRatio:
					openFor(ReasonRatio)
				}
			default:
				consecutive = 0
				calls = append(calls, false)
			}
			switch o {
			case rsOK:
				outs = append(outs, rsOut{Kind: "ok", V: v, At: at})
				events = append(events, rsEvent{EventEmit, ReasonSucceeded, 1, at})
			case rsPanic:
				outs = append(outs, rsOut{Kind: "panic", At: at})
				events = append(events, rsEvent{EventEmit, ReasonFailed, 1, at})
			default:
				outs = append(outs, rsOut{Kind: "err", V: v, At: at})
				events = append(events, rsEvent{EventEmit, ReasonFailed, 1, at})
			}
		}
		return outs, events
	}
}

func rsBreakerCases() []rsCase {
	policies := []BreakerPolicy{
		{ConsecutiveFailures: 3, CoolOff: 100 * time.Millisecond},
		{Window: 4, FailureRatio: 0.5, CoolOff: 100 * time.Millisecond},
		{ConsecutiveFailures: 2, Window: 5, FailureRatio: 0.6, CoolOff: 50 * time.Millisecond},
		{ConsecutiveFailures: 1, CoolOff: time.Nanosecond},
		{Window: 1, FailureRatio: 1, CoolOff: 30 * time.Millisecond},
	}
	var cases []rsCase
	for _, p := range policies {
		cases = append(cases, rsCase{
			name:   fmt.Sprintf("CircuitBreaker(%+v)", p),
			period: p.CoolOff,
			process: func(ctx context.Context, clk Clock, obs func(Event), fn func(context.Context, int) (int, error), in <-chan Result[int]) <-chan Result[int] {
				return NewCircuitBreaker(fn, p, clk).WithObserver(obs).Process(ctx, in)
			},
			model: rsModelBreaker(p),
		})
	}
	return cases
}

func TestRetry_ModelSchedules(t *testing.T)          { rsCheckModel(t, rsRetryCases()) }
func TestCircuitBreaker_ModelSchedules(t *testing.T) { rsCheckModel(t, rsBreakerCases()) }
