//go:build go1.25

package streamz

// Tests of drainOnCancel: the plain send that loops not settled by a
// FakeClock wait in, and the drainer that releases it on cancel. Most tests
// of this package create a FakeClock, after which every loop registers for
// settling and never takes this path, so these tests hide the FakeClock
// for their duration.

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// ppWithoutFakeClock makes Process calls in t behave as in a program that
// never created a FakeClock: their loops do not register.
func ppWithoutFakeClock(t *testing.T) {
	prev := fakeClockCreated.Swap(false)
	t.Cleanup(func() { fakeClockCreated.Store(prev) })
}

// Only an unregistered loop whose outputs are all unbuffered sends plainly.
func TestDrainOnCancel_WhenItApplies(t *testing.T) {
	ppWithoutFakeClock(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	unbuffered, buffered := make(chan int), make(chan int, 1)

	lp := newLoop(ctx, nil, unbuffered)
	drainOnCancel(ctx, lp, unbuffered)
	require.True(t, lp.plainSend)
	require.Len(t, lp.stopDrains, 1)
	lp.exit()

	lp = newLoop(ctx, nil, unbuffered, buffered)
	drainOnCancel(ctx, lp, unbuffered, buffered)
	require.False(t, lp.plainSend, "a buffered output's items must stay readable after cancel")
	lp.exit()

	lp = newLoop(context.Background(), nil, unbuffered)
	drainOnCancel(context.Background(), lp, unbuffered)
	require.True(t, lp.plainSend)
	require.Empty(t, lp.stopDrains, "a ctx that never ends needs no drainer")
	lp.exit()

	lp = newLoop(ctx, NewFakeClock(), unbuffered)
	drainOnCancel(ctx, lp, unbuffered)
	require.False(t, lp.plainSend, "a registered loop must answer settle requests while blocked in send")
	lp.exit()
}

// A plain send that nobody reads is released by cancel, and exit withdraws
// a drainer that has not started.
func TestDrainOnCancel_ReleasesASendAndIsWithdrawnAtExit(t *testing.T) {
	ppWithoutFakeClock(t)
	t.Run("released on cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			out := make(chan int)
			lp := newLoop(ctx, nil, out)
			drainOnCancel(ctx, lp, out)
			sent := make(chan bool)
			go func() { sent <- send(lp, out, 1) }()
			synctest.Wait() // blocked: nobody reads
			cancel()
			<-sent
			require.False(t, send(lp, out, 2), "a send after cancel must report the end")
			close(out) // ends the drainer
			lp.exit()
		})
	})
	t.Run("withdrawn at exit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			out := make(chan int)
			lp := newLoop(ctx, nil, out)
			drainOnCancel(ctx, lp, out)
			lp.exit()
			cancel()
			synctest.Wait()
			select {
			case out <- 1:
				t.Fatal("a drainer ran after exit")
			default:
			}
		})
	})
}

// Every processor that sends plainly still closes its outputs promptly on
// cancel, with the input idle or nobody reading, and leaves no goroutine.
func TestDrainOnCancel_ProcessorsCloseOnCancel(t *testing.T) {
	ppWithoutFakeClock(t)
	stages := []struct {
		name string
		st   paStage[int]
	}{
		{"Mapper", NewMapper(paIdentity).Process},
		{"Filter", NewFilter(func(int) bool { return true }).Process},
		{"Tap", NewTap(func(Result[int]) {}).Process},
		{"Sample", NewSample[int](1).Process},
		{"Buffer(0)", NewBuffer[int](0).Process},
		{"FanIn", func(ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewFanIn[int]().Process(ctx, in, make(chan Result[int]))
		}},
		{"FanOut", func(ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
			return NewFanOut[int](2).Process(ctx, in)[0]
		}},
	}
	for _, s := range stages {
		t.Run(s.name, func(t *testing.T) { paCancelTests(t, s.st, NewSuccess(1)) })
	}
}
