//go:build go1.25

package streamz

// Tests of the keyed processors (keyed.go, keyed_debounce.go,
// keyed_throttle.go, keyed_batcher.go): model tests in the harness's three
// modes and the plain style, against the unkeyed models run per key and
// merged in the keyed order; and the shared rules one by one. Every helper
// here starts with "km".

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kmKeys is how many keys the model schedules spread their items over.
const kmKeys = 3

// kmKey is the key function of the model tests: item v's key is v mod
// kmKeys, and it panics on every eleventh item, which cannot be keyed.
func kmKey(v int) int {
	if v%11 == 0 {
		panic(fmt.Sprintf("no key for %d", v))
	}
	return v % kmKeys
}

// kmKeyOf is kmKey for the model: the key, or false where kmKey panics.
func kmKeyOf(v int) (int, bool) {
	if v%11 == 0 {
		return 0, false
	}
	return v % kmKeys, true
}

// kmSub is the schedule one key sees: its own items, every wait, and the
// close or cancel; errors and other keys' items are left out.
func kmSub(steps []teStep, keyOf func(int) (int, bool), key int) []teStep {
	var sub []teStep
	for _, s := range steps {
		if s.Kind == teFail {
			continue
		}
		if s.Kind == teSend {
			if k, ok := keyOf(s.V); !ok || k != key {
				continue
			}
		}
		sub = append(sub, s)
	}
	// The models emit what fell due only when a later step comes: an error
	// at the end, which kmModel leaves out, makes them emit all of it.
	return append(sub, teStep{Kind: teFail, V: kmEnd})
}

// kmEnd is the item of the error kmSub ends a key's schedule with.
const kmEnd = -1

// kmOut is a model output with what decides its place in the keyed order.
type kmOut struct {
	out    teOut
	reason string
	// class: 0 released by a deadline at out.At, 1 caused by an input at
	// out.At (leading edge, size, an error), 2 flushed by the close.
	class    int
	deadline time.Duration // for class 2: when it would have gone out
	seq      int           // the arrival, as an item number, that orders it
}

// kmModel is the model of a keyed processor: the unkeyed model (with
// reasons) run on each key's schedule, merged in the keyed order: by time;
// at one instant, what deadlines released (by arrival of the item each
// releases, a batch's first), then what inputs caused (in input order),
// then what the close flushed (by deadline, then arrival). Errors, and
// items on which the key panics, pass at once.
func kmModel(steps []teStep, keyOf func(int) (int, bool), model func([]teStep) ([]teOut, []string)) ([]teOut, []string) {
	var all []kmOut
	for _, e := range teTimeline(steps) {
		switch {
		case e.Step.Kind == teFail:
			all = append(all, kmOut{out: teError(e.At, e.Step.V), class: 1, seq: e.Step.V})
		case e.Step.Kind == teSend:
			if _, ok := keyOf(e.Step.V); !ok {
				all = append(all, kmOut{out: teOut{Vals: []int{e.Step.V}, Err: true, Cause: -1, At: e.At}, class: 1, seq: e.Step.V})
			}
		}
	}
	for k := range kmKeys {
		sub := kmSub(steps, keyOf, k)
		outs, reasons := model(sub)
		for j, o := range outs {
			if o.Err && o.Vals[0] == kmEnd {
				continue
			}
			c := kmOut{out: o, reason: reasons[j], seq: o.Vals[0]}
			switch reasons[j] {
			case ReasonTrailing, ReasonDeadline, ReasonMaxWait, ReasonLatency:
				c.class = 0
			case ReasonClose:
				c.class, c.deadline = 2, kmDeadline(sub, o, model)
			default:
				c.class, c.seq = 1, o.Vals[len(o.Vals)-1]
			}
			all = append(all, c)
		}
	}
	slices.SortStableFunc(all, func(a, b kmOut) int {
		return cmp.Or(cmp.Compare(a.out.At, b.out.At), cmp.Compare(a.class, b.class),
			cmp.Compare(a.deadline, b.deadline), cmp.Compare(a.seq, b.seq))
	})
	var outs []teOut
	var reasons []string
	for _, c := range all {
		outs = append(outs, c.out)
		reasons = append(reasons, c.reason)
	}
	return outs, reasons
}

