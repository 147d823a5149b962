//go:build go1.25

package streamz

// Model-based tests for the three windows: random schedules of sends,
// errors, waits, a close or a cancel, played against a small reference
// model of each window type and against the processor, under RealClock in
// a synctest bubble (exact emission times), under a FakeClock in a bubble,
// and under a FakeClock in the plain style with nothing between the ops.

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

// winUnit is the grain of every schedule: waits, sizes, slides and gaps
// are multiples of it, so that boundaries are hit exactly and often.
const winUnit = 10 * time.Millisecond

type winKind uint8

const (
	winSend winKind = iota
	winFail
	winWait
	winClose
	winCancel
)

type winStep struct {
	Kind winKind
	V    int           // the item, for winSend and winFail; its key is V%10
	W    time.Duration // for winWait
}

func (s winStep) String() string {
	switch s.Kind {
	case winSend:
		return strconv.Itoa(s.V)
	case winFail:
		return "E" + strconv.Itoa(s.V)
	case winWait:
		return "+" + s.W.String()
	case winClose:
		return "close"
	default:
		return "cancel"
	}
}

// winOut is one output Result as the tests compare it: the item ("7" or
// "E7"), its window relative to the clock's reading when Process was
// called, its type and session key, and when it came out.
type winOut struct {
	V          string
	Start, End time.Duration
	Type       string
	Key        string
	At         time.Duration
	Step       int // the index of the step that emitted it, in the models only
}

func (o winOut) String() string {
	s := fmt.Sprintf("%s@[%v,%v)", o.V, o.Start, o.End)
	if o.Key != "" {
		s += "k=" + o.Key
	}
	return s + "@" + o.At.String()
}

func winSameOut(a, b winOut) bool {
	a.At, b.At, a.Step, b.Step = 0, 0, 0, 0
	return a == b
}

func winSameTimedOut(a, b winOut) bool {
	a.Step, b.Step = 0, 0
	return a == b
}

// winKeyOf is the session key of an item: its last digit.
func winKeyOf(v int) string { return "k" + strconv.Itoa(v%10) }

func winKeyFunc(r Result[int]) string {
	if r.IsError() {
		return winKeyOf(r.Error().Item)
	}
	return winKeyOf(r.Value())
}

// winObserve renders r as a winOut, At left for the caller.
func winObserve(t testing.TB, r Result[int], base time.Time) winOut {
	t.Helper()
	meta, err := GetWindowMetadata(r)
	if err != nil {
		t.Fatalf("output without window metadata: %v", err)
	}
	o := winOut{Start: meta.Start.Sub(base), End: meta.End.Sub(base), Type: meta.Type}
	if meta.SessionKey != nil {
		o.Key = *meta.SessionKey
	}
	if r.IsError() {
		o.V = "E" + strconv.Itoa(r.Error().Item)
	} else {
		o.V = strconv.Itoa(r.Value())
	}
	return o
}

// winGen draws a schedule of 20 to 60 steps, ended by close (mostly) or
// cancel. Items get increasing values whose last digit, their key, is one
// of keys.
func winGen(rng *rand.Rand, keys int) []winStep {
	n := 20 + rng.IntN(41)
	var steps []winStep
	v := 0
	for range n {
		switch x := rng.IntN(10); {
		case x < 5:
			v += 10
			steps = append(steps, winStep{Kind: winSend, V: v + rng.IntN(keys)})
		case x < 6:
			v += 10
			steps = append(steps, winStep{Kind: winFail, V: v + rng.IntN(keys)})
		default:
			steps = append(steps, winStep{Kind: winWait, W: time.Duration(rng.IntN(9)) * winUnit})
		}
	}
	if rng.IntN(4) == 0 {
		return append(steps, winStep{Kind: winCancel})
	}
	return append(steps, winStep{Kind: winClose})
}

// winModelWin is a window of the reference models.
type winModelWin struct {
	start, end time.Duration
	key        string
	seq        int
	items      []string
}

