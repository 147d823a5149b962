package jetstreamz

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
)

// stage is a pipeline between the Source and a sink that acks whatever
// comes out: it returns every output that carries messages.
type stage func(ctx context.Context, in <-chan streamz.Result[Msg[int]]) []<-chan streamz.Result[Msg[int]]

// one makes a stage of a processor with a single output.
func one(process func(context.Context, <-chan streamz.Result[Msg[int]]) <-chan streamz.Result[Msg[int]]) stage {
	return func(ctx context.Context, in <-chan streamz.Result[Msg[int]]) []<-chan streamz.Result[Msg[int]] {
		return []<-chan streamz.Result[Msg[int]]{process(ctx, in)}
	}
}

// Every message that a processor drops on purpose is acked: the pipeline
// drains and the ack floor reaches the last message, although the sink
// acks only what comes out.
func TestDiscardedMessagesAreAcked(t *testing.T) {
	const total = 30
	isEven := func(m Msg[int]) bool { return m.Value%2 == 0 }
	gapClock := streamz.NewFakeClock()
	for _, c := range []struct {
		name  string
		stage stage
		// gap, if not nil, is moved on after the first message, into a
		// gap between windows, before the others are published.
		gap *streamz.FakeClock
	}{
		{"Filter", one(streamz.NewFilter(isEven).Process), nil},
		{"Throttle", one(streamz.NewThrottle[Msg[int]](time.Hour, nil).Process), nil},
		{"Debounce", one(streamz.NewDebounce[Msg[int]](time.Hour, nil).Process), nil},
		{"Sample", one(streamz.NewSample[Msg[int]](0.5).Process), nil},
		// A second's window every hour: the first message is in one, the
		// others in the gap after it.
		{"SlidingWindowGap", one(streamz.NewSlidingWindow[Msg[int]](time.Second, gapClock).WithSlide(time.Hour).Process), gapClock},
		{"SwitchUnrouted", func(ctx context.Context, in <-chan streamz.Result[Msg[int]]) []<-chan streamz.Result[Msg[int]] {
			sw := streamz.NewSwitchSimple(isEven)
			sw.AddRoute(true) // the odd messages have no route
			routes, errs := sw.Process(ctx, in)
			return []<-chan streamz.Result[Msg[int]]{routes[true], errs}
		}, nil},
		{"KeyedThrottle", one(streamz.NewKeyedThrottle(time.Hour, func(m Msg[int]) int { return m.Value % 3 }, nil).Process), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Hour})
			published := total
			if c.gap != nil {
				published = 1
			}
			publish(t, b.js, 1, published)
			stop, stopNow := context.WithCancel(context.Background())
			ctx, cancel := streamz.WithGrace(stop, testWait, nil)
			defer cancel()
			src := NewSource(b.cons, decodeInt, Config{MaxInFlight: total})
			var handedOn atomic.Int64
			counted := streamz.NewTap(func(streamz.Result[Msg[int]]) { handedOn.Add(1) }).Process(ctx, src.Process(ctx, stop))
			var sinks sync.WaitGroup
			for _, out := range c.stage(ctx, counted) {
				sinks.Go(func() {
					for m := range streamz.All(out) {
						m.Ack()
					}
				})
			}
			if c.gap != nil {
				waitUntil(t, "the first message handed to the stage", func() bool { return handedOn.Load() == 1 },
					func() string { return fmt.Sprint(handedOn.Load()) })
				c.gap.Advance(2 * time.Second)
				b.waitInfo(t, "the first window's message acked", drained(1))
				publish(t, b.js, 2, total)
			}
			waitUntil(t, "every message handed to the stage", func() bool { return handedOn.Load() == total },
				func() string { return fmt.Sprint(handedOn.Load()) })
			stopNow()
			sinks.Wait()
			// Every message the stage passed on has been acked by the sink:
			// the others, it dropped.
			info := b.waitInfo(t, "every message acked", drained(total))
			if info.NumRedelivered != 0 {
				t.Fatalf("%d messages were redelivered", info.NumRedelivered)
			}
			waitDone(t, src)
		})
	}
}