// kmDeadline is when o, flushed by the close of sub, would have gone out
// had the input stayed open: the time of the same output when a day passes
// before the close. With no deadline (a Batcher with MaxLatency 0) it is
// the latest instant, so that arrival alone orders.
func kmDeadline(sub []teStep, o teOut, model func([]teStep) ([]teOut, []string)) time.Duration {
	i := slices.IndexFunc(sub, func(s teStep) bool { return s.Kind == teClose })
	ext := append(slices.Clone(sub[:i]), teStep{Kind: teWait, W: 24 * time.Hour}, teStep{Kind: teClose})
	outs, reasons := model(ext)
	for j, e := range outs {
		if reasons[j] != ReasonClose && slices.Equal(e.Vals, o.Vals) {
			return e.At
		}
	}
	return math.MaxInt64
}

// kmModelBatcher is obsModelBatcher in the shape of the other models.
func kmModelBatcher(cfg BatchConfig, steps []teStep) ([]teOut, []string) {
	outs, _ := obsModelBatcher(cfg, steps)
	var items []teOut
	var reasons []string
	for _, o := range outs {
		items = append(items, o.teOut)
		reasons = append(reasons, o.reason)
	}
	return items, reasons
}

// kmObserveBatch is teObserveBatch for a KeyedBatcher. A batch whose Key
// is not its items' key shows with Cause -2, which no model output has.
func kmObserveBatch(r Result[KeyedBatch[int, int]]) teOut {
	if r.IsError() {
		return teOut{Vals: slices.Clone(r.Error().Item.Items), Err: true}
	}
	b := r.Value()
	o := teOut{Vals: slices.Clone(b.Items)}
	for _, v := range b.Items {
		if kmKey(v) != b.Key {
			o.Cause = -2
		}
	}
	return o
}

func kmOutputsOnly(model func([]teStep) ([]teOut, []string)) func([]teStep) []teOut {
	return func(steps []teStep) []teOut {
		outs, _ := model(steps)
		return outs
	}
}

func kmDebounceCases() []teModelCase[int] {
	var cases []teModelCase[int]
	for _, c := range edgeDebounceConfigs() {
		model := func(steps []teStep) ([]teOut, []string) {
			return kmModel(steps, kmKeyOf, func(sub []teStep) ([]teOut, []string) { return edgeModelDebounceReasons(c.d, c.o, sub) })
		}
		if c.d <= 0 {
			// Every item passes through, unkeyed.
			model = func(steps []teStep) ([]teOut, []string) { return edgeModelDebounceReasons(c.d, c.o, steps) }
		}
		cases = append(cases, teModelCase[int]{
			name:   fmt.Sprintf("KeyedDebounce(%v, %v)", c.d, c.o),
			period: c.d,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				return kmDebounce(c, clk).Process(ctx, in)
			},
			observe: teObserveItem,
			model:   kmOutputsOnly(model),
		})
	}
	return cases
}

func kmDebounce(c edgeConfig, clk Clock) *KeyedDebounce[int, int] {
	return NewKeyedDebounce(c.d, kmKey, clk).WithLeading(c.o.leading).WithTrailing(c.o.trailing).WithMaxWait(c.o.maxWait)
}

func kmThrottle(c edgeConfig, clk Clock) *KeyedThrottle[int, int] {
	return NewKeyedThrottle(c.d, kmKey, clk).WithLeading(c.o.leading).WithTrailing(c.o.trailing)
}

func kmThrottleCases() []teModelCase[int] {
	var cases []teModelCase[int]
	for _, c := range edgeThrottleConfigs() {
		model := func(steps []teStep) ([]teOut, []string) {
			return kmModel(steps, kmKeyOf, func(sub []teStep) ([]teOut, []string) { return edgeModelThrottleReasons(c.d, c.o, sub) })
		}
		if c.d <= 0 {
			model = func(steps []teStep) ([]teOut, []string) { return edgeModelThrottleReasons(c.d, c.o, steps) }
		}
		cases = append(cases, teModelCase[int]{
			name:   fmt.Sprintf("KeyedThrottle(%v, %v)", c.d, c.o),
			period: c.d,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				return kmThrottle(c, clk).Process(ctx, in)
			},
			observe: teObserveItem,
			model:   kmOutputsOnly(model),
		})
	}
	return cases
}

// kmBatchConfigs are the configurations of the KeyedBatcher model tests.
var kmBatchConfigs = []BatchConfig{
	{MaxSize: 3, MaxLatency: 100 * time.Millisecond},
	{MaxSize: 1000, MaxLatency: 100 * time.Millisecond},
	{MaxSize: 1, MaxLatency: 100 * time.Millisecond},
	{MaxSize: 4, MaxLatency: 0},
	{MaxSize: 2, MaxLatency: time.Nanosecond},
}

