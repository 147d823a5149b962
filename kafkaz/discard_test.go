package kafkaz_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

type msgs = <-chan streamz.Result[kafkaz.Msg[string]]

// ackAll is a sink that acks every Msg it receives.
func ackAll(in msgs) {
	for m := range streamz.All(in) {
		m.Ack()
	}
}

func number(m kafkaz.Msg[string]) int {
	n, _ := strconv.Atoi(m.Value)
	return n
}

// Each processor that drops items on purpose settles them as Discarded, so
// a pipeline whose sink acks only what comes out drains completely, and the
// committed offset reaches the last record.
func TestDiscardsAreCommitted(t *testing.T) {
	const total = 20
	for _, tc := range []struct {
		name string
		// pipeline returns the processor's output.
		pipeline func(ctx context.Context, in msgs, clock *streamz.FakeClock) msgs
		// drive moves the clock once every record has arrived, for the
		// processors that emit on time.
		drive func(clock *streamz.FakeClock)
	}{
		{name: "Filter", pipeline: func(ctx context.Context, in msgs, _ *streamz.FakeClock) msgs {
			return streamz.NewFilter(func(m kafkaz.Msg[string]) bool { return number(m)%2 == 0 }).Process(ctx, in)
		}},
		{name: "Throttle", pipeline: func(ctx context.Context, in msgs, clock *streamz.FakeClock) msgs {
			return streamz.NewThrottle[kafkaz.Msg[string]](time.Hour, clock).Process(ctx, in)
		}},
		{name: "Debounce", pipeline: func(ctx context.Context, in msgs, clock *streamz.FakeClock) msgs {
			return streamz.NewDebounce[kafkaz.Msg[string]](time.Second, clock).Process(ctx, in)
		}, drive: func(clock *streamz.FakeClock) { clock.Advance(time.Second) }},
		{name: "Sample", pipeline: func(ctx context.Context, in msgs, _ *streamz.FakeClock) msgs {
			return streamz.NewSample[kafkaz.Msg[string]](0.5).Process(ctx, in)
		}},
		{name: "Switch", pipeline: func(ctx context.Context, in msgs, _ *streamz.FakeClock) msgs {
			sw := streamz.NewSwitchSimple(func(m kafkaz.Msg[string]) bool { return number(m)%2 == 0 })
			even := sw.AddRoute(true)
			_, errs := sw.Process(ctx, in)
			go ackAll(errs)
			return even
		}},
		{name: "KeyedThrottle", pipeline: func(ctx context.Context, in msgs, clock *streamz.FakeClock) msgs {
			return streamz.NewKeyedThrottle(time.Hour, func(m kafkaz.Msg[string]) int { return number(m) % 3 }, clock).Process(ctx, in)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			topic, addrs := seeded(t, 1, total)
			clock := streamz.NewFakeClock()
			arrived := make(chan struct{}, total)
			startSource(t, kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: 10 * time.Millisecond}, clientOpts(addrs, "g", topic),
				func(ctx context.Context, _ kafkaz.Partition, in msgs) {
					counted := streamz.NewTap(func(streamz.Result[kafkaz.Msg[string]]) { arrived <- struct{}{} }).Process(ctx, in)
					ackAll(tc.pipeline(ctx, counted, clock))
				})
			for range total {
				<-arrived
			}
			if tc.drive != nil {
				tc.drive(clock)
			}
			waitCommitted(t, addrs, "g", topic, 0, total)
		})
	}
}

// A SlidingWindow whose slide is longer than its size drops what arrives in
// the gap between windows, as Discarded.
func TestSlidingWindowGapIsCommitted(t *testing.T) {
	checkLeaks(t)
	topic := topicName(t)
	addrs := newCluster(t, 1, topic)
	clock := streamz.NewFakeClock()
	arrived := make(chan struct{}, 10)
	startSource(t, kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: 10 * time.Millisecond}, clientOpts(addrs, "g", topic),
		func(ctx context.Context, _ kafkaz.Partition, in msgs) {
			counted := streamz.NewTap(func(streamz.Result[kafkaz.Msg[string]]) { arrived <- struct{}{} }).Process(ctx, in)
			ackAll(streamz.NewSlidingWindow[kafkaz.Msg[string]](time.Second, clock).WithSlide(time.Hour).Process(ctx, counted))
		})
	// The first record opens the window [0, 1s); it is emitted at 1s, and
	// the rest arrive in the gap that follows.
	produce(t, addrs, topic, 0, 0, 1)
	<-arrived
	clock.Advance(2 * time.Second)
	produce(t, addrs, topic, 0, 1, 9)
	for range 9 {
		<-arrived
	}
	waitCommitted(t, addrs, "g", topic, 0, 10)
}
