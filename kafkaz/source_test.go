package kafkaz_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

func TestNewSourcePanicsOnBadConfig(t *testing.T) {
	checkLeaks(t)
	for _, tc := range []struct {
		cfg  kafkaz.Config[string]
		want string
	}{
		{kafkaz.Config[string]{MaxInFlight: 1}, "kafkaz: NewSource: Config.Decode must not be nil"},
		{kafkaz.Config[string]{Decode: decodeString}, "kafkaz: NewSource: Config.MaxInFlight must be at least 1, got 0"},
		{kafkaz.Config[string]{Decode: decodeString, MaxInFlight: 1, CommitInterval: -1}, "kafkaz: NewSource: Config.CommitInterval must not be negative, got -1ns"},
		{kafkaz.Config[string]{Decode: decodeString, MaxInFlight: 1, CommitTimeout: -time.Second}, "kafkaz: NewSource: Config.CommitTimeout must not be negative, got -1s"},
	} {
		func() {
			defer func() {
				if got := recover(); got != tc.want {
					t.Errorf("panic %v, want %q", got, tc.want)
				}
			}()
			_, _ = kafkaz.NewSource(tc.cfg, kgo.SeedBrokers("127.0.0.1:1"), kgo.ConsumerGroup("g"))
		}()
	}
}

func TestNewSourceNeedsAGroup(t *testing.T) {
	checkLeaks(t)
	_, err := kafkaz.NewSource(kafkaz.Config[string]{Decode: decodeString, MaxInFlight: 1}, kgo.SeedBrokers("127.0.0.1:1"))
	if err == nil || !strings.HasPrefix(err.Error(), "kafkaz: NewSource: ") {
		t.Fatalf("error %v", err)
	}
}

// A graceful close flushes the Batcher's partial batch to the sink, whose
// acks are committed, and commits nothing past what is settled.
func TestCloseFlushesThePartialBatchAndCommitsOnlySettled(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 1, 30)
	received := make(chan struct{}, 30)
	var written []int64
	r := startSource(t, kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: time.Hour}, clientOpts(addrs, "g", topic),
		func(ctx context.Context, _ kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[string]]) {
			counted := streamz.NewTap(func(streamz.Result[kafkaz.Msg[string]]) { received <- struct{}{} }).Process(ctx, in)
			batches := streamz.NewBatcher[kafkaz.Msg[string]](streamz.BatchConfig{MaxLatency: time.Hour, MaxSize: 1000}, nil).Process(ctx, counted)
			// The sink settles all but the last five: those stay
			// unsettled, so the commit stops before them.
			for batch := range streamz.All(batches) {
				for _, m := range batch {
					written = append(written, m.Offset)
					if m.Offset < 25 {
						m.Ack()
					}
				}
			}
		})
	for range 30 {
		<-received
	}
	if err := r.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !slices.Equal(written, span(0, 30)) {
		t.Fatalf("written %v, want the partial batch 0..29", written)
	}
	if got := committed(t, addrs, "g", topic, 0); got != 25 {
		t.Fatalf("committed %d, want 25", got)
	}
}

// A settle out of offset order commits only the prefix before the first
// unsettled offset, and the commit moves on once the gap is settled.
func TestOutOfOrderSettleCommitsOnlyUpToTheGap(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 1, 10)
	clock := streamz.NewFakeClock()
	var h holder
	startSource(t, kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: time.Second, Clock: clock}, clientOpts(addrs, "g", topic), h.pipeline)
	waitFor(t, "10 records", func() bool { return h.len() == 10 })
	for _, i := range []int{0, 1, 2, 4, 5, 9} {
		h.at(i).Ack()
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	waitFor(t, "the first commit", func() bool { return committed(t, addrs, "g", topic, 0) != -1 })
	if got := committed(t, addrs, "g", topic, 0); got != 3 {
		t.Fatalf("committed %d with offset 3 unsettled, want 3", got)
	}
	h.at(3).Ack()
	clock.Advance(time.Second)
	waitCommitted(t, addrs, "g", topic, 0, 6)
}