func kmBatcherCases() []teModelCase[KeyedBatch[int, int]] {
	var cases []teModelCase[KeyedBatch[int, int]]
	for _, cfg := range kmBatchConfigs {
		cases = append(cases, teModelCase[KeyedBatch[int, int]]{
			name:   fmt.Sprintf("KeyedBatcher(%+v)", cfg),
			period: cfg.MaxLatency,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[KeyedBatch[int, int]] {
				return NewKeyedBatcher(cfg, kmKey, clk).Process(ctx, in)
			},
			observe: kmObserveBatch,
			model: kmOutputsOnly(func(steps []teStep) ([]teOut, []string) {
				return kmModel(steps, kmKeyOf, func(sub []teStep) ([]teOut, []string) { return kmModelBatcher(cfg, sub) })
			}),
		})
	}
	return cases
}

func TestKeyedDebounce_ModelSchedules(t *testing.T) { teCheckModel(t, kmDebounceCases()) }
func TestKeyedThrottle_ModelSchedules(t *testing.T) { teCheckModel(t, kmThrottleCases()) }
func TestKeyedBatcher_ModelSchedules(t *testing.T)  { teCheckModel(t, kmBatcherCases()) }

// With one key and a key function that never panics, the models are the
// unkeyed ones: the merge changes nothing.
func TestKeyedModelOneKeyIsUnkeyed(t *testing.T) {
	rng := rand.New(rand.NewPCG(teSeed(t), 16))
	for range 500 {
		d := 100 * time.Millisecond
		steps := teGenSchedule(rng, d)
		var sends []teStep
		for _, s := range steps {
			if s.Kind != teSend || s.V%kmKeys == 0 && s.V%11 != 0 {
				sends = append(sends, s)
			}
		}
		o := edgeOpts{leading: true, trailing: true, maxWait: 250 * time.Millisecond}
		unkeyed := func(sub []teStep) ([]teOut, []string) { return edgeModelDebounceReasons(d, o, sub) }
		want, _ := unkeyed(sends)
		got, _ := kmModel(sends, kmKeyOf, unkeyed)
		require.Equal(t, want, got, "%v", sends)
	}
}

// Observed model schedules: the unkeyed observed checks, with a key that
// never panics, so that every item sent shows in an event.
func kmKeyTotal(v int) int { return v % kmKeys }

func kmObsCases(debounce bool) []owObsCase {
	var cases []owObsCase
	if debounce {
		for _, c := range edgeDebounceConfigs() {
			cases = append(cases, owObsCase{
				name:   fmt.Sprintf("KeyedDebounce(%v, %v)", c.d, c.o),
				period: c.d,
				start: func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
					return NewKeyedDebounce(c.d, kmKeyTotal, clk).WithLeading(c.o.leading).WithTrailing(c.o.trailing).
						WithMaxWait(c.o.maxWait).WithObserver(fn).Process(ctx, in)
				},
				model: func(steps []teStep) ([]teOut, []string) {
					return kmModelTotal(steps, c.d, func(sub []teStep) ([]teOut, []string) { return edgeModelDebounceReasons(c.d, c.o, sub) })
				},
				accounted: c.o.trailing || c.d <= 0,
			})
		}
		return cases
	}
	for _, c := range edgeThrottleConfigs() {
		cases = append(cases, owObsCase{
			name:   fmt.Sprintf("KeyedThrottle(%v, %v)", c.d, c.o),
			period: c.d,
			start: func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
				return NewKeyedThrottle(c.d, kmKeyTotal, clk).WithLeading(c.o.leading).WithTrailing(c.o.trailing).
					WithObserver(fn).Process(ctx, in)
			},
			model: func(steps []teStep) ([]teOut, []string) {
				return kmModelTotal(steps, c.d, func(sub []teStep) ([]teOut, []string) { return edgeModelThrottleReasons(c.d, c.o, sub) })
			},
			accounted: true,
		})
	}
	return cases
}

// kmModelTotal is kmModel for kmKeyTotal. With d <= 0 there are no keys.
func kmModelTotal(steps []teStep, d time.Duration, unkeyed func([]teStep) ([]teOut, []string)) ([]teOut, []string) {
	if d <= 0 {
		return unkeyed(steps)
	}
	return kmModel(steps, kmKeyTotalOf, unkeyed)
}

func kmKeyTotalOf(v int) (int, bool) { return kmKeyTotal(v), true }

