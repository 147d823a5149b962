//go:build go1.25

package streamz

// Tests of the live forms of the windows, Collect and WindowFold, beyond
// the model schedules (window_model_test.go) and the observer sequences
// (window_observe_test.go): a window that ends with no item after it, a
// fold against Collect and Collect against a WindowCollector on the same
// input, what a panic in initial or fn does, and what a fold holds.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveWindows are a window of each kind, ending 100ms after its only item
// when that comes at 0: tumbling, sliding (the first of two windows), and
// session.
func liveWindows(clk Clock) map[string]Window[int] {
	return map[string]Window[int]{
		"tumbling": NewTumblingWindow[int](100*time.Millisecond, clk),
		"sliding":  NewSlidingWindow[int](100*time.Millisecond, clk).WithSlide(50 * time.Millisecond),
		"session":  NewSessionWindow(winKeyFunc, clk).WithGap(100 * time.Millisecond),
	}
}

// liveEnd starts a live form of w and renders each output as its window's
// end, relative to base, and its count.
type liveEnd func(ctx context.Context, w Window[int], in <-chan Result[int], base time.Time) <-chan string

var liveForms = map[string]liveEnd{
	"Collect": func(ctx context.Context, w Window[int], in <-chan Result[int], base time.Time) <-chan string {
		return liveRender(w.Collect(ctx, in), func(wc WindowCollection[int]) string {
			return fmt.Sprintf("%d@%v", wc.Count(), wc.End.Sub(base))
		})
	},
	"fold": func(ctx context.Context, w Window[int], in <-chan Result[int], base time.Time) <-chan string {
		return liveRender(NewWindowFold(w, nil, wpCount).Process(ctx, in), func(v WindowValue[int]) string {
			return fmt.Sprintf("%d@%v", v.Value, v.End.Sub(base))
		})
	},
}

func liveRender[V any](out <-chan Result[V], render func(V) string) <-chan string {
	s := make(chan string)
	go func() {
		defer close(s)
		for r := range out {
			s <- render(r.Value())
		}
	}()
	return s
}

// A window that ends with no item after it goes out at its End while the
// input stays open: on RealClock in a bubble, at exactly that instant; on
// a FakeClock in the plain style, not before the clock reaches it and
// without waiting for anything after.
func TestWindows_LiveWindowEndsWithNoItemAfter(t *testing.T) {
	for formName, form := range liveForms {
		for kind := range liveWindows(nil) {
			t.Run(formName+"/"+kind+"/RealClock", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					base := time.Now()
					in := make(chan Result[int])
					out := form(t.Context(), liveWindows(RealClock)[kind], in, base)
					in <- NewSuccess(1)
					got := <-out
					assert.Equal(t, "1@100ms", got)
					assert.Equal(t, 100*time.Millisecond, time.Since(base), "when it came out")
					close(in)
					assert.Empty(t, winCollect(t, out))
				})
			})
			t.Run(formName+"/"+kind+"/FakeClock", func(t *testing.T) {
				fc := NewFakeClock()
				base := fc.Now()
				in := make(chan Result[int])
				out := form(context.Background(), liveWindows(fc)[kind], in, base)
				in <- NewSuccess(1)
				fc.Advance(100*time.Millisecond - time.Nanosecond)
				select {
				case got := <-out:
					t.Fatalf("%s came out before the window's end", got)
				default:
				}
				fc.Advance(time.Nanosecond)
				assert.Equal(t, "1@100ms", winRecv(t, out))
				close(in)
				assert.Empty(t, winCollect(t, out))
			})
		}
	}
}

// liveOut is one window as the comparisons see it: bounds relative to the
// base, session key, and what its Results add up to.
type liveOut struct {
	Start, End time.Duration
	Key        string
	Count      int
	Sum        int // of the successes' values
	Errors     int
}

// liveSum is a fold into a liveOut's figures.
func liveSum(acc liveOut, r Result[int]) liveOut {
	acc.Count++
	if r.IsError() {
		acc.Errors++
	} else {
		acc.Sum += r.Value()
	}
	return acc
}

func liveOutOf(start, end time.Time, meta WindowMetadata, base time.Time, figures liveOut) liveOut {
	figures.Start, figures.End = start.Sub(base), end.Sub(base)
	if meta.SessionKey != nil {
		figures.Key = *meta.SessionKey
	}
	return figures
}

