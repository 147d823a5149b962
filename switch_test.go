//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pbParity is a named key type, to see that "route" keeps K's type.
type pbParity string

func pbParityOf(v int) pbParity {
	if v%2 == 0 {
		return "even"
	}
	return "odd"
}

// pbErrBoom is a custom error type, to see that errors.As reaches a panic
// value.
type pbErrBoom struct{ code int }

func (e *pbErrBoom) Error() string { return fmt.Sprintf("boom %d", e.code) }

// Items go to the route of their key, with "route" (as K), "processor" and
// "timestamp" added over the item's own metadata.
func TestSwitchRoutesWithMetadata(t *testing.T) {
	s := NewSwitchSimple[int](pbParityOf)
	even, odd := s.AddRoute("even"), s.AddRoute("odd")
	in := make(chan Result[int], 4)
	in <- NewSuccess(2).WithMetadata("src", "a").WithMetadata("route", "stale")
	in <- NewSuccess(3)
	in <- NewSuccess(4)
	close(in)
	before := time.Now()
	s.Process(t.Context(), in)

	var gotOdd []Result[int]
	done := make(chan struct{})
	go func() { gotOdd = collectResults(odd); close(done) }()
	gotEven := collectResults(even)
	<-done
	assert.Equal(t, []int{2, 4}, pbValues(gotEven))
	assert.Equal(t, []int{3}, pbValues(gotOdd))

	r := gotEven[0]
	route, _ := r.GetMetadata("route")
	assert.Equal(t, pbParity("even"), route, "route must hold the key as K")
	src, _ := r.GetMetadata("src")
	assert.Equal(t, "a", src)
	proc, _, err := r.GetStringMetadata(MetadataProcessor)
	require.NoError(t, err)
	assert.Equal(t, "switch", proc)
	ts, ok, err := r.GetTimeMetadata(MetadataTimestamp)
	require.NoError(t, err)
	require.True(t, ok)
	assert.False(t, ts.Before(before))
}

// Errors bypass the predicate and go to the error channel, their
// StreamError kept, with "processor" and "timestamp" added.
func TestSwitchErrorsBypassPredicate(t *testing.T) {
	var calls atomic.Int32
	s := NewSwitchSimple[int](func(v int) pbParity { calls.Add(1); return pbParityOf(v) })
	s.AddRoute("even")
	in := make(chan Result[int], 1)
	fail := NewError(5, errors.New("bad"), "up").WithMetadata("k", "v")
	in <- fail
	close(in)
	_, errs := s.Process(t.Context(), in)
	got := collectResults(errs)
	require.Len(t, got, 1)
	assert.Same(t, fail.Error(), got[0].Error())
	k, _ := got[0].GetMetadata("k")
	assert.Equal(t, "v", k)
	proc, _ := got[0].GetMetadata(MetadataProcessor)
	assert.Equal(t, "switch", proc)
	_, ok, err := got[0].GetTimeMetadata(MetadataTimestamp)
	assert.True(t, ok)
	assert.NoError(t, err)
	assert.Zero(t, calls.Load(), "predicate saw an error item")
}

// Without a default, an item whose key has no route is dropped silently.
// With a default whose route exists, it goes there labelled with the
// default key; with a default whose route does not exist, it is dropped,
// with no recursion, and routing goes on.
func TestSwitchUnroutedItems(t *testing.T) {
	t.Run("no default: dropped", func(t *testing.T) {
		s := NewSwitchSimple[int](pbParityOf)
		even := s.AddRoute("even")
		_, errs := s.Process(t.Context(), pbFeed(1, 2, 3))
		assert.Equal(t, []int{2}, pbValues(collectResults(even)))
		assert.Empty(t, collectResults(errs))
	})
	t.Run("default route exists", func(t *testing.T) {
		def := pbParity("other")
		s := NewSwitch[int](pbParityOf, SwitchConfig[pbParity]{DefaultKey: &def, BufferSize: 10})
		def = "mutated after construction"
		even, other := s.AddRoute("even"), s.AddRoute("other")
		s.Process(t.Context(), pbFeed(1, 2, 3))
		assert.Equal(t, []int{2}, pbValues(collectResults(even)))
		got := collectResults(other)
		assert.Equal(t, []int{1, 3}, pbValues(got))
		route, _ := got[0].GetMetadata("route")
		assert.Equal(t, pbParity("other"), route)
	})
	t.Run("default route missing: dropped, no recursion", func(t *testing.T) {
		def := pbParity("other")
		s := NewSwitch[int](pbParityOf, SwitchConfig[pbParity]{DefaultKey: &def, BufferSize: 10})
		even := s.AddRoute("even")
		_, errs := s.Process(t.Context(), pbFeed(1, 2, 3, 4))
		assert.Equal(t, []int{2, 4}, pbValues(collectResults(even)))
		assert.Empty(t, collectResults(errs))
	})
}

