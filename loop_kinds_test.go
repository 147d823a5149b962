//go:build go1.25

package streamz

// Rules that every processor shares through its loop (loop.go), each
// checked on every processor of the package: cancel drops the item a
// parked send holds, a nil ctx panics naming the processor, and two
// settles at once both return.

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// lkKind is one processor of the package, run on int items.
type lkKind struct {
	name string
	// start calls Process on in and returns a function that drains every
	// output until all are closed (see lkDrain); nothing reads an output
	// before it is called.
	start func(ctx context.Context, clock Clock, in <-chan Result[int]) (drain func() int)
	// feed sends what makes the processor owe an output, which is due once
	// the clock has moved by due. Nil sends NewSuccess(1).
	feed func(in chan<- Result[int])
	due  time.Duration
	// kept is how many outputs a drain that starts after cancel still gets:
	// the items already in a buffered output.
	kept int
	// caller is what a nil ctx's panic names, when not name's Process.
	caller string
}

// lkDrain returns a function that reads outs until all are closed, and
// returns how many values came out. It reads the first output itself, so
// that a read right after an event comes from the caller at once, and each
// other output in a goroutine of its own.
func lkDrain[U any](outs ...<-chan U) func() int {
	return func() int {
		var n atomic.Int64
		var wg sync.WaitGroup
		for _, out := range outs[1:] {
			wg.Go(func() {
				for range out {
					n.Add(1)
				}
			})
		}
		for range outs[0] {
			n.Add(1)
		}
		wg.Wait()
		return int(n.Load())
	}
}

func lkSingle[U any](out <-chan U) func() int { return lkDrain(out) }

var lkWindowed = AddWindowMetadata(NewSuccess(1), WindowMetadata{
	Type: "tumbling", Start: time.Unix(0, 0), End: time.Unix(1, 0), Size: time.Second,
})

// lkKinds returns every processor of the package, each as a kind.
func lkKinds() []lkKind {
	identity := func(_ context.Context, v int) (int, error) { return v, nil }
	return []lkKind{
		{name: "Mapper", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewMapper(identity).Process(ctx, in))
		}},
		{name: "AsyncMapper", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewAsyncMapper(identity).WithWorkers(2).Process(ctx, in))
		}},
		{name: "Filter", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewFilter(func(int) bool { return true }).Process(ctx, in))
		}},
		{name: "Tap", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewTap(func(Result[int]) {}).Process(ctx, in))
		}},
		{name: "Sample", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewSample[int](1).Process(ctx, in))
		}},
		{name: "Buffer(0)", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewBuffer[int](0).Process(ctx, in))
		}},
		{name: "Buffer(2)", kept: 2, feed: func(in chan<- Result[int]) {
			for i := range 3 { // two fill the output; the third is in hand
				in <- NewSuccess(i)
			}
		}, start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewBuffer[int](2).Process(ctx, in))
		}},
		{name: "FanIn", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewFanIn[int]().Process(ctx, in, make(chan Result[int])))
		}},
		{name: "FanOut", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkDrain(NewFanOut[int](2).Process(ctx, in)...)
		}},
		{name: "Partition", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			p, err := NewRoundRobinPartition[int](2, 0)
			if err != nil {
				panic(err)
			}
			return lkDrain(p.Process(ctx, in)...)
		}},
		{name: "Switch", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			s := NewSwitchSimple[int](func(int) string { return "a" })
			s.AddRoute("a")
			routes, errs := s.Process(ctx, in)
			return lkDrain(routes["a"], errs)
		}},
		{name: "DeadLetterQueue", start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			succ, fail := NewDeadLetterQueue[int](clock).Process(ctx, in)
			return lkDrain(succ, fail)
		}},
		{name: "Throttle", start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewThrottle[int](time.Second, clock).Process(ctx, in))
		}},
		{name: "Debounce", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewDebounce[int](time.Second, clock).Process(ctx, in))
		}},
		{name: "Batcher", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewBatcher[int](BatchConfig{MaxLatency: time.Second, MaxSize: 10}, clock).Process(ctx, in))
		}},
		{name: "TumblingWindow", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewTumblingWindow[int](time.Second, clock).Process(ctx, in))
		}},
		{name: "SlidingWindow", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewSlidingWindow[int](time.Second, clock).Process(ctx, in))
		}},
		{name: "SessionWindow", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			key := func(Result[int]) string { return "k" }
			return lkSingle(NewSessionWindow(key, clock).WithGap(time.Second).Process(ctx, in))
		}},
		{name: "TakeUntil", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewTakeUntil[int](context.Background()).Process(ctx, in))
		}},
		{name: "Stage", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			forward := func() StageFunc[int, int] {
				return func(_ context.Context, r Result[int], emit func(Result[int]) bool) { emit(r) }
			}
			return lkSingle(NewStage(forward).Process(ctx, in))
		}},
		{name: "FlatMap", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewFlatMap(func(_ context.Context, v int) ([]int, error) { return []int{v}, nil }).Process(ctx, in))
		}},
		{name: "FromChannel", caller: "FromChannel", start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(FromChannel(ctx, in))
		}},
		{name: "KeyedBatcher", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewKeyedBatcher(BatchConfig{MaxLatency: time.Second, MaxSize: 10}, func(int) int { return 0 }, clock).Process(ctx, in))
		}},
		{name: "KeyedDebounce", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewKeyedDebounce(time.Second, func(int) int { return 0 }, clock).Process(ctx, in))
		}},
		{name: "KeyedThrottle", start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewKeyedThrottle(time.Second, func(int) int { return 0 }, clock).Process(ctx, in))
		}},
		{name: "WindowFold", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			count := func(n int, _ Result[int]) int { return n + 1 }
			return lkSingle(NewWindowFold[int](NewTumblingWindow[int](time.Second, clock), func() int { return 0 }, count).Process(ctx, in))
		}},
		{name: "TumblingWindow.Collect", caller: "TumblingWindow.Collect", due: time.Second, start: func(ctx context.Context, clock Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewTumblingWindow[int](time.Second, clock).Collect(ctx, in))
		}},
		{name: "WindowCollector", feed: func(in chan<- Result[int]) {
			in <- lkWindowed
			close(in) // the collection is emitted at close
		}, start: func(ctx context.Context, _ Clock, in <-chan Result[int]) func() int {
			return lkSingle(NewWindowCollector[int]().Process(ctx, in))
		}},
	}
}

