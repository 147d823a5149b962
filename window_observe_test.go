//go:build go1.25

package streamz

// Tests of what the three windows report to an observer (issue 12): exact
// event sequences in synctest, on RealClock and on a FakeClock, with
// obsPlay of observe_test.go. Every helper here starts with "wp".

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type wpObsCase struct {
	name     string
	noReader bool
	steps    []obsStep
	events   []string
	outputs  []string
}

type wpObsStart = func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int]

func wpPlayObsCases[O any](t *testing.T, name string, start func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[O], cases []wpObsCase) {
	t.Helper()
	for _, c := range cases {
		for _, fake := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fake=%v", c.name, fake), func(t *testing.T) {
				events, outputs := obsPlay(t, name, fake, c.noReader, c.steps, start)
				assert.Equal(t, c.events, events, "events")
				assert.Equal(t, c.outputs, outputs, "outputs")
			})
		}
	}
}

var (
	wpEnd  = func(n, at int) string { return obsEmit(ReasonWindowEnd, n, at) }
	wpGap  = func(n, at int) string { return obsEmit(ReasonSessionGap, n, at) }
	wpShut = func(n, at int) string { return obsEmit(ReasonClose, n, at) }
	wpDrop = func(at int) string { return obsEv("drop/gap/1", at) }
)

// Tumbling windows of 100ms, anchored when Process is called.
func TestTumblingWindow_ObserverSequences(t *testing.T) {
	start := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewTumblingWindow[int](obsMs(100), clk).WithObserver(fn).Process(ctx, in)
	}
	wpPlayObsCases(t, "tumbling-window", start, []wpObsCase{
		{
			name:    "a window goes out at its End, once, with its size",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(30)), obsSend(2), obsWait(obsMs(70)), obsWait(obsMs(50)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), wpEnd(2, 100), obsClose(150)},
			outputs: []string{"1", "2"},
		},
		{
			name:    "windows back to back; an item at End starts the next",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(100)), obsSend(2), obsSend(3), obsWait(obsMs(100)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), wpEnd(1, 100), obsArm(100), obsFire(200), wpEnd(2, 200), obsClose(200)},
			outputs: []string{"1", "2", "3"},
		},
		{
			name:    "empty windows report nothing; the grid is anchored at Process",
			steps:   []obsStep{obsWait(obsMs(150)), obsSend(1), obsWait(obsMs(50)), obsCloseIn()},
			events:  []string{obsArm(150), obsFire(200), wpEnd(1, 200), obsClose(200)},
			outputs: []string{"1"},
		},
		{
			name:    "flush at close: the timer stops first",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(50)), obsFail(2), obsCloseIn()},
			events:  []string{obsArm(0), obsStop(50), wpShut(2, 50), obsClose(50)},
			outputs: []string{"1", "E2"},
		},
		{
			name:    "close with nothing held",
			steps:   []obsStep{obsWait(obsMs(5)), obsCloseIn()},
			events:  []string{obsClose(5)},
			outputs: nil,
		},
		{
			name:    "cancel with a window held: the timer stops after the cancel",
			steps:   []obsStep{obsSend(1), obsSend(2), obsWait(obsMs(20)), obsCancelCtx()},
			events:  []string{obsArm(0), obsCanc(2, 20), obsStop(20), obsClose(20)},
			outputs: nil,
		},
		{
			name:    "cancel with nothing held",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(120)), obsCancelCtx()},
			events:  []string{obsArm(0), obsFire(100), wpEnd(1, 100), obsCanc(0, 120), obsClose(120)},
			outputs: []string{"1"},
		},
		{
			name:     "cancel while the window waits for a reader: what is unsent is lost, with no emit",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(obsMs(100)), obsRead(), obsWait(obsMs(10)), obsCancelCtx()},
			events:   []string{obsArm(0), obsFire(100), obsCanc(2, 110), obsClose(110)},
			outputs:  []string{"1"},
		},
		{
			name:     "an emit is timed when decided, and reported once the last Result is taken",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsWait(obsMs(100)), obsRead(), obsWait(obsMs(10)), obsRead(), obsCloseIn()},
			events:   []string{obsArm(0), obsFire(100), wpEnd(2, 100), obsClose(110)},
			outputs:  []string{"1", "2"},
		},
	})
}

