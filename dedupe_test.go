//go:build go1.25

package streamz

// Tests of Dedupe: model tests in the harness's three modes and the plain
// style, and the rules one by one. Every helper here starts with "dd".

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ddModel is Dedupe as its doc says: an item passes when its key has not
// passed within the TTL before it, counted from the item that passed;
// duplicates extend nothing. Items whose key panics pass as errors.
func ddModel(ttl time.Duration, steps []teStep) []teOut {
	ends := map[int]time.Duration{} // key → when its TTL ends
	var out []teOut
	for _, e := range teTimeline(steps) {
		switch e.Step.Kind {
		case teFail:
			out = append(out, teError(e.At, e.Step.V))
		case teSend:
			key, ok := kmKeyOf(e.Step.V)
			if !ok {
				out = append(out, teOut{Vals: []int{e.Step.V}, Err: true, Cause: -1, At: e.At})
				continue
			}
			if end, seen := ends[key]; seen && e.At < end {
				continue
			}
			ends[key] = e.At + min(ttl, time.Duration(math.MaxInt64)-e.At)
			out = append(out, teItem(e.At, e.Step.V))
		}
	}
	return out
}

func ddCases() []teModelCase[int] {
	var cases []teModelCase[int]
	for _, ttl := range []time.Duration{100 * time.Millisecond, time.Nanosecond, math.MaxInt64} {
		period := ttl
		if ttl == math.MaxInt64 {
			period = 100 * time.Millisecond
		}
		cases = append(cases, teModelCase[int]{
			name:   fmt.Sprintf("Dedupe(%v)", ttl),
			period: period,
			process: func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
				return NewDedupe(kmKey, ttl, clk).Process(ctx, in)
			},
			observe: teObserveItem,
			model:   func(steps []teStep) []teOut { return ddModel(ttl, steps) },
		})
	}
	return cases
}

func TestDedupe_ModelSchedules(t *testing.T) { teCheckModel(t, ddCases()) }

// The TTL counts from the first sighting: a duplicate at 50ms does not
// extend it, so the key passes again at 100ms exactly, and Advance(ttl)
// lets it through.
func TestDedupe_TTLFromFirstSighting(t *testing.T) {
	ms := obsMs
	fc := NewFakeClock()
	in := make(chan Result[kmItem])
	rec := &obsRecorder{}
	out := NewDedupe(kmItemKey, ms(100), fc).WithObserver(rec.observe).Process(t.Context(), in)
	got := kmPlay(t, fc, in, out, kmA(1), 1, kmB(1), 1, ms(50), kmA(2), ms(50)-1, kmA(3), time.Duration(1), kmA(4), 1, kmB(2), 1)
	require.Equal(t, []string{"a1@0s", "b1@0s", "a4@100ms", "b2@100ms"}, got)
	require.Equal(t, []string{"emit/first/1", "emit/first/1", "drop/duplicate/1", "drop/duplicate/1",
		"emit/first/1", "emit/first/1", "close//0"}, rlKinds(rec))
}

// Memory follows the keys seen within the TTL: 100,000 keys seen once are
// freed by the first input at the end of their TTL, and not before.
func TestDedupe_FreesExpiredKeys(t *testing.T) {
	rlRequireKeysFreed(t, time.Minute, func(clk Clock, in <-chan Result[int]) <-chan Result[int] {
		return NewDedupe(func(v int) int { return v }, time.Minute, clk).Process(t.Context(), in)
	})
}

func TestDedupe_ConstructorPanics(t *testing.T) {
	key := func(v int) int { return v }
	require.PanicsWithValue(t, "streamz: NewDedupe: key must not be nil", func() { NewDedupe[int, int](nil, time.Second, nil) })
	require.PanicsWithValue(t, "streamz: NewDedupe: ttl must be positive, got 0s", func() { NewDedupe(key, 0, nil) })
	require.PanicsWithValue(t, "streamz: NewDedupe: ttl must be positive, got -1ns", func() { NewDedupe(key, -1, nil) })
}
