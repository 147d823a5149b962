//go:build go1.25

package streamz

// Shared harness for the timer tests in race_test.go: a FakeClock wrapper
// that counts and tracks timers, a goroutine counter for the period timer's
// callback, a random schedule generator, reference models of Throttle,
// Debounce and Batcher, and a runner that plays a schedule against a
// processor under RealClock in a synctest bubble or under a FakeClock.
//
// Every helper here starts with "te" so that it cannot collide with the
// helpers of the per-processor test files.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// teFireFrame is how the period timer's callback shows in a goroutine dump:
// "(*periodTimer).fire" for a call, "(*periodTimer).fire-fm" for the method
// value a timer goroutine starts with.
const teFireFrame = "(*periodTimer).fire"

// teFireGoroutines counts the goroutines whose stack holds the period
// timer's callback.
func teFireGoroutines() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, teFireFrame) {
			count++
		}
	}
	return count
}

// teClock is a FakeClock that counts what the code under test asks of it
// and remembers when each of its AfterFunc timers is due, so that a test can
// move time from one deadline to the next (advanceInSteps).
//
// With async set, each AfterFunc function runs in a goroutine of its own
// once its time comes, as time.AfterFunc runs it, instead of inside
// Advance; so an input sent right after Advance can reach the code under
// test before the timer's event does. With gate set too, that goroutine
// waits for gate to be closed before it calls the function, as a real
// timer goroutine may be slow to be scheduled.
type teClock struct {
	*FakeClock
	async bool
	gate  chan struct{} // set before the clock is used

	mu         sync.Mutex
	afterFuncs int // AfterFunc calls
	resets     int // Reset calls on AfterFunc timers
	stops      int // Stop calls on AfterFunc timers
	others     int // NewTimer, After, NewTicker, Sleep, WithTimeout, WithDeadline
	timers     []*teTimer
}

func newTEClock(async bool) *teClock {
	return &teClock{FakeClock: NewFakeClock(), async: async}
}

type teTimer struct {
	c     *teClock
	inner Timer
	armed bool      // guarded by c.mu
	due   time.Time // guarded by c.mu
}

func (c *teClock) AfterFunc(d time.Duration, f func()) Timer {
	t := &teTimer{c: c}
	c.mu.Lock()
	c.afterFuncs++
	c.timers = append(c.timers, t)
	t.setLocked(d)
	c.mu.Unlock()
	t.inner = c.FakeClock.AfterFunc(d, func() {
		c.mu.Lock()
		t.armed = false
		c.mu.Unlock()
		if c.async {
			go func() {
				if c.gate != nil {
					<-c.gate
				}
				f()
			}()
			return
		}
		f()
	})
	return t
}

func (t *teTimer) setLocked(d time.Duration) {
	// A duration <= 0 runs the function at once: nothing stays armed.
	t.armed = d > 0
	t.due = t.c.FakeClock.Now().Add(d)
}

func (t *teTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	t.c.resets++
	t.setLocked(d)
	t.c.mu.Unlock()
	return t.inner.Reset(d)
}

func (t *teTimer) Stop() bool {
	t.c.mu.Lock()
	t.c.stops++
	t.armed = false
	t.c.mu.Unlock()
	return t.inner.Stop()
}

func (t *teTimer) C() <-chan time.Time { return nil }

func (c *teClock) other() {
	c.mu.Lock()
	c.others++
	c.mu.Unlock()
}

func (c *teClock) NewTimer(d time.Duration) Timer {
	c.other()
	return c.FakeClock.NewTimer(d)
}

func (c *teClock) After(d time.Duration) <-chan time.Time {
	c.other()
	return c.FakeClock.After(d)
}

func (c *teClock) NewTicker(d time.Duration) Ticker {
	c.other()
	return c.FakeClock.NewTicker(d)
}

func (c *teClock) Sleep(d time.Duration) {
	c.other()
	c.FakeClock.Sleep(d)
}

func (c *teClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c.other()
	return c.FakeClock.WithTimeout(ctx, d)
}

func (c *teClock) WithDeadline(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	c.other()
	return c.FakeClock.WithDeadline(ctx, deadline)
}

