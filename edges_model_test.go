//go:build go1.25

package streamz

// Model tests for the edge options of Throttle and Debounce (issue 11):
// random schedules against small reference models, under RealClock in a
// synctest bubble, under a FakeClock in a bubble (teCheckModel's three
// modes), and in the plain style, with a settling FakeClock and nothing
// between the operations.
//
// Every helper here starts with "edge".

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// edgeOpts is one configuration of a processor's edge options.
type edgeOpts struct {
	leading, trailing bool
	maxWait           time.Duration // Debounce only
}

func (o edgeOpts) String() string {
	s := fmt.Sprintf("leading=%v trailing=%v", o.leading, o.trailing)
	if o.maxWait != 0 {
		s += fmt.Sprintf(" maxWait=%v", o.maxWait)
	}
	return s
}

func edgeThrottle(d time.Duration, o edgeOpts, clk Clock) *Throttle[int] {
	return NewThrottle[int](d, clk).WithLeading(o.leading).WithTrailing(o.trailing)
}

func edgeDebounce(d time.Duration, o edgeOpts, clk Clock) *Debounce[int] {
	db := NewDebounce[int](d, clk).WithLeading(o.leading).WithTrailing(o.trailing)
	if o.maxWait != 0 {
		db.WithMaxWait(o.maxWait)
	}
	return db
}

// edgeModelThrottle is RxJS's throttleTime with {leading, trailing}, as its
// documentation describes it, in time-first order: a cooldown that ends at
// an instant ends before any step at that instant. A cooldown opens with
// the first item after the previous one closed; if trailing is on, the last
// item that arrives in it is emitted when it ends, which opens the next
// cooldown there; a cooldown that ends with nothing held closes.
func edgeModelThrottle(d time.Duration, o edgeOpts, steps []teStep) []teOut {
	out, _ := edgeModelThrottleReasons(d, o, steps)
	return out
}

// edgeModelThrottleReasons is edgeModelThrottle with, for each output, the
// reason an observer is told it went out for ("" for an error).
func edgeModelThrottleReasons(d time.Duration, o edgeOpts, steps []teStep) (out []teOut, reasons []string) {
	emit := func(item teOut, reason string) {
		out = append(out, item)
		reasons = append(reasons, reason)
	}
	open := false
	var end time.Duration
	held, holding := 0, false
	for _, e := range teTimeline(steps) {
		for open && end <= e.At {
			if !holding {
				open = false
				break
			}
			emit(teItem(end, held), ReasonTrailing)
			holding = false
			end += d
		}
		switch e.Step.Kind {
		case teFail:
			emit(teError(e.At, e.Step.V), "")
		case teSend:
			switch {
			case d <= 0:
				emit(teItem(e.At, e.Step.V), ReasonLeading)
			case !open:
				open, end = true, e.At+d
				if o.leading {
					emit(teItem(e.At, e.Step.V), ReasonLeading)
				} else {
					held, holding = e.Step.V, true
				}
			case o.trailing:
				held, holding = e.Step.V, true
			}
		case teClose:
			if holding {
				emit(teItem(e.At, held), ReasonClose)
			}
		}
	}
	return out, reasons
}

// edgeModelDebounce is lodash's debounce with {leading, trailing, maxWait},
// written the way lodash's documentation and source lay it out (a timer
// that, when it expires, either invokes the trailing edge or restarts for
// what remains), with timers that fire exactly on time and before any step
// at the same instant. It departs from lodash in one place, on purpose: the
// timer started for the first call after a trailing invocation is set for
// what remains of both d and maxWait, not for d alone, so that an item
// never waits more than maxWait after an emission (see Debounce's doc).
func edgeModelDebounce(d time.Duration, o edgeOpts, steps []teStep) []teOut {
	out, _ := edgeModelDebounceReasons(d, o, steps)
	return out
}

