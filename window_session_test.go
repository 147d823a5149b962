//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// D6: a session goes out at exactly lastActivity + gap, with its metadata.
func TestSessionWindow_EmitsAtExactlyLastPlusGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		in := make(chan Result[int])
		out := NewSessionWindow(winKeyFunc, nil).WithGap(100*time.Millisecond).Process(t.Context(), in)
		winAt(in, 10)
		time.Sleep(60 * time.Millisecond)
		winAt(in, 20)
		time.Sleep(100*time.Millisecond - time.Nanosecond)
		winNothingYet(t, out)
		a, b := <-out, <-out
		assert.Equal(t, 160*time.Millisecond, time.Since(start))
		assert.Equal(t, []string{"10@[0s,160ms)k0", "20@[0s,160ms)k0"}, winDescribe(t, []Result[int]{a, b}, start))
		meta, err := GetWindowMetadata(a)
		require.NoError(t, err)
		require.NotNil(t, meta.Gap)
		assert.Equal(t, 100*time.Millisecond, *meta.Gap)
		close(in)
		assert.Empty(t, collectResults(out))
	})
}

// D6: an item that arrives at or after lastActivity + gap starts a new
// session, and the old one goes out first, in the plain style.
func TestSessionWindow_NoStaleJoin(t *testing.T) {
	for _, after := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond} {
		fc := NewFakeClock()
		base := fc.Now()
		in := make(chan Result[int])
		out := NewSessionWindow(winKeyFunc, fc).WithGap(100*time.Millisecond).Process(context.Background(), in)
		in <- NewSuccess(10)
		fc.Advance(after)
		first := winRecv(t, out)
		in <- NewSuccess(20)
		close(in)
		got := append([]Result[int]{first}, winCollect(t, out)...)
		assert.Equal(t, []string{"10@[0s,100ms)k0", "20@[" + after.String() + "," + (after + 100*time.Millisecond).String() + ")k0"}, winDescribe(t, got, base))
	}
}

// D10: sessions that end together go out in the order they were opened,
// both at their end and at close, every run.
func TestSessionWindow_DeterministicOrder(t *testing.T) {
	for i := range 100 {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			in := make(chan Result[int])
			out := NewSessionWindow(winKeyFunc, nil).WithGap(time.Second).Process(t.Context(), in)
			// k2, k1 and k0 open at 0 in that order; k1 and k2 get another
			// item at 0 in the other order: all end at 1s.
			for _, v := range []int{12, 11, 10, 21, 22} {
				winAt(in, v)
			}
			var got []Result[int]
			for range 5 {
				got = append(got, <-out)
			}
			require.Equal(t, []string{"12@[0s,1s)k2", "22@[0s,1s)k2", "11@[0s,1s)k1", "21@[0s,1s)k1", "10@[0s,1s)k0"}, winDescribe(t, got, start), "run %d", i)
			// At close: k1 opened before k0, and k0 ends later.
			winAt(in, 31)
			winAt(in, 40)
			time.Sleep(time.Millisecond)
			winAt(in, 51)
			close(in)
			got = collectResults(out)
			require.Equal(t, []string{"40@[1s,2s)k0", "31@[1s,2.001s)k1", "51@[1s,2.001s)k1"}, winDescribe(t, got, start), "run %d", i)
		})
	}
}

// keyFunc sees error Results, and errors extend sessions.
func TestSessionWindow_KeyFuncSeesErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var keyed []bool
		in := make(chan Result[int])
		out := NewSessionWindow(func(r Result[int]) string {
			keyed = append(keyed, r.IsError())
			return winKeyFunc(r)
		}, nil).WithGap(time.Second).Process(t.Context(), in)
		winAt(in, 10)
		time.Sleep(900 * time.Millisecond)
		in <- NewError(20, errors.New("boom"), "x")
		synctest.Wait()
		got := []Result[int]{<-out, <-out}
		assert.Equal(t, 1900*time.Millisecond, time.Since(start))
		assert.Equal(t, []string{"10@[0s,1.9s)k0", "E20@[0s,1.9s)k0"}, winDescribe(t, got, start))
		assert.Equal(t, []bool{false, true}, keyed)
		close(in)
		assert.Empty(t, collectResults(out))
	})
}

// A keyFunc that panics turns its item into an error Result at once,
// and the stream goes on.
func TestSessionWindow_KeyFuncPanicIsAnErrorResult(t *testing.T) {
	boom := errors.New("boom")
	keyFunc := func(r Result[int]) string {
		if r.Value() == 2 {
			panic(boom)
		}
		return "k"
	}
	fc := NewFakeClock()
	base := fc.Now()
	in := make(chan Result[int])
	out := NewSessionWindow(keyFunc, fc).WithGap(100*time.Millisecond).WithName("sessions").Process(context.Background(), in)
	in <- NewSuccess(1).WithMetadata("source", "a")
	fc.Advance(100 * time.Millisecond)
	assert.Equal(t, []string{"1@[0s,100ms)k"}, winDescribe(t, []Result[int]{winRecv(t, out)}, base))
	in <- NewSuccess(2).WithMetadata("source", "b")
	failed := winRecv(t, out)
	require.True(t, failed.IsError())
	assert.Equal(t, 2, failed.Error().Item)
	assert.Equal(t, "sessions", failed.Error().ProcessorName)
	assert.EqualError(t, failed.Error().Err, "keyFunc panicked: boom")
	assert.ErrorIs(t, failed.Error(), boom)
	source, _ := failed.GetMetadata("source")
	assert.Equal(t, "b", source)
	in <- NewSuccess(3)
	close(in)
	assert.Equal(t, []string{"3@[100ms,200ms)k"}, winDescribe(t, winCollect(t, out), base))
}