// Sliding windows of 100ms every 50ms, anchored at the first item; and of
// 50ms every 100ms, with gaps.
func TestSlidingWindow_ObserverSequences(t *testing.T) {
	start := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewSlidingWindow[int](obsMs(100), clk).WithSlide(obsMs(50)).WithObserver(fn).Process(ctx, in)
	}
	wpPlayObsCases(t, "sliding-window", start, []wpObsCase{
		{
			name:  "overlapping windows go out at their Ends: one timer, moved from End to End",
			steps: []obsStep{obsWait(obsMs(10)), obsSend(1), obsWait(obsMs(50)), obsSend(2), obsWait(obsMs(50)), obsWait(obsMs(50)), obsCloseIn()},
			// [10,110) holds 1 and 2, [60,160) holds 2.
			events:  []string{obsArm(10), obsFire(110), obsArm(110), wpEnd(2, 110), obsFire(160), wpEnd(1, 160), obsClose(160)},
			outputs: []string{"1", "2", "2"},
		},
		{
			name:    "flush at close, in order of End, then Start",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(60)), obsSend(2), obsCloseIn()},
			events:  []string{obsArm(0), obsStop(60), wpShut(2, 60), wpShut(1, 60), obsClose(60)},
			outputs: []string{"1", "2", "2"},
		},
		{
			name:    "cancel counts an item once per window it is in",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(60)), obsSend(2), obsCancelCtx()},
			events:  []string{obsArm(0), obsCanc(3, 60), obsStop(60), obsClose(60)},
			outputs: nil,
		},
		{
			name:     "cancel while a window waits for a reader: its rest and the other windows are lost",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsWait(obsMs(60)), obsSend(2), obsWait(obsMs(40)), obsRead(), obsCancelCtx()},
			events:   []string{obsArm(0), obsFire(100), obsArm(100), obsCanc(2, 100), obsStop(100), obsClose(100)},
			outputs:  []string{"1"},
		},
	})
	gaps := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewSlidingWindow[int](obsMs(50), clk).WithSlide(obsMs(100)).WithObserver(fn).Process(ctx, in)
	}
	wpPlayObsCases(t, "sliding-window", gaps, []wpObsCase{
		{
			name: "an item in a gap is dropped",
			steps: []obsStep{obsSend(1), obsWait(obsMs(70)), obsSend(2), obsFail(3), obsWait(obsMs(30)), obsSend(4),
				obsWait(obsMs(50)), obsCloseIn()},
			events: []string{obsArm(0), obsFire(50), wpEnd(1, 50), wpDrop(70), wpDrop(70),
				obsArm(100), obsFire(150), wpEnd(1, 150), obsClose(150)},
			outputs: []string{"1", "4"},
		},
	})
	tumbling := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewSlidingWindow[int](obsMs(100), clk).WithName("slide-eq-size").WithObserver(fn).Process(ctx, in)
	}
	wpPlayObsCases(t, "slide-eq-size", tumbling, []wpObsCase{
		{
			name:    "slide == size reports as a tumbling window does, under its own name",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(100)), obsSend(2), obsWait(obsMs(30)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), wpEnd(1, 100), obsArm(100), obsStop(130), wpShut(1, 130), obsClose(130)},
			outputs: []string{"1", "2"},
		},
	})
}

// Sessions with a gap of 100ms, keyed by the item's last digit.
func TestSessionWindow_ObserverSequences(t *testing.T) {
	start := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewSessionWindow(winKeyFunc, clk).WithGap(obsMs(100)).WithObserver(fn).Process(ctx, in)
	}
	wpPlayObsCases(t, "session-window", start, []wpObsCase{
		{
			name:    "sessions ending together go out in opening order; an item moves the one timer",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(30)), obsSend(2), obsSend(11), obsWait(obsMs(100)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(130), wpGap(2, 130), wpGap(1, 130), obsClose(130)},
			outputs: []string{"1", "11", "2"},
		},
		{
			name:    "staggered sessions: the timer re-arms for the next end",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(50)), obsSend(2), obsWait(obsMs(50)), obsWait(obsMs(50)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), obsArm(100), wpGap(1, 100), obsFire(150), wpGap(1, 150), obsClose(150)},
			outputs: []string{"1", "2"},
		},
		{
			name:    "an item after the gap starts a new session; flush at close",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(100)), obsSend(11), obsFail(21), obsWait(obsMs(20)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), wpGap(1, 100), obsArm(100), obsStop(120), wpShut(2, 120), obsClose(120)},
			outputs: []string{"1", "11", "E21"},
		},
		{
			name:    "cancel with sessions held",
			steps:   []obsStep{obsSend(1), obsSend(2), obsSend(11), obsWait(obsMs(10)), obsCancelCtx()},
			events:  []string{obsArm(0), obsCanc(3, 10), obsStop(10), obsClose(10)},
			outputs: nil,
		},
		{
			name:     "cancel while a session waits for a reader: its rest and the other sessions are lost",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(11), obsSend(2), obsWait(obsMs(100)), obsRead(), obsWait(obsMs(10)), obsCancelCtx()},
			events:   []string{obsArm(0), obsFire(100), obsCanc(2, 110), obsClose(110)},
			outputs:  []string{"1"},
		},
		{
			name:     "cancel while a session waits for a reader, with another still open",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsWait(obsMs(50)), obsSend(2), obsWait(obsMs(50)), obsCancelCtx()},
			events:   []string{obsArm(0), obsFire(100), obsArm(100), obsCanc(2, 100), obsStop(100), obsClose(100)},
		},
	})
}