// edgeModelDebounceReasons is edgeModelDebounce with, for each output, the
// reason an observer is told it went out for ("" for an error). An item
// passed straight through because d <= 0 went out for its (empty) quiet
// period.
func edgeModelDebounceReasons(d time.Duration, o edgeOpts, steps []teStep) (out []teOut, reasons []string) {
	emit := func(item teOut, reason string) {
		out = append(out, item)
		reasons = append(reasons, reason)
	}
	if d <= 0 {
		for _, e := range teTimeline(steps) {
			switch e.Step.Kind {
			case teFail:
				emit(teError(e.At, e.Step.V), "")
			case teSend:
				emit(teItem(e.At, e.Step.V), ReasonDeadline)
			}
		}
		return out, reasons
	}
	maxWait := o.maxWait
	maxing := maxWait > 0
	if maxing {
		maxWait = max(maxWait, d)
	}
	var (
		args, hasArgs = 0, false // lodash's lastArgs
		lastCall      time.Duration
		hasCall       bool
		lastInvoke    time.Duration
		timerDue      time.Duration
		timerSet      bool
	)
	invoke := func(at time.Duration, reason string) {
		emit(teItem(at, args), reason)
		hasArgs = false
		lastInvoke = at
	}
	shouldInvoke := func(at time.Duration) bool {
		return !hasCall || at-lastCall >= d || (maxing && at-lastInvoke >= maxWait)
	}
	remaining := func(at time.Duration) time.Duration {
		if maxing {
			return min(lastCall+d-at, lastInvoke+maxWait-at)
		}
		return lastCall + d - at
	}
	for _, e := range teTimeline(steps) {
		for timerSet && timerDue <= e.At {
			at := timerDue
			if !shouldInvoke(at) {
				timerDue = at + remaining(at)
				continue
			}
			timerSet = false // trailingEdge
			if o.trailing && hasArgs {
				// The quiet period's end, unless maxWait's came first.
				reason := ReasonDeadline
				if at-lastCall < d {
					reason = ReasonMaxWait
				}
				invoke(at, reason)
			}
			hasArgs = false
		}
		switch e.Step.Kind {
		case teFail:
			emit(teError(e.At, e.Step.V), "")
		case teSend:
			at := e.At
			invoking := shouldInvoke(at)
			args, hasArgs, lastCall, hasCall = e.Step.V, true, at, true
			if invoking && timerSet {
				// lodash's "tight loop" branch: with timers on time and
				// applied first, the timer has always expired by now.
				panic("edgeModelDebounce: invoking with the timer set")
			}
			if invoking { // leadingEdge
				lastInvoke = at
				timerSet, timerDue = true, at+d
				if o.leading {
					invoke(at, ReasonLeading)
				}
				continue
			}
			if !timerSet {
				timerSet, timerDue = true, at+remaining(at) // lodash: at + d
			}
		case teClose:
			if o.trailing && hasArgs { // lodash's flush
				emit(teItem(e.At, args), ReasonClose)
			}
		}
	}
	return out, reasons
}

// edgeThrottleCases and edgeDebounceCases are the configurations the model
// tests draw from, defaults included.
func edgeThrottleCases() []teModelCase[int] {
	var cases []teModelCase[int]
	for _, c := range edgeThrottleConfigs() {
		d, o := c.d, c.o
		cases = append(cases, teModelCase[int]{
			name:   fmt.Sprintf("Throttle(%v, %v)", d, o),
			period: d,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				return edgeThrottle(d, o, clk).Process(ctx, in)
			},
			observe: teObserveItem,
			model:   func(steps []teStep) []teOut { return edgeModelThrottle(d, o, steps) },
		})
	}
	return cases
}

// edgeConfig is a period and edge options.
type edgeConfig struct {
	d time.Duration
	o edgeOpts
}

// edgeThrottleConfigs and edgeDebounceConfigs are the configurations of
// the model tests.
func edgeThrottleConfigs() []edgeConfig {
	var cfgs []edgeConfig
	for _, d := range []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, time.Nanosecond, 0} {
		for _, o := range []edgeOpts{{true, true, 0}, {false, true, 0}, {true, false, 0}} {
			cfgs = append(cfgs, edgeConfig{d, o})
		}
	}
	return cfgs
}

func edgeDebounceCases() []teModelCase[int] {
	var cases []teModelCase[int]
	for _, c := range edgeDebounceConfigs() {
		cases = append(cases, teModelCase[int]{
			name:   fmt.Sprintf("Debounce(%v, %v)", c.d, c.o),
			period: c.d,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				return edgeDebounce(c.d, c.o, clk).Process(ctx, in)
			},
			observe: teObserveItem,
			model:   func(steps []teStep) []teOut { return edgeModelDebounce(c.d, c.o, steps) },
		})
	}
	return cases
}

func edgeDebounceConfigs() []edgeConfig {
	const d = 100 * time.Millisecond
	type cfg = edgeConfig
	var cfgs []cfg
	for _, o := range []edgeOpts{
		{false, true, 0}, {true, true, 0}, {true, false, 0},
		{false, true, 250 * time.Millisecond}, {true, true, 250 * time.Millisecond}, {true, false, 250 * time.Millisecond},
		{false, true, d}, {true, true, d}, {true, false, d},
		{false, true, 150 * time.Millisecond}, {true, true, 130 * time.Millisecond},
		{false, true, 40 * time.Millisecond}, // raised to d
	} {
		cfgs = append(cfgs, cfg{d, o})
	}
	cfgs = append(cfgs, cfg{time.Nanosecond, edgeOpts{true, true, 3}}, cfg{0, edgeOpts{true, false, 0}})
	return cfgs
}

