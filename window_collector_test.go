//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func winDescribeCollection(c WindowCollection[int], base time.Time) string {
	key := ""
	if c.Meta.SessionKey != nil {
		key = *c.Meta.SessionKey
	}
	return fmt.Sprintf("%s[%v,%v)%s %v E%d", c.Meta.Type, c.Start.Sub(base), c.End.Sub(base), key, c.Values(), c.ErrorCount())
}

// D5: sessions with the same bounds but different keys stay apart, and
// collections come out at close in order of End, then Start.
func TestWindowCollector_KeepsSessionsApartAndOrders(t *testing.T) {
	for i := range 50 {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			in := make(chan Result[int])
			sessions := NewSessionWindow(winKeyFunc, nil).WithGap(time.Second).Process(t.Context(), in)
			out := NewWindowCollector[int]().Process(t.Context(), sessions)
			winAt(in, 10)
			winAt(in, 11)
			winAt(in, 12)
			winAt(in, 20)
			time.Sleep(500 * time.Millisecond)
			in <- NewError(31, errors.New("boom"), "x")
			close(in)
			var got []string
			for c := range out {
				got = append(got, winDescribeCollection(c, start))
			}
			require.Equal(t, []string{
				"session[0s,1s)k0 [10 20] E0",
				"session[0s,1s)k2 [12] E0",
				"session[0s,1.5s)k1 [11] E1",
			}, got, "run %d", i)
		})
	}
}

func TestWindowCollector_OrderAcrossWindows(t *testing.T) {
	base := time.Unix(0, 0)
	mk := func(v int, s, e time.Duration, typ string) Result[int] {
		return AddWindowMetadata(NewSuccess(v), WindowMetadata{Start: base.Add(s), End: base.Add(e), Type: typ})
	}
	in := make(chan Result[int], 10)
	in <- mk(1, 2, 4, "tumbling")
	in <- mk(2, 1, 4, "sliding")
	in <- mk(3, 0, 2, "tumbling")
	in <- mk(4, 2, 4, "tumbling")
	in <- mk(5, 2, 4, "sliding") // same bounds, other type: apart
	in <- NewSuccess(6)          // no metadata: skipped
	in <- NewError(7, errors.New("x"), "y")
	close(in)
	var got []string
	for _, c := range winCollect(t, NewWindowCollector[int]().Process(context.Background(), in)) {
		got = append(got, winDescribeCollection(c, base))
	}
	assert.Equal(t, []string{
		"tumbling[0s,2ns) [3] E0",
		"sliding[1ns,4ns) [2] E0",
		"tumbling[2ns,4ns) [1 4] E0",
		"sliding[2ns,4ns) [5] E0",
	}, got)
}

func TestWindowCollection_Methods(t *testing.T) {
	var empty WindowCollection[int]
	assert.Nil(t, empty.Values())
	assert.Nil(t, empty.Errors())
	assert.Zero(t, empty.Count())
	e := NewError(2, errors.New("x"), "y")
	c := WindowCollection[int]{Results: []Result[int]{NewSuccess(1), e, NewSuccess(3)}}
	assert.Equal(t, []int{1, 3}, c.Values())
	assert.Equal(t, []*StreamError[int]{e.Error()}, c.Errors())
	assert.Equal(t, 3, c.Count())
	assert.Equal(t, 2, c.SuccessCount())
	assert.Equal(t, 1, c.ErrorCount())
	assert.Nil(t, WindowCollection[int]{Results: []Result[int]{e}}.Values())
	assert.Nil(t, WindowCollection[int]{Results: []Result[int]{NewSuccess(1)}}.Errors())
}

// Cancel closes the collector's output without emitting, with nobody
// reading.
func TestWindowCollector_CancelWithNoReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan Result[int], 1)
		out := NewWindowCollector[int]().Process(ctx, in)
		in <- AddWindowMetadata(NewSuccess(1), WindowMetadata{Type: "tumbling"})
		synctest.Wait()
		cancel()
		synctest.Wait()
		select {
		case c, ok := <-out:
			require.False(t, ok, "emitted %v after cancel", c)
		default:
			t.Fatal("the output is still open after cancel")
		}
	})
}
