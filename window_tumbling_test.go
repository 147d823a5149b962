//go:build go1.25

package streamz

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// winAt sends v at the bubble's current time and returns when the loop has
// taken it.
func winAt(in chan<- Result[int], v int) {
	in <- NewSuccess(v)
	synctest.Wait()
}

// winNothingYet fails if an output is ready.
func winNothingYet(t *testing.T, out <-chan Result[int]) {
	t.Helper()
	synctest.Wait()
	select {
	case r := <-out:
		t.Fatalf("unexpected output %v", r)
	default:
	}
}

// A window goes out at exactly its End, not before (and not at a later
// poll), with RealClock in a bubble.
func TestTumblingWindow_EmitsAtExactlyEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		in := make(chan Result[int])
		out := NewTumblingWindow[int](100*time.Millisecond, nil).Process(t.Context(), in)
		time.Sleep(30 * time.Millisecond)
		winAt(in, 1)
		time.Sleep(70*time.Millisecond - time.Nanosecond)
		winNothingYet(t, out)
		r := <-out
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Equal(t, []string{"1@[0s,100ms)"}, winDescribe(t, []Result[int]{r}, start))
		close(in)
		assert.Empty(t, collectResults(out))
	})
}

// D3: the grid is fixed. A consumer that holds up a window's emission does
// not move the next window: an item received at 160ms, after a window that
// went out at 150ms, is in [100ms, 200ms) and goes out at 200ms.
func TestTumblingWindow_NoDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		in := make(chan Result[int])
		out := NewTumblingWindow[int](100*time.Millisecond, nil).Process(t.Context(), in)
		winAt(in, 1)
		winAt(in, 2)
		time.Sleep(150 * time.Millisecond) // window 1 is due at 100ms; nobody reads until 150ms
		first := []Result[int]{<-out, <-out}
		time.Sleep(10 * time.Millisecond)
		winAt(in, 3)
		r := <-out
		assert.Equal(t, 200*time.Millisecond, time.Since(start))
		assert.Equal(t, []string{"1@[0s,100ms)", "2@[0s,100ms)", "3@[100ms,200ms)"}, winDescribe(t, append(first, r), start))
		close(in)
		assert.Empty(t, collectResults(out))
	})
}

// D7: the grid is anchored in Process, before it returns, so an Advance
// right after Process does not move it.
func TestTumblingWindow_AnchoredInProcess(t *testing.T) {
	for i := range 200 {
		fc := NewFakeClock()
		base := fc.Now()
		ctx, cancel := context.WithCancel(context.Background())
		in := make(chan Result[int])
		out := NewTumblingWindow[int](time.Second, fc).Process(ctx, in)
		fc.Advance(300 * time.Millisecond)
		in <- NewSuccess(1)
		close(in)
		got := winDescribe(t, winCollect(t, out), base)
		cancel()
		require.Equal(t, []string{"1@[0s,1s)"}, got, "run %d", i)
	}
}

// Closing the input emits the partial window at once, with its planned
// End, in the plain style.
func TestTumblingWindow_CloseEmitsPartialWindow(t *testing.T) {
	fc := NewFakeClock()
	base := fc.Now()
	in := make(chan Result[int])
	out := NewTumblingWindow[int](time.Second, fc).Process(context.Background(), in)
	in <- NewSuccess(1)
	fc.Advance(time.Second)
	r := winRecv(t, out)
	fc.Advance(200 * time.Millisecond)
	in <- NewSuccess(2)
	in <- NewSuccess(3)
	close(in)
	rest := winCollect(t, out)
	assert.Equal(t, []string{"1@[0s,1s)", "2@[1s,2s)", "3@[1s,2s)"}, winDescribe(t, append([]Result[int]{r}, rest...), base))
}
