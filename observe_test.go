//go:build go1.25

package streamz

// Tests of the observer API (observe.go) and of what Batcher and the period
// timer report. Every helper here starts with "obs".

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// obsRecorder collects the events of one or more Process calls, with the
// goroutine that reported each. Its observe method may be called from any
// goroutine.
type obsRecorder struct {
	mu         sync.Mutex
	events     []Event
	goroutines []string
}

func (r *obsRecorder) observe(e Event) {
	g := obsGoroutine()
	r.mu.Lock()
	r.events = append(r.events, e)
	r.goroutines = append(r.goroutines, g)
	r.mu.Unlock()
}

// obsGoroutine returns the calling goroutine's number, from the first line
// of its stack trace ("goroutine 7 [running]:"). It is only for checking,
// in tests, that one Process call reports from one goroutine.
func obsGoroutine() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	if len(f) < 2 || f[0] != "goroutine" {
		panic("obsGoroutine: unexpected stack trace " + string(buf))
	}
	return f[1]
}

// requireOneGoroutine checks that every event was reported by the goroutine
// that reported the last one, the Process goroutine that reports close.
func (r *obsRecorder) requireOneGoroutine(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, g := range r.goroutines {
		require.Equal(t, r.goroutines[len(r.goroutines)-1], g,
			"event %d (%v) was reported from another goroutine than close", i, r.events[i])
	}
}