// A panicking predicate gives an error on the error channel, named
// "switch", whose text keeps "predicate panic: " and the value; errors.As
// reaches an error value; the item's metadata is kept; routing goes on.
func TestSwitchPredicatePanic(t *testing.T) {
	sentinel := &pbErrBoom{code: 7}
	s := NewSwitch[int](func(v int) pbParity {
		switch v {
		case 1:
			panic("boom")
		case 3:
			panic(sentinel)
		}
		return pbParityOf(v)
	}, SwitchConfig[pbParity]{BufferSize: 10})
	even := s.AddRoute("even")
	in := make(chan Result[int], 4)
	in <- NewSuccess(1).WithMetadata("trace", "t1")
	in <- NewSuccess(2)
	in <- NewSuccess(3)
	in <- NewSuccess(4)
	close(in)
	_, errs := s.Process(t.Context(), in)
	assert.Equal(t, []int{2, 4}, pbValues(collectResults(even)))
	got := collectResults(errs)
	require.Len(t, got, 2)

	se := got[0].Error()
	assert.Equal(t, 1, se.Item)
	assert.Equal(t, "switch", se.ProcessorName)
	assert.Equal(t, "predicate panic: boom", se.Err.Error())
	trace, _ := got[0].GetMetadata("trace")
	assert.Equal(t, "t1", trace)
	proc, _ := got[0].GetMetadata(MetadataProcessor)
	assert.Equal(t, "switch", proc)
	_, hasTimestamp := got[0].GetMetadata(MetadataTimestamp)
	assert.True(t, hasTimestamp)

	assert.Equal(t, "predicate panic: boom 7", got[1].Error().Err.Error())
	var target *pbErrBoom
	require.ErrorAs(t, got[1].Error(), &target)
	assert.Same(t, sentinel, target)
}

// The error channel exists from construction, with capacity BufferSize, and
// is the same channel in the field, ErrorChannel and Process.
func TestSwitchErrorChannelIdentity(t *testing.T) {
	s := NewSwitch[int](pbParityOf, SwitchConfig[pbParity]{BufferSize: 3})
	require.NotNil(t, s.errorChan)
	assert.Equal(t, (<-chan Result[int])(s.errorChan), s.ErrorChannel())
	assert.Equal(t, 3, cap(s.ErrorChannel()))
	assert.Equal(t, 3, cap(s.AddRoute("even")))
	_, errs := s.Process(t.Context(), pbFeed())
	assert.Equal(t, s.ErrorChannel(), errs)
	for range errs {
	}
}

// AddRoute is idempotent; HasRoute, RouteKeys and RemoveRoute report the
// registry; RemoveRoute before Process closes the channel at once.
func TestSwitchRegistry(t *testing.T) {
	s := NewSwitchSimple[int](pbParityOf)
	assert.NotNil(t, s.RouteKeys())
	assert.Empty(t, s.RouteKeys())
	a := s.AddRoute("even")
	assert.Equal(t, a, s.AddRoute("even"))
	s.AddRoute("odd")
	assert.ElementsMatch(t, []pbParity{"even", "odd"}, s.RouteKeys())
	assert.True(t, s.HasRoute("even"))
	assert.False(t, s.HasRoute("none"))
	assert.False(t, s.RemoveRoute("none"))
	assert.True(t, s.RemoveRoute("even"))
	assert.False(t, s.HasRoute("even"))
	_, open := <-a
	assert.False(t, open, "removed route's channel left open")
	assert.NotEqual(t, a, s.AddRoute("even"), "a removed route comes back with a new channel")
}

// Nil predicates and negative buffer sizes panic at construction, naming
// the function, the argument and the value.
func TestSwitchValidation(t *testing.T) {
	assert.PanicsWithValue(t, "streamz: NewSwitch: predicate must not be nil", func() {
		NewSwitch[int, string](nil, SwitchConfig[string]{})
	})
	assert.PanicsWithValue(t, "streamz: NewSwitchSimple: predicate must not be nil", func() {
		NewSwitchSimple[int, string](nil)
	})
	assert.PanicsWithValue(t, "streamz: NewSwitch: SwitchConfig.BufferSize must not be negative, got -2", func() {
		NewSwitch[int](pbParityOf, SwitchConfig[pbParity]{BufferSize: -2})
	})
}

