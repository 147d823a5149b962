//go:build go1.25

package streamz

// Tests of DroppingBuffer and SlidingBuffer: random schedules of sends and
// reads against a model, played in the plain style and in a synctest
// bubble, and the rules one by one. Every helper here starts with "ob".

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// obStep is one step of a buffer schedule: send item v (an error when
// fail is set), or, with read > 0, let the consumer take read items.
type obStep struct {
	v    int
	fail bool
	read int
}

// obSchedule draws sends and reads; the reads take at most what the
// model holds, so a plain read never blocks.
func obSchedule(rng *rand.Rand) []obStep {
	var steps []obStep
	for v := 1; len(steps) < 20+rng.IntN(40); {
		if rng.IntN(3) == 0 {
			steps = append(steps, obStep{read: 1 + rng.IntN(4)})
			continue
		}
		steps = append(steps, obStep{v: v, fail: rng.IntN(6) == 0})
		v++
	}
	return steps
}

// obModel is the buffers' rule: hold up to size items; when full, drop the
// arriving item (dropOldest false) or the oldest held. It returns, per
// step, what a read takes, and what is left at the end, in order; and the
// items dropped.
func obModel(size int, dropOldest bool, steps []obStep) (reads [][]string, rest, dropped []string) {
	var held []string
	for _, s := range steps {
		if s.read > 0 {
			n := min(s.read, len(held))
			var read []string // nil when there is nothing to read
			if n > 0 {
				read = slices.Clone(held[:n])
			}
			reads = append(reads, read)
			held = held[n:]
			continue
		}
		reads = append(reads, nil)
		item := obName(s)
		switch {
		case len(held) < size:
			held = append(held, item)
		case dropOldest:
			dropped = append(dropped, held[0])
			held = append(held[1:], item)
		default:
			dropped = append(dropped, item)
		}
	}
	if len(held) == 0 {
		held = nil
	}
	return reads, held, dropped
}

func obName(s obStep) string {
	if s.fail {
		return fmt.Sprintf("E%d", s.v)
	}
	return fmt.Sprint(s.v)
}

func obResult(r Result[int]) string {
	if r.IsError() {
		return fmt.Sprintf("E%d", r.Error().Item)
	}
	return fmt.Sprint(r.Value())
}

func obStart(ctx context.Context, size int, dropOldest bool, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
	if dropOldest {
		return NewSlidingBuffer[int](size).WithObserver(fn).Process(ctx, in)
	}
	return NewDroppingBuffer[int](size).WithObserver(fn).Process(ctx, in)
}

// obPlay plays steps on a new buffer and checks every read, the rest after
// the close, and the drops the observer saw. Each send returns once the
// buffer has taken the item, and it takes the next only after it has
// placed this one, so the plain style needs nothing else.
func obPlay(t *testing.T, size int, dropOldest bool, steps []obStep) {
	t.Helper()
	reads, rest, dropped := obModel(size, dropOldest, steps)
	in := make(chan Result[int])
	rec := &obsRecorder{}
	out := obStart(t.Context(), size, dropOldest, rec.observe, in)
	for i, s := range steps {
		if s.read == 0 {
			r := NewSuccess(s.v)
			if s.fail {
				r = NewError(s.v, fmt.Errorf("ob %d", s.v), "ob")
			}
			select {
			case in <- r:
			case <-time.After(teSafety):
				t.Fatalf("step %d: the buffer did not take its input: the producer is blocked", i)
			}
			continue
		}
		var got []string
		for range reads[i] {
			got = append(got, obResult(<-out))
		}
		require.Equal(t, reads[i], got, "read at step %d of %v", i, steps)
	}
	close(in)
	var got []string
	for r := range out {
		got = append(got, obResult(r))
	}
	require.Equal(t, rest, got, "after the close, %v", steps)
	drops := 0
	for _, e := range rec.all() {
		if e.Kind == EventDrop {
			require.Equal(t, ReasonOverflow, e.Reason)
			require.Equal(t, 1, e.Count)
			drops++
		}
	}
	require.Equal(t, len(dropped), drops, "drops reported")
}

func TestOverflowBuffers_ModelSchedules(t *testing.T) {
	base := teSeed(t)
	for i := range 400 {
		rng := rand.New(rand.NewPCG(base, uint64(i)))
		size, dropOldest := 1+rng.IntN(4), i%2 == 1
		steps := obSchedule(rng)
		name := fmt.Sprintf("size=%d dropOldest=%v seed=%d/%d", size, dropOldest, base, i)
		t.Run(name+" plain", func(t *testing.T) { obPlay(t, size, dropOldest, steps) })
		t.Run(name+" synctest", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { obPlay(t, size, dropOldest, steps) })
		})
	}
}

// Neither buffer ever blocks its producer: with nobody reading, 1000 sends
// all complete, and the consumer then finds the first (DroppingBuffer) or
// the last (SlidingBuffer) size items.
func TestOverflowBuffers_NeverBlockTheProducer(t *testing.T) {
	for _, dropOldest := range []bool{false, true} {
		t.Run(fmt.Sprintf("dropOldest=%v", dropOldest), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				in := make(chan Result[int])
				out := obStart(t.Context(), 3, dropOldest, nil, in)
				sent := make(chan struct{})
				go func() {
					defer close(sent)
					for v := range 1000 {
						in <- NewSuccess(v)
					}
					close(in)
				}()
				synctest.Wait()
				select {
				case <-sent:
				default:
					t.Fatal("the producer was blocked")
				}
				var got []int
				for r := range out {
					got = append(got, r.Value())
				}
				want := []int{0, 1, 2}
				if dropOldest {
					want = []int{997, 998, 999}
				}
				require.Equal(t, want, got)
			})
		})
	}
}

// Cancel closes the output promptly with items held and nobody reading,
// and reports what it loses.
func TestOverflowBuffers_Cancel(t *testing.T) {
	for _, dropOldest := range []bool{false, true} {
		t.Run(fmt.Sprintf("dropOldest=%v", dropOldest), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int])
			rec := &obsRecorder{}
			out := obStart(ctx, 2, dropOldest, rec.observe, in)
			in <- NewSuccess(1)
			in <- NewSuccess(2)
			in <- NewSuccess(3)
			cancel()
			for range out {
				t.Fatal("an item came out after the cancel")
			}
			require.Equal(t, []string{"drop/overflow/1", "cancel//2", "close//0"}, rlKinds(rec))
		})
	}
}

func TestOverflowBuffers_ConstructorPanics(t *testing.T) {
	require.PanicsWithValue(t, "streamz: NewDroppingBuffer: size must be at least 1, got 0", func() { NewDroppingBuffer[int](0) })
	require.PanicsWithValue(t, "streamz: NewSlidingBuffer: size must be at least 1, got -1", func() { NewSlidingBuffer[int](-1) })
}
