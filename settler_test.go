//go:build go1.25

package streamz

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The settle tests feed items that carry a real Settlement through a
// processor inside a synctest bubble, whose RealClock is fake time, let a
// sink settle what comes out, and then read what the ledger says became of
// each item.

// tracked is an item that must be settled.
type tracked struct {
	id int
	s  *Settlement
}

func (x tracked) Settle(o Outcome) { x.s.Settle(o) }
func (x tracked) Copied(n int)     { x.s.Copied(n) }

// ledger records the final outcome of each tracked item, and how often
// final was called.
type ledger struct {
	mu    sync.Mutex
	final map[int]Outcome
	calls map[int]int
}

func newLedger() *ledger { return &ledger{final: map[int]Outcome{}, calls: map[int]int{}} }

func (l *ledger) item(id int) tracked {
	return tracked{id: id, s: NewSettlement(func(o Outcome) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.final[id] = o
		l.calls[id]++
	})}
}

// outcomes returns each settled item's final outcome, and fails the test
// if final was called more than once for one.
func (l *ledger) outcomes(t *testing.T) map[int]Outcome {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, n := range l.calls {
		assert.Equal(t, 1, n, "final calls of item %d", id)
	}
	got := make(map[int]Outcome, len(l.final))
	for id, o := range l.final {
		got[id] = o
	}
	return got
}

// step sends item id after sleeping for wait.
type step struct {
	id   int
	wait time.Duration
}

// runSettled sends steps through process in a bubble, closes the input,
// acks every item the output carries and returns the ledger's outcomes.
func runSettled(t *testing.T, process func(context.Context, <-chan Result[tracked]) <-chan Result[tracked], steps []step) map[int]Outcome {
	t.Helper()
	var got map[int]Outcome
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		in := make(chan Result[tracked])
		out := process(t.Context(), in)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for r := range out {
				r.Value().Settle(Acked)
			}
		}()
		for _, s := range steps {
			time.Sleep(s.wait)
			in <- NewSuccess(l.item(s.id))
		}
		close(in)
		<-done
		got = l.outcomes(t)
	})
	return got
}

func at(ids ...int) []step {
	steps := make([]step, len(ids))
	for i, id := range ids {
		steps[i] = step{id: id}
	}
	return steps
}

func TestSettleDiscards(t *testing.T) {
	const d = time.Second
	cases := []struct {
		name    string
		process func(context.Context, <-chan Result[tracked]) <-chan Result[tracked]
		steps   []step
		want    map[int]Outcome
	}{
		{"Filter reject", NewFilter(func(x tracked) bool { return x.id%2 == 0 }).Process,
			at(1, 2, 3), map[int]Outcome{1: Discarded, 2: Acked, 3: Discarded}},
		{"Throttle leading cooldown", NewThrottle[tracked](d, nil).Process,
			[]step{{1, 0}, {2, d / 2}, {3, d}}, map[int]Outcome{1: Acked, 2: Discarded, 3: Acked}},
		{"Throttle trailing replaced", NewThrottle[tracked](d, nil).WithTrailing(true).Process,
			at(1, 2, 3), map[int]Outcome{1: Acked, 2: Discarded, 3: Acked}},
		{"Debounce coalesce", NewDebounce[tracked](d, nil).Process,
			[]step{{1, 0}, {2, d / 2}, {3, 2 * d}}, map[int]Outcome{1: Discarded, 2: Acked, 3: Acked}},
		{"Debounce leading only", NewDebounce[tracked](d, nil).WithLeading(true).WithTrailing(false).Process,
			at(1, 2), map[int]Outcome{1: Acked, 2: Discarded}},
		{"Debounce with max wait coalesce", NewDebounce[tracked](d, nil).WithMaxWait(3 * d).Process,
			at(1, 2), map[int]Outcome{1: Discarded, 2: Acked}},
		{"Sample skip", NewSample[tracked](0).Process,
			at(1, 2), map[int]Outcome{1: Discarded, 2: Discarded}},
		{"SlidingWindow gap", NewSlidingWindow[tracked](d, nil).WithSlide(2 * d).Process,
			[]step{{1, 0}, {2, 3 * d / 2}}, map[int]Outcome{1: Acked, 2: Discarded}},
		{"KeyedThrottle cooldown", NewKeyedThrottle(d, func(tracked) int { return 0 }, nil).Process,
			at(1, 2), map[int]Outcome{1: Acked, 2: Discarded}},
		{"KeyedThrottle trailing replaced", NewKeyedThrottle(d, func(tracked) int { return 0 }, nil).WithTrailing(true).Process,
			at(1, 2, 3), map[int]Outcome{1: Acked, 2: Discarded, 3: Acked}},
		{"KeyedDebounce coalesce", NewKeyedDebounce(d, func(x tracked) int { return x.id % 2 }, nil).Process,
			at(1, 2, 3, 4), map[int]Outcome{1: Discarded, 2: Discarded, 3: Acked, 4: Acked}},
		{"KeyedDebounce max wait coalesce", NewKeyedDebounce(d, func(tracked) int { return 0 }, nil).WithMaxWait(2 * d).Process,
			at(1, 2), map[int]Outcome{1: Discarded, 2: Acked}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, runSettled(t, c.process, c.steps))
		})
	}
}