// wpCount is a counting fold.
func wpCount(n int, _ Result[int]) int { return n + 1 }

// The live forms report as Process does, one emit per window, once its one
// Result is taken; a cancel loses a whole window, however many Results it
// stands for. Tumbling windows of 100ms.
func TestTumblingWindow_LiveObserverSequences(t *testing.T) {
	collect := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowCollection[int]] {
		return NewTumblingWindow[int](obsMs(100), clk).WithObserver(fn).Collect(ctx, in)
	}
	wpPlayObsCases(t, "tumbling-window", collect, []wpObsCase{
		{
			name:    "a window goes out at its End, with no item after it",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(30)), obsSend(2), obsWait(obsMs(70)), obsWait(obsMs(50)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), wpEnd(2, 100), obsClose(150)},
			outputs: []string{"[1 2]"},
		},
		{
			name:    "flush at close: the timer stops first",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(50)), obsFail(2), obsCloseIn()},
			events:  []string{obsArm(0), obsStop(50), wpShut(2, 50), obsClose(50)},
			outputs: []string{"[1 E2]"},
		},
		{
			name:    "cancel with a window held",
			steps:   []obsStep{obsSend(1), obsSend(2), obsWait(obsMs(20)), obsCancelCtx()},
			events:  []string{obsArm(0), obsCanc(2, 20), obsStop(20), obsClose(20)},
			outputs: nil,
		},
		{
			name:     "cancel while the collection waits for a reader: all of it is lost",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(obsMs(100)), obsWait(obsMs(10)), obsCancelCtx()},
			events:   []string{obsArm(0), obsFire(100), obsCanc(3, 110), obsClose(110)},
			outputs:  nil,
		},
		{
			name:     "an emit is timed when decided, and reported once the collection is taken",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsWait(obsMs(100)), obsWait(obsMs(10)), obsRead(), obsCloseIn()},
			events:   []string{obsArm(0), obsFire(100), wpEnd(2, 100), obsClose(110)},
			outputs:  []string{"[1 2]"},
		},
	})
	fold := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowValue[int]] {
		return NewWindowFold(NewTumblingWindow[int](obsMs(100), clk).WithObserver(fn), nil, wpCount).Process(ctx, in)
	}
	wpPlayObsCases(t, "tumbling-window", fold, []wpObsCase{
		{
			name:    "a fold goes out at its End, counting its Results",
			steps:   []obsStep{obsSend(1), obsWait(obsMs(30)), obsFail(2), obsWait(obsMs(70)), obsSend(3), obsWait(obsMs(30)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), wpEnd(2, 100), obsArm(100), obsStop(130), wpShut(1, 130), obsClose(130)},
			outputs: []string{"2", "1"},
		},
		{
			name:    "cancel with a fold held counts the Results it folded",
			steps:   []obsStep{obsSend(1), obsSend(2), obsWait(obsMs(20)), obsCancelCtx()},
			events:  []string{obsArm(0), obsCanc(2, 20), obsStop(20), obsClose(20)},
			outputs: nil,
		},
		{
			name:     "cancel while the fold waits for a reader",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(obsMs(100)), obsWait(obsMs(10)), obsCancelCtx()},
			events:   []string{obsArm(0), obsFire(100), obsCanc(3, 110), obsClose(110)},
			outputs:  nil,
		},
	})
	failing := func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowValue[int]] {
		count := func(n int, r Result[int]) int {
			if r.Value() == 2 {
				panic("two")
			}
			return n + 1
		}
		return NewWindowFold(NewTumblingWindow[int](obsMs(100), clk).WithObserver(fn), nil, count).Process(ctx, in)
	}
	wpPlayObsCases(t, "tumbling-window", failing, []wpObsCase{
		{
			name: "a window whose fn panicked goes out at its End as an error, counting every Result it received",
			steps: []obsStep{obsSend(1), obsSend(2), obsSend(3), obsWait(obsMs(100)), obsSend(4),
				obsWait(obsMs(100)), obsCloseIn()},
			events:  []string{obsArm(0), obsFire(100), wpEnd(3, 100), obsArm(100), obsFire(200), wpEnd(1, 200), obsClose(200)},
			outputs: []string{"E1", "1"},
		},
	})
}