// winModel plays steps against a reference: place puts an item received at
// t into the pending windows; a window is emitted when the clock reaches
// its end, windows due at one instant in order of end, then start, then
// opening order (sessions with one end share no start order: opening order
// decides). At close every pending window is emitted at the close's time.
//
// held is what the windows pending at a cancel hold (an item once per
// window it is in), which an observer's cancel event counts, or -1 when
// the schedule closes.
func winModel(steps []winStep, typ string, place func(pending []*winModelWin, t time.Duration, v string, key string, seq *int) []*winModelWin) (out []winOut, held int) {
	var pending []*winModelWin
	seq := 0
	step := 0
	emit := func(ws []*winModelWin, at func(*winModelWin) time.Duration) {
		slices.SortStableFunc(ws, func(a, b *winModelWin) int {
			if c := cmp.Compare(a.end, b.end); c != 0 {
				return c
			}
			if typ != "session" {
				if c := cmp.Compare(a.start, b.start); c != 0 {
					return c
				}
			}
			return cmp.Compare(a.seq, b.seq)
		})
		for _, w := range ws {
			for _, v := range w.items {
				out = append(out, winOut{V: v, Start: w.start, End: w.end, Type: typ, Key: w.key, At: at(w), Step: step})
			}
		}
	}
	advance := func(now time.Duration) {
		var due []*winModelWin
		pending = slices.DeleteFunc(pending, func(w *winModelWin) bool {
			if now >= w.end {
				due = append(due, w)
				return true
			}
			return false
		})
		emit(due, func(w *winModelWin) time.Duration { return w.end })
	}
	var now time.Duration
	for i, s := range steps {
		step = i
		switch s.Kind {
		case winSend, winFail:
			v := strconv.Itoa(s.V)
			if s.Kind == winFail {
				v = "E" + v
			}
			advance(now)
			pending = place(pending, now, v, winKeyOf(s.V), &seq)
		case winWait:
			now += s.W
			advance(now)
		case winClose:
			emit(pending, func(*winModelWin) time.Duration { return now })
			return out, -1
		case winCancel:
			for _, w := range pending {
				held += len(w.items)
			}
			return out, held
		}
	}
	return out, -1
}

// winFind returns the pending window with the given start (and key), or
// nil.
func winFind(pending []*winModelWin, start time.Duration, key string) *winModelWin {
	for _, w := range pending {
		if w.start == start && w.key == key {
			return w
		}
	}
	return nil
}

func winModelTumbling(size time.Duration, typ string, steps []winStep) ([]winOut, int) {
	return winModel(steps, typ, func(pending []*winModelWin, t time.Duration, v, _ string, seq *int) []*winModelWin {
		start := t / size * size
		w := winFind(pending, start, "")
		if w == nil {
			*seq++
			w = &winModelWin{start: start, end: start + size, seq: *seq}
			pending = append(pending, w)
		}
		w.items = append(w.items, v)
		return pending
	})
}

// winModelSliding enumerates the grid from the first item naively: every
// window start F + k·slide up to t, and keeps those that contain t.
func winModelSliding(size, slide time.Duration, steps []winStep) ([]winOut, int) {
	if size == slide {
		return winModelTumbling(size, "sliding", steps)
	}
	anchored := false
	var anchor time.Duration
	return winModel(steps, "sliding", func(pending []*winModelWin, t time.Duration, v, _ string, seq *int) []*winModelWin {
		if !anchored {
			anchor, anchored = t, true
		}
		for s := anchor; s <= t; s += slide {
			if t >= s+size {
				continue
			}
			w := winFind(pending, s, "")
			if w == nil {
				*seq++
				w = &winModelWin{start: s, end: s + size, seq: *seq}
				pending = append(pending, w)
			}
			w.items = append(w.items, v)
		}
		return pending
	})
}

func winModelSession(gap time.Duration, steps []winStep) ([]winOut, int) {
	return winModel(steps, "session", func(pending []*winModelWin, t time.Duration, v, key string, seq *int) []*winModelWin {
		var w *winModelWin
		for _, p := range pending {
			if p.key == key {
				w = p
			}
		}
		if w == nil {
			*seq++
			w = &winModelWin{start: t, key: key, seq: *seq}
			pending = append(pending, w)
		}
		w.end = t + gap
		w.items = append(w.items, v)
		return pending
	})
}

// winProc starts a window processor on clk, observed by fn.
type winProc func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int]

type winMode string

const (
	winReal      winMode = "RealClock in synctest"
	winFakeInBub winMode = "FakeClock in synctest"
	winPlain     winMode = "FakeClock, plain style"
)