// teCounts is a snapshot of a teClock's counters.
type teCounts struct {
	AfterFuncs, Resets, Stops, Others int
}

// Arms is how many times a timer was started: creations plus re-arms.
func (n teCounts) Arms() int { return n.AfterFuncs + n.Resets }

func (c *teClock) counts() teCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return teCounts{AfterFuncs: c.afterFuncs, Resets: c.resets, Stops: c.stops, Others: c.others}
}

// nextDue returns the earliest deadline of the armed AfterFunc timers.
func (c *teClock) nextDue() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	found := false
	for _, t := range c.timers {
		if t.armed && (!found || t.due.Before(next)) {
			next, found = t.due, true
		}
	}
	return next, found
}

// advanceInSteps moves the clock forward by w inside a synctest bubble. It
// stops at every AfterFunc deadline on the way and lets the bubble settle
// there, so that an output emitted when a timer fires is seen by the
// collector at the time the timer fired, not at the end of the window. If
// the last deadline is the target itself, it returns without letting the
// bubble settle, so that what the caller does next ties with that deadline.
func (c *teClock) advanceInSteps(w time.Duration) {
	target := c.Now().Add(w)
	for {
		synctest.Wait()
		next, ok := c.nextDue()
		if !ok || next.After(target) {
			c.SetTime(target)
			return
		}
		c.SetTime(next)
		if next.Equal(target) {
			return
		}
	}
}

// Schedules.

type teKind uint8

const (
	teSend   teKind = iota // send success item v
	teFail                 // send error item v
	teWait                 // let w pass
	teClose                // close the input
	teCancel               // cancel the context
)

type teStep struct {
	Kind teKind
	V    int
	W    time.Duration
}

func (s teStep) String() string {
	switch s.Kind {
	case teSend:
		return strconv.Itoa(s.V)
	case teFail:
		return "E" + strconv.Itoa(s.V)
	case teWait:
		return "+" + s.W.String()
	case teClose:
		return "close"
	default:
		return "cancel"
	}
}

// teGenSchedule draws a schedule of 20 to 60 steps, ended by close or
// cancel. Items are numbered from 1 in sending order, errors included.
// period is the processor's duration (cooldown, quiet period or
// MaxLatency); waits are drawn so that they often land exactly on, just
// before or just after the end of a period started by an earlier item.
func teGenSchedule(rng *rand.Rand, period time.Duration) []teStep {
	unit := period
	if unit <= 0 {
		unit = 10 * time.Millisecond
	}
	n := 20 + rng.IntN(41)
	steps := make([]teStep, 0, n+1)
	var now time.Duration
	var sent []time.Duration // when each item was sent
	v := 0
	for len(steps) < n {
		switch r := rng.IntN(20); {
		case r < 9:
			v++
			steps = append(steps, teStep{Kind: teSend, V: v})
			sent = append(sent, now)
		case r < 11:
			v++
			steps = append(steps, teStep{Kind: teFail, V: v})
			sent = append(sent, now)
		default:
			w := teGenWait(rng, unit, now, sent)
			steps = append(steps, teStep{Kind: teWait, W: w})
			now += w
		}
	}
	if rng.IntN(3) == 0 {
		return append(steps, teStep{Kind: teCancel})
	}
	return append(steps, teStep{Kind: teClose})
}

func teGenWait(rng *rand.Rand, unit, now time.Duration, sent []time.Duration) time.Duration {
	if len(sent) > 0 && rng.IntN(3) != 0 {
		// Aim at the end of a period that an item sent earlier started.
		var from time.Duration
		if rng.IntN(3) == 0 {
			from = sent[rng.IntN(len(sent))]
		} else {
			from = sent[len(sent)-1-rng.IntN(min(len(sent), 4))]
		}
		target := from + unit + []time.Duration{-1, 0, 0, 1}[rng.IntN(4)]
		if target >= now {
			return target - now
		}
	}
	switch rng.IntN(6) {
	case 0:
		return 0
	case 1:
		return unit / 2
	case 2:
		return unit
	case 3:
		return 2 * unit
	default:
		return time.Duration(rng.Int64N(int64(3 * unit)))
	}
}

// teTimed is a schedule step with the time it happens at.
type teTimed struct {
	At   time.Duration
	Step teStep
}

