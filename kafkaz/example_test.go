package kafkaz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

type Order struct {
	Customer string `json:"customer"`
	Cents    int    `json:"cents"`
}

// Orders are consumed in the group "billing", batched per partition, and
// written in batches; each order is committed once its batch is written.
// An in-process kfake cluster stands in for Kafka; for a real one, name
// its seed brokers.
func Example() {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		panic(err)
	}
	defer cluster.Close()
	seeds := kgo.SeedBrokers(cluster.ListenAddrs()...)
	producer, err := kgo.NewClient(seeds)
	if err != nil {
		panic(err)
	}
	for _, o := range []Order{{"ada", 500}, {"bob", 250}, {"ada", 125}, {"cy", 1000}, {"bob", 50}, {"ada", 5}} {
		value, _ := json.Marshal(o)
		// The key picks the partition, so one customer's orders stay in
		// order, in one partition's pipeline.
		producer.Produce(context.Background(), &kgo.Record{Topic: "orders", Key: []byte(o.Customer), Value: value}, nil)
	}
	if err := producer.Flush(context.Background()); err != nil {
		panic(err)
	}
	producer.Close()

	src, err := kafkaz.NewSource(kafkaz.Config[Order]{
		Decode: func(r *kgo.Record) (Order, error) {
			var o Order
			err := json.Unmarshal(r.Value, &o)
			return o, err
		},
		MaxInFlight: 2000,
	}, seeds, kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("orders"))
	if err != nil {
		panic(err)
	}
	defer src.Close()

	// A service would stop on a signal: signal.NotifyContext(ctx,
	// os.Interrupt, syscall.SIGTERM). This one stops once it has written
	// all six orders.
	stop, stopNow := context.WithCancel(context.Background())
	ctx, cancel := streamz.WithGrace(stop, 10*time.Second, nil)
	defer cancel()

	var mu sync.Mutex
	written := make(map[string]bool) // by topic/partition/offset: a replay writes nothing twice
	totals := make(map[string]int)
	err = src.Run(ctx, stop, func(ctx context.Context, _ kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[Order]]) {
		batches := streamz.NewBatcher[kafkaz.Msg[Order]](streamz.BatchConfig{MaxLatency: 50 * time.Millisecond, MaxSize: 500}, nil).Process(ctx, in)
		kafkaz.Sink(ctx, batches, kafkaz.SinkConfig[Order]{
			Write: func(_ context.Context, batch []kafkaz.Msg[Order]) error {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range batch {
					id := fmt.Sprintf("%s/%d/%d", m.Topic, m.Partition, m.Offset)
					if !written[id] {
						written[id] = true
						totals[m.Value.Customer] += m.Value.Cents
					}
				}
				if len(written) == 6 {
					stopNow()
				}
				return nil
			},
			Backoff: func(deliveries int) time.Duration { return time.Duration(deliveries) * time.Second },
		})
	})
	fmt.Println(err, totals)
	// Output: <nil> map[ada:630 bob:300 cy:1000]
}