func TestKeyedDebounce_ModelSchedulesObserved(t *testing.T) {
	owCheckModelObserved(t, kmObsCases(true))
}
func TestKeyedThrottle_ModelSchedulesObserved(t *testing.T) {
	owCheckModelObserved(t, kmObsCases(false))
}

// kmItem is an item of the explicit tests: a key and a number.
type kmItem struct {
	Key string
	N   int
}

func (it kmItem) String() string { return fmt.Sprintf("%s%d", it.Key, it.N) }

func kmItemKey(it kmItem) string {
	if it.Key == "" {
		panic("no key")
	}
	return it.Key
}

// kmPlay sends items in the plain style on fc: each entry of script is
// sent, or, when it is a duration, advanced by; after each, exactly the
// outputs wanted by then are received, stamped with the clock. It then
// closes the input and returns the rest.
func kmPlay[O any](t *testing.T, fc *FakeClock, in chan<- Result[kmItem], out <-chan Result[O], script ...any) []string {
	t.Helper()
	start := fc.Now()
	var got []string
	take := func(r Result[O]) {
		got = append(got, fmt.Sprintf("%s@%v", teFmt(r), fc.Since(start)))
	}
	for _, s := range script {
		switch s := s.(type) {
		case time.Duration:
			fc.Advance(s)
		case kmItem:
			select {
			case in <- NewSuccess(s):
			case <-time.After(teSafety):
				t.Fatalf("%v not taken within %v; got %v", s, teSafety, got)
			}
		case int: // receive s outputs
			for range s {
				select {
				case r := <-out:
					take(r)
				case <-time.After(teSafety):
					t.Fatalf("no output within %v; got %v", teSafety, got)
				}
			}
		}
	}
	close(in)
	for r := range out {
		take(r)
	}
	return got
}

func kmA(n int) kmItem { return kmItem{"a", n} }
func kmB(n int) kmItem { return kmItem{"b", n} }

// Two keys interleaved, with deadlines that coincide: each key keeps its
// own item, and outputs due at one instant leave in the arrival order of
// the items they release, not in key order, before an input at that
// instant.
func TestKeyed_TwoKeysCoincidingDeadlines(t *testing.T) {
	ms := obsMs
	t.Run("KeyedDebounce", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedDebounce(ms(100), kmItemKey, fc).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmA(1), kmB(1), ms(50), kmB(2), kmA(2), ms(100), 2, ms(50), kmA(3), kmB(3), ms(100), 2, kmB(4))
		require.Equal(t, []string{"b2@150ms", "a2@150ms", "a3@300ms", "b3@300ms", "b4@300ms"}, got)
	})
	t.Run("KeyedThrottle trailing", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedThrottle(ms(100), kmItemKey, fc).WithTrailing(true).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmA(1), 1, kmB(1), 1, ms(10), kmB(2), kmA(2), ms(90), 2, kmA(3))
		require.Equal(t, []string{"a1@0s", "b1@0s", "b2@100ms", "a2@100ms", "a3@100ms"}, got)
	})
	t.Run("KeyedBatcher", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedBatcher(BatchConfig{MaxSize: 3, MaxLatency: ms(100)}, kmItemKey, fc).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmB(1), kmA(1), ms(50), kmA(2), kmB(2), ms(50), 2, kmA(3), kmA(4), kmA(5), 1)
		require.Equal(t, []string{
			"{b [b1 b2]}@100ms", "{a [a1 a2]}@100ms", "{a [a3 a4 a5]}@100ms",
		}, got)
	})
}

// Close flushes every key's pending item at once: by deadline, then by
// arrival, whatever the keys.
func TestKeyed_CloseFlushesInDeadlineOrder(t *testing.T) {
	ms := obsMs
	t.Run("KeyedDebounce with maxWait", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedDebounce(ms(100), kmItemKey, fc).WithMaxWait(ms(120)).Process(t.Context(), in)
		// a's deadline becomes 120ms (maxWait), b's 150ms, c's 150ms.
		got := kmPlay(t, fc, in, out, kmA(1), ms(50), kmB(1), kmItem{"c", 1}, kmA(2))
		require.Equal(t, []string{"a2@50ms", "b1@50ms", "c1@50ms"}, got)
	})
	t.Run("KeyedBatcher without MaxLatency: by first item", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedBatcher(BatchConfig{MaxSize: 10}, kmItemKey, fc).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmB(1), kmA(1), kmB(2), ms(5), kmItem{"c", 1}, kmA(2))
		require.Equal(t, []string{"{b [b1 b2]}@5ms", "{a [a1 a2]}@5ms", "{c [c1]}@5ms"}, got)
	})
}