// The same random schedules, played on one FakeClock in the plain style
// into three consumers of one window: Process into a WindowCollector,
// Collect, and a fold. Collect must emit exactly the collector's
// collections, and the fold exactly the figures of Collect's.
func TestWindows_FoldAgainstCollectAgainstCollector(t *testing.T) {
	seed := winSeed(t)
	configs := append(append(winTumblingConfigs(), winSlidingConfigs()...), winSessionConfigs()...)
	for i := range 3 * winSchedules {
		c := configs[i%len(configs)]
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		steps := winGen(rng, c.keys)
		steps[len(steps)-1] = winStep{Kind: winClose}

		fc := NewFakeClock()
		base := fc.Now()
		w := c.window(fc, nil)
		ctx := context.Background()
		var ins [3]chan Result[int]
		for j := range ins {
			ins[j] = make(chan Result[int])
		}
		collected := liveDrain(NewWindowCollector[int]().Process(ctx, w.Process(ctx, ins[0])))
		live := liveDrain(w.Collect(ctx, ins[1]))
		folded := liveDrain(NewWindowFold(w, nil, liveSum).Process(ctx, ins[2]))
		for _, s := range steps {
			// One Result for all three, so that an error's timestamp is
			// the same in each.
			r := NewSuccess(s.V)
			if s.Kind == winFail {
				r = NewError(s.V, errWinFail, "win")
			}
			for _, in := range ins {
				switch s.Kind {
				case winSend, winFail:
					in <- r
				case winClose:
					close(in)
				}
			}
			if s.Kind == winWait {
				fc.Advance(s.W)
			}
		}
		fromCollector := <-collected
		var want []WindowCollection[int]
		var wantFigures []liveOut
		for _, r := range <-live {
			require.True(t, r.IsSuccess())
			wc := r.Value()
			want = append(want, wc)
			figures := liveOut{}
			for _, x := range wc.Results {
				figures = liveSum(figures, x)
			}
			wantFigures = append(wantFigures, liveOutOf(wc.Start, wc.End, wc.Meta, base, figures))
		}
		var gotFigures []liveOut
		for _, r := range <-folded {
			require.True(t, r.IsSuccess())
			v := r.Value()
			gotFigures = append(gotFigures, liveOutOf(v.Start, v.End, v.Meta, base, v.Value))
		}
		msg := fmt.Sprintf("schedule %d of %s, replay with STREAMZ_WIN_SEED=%d\nschedule: %v", i, c.name, seed, steps)
		require.Equal(t, fromCollector, want, "Collect against Process into a WindowCollector\n%s", msg)
		require.Equal(t, wantFigures, gotFigures, "the fold against Collect\n%s", msg)
	}
}

// liveDrain reads out until it closes and then hands over what it read.
func liveDrain[V any](out <-chan V) <-chan []V {
	all := make(chan []V, 1)
	go func() {
		var got []V
		for v := range out {
			got = append(got, v)
		}
		all <- got
	}()
	return all
}

// A panic in fn fails its window: fn is not called again for it, and the
// window goes out at its End as an error carrying its bounds and the
// accumulator from before the panic. The next window is folded afresh.
func TestWindowFold_FnPanicFailsTheWindow(t *testing.T) {
	boom := errors.New("boom")
	var calls []int
	count := func(n int, r Result[int]) int {
		calls = append(calls, r.Value())
		if r.Value() == 2 {
			panic(boom)
		}
		return n + 1
	}
	fc := NewFakeClock()
	base := fc.Now()
	in := make(chan Result[int])
	window := NewTumblingWindow[int](100*time.Millisecond, fc).WithName("per-100ms")
	out := NewWindowFold(window, nil, count).Process(context.Background(), in)
	for _, v := range []int{1, 2, 3} {
		in <- NewSuccess(v)
	}
	fc.Advance(100 * time.Millisecond)
	failed := winRecv(t, out)
	require.True(t, failed.IsError())
	assert.Equal(t, "per-100ms", failed.Error().ProcessorName)
	assert.EqualError(t, failed.Error().Err, "fn panicked: boom")
	assert.ErrorIs(t, failed.Error(), boom)
	v := failed.Error().Item
	assert.Equal(t, 1, v.Value, "the accumulator from before the panic")
	assert.Equal(t, []time.Duration{0, 100 * time.Millisecond}, []time.Duration{v.Start.Sub(base), v.End.Sub(base)})
	assert.Equal(t, v.Start, v.Meta.Start)
	assert.Equal(t, []int{1, 2}, calls, "fn is not called again for a failed window")

	in <- NewSuccess(4)
	in <- NewSuccess(5)
	close(in)
	next := winCollect(t, out)
	require.Len(t, next, 1)
	require.True(t, next[0].IsSuccess())
	assert.Equal(t, 2, next[0].Value().Value)
}