func (r *obsRecorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// obsFmt renders an event relative to start, as "kind/reason/count@at".
func obsFmt(e Event, start time.Time) string {
	return fmt.Sprintf("%s/%s/%d@%v", e.Kind, e.Reason, e.Count, e.At.Sub(start))
}

func obsFmtAll(events []Event, start time.Time) []string {
	var out []string
	for _, e := range events {
		out = append(out, obsFmt(e, start))
	}
	return out
}

func TestEventKind_String(t *testing.T) {
	want := map[EventKind]string{
		EventEmit:      "emit",
		EventDrop:      "drop",
		EventCoalesce:  "coalesce",
		EventTimerArm:  "timer-arm",
		EventTimerFire: "timer-fire",
		EventTimerStop: "timer-stop",
		EventCancel:    "cancel",
		EventClose:     "close",
		0:              "EventKind(0)",
		-1:             "EventKind(-1)",

		EventRetry:             "retry",
		EventBreakerOpen:       "breaker-open",
		EventBreakerHalfOpen:   "breaker-half-open",
		EventBreakerClosed:     "breaker-closed",
		EventBreakerClosed + 1: "EventKind(13)",
	}
	for k, s := range want {
		assert.Equal(t, s, k.String(), "EventKind(%d)", int(k))
	}
}

func TestReasons_Values(t *testing.T) {
	got := []string{ReasonLeading, ReasonTrailing, ReasonDeadline, ReasonMaxWait, ReasonSize,
		ReasonLatency, ReasonWindowEnd, ReasonSessionGap, ReasonClose,
		ReasonCooldown, ReasonTimeout, ReasonGap}
	want := []string{"leading", "trailing", "deadline", "max-wait", "size",
		"latency", "window-end", "session-gap", "close",
		"cooldown", "timeout", "gap"}
	assert.Equal(t, want, got)
}

func TestReasons_ValuesOfRetryAndCircuitBreaker(t *testing.T) {
	got := []string{ReasonSucceeded, ReasonFailed, ReasonExhausted, ReasonRefused,
		ReasonConsecutive, ReasonRatio, ReasonTrial}
	want := []string{"succeeded", "failed", "exhausted", "refused",
		"consecutive", "ratio", "trial"}
	assert.Equal(t, want, got)
}

// Event sequences.

// obsStep is one step of a sequence test: send v (an error when err), let
// wait pass, close the input or cancel. After each step the test lets the
// bubble settle, so that every sequence is exact.
type obsStep struct {
	send   int
	err    bool
	wait   time.Duration
	close  bool
	cancel bool
	read   bool // with noReader: receive one output now
}

func obsSend(v int) obsStep              { return obsStep{send: v} }
func obsFail(v int) obsStep              { return obsStep{send: v, err: true} }
func obsWait(d time.Duration) obsStep    { return obsStep{wait: d} }
func obsCloseIn() obsStep                { return obsStep{close: true} }
func obsCancelCtx() obsStep              { return obsStep{cancel: true} }
func obsRead() obsStep                   { return obsStep{read: true} }
func obsMs(n int) time.Duration          { return time.Duration(n) * time.Millisecond }
func obsEv(s string, at int) string      { return s + "@" + obsMs(at).String() }
func obsEmit(r string, n, at int) string { return obsEv(fmt.Sprintf("emit/%s/%d", r, n), at) }

var (
	obsArm   = func(at int) string { return obsEv("timer-arm//0", at) }
	obsFire  = func(at int) string { return obsEv("timer-fire//0", at) }
	obsStop  = func(at int) string { return obsEv("timer-stop//0", at) }
	obsClose = func(at int) string { return obsEv("close//0", at) }
	obsCanc  = func(n, at int) string { return obsEv(fmt.Sprintf("cancel//%d", n), at) }
)

// obsPlay runs steps against the processor that start starts, in a
// synctest bubble, on RealClock (fake false) or a FakeClock, reading the
// output as it comes unless noReader. It returns the events, rendered from
// the start of the run, and the outputs, and checks that every event names
// the processor name and came from one goroutine. Once the output is
// closed the observer must have seen every event: the test reads them
// only then.
func obsPlay[O any](t *testing.T, name string, fake, noReader bool, steps []obsStep,
	start func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[O],
) (events []string, outputs []string) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		var clk Clock = RealClock
		wait := time.Sleep
		if fake {
			fc := NewFakeClock()
			clk, wait = fc, fc.Advance
		}
		t0 := clk.Now()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		rec := &obsRecorder{}
		in := make(chan Result[int])
		out := start(ctx, clk, rec.observe, in)
		done := make(chan struct{})
		if noReader {
			close(done)
		} else {
			go func() {
				defer close(done)
				for r := range out {
					outputs = append(outputs, obsFmtOut(r))
				}
			}()
		}
		for _, s := range steps {
			switch {
			case s.close:
				close(in)
			case s.cancel:
				cancel()
			case s.read:
				outputs = append(outputs, obsFmtOut(<-out))
			case s.wait > 0:
				wait(s.wait)
			case s.err:
				in <- NewError(s.send, errors.New("obs"), "obs")
			default:
				in <- NewSuccess(s.send)
			}
			synctest.Wait()
		}
		<-done
		if noReader {
			for range out {
			}
		}
		events = obsFmtAll(rec.all(), t0)
		rec.requireOneGoroutine(t)
		for _, e := range rec.all() {
			require.Equal(t, name, e.Processor)
		}
	})
	return events, outputs
}

// obsFmtOut renders an output as teFmt does, and a live window's output
// by what it holds: a collection as its Results, "[1 E2]", and a fold's
// int as itself; an error as "E" and its Item so rendered.
func obsFmtOut[O any](r Result[O]) string {
	var v any
	if r.IsError() {
		v = r.Error().Item
	} else {
		v = r.Value()
	}
	var s string
	switch v := v.(type) {
	case WindowCollection[int]:
		parts := make([]string, len(v.Results))
		for i, x := range v.Results {
			parts[i] = teFmt(x)
		}
		s = "[" + strings.Join(parts, " ") + "]"
	case WindowValue[int]:
		s = strconv.Itoa(v.Value)
	default:
		return teFmt(r)
	}
	if r.IsError() {
		return "E" + s
	}
	return s
}

func obsStartBatcher(cfg BatchConfig) func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[[]int] {
	return func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[[]int] {
		return NewBatcher[int](cfg, clk).WithObserver(fn).Process(ctx, in)
	}
}

