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

// winSlide plays items at the given times (ms after Process) through a
// sliding window, closes the input at closeAt, and returns every output
// with the time it came out.
func winSlide(t *testing.T, size, slide time.Duration, at []int, closeAt int) []string {
	var got []string
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		in := make(chan Result[int])
		out := NewSlidingWindow[int](size, nil).WithSlide(slide).Process(t.Context(), in)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for r := range out {
				got = append(got, winDescribe(t, []Result[int]{r}, start)[0]+"@"+time.Since(start).String())
			}
		}()
		for _, ms := range at {
			time.Sleep(time.Duration(ms)*time.Millisecond - time.Since(start))
			winAt(in, ms)
		}
		time.Sleep(time.Duration(closeAt)*time.Millisecond - time.Since(start))
		close(in)
		<-done
	})
	return got
}

// D4a: an item joins every grid window that contains it, even windows no
// earlier item opened; each window goes out at exactly its End.
func TestSlidingWindow_SparseItemJoinsAllItsWindows(t *testing.T) {
	got := winSlide(t, 100*time.Millisecond, 50*time.Millisecond, []int{0, 130}, 500)
	assert.Equal(t, []string{
		"0@[0s,100ms)@100ms",
		"130@[50ms,150ms)@150ms",
		"130@[100ms,200ms)@200ms",
	}, got)
}

// D4b: with slide > size, an item in a gap between windows is dropped, and
// no window is made that does not contain its item.
func TestSlidingWindow_SlideGreaterThanSizeDropsGapItems(t *testing.T) {
	// Upstream put 160 in [100ms, 150ms), which does not contain it, and
	// lost 60 and 70 only by accident of which window existed.
	got := winSlide(t, 50*time.Millisecond, 100*time.Millisecond, []int{0, 60, 70, 120, 160}, 500)
	assert.Equal(t, []string{"0@[0s,50ms)@50ms", "120@[100ms,150ms)@150ms"}, got)
}

// The grid is anchored at the first item, not at Process.
func TestSlidingWindow_AnchoredAtFirstItem(t *testing.T) {
	got := winSlide(t, 100*time.Millisecond, 50*time.Millisecond, []int{30, 90}, 500)
	assert.Equal(t, []string{
		"30@[30ms,130ms)@130ms", "90@[30ms,130ms)@130ms",
		"90@[80ms,180ms)@180ms",
	}, got)
}

// D10: windows flushed together go out in order of End, then Start, each
// contiguous and in arrival order, every run.
func TestSlidingWindow_DeterministicFlushOrder(t *testing.T) {
	want := []string{
		"0@[0s,100ms)@120ms", "60@[0s,100ms)@120ms",
		"60@[50ms,150ms)@120ms", "120@[50ms,150ms)@120ms",
		"120@[100ms,200ms)@120ms",
	}
	for i := range 50 {
		// Closed at 120ms, so all three windows are flushed at once.
		got := winSlide(t, 100*time.Millisecond, 50*time.Millisecond, []int{0, 60, 120}, 120)
		// [0,100) is due at 100ms, before the close: it goes out then.
		want[0], want[1] = "0@[0s,100ms)@100ms", "60@[0s,100ms)@100ms"
		require.Equal(t, want, got, "run %d", i)
	}
}

// An item received at exactly a window's End is not in that window.
func TestSlidingWindow_ItemAtEndGoesToLaterWindows(t *testing.T) {
	got := winSlide(t, 100*time.Millisecond, 50*time.Millisecond, []int{0, 100}, 100)
	assert.Equal(t, []string{
		"0@[0s,100ms)@100ms",
		"100@[50ms,150ms)@100ms",
		"100@[100ms,200ms)@100ms",
	}, got)
}

// The plain style: nothing between the ops.
func TestSlidingWindow_PlainStyle(t *testing.T) {
	fc := NewFakeClock()
	base := fc.Now()
	in := make(chan Result[int])
	out := NewSlidingWindow[int](4*time.Second, fc).WithSlide(2*time.Second).Process(context.Background(), in)
	in <- NewSuccess(1)
	fc.Advance(3 * time.Second)
	in <- NewSuccess(2)
	fc.Advance(time.Second)
	got := []Result[int]{winRecv(t, out), winRecv(t, out)}
	close(in)
	got = append(got, winCollect(t, out)...)
	assert.Equal(t, []string{"1@[0s,4s)", "2@[0s,4s)", "2@[2s,6s)"}, winDescribe(t, got, base))
}