// Sliding windows of 100ms every 50ms, and of 50ms every 100ms, in the
// live forms.
func TestSlidingWindow_LiveObserverSequences(t *testing.T) {
	overlap := []wpObsCase{
		{
			name:  "overlapping windows go out at their Ends",
			steps: []obsStep{obsWait(obsMs(10)), obsSend(1), obsWait(obsMs(50)), obsSend(2), obsWait(obsMs(50)), obsWait(obsMs(50)), obsCloseIn()},
			// [10,110) holds 1 and 2, [60,160) holds 2.
			events: []string{obsArm(10), obsFire(110), obsArm(110), wpEnd(2, 110), obsFire(160), wpEnd(1, 160), obsClose(160)},
		},
		{
			name:   "cancel counts a Result once per window it is in",
			steps:  []obsStep{obsSend(1), obsWait(obsMs(60)), obsSend(2), obsCancelCtx()},
			events: []string{obsArm(0), obsCanc(3, 60), obsStop(60), obsClose(60)},
		},
	}
	gaps := []wpObsCase{{
		name: "an item in a gap is dropped",
		steps: []obsStep{obsSend(1), obsWait(obsMs(70)), obsSend(2), obsFail(3), obsWait(obsMs(30)), obsSend(4),
			obsWait(obsMs(50)), obsCloseIn()},
		events: []string{obsArm(0), obsFire(50), wpEnd(1, 50), wpDrop(70), wpDrop(70),
			obsArm(100), obsFire(150), wpEnd(1, 150), obsClose(150)},
	}}
	withOutputs := func(cases []wpObsCase, outputs ...[]string) []wpObsCase {
		cases = slices.Clone(cases)
		for i := range cases {
			cases[i].outputs = outputs[i]
		}
		return cases
	}
	window := func(clk Clock, fn func(Event), size, slide int) *SlidingWindow[int] {
		return NewSlidingWindow[int](obsMs(size), clk).WithSlide(obsMs(slide)).WithObserver(fn)
	}
	collect := func(size, slide int) func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowCollection[int]] {
		return func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowCollection[int]] {
			return window(clk, fn, size, slide).Collect(ctx, in)
		}
	}
	fold := func(size, slide int) func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowValue[int]] {
		return func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowValue[int]] {
			return NewWindowFold(window(clk, fn, size, slide), nil, wpCount).Process(ctx, in)
		}
	}
	wpPlayObsCases(t, "sliding-window", collect(100, 50), withOutputs(overlap, []string{"[1 2]", "[2]"}, nil))
	wpPlayObsCases(t, "sliding-window", fold(100, 50), withOutputs(overlap, []string{"2", "1"}, nil))
	wpPlayObsCases(t, "sliding-window", collect(50, 100), withOutputs(gaps, []string{"[1]", "[4]"}))
	// Every 25ms: [0,100) holds 1 to 4, [25,125) 2 to 4, [50,150) 3 and 4,
	// [75,175) 4. The loop is still sending the first window when the
	// other three end, so those go out together, and the cancel comes while
	// the second of them waits: it and the third are lost, the first not.
	backlog := []wpObsCase{{
		name:     "cancel while the second of three windows due together waits for a reader",
		noReader: true,
		steps: []obsStep{obsSend(1), obsWait(obsMs(30)), obsSend(2), obsWait(obsMs(30)), obsSend(3), obsWait(obsMs(20)), obsSend(4),
			obsWait(obsMs(80)), obsWait(obsMs(60)), obsRead(), obsRead(), obsCancelCtx()},
		events: []string{obsArm(0), obsFire(100), obsArm(100), wpEnd(4, 100), obsFire(220), wpEnd(3, 220), obsCanc(3, 220), obsClose(220)},
	}}
	wpPlayObsCases(t, "sliding-window", collect(100, 25), withOutputs(backlog, []string{"[1 2 3 4]", "[2 3 4]"}))
	wpPlayObsCases(t, "sliding-window", fold(100, 25), withOutputs(backlog, []string{"4", "3"}))
	wpPlayObsCases(t, "sliding-window", fold(50, 100), withOutputs(gaps, []string{"1", "1"}))
}

