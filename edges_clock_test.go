package streamz

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An Advance that fires a timer and then has no other timer before its
// target must settle at the firing instant, so that a consumer sees the
// output the firing caused at that instant, not at the target.
func TestEdgeFakeClockSettlesAtLastFiring(t *testing.T) {
	const d = 100 * time.Millisecond
	fc := NewFakeClock()
	start := fc.Now()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := make(chan Result[int])
	out := NewDebounce[int](d, fc).Process(ctx, in)

	// A collector on the loop machinery, so that settling waits for it.
	lp := newLoop(ctx, "test", nil, out)
	stamps := make(chan time.Duration, 10)
	go func() {
		defer lp.exit()
		for {
			_, ok, _, stop := receive[Result[int]](lp, nil, out)
			if stop || !ok {
				close(stamps)
				return
			}
			stamps <- fc.Since(start)
		}
	}()
	in <- NewSuccess(1)
	fc.Advance(3 * d) // the deadline is at d, the target at 3d
	select {
	case at := <-stamps:
		require.Equal(t, d, at, "the output was seen at the target, not at the firing")
	default:
		t.Fatal("no output after Advance returned")
	}
	close(in)
	for range stamps {
	}
}