func TestBatcher_ObserverSequences(t *testing.T) {
	cfg := BatchConfig{MaxSize: 3, MaxLatency: obsMs(100)}
	cases := []struct {
		name     string
		cfg      BatchConfig
		noReader bool
		steps    []obsStep
		events   []string
		outputs  []string
	}{
		{
			name:    "size",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(10)), obsSend(2), obsSend(3), obsCloseIn()},
			events:  []string{obsArm(0), obsStop(10), obsEmit("size", 3, 10), obsClose(10)},
			outputs: []string{"[1 2 3]"},
		},
		{
			name:    "latency, the next batch's first item not extending it",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(30)), obsSend(2), obsWait(obsMs(70)), obsSend(3), obsWait(obsMs(100)), obsWait(obsMs(50)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), obsEmit("latency", 2, 100), obsArm(100), obsFire(200), obsEmit("latency", 1, 200), obsClose(250)},
			outputs: []string{"[1 2]", "[3]"},
		},
		{
			name:    "flush at close",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(50)), obsSend(2), obsCloseIn()},
			events:  []string{obsArm(0), obsStop(50), obsEmit("close", 2, 50), obsClose(50)},
			outputs: []string{"[1 2]"},
		},
		{
			name:    "close with nothing held",
			steps:   []obsStep{obsWait(obsMs(5)), obsCloseIn()},
			events:  []string{obsClose(5)},
			outputs: nil,
		},
		{
			name:    "errors pass unreported and leave the batch and its timer alone",
			steps:   []obsStep{obsFail(1), obsSend(2), obsWait(obsMs(40)), obsFail(3), obsWait(obsMs(60)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), obsEmit("latency", 1, 100), obsClose(100)},
			outputs: []string{"E[1]", "E[3]", "[2]"},
		},
		{
			name:    "cancel with a partial batch: the timer stops after the cancel",
			steps:   []obsStep{obsSend(1), obsSend(2), obsWait(obsMs(20)), obsCancelCtx()},
			events:  []string{obsArm(0), obsCanc(2, 20), obsStop(20), obsClose(20)},
			outputs: nil,
		},
		{
			name:    "cancel with nothing held",
			steps:   []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(obsMs(20)), obsCancelCtx()},
			events:  []string{obsArm(0), obsStop(0), obsEmit("size", 3, 0), obsCanc(0, 20), obsClose(20)},
			outputs: []string{"[1 2 3]"},
		},
		{
			name:     "cancel while the batch waits for a reader: it is lost, with no emit",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(obsMs(20)), obsCancelCtx()},
			events:   []string{obsArm(0), obsStop(0), obsCanc(3, 20), obsClose(20)},
		},
		{
			name:     "an emit is timed when decided, not when the consumer takes it",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(obsMs(10)), obsRead(), obsCloseIn()},
			events:   []string{obsArm(0), obsStop(0), obsEmit("size", 3, 0), obsClose(10)},
			outputs:  []string{"[1 2 3]"},
		},
		{
			name:     "cancel while an error waits for a reader, with a batch held",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsFail(2), obsWait(obsMs(20)), obsCancelCtx()},
			events:   []string{obsArm(0), obsCanc(2, 20), obsStop(20), obsClose(20)},
		},
		{
			name:    "MaxLatency 0: no timer",
			cfg:     BatchConfig{MaxSize: 2},
			steps:   []obsStep{obsSend(1), obsWait(obsMs(7)), obsSend(2), obsSend(3), obsWait(obsMs(7)), obsCloseIn()},
			events:  []string{obsEmit("size", 2, 7), obsEmit("close", 1, 14), obsClose(14)},
			outputs: []string{"[1 2]", "[3]"},
		},
		{
			name:    "MaxSize 1: every item goes out by size, no timer",
			cfg:     BatchConfig{MaxSize: 1, MaxLatency: obsMs(100)},
			steps:   []obsStep{obsSend(1), obsWait(obsMs(3)), obsSend(2), obsCancelCtx()},
			events:  []string{obsEmit("size", 1, 0), obsEmit("size", 1, 3), obsCanc(0, 3), obsClose(3)},
			outputs: []string{"[1]", "[2]"},
		},
	}
	for _, c := range cases {
		if c.cfg.MaxSize == 0 {
			c.cfg = cfg
		}
		for _, fake := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fake=%v", c.name, fake), func(t *testing.T) {
				events, outputs := obsPlay(t, "batcher", fake, c.noReader, c.steps, obsStartBatcher(c.cfg))
				assert.Equal(t, c.events, events, "events")
				assert.Equal(t, c.outputs, outputs, "outputs")
			})
		}
	}
}