// A sink that does not settle holds back its partition: the Source
// delivers at most MaxInFlight uncommitted records of it and pauses
// fetching it, while the other partition goes on, and resumes as commits
// make room.
func TestSlowSinkPausesFetchingAtMaxInFlight(t *testing.T) {
	checkLeaks(t)
	const total, maxInFlight = 200, 20
	topic, addrs := seeded(t, 2, total)
	var slow holder
	r := startSource(t, kafkaz.Config[string]{MaxInFlight: maxInFlight, CommitInterval: time.Hour}, clientOpts(addrs, "g", topic),
		func(ctx context.Context, p kafkaz.Partition, in msgs) {
			if p.Partition == 0 {
				slow.pipeline(ctx, p, in)
				return
			}
			ackAll(in)
		})
	paused := func() bool {
		return slices.Contains(r.src.Client().PauseFetchPartitions(nil)[topic], 0)
	}
	acked := 0
	pauses := 0
	for acked < total {
		waitFor(t, "the window to fill", func() bool {
			return slow.len() == total || slow.len()-acked == maxInFlight && paused()
		})
		if slow.len() < total {
			pauses++
		}
		if n := slow.len() - acked; n > maxInFlight {
			t.Fatalf("%d records unsettled, want at most %d", n, maxInFlight)
		}
		// Settling the whole window lets a commit make room.
		for ; acked < slow.len(); acked++ {
			slow.at(acked).Ack()
		}
	}
	if pauses == 0 {
		t.Fatal("fetching never paused")
	}
	// The last records are fewer than half the window: the close commits
	// them.
	if err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		if got := committed(t, addrs, "g", topic, p); got != total {
			t.Fatalf("partition %d: committed %d, want %d", p, got, total)
		}
	}
	if !slices.Equal(slow.offsets(), span(0, total)) {
		t.Fatalf("delivered %v, want 0..%d once each", slow.offsets(), total-1)
	}
}

// With every partition full, the Source stops polling rather than pausing,
// and still delivers no more than MaxInFlight uncommitted records.
func TestFullPartitionsStopPolling(t *testing.T) {
	checkLeaks(t)
	const total, maxInFlight = 100, 20
	topic, addrs := seeded(t, 1, total)
	var h holder
	r := startSource(t, kafkaz.Config[string]{MaxInFlight: maxInFlight, CommitInterval: time.Hour}, clientOpts(addrs, "g", topic), h.pipeline)
	for acked := 0; acked < total; {
		waitFor(t, "the window to fill", func() bool { n := h.len(); return n-acked == maxInFlight || n == total })
		if n := h.len() - acked; n > maxInFlight {
			t.Fatalf("%d records unsettled, want at most %d", n, maxInFlight)
		}
		if paused := r.src.Client().PauseFetchPartitions(nil); len(paused) != 0 {
			t.Fatalf("paused %v, the only partition", paused)
		}
		for ; acked < h.len(); acked++ {
			h.at(acked).Ack()
		}
	}
	if err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	if got := committed(t, addrs, "g", topic, 0); got != total {
		t.Fatalf("committed %d, want %d", got, total)
	}
	if !slices.Equal(h.offsets(), span(0, total)) {
		t.Fatalf("delivered %v, want 0..%d once each", h.offsets(), total-1)
	}
}

// A Msg settled Lost while its partition is live comes back on the same
// stream with one more delivery, and the commit waits for it; a Msg
// carried to a new value shares its acknowledgement.
func TestLostIsRedelivered(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 1, 2)
	var h holder
	startSource(t, kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: 10 * time.Millisecond}, clientOpts(addrs, "g", topic), h.pipeline)
	waitFor(t, "2 records", func() bool { return h.len() == 2 })
	h.at(1).Ack()
	h.at(0).Settle(streamz.Lost)
	waitFor(t, "the redelivery", func() bool { return h.len() == 3 })
	if m := h.at(2); m.Offset != 0 || m.Deliveries != 2 || m.Value != "0" {
		t.Fatalf("redelivered offset %d, delivery %d, value %q; want offset 0, delivery 2, value \"0\"", m.Offset, m.Deliveries, m.Value)
	}
	if got := committed(t, addrs, "g", topic, 0); got != -1 {
		t.Fatalf("committed %d before offset 0 settled, want none", got)
	}
	kafkaz.Carry(h.at(2), 42).Nak(0)
	waitFor(t, "the second redelivery", func() bool { return h.len() == 4 })
	if m := h.at(3); m.Deliveries != 3 {
		t.Fatalf("delivery %d, want 3", m.Deliveries)
	}
	kafkaz.Carry(h.at(3), 42).Ack()
	waitCommitted(t, addrs, "g", topic, 0, 2)
}