// A panic in initial fails the window it would have started, with A's
// zero value; initial is called once per window, when the window receives
// its first Result, and a nil initial starts from the zero value.
func TestWindowFold_Initial(t *testing.T) {
	t.Run("panic", func(t *testing.T) {
		windows := 0
		initial := func() int {
			windows++
			if windows == 1 {
				panic("first")
			}
			return 100
		}
		fc := NewFakeClock()
		in := make(chan Result[int])
		out := NewWindowFold(NewTumblingWindow[int](100*time.Millisecond, fc), initial, wpCount).Process(context.Background(), in)
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		fc.Advance(100 * time.Millisecond)
		failed := winRecv(t, out)
		require.True(t, failed.IsError())
		assert.EqualError(t, failed.Error().Err, "initial panicked: first")
		assert.Equal(t, "tumbling-window", failed.Error().ProcessorName)
		assert.Equal(t, 0, failed.Error().Item.Value)
		in <- NewSuccess(3)
		close(in)
		next := winCollect(t, out)
		require.Len(t, next, 1)
		assert.Equal(t, 101, next[0].Value().Value)
		assert.Equal(t, 2, windows)
	})
	t.Run("once per window, each its own", func(t *testing.T) {
		var made []map[int]bool
		initial := func() map[int]bool {
			m := map[int]bool{}
			made = append(made, m)
			return m
		}
		mark := func(m map[int]bool, r Result[int]) map[int]bool {
			m[r.Value()] = true
			return m
		}
		fc := NewFakeClock()
		in := make(chan Result[int])
		out := NewWindowFold(NewTumblingWindow[int](100*time.Millisecond, fc), initial, mark).Process(context.Background(), in)
		fc.Advance(250 * time.Millisecond)
		assert.Empty(t, made, "no window, no initial")
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		fc.Advance(100 * time.Millisecond)
		first := winRecv(t, out).Value().Value
		in <- NewSuccess(3)
		close(in)
		second := winCollect(t, out)[0].Value().Value
		assert.Equal(t, map[int]bool{1: true, 2: true}, first)
		assert.Equal(t, map[int]bool{3: true}, second)
		assert.Len(t, made, 2)
	})
	t.Run("nil", func(t *testing.T) {
		in := make(chan Result[int], 2)
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		close(in)
		gather := func(acc []int, r Result[int]) []int { return append(acc, r.Value()) }
		out := NewWindowFold(NewTumblingWindow[int](time.Hour, NewFakeClock()), nil, gather).Process(context.Background(), in)
		got := winCollect(t, out)
		require.Len(t, got, 1)
		assert.Equal(t, []int{1, 2}, got[0].Value().Value)
	})
}

// Once ctx has ended, neither initial nor fn sees an item the loop has
// taken: here fn cancels while folding an item into the first of the two
// sliding windows it joins, and the second window neither starts nor
// folds it.
func TestWindowFold_UserCodeNotCalledAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var initials, calls int
	initial := func() int { initials++; return 0 }
	count := func(n int, r Result[int]) int {
		calls++
		if r.Value() == 2 {
			cancel()
		}
		return n + 1
	}
	fc := NewFakeClock()
	in := make(chan Result[int])
	window := NewSlidingWindow[int](200*time.Millisecond, fc).WithSlide(100 * time.Millisecond)
	out := NewWindowFold(window, initial, count).Process(ctx, in)
	in <- NewSuccess(1) // opens [0,200)
	fc.Advance(100 * time.Millisecond)
	in <- NewSuccess(2) // joins [0,200), would open [100,300)
	assert.Empty(t, winCollect(t, out))
	assert.Equal(t, 1, initials)
	assert.Equal(t, 2, calls)
}

// A fold holds no Results: counting 100,000 of them in one window
// allocates almost nothing, where holding them would take 2.4 MB.
func TestWindowFold_HoldsNoResults(t *testing.T) {
	in := make(chan Result[int], 128)
	out := NewWindowFold(NewTumblingWindow[int](time.Hour, RealClock), nil, wpCount).Process(context.Background(), in)
	in <- NewSuccess(0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 100_000
	for i := 1; i < n; i++ {
		in <- NewSuccess(i)
	}
	close(in)
	got := winCollect(t, out)
	runtime.ReadMemStats(&after)
	require.Len(t, got, 1)
	assert.Equal(t, n, got[0].Value().Value)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "bytes allocated while counting")
}