// Model schedules: the random schedules of race_test.go, with an observer.

// obsModelOut is an output of the Batcher model with the reason it went out
// for (empty for an error).
type obsModelOut struct {
	teOut
	reason string
}

// obsModelBatcher is teModelBatcher with the reason of each output, and
// the items held when the schedule cancels (-1 when it closes instead).
func obsModelBatcher(cfg BatchConfig, steps []teStep) (outs []obsModelOut, heldAtCancel int) {
	var batch []int
	var due time.Duration
	heldAtCancel = -1
	for _, e := range teTimeline(steps) {
		if cfg.MaxLatency > 0 && len(batch) > 0 && e.At >= due {
			outs = append(outs, obsModelOut{teOut{Vals: batch, At: due}, ReasonLatency})
			batch = nil
		}
		switch e.Step.Kind {
		case teFail:
			outs = append(outs, obsModelOut{teError(e.At, e.Step.V), ""})
		case teSend:
			batch = append(batch, e.Step.V)
			if len(batch) == cfg.MaxSize {
				outs = append(outs, obsModelOut{teOut{Vals: batch, At: e.At}, ReasonSize})
				batch = nil
			} else if len(batch) == 1 {
				due = e.At + cfg.MaxLatency
			}
		case teClose:
			if len(batch) > 0 {
				outs = append(outs, obsModelOut{teOut{Vals: batch, At: e.At}, ReasonClose})
			}
		case teCancel:
			heldAtCancel = len(batch)
		}
	}
	return outs, heldAtCancel
}

// obsCheckLifecycle checks what every observed Process call must show:
// times that never go back; at most one timer armed at a time, each arm
// matched by exactly one fire or stop, none left at the end; at most one
// cancel; and close last, once.
func obsCheckLifecycle(t *testing.T, events []Event) {
	t.Helper()
	require.NotEmpty(t, events)
	armed, cancels := 0, 0
	for i, e := range events {
		if i > 0 {
			require.False(t, e.At.Before(events[i-1].At), "event %d goes back in time: %v", i, events)
		}
		switch e.Kind {
		case EventTimerArm:
			armed++
			require.Equal(t, 1, armed, "event %d arms a second timer: %v", i, events)
		case EventTimerFire, EventTimerStop:
			armed--
			require.Equal(t, 0, armed, "event %d ends a timer that was not armed: %v", i, events)
		case EventCancel:
			cancels++
			require.Equal(t, 1, cancels, "event %d is a second cancel: %v", i, events)
		case EventClose:
			require.Equal(t, len(events)-1, i, "close is not the last event: %v", events)
		case EventEmit:
			require.Zero(t, cancels, "event %d is an emit after the cancel: %v", i, events)
		}
	}
	require.Equal(t, EventClose, events[len(events)-1].Kind, "the last event is not close: %v", events)
	require.Zero(t, armed, "a timer is still armed at close: %v", events)
}

