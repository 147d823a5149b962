package jetstreamz

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childModeEnv) != "" {
		// A re-executed test binary playing a consumer process (see
		// crash_test.go); it is killed or exits on its own, and runs no
		// test.
		os.Exit(runChild())
	}
	goleak.VerifyTestMain(m)
}

// testWait bounds every wait of these tests on the real broker.
const testWait = 30 * time.Second

// startServer starts an embedded nats-server with JetStream, storing in
// storeDir, on a loopback port (0 for a random one), and shuts it down at
// the end of the test.
func startServer(t testing.TB, storeDir string, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	s, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  storeDir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatalf("starting nats-server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(testWait) {
		t.Fatal("nats-server did not become ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// connect returns a JetStream client on url, closed at the end of the test.
func connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New: %v", err)
	}
	return nc, js
}

// Every test uses one stream, testStream, on the subjects "s.>", and one
// durable consumer, testConsumer, of it.
const (
	testStream   = "S"
	testConsumer = "C"
)

// broker is one test's server, with a client on it, a stream and a
// consumer.
type broker struct {
	srv  *server.Server
	nc   *nats.Conn
	js   jetstream.JetStream
	cons jetstream.Consumer
}

// newBroker starts a server with the stream and the consumer that cfg
// describes (its Durable and AckPolicy are filled in).
func newBroker(t testing.TB, cfg jetstream.ConsumerConfig) *broker {
	t.Helper()
	srv := startServer(t, t.TempDir(), 0)
	nc, js := connect(t, srv.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: testStream, Subjects: []string{"s.>"}}); err != nil {
		t.Fatalf("creating the stream: %v", err)
	}
	cfg.Durable = testConsumer
	cfg.AckPolicy = jetstream.AckExplicitPolicy
	cons, err := js.CreateOrUpdateConsumer(ctx, testStream, cfg)
	if err != nil {
		t.Fatalf("creating the consumer: %v", err)
	}
	return &broker{srv: srv, nc: nc, js: js, cons: cons}
}

// publish publishes the integers from..to, inclusive, as messages on
// "s.<i>" with the header Test-Key: <i>, in chunks of 1000, waiting for each chunk's acks: a single
// PublishAsync of many thousands stalls under -race.
func publish(t testing.TB, js jetstream.JetStream, from, to int) {
	t.Helper()
	for start := from; start <= to; start += 1000 {
		for i := start; i <= min(start+999, to); i++ {
			msg := nats.NewMsg(fmt.Sprintf("s.%d", i))
			msg.Data = []byte(strconv.Itoa(i))
			msg.Header.Set("Test-Key", strconv.Itoa(i))
			// A header for the server, which a dead letter must not copy.
			msg.Header.Set(jetstream.ExpectedStreamHeader, testStream)
			if _, err := js.PublishMsgAsync(msg); err != nil {
				t.Fatalf("publishing %d: %v", i, err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(testWait):
			t.Fatal("publishing did not complete")
		}
	}
}

// decodeInt is the decode function of the tests: a message's data is an
// integer in decimal.
func decodeInt(jm jetstream.Msg) (int, error) { return strconv.Atoi(string(jm.Data())) }

// info returns the consumer's info as the server has it now.
func (b *broker) info(t testing.TB) *jetstream.ConsumerInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	info, err := b.cons.Info(ctx)
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	return info
}

// waitInfo polls the consumer's info until done says it is as wanted, and
// fails the test if that takes longer than testWait. It returns the info
// that satisfied done.
func (b *broker) waitInfo(t testing.TB, what string, done func(*jetstream.ConsumerInfo) bool) *jetstream.ConsumerInfo {
	t.Helper()
	var last *jetstream.ConsumerInfo
	waitUntil(t, what, func() bool {
		last = b.info(t)
		return done(last)
	}, func() string { return fmt.Sprintf("%+v", *last) })
	return last
}

// waitUntil polls cond until it holds, failing the test with what and
// state() if that takes longer than testWait.
func waitUntil(t testing.TB, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s: %s", what, state())
		}
		<-poll.C
	}
}

// drained reports whether the consumer has acked everything up to last and
// holds nothing unacked.
func drained(last uint64) func(*jetstream.ConsumerInfo) bool {
	return func(info *jetstream.ConsumerInfo) bool {
		return info.AckFloor.Stream == last && info.NumAckPending == 0 && info.NumPending == 0
	}
}

// next receives from out, failing the test if nothing comes within
// testWait or out is closed.
func next[T any](t testing.TB, out <-chan streamz.Result[T]) streamz.Result[T] {
	t.Helper()
	select {
	case r, ok := <-out:
		if !ok {
			t.Fatal("the stream ended early")
		}
		return r
	case <-time.After(testWait):
		t.Fatal("nothing came")
	}
	panic("unreachable")
}