// A key whose state was freed comes back as a new key: a cooldown that
// ended, a burst that ended and a batch that went out leave nothing that
// changes what the key's next item does.
func TestKeyed_KeyReturnsAfterItsStateWasFreed(t *testing.T) {
	ms := obsMs
	t.Run("KeyedThrottle", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedThrottle(ms(100), kmItemKey, fc).Process(t.Context(), in)
		// b's item at 150ms sweeps a's ended cooldown; a comes back at 250ms.
		got := kmPlay(t, fc, in, out, kmA(1), 1, ms(50), kmA(2), ms(100), kmB(1), 1, ms(100), kmA(3), 1, ms(50), kmA(4))
		require.Equal(t, []string{"a1@0s", "b1@150ms", "a3@250ms"}, got)
	})
	t.Run("KeyedDebounce leading", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedDebounce(ms(100), kmItemKey, fc).WithLeading(true).WithTrailing(false).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmA(1), 1, ms(50), kmA(2), ms(150), kmB(1), 1, kmA(3), 1, ms(99), kmA(4))
		require.Equal(t, []string{"a1@0s", "b1@200ms", "a3@200ms"}, got)
	})
	t.Run("KeyedBatcher", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedBatcher(BatchConfig{MaxSize: 2, MaxLatency: ms(100)}, kmItemKey, fc).Process(t.Context(), in)
		got := kmPlay(t, fc, in, out, kmA(1), kmA(2), 1, ms(50), kmA(3), ms(100), 1, kmA(4))
		require.Equal(t, []string{"{a [a1 a2]}@0s", "{a [a3]}@150ms", "{a [a4]}@150ms"}, got)
	})
}

// keyedStates frees what holds nothing, keeps one spare entry, and
// rebuilds its map once it has shrunk to a quarter of its peak.
func TestKeyedStates_FreesAndShrinks(t *testing.T) {
	ks := newKeyedStates[int, int](false)
	const n = 4 * keyedShrinkMin
	var e *keyedEntry[int, int]
	var isNew bool
	for k := range n {
		e, isNew = ks.get(k)
		require.True(t, isNew)
		ks.hold(e, time.Duration(n-k), true)
	}
	require.Equal(t, n, len(ks.byKey))
	require.Equal(t, time.Duration(1), ks.next())
	// Take them in deadline order, resting the even keys until 10n.
	for i := range n {
		e, ok := ks.popDue(time.Duration(n))
		require.True(t, ok)
		require.Equal(t, n-1-i, e.key, "popped out of deadline order")
		if e.key%2 == 0 {
			ks.rest(e, 10*n, time.Duration(n))
		} else {
			ks.free(e)
		}
	}
	// A key resting until a time already reached is freed at once.
	e, _ = ks.get(-1)
	ks.rest(e, time.Duration(n), time.Duration(n))
	require.NotContains(t, ks.byKey, -1, "a key whose period has ended was kept")
	_, ok := ks.popDue(math.MaxInt64)
	require.False(t, ok)
	require.Equal(t, n/2, len(ks.byKey), "odd keys not freed")
	require.Equal(t, time.Duration(0), ks.next(), "a resting key arms a timer")
	ks.sweep(10*n - 1)
	require.Equal(t, n/2, len(ks.byKey), "swept before its period ended")
	ks.sweep(10 * n)
	require.Empty(t, ks.byKey)
	require.Empty(t, ks.idle)
	require.NotNil(t, ks.spare)
	require.LessOrEqual(t, ks.peak, n/4, "the map was not rebuilt")
	spare := ks.spare
	e, isNew = ks.get(7)
	require.True(t, isNew)
	require.Same(t, spare, e, "the spare entry was not reused")
}

// The same instant, in arrival order, for the items released together:
// 100,000 keys, each with one item pending, all due at once, then all
// flushed at the close, and again with each key coming back.
func TestKeyed_100000Keys(t *testing.T) {
	const keys = 100_000
	d := obsMs(100)
	fc := NewFakeClock()
	in := make(chan Result[int])
	key := func(v int) int { return v % keys }
	out := NewKeyedDebounce(d, key, fc).Process(t.Context(), in)
	recv := func(want int) {
		t.Helper()
		for i := range keys {
			r := <-out
			require.Equal(t, want+i, r.Value())
		}
	}
	// Each key's first item, at 0, is replaced by its second at 50ms.
	for i := range keys {
		in <- NewSuccess(i)
	}
	fc.Advance(d / 2)
	for i := range keys {
		in <- NewSuccess(keys + i)
	}
	fc.Advance(d)
	recv(keys)
	for i := range keys {
		in <- NewSuccess(2*keys + i)
	}
	close(in)
	recv(2 * keys)
	_, open := <-out
	require.False(t, open)
}

