package kafkaz_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitLimit bounds every wait on an observed state: a test that reaches it
// has failed, it is not a pace.
const waitLimit = 30 * time.Second

// checkLeaks makes the test fail if any goroutine outlives it. Call it
// first, so that it runs after every other cleanup.
func checkLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// newCluster starts an in-process kfake cluster holding topics, each with
// partitions partitions, and closes it when the test ends. Its groups
// accept short session timeouts, so that a killed member leaves quickly.
func newCluster(t *testing.T, partitions int32, topics ...string) []string {
	t.Helper()
	return startCluster(t, partitions, topics...).ListenAddrs()
}

// startCluster is newCluster for a test that controls the cluster.
func startCluster(t *testing.T, partitions int32, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(partitions, topics...),
		kfake.GroupMinSessionTimeout(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// seeded starts a cluster for the test holding one topic of partitions
// partitions, with n records produced to each, and returns the topic and
// the cluster's addresses.
func seeded(t *testing.T, partitions int32, n int) (topic string, addrs []string) {
	t.Helper()
	topic = topicName(t)
	addrs = newCluster(t, partitions, topic)
	for p := range partitions {
		produce(t, addrs, topic, p, 0, n)
	}
	return topic, addrs
}

// produce writes n records to topic's partition, whose values are their
// indexes from first, in decimal.
func produce(t *testing.T, addrs []string, topic string, partition int32, first, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	records := make([]*kgo.Record, n)
	for i := range records {
		records[i] = &kgo.Record{
			Topic:     topic,
			Partition: partition,
			Value:     []byte(strconv.Itoa(first + i)),
			Headers:   []kgo.RecordHeader{{Key: "trace", Value: []byte("t-" + strconv.Itoa(first+i))}},
		}
	}
	if err := cl.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// committed returns the group's committed offset for topic's partition,
// or -1 if there is none.
func committed(t *testing.T, addrs []string, group, topic string, partition int32) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offsets, err := kadm.NewClient(cl).FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offsets.Lookup(topic, partition)
	if !ok || o.Err != nil {
		return -1
	}
	return o.At
}

// waitFor polls cond until it holds, and fails the test at waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			stacks := make([]byte, 1<<20)
			stacks = stacks[:runtime.Stack(stacks, true)]
			t.Fatalf("waited %v for %s; the goroutines:\n%s", waitLimit, what, stacks)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitCommitted waits until the group's committed offset for the
// partition is want.
func waitCommitted(t *testing.T, addrs []string, group, topic string, partition int32, want int64) {
	t.Helper()
	var got int64
	deadline := time.Now().Add(waitLimit)
	for {
		got = committed(t, addrs, group, topic, partition)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%d: committed offset %d after %v, want %d", topic, partition, got, waitLimit, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientOpts are the options of a test consumer in group on topics: short
// waits, so that rebalances and resumed fetches are prompt, but a session
// long enough that a loaded machine does not expire it (the crash tests'
// child, which is killed, has a short one).
func clientOpts(addrs []string, group string, topics ...string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(addrs...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topics...),
		kgo.FetchMaxWait(20 * time.Millisecond),
		kgo.SessionTimeout(10 * time.Second),
		kgo.HeartbeatInterval(50 * time.Millisecond),
		kgo.RebalanceTimeout(3 * time.Second),
	}
}

func decodeString(r *kgo.Record) (string, error) { return string(r.Value), nil }

// run is one running Source: stop ends it gracefully, and wait returns
// Run's error once it has returned.
type run struct {
	src  *kafkaz.Source[string]
	stop func()
	done chan error
	once sync.Once
	err  error
}

// startSource makes a Source on the test cluster and runs it until the
// test ends, or until the run is stopped.
func startSource(t *testing.T, cfg kafkaz.Config[string], opts []kgo.Opt, pipeline kafkaz.PipelineFunc[string]) *run {
	t.Helper()
	if cfg.Decode == nil {
		cfg.Decode = decodeString
	}
	cfg.OnError = func(err error) { t.Logf("Source error: %v", err) }
	src, err := kafkaz.NewSource(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	stop, stopNow := context.WithCancel(context.Background())
	ctx, cancel := streamz.WithGrace(stop, waitLimit, nil)
	r := &run{src: src, stop: stopNow, done: make(chan error, 1)}
	go func() {
		r.done <- src.Run(ctx, stop, pipeline)
		cancel()
	}()
	t.Cleanup(func() { r.wait(t) })
	return r
}

// wait stops the run and returns Run's error.
func (r *run) wait(t *testing.T) error {
	t.Helper()
	r.once.Do(func() {
		r.stop()
		select {
		case r.err = <-r.done:
		case <-time.After(waitLimit):
			t.Fatalf("Run did not return %v after stop", waitLimit)
		}
	})
	return r.err
}

// holder is a sink that keeps every Msg it receives, in order, for the test
// to settle.
type holder struct {
	mu   sync.Mutex
	msgs []kafkaz.Msg[string]
	errs []kafkaz.Msg[string]
}

// pipeline holds everything the partition's stream delivers.
func (h *holder) pipeline(ctx context.Context, _ kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[string]]) {
	for {
		select {
		case r, ok := <-in:
			if !ok {
				return
			}
			h.mu.Lock()
			if r.IsError() {
				h.errs = append(h.errs, r.Error().Item)
			} else {
				h.msgs = append(h.msgs, r.Value())
			}
			h.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

func (h *holder) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.msgs)
}

// at returns the i-th Msg received.
func (h *holder) at(i int) kafkaz.Msg[string] {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.msgs[i]
}

// offsets returns the offsets of the Msgs received, in order.
func (h *holder) offsets() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int64, len(h.msgs))
	for i, m := range h.msgs {
		out[i] = m.Offset
	}
	return out
}

// span returns the offsets from, from+1, ..., to-1.
func span(from, to int64) []int64 {
	out := make([]int64, 0, to-from)
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

// topicName is a topic name unique to the test.
func topicName(t *testing.T) string {
	return "t-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '.'
	}, t.Name())
}
