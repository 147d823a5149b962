package jetstreamz

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
)

// The benchmark's batches: the Batcher(500, 50 ms).
const (
	benchBatch   = 500
	benchLatency = 50 * time.Millisecond
)

// BenchmarkJetStream measures one message end to end, from a JetStream
// stream in memory to an in-memory sink that acks it: through a Source, a
// Batcher and WriteBatch ("streamz"), and through a hand-written loop on
// the same client that fetches, decodes, batches and acks ("loop"), its
// floor in the same run. Each op is one message.
func BenchmarkJetStream(b *testing.B) {
	br := newBenchBroker(b)
	b.Run("streamz", func(b *testing.B) {
		cons := br.fill(b)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		src := NewSource(cons, decodeInt, Config{MaxInFlight: 2 * benchBatch})
		batches := streamz.NewBatcher[Msg[int]](streamz.BatchConfig{MaxLatency: benchLatency, MaxSize: benchBatch}, nil).Process(ctx, src.Process(ctx, ctx))
		sum, written := 0, 0
		write := func(_ context.Context, batch []Msg[int]) error {
			for _, m := range batch {
				sum += m.Value
			}
			written += len(batch)
			return nil
		}
		backoff := ExponentialBackoff(time.Second, time.Second)
		b.ResetTimer()
		for written < b.N {
			batch := (<-batches).Value()
			if err := WriteBatch(ctx, batch, write, backoff, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cancel()
		for r := range batches {
			for _, m := range r.Value() {
				m.Ack()
			}
		}
		<-src.Done()
		reportRate(b, sum)
	})
	b.Run("loop", func(b *testing.B) {
		cons := br.fill(b)
		sum, written := 0, 0
		batch := make([]jetstream.Msg, 0, benchBatch)
		b.ResetTimer()
		for written < b.N {
			fetched, err := cons.Fetch(benchBatch, jetstream.FetchMaxWait(benchLatency))
			if err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
			for m := range fetched.Messages() {
				v, err := decodeInt(m)
				if err != nil {
					b.Fatal(err)
				}
				sum += v
				batch = append(batch, m)
			}
			for _, m := range batch {
				if err := m.Ack(); err != nil {
					b.Fatal(err)
				}
			}
			written += len(batch)
		}
		b.StopTimer()
		reportRate(b, sum)
	})
}

// reportRate adds messages per second; sum keeps the decoding alive.
func reportRate(b *testing.B, sum int) {
	if sum == 0 {
		b.Fatal("nothing was decoded")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

type benchBroker struct {
	*broker
	stream jetstream.Stream
	runs   int
}

// newBenchBroker starts a server with a stream in memory, so that the
// benchmark measures the client and the pipeline rather than the disk.
func newBenchBroker(b *testing.B) *benchBroker {
	srv := startServer(b, b.TempDir(), 0)
	nc, js := connect(b, srv.ClientURL())
	stream, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: testStream, Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		b.Fatal(err)
	}
	return &benchBroker{broker: &broker{srv: srv, nc: nc, js: js}, stream: stream}
}

// fill empties the stream, publishes b.N messages, and returns a new
// consumer of them, with the timer stopped.
func (br *benchBroker) fill(b *testing.B) jetstream.Consumer {
	b.StopTimer()
	defer b.StartTimer()
	b.ReportAllocs()
	ctx := context.Background()
	if err := br.stream.Purge(ctx); err != nil {
		b.Fatal(err)
	}
	publish(b, br.js, 1, b.N)
	br.runs++
	cons, err := br.js.CreateConsumer(ctx, testStream, jetstream.ConsumerConfig{
		Durable:       fmt.Sprintf("bench%d", br.runs),
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxAckPending: -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	return cons
}