var winModes = []winMode{winReal, winFakeInBub, winPlain}

// errWinFail is the cause of every error item.
var errWinFail = fmt.Errorf("win failure")

// winRunBubble plays steps in a synctest bubble and records each output
// with the time it came out.
func winRunBubble(t *testing.T, mode winMode, steps []winStep, proc winProc) ([]winOut, wpObserved) {
	var got []winOut
	obs := wpObserved{rec: &obsRecorder{}}
	synctest.Test(t, func(t *testing.T) {
		var clk Clock = RealClock
		var fc *FakeClock
		if mode == winFakeInBub {
			fc = NewFakeClock()
			clk = fc
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		base := clk.Now()
		obs.base = base
		in := make(chan Result[int])
		out := proc(ctx, clk, obs.rec.observe, in)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for r := range out {
				o := winObserve(t, r, base)
				o.At = clk.Since(base)
				got = append(got, o)
			}
		}()
		for _, s := range steps {
			switch s.Kind {
			case winSend:
				in <- NewSuccess(s.V)
			case winFail:
				in <- NewError(s.V, errWinFail, "win")
			case winWait:
				if fc == nil {
					time.Sleep(s.W)
					continue
				}
				// Step one grain at a time and let the bubble settle, so
				// that the collector reads the clock at the instant an
				// output comes out.
				for range s.W / winUnit {
					fc.Advance(winUnit)
					synctest.Wait()
				}
			case winClose:
				close(in)
			case winCancel:
				synctest.Wait()
				cancel()
			}
		}
		<-done
	})
	return got, obs
}

// winRunPlain plays steps with a FakeClock and nothing between the ops:
// after each step it reads exactly the outputs the model says are due by
// then, so an output that comes late blocks (and fails the test after
// winSafety) and one that comes early is read in the wrong place.
func winRunPlain(t *testing.T, steps []winStep, proc winProc, want []winOut) ([]winOut, wpObserved) {
	t.Helper()
	fc := NewFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := fc.Now()
	obs := wpObserved{rec: &obsRecorder{}, base: base}
	in := make(chan Result[int])
	out := proc(ctx, fc, obs.rec.observe, in)
	var got []winOut
	read := func(n int) {
		for range n {
			select {
			case r, ok := <-out:
				if !ok {
					t.Fatalf("output closed early; got %v, want %v", got, want)
				}
				o := winObserve(t, r, base)
				o.At = fc.Since(base)
				got = append(got, o)
			case <-time.After(winSafety):
				t.Fatalf("output %d did not come within %v; got %v, want %v", len(got), winSafety, got, want)
			}
		}
	}
	sendIn := func(r Result[int]) {
		select {
		case in <- r:
		case <-time.After(winSafety):
			t.Fatalf("input not taken within %v; got %v, want %v", winSafety, got, want)
		}
	}
	dueBy := func(step int) int {
		n := 0
		for _, o := range want {
			if o.Step <= step {
				n++
			}
		}
		return n
	}
	for i, s := range steps {
		switch s.Kind {
		case winSend:
			sendIn(NewSuccess(s.V))
		case winFail:
			sendIn(NewError(s.V, errWinFail, "win"))
		case winWait:
			fc.Advance(s.W)
			read(dueBy(i) - len(got))
		case winClose:
			close(in)
			read(len(want) - len(got))
		case winCancel:
			cancel()
		}
	}
	select {
	case r, ok := <-out:
		if ok {
			t.Fatalf("unexpected output %v after %v", winObserve(t, r, base), got)
		}
	case <-time.After(winSafety):
		t.Fatalf("output not closed within %v", winSafety)
	}
	return got, obs
}

// winSafety bounds the waits of the plain-style runs, so that a hang fails
// instead of stalling; it never lets anything happen.
const winSafety = 10 * time.Second

// winSchedules is how many schedules each model test plays in every mode.
var winSchedules = 150