// TestBatcher_ModelSchedulesObserved plays random schedules, as
// TestBatcher_ModelSchedules does, with an observer, and checks that the
// outputs are still the model's, that each success output has exactly one
// emit event, in order, with the model's reason, its length as Count and
// its time as At, that a cancel reports the items the model holds then,
// and the lifecycle rules of obsCheckLifecycle.
func TestBatcher_ModelSchedulesObserved(t *testing.T) {
	cfgs := []BatchConfig{
		{MaxSize: 3, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 1000, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 5, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 1, MaxLatency: 100 * time.Millisecond},
		{MaxSize: 4, MaxLatency: 0},
		{MaxSize: 2, MaxLatency: time.Nanosecond},
	}
	base := teSeed(t)
	for i := range teModelSchedules / 2 {
		cfg := cfgs[i%len(cfgs)]
		rng := rand.New(rand.NewPCG(base, uint64(i)))
		steps := teGenSchedule(rng, cfg.MaxLatency)
		want, heldAtCancel := obsModelBatcher(cfg, steps)
		for _, mode := range teClockModes {
			rec := &obsRecorder{}
			var t0 time.Time
			got := teRun(t, mode, steps, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[[]int] {
				t0 = clk.Now()
				return NewBatcher[int](cfg, clk).WithObserver(rec.observe).Process(ctx, in)
			}, teObserveBatch)
			events := rec.all()
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("schedule %d of %+v under %s: %s\n"+
					"replay with STREAMZ_MODEL_SEED=%d (schedule %d)\n"+
					"schedule: %v\nwant: %v\ngot:  %v\nevents: %v",
					i, cfg, mode, fmt.Sprintf(format, args...), base, i, steps, want, got, obsFmtAll(events, t0))
			}
			if len(got) != len(want) {
				fail("%d outputs, the model has %d", len(got), len(want))
			}
			var emits []Event
			for _, e := range events {
				if e.Kind == EventEmit {
					emits = append(emits, e)
				}
			}
			k := 0
			for j, w := range want {
				g := got[j]
				if !slices.Equal(w.Vals, g.Vals) || w.Err != g.Err || w.Cause != g.Cause || w.At != g.At {
					fail("output %d is %v, the model's is %v", j, g, w.teOut)
				}
				if w.Err {
					continue
				}
				if k == len(emits) {
					fail("output %d (%v) has no emit event", j, g)
				}
				e := emits[k]
				k++
				if e.Reason != w.reason || e.Count != len(g.Vals) || e.At.Sub(t0) != g.At || e.Processor != "batcher" {
					fail("output %d (%v) has emit event %s, want reason %q", j, g, obsFmt(e, t0), w.reason)
				}
			}
			if k != len(emits) {
				fail("%d emit events for %d success outputs", len(emits), k)
			}
			obsCheckLifecycle(t, events)
			rec.requireOneGoroutine(t)
			var cancels []Event
			for _, e := range events {
				if e.Kind == EventCancel {
					cancels = append(cancels, e)
				}
			}
			switch {
			case heldAtCancel < 0 && len(cancels) != 0:
				fail("a cancel event, and the schedule closes")
			case heldAtCancel >= 0 && len(cancels) != 1:
				fail("%d cancel events, and the schedule cancels", len(cancels))
			case heldAtCancel >= 0 && cancels[0].Count != heldAtCancel:
				fail("the cancel reports %d items, the model holds %d", cancels[0].Count, heldAtCancel)
			}
		}
	}
}

// The period timer's own reports, including the paths Batcher never takes.
func TestPeriodTimer_ReportsLifecycle(t *testing.T) {
	ms := obsMs
	fc := NewFakeClock()
	t0 := fc.Now()
	rec := &obsRecorder{}
	p := newPeriodTimer(fc)
	p.rep = newEventReporter(rec.observe, "obs", fc)
	step := func(want ...string) {
		t.Helper()
		require.Equal(t, want, obsFmtAll(rec.all(), t0))
		rec.events = nil
	}

	p.schedule(ms(100), 0)
	step("timer-arm//0@0s")
	p.schedule(ms(150), 0) // a later deadline for the armed timer: not an arm
	step()
	fc.Advance(ms(100)) // goes off early and re-arms itself: nothing to report
	step()
	fc.Advance(ms(50)) // reaches the deadline: an event is owed
	step()
	// The deadline moves before the loop takes the event: taken reports the
	// fire, and then a new arm for what remains.
	p.schedule(ms(220), ms(150))
	step()
	<-p.events
	p.taken()
	step("timer-fire//0@150ms", "timer-arm//0@150ms")
	fc.Advance(ms(70))
	// disarm with an event owed: the timer went off, so a fire, not a stop.
	p.disarm()
	step("timer-fire//0@220ms")
	p.schedule(ms(300), ms(220))
	fc.Advance(ms(10))
	p.disarm()
	step("timer-arm//0@220ms", "timer-stop//0@230ms")
	p.disarm() // nothing armed: nothing to report
	step()
}