// A plain-style pipeline: 1000 keys debounced, then batched. The settling
// FakeClock sees both stages, so the Advance to the keys' deadline returns
// only once the Batcher has all 1000 items, and the next Advance closes
// one batch of all 1000 by its latency, for a plain receive, with nothing
// else waiting in between.
func TestKeyedDebounce_PlainPipelineIntoBatcher(t *testing.T) {
	const keys = 1000
	d := obsMs(100)
	fc := NewFakeClock()
	in := make(chan Result[int])
	debounced := NewKeyedDebounce(d, func(v int) int { return v % keys }, fc).Process(t.Context(), in)
	latency := obsMs(10)
	batches := NewBatcher[int](BatchConfig{MaxSize: 10 * keys, MaxLatency: latency}, fc).Process(t.Context(), debounced)
	start := fc.Now()
	for round := range 3 {
		for i := range keys {
			in <- NewSuccess(round*keys + i)
		}
		if round < 2 {
			fc.Advance(d / 4)
		}
	}
	fc.Advance(d) // the deadline of the last round, at 150ms
	fc.Advance(latency)
	r := <-batches
	require.Equal(t, d/2+d+latency, fc.Since(start))
	require.Len(t, r.Value(), keys)
	for i, v := range r.Value() {
		require.Equal(t, 2*keys+i, v, "item %d", i)
	}
	close(in)
	_, open := <-batches
	require.False(t, open)
}

// A key function that panics fails that item only: it goes out at once as
// an error Result named by the processor, keeping the item, and the stream
// goes on, for each keyed processor.
func TestKeyed_KeyPanicIsAnErrorResult(t *testing.T) {
	check := func(t *testing.T, name string, err *StreamError[kmItem]) {
		t.Helper()
		require.Equal(t, name, err.ProcessorName)
		require.Equal(t, kmItem{N: 9}, err.Item)
		require.EqualError(t, err.Err, "key panicked: no key")
	}
	bad := kmItem{N: 9}
	t.Run("KeyedDebounce", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedDebounce(obsMs(10), kmItemKey, fc).Process(t.Context(), in)
		in <- NewSuccess(kmA(1))
		in <- NewSuccess(bad)
		r := <-out
		check(t, "keyed-debounce", r.Error())
		in <- NewSuccess(kmA(2))
		close(in)
		require.Equal(t, kmA(2), (<-out).Value())
	})
	t.Run("KeyedThrottle", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedThrottle(obsMs(10), kmItemKey, fc).Process(t.Context(), in)
		in <- NewSuccess(bad)
		check(t, "keyed-throttle", (<-out).Error())
		in <- NewSuccess(kmA(1))
		require.Equal(t, kmA(1), (<-out).Value())
		close(in)
	})
	t.Run("KeyedBatcher", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[kmItem])
		out := NewKeyedBatcher(BatchConfig{MaxSize: 2}, kmItemKey, fc).Process(t.Context(), in)
		in <- NewSuccess(kmA(1))
		in <- NewSuccess(bad)
		r := <-out
		se := r.Error()
		require.Equal(t, "keyed-batcher", se.ProcessorName)
		require.Equal(t, KeyedBatch[string, kmItem]{Items: []kmItem{bad}}, se.Item)
		require.EqualError(t, se.Err, "key panicked: no key")
		in <- NewSuccess(kmA(2))
		require.Equal(t, KeyedBatch[string, kmItem]{Key: "a", Items: []kmItem{kmA(1), kmA(2)}}, (<-out).Value())
		close(in)
	})
}

