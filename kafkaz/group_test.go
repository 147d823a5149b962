package kafkaz_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

// members records which partitions each member's pipelines hold, from the
// call's start to its return.
type members struct {
	mu   sync.Mutex
	live map[string]map[kafkaz.Partition]bool
}

// pipeline acks everything it reads, as member name.
func (ms *members) pipeline(name string) kafkaz.PipelineFunc[string] {
	return func(ctx context.Context, p kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[string]]) {
		ms.mu.Lock()
		ms.live[name][p] = true
		ms.mu.Unlock()
		defer func() {
			ms.mu.Lock()
			delete(ms.live[name], p)
			ms.mu.Unlock()
		}()
		for m := range streamz.All(in) {
			m.Ack()
		}
	}
}

// split reports whether both members hold partitions, none held by both,
// and together all n.
func (ms *members) split(n int) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	a, b := ms.live["a"], ms.live["b"]
	if len(a) == 0 || len(b) == 0 || len(a)+len(b) != n {
		return false
	}
	for p := range a {
		if b[p] {
			return false
		}
	}
	return true
}

// Two members of one group split the partitions between them, and between
// them consume and commit every record.
func TestGroupOfTwoSplitsThePartitions(t *testing.T) {
	checkLeaks(t)
	const partitions = 4
	topic, addrs := seeded(t, partitions, 50)
	ms := &members{live: map[string]map[kafkaz.Partition]bool{"a": {}, "b": {}}}
	cfg := kafkaz.Config[string]{MaxInFlight: 10, CommitInterval: 10 * time.Millisecond}
	startSource(t, cfg, clientOpts(addrs, "g", topic), ms.pipeline("a"))
	startSource(t, cfg, clientOpts(addrs, "g", topic), ms.pipeline("b"))
	waitFor(t, "the partitions to be split", func() bool { return ms.split(partitions) })
	for p := range int32(partitions) {
		waitCommitted(t, addrs, "g", topic, p, 50)
	}
}

// A partition revoked while its records sit in a Batcher's batch loses
// nothing, since the new owner receives them all, and the old owner
// commits nothing for it.
func TestRevokeMidBatchLosesNothingAndCommitsNothing(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 2, 20)
	received := make(chan struct{}, 40)
	cfg := kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: 10 * time.Millisecond}
	a := startSource(t, cfg, clientOpts(addrs, "g", topic),
		func(ctx context.Context, _ kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[string]]) {
			counted := streamz.NewTap(func(streamz.Result[kafkaz.Msg[string]]) { received <- struct{}{} }).Process(ctx, in)
			batches := streamz.NewBatcher[kafkaz.Msg[string]](streamz.BatchConfig{MaxLatency: time.Hour, MaxSize: 1000}, nil).Process(ctx, counted)
			for batch := range streamz.All(batches) {
				for _, m := range batch {
					m.Ack()
				}
			}
		})
	for range 40 {
		<-received
	}
	var b holder
	startSource(t, cfg, clientOpts(addrs, "g", topic), b.pipeline)
	waitFor(t, "b to receive the moved partition", func() bool { return b.len() == 20 })
	moved := b.at(0).Partition
	if got := committed(t, addrs, "g", topic, moved); got != -1 {
		t.Fatalf("the revoked partition %d has committed offset %d, want none", moved, got)
	}
	if !slices.Equal(b.offsets(), span(0, 20)) {
		t.Fatalf("b received %v, want 0..19", b.offsets())
	}
	for i := range 20 {
		b.at(i).Ack()
	}
	waitCommitted(t, addrs, "g", topic, moved, 20)
	// a still holds the other partition's batch, and flushes it at its
	// graceful close.
	if err := a.wait(t); err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, addrs, "g", topic, 1-moved, 20)
}

// A Msg settled after its partition was revoked is ignored, even once the
// partition is assigned to the same member again: its ack does not count
// for the new assignment's records, and its Nak delivers nothing again.
func TestStaleSettleIsIgnored(t *testing.T) {
	checkLeaks(t)
	topic, addrs := seeded(t, 2, 20)
	cfg := kafkaz.Config[string]{MaxInFlight: 100, CommitInterval: 10 * time.Millisecond}
	var a holder
	startSource(t, cfg, clientOpts(addrs, "g", topic), a.pipeline)
	waitFor(t, "a to receive both partitions", func() bool { return a.len() == 40 })
	stale := make(map[int32]map[int64]kafkaz.Msg[string])
	for i := range 40 {
		m := a.at(i)
		if m.Offset < 5 {
			m.Ack()
			continue
		}
		if stale[m.Partition] == nil {
			stale[m.Partition] = make(map[int64]kafkaz.Msg[string])
		}
		stale[m.Partition][m.Offset] = m
	}
	waitCommitted(t, addrs, "g", topic, 0, 5)
	waitCommitted(t, addrs, "g", topic, 1, 5)

	// b takes one partition, and gives it back to a when it leaves.
	var b holder
	rb := startSource(t, cfg, clientOpts(addrs, "g", topic), b.pipeline)
	waitFor(t, "b to receive the moved partition", func() bool { return b.len() == 15 })
	moved := b.at(0).Partition
	if err := rb.wait(t); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to receive the partition again", func() bool { return a.len() == 40+15 })

	// The stale ack is of offset 10, which is in the new assignment's
	// window at the place offset 15 has there; the stale Nak is of 11.
	stale[moved][10].Ack()
	stale[moved][11].Nak(0)
	for i := 40; i < 50; i++ {
		a.at(i).Ack() // offsets 5 to 14 again
	}
	waitFor(t, "a commit past 5", func() bool { return committed(t, addrs, "g", topic, moved) != 5 })
	if got := committed(t, addrs, "g", topic, moved); got != 15 {
		t.Fatalf("committed %d, want 15: offset 15 of the new assignment is unsettled", got)
	}
	if got := a.len(); got != 55 {
		t.Fatalf("a received %d Msgs, want 55: the stale Nak must not deliver again", got)
	}
}