// When the input closes, every registered route and the error channel are
// closed; the routes stay registered.
func TestSwitchCloseClosesEverything(t *testing.T) {
	s := NewSwitchSimple[int](pbParityOf)
	even, odd := s.AddRoute("even"), s.AddRoute("odd")
	_, errs := s.Process(t.Context(), pbFeed())
	pbAllClosedPlain(even, odd, errs)
	assert.True(t, s.HasRoute("even"))
}

// Cancel closes every route and the error channel, with the input idle and
// open and nobody reading, or with a send blocked; the predicate is never
// called once ctx has ended.
func TestSwitchCancel(t *testing.T) {
	t.Run("input idle and open, no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			s := NewSwitchSimple[int](pbParityOf)
			even, odd := s.AddRoute("even"), s.AddRoute("odd")
			_, errs := s.Process(ctx, make(chan Result[int]))
			synctest.Wait()
			cancel()
			pbAllClosed(t, even, odd, errs)
		})
	})
	t.Run("blocked sending", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			s := NewSwitchSimple[int](pbParityOf)
			even := s.AddRoute("even")
			in := make(chan Result[int])
			_, errs := s.Process(ctx, in)
			bubbleSend(t, in, NewSuccess(2))
			cancel()
			synctest.Wait()
			assert.Empty(t, collectResults(even))
			pbAllClosed(t, errs)
		})
	})
	t.Run("no predicate call after cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			var calls atomic.Int32
			s := NewSwitchSimple[int](func(v int) pbParity { calls.Add(1); return "even" })
			even := s.AddRoute("even")
			_, errs := s.Process(ctx, pbFeed(1, 2, 3))
			pbAllClosed(t, even, errs)
			assert.Zero(t, calls.Load())
		})
	})
}

// ---------------------------------------------------------------------------
// Lifecycle hazards of the previous Switch, one test each.
// ---------------------------------------------------------------------------

// RemoveRoute while the Switch is blocked sending on that route: no "send on
// closed channel"; the item in flight is dropped, the route's channel
// closes, and routing goes on.
func TestSwitchHazardRemoveRouteDuringSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewSwitchSimple[int](pbParityOf)
		even, odd := s.AddRoute("even"), s.AddRoute("odd")
		in := make(chan Result[int])
		_, errs := s.Process(t.Context(), in)
		bubbleSend(t, in, NewSuccess(2)) // blocked sending on even
		require.True(t, s.RemoveRoute("even"))
		bubbleClosed(t, even)
		bubbleSend(t, in, NewSuccess(3))
		requireSuccessValue(t, bubbleRecv(t, odd), 3)
		bubbleSend(t, in, NewSuccess(4)) // no route any more: dropped
		close(in)
		pbAllClosed(t, odd, errs)
	})
}

// RemoveRoute while the input is idle closes the route's channel promptly.
func TestSwitchHazardRemoveRouteWhileIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s := NewSwitchSimple[int](pbParityOf)
		even := s.AddRoute("even")
		s.Process(ctx, make(chan Result[int]))
		synctest.Wait()
		require.True(t, s.RemoveRoute("even"))
		bubbleClosed(t, even)
	})
}

// RemoveRoute after the Switch has finished: no "close of closed channel".
func TestSwitchHazardRemoveRouteAfterFinish(t *testing.T) {
	s := NewSwitchSimple[int](pbParityOf)
	even := s.AddRoute("even")
	_, errs := s.Process(t.Context(), pbFeed())
	pbAllClosedPlain(even, errs)
	assert.NotPanics(t, func() { assert.True(t, s.RemoveRoute("even")) })
	assert.False(t, s.HasRoute("even"))
}

// AddRoute after the Switch has finished returns a closed channel, for a
// new key and for an existing one, so a consumer ranging over it ends.
func TestSwitchHazardAddRouteAfterFinish(t *testing.T) {
	s := NewSwitchSimple[int](pbParityOf)
	even := s.AddRoute("even")
	_, errs := s.Process(t.Context(), pbFeed())
	pbAllClosedPlain(even, errs)
	for _, key := range []pbParity{"even", "odd"} {
		ch := s.AddRoute(key)
		select {
		case _, ok := <-ch:
			assert.False(t, ok, "route %q", key)
		default:
			t.Fatalf("AddRoute(%q) after finish returned an open channel", key)
		}
		assert.Equal(t, ch, s.AddRoute(key), "AddRoute stays idempotent")
	}
}