// Sessions with a gap of 100ms, keyed by the item's last digit, in the
// live forms; an item whose keyFunc panics goes out at once, unreported.
func TestSessionWindow_LiveObserverSequences(t *testing.T) {
	keyFunc := func(r Result[int]) string {
		if r.IsSuccess() && r.Value() == 7 {
			panic("seven")
		}
		return winKeyFunc(r)
	}
	cases := []wpObsCase{
		{
			name:   "sessions ending together go out in opening order",
			steps:  []obsStep{obsSend(1), obsWait(obsMs(30)), obsSend(2), obsSend(11), obsWait(obsMs(100)), obsCloseIn()},
			events: []string{obsArm(0), obsFire(130), wpGap(2, 130), wpGap(1, 130), obsClose(130)},
		},
		{
			name:   "an item after the gap starts a new session; flush at close",
			steps:  []obsStep{obsSend(1), obsWait(obsMs(100)), obsSend(11), obsFail(21), obsWait(obsMs(20)), obsCloseIn()},
			events: []string{obsArm(0), obsFire(100), wpGap(1, 100), obsArm(100), obsStop(120), wpShut(2, 120), obsClose(120)},
		},
		{
			name:   "an item keyFunc panics on goes out at once",
			steps:  []obsStep{obsSend(1), obsWait(obsMs(10)), obsSend(7), obsWait(obsMs(90)), obsCloseIn()},
			events: []string{obsArm(0), obsFire(100), wpGap(1, 100), obsClose(100)},
		},
		{
			name:   "cancel with sessions held",
			steps:  []obsStep{obsSend(1), obsSend(2), obsSend(11), obsWait(obsMs(10)), obsCancelCtx()},
			events: []string{obsArm(0), obsCanc(3, 10), obsStop(10), obsClose(10)},
		},
	}
	window := func(clk Clock, fn func(Event)) *SessionWindow[int] {
		return NewSessionWindow(keyFunc, clk).WithGap(obsMs(100)).WithObserver(fn)
	}
	collected := slices.Clone(cases)
	for i, outputs := range [][]string{{"[1 11]", "[2]"}, {"[1]", "[11 E21]"}, {"E[7]", "[1]"}, nil} {
		collected[i].outputs = outputs
	}
	wpPlayObsCases(t, "session-window", func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowCollection[int]] {
		return window(clk, fn).Collect(ctx, in)
	}, collected)
	folded := slices.Clone(cases)
	for i, outputs := range [][]string{{"2", "1"}, {"1", "2"}, {"E0", "1"}, nil} {
		folded[i].outputs = outputs
	}
	wpPlayObsCases(t, "session-window", func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[WindowValue[int]] {
		return NewWindowFold(window(clk, fn), nil, wpCount).Process(ctx, in)
	}, folded)
}

// An input or the close that reaches a window's End before the timer's
// wake-up applies the End first: the window goes out for its End, and the
// wake-up is reported as the fire it is.
func TestWindows_ObserverInputAtEndBeforeWakeUp(t *testing.T) {
	type proc struct {
		name  string
		start wpObsStart
		end   string // the emit of the first window
	}
	procs := []proc{
		{"tumbling-window", func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
			return NewTumblingWindow[int](obsMs(100), clk).WithObserver(fn).Process(ctx, in)
		}, wpEnd(1, 100)},
		{"sliding-window", func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
			return NewSlidingWindow[int](obsMs(100), clk).WithSlide(obsMs(50)).WithObserver(fn).Process(ctx, in)
		}, wpEnd(1, 100)},
		{"session-window", func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
			return NewSessionWindow(func(Result[int]) string { return "k" }, clk).WithGap(obsMs(100)).WithObserver(fn).Process(ctx, in)
		}, wpGap(1, 100)},
	}
	for _, p := range procs {
		for _, byClose := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/close=%v", p.name, byClose), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					clk := newTEClock(true)
					clk.gate = make(chan struct{}) // the timer's goroutine waits for it
					t0 := clk.Now()
					rec := &obsRecorder{}
					in := make(chan Result[int])
					got := teDrain(p.start(t.Context(), clk, rec.observe, in))
					in <- NewSuccess(1)
					synctest.Wait()
					clk.Advance(obsMs(100))
					if !byClose {
						in <- NewSuccess(2)
					}
					close(in)
					synctest.Wait() // the loop waits for the wake-up
					close(clk.gate)
					want := []string{obsArm(0), obsFire(100), p.end}
					outputs := []string{"1"}
					switch {
					case byClose:
						want = append(want, obsClose(100))
					case p.name == "sliding-window":
						// 2 is in [50,150) and [100,200).
						want = append(want, obsArm(100), obsStop(100), wpShut(1, 100), wpShut(1, 100), obsClose(100))
						outputs = []string{"1", "2", "2"}
					default:
						want = append(want, obsArm(100), obsStop(100), wpShut(1, 100), obsClose(100))
						outputs = []string{"1", "2"}
					}
					require.Equal(t, outputs, <-got)
					require.Equal(t, want, obsFmtAll(rec.all(), t0))
					rec.requireOneGoroutine(t)
				})
			})
		}
	}
}