// An item on which a SessionWindow's keyFunc panics joins no session, in
// either live form: it goes out at once, as an error named by the window.
func TestSessionWindow_LiveKeyFuncPanic(t *testing.T) {
	keyFunc := func(r Result[int]) string {
		if r.Value() == 2 {
			panic("two")
		}
		return "k"
	}
	window := func(fc *FakeClock) *SessionWindow[int] {
		return NewSessionWindow(keyFunc, fc).WithGap(time.Hour).WithName("sessions")
	}
	t.Run("Collect", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[int])
		out := window(fc).Collect(context.Background(), in)
		in <- NewSuccess(1)
		in <- NewSuccess(2).WithMetadata("source", "b")
		failed := winRecv(t, out)
		require.True(t, failed.IsError())
		assert.Equal(t, "sessions", failed.Error().ProcessorName)
		assert.EqualError(t, failed.Error().Err, "keyFunc panicked: two")
		wc := failed.Error().Item
		assert.True(t, wc.Start.IsZero() && wc.End.IsZero())
		require.Len(t, wc.Results, 1)
		assert.Equal(t, 2, wc.Results[0].Value())
		source, _ := wc.Results[0].GetMetadata("source")
		assert.Equal(t, "b", source)
		close(in)
		rest := winCollect(t, out)
		require.Len(t, rest, 1)
		assert.Equal(t, []int{1}, rest[0].Value().Values())
	})
	t.Run("fold", func(t *testing.T) {
		fc := NewFakeClock()
		in := make(chan Result[int])
		out := NewWindowFold(window(fc), nil, wpCount).Process(context.Background(), in)
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		failed := winRecv(t, out)
		require.True(t, failed.IsError())
		assert.Equal(t, "sessions", failed.Error().ProcessorName)
		assert.EqualError(t, failed.Error().Err, "keyFunc panicked: two")
		assert.Equal(t, WindowValue[int]{}, failed.Error().Item)
		close(in)
		rest := winCollect(t, out)
		require.Len(t, rest, 1)
		assert.Equal(t, 1, rest[0].Value().Value)
	})
}

// The live forms' API: Collect on each window, NewWindowFold on any of
// them, its panics and its Name.
func TestWindowFold_API(t *testing.T) {
	var (
		_ func(*TumblingWindow[int], context.Context, <-chan Result[int]) <-chan Result[WindowCollection[int]] = (*TumblingWindow[int]).Collect
		_ func(*SlidingWindow[int], context.Context, <-chan Result[int]) <-chan Result[WindowCollection[int]]  = (*SlidingWindow[int]).Collect
		_ func(*SessionWindow[int], context.Context, <-chan Result[int]) <-chan Result[WindowCollection[int]]  = (*SessionWindow[int]).Collect
		_ func(Window[int], func() int, func(int, Result[int]) int) *WindowFold[int, int]                      = NewWindowFold[int, int]
		_ func(*WindowFold[int, int], context.Context, <-chan Result[int]) <-chan Result[WindowValue[int]]     = (*WindowFold[int, int]).Process
		_ func(*WindowFold[int, int]) string                                                                   = (*WindowFold[int, int]).Name
	)
	ts := time.Unix(1, 0)
	_ = WindowValue[int]{Start: ts, End: ts, Meta: WindowMetadata{}, Value: 0}
	for _, w := range []Window[int]{NewTumblingWindow[int](time.Second, nil), NewSlidingWindow[int](time.Second, nil), NewSessionWindow(winKeyFunc, nil)} {
		assert.Equal(t, w.Name(), NewWindowFold(w, nil, wpCount).Name())
	}
	assert.PanicsWithValue(t, "streamz: NewWindowFold: window must not be nil", func() { NewWindowFold[int, int](nil, nil, wpCount) })
	assert.PanicsWithValue(t, "streamz: NewWindowFold: fn must not be nil", func() {
		NewWindowFold[int, int](NewTumblingWindow[int](time.Second, nil), nil, nil)
	})
	// The fold reads the window's configuration when Process is called.
	w := NewSlidingWindow[int](time.Second, nil)
	fold := NewWindowFold(w, nil, wpCount)
	w.WithName("renamed").WithSlide(500 * time.Millisecond)
	assert.Equal(t, "renamed", fold.Name())
	in := make(chan Result[int], 1)
	in <- NewSuccess(1)
	close(in)
	got := winCollect(t, fold.Process(context.Background(), in))
	require.Len(t, got, 1)
	require.NotNil(t, got[0].Value().Meta.Slide)
	assert.Equal(t, 500*time.Millisecond, *got[0].Value().Meta.Slide)
}
