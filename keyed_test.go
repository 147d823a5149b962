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
