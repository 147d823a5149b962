package jetstreamz_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/jetstreamz"
)

// A pipeline that writes orders to a database in batches, acking each
// order only once its batch is written, and that shuts down gracefully.
func Example() {
	url, shutdown := exampleServer()
	defer shutdown()
	nc, err := nats.Connect(url)
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	js.CreateStream(ctx, jetstream.StreamConfig{Name: "DEAD", Subjects: []string{"dead.>"}})
	for _, amount := range []string{"10", "20", "30", "40", "50"} {
		js.Publish(ctx, "orders.new", []byte(amount))
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "ORDERS", jetstream.ConsumerConfig{
		Durable:   "billing",
		AckPolicy: jetstream.AckExplicitPolicy, // one ack per message, never AckAll
	})
	if err != nil {
		panic(err)
	}

	// In a service, stop is signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM).
	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	pipeline, cancel := streamz.WithGrace(stop, 10*time.Second, nil)
	defer cancel()

	decode := func(m jetstream.Msg) (int, error) { return strconv.Atoi(string(m.Data())) }
	src := jetstreamz.NewSource(cons, decode, jetstreamz.Config{MaxInFlight: 1000})
	orders := src.Process(pipeline, stop)
	// The Filter's rejects count as done: they are acked.
	large := streamz.NewFilter(func(m jetstreamz.Msg[int]) bool { return m.Value >= 20 }).Process(pipeline, orders)
	batches := streamz.NewBatcher[jetstreamz.Msg[int]](streamz.BatchConfig{MaxLatency: 50 * time.Millisecond, MaxSize: 500}, nil).Process(pipeline, large)

	written := 0
	write := func(_ context.Context, batch []jetstreamz.Msg[int]) error {
		for _, m := range batch {
			// The stream sequence is the idempotency key of a redelivery.
			fmt.Printf("insert order %d: %d\n", m.Sequence, m.Value)
		}
		written += len(batch)
		return nil
	}
	dead := jetstreamz.DeadLetterTo[int](js, "dead.orders")
	backoff := jetstreamz.ExponentialBackoff(time.Second, time.Minute)
	for batch, err := range streamz.All(batches) {
		if err != nil { // a message that did not decode
			for _, m := range batch {
				dead(pipeline, m, err)
			}
			continue
		}
		jetstreamz.WriteBatch(pipeline, batch, write, backoff, dead)
		if written == 4 {
			stopNow() // the example's signal
		}
	}
	<-src.Done()

	info, _ := cons.Info(ctx)
	fmt.Println("acked up to", info.AckFloor.Stream)
	// Output:
	// insert order 2: 20
	// insert order 3: 30
	// insert order 4: 40
	// insert order 5: 50
	// acked up to 5
}

// exampleServer starts an embedded nats-server with JetStream, for the
// example to run anywhere.
func exampleServer() (url string, shutdown func()) {
	dir, err := os.MkdirTemp("", "jetstreamz-example")
	if err != nil {
		panic(err)
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		panic("nats-server did not start")
	}
	return s.ClientURL(), func() {
		s.Shutdown()
		s.WaitForShutdown()
		os.RemoveAll(dir)
	}
}