// The constructors reject what they cannot run, naming the value.
func TestKeyed_ConstructorPanics(t *testing.T) {
	require.PanicsWithValue(t, "streamz: NewKeyedDebounce: key must not be nil", func() { NewKeyedDebounce[int, int](1, nil, nil) })
	require.PanicsWithValue(t, "streamz: NewKeyedThrottle: key must not be nil", func() { NewKeyedThrottle[int, int](1, nil, nil) })
	require.PanicsWithValue(t, "streamz: NewKeyedBatcher: key must not be nil", func() { NewKeyedBatcher[int, int](BatchConfig{MaxSize: 1}, nil, nil) })
	require.PanicsWithValue(t, "streamz: NewKeyedBatcher: BatchConfig.MaxSize must be at least 1, got 0", func() {
		NewKeyedBatcher(BatchConfig{}, kmKeyTotal, nil)
	})
	require.PanicsWithValue(t, "streamz: NewKeyedBatcher: BatchConfig.MaxLatency must not be negative, got -1ns", func() {
		NewKeyedBatcher(BatchConfig{MaxSize: 1, MaxLatency: -1}, kmKeyTotal, nil)
	})
	require.PanicsWithValue(t, "streamz: KeyedDebounce.WithMaxWait: maxWait must not be negative, got -1ns", func() {
		NewKeyedDebounce(1, kmKeyTotal, nil).WithMaxWait(-1)
	})
	in := make(chan Result[int])
	require.PanicsWithValue(t, "streamz: KeyedDebounce.Process: WithLeading(false) and WithTrailing(false) leave no edge to emit on", func() {
		NewKeyedDebounce(1, kmKeyTotal, nil).WithTrailing(false).Process(t.Context(), in)
	})
	require.PanicsWithValue(t, "streamz: KeyedThrottle.Process: WithLeading(false) and WithTrailing(false) leave no edge to emit on", func() {
		NewKeyedThrottle(1, kmKeyTotal, nil).WithLeading(false).Process(t.Context(), in)
	})
}

// Event sequences, as observe_wire_test.go's tables, with two keys: odd
// and even items.

func kmParity(v int) int { return v % 2 }

func TestKeyedDebounce_ObserverSequences(t *testing.T) {
	ms := obsMs
	owPlayTable(t, "keyed-debounce", []owSeqCase{
		{
			name: "two keys, one timer for the earliest deadline, deadlines that coincide leave in arrival order",
			steps: []obsStep{obsSend(1), obsWait(ms(50)), obsSend(2), obsSend(3), obsWait(ms(100)),
				obsCloseIn()},
			events: []string{obsArm(0), owCoalesce(50), obsFire(150), obsEmit("deadline", 1, 150),
				obsEmit("deadline", 1, 150), obsClose(150)},
			outputs: []string{"2", "3"},
		},
		{
			name:  "deadlines apart: the timer is armed again for the next key's before the emit",
			steps: []obsStep{obsSend(1), obsWait(ms(30)), obsSend(2), obsWait(ms(70)), obsWait(ms(30)), obsCloseIn()},
			events: []string{obsArm(0), obsFire(100), obsArm(100), obsEmit("deadline", 1, 100),
				obsFire(130), obsEmit("deadline", 1, 130), obsClose(130)},
			outputs: []string{"1", "2"},
		},
		{
			name:    "close flushes every key's item; errors pass unreported",
			steps:   []obsStep{obsSend(1), obsSend(2), obsFail(3), obsWait(ms(10)), obsCloseIn()},
			events:  []string{obsArm(0), obsStop(10), obsEmit("close", 1, 10), obsEmit("close", 1, 10), obsClose(10)},
			outputs: []string{"E3", "1", "2"},
		},
		{
			name:    "cancel with two keys pending",
			steps:   []obsStep{obsSend(1), obsSend(2), obsWait(ms(20)), obsCancelCtx()},
			events:  []string{obsArm(0), obsCanc(2, 20), obsStop(20), obsClose(20)},
			outputs: nil,
		},
		{
			name:     "cancel while a released item waits for a reader, with the other key's released too",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsWait(ms(100)), obsCancelCtx()},
			events:   []string{obsArm(0), obsFire(100), obsCanc(2, 100), obsClose(100)},
		},
	}, func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewKeyedDebounce(ms(100), kmParity, clk).WithObserver(fn).Process(ctx, in)
	})
}