// lkWithFakeClockFlag runs f with the package's record of whether a
// FakeClock exists set to exists: without one, clock-less processors do
// not register for settling, which is how a program that never creates a
// FakeClock runs them.
func lkWithFakeClockFlag(t *testing.T, exists bool, f func(t *testing.T)) {
	prev := fakeClockCreated.Swap(exists)
	defer fakeClockCreated.Store(prev)
	f(t)
}

// When ctx ends while a processor is parked sending an output that nobody
// reads, that output is never delivered, even to a reader that comes the
// moment cancel returns: cancel drops the item in hand. Items already in a
// buffered output stay readable. Checked with no FakeClock in the program
// (RealClock in a synctest bubble, time moved by sleeping) and on a
// FakeClock (time moved by Advance, which leaves the processor parked).
func TestLoop_CancelDropsTheParkedSend(t *testing.T) {
	for _, k := range lkKinds() {
		t.Run(k.name+"/no FakeClock", func(t *testing.T) {
			lkWithFakeClockFlag(t, false, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					lkCheckCancelDrops(t, k, RealClock, time.Sleep)
				})
			})
		})
		t.Run(k.name+"/FakeClock", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fc := NewFakeClock()
				lkCheckCancelDrops(t, k, fc, fc.Advance)
			})
		})
	}
}

func lkCheckCancelDrops(t *testing.T, k lkKind, clock Clock, move func(time.Duration)) {
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan Result[int])
	drain := k.start(ctx, clock, in)
	if k.feed != nil {
		k.feed(in)
	} else {
		in <- NewSuccess(1)
	}
	move(k.due)
	synctest.Wait() // parked sending what is due, with nobody reading
	cancel()
	require.Equal(t, k.kept, drain(), "an item was delivered after cancel")
}

// A nil ctx panics in Process, with a message that names the processor and
// Process, rather than as a nil dereference in the loop's goroutine.
func TestLoop_NilCtxPanicsNamingTheProcessor(t *testing.T) {
	var nilCtx context.Context
	for _, k := range lkKinds() {
		t.Run(k.name, func(t *testing.T) {
			caller := k.caller
			if caller == "" {
				processor, _, _ := strings.Cut(k.name, "(")
				caller = processor + ".Process"
			}
			want := "streamz: " + caller + ": ctx must not be nil"
			require.PanicsWithValue(t, want, func() { k.start(nilCtx, RealClock, make(chan Result[int])) })
		})
	}
	for caller, call := range map[string]func(){
		"FanIn.Process":     func() { NewFanIn[int]().Process(nilCtx) }, // no live input: no loop starts
		"Unbatcher.Process": func() { NewUnbatcher[int]().Process(nilCtx, make(chan Result[[]int])) },
		"FromChannel":       func() { FromChannel[int](nilCtx, nil) }, // a nil in starts no loop
		"FromSlice":         func() { FromSlice(nilCtx, []int{1}) },
		"FromSeq":           func() { FromSeq(nilCtx, slices.Values([]int{1})) },
		"FromLines":         func() { FromLines(nilCtx, strings.NewReader("x"), 0) },
	} {
		t.Run(caller, func(t *testing.T) {
			require.PanicsWithValue(t, "streamz: "+caller+": ctx must not be nil", call)
		})
	}
}

// Two settles at once, an Advance and a BlockUntilReady from two
// goroutines, both return, on every processor, while items arrive. Each
// runs in a synctest bubble, so that a settle left waiting for good fails
// the test as a deadlock instead of hanging it; the failure is a race, so
// run it with -count.
func TestLoop_TwoSettlersAtOnce(t *testing.T) {
	for _, k := range lkKinds() {
		t.Run(k.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				fc := NewFakeClock()
				in := make(chan Result[int])
				drain := k.start(ctx, fc, in)
				drained := make(chan int)
				go func() { drained <- drain() }()
				var settlers sync.WaitGroup
				settlers.Go(func() {
					for range 50 {
						fc.Advance(100 * time.Millisecond)
					}
				})
				settlers.Go(func() {
					for range 50 {
						fc.BlockUntilReady()
					}
				})
				for i := range 50 {
					if k.name == "WindowCollector" {
						in <- lkWindowed
					} else {
						in <- NewSuccess(i)
					}
				}
				settlers.Wait()
				close(in)
				cancel() // FanIn's second input never closes
				<-drained
			})
		})
	}
}