func winSeed(t *testing.T) uint64 {
	if s := os.Getenv("STREAMZ_WIN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

type winModelCase struct {
	name  string
	keys  int
	proc  winProc
	model func([]winStep) ([]winOut, int)
}

func winCheckModel(t *testing.T, cases []winModelCase) {
	seed := winSeed(t)
	for i := range winSchedules {
		c := cases[i%len(cases)]
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		steps := winGen(rng, c.keys)
		want, held := c.model(steps)
		for _, mode := range winModes {
			var got []winOut
			var obs wpObserved
			if mode == winPlain {
				got, obs = winRunPlain(t, steps, c.proc, want)
				// The plain style reads at step boundaries, so only the
				// order and the windows are compared; the step each output
				// was read in was checked as it was read.
				if !slices.EqualFunc(want, got, winSameOut) {
					winModelFail(t, i, c.name, mode, seed, steps, want, got)
				}
			} else {
				got, obs = winRunBubble(t, mode, steps, c.proc)
				if !slices.EqualFunc(want, got, winSameTimedOut) {
					winModelFail(t, i, c.name, mode, seed, steps, want, got)
				}
			}
			if msg := wpCheckObserved(t, obs, want, held, mode != winPlain); msg != "" {
				t.Fatalf("schedule %d of %s under %s: %s\nreplay with STREAMZ_WIN_SEED=%d\nschedule: %v\nwant: %v\nevents: %v",
					i, c.name, mode, msg, seed, steps, want, obsFmtAll(obs.rec.all(), obs.base))
			}
		}
	}
}

func winModelFail(t *testing.T, i int, name string, mode winMode, seed uint64, steps []winStep, want, got []winOut) {
	t.Helper()
	t.Fatalf("schedule %d of %s under %s differs from the model\n"+
		"replay with STREAMZ_WIN_SEED=%d\nschedule: %v\nwant: %v\ngot:  %v",
		i, name, mode, seed, steps, want, got)
}

// winConfig is one window configuration of the model tests: the window,
// on a clock and observed by fn, and its reference model.
type winConfig struct {
	name   string
	keys   int
	window func(clk Clock, fn func(Event)) Window[int]
	model  func([]winStep) ([]winOut, int)
}

// winForm runs one form of w and renders its output as the per-item
// Results the models describe.
type winForm func(t *testing.T, w Window[int], ctx context.Context, in <-chan Result[int]) <-chan Result[int]

// winCases plays every configuration in one form.
func winCases(t *testing.T, configs []winConfig, form winForm) []winModelCase {
	var cases []winModelCase
	for _, c := range configs {
		cases = append(cases, winModelCase{
			name: c.name,
			keys: c.keys,
			proc: func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
				return form(t, c.window(clk, fn), ctx, in)
			},
			model: c.model,
		})
	}
	return cases
}

func winFormProcess(_ *testing.T, w Window[int], ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
	return w.Process(ctx, in)
}

// winFormCollect hands on each collection's Results as they are, so that
// their window metadata is Collect's, and checks that the collection's
// bounds and Meta are its Results' window.
func winFormCollect(t *testing.T, w Window[int], ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
	return winFlatten(t, w.Collect(ctx, in), func(wc WindowCollection[int]) []Result[int] {
		winCheckBounds(t, wc.Start, wc.End, wc.Meta)
		for _, x := range wc.Results {
			if meta, err := GetWindowMetadata(x); err != nil || !reflect.DeepEqual(meta, wc.Meta) {
				t.Errorf("a collected Result's window %+v (%v), the collection's %+v", meta, err, wc.Meta)
			}
		}
		return wc.Results
	})
}

// winFormFold folds each window's Results into a slice, checking that fn
// sees them as they were received, and hands them on decorated with the
// WindowValue's Meta.
func winFormFold(t *testing.T, w Window[int], ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
	gather := func(acc []Result[int], r Result[int]) []Result[int] {
		if _, err := GetWindowMetadata(r); err == nil {
			t.Errorf("fn was given a Result with window metadata: %v", r)
		}
		return append(acc, r)
	}
	return winFlatten(t, NewWindowFold(w, nil, gather).Process(ctx, in), func(v WindowValue[[]Result[int]]) []Result[int] {
		winCheckBounds(t, v.Start, v.End, v.Meta)
		decorated := make([]Result[int], len(v.Value))
		for i, x := range v.Value {
			decorated[i] = AddWindowMetadata(x, v.Meta)
		}
		return decorated
	})
}

// winFlatten hands on the Results that each of a live form's windows holds,
// as results renders them, in order; a live form here never emits an
// error.
func winFlatten[V any](t *testing.T, out <-chan Result[V], results func(V) []Result[int]) <-chan Result[int] {
	flat := make(chan Result[int])
	go func() {
		defer close(flat)
		for r := range out {
			if r.IsError() {
				t.Errorf("a live form emitted an error: %v", r.Error())
				continue
			}
			for _, x := range results(r.Value()) {
				flat <- x
			}
		}
	}()
	return flat
}

func winCheckBounds(t *testing.T, start, end time.Time, meta WindowMetadata) {
	if !start.Equal(meta.Start) || !end.Equal(meta.End) {
		t.Errorf("bounds [%v, %v), Meta's [%v, %v)", start, end, meta.Start, meta.End)
	}
}

func winTumblingConfigs() []winConfig {
	var configs []winConfig
	for _, size := range []time.Duration{5 * winUnit, 2 * winUnit, winUnit} {
		configs = append(configs, winConfig{
			name: fmt.Sprintf("TumblingWindow(%v)", size),
			keys: 1,
			window: func(clk Clock, fn func(Event)) Window[int] {
				return NewTumblingWindow[int](size, clk).WithObserver(fn)
			},
			model: func(steps []winStep) ([]winOut, int) { return winModelTumbling(size, "tumbling", steps) },
		})
	}
	return configs
}

func winSlidingConfigs() []winConfig {
	var configs []winConfig
	for _, p := range [][2]time.Duration{
		{8 * winUnit, 2 * winUnit}, // size/slide = 4
		{5 * winUnit, 2 * winUnit}, // slide does not divide size
		{2 * winUnit, 5 * winUnit}, // slide > size: gaps
		{4 * winUnit, 4 * winUnit}, // tumbling mode
		{3 * winUnit, winUnit},
	} {
		size, slide := p[0], p[1]
		configs = append(configs, winConfig{
			name: fmt.Sprintf("SlidingWindow(%v, slide %v)", size, slide),
			keys: 1,
			window: func(clk Clock, fn func(Event)) Window[int] {
				return NewSlidingWindow[int](size, clk).WithSlide(slide).WithObserver(fn)
			},
			model: func(steps []winStep) ([]winOut, int) { return winModelSliding(size, slide, steps) },
		})
	}
	return configs
}

func winSessionConfigs() []winConfig {
	var configs []winConfig
	for _, p := range []struct {
		gap  time.Duration
		keys int
	}{{3 * winUnit, 3}, {5 * winUnit, 4}, {winUnit, 2}, {2 * winUnit, 1}} {
		configs = append(configs, winConfig{
			name: fmt.Sprintf("SessionWindow(gap %v, %d keys)", p.gap, p.keys),
			keys: p.keys,
			window: func(clk Clock, fn func(Event)) Window[int] {
				return NewSessionWindow(winKeyFunc, clk).WithGap(p.gap).WithObserver(fn)
			},
			model: func(steps []winStep) ([]winOut, int) { return winModelSession(p.gap, steps) },
		})
	}
	return configs
}

func TestTumblingWindow_ModelSchedules(t *testing.T) {
	winCheckModel(t, winCases(t, winTumblingConfigs(), winFormProcess))
}

func TestSlidingWindow_ModelSchedules(t *testing.T) {
	winCheckModel(t, winCases(t, winSlidingConfigs(), winFormProcess))
}

func TestSessionWindow_ModelSchedules(t *testing.T) {
	winCheckModel(t, winCases(t, winSessionConfigs(), winFormProcess))
}

// winAllConfigs returns every configuration, by window kind.
func winAllConfigs() map[string][]winConfig {
	return map[string][]winConfig{
		"tumbling": winTumblingConfigs(),
		"sliding":  winSlidingConfigs(),
		"session":  winSessionConfigs(),
	}
}

// The live forms against the same models: Collect, and a fold that
// gathers each window's Results, must emit exactly the windows Process
// emits, at the same instants, with the same observer events.
func TestWindows_CollectModelSchedules(t *testing.T) {
	for name, configs := range winAllConfigs() {
		t.Run(name, func(t *testing.T) { winCheckModel(t, winCases(t, configs, winFormCollect)) })
	}
}

func TestWindows_FoldModelSchedules(t *testing.T) {
	for name, configs := range winAllConfigs() {
		t.Run(name, func(t *testing.T) { winCheckModel(t, winCases(t, configs, winFormFold)) })
	}
}
