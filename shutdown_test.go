//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdPipeline is the pipeline of the shutdown tests: src -> TakeUntil(stop)
// -> FanOut to a Debounce (100ms), a Batcher (MaxSize 10, MaxLatency 1s)
// and a TumblingWindow (1s), all under ctx on clock.
type sdPipeline struct {
	debounced <-chan Result[int]
	batches   <-chan Result[[]int]
	windowed  <-chan Result[int]
}

func sdStart(ctx, stop context.Context, clock Clock, src <-chan Result[int]) sdPipeline {
	branches := NewFanOut[int](3).Process(ctx, NewTakeUntil[int](stop).Process(ctx, src))
	return sdPipeline{
		debounced: NewDebounce[int](100*time.Millisecond, clock).Process(ctx, branches[0]),
		batches:   NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: time.Second}, clock).Process(ctx, branches[1]),
		windowed:  NewTumblingWindow[int](time.Second, clock).Process(ctx, branches[2]),
	}
}

// sdSink reads the three outputs to their end, each on a goroutine of its
// own as a service's sink would, and returns what came out once all three
// are closed.
type sdSink struct {
	done                chan struct{}
	debounced, windowed []int
	batches             [][]int
	errs                []error
}

func sdRead(p sdPipeline) *sdSink {
	s := &sdSink{done: make(chan struct{})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	keep := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		s.errs = append(s.errs, err)
	}
	wg.Add(3)
	go func() {
		defer wg.Done()
		var err error
		s.debounced, err = Collect(p.debounced)
		keep(err)
	}()
	go func() {
		defer wg.Done()
		var err error
		s.batches, err = Collect(p.batches)
		keep(err)
	}()
	go func() {
		defer wg.Done()
		var err error
		s.windowed, err = Collect(p.windowed)
		keep(err)
	}()
	go func() {
		wg.Wait()
		close(s.done)
	}()
	return s
}

// TestGracefulShutdownFlushesEverything stops a pipeline that holds a
// pending batch, a pending debounced item and an open window: everything
// taken before the stop comes out, nothing taken after, and the pipeline
// ends without the clock moving, long before the grace period is up.
func TestGracefulShutdownFlushesEverything(t *testing.T) {
	for round := range 200 {
		stop, signal := context.WithCancel(t.Context())
		clock := NewFakeClock()
		ctx, cancel := WithGrace(stop, 5*time.Second, clock)
		in := make(chan int, 8)
		p := sdStart(ctx, stop, clock, FromChannel(ctx, in))
		sink := sdRead(p)

		for i := 1; i <= 3; i++ {
			in <- i
		}
		clock.Advance(50 * time.Millisecond) // all three held, nothing due
		require.Equalf(t, 0, len(in), "round %d: items not taken", round)
		signal()
		<-sink.done
		require.NoErrorf(t, ctx.Err(), "round %d: grace period used", round)
		in <- 4 // after the stop: never taken
		cancel()

		assert.Equalf(t, []int{3}, sink.debounced, "round %d: debounced item", round)
		assert.Equalf(t, [][]int{{1, 2, 3}}, sink.batches, "round %d: batch", round)
		assert.Equalf(t, []int{1, 2, 3}, sink.windowed, "round %d: window", round)
		for _, err := range sink.errs {
			require.NoError(t, err)
		}
	}
}

// TestGracefulShutdownDeadline stops a pipeline whose batch sink has
// stopped reading: the Batcher cannot flush, and ctx ends exactly at the
// end of the grace period, which closes the Batcher's output without the
// batch. The other branches flush at the stop.
func TestGracefulShutdownDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop, signal := context.WithCancel(t.Context())
		ctx, cancel := WithGrace(stop, 5*time.Second, RealClock)
		defer cancel()
		in := make(chan int)
		p := sdStart(ctx, stop, RealClock, FromChannel(ctx, in))
		in <- 1
		var debounced, windowed []int
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			debounced, _ = Collect(p.debounced)
		}()
		go func() {
			defer wg.Done()
			windowed, _ = Collect(p.windowed)
		}()
		synctest.Wait()
		signal()
		wg.Wait()
		assert.Equal(t, []int{1}, debounced)
		assert.Equal(t, []int{1}, windowed)

		time.Sleep(5*time.Second - time.Nanosecond)
		synctest.Wait()
		require.NoError(t, ctx.Err(), "cancelled before the grace period was up")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.ErrorContains(t, context.Cause(ctx), "grace period of 5s")
		paClosed(t, p.batches) // closed, without the batch
	})
}