// The observer runs on the processor's goroutine, synchronously: while it
// is busy, the processor takes no input.
func TestBatcher_ObserverRunsOnTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var blocked bool
		fn := func(e Event) {
			if e.Kind == EventEmit && !blocked {
				blocked = true
				<-release
			}
		}
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 2}, nil).WithObserver(fn).Process(t.Context(), in)
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		require.Equal(t, []int{1, 2}, (<-out).Value())
		var taken bool
		go func() {
			in <- NewSuccess(3)
			taken = true
		}()
		synctest.Wait()
		require.False(t, taken, "the Batcher took an input while its observer was busy")
		close(release)
		synctest.Wait()
		require.True(t, taken)
		close(in)
		require.Equal(t, []int{3}, (<-out).Value())
		_, open := <-out
		require.False(t, open)
	})
}

func TestBatcher_WithObserverNil(t *testing.T) {
	b := NewBatcher[int](BatchConfig{MaxSize: 2}, nil)
	require.Same(t, b, b.WithObserver(nil))
	in := make(chan Result[int], 3)
	in <- NewSuccess(1)
	in <- NewSuccess(2)
	in <- NewSuccess(3)
	close(in)
	var got [][]int
	for r := range b.Process(context.Background(), in) {
		got = append(got, r.Value())
	}
	require.Equal(t, [][]int{{1, 2}, {3}}, got)
}

// Counters.

var _ interface{ String() string } = (*Counters)(nil) // expvar.Var

func TestCounters_SnapshotAndString(t *testing.T) {
	var c Counters // the zero Counters is ready to use
	require.Empty(t, c.Snapshot())
	require.Equal(t, "{}", c.String())
	c.Observe(Event{Processor: "batcher", Kind: EventEmit, Reason: ReasonSize, Count: 3})
	c.Observe(Event{Processor: "batcher", Kind: EventEmit, Reason: ReasonSize, Count: 5})
	c.Observe(Event{Processor: "batcher", Kind: EventClose})
	c.Observe(Event{Processor: "throttle", Kind: EventDrop, Reason: ReasonCooldown})
	snap := c.Snapshot()
	require.Equal(t, map[string]uint64{
		"batcher/emit/size":      2,
		"batcher/close/":         1,
		"throttle/drop/cooldown": 1,
	}, snap)
	snap["batcher/emit/size"] = 99 // the map is the caller's
	require.Equal(t, uint64(2), c.Snapshot()["batcher/emit/size"])
	require.Equal(t, `{"batcher/close/":1,"batcher/emit/size":2,"throttle/drop/cooldown":1}`, c.String())
}