// A record that fails to decode is an error Result holding its Msg, which
// settles it like any other: termed, the commit passes it.
func TestDecodeErrorHoldsTheMsg(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 1, 3)
	errBad := errors.New("not an order")
	var h holder
	startSource(t, kafkaz.Config[string]{
		Decode: func(r *kgo.Record) (string, error) {
			if string(r.Value) == "1" {
				return "", errBad
			}
			return string(r.Value), nil
		},
		MaxInFlight: 100, CommitInterval: 10 * time.Millisecond,
	}, clientOpts(addrs, "g", topic), h.pipeline)
	waitFor(t, "3 records", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.msgs)+len(h.errs) == 3 })
	h.mu.Lock()
	bad := h.errs[0]
	h.mu.Unlock()
	if bad.Offset != 1 || string(bad.Record().Value) != "1" {
		t.Fatalf("error Result holds offset %d with value %q, want offset 1, value \"1\"", bad.Offset, bad.Record().Value)
	}
	h.at(0).Ack()
	h.at(1).Ack()
	waitFor(t, "a commit", func() bool { return committed(t, addrs, "g", topic, 0) == 1 })
	bad.Term()
	waitCommitted(t, addrs, "g", topic, 0, 3)
}

func TestZeroMsgDoesNothing(t *testing.T) {
	checkLeaks(t)
	var m kafkaz.Msg[string]
	m.Ack()
	m.Nak(time.Second)
	m.Term()
	m.Copied(2)
	m.Settle(streamz.Lost)
	if m.Record() != nil {
		t.Fatal("the zero Msg has a record")
	}
}

// A failed commit is tried again after a backoff: a partition whose whole
// window is settled has no settle left to ask for a commit, and would wait
// for CommitInterval otherwise. The first four commits fail: each of the
// four settles asks for at most one.
func TestFailedCommitIsRetried(t *testing.T) {
	checkLeaks(t)
	topic := topicName(t)
	cluster := startCluster(t, 1, topic)
	addrs := cluster.ListenAddrs()
	produce(t, addrs, topic, 0, 0, 4)
	failures := 0
	cluster.ControlKey(kmsg.OffsetCommit.Int16(), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req := kreq.(*kmsg.OffsetCommitRequest)
		if failures == 4 {
			return nil, nil, false
		}
		failures++
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetCommitResponseTopicPartition()
		rp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
	var h holder
	startSource(t, kafkaz.Config[string]{MaxInFlight: 4, CommitInterval: time.Hour}, clientOpts(addrs, "g", topic), h.pipeline)
	waitFor(t, "4 records", func() bool { return h.len() == 4 })
	for i := range 4 {
		h.at(i).Ack()
	}
	waitCommitted(t, addrs, "g", topic, 0, 4)
}

// A full partition commits as soon as any of its records is settled, below
// the half of MaxInFlight that asks for a commit otherwise: until the
// commit it delivers nothing, and the pipeline may be waiting for one more
// record, to fill a batch.
func TestFullPartitionCommitsAnySettle(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 1, 8)
	var h holder
	startSource(t, kafkaz.Config[string]{MaxInFlight: 4, CommitInterval: time.Hour}, clientOpts(addrs, "g", topic), h.pipeline)
	waitFor(t, "the window to fill", func() bool { return h.len() == 4 })
	h.at(0).Ack()
	waitFor(t, "one more record", func() bool { return h.len() == 5 })
	waitCommitted(t, addrs, "g", topic, 0, 1)
}