// A nil observer is none, and WithObserver returns its receiver.
func TestWindows_WithObserverNil(t *testing.T) {
	tw := NewTumblingWindow[int](obsMs(100), nil)
	require.Same(t, tw, tw.WithObserver(nil))
	sw := NewSlidingWindow[int](obsMs(100), nil)
	require.Same(t, sw, sw.WithObserver(nil))
	ss := NewSessionWindow(winKeyFunc, nil)
	require.Same(t, ss, ss.WithObserver(nil))
	input := func() <-chan Result[int] {
		in := make(chan Result[int], 2)
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		close(in)
		return in
	}
	for _, out := range []<-chan Result[int]{
		tw.Process(context.Background(), input()),
		sw.WithSlide(obsMs(50)).Process(context.Background(), input()),
		ss.Process(context.Background(), input()),
	} {
		require.Len(t, winCollect(t, out), 2)
	}
}

// wpObserved is what a model run's observer saw, and the clock reading
// its times are relative to.
type wpObserved struct {
	rec  *obsRecorder
	base time.Time
}

// wpCheckObserved checks a model run's events against the model's
// outputs: exactly one emit per emitted window, in order, with the
// window's size as Count, the time the model emits it as At, and Reason
// ReasonClose for a window flushed at close (emitted before its End),
// ReasonWindowEnd or ReasonSessionGap for the others; one cancel, counting
// what the model holds, when the schedule cancels; and the lifecycle rules
// of obsCheckLifecycle. It returns what differs, or "".
//
// Unless timed, emit times are not compared: in the plain style nobody
// reads during an Advance, so a loop still sending one window takes the
// next window's wake-up only once the test reads, later than its End.
func wpCheckObserved(t *testing.T, obs wpObserved, want []winOut, held int, timed bool) string {
	t.Helper()
	events := obs.rec.all()
	obsCheckLifecycle(t, events)
	obs.rec.requireOneGoroutine(t)
	var wantEmits []string
	for i := 0; i < len(want); {
		w := want[i]
		j := i + 1
		for j < len(want) && want[j].Start == w.Start && want[j].End == w.End && want[j].Key == w.Key &&
			want[j].At == w.At && want[j].Step == w.Step {
			j++
		}
		reason := ReasonClose
		if w.At == w.End {
			reason = ReasonWindowEnd
			if w.Type == "session" {
				reason = ReasonSessionGap
			}
		}
		wantEmits = append(wantEmits, wpEmitString(reason, j-i, w.At, timed))
		i = j
	}
	var gotEmits []string
	cancels := 0
	for _, e := range events {
		switch e.Kind {
		case EventEmit:
			gotEmits = append(gotEmits, wpEmitString(e.Reason, e.Count, e.At.Sub(obs.base), timed))
		case EventCancel:
			cancels++
			if held < 0 {
				return fmt.Sprintf("a cancel event %s, and the schedule closes", obsFmt(e, obs.base))
			}
			if e.Count != held {
				return fmt.Sprintf("the cancel event counts %d Results, the model holds %d", e.Count, held)
			}
		}
	}
	if held >= 0 && cancels != 1 {
		return fmt.Sprintf("%d cancel events, and the schedule cancels", cancels)
	}
	if !slices.Equal(wantEmits, gotEmits) {
		return fmt.Sprintf("emit events\n  got  %v\n  want %v", gotEmits, wantEmits)
	}
	return ""
}

func wpEmitString(reason string, count int, at time.Duration, timed bool) string {
	s := fmt.Sprintf("emit/%s/%d", reason, count)
	if timed {
		s += "@" + at.String()
	}
	return s
}
