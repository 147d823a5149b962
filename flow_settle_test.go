package streamz

// What the flow-control processors (RateLimiter, KeyedRateLimiter, Dedupe,
// DroppingBuffer, SlidingBuffer) tell an item that must be settled: a drop
// on purpose is Discarded, what a cancel loses is Lost, and everything
// that goes out is left to the sink. Every helper here starts with "fs".

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fsItem is an item that must be settled: it records its outcomes in rec.
type fsItem struct {
	key string
	n   int
	rec *fsRecorder
}

func (it fsItem) Settle(o Outcome) { it.rec.settle(it.n, o) }

// Copied records the outcome 0, which no test expects: no flow-control
// processor copies an item.
func (it fsItem) Copied(n int) { it.rec.settle(it.n, Outcome(0)) }

type fsRecorder struct {
	mu       sync.Mutex
	outcomes map[int][]Outcome
}

func (r *fsRecorder) settle(n int, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outcomes == nil {
		r.outcomes = map[int][]Outcome{}
	}
	r.outcomes[n] = append(r.outcomes[n], o)
}

// all is every item's outcomes so far, as "n:outcome", by item.
func (r *fsRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for n := range 100 {
		for _, o := range r.outcomes[n] {
			s = append(s, fmt.Sprintf("%d:%v", n, o))
		}
	}
	return s
}

func (r *fsRecorder) item(key string, n int) Result[fsItem] {
	return NewSuccess(fsItem{key: key, n: n, rec: r})
}

// fsKey is the key of an fsItem.
func fsKey(it fsItem) string { return it.key }

// fsRun sends items into a new stream of process and returns the numbers
// of the items that came out, once the input is closed.
func fsRun(t *testing.T, process func(context.Context, <-chan Result[fsItem]) <-chan Result[fsItem], items ...Result[fsItem]) []int {
	t.Helper()
	in := make(chan Result[fsItem])
	out := process(t.Context(), in)
	got := make(chan []int)
	go func() {
		var ns []int
		for r := range out {
			if r.IsError() {
				ns = append(ns, -r.Error().Item.n)
				continue
			}
			ns = append(ns, r.Value().n)
		}
		got <- ns
	}()
	for _, r := range items {
		in <- r
	}
	close(in)
	return <-got
}

func TestFlow_DropsAreDiscarded(t *testing.T) {
	fc := NewFakeClock()
	for _, tc := range []struct {
		name    string
		process func(context.Context, <-chan Result[fsItem]) <-chan Result[fsItem]
		passed  []int
		settled []string
	}{
		{"RateLimiter drop", NewRateLimiter[fsItem](1, 1, fc).WithDrop(true).Process, []int{1}, []string{"2:discarded", "3:discarded"}},
		{"KeyedRateLimiter drop", NewKeyedRateLimiter(1, 1, fsKey, fc).WithDrop(true).Process, []int{1, 2}, []string{"3:discarded"}},
		{"Dedupe", NewDedupe(fsKey, time.Hour, fc).Process, []int{1, 2}, []string{"3:discarded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &fsRecorder{}
			got := fsRun(t, tc.process, rec.item("a", 1), rec.item("b", 2), rec.item("a", 3))
			require.Equal(t, tc.passed, got)
			require.Equal(t, tc.settled, rec.all(), "what passed is the sink's to settle")
		})
	}
}

// A full buffer discards the newest or the oldest; an error Result is
// settled through the item it holds.
func TestFlow_OverflowIsDiscarded(t *testing.T) {
	for _, dropOldest := range []bool{false, true} {
		t.Run(fmt.Sprintf("dropOldest=%v", dropOldest), func(t *testing.T) {
			rec := &fsRecorder{}
			in := make(chan Result[fsItem])
			var out <-chan Result[fsItem]
			if dropOldest {
				out = NewSlidingBuffer[fsItem](1).Process(t.Context(), in)
			} else {
				out = NewDroppingBuffer[fsItem](1).Process(t.Context(), in)
			}
			failed := NewError(fsItem{n: 2, rec: rec}, errors.New("bad"), "fs")
			in <- rec.item("a", 1)
			in <- failed
			in <- rec.item("a", 3)
			close(in)
			var got []int
			for r := range out {
				got = append(got, r.ValueOr(fsItem{n: -1}).n)
			}
			if dropOldest {
				require.Equal(t, []int{3}, got)
				require.Equal(t, []string{"1:discarded", "2:discarded"}, rec.all())
			} else {
				require.Equal(t, []int{1}, got)
				require.Equal(t, []string{"2:discarded", "3:discarded"}, rec.all())
			}
		})
	}
}

// A cancel loses what the buffer holds: Lost, so that the source delivers
// it again.
func TestFlow_BufferCancelIsLost(t *testing.T) {
	rec := &fsRecorder{}
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan Result[fsItem])
	out := NewDroppingBuffer[fsItem](3).Process(ctx, in)
	in <- rec.item("a", 1)
	in <- rec.item("a", 2)
	cancel()
	for range out {
		t.Fatal("an item came out after the cancel")
	}
	require.Equal(t, []string{"1:lost", "2:lost"}, rec.all())
}

// A cancel loses the item a RateLimiter in wait mode holds for its token,
// and the item it is sending: both Lost.
func TestFlow_RateLimiterCancelIsLost(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			fc := NewFakeClock()
			rec := &fsRecorder{}
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[fsItem])
			var out <-chan Result[fsItem]
			if keyed {
				out = NewKeyedRateLimiter(1, 1, fsKey, fc).Process(ctx, in)
			} else {
				out = NewRateLimiter[fsItem](1, 1, fc).Process(ctx, in)
			}
			in <- rec.item("a", 1) // being sent: nobody reads
			fc.BlockUntilReady()
			cancel()
			for range out {
				t.Fatal("an item came out after the cancel")
			}
			ctx, cancel = context.WithCancel(t.Context())
			defer cancel()
			in = make(chan Result[fsItem])
			if keyed {
				out = NewKeyedRateLimiter(1, 1, fsKey, fc).Process(ctx, in)
			} else {
				out = NewRateLimiter[fsItem](1, 1, fc).Process(ctx, in)
			}
			in <- rec.item("a", 2)
			require.Equal(t, 2, (<-out).Value().n)
			in <- rec.item("a", 3) // held for its token
			fc.BlockUntilReady()
			cancel()
			for range out {
				t.Fatal("an item came out after the cancel")
			}
			require.Equal(t, []string{"1:lost", "3:lost"}, rec.all())
		})
	}
}
