package kafkaz_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

// A FanOut's copies settle a record only when every branch has: a crash
// after one branch's sink has acked and before the other's gives
// redelivery of everything.
func TestFanOutCrashBetweenBranchesRedelivers(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 1, 10)
	acked := make(chan struct{}, 10)
	held := make(chan struct{}, 10)
	crash, crashNow := context.WithCancel(context.Background())
	src, err := kafkaz.NewSource(kafkaz.Config[string]{Decode: decodeString, MaxInFlight: 100, CommitInterval: 10 * time.Millisecond}, clientOpts(addrs, "g", topic)...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- src.Run(crash, crash, func(ctx context.Context, _ kafkaz.Partition, in msgs) {
			branches := streamz.NewFanOut[kafkaz.Msg[string]](2).Process(ctx, in)
			go func() {
				for m := range streamz.All(branches[0]) {
					m.Ack()
					acked <- struct{}{}
				}
			}()
			// The second branch's sink crashes before it acks.
			for range branches[1] {
				held <- struct{}{}
			}
		})
	}()
	for range 10 {
		<-acked
		<-held
	}
	crashNow()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if got := committed(t, addrs, "g", topic, 0); got != -1 {
		t.Fatalf("committed %d with no record acked by both branches, want none", got)
	}
	var h holder
	startSource(t, kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: 10 * time.Millisecond}, clientOpts(addrs, "g", topic), h.pipeline)
	waitFor(t, "redelivery", func() bool { return h.len() == 10 })
	if !slices.Equal(h.offsets(), span(0, 10)) {
		t.Fatalf("redelivered %v, want 0..9", h.offsets())
	}
}

// A write that keeps failing naks each Msg with the backoff for its
// deliveries, timed on the Source's Clock; at MaxDeliveries the Msg goes
// to the dead-letter topic with its headers and the error, and is termed,
// so the commit passes it.
func TestSinkNaksWithBackoffThenDeadLetters(t *testing.T) {
	checkLeaks(t)
	topic := topicName(t)
	dead := topic + ".dead"
	addrs := newCluster(t, 1, topic, dead)
	produce(t, addrs, topic, 0, 0, 1)
	clock := streamz.NewFakeClock()
	start := clock.Now()
	attempts := make(chan time.Duration, 3)
	errWrite := errors.New("the database is down")
	deadLetters, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer deadLetters.Close()
	r := startSource(t, kafkaz.Config[string]{MaxInFlight: 2, CommitInterval: time.Hour, Clock: clock}, clientOpts(addrs, "g", topic),
		func(ctx context.Context, _ kafkaz.Partition, in msgs) {
			batches := streamz.NewBatcher[kafkaz.Msg[string]](streamz.BatchConfig{MaxSize: 1}, nil).Process(ctx, in)
			kafkaz.Sink(ctx, batches, kafkaz.SinkConfig[string]{
				Write: func(context.Context, []kafkaz.Msg[string]) error {
					attempts <- clock.Since(start)
					return errWrite
				},
				Backoff:       func(deliveries int) time.Duration { return time.Duration(deliveries) * time.Second },
				MaxDeliveries: 3,
				DeadLetter: func(ctx context.Context, m kafkaz.Msg[string], err error) error {
					return kafkaz.SendDeadLetter(ctx, deadLetters, dead, m, err)
				},
			})
		})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	// After each failure the Nak's timer is armed, beside the commit
	// ticker, and the next write waits for the clock to pass the backoff.
	for _, step := range []struct{ at, backoff time.Duration }{{0, time.Second}, {time.Second, 2 * time.Second}} {
		if at := <-attempts; at != step.at {
			t.Fatalf("write at %v, want %v", at, step.at)
		}
		if err := clock.BlockUntilContext(ctx, 2); err != nil {
			t.Fatal(err)
		}
		clock.Advance(step.backoff)
	}
	if at := <-attempts; at != 3*time.Second {
		t.Fatalf("third write at %v, want 3s: after backoffs of 1s and 2s", at)
	}
	waitCommitted(t, addrs, "g", topic, 0, 1)
	if err := r.wait(t); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(dead))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fetches := cl.PollRecords(ctx, 1)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	letter := fetches.Records()[0]
	want := []kgo.RecordHeader{
		{Key: "trace", Value: []byte("t-0")},
		{Key: kafkaz.HeaderError, Value: []byte(errWrite.Error())},
		{Key: kafkaz.HeaderTopic, Value: []byte(topic)},
		{Key: kafkaz.HeaderPartition, Value: []byte("0")},
		{Key: kafkaz.HeaderOffset, Value: []byte(strconv.Itoa(0))},
	}
	if string(letter.Value) != "0" || !slices.EqualFunc(letter.Headers, want, func(a, b kgo.RecordHeader) bool {
		return a.Key == b.Key && string(a.Value) == string(b.Value)
	}) {
		t.Fatalf("dead letter %q with headers %v, want %q with %v", letter.Value, letter.Headers, "0", want)
	}
}