// teTimeline drops the waits and stamps every other step with its time.
func teTimeline(steps []teStep) []teTimed {
	var now time.Duration
	var out []teTimed
	for _, s := range steps {
		if s.Kind == teWait {
			now += s.W
			continue
		}
		out = append(out, teTimed{At: now, Step: s})
	}
	return out
}

// teOut is one output as a test sees it: the item or items it carries (for
// an error, the failed item), whether it is an error, the value of the item
// whose error it carries (0 when it is not an error, -1 when the cause is
// not one the test sent) and when it came out, from the start of the run.
type teOut struct {
	Vals  []int
	Err   bool
	Cause int
	At    time.Duration
}

func (o teOut) String() string {
	if o.Err {
		return fmt.Sprintf("E%v(cause %d)@%v", o.Vals, o.Cause, o.At)
	}
	return fmt.Sprintf("%v@%v", o.Vals, o.At)
}

func teItem(at time.Duration, v int) teOut { return teOut{Vals: []int{v}, At: at} }

func teError(at time.Duration, v int) teOut {
	return teOut{Vals: []int{v}, Err: true, Cause: v, At: at}
}

// Reference models. Each is a plain function from a schedule to the outputs
// the processor must give, written from the documented behaviour alone.
// What is due at an instant is applied before any step at that instant.

func teModelThrottle(d time.Duration, steps []teStep) []teOut {
	var out []teOut
	passed := false
	var last time.Duration
	for _, e := range teTimeline(steps) {
		switch e.Step.Kind {
		case teFail:
			out = append(out, teError(e.At, e.Step.V))
		case teSend:
			if d <= 0 || !passed || e.At >= last+d {
				passed, last = true, e.At
				out = append(out, teItem(e.At, e.Step.V))
			}
		}
	}
	return out
}

func teModelDebounce(d time.Duration, steps []teStep) []teOut {
	var out []teOut
	pending, hasPending := 0, false
	var due time.Duration
	for _, e := range teTimeline(steps) {
		if hasPending && e.At >= due {
			out = append(out, teItem(due, pending))
			hasPending = false
		}
		switch e.Step.Kind {
		case teFail:
			out = append(out, teError(e.At, e.Step.V))
		case teSend:
			if d <= 0 {
				out = append(out, teItem(e.At, e.Step.V))
			} else {
				pending, hasPending, due = e.Step.V, true, e.At+d
			}
		case teClose:
			if hasPending {
				out = append(out, teItem(e.At, pending))
			}
		}
	}
	return out
}

func teModelBatcher(cfg BatchConfig, steps []teStep) []teOut {
	var out []teOut
	var batch []int
	var due time.Duration
	for _, e := range teTimeline(steps) {
		if cfg.MaxLatency > 0 && len(batch) > 0 && e.At >= due {
			out = append(out, teOut{Vals: batch, At: due})
			batch = nil
		}
		switch e.Step.Kind {
		case teFail:
			out = append(out, teError(e.At, e.Step.V))
		case teSend:
			batch = append(batch, e.Step.V)
			if len(batch) == cfg.MaxSize {
				out = append(out, teOut{Vals: batch, At: e.At})
				batch = nil
			} else if len(batch) == 1 {
				due = e.At + cfg.MaxLatency
			}
		case teClose:
			if len(batch) > 0 {
				out = append(out, teOut{Vals: batch, At: e.At})
			}
		}
	}
	return out
}

// Running a schedule.

type teClockMode int

const (
	teReal      teClockMode = iota // RealClock in the bubble; waits are time.Sleep
	teFakeSync                     // FakeClock; timer functions run inside Advance
	teFakeAsync                    // FakeClock; timer functions run in goroutines of their own
	tePlain                        // FakeClock outside any bubble, played by teRunPlain
)

var teClockModes = []teClockMode{teReal, teFakeSync, teFakeAsync, tePlain}

func (m teClockMode) String() string {
	return [...]string{"RealClock+synctest", "FakeClock", "FakeClock(async callbacks)", "FakeClock(plain style)"}[m]
}

// teObserveItem and teObserveBatch turn an output into a teOut, less its
// time and cause.
func teObserveItem(r Result[int]) teOut {
	if r.IsError() {
		return teOut{Vals: []int{r.Error().Item}, Err: true}
	}
	return teOut{Vals: []int{r.Value()}}
}