// An item in k sliding windows is settled once, when the sink has settled
// each of its k copies.
func TestSettleSlidingCopies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		in := make(chan Result[tracked])
		out := NewSlidingWindow[tracked](2*time.Second, nil).WithSlide(time.Second).Process(t.Context(), in)
		in <- NewSuccess(l.item(1)) // anchors the windows at 0s
		time.Sleep(3 * time.Second / 2)
		in <- NewSuccess(l.item(2)) // in [0s, 2s) and [1s, 3s)
		for range 2 {
			r := <-out // [0s, 2s) holds both
			r.Value().Settle(Acked)
		}
		synctest.Wait()
		assert.Equal(t, map[int]Outcome{1: Acked}, l.outcomes(t), "2 is settled with one copy of two outstanding")
		close(in)
		second := <-out
		assert.Equal(t, 2, second.Value().id)
		second.Value().Settle(Acked)
		_, open := <-out
		require.False(t, open)
		assert.Equal(t, map[int]Outcome{1: Acked, 2: Acked}, l.outcomes(t))
	})
}

// An item with no route, and no default, is discarded.
func TestSettleSwitchUnrouted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		sw := NewSwitchSimple(func(x tracked) int { return x.id })
		route := sw.AddRoute(1)
		in := make(chan Result[tracked])
		_, errs := sw.Process(t.Context(), in)
		go func() {
			for range errs {
			}
		}()
		go func() {
			for r := range route {
				r.Value().Settle(Acked)
			}
		}()
		in <- NewSuccess(l.item(1))
		in <- NewSuccess(l.item(2))
		close(in)
		synctest.Wait()
		assert.Equal(t, map[int]Outcome{1: Acked, 2: Discarded}, l.outcomes(t))
	})
}

// FanOut gives each output a copy; the item is settled with the greatest
// outcome once every copy is, and a FanOut of none discards it.
func TestSettleFanOutCopies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		in := make(chan Result[tracked])
		outs := NewFanOut[tracked](2).Process(t.Context(), in)
		go func() { in <- NewSuccess(l.item(1)); in <- NewSuccess(l.item(2)); close(in) }()
		a1, b1 := <-outs[0], <-outs[1]
		a1.Value().Settle(Acked)
		synctest.Wait()
		assert.Empty(t, l.outcomes(t), "settled before the second branch")
		b1.Value().Settle(Acked)
		a2, b2 := <-outs[0], <-outs[1]
		a2.Value().Settle(Lost) // one branch's crash
		b2.Value().Settle(Acked)
		synctest.Wait()
		assert.Equal(t, map[int]Outcome{1: Acked, 2: Lost}, l.outcomes(t))
	})
	got := runSettled(t, func(ctx context.Context, in <-chan Result[tracked]) <-chan Result[tracked] {
		NewFanOut[tracked](0).Process(ctx, in)
		out := make(chan Result[tracked])
		close(out)
		return out
	}, at(1))
	assert.Equal(t, map[int]Outcome{1: Discarded}, got)
}

// What a processor holds, or has in hand, when ctx ends is lost.
func TestSettleCancelLoses(t *testing.T) {
	cases := []struct {
		name    string
		process func(context.Context, <-chan Result[tracked]) <-chan Result[tracked]
	}{
		{"Debounce pending", NewDebounce[tracked](time.Second, nil).Process},
		{"Throttle trailing held", NewThrottle[tracked](time.Second, nil).WithLeading(false).WithTrailing(true).Process},
		{"TumblingWindow open", NewTumblingWindow[tracked](time.Second, nil).Process},
		{"SessionWindow open", NewSessionWindow(func(Result[tracked]) string { return "k" }, nil).Process},
		{"KeyedDebounce pending", NewKeyedDebounce(time.Second, func(x tracked) int { return x.id }, nil).Process},
		{"Filter in hand", NewFilter(func(tracked) bool { return true }).Process},
		{"Mapper in hand", NewMapper(func(_ context.Context, x tracked) (tracked, error) { return x, nil }).Process},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLedger()
				ctx, cancel := context.WithCancel(t.Context())
				in := make(chan Result[tracked])
				out := c.process(ctx, in)
				in <- NewSuccess(l.item(1))
				synctest.Wait() // held, or blocked sending with nobody reading
				cancel()
				for range out {
				}
				assert.Equal(t, map[int]Outcome{1: Lost}, l.outcomes(t))
			})
		})
	}
}