// Many processors share one Counters, with Snapshot and String read while
// they run; run under -race.
func TestCounters_SharedByManyProcessors(t *testing.T) {
	const procs, items, size = 8, 1000, 10
	c := NewCounters()
	var wg sync.WaitGroup
	for p := range procs {
		wg.Go(func() {
			in := make(chan Result[int])
			// An hour of MaxLatency: every batch arms a timer and stops it
			// when it fills.
			out := NewBatcher[int](BatchConfig{MaxSize: size, MaxLatency: time.Hour}, nil).
				WithObserver(c.Observe).Process(context.Background(), in)
			go func() {
				for i := range items {
					in <- NewSuccess(p*items + i)
				}
				close(in)
			}()
			for range out {
			}
		})
		// Direct callers too, with keys of their own.
		wg.Go(func() {
			for i := range items {
				c.Observe(Event{Processor: fmt.Sprintf("obs%d", p%2), Kind: EventDrop, Reason: ReasonGap})
				if i%100 == 0 {
					_ = c.Snapshot()
					_ = c.String()
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, map[string]uint64{
		"batcher/timer-arm/":  procs * items / size,
		"batcher/timer-stop/": procs * items / size,
		"batcher/emit/size":   procs * items / size,
		"batcher/close/":      procs,
		"obs0/drop/gap":       procs / 2 * items,
		"obs1/drop/gap":       procs / 2 * items,
	}, c.Snapshot())
}

// NewSlogObserver.

func TestNewSlogObserver(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	at := time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC)
	NewSlogObserver(logger, slog.LevelInfo)(Event{Processor: "batcher", Kind: EventEmit, Reason: ReasonLatency, At: at, Count: 3})
	NewSlogObserver(logger, slog.LevelWarn)(Event{Processor: "batcher", Kind: EventClose, At: at})
	NewSlogObserver(logger, slog.LevelDebug)(Event{Processor: "batcher", Kind: EventCancel, At: at}) // below the handler's level
	require.Equal(t,
		"level=INFO msg=streamz processor=batcher kind=emit reason=latency count=3 at=2024-01-01T00:00:01.000Z\n"+
			"level=WARN msg=streamz processor=batcher kind=close reason=\"\" count=0 at=2024-01-01T00:00:01.000Z\n",
		buf.String())
}

// An input close that arrives at a batch's deadline, before the timer's
// wake-up, applies the deadline first: the batch goes out for its latency,
// as it would had the wake-up come first.
func TestBatcher_ObserverCloseAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newTEClock(true)
		clk.gate = make(chan struct{}) // the timer's goroutine waits for it
		t0 := clk.Now()
		rec := &obsRecorder{}
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 3, MaxLatency: obsMs(100)}, clk).
			WithObserver(rec.observe).Process(t.Context(), in)
		got := teDrain(out)
		in <- NewSuccess(1)
		synctest.Wait()
		clk.Advance(obsMs(100))
		close(in)
		synctest.Wait() // the loop has seen the close and waits for the wake-up
		close(clk.gate)
		require.Equal(t, []string{"[1]"}, <-got)
		require.Equal(t, []string{
			"timer-arm//0@0s", "timer-fire//0@100ms", "emit/latency/1@100ms", "close//0@100ms",
		}, obsFmtAll(rec.all(), t0))
	})
}

// Close is reported before the output is closed, so a consumer that sees
// the output closed knows the observer has had every event.
func TestBatcher_ObserverCloseBeforeOutputCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		fn := func(e Event) {
			if e.Kind == EventClose {
				<-release
			}
		}
		in := make(chan Result[int])
		out := NewBatcher[int](BatchConfig{MaxSize: 2}, nil).WithObserver(fn).Process(t.Context(), in)
		close(in)
		synctest.Wait() // the loop is in the observer, with close
		require.False(t, teClosedNow(t, out), "the output closed before the close event was reported")
		close(release)
		_, open := <-out
		require.False(t, open)
	})
}

// Keys first seen at the same time by many goroutines are all kept.
func TestCounters_NewKeysConcurrently(t *testing.T) {
	const goroutines, keys = 8, 200
	c := NewCounters()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for k := range keys {
				c.Observe(Event{Processor: fmt.Sprintf("obs%d", k), Kind: EventKind(1 + g%8), Reason: "r"})
			}
		})
	}
	close(start)
	wg.Wait()
	snap := c.Snapshot()
	var total uint64
	for _, n := range snap {
		total += n
	}
	require.Equal(t, uint64(goroutines*keys), total, "events were lost")
	require.Len(t, snap, goroutines*keys)
}