func teObserveBatch(r Result[[]int]) teOut {
	if r.IsError() {
		return teOut{Vals: slices.Clone(r.Error().Item), Err: true}
	}
	return teOut{Vals: slices.Clone(r.Value())}
}

// teRun plays steps against the processor started by process, in a
// synctest bubble, and returns what came out with when it came out.
//
// After each send it waits for the bubble to settle, so the processor has
// handled the item before anything else happens. After a wait it does not:
// the next step ties with whatever fell due at that instant, which is where
// the time-first rule decides. Before cancelling it lets the bubble settle,
// so what fell due before the cancel has been handled.
func teRun[O any](t *testing.T, mode teClockMode, steps []teStep,
	process func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[O],
	observe func(Result[O]) teOut,
) []teOut {
	t.Helper()
	// Every error the schedule sends, made before the run so the collector
	// can look causes up without racing the sender.
	errs, causes := teErrors(steps, "te")
	var got []teOut
	synctest.Test(t, func(t *testing.T) {
		var clk Clock
		var elapsed func() time.Duration
		var wait func(time.Duration)
		if mode == teReal {
			start := time.Now()
			clk, wait = RealClock, time.Sleep
			elapsed = func() time.Duration { return time.Since(start) }
		} else {
			fc := newTEClock(mode == teFakeAsync)
			start := fc.Now()
			clk, wait = fc, fc.advanceInSteps
			elapsed = func() time.Duration { return fc.Since(start) }
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		in := make(chan Result[int])
		out := process(ctx, clk, in)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for r := range out {
				o := observe(r)
				o.At = elapsed()
				if r.IsError() {
					o.Cause = -1
					if v, ok := causes[r.Error().Err]; ok {
						o.Cause = v
					}
				}
				got = append(got, o)
			}
		}()
		for _, s := range steps {
			switch s.Kind {
			case teSend:
				in <- NewSuccess(s.V)
				synctest.Wait()
			case teFail:
				in <- NewError(s.V, errs[s.V], "te")
				synctest.Wait()
			case teWait:
				wait(s.W)
			case teClose:
				close(in)
			case teCancel:
				synctest.Wait()
				cancel()
			}
		}
		<-done
	})
	return got
}

// teRunPlain plays steps as a user's test in the plain style would: on a
// FakeClock outside any bubble, the steps back to back, each wait one
// Advance, and after each step a blocking receive of exactly the outputs
// the model says are due by then. Nothing else waits: no sleep, no
// synctest, no BlockUntilContext. The settling clock is what makes the
// outputs due by a step available to a receive right after it. A missing
// output fails after teWatchdog of real time; an extra one shows in the
// next step's receive or in the drain after close or cancel, and a send
// the processor never takes fails after teWatchdog too. Outputs are
// stamped with the clock when received, which is the end of the Advance
// that made them due, so their times are not compared.
func teRunPlain[O any](t *testing.T, steps []teStep,
	process func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[O],
	observe func(Result[O]) teOut, model func(steps []teStep) []teOut,
) []teOut {
	t.Helper()
	errs, causes := teErrors(steps, "te")
	fc := NewFakeClock()
	start := fc.Now()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := make(chan Result[int])
	out := process(ctx, fc, in)
	var got []teOut
	take := func(r Result[O]) {
		o := observe(r)
		o.At = fc.Since(start)
		if r.IsError() {
			o.Cause = -1
			if v, ok := causes[r.Error().Err]; ok {
				o.Cause = v
			}
		}
		got = append(got, o)
	}
	watchdog := time.NewTimer(teWatchdog)
	defer watchdog.Stop()
	give := func(i int, r Result[int]) {
		select {
		case in <- r:
		case <-watchdog.C:
			t.Fatalf("step %d: the processor did not take its input\nschedule: %v\ngot: %v", i, steps, got)
		}
	}
	for i, s := range steps {
		switch s.Kind {
		case teSend:
			give(i, NewSuccess(s.V))
		case teFail:
			give(i, NewError(s.V, errs[s.V], "te"))
		case teWait:
			fc.Advance(s.W)
		case teClose:
			close(in)
		case teCancel:
			cancel()
		}
		if s.Kind == teClose || s.Kind == teCancel {
			break
		}
		// What is due by now: the model's outputs for the steps so far and
		// an error sent now, which passes at once after everything due.
		due := len(model(append(slices.Clone(steps[:i+1]), teStep{Kind: teFail}))) - 1
		for len(got) < due {
			select {
			case r, ok := <-out:
				if !ok {
					t.Fatalf("output closed after step %d (%v), %d outputs short\ngot: %v", i, s, due-len(got), got)
				}
				take(r)
			case <-watchdog.C:
				t.Fatalf("after step %d (%v), %d outputs due were not on offer\nschedule: %v\ngot: %v",
					i, s, due-len(got), steps, got)
			}
		}
	}
	for r := range out {
		take(r)
	}
	return got
}