func TestTakeUntil(t *testing.T) {
	got := collectResults(NewTakeUntil[int](context.Background()).Process(t.Context(), paFeed(paInts(1, 2, 3)...)))
	assert.Equal(t, []int{1, 2, 3}, paValues(t, got), "a stop that never ends forwards everything")
	var noStop context.Context
	assert.PanicsWithValue(t, "streamz: NewTakeUntil: stop must not be nil", func() { NewTakeUntil[int](noStop) })
}

// A busy input does not hide the stop: with an input that always has an
// item ready, TakeUntil still ends within an item of the stop.
func TestTakeUntilBusyInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop, signal := context.WithCancel(t.Context())
		in := make(chan Result[int], 1000)
		for i := range cap(in) {
			in <- NewSuccess(i)
		}
		out := NewTakeUntil[int](stop).Process(t.Context(), in)
		for range 10 {
			paRecv(t, out)
		}
		signal()
		n := 0
		for range out {
			n++
		}
		assert.LessOrEqual(t, n, 2, "items taken after the stop was seen")
	})
}

// An item taken before the stop is delivered even though the consumer takes
// it only later; then the output closes, leaving the rest of the input.
func TestTakeUntilDeliversItemInHand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop, signal := context.WithCancel(t.Context())
		in := make(chan Result[int], 2)
		in <- NewSuccess(1)
		in <- NewSuccess(2)
		out := NewTakeUntil[int](stop).Process(t.Context(), in)
		synctest.Wait() // blocked sending 1
		signal()
		synctest.Wait()
		assert.Equal(t, 1, paRecv(t, out).Value())
		paClosed(t, out)
		assert.Equal(t, 2, (<-in).Value(), "left unread")
	})
}

func TestTakeUntilCancel(t *testing.T) {
	paCancelTests(t, NewTakeUntil[int](context.Background()).Process, NewSuccess(1))
}

func TestWithGrace(t *testing.T) {
	type key struct{}
	t.Run("values, cause and cancel", func(t *testing.T) {
		stop, signal := context.WithCancel(context.WithValue(t.Context(), key{}, "v"))
		clock := NewFakeClock()
		ctx, cancel := WithGrace(stop, time.Second, clock)
		defer cancel()
		assert.Equal(t, "v", ctx.Value(key{}))
		signal()
		require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
		clock.Advance(999 * time.Millisecond)
		assert.NoError(t, ctx.Err())
		clock.Advance(time.Millisecond)
		<-ctx.Done()
		assert.EqualError(t, context.Cause(ctx), "streamz: WithGrace: the grace period of 1s after stop ran out")
	})
	t.Run("cancel stops the timer", func(t *testing.T) {
		stop, signal := context.WithCancel(t.Context())
		clock := NewFakeClock()
		ctx, cancel := WithGrace(stop, time.Second, clock)
		signal()
		require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
		cancel()
		assert.ErrorIs(t, context.Cause(ctx), context.Canceled)
		assert.False(t, clock.HasWaiters(), "timer left armed")
	})
	t.Run("cancel before stop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			stop, signal := context.WithCancel(t.Context())
			clock := NewFakeClock()
			_, cancel := WithGrace(stop, time.Second, clock)
			cancel()
			signal()
			synctest.Wait()
			assert.False(t, clock.HasWaiters(), "timer armed after cancel")
		})
	})
	t.Run("zero", func(t *testing.T) {
		stop, signal := context.WithCancel(t.Context())
		ctx, cancel := WithGrace(stop, 0, NewFakeClock())
		defer cancel()
		signal()
		<-ctx.Done()
		assert.True(t, errors.Is(ctx.Err(), context.Canceled))
	})
	assert.PanicsWithValue(t, "streamz: WithGrace: grace must not be negative, got -1ns", func() {
		WithGrace(t.Context(), -1, nil)
	})
}
