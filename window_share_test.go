//go:build go1.25

package streamz

// Tests of the window metadata map shared by a window's Results (see
// emitWindow): sharing must never leak a change from one Result to
// another, and the allocations per output stay pinned. Every helper here
// starts with "wp".

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wpWindows are the window processors on a clock, as the tests here run
// them.
var wpWindows = []struct {
	name  string
	start func(clk Clock) func(ctx context.Context, in <-chan Result[int]) <-chan Result[int]
}{
	{"tumbling", func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int] {
		return NewTumblingWindow[int](time.Hour, clk).Process
	}},
	{"sliding tumbling mode", func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int] {
		return NewSlidingWindow[int](time.Hour, clk).Process
	}},
	{"sliding", func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int] {
		return NewSlidingWindow[int](time.Hour, clk).WithSlide(30 * time.Minute).Process
	}},
	{"session", func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int] {
		return NewSessionWindow(func(Result[int]) string { return "k" }, clk).WithGap(time.Hour).Process
	}},
}

// Results of one window share its metadata map; giving one of them more
// metadata, or other window metadata, changes that Result only.
func TestWindow_SharedMetadataDoesNotLeak(t *testing.T) {
	for _, w := range wpWindows {
		t.Run(w.name, func(t *testing.T) {
			fc := NewFakeClock()
			in := make(chan Result[int], 3)
			in <- NewSuccess(1)
			in <- NewSuccess(2)
			in <- NewSuccess(3)
			close(in)
			got := winCollect(t, w.start(fc)(context.Background(), in))
			require.Len(t, got, 3)
			want := make([]map[string]any, len(got))
			for i, r := range got {
				want[i] = wpMetadataOf(r)
				require.NotEmpty(t, want[i][MetadataWindowEnd], "output %d has no window metadata", i)
			}

			more := got[0].WithMetadata("source", "s").WithMetadata(MetadataWindowEnd, "changed")
			assert.Equal(t, "s", wpMust(more.GetMetadata("source")))
			assert.Equal(t, "changed", wpMust(more.GetMetadata(MetadataWindowEnd)))
			rewindowed := AddWindowMetadata(got[1], WindowMetadata{Type: "tumbling", Start: time.Unix(5, 0), End: time.Unix(6, 0)})
			info, err := GetWindowInfo(rewindowed)
			require.NoError(t, err)
			assert.Equal(t, time.Unix(6, 0), info.End)

			for i, r := range got {
				assert.Equal(t, want[i], wpMetadataOf(r), "output %d changed when another Result of its window did", i)
				_, has := r.GetMetadata("source")
				assert.False(t, has, "output %d got another Result's key", i)
			}
		})
	}
}

// An item that carries metadata of its own keeps it, and only it, next to
// items of the same window that carry none.
func TestWindow_OwnMetadataStaysOwn(t *testing.T) {
	for _, w := range wpWindows {
		t.Run(w.name, func(t *testing.T) {
			fc := NewFakeClock()
			in := make(chan Result[int], 3)
			in <- NewSuccess(1)
			in <- NewSuccess(2).WithMetadata("source", "two")
			in <- NewSuccess(3)
			close(in)
			got := winCollect(t, w.start(fc)(context.Background(), in))
			require.Len(t, got, 3)
			for i, r := range got {
				src, has := r.GetMetadata("source")
				if r.Value() == 2 {
					assert.Equal(t, "two", src)
				} else {
					assert.False(t, has, "output %d (%d) has item 2's source", i, r.Value())
				}
				_, err := GetWindowInfo(r)
				require.NoError(t, err)
			}
		})
	}
}

func wpMust(v any, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

// wpMetadataOf copies r's metadata, key by key.
func wpMetadataOf(r Result[int]) map[string]any {
	m := map[string]any{}
	for _, k := range r.MetadataKeys() {
		m[k], _ = r.GetMetadata(k)
	}
	return m
}

// wpAllocsPerOutput pushes items through one Process call on a step clock
// (1µs per reading) with windows of about perWindow items, and returns the
// heap allocations per output Result, the Process call's own included.
func wpAllocsPerOutput(t *testing.T, items int, tag bool,
	start func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int],
) float64 {
	t.Helper()
	inputs := make([]Result[int], items)
	for i := range inputs {
		inputs[i] = NewSuccess(i)
		if tag {
			inputs[i] = inputs[i].WithMetadata("source", "s")
		}
	}
	outputs := 0
	allocs := testing.AllocsPerRun(5, func() {
		in := make(chan Result[int], 64)
		out := start(winNewStepClock())(context.Background(), in)
		go func() {
			for _, r := range inputs {
				in <- r
			}
			close(in)
		}()
		outputs = 0
		for range out {
			outputs++
		}
	})
	require.Positive(t, outputs)
	return allocs / float64(outputs)
}

// The allocations per output Result, pinned: with items that carry no
// metadata, the window's map and boxed bounds are made once per window
// (here windows of about 100 items, and sessions of 100), so an output
// costs well under one allocation; an item with metadata of its own costs
// its merged map, about 2. Issue 10's budget is 2 per output.
func TestWindow_AllocsPerOutputPinned(t *testing.T) {
	const items = 2000
	step := winNewStepClock().step
	cases := []struct {
		name  string
		start func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int]
	}{
		{"tumbling/100", func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int] {
			return NewTumblingWindow[int](100*step, clk).Process
		}},
		{"sliding/400by100", func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int] {
			return NewSlidingWindow[int](400*step, clk).WithSlide(100 * step).Process
		}},
		{"session/20 keys", func(clk Clock) func(context.Context, <-chan Result[int]) <-chan Result[int] {
			keys := make([]string, 20)
			for i := range keys {
				keys[i] = fmt.Sprint("k", i)
			}
			return NewSessionWindow(func(r Result[int]) string { return keys[r.ValueOr(0)%len(keys)] }, clk).
				WithGap(time.Hour).Process
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			shared := wpAllocsPerOutput(t, items, false, c.start)
			t.Logf("%.3f allocations per output without metadata", shared)
			assert.Less(t, shared, 0.25, "allocations per output Result, items without metadata")
			own := wpAllocsPerOutput(t, items, true, c.start)
			t.Logf("%.3f allocations per output with metadata", own)
			assert.Less(t, own, 2.25, "allocations per output Result, items with metadata")
		})
	}
}