// A Batcher's held items are lost at cancel; a batch is passed on and
// settled by its sink.
func TestSettleBatcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[tracked])
		out := NewBatcher[tracked](BatchConfig{MaxSize: 2}, nil).Process(ctx, in)
		in <- NewSuccess(l.item(1))
		in <- NewSuccess(l.item(2))
		for _, x := range (<-out).Value() {
			x.Settle(Acked)
		}
		in <- NewSuccess(l.item(3))
		synctest.Wait()
		cancel()
		for range out {
		}
		assert.Equal(t, map[int]Outcome{1: Acked, 2: Acked, 3: Lost}, l.outcomes(t))
	})
}

// An item DeadLetterQueue drops for its timeout is lost.
func TestSettleDeadLetterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		in := make(chan Result[tracked])
		succ, fail := NewDeadLetterQueue[tracked](nil).WithTimeout(time.Second).Process(t.Context(), in)
		go func() {
			for range fail {
			}
		}()
		in <- NewSuccess(l.item(1)) // nobody reads succ
		time.Sleep(time.Second)
		synctest.Wait()
		close(in)
		for range succ {
		}
		assert.Equal(t, map[int]Outcome{1: Lost}, l.outcomes(t))
	})
}

// A fold's value holds the acknowledgements of the items folded into it.
func TestSettleWindowFold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		in := make(chan Result[tracked])
		out := NewWindowFold(NewTumblingWindow[tracked](time.Second, nil), nil,
			func(n int, _ Result[tracked]) int { return n + 1 }).Process(t.Context(), in)
		in <- NewSuccess(l.item(1))
		in <- NewSuccess(l.item(2))
		close(in)
		v := (<-out).Value()
		assert.Equal(t, 2, v.Value)
		synctest.Wait()
		assert.Empty(t, l.outcomes(t), "settled before the sink")
		v.Settle(Acked)
		assert.Equal(t, map[int]Outcome{1: Acked, 2: Acked}, l.outcomes(t))
	})
}

func TestSettlement(t *testing.T) {
	var finals []Outcome
	s := NewSettlement(func(o Outcome) { finals = append(finals, o) })
	s.Copied(2)
	s.Settle(Acked)
	s.Settle(Lost)
	assert.Empty(t, finals)
	assert.False(t, s.Settled())
	s.Settle(Discarded)
	assert.Equal(t, []Outcome{Lost}, finals, "the greatest outcome")
	assert.True(t, s.Settled())
	s.Settle(Acked)
	s.Copied(1)
	assert.False(t, s.Close(Lost))
	assert.Len(t, finals, 1, "ignored after final")

	finals = nil
	c := NewSettlement(func(o Outcome) { finals = append(finals, o) })
	c.Copied(3)
	c.Settle(Rejected)
	assert.True(t, c.Close(Acked))
	assert.Equal(t, []Outcome{Rejected}, finals)

	assert.PanicsWithValue(t, "streamz: NewSettlement: final must not be nil", func() { NewSettlement(nil) })
	assert.PanicsWithValue(t, "streamz: Settlement.Copied: n must not be negative, got -1", func() { c.Copied(-1) })
	assert.PanicsWithValue(t, "streamz: Settlement.Settle: unknown Outcome 0", func() { c.Settle(0) })
	assert.Equal(t, "lost", Lost.String())
	assert.Equal(t, "Outcome(9)", Outcome(9).String())
}

func TestSettlesChecksTheType(t *testing.T) {
	assert.False(t, settles[int]())
	assert.False(t, settles[[]string]())
	assert.False(t, settles[WindowCollection[int]]())
	assert.True(t, settles[tracked]())
	assert.True(t, settles[[]tracked]())
	assert.True(t, settles[any]())
	assert.True(t, settles[Result[tracked]]())
	assert.True(t, settles[WindowCollection[tracked]]())
	assert.True(t, settles[KeyedBatch[int, tracked]]())
	assert.True(t, settles[WindowValue[int]](), "a fold's value is itself a Settler")
}

// An Unbatcher cancelled in the middle of a batch loses the rest of it.
func TestSettleUnbatcherCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger()
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[[]tracked])
		out := NewUnbatcher[tracked]().Process(ctx, in)
		in <- NewSuccess([]tracked{l.item(1), l.item(2), l.item(3)})
		(<-out).Value().Settle(Acked)
		synctest.Wait() // blocked offering item 2
		cancel()
		for range out {
		}
		assert.Equal(t, map[int]Outcome{1: Acked, 2: Lost, 3: Lost}, l.outcomes(t))
	})
}