func TestKeyedThrottle_ObserverSequences(t *testing.T) {
	ms := obsMs
	owPlayTable(t, "keyed-throttle", []owSeqCase{{
		name: "leading: a cooldown per key, no timer",
		steps: []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(ms(100)), obsSend(5), obsSend(4),
			obsCloseIn()},
		events: []string{obsEmit("leading", 1, 0), obsEmit("leading", 1, 0), owDrop(0),
			obsEmit("leading", 1, 100), obsEmit("leading", 1, 100), obsClose(100)},
		outputs: []string{"1", "2", "5", "4"},
	}}, func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewKeyedThrottle(ms(100), kmParity, clk).WithObserver(fn).Process(ctx, in)
	})
	owPlayTable(t, "keyed-throttle", []owSeqCase{
		{
			name: "trailing: two keys' held items go out at their cooldowns' common end",
			steps: []obsStep{obsSend(1), obsSend(2), obsWait(ms(10)), obsSend(4), obsSend(3), obsSend(5),
				obsWait(ms(90)), obsCloseIn()},
			events: []string{obsEmit("leading", 1, 0), obsEmit("leading", 1, 0), obsArm(10), owDrop(10),
				obsFire(100), obsEmit("trailing", 1, 100), obsEmit("trailing", 1, 100), obsClose(100)},
			outputs: []string{"1", "2", "4", "5"},
		},
		{
			name:    "cancel with an item held",
			steps:   []obsStep{obsSend(1), obsSend(3), obsWait(ms(20)), obsCancelCtx()},
			events:  []string{obsEmit("leading", 1, 0), obsArm(0), obsCanc(1, 20), obsStop(20), obsClose(20)},
			outputs: []string{"1"},
		},
	}, func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewKeyedThrottle(ms(100), kmParity, clk).WithTrailing(true).WithObserver(fn).Process(ctx, in)
	})
}

func TestKeyedBatcher_ObserverSequences(t *testing.T) {
	ms := obsMs
	cases := []owSeqCase{
		{
			name:    "a key's batch by size, the other's by latency",
			steps:   []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(ms(100)), obsCloseIn()},
			events:  []string{obsArm(0), obsEmit("size", 2, 0), obsFire(100), obsEmit("latency", 1, 100), obsClose(100)},
			outputs: []string{"{1 [1 3]}", "{0 [2]}"},
		},
		{
			name:    "close flushes every key's batch, in arrival order; errors pass unreported",
			steps:   []obsStep{obsSend(2), obsSend(1), obsFail(3), obsWait(ms(10)), obsCloseIn()},
			events:  []string{obsArm(0), obsStop(10), obsEmit("close", 1, 10), obsEmit("close", 1, 10), obsClose(10)},
			outputs: []string{"E{0 [3]}", "{0 [2]}", "{1 [1]}"},
		},
		{
			name:    "cancel with a batch held",
			steps:   []obsStep{obsSend(1), obsSend(2), obsSend(4), obsWait(ms(20)), obsCancelCtx()},
			events:  []string{obsArm(0), obsEmit("size", 2, 0), obsCanc(1, 20), obsStop(20), obsClose(20)},
			outputs: []string{"{0 [2 4]}"},
		},
	}
	for _, c := range cases {
		for _, fake := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fake=%v", c.name, fake), func(t *testing.T) {
				events, outputs := obsPlay(t, "keyed-batcher", fake, c.noReader, c.steps,
					func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[KeyedBatch[int, int]] {
						return NewKeyedBatcher(BatchConfig{MaxSize: 2, MaxLatency: ms(100)}, kmParity, clk).WithObserver(fn).Process(ctx, in)
					})
				require.Equal(t, c.events, events, "events")
				require.Equal(t, c.outputs, outputs, "outputs")
			})
		}
	}
}

// An item for a key already live allocates nothing: 1000 keys made live
// (a pending item, a running cooldown), then 100,000 more items on them.
func TestKeyed_NoAllocationsForALiveKey(t *testing.T) {
	const keys, items = 1000, 100_000
	for _, c := range []struct {
		name  string
		start func(clk Clock, in <-chan Result[int]) <-chan Result[int]
	}{
		{"KeyedDebounce", func(clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewKeyedDebounce(time.Hour, func(v int) int { return v % keys }, clk).Process(t.Context(), in)
		}},
		{"KeyedThrottle", func(clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewKeyedThrottle(time.Hour, func(v int) int { return v % keys }, clk).Process(t.Context(), in)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fc := NewFakeClock()
			in := make(chan Result[int])
			out := c.start(fc, in)
			drained := teDrain(out)
			for i := range keys {
				in <- NewSuccess(i)
			}
			fc.BlockUntilReady()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := range items {
				in <- NewSuccess(i)
			}
			fc.BlockUntilReady()
			runtime.ReadMemStats(&after)
			close(in)
			<-drained
			// A few allocations are the runtime's own, not the loop's.
			require.Less(t, after.Mallocs-before.Mallocs, uint64(items/1000), "allocations for %d items on live keys", items)
		})
	}
}
