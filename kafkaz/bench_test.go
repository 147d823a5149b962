package kafkaz_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

// The benchmarks consume b.N records of one partition end to end: fetch,
// batch by 500 or 50 ms, an in-memory sink, and commit, in a consumer
// group on a kfake cluster. Each op is one record; joining and leaving the
// group are timed in both. Source measures kafkaz's Source →
// streamz.Batcher → Sink, whose write keeps nothing, acking; HandLoop is
// the floor, a kgo poll loop that does the same fetch, batching and a
// commit after each batch, written by hand.

const benchBatch = 500

func benchCluster(b *testing.B) (addrs []string, topic string) {
	b.Helper()
	topic = fmt.Sprintf("bench-%d", b.N)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	addrs = c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	value := make([]byte, 100)
	for done := 0; done < b.N; {
		n := min(10000, b.N-done)
		records := make([]*kgo.Record, n)
		for i := range records {
			records[i] = &kgo.Record{Topic: topic, Value: value}
		}
		if err := cl.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	return addrs, topic
}

func benchOpts(addrs []string, topic string) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ConsumerGroup("bench"), kgo.ConsumeTopics(topic), kgo.FetchMaxWait(50 * time.Millisecond)}
}

func BenchmarkEndToEnd(b *testing.B) {
	b.Run("Source", func(b *testing.B) {
		addrs, topic := benchCluster(b)
		b.ReportAllocs()
		b.ResetTimer()
		src, err := kafkaz.NewSource(kafkaz.Config[[]byte]{
			Decode:      func(r *kgo.Record) ([]byte, error) { return r.Value, nil },
			MaxInFlight: 20 * benchBatch,
		}, benchOpts(addrs, topic)...)
		if err != nil {
			b.Fatal(err)
		}
		stop, stopNow := context.WithCancel(context.Background())
		var written atomic.Int64
		err = src.Run(context.Background(), stop, func(ctx context.Context, _ kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[[]byte]]) {
			batches := streamz.NewBatcher[kafkaz.Msg[[]byte]](streamz.BatchConfig{MaxLatency: 50 * time.Millisecond, MaxSize: benchBatch}, nil).Process(ctx, in)
			kafkaz.Sink(ctx, batches, kafkaz.SinkConfig[[]byte]{Write: func(_ context.Context, batch []kafkaz.Msg[[]byte]) error {
				if written.Add(int64(len(batch))) == int64(b.N) {
					stopNow()
				}
				return nil
			}})
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
	})
	b.Run("HandLoop", func(b *testing.B) {
		addrs, topic := benchCluster(b)
		b.ReportAllocs()
		b.ResetTimer()
		cl, err := kgo.NewClient(append(benchOpts(addrs, topic), kgo.DisableAutoCommit())...)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var batch []*kgo.Record
		var first time.Time
		written := 0
		flush := func() {
			written += len(batch)
			if err := cl.CommitRecords(ctx, batch[len(batch)-1]); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
		for written < b.N {
			pollCtx, cancel := ctx, context.CancelFunc(func() {})
			if len(batch) > 0 {
				pollCtx, cancel = context.WithDeadline(ctx, first.Add(50*time.Millisecond))
			}
			fetches := cl.PollFetches(pollCtx)
			cancel()
			fetches.EachRecord(func(r *kgo.Record) {
				if len(batch) == 0 {
					first = time.Now()
				}
				batch = append(batch, r)
				if len(batch) == benchBatch {
					flush()
				}
			})
			if len(batch) > 0 && time.Since(first) >= 50*time.Millisecond {
				flush()
			}
		}
		// Leaving the group is timed, as it is in Source's Run.
		cl.Close()
		b.StopTimer()
	})
}