// teWatchdog bounds, in real time, how long teRunPlain waits for an output
// that is due before it fails the test; it never delays a passing run.
const teWatchdog = 10 * time.Second

// teErrors makes every error a schedule sends, named with prefix, and
// indexes them both ways: by the item that carries each, and back, so that
// a collector can name the cause of an error it receives.
func teErrors(steps []teStep, prefix string) (errs map[int]error, causes map[error]int) {
	errs, causes = make(map[int]error), make(map[error]int)
	for _, s := range steps {
		if s.Kind == teFail {
			err := fmt.Errorf("%s failure %d", prefix, s.V)
			errs[s.V], causes[err] = err, s.V
		}
	}
	return errs, causes
}

// teSeed returns the base seed of a model test: STREAMZ_MODEL_SEED if set,
// so that a failure can be replayed, and a fresh random one otherwise.
func teSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("STREAMZ_MODEL_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "STREAMZ_MODEL_SEED")
		return seed
	}
	return rand.Uint64()
}

// teModelCase is one processor configuration of a model test.
type teModelCase[O any] struct {
	name    string
	period  time.Duration // what waits are drawn around
	process func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[O]
	observe func(Result[O]) teOut
	model   func(steps []teStep) []teOut
	// playable, if set, turns a drawn schedule into one whose sends never
	// block on the processor (a RateLimiter in wait mode pauses its input),
	// and due, if set, is what teRunPlain asks instead of model: the
	// outputs due by the end of a schedule, plus one for the error it
	// appends.
	playable func(steps []teStep) []teStep
	due      func(steps []teStep) []teOut
}

// teModelSchedules is how many random schedules each model test plays,
// each under every clock mode.
const teModelSchedules = 200

// teCheckModel plays teModelSchedules random schedules, spread over cases,
// under every clock mode, and compares the outputs, their errors' causes
// and their times with the model's.
func teCheckModel[O any](t *testing.T, cases []teModelCase[O]) {
	base := teSeed(t)
	for i := range teModelSchedules {
		c := cases[i%len(cases)]
		rng := rand.New(rand.NewPCG(base, uint64(i)))
		steps := teGenSchedule(rng, c.period)
		if c.playable != nil {
			steps = c.playable(steps)
		}
		due := c.model
		if c.due != nil {
			due = c.due
		}
		want := c.model(steps)
		for _, mode := range teClockModes {
			var got []teOut
			if mode == tePlain {
				got = teRunPlain(t, steps, c.process, c.observe, due)
			} else {
				got = teRun(t, mode, steps, c.process, c.observe)
			}
			if !slices.EqualFunc(want, got, func(a, b teOut) bool {
				return slices.Equal(a.Vals, b.Vals) && a.Err == b.Err && a.Cause == b.Cause &&
					(a.At == b.At || mode == tePlain)
			}) {
				t.Fatalf("schedule %d of %s under %s differs from the model\n"+
					"replay with STREAMZ_MODEL_SEED=%d (schedule %d)\n"+
					"schedule: %v\nwant: %v\ngot:  %v",
					i, c.name, mode, base, i, steps, want, got)
			}
		}
	}
}