// A second Process call panics at the call with a clear message, whether the
// first is still running or has finished.
func TestSwitchHazardSecondProcess(t *testing.T) {
	const msg = "streamz: Switch.Process: called a second time; a Switch routes a single stream"
	ctx, cancel := context.WithCancel(t.Context())
	s := NewSwitchSimple[int](pbParityOf)
	_, errs := s.Process(ctx, make(chan Result[int]))
	assert.PanicsWithValue(t, msg, func() { s.Process(ctx, make(chan Result[int])) })
	cancel()
	for range errs {
	}
	assert.PanicsWithValue(t, msg, func() { s.Process(t.Context(), make(chan Result[int])) })
}

// The routes map from Process holds the routes registered at the call, and
// only those.
func TestSwitchHazardRoutesMap(t *testing.T) {
	s := NewSwitchSimple[int](pbParityOf)
	even := s.AddRoute("even")
	ctx, cancel := context.WithCancel(t.Context())
	routes, errs := s.Process(ctx, make(chan Result[int]))
	odd := s.AddRoute("odd")
	require.Len(t, routes, 1)
	assert.Equal(t, even, routes["even"])
	cancel()
	pbAllClosedPlain(even, odd, errs)
}

// A default key with no route drops the item instead of recursing (the
// previous Switch died of a stack overflow).
func TestSwitchHazardDefaultWithoutRoute(t *testing.T) {
	def := pbParity("missing")
	s := NewSwitch[int](func(int) pbParity { return "nowhere" }, SwitchConfig[pbParity]{DefaultKey: &def})
	_, errs := s.Process(t.Context(), pbFeed(1, 2))
	done := make(chan []Result[int])
	go func() { done <- collectResults(errs) }()
	select {
	case got := <-done:
		assert.Empty(t, got)
	case <-time.After(pbGuard):
		t.Fatal("the Switch is stuck on an item whose default route is missing")
	}
}

// A route added while running is routed to.
func TestSwitchAddRouteWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewSwitchSimple[int](pbParityOf)
		in := make(chan Result[int])
		_, errs := s.Process(t.Context(), in)
		bubbleSend(t, in, NewSuccess(2)) // no route yet: dropped
		even := s.AddRoute("even")
		bubbleSend(t, in, NewSuccess(4))
		requireSuccessValue(t, bubbleRecv(t, even), 4)
		close(in)
		pbAllClosed(t, even, errs)
	})
}

// Plain style: Debounce -> Switch -> Batcher on one FakeClock, the route
// added while the Switch runs.
func TestSwitchSettlesBetweenClockedStages(t *testing.T) {
	const d = 100 * time.Millisecond
	for i := range pbPlainIterations {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in := make(chan Result[int])
		s := NewSwitchSimple[int](pbParityOf)
		_, errs := s.Process(ctx, NewDebounce[int](d, clk).Process(ctx, in))
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: 3 * d / 2}, clk).Process(ctx, s.AddRoute("even"))

		in <- NewSuccess(2)
		clk.Advance(d) // 2 reaches Batcher at t = d: due at 2.5d
		in <- NewSuccess(4)
		clk.Advance(d) // 4 joins at 2d
		clk.Advance(d / 2)
		require.Equal(t, []int{2, 4}, pbBatch(t, out), "iteration %d", i)
		cancel()
		pbAllClosedPlain(out)
		pbAllClosedPlain(errs)
	}
}

// Plain style, with the Switch joined to the clocked stage only through a
// route added while it runs: the settle must see that route.
func TestSwitchSettlesThroughLateRoute(t *testing.T) {
	const d = 100 * time.Millisecond
	for i := range pbPlainIterations {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in := make(chan Result[int])
		s := NewSwitchSimple[int](pbParityOf)
		_, errs := s.Process(ctx, in)
		out := NewBatcher[int](BatchConfig{MaxSize: 10, MaxLatency: d}, clk).Process(ctx, s.AddRoute("even"))

		in <- NewSuccess(2)
		clk.Advance(d / 2) // 2 reached Batcher at t = 0: due at d
		in <- NewSuccess(4)
		clk.Advance(d / 2) // 4 joins at d/2
		require.Equal(t, []int{2, 4}, pbBatch(t, out), "iteration %d", i)
		cancel()
		pbAllClosedPlain(out)
		pbAllClosedPlain(errs)
	}
}