func TestThrottleEdges_ModelSchedules(t *testing.T) { teCheckModel(t, edgeThrottleCases()) }
func TestDebounceEdges_ModelSchedules(t *testing.T) { teCheckModel(t, edgeDebounceCases()) }

// The default configurations against the old models: the options change
// nothing for call sites that do not use them.
func TestEdgeModelsAgreeWithDefaults(t *testing.T) {
	rng := rand.New(rand.NewPCG(teSeed(t), 11))
	for range 2000 {
		d := []time.Duration{100 * time.Millisecond, time.Nanosecond, 0}[rng.IntN(3)]
		steps := teGenSchedule(rng, d)
		require.Equal(t, teModelThrottle(d, steps), edgeModelThrottle(d, edgeOpts{leading: true}, steps), "%v", steps)
		require.Equal(t, teModelDebounce(d, steps), edgeModelDebounce(d, edgeOpts{trailing: true}, steps), "%v", steps)
	}
}

// The plain style: a bare FakeClock, whose Advance settles the processor
// and the collector (a clock-less loop joined to it by the output channel)
// before and after every instant it fires, and nothing at all between the
// operations: no synctest, no BlockUntil, no sleeps.

// edgeCollectLoop calls take for every output of out, on a goroutine of its
// own, until out closes, and returns a channel closed then and the stop of
// the collector. The collector uses the loop machinery, so that settling
// in the plain style waits until take has seen what was taken.
func edgeCollectLoop[O any](out <-chan Result[O], take func(Result[O])) (done <-chan struct{}, stop context.CancelFunc) {
	ctx, stop := context.WithCancel(context.Background())
	lp := newLoop(ctx, "test", nil, out)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		defer lp.exit()
		for {
			r, ok, _, stop := receive(lp, nil, out)
			if stop || !ok {
				return
			}
			take(r)
		}
	}()
	return closed, stop
}

// edgeRunPlain plays steps as a test in the plain style would, and returns
// what came out with when it came out.
func edgeRunPlain(t *testing.T, steps []teStep, c teModelCase[int]) []teOut {
	t.Helper()
	errs, causes := teErrors(steps, "edge")
	fc := NewFakeClock()
	start := fc.Now()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := make(chan Result[int])
	out := c.process(ctx, fc, in)

	var got []teOut
	done, stopCollector := edgeCollectLoop(out, func(r Result[int]) {
		o := c.observe(r)
		o.At = fc.Since(start)
		if r.IsError() {
			o.Cause = -1
			if v, ok := causes[r.Error().Err]; ok {
				o.Cause = v
			}
		}
		got = append(got, o)
	})
	defer stopCollector()
	for _, s := range steps {
		switch s.Kind {
		case teSend:
			in <- NewSuccess(s.V)
		case teFail:
			in <- NewError(s.V, errs[s.V], "edge")
		case teWait:
			fc.Advance(s.W)
		case teClose:
			close(in)
		case teCancel:
			fc.BlockUntilReady() // what fell due before the cancel is out
			cancel()
		}
	}
	select {
	case <-done:
	case <-time.After(teSafety):
		t.Fatalf("the output did not close within %v", teSafety)
	}
	return got
}

func edgeCheckPlain(t *testing.T, cases []teModelCase[int]) {
	base := teSeed(t)
	for i := range teModelSchedules {
		c := cases[i%len(cases)]
		rng := rand.New(rand.NewPCG(base, uint64(i)))
		steps := teGenSchedule(rng, c.period)
		want := c.model(steps)
		got := edgeRunPlain(t, steps, c)
		if !slices.EqualFunc(want, got, func(a, b teOut) bool {
			return slices.Equal(a.Vals, b.Vals) && a.Err == b.Err && a.Cause == b.Cause && a.At == b.At
		}) {
			t.Fatalf("schedule %d of %s in the plain style differs from the model\n"+
				"replay with STREAMZ_MODEL_SEED=%d (schedule %d)\n"+
				"schedule: %v\nwant: %v\ngot:  %v",
				i, c.name, base, i, steps, want, got)
		}
	}
}

func TestThrottleEdges_ModelSchedulesPlain(t *testing.T) { edgeCheckPlain(t, edgeThrottleCases()) }
func TestDebounceEdges_ModelSchedulesPlain(t *testing.T) { edgeCheckPlain(t, edgeDebounceCases()) }