// A deadline moved earlier while the timer is armed is kept: the timer
// fires at the new deadline, not at the one it was armed for, and that is
// still one arm.
func TestPeriodTimer_DeadlineMovedEarlier(t *testing.T) {
	fc := NewFakeClock()
	t0 := fc.Now()
	rec := &obsRecorder{}
	p := newPeriodTimer(fc)
	p.rep = newEventReporter(rec.observe, "obs", fc)
	p.schedule(100*time.Millisecond, 0)
	fc.Advance(10 * time.Millisecond)
	p.schedule(40*time.Millisecond, 10*time.Millisecond)
	fc.Advance(29 * time.Millisecond)
	select {
	case <-p.events:
		t.Fatal("the timer went off before the deadline it was moved to")
	default:
	}
	fc.Advance(time.Millisecond)
	select {
	case <-p.events:
	default:
		t.Fatal("the timer did not go off at the deadline it was moved to")
	}
	p.taken()
	require.Equal(t, []string{"timer-arm//0@0s", "timer-fire//0@40ms"}, obsFmtAll(rec.all(), t0))
}

// TestForeverDurationsNeverFallDue checks that deadline arithmetic
// saturates: a duration of math.MaxInt64, meant as "forever", must not wrap
// into the past once the clock has moved past the processor's base. Each
// processor sees items after the clock has moved, then its input closes;
// nothing may come out before the close except a leading edge.
func TestForeverDurationsNeverFallDue(t *testing.T) {
	const forever = time.Duration(math.MaxInt64)
	type stage func(clock Clock, obs func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int]
	unbatch := func(out <-chan Result[[]int]) <-chan Result[int] {
		flat := make(chan Result[int])
		go func() {
			defer close(flat)
			for r := range out {
				for _, v := range r.Value() {
					flat <- NewSuccess(v)
				}
			}
		}()
		return flat
	}
	cases := []struct {
		name  string
		stage stage
		want  []int
	}{
		{"Throttle", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewThrottle[int](forever, c).WithObserver(o).Process(ctx, in)
		}, []int{1}},
		{"Throttle trailing", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewThrottle[int](forever, c).WithTrailing(true).WithObserver(o).Process(ctx, in)
		}, []int{1, 3}},
		{"Debounce", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](forever, c).WithObserver(o).Process(ctx, in)
		}, []int{3}},
		{"Debounce maxWait", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](forever, c).WithMaxWait(forever).WithObserver(o).Process(ctx, in)
		}, []int{3}},
		{"Debounce leading", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](forever, c).WithLeading(true).WithObserver(o).Process(ctx, in)
		}, []int{1, 3}},
		{"Batcher", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return unbatch(NewBatcher[int](BatchConfig{MaxSize: 100, MaxLatency: forever}, c).WithObserver(o).Process(ctx, in))
		}, []int{1, 2, 3}},
		{"SessionWindow", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			keyFunc := func(Result[int]) string { return "k" }
			return NewSessionWindow(keyFunc, c).WithGap(forever).WithObserver(o).Process(ctx, in)
		}, []int{1, 2, 3}},
		{"SlidingWindow", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewSlidingWindow[int](forever, c).WithSlide(time.Hour).WithObserver(o).Process(ctx, in)
		}, []int{1, 2, 3, 3}},
		{"TumblingWindow", func(c Clock, o func(Event), ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewTumblingWindow[int](forever, c).WithObserver(o).Process(ctx, in)
		}, []int{1, 2, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewFakeClock()
			var mu sync.Mutex
			var reasons []string
			obs := func(e Event) {
				if e.Kind == EventEmit {
					mu.Lock()
					reasons = append(reasons, e.Reason)
					mu.Unlock()
				}
			}
			in := make(chan Result[int])
			out := tc.stage(clock, obs, context.Background(), in)
			var got []int
			collected := make(chan struct{})
			go func() {
				defer close(collected)
				for r := range out {
					got = append(got, r.Value())
				}
			}()
			for i, step := range []time.Duration{time.Second, time.Second, time.Hour} {
				clock.Advance(step)
				in <- NewSuccess(i + 1)
			}
			clock.Advance(24 * time.Hour)
			close(in)
			<-collected
			require.Equal(t, tc.want, got)
			for _, reason := range reasons {
				require.Contains(t, []string{ReasonLeading, ReasonClose}, reason, "an emit before the close: %v", reasons)
			}
		})
	}
}
