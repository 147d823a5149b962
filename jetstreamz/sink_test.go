package jetstreamz

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
)

func TestExponentialBackoff(t *testing.T) {
	backoff := ExponentialBackoff(100*time.Millisecond, time.Second)
	for deliveries, want := range map[uint64]time.Duration{
		0: 100 * time.Millisecond, 1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 1000: time.Second,
	} {
		if got := backoff(deliveries); got != want {
			t.Errorf("after delivery %d: got %v, want %v", deliveries, got, want)
		}
	}
	defer func() {
		want := "jetstreamz: ExponentialBackoff: need 0 < first <= limit, got first 2s and limit 1s"
		if got := recover(); got != want {
			t.Fatalf("panicked with %v, want %q", got, want)
		}
	}()
	ExponentialBackoff(2*time.Second, time.Second)
}

// A write that keeps failing: the message is nak'ed with a growing delay,
// and on its last delivery dead-lettered with its headers, then termed.
func TestWriteBatchNaksWithBackoffThenDeadLetters(t *testing.T) {
	const total, failing, maxDeliver = 5, 3, 3
	const first = 50 * time.Millisecond
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Hour, MaxDeliver: maxDeliver})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := b.js.CreateStream(ctx, jetstream.StreamConfig{Name: "DEAD", Subjects: []string{"dead"}}); err != nil {
		t.Fatal(err)
	}
	acks := observeAcks(t, b.nc)
	publish(t, b.js, 1, total)
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 10})
	batches := streamz.NewBatcher[Msg[int]](streamz.BatchConfig{MaxSize: 1}, nil).Process(ctx, src.Process(ctx, ctx))
	failure := errors.New("the database is down")
	var attempts []time.Time
	write := func(_ context.Context, batch []Msg[int]) error {
		if batch[0].Value != failing {
			return nil
		}
		attempts = append(attempts, time.Now())
		if batch[0].Deliveries != uint64(len(attempts)) {
			t.Errorf("attempt %d is delivery %d", len(attempts), batch[0].Deliveries)
		}
		return failure
	}
	dead := DeadLetterTo[int](b.js, "dead")
	sinkDone := sinkBatches(t, batches, func(batch []Msg[int]) {
		if err := WriteBatch(ctx, batch, write, ExponentialBackoff(first, time.Second), dead); err != nil && !errors.Is(err, failure) {
			t.Errorf("WriteBatch: %v", err)
		}
	})
	b.waitInfo(t, "every message acked or termed", drained(total))
	cancel()
	<-sinkDone
	waitDone(t, src)

	if len(attempts) != maxDeliver {
		t.Fatalf("the failing message was written %d times, want MaxDeliver %d", len(attempts), maxDeliver)
	}
	for i := 1; i < len(attempts); i++ {
		if wait, least := attempts[i].Sub(attempts[i-1]), first<<(i-1); wait < least {
			t.Errorf("redelivery %d came after %v, before its backoff of %v", i, wait, least)
		}
	}
	var sent []string
	for _, a := range sentAcks(t, b.nc, acks) {
		if a != "+ACK" {
			sent = append(sent, a)
		}
	}
	want := []string{fmt.Sprintf(`-NAK {"delay": %d}`, first), fmt.Sprintf(`-NAK {"delay": %d}`, 2*first), "+TERM"}
	if strings.Join(sent, "|") != strings.Join(want, "|") {
		t.Fatalf("sent %q besides the acks, want %q", sent, want)
	}

	deadStream, err := b.js.Stream(context.Background(), "DEAD")
	if err != nil {
		t.Fatal(err)
	}
	letter, err := deadStream.GetLastMsgForSubject(context.Background(), "dead")
	if err != nil {
		t.Fatal(err)
	}
	if string(letter.Data) != "3" || letter.Header.Get("Test-Key") != "3" || letter.Header.Get(HeaderError) != failure.Error() ||
		letter.Header.Get(HeaderStream) != testStream || letter.Header.Get(HeaderSequence) != "3" || letter.Header.Get(HeaderSubject) != "s.3" {
		t.Fatalf("the dead letter is %q with headers %v", letter.Data, letter.Header)
	}
}

// A dead letter that cannot be published: the message is nak'ed, not
// termed, so that it is not lost.
func TestDeadLetterToNaksWhenThePublishFails(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{})
	acks := observeAcks(t, b.nc)
	publish(t, b.js, 1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 1})
	out := src.Process(ctx, ctx)
	m := next(t, out).Value()
	// No stream stores "nowhere".
	err := DeadLetterTo[int](b.js, "nowhere")(ctx, m, errors.New("bad"))
	if err == nil || !strings.Contains(err.Error(), `jetstreamz: dead-lettering stream sequence 1 to "nowhere" failed, nak'ed it`) {
		t.Fatalf("got %v, want the failed publish", err)
	}
	if got := sentAcks(t, b.nc, acks); len(got) != 1 || got[0] != "-NAK" {
		t.Fatalf("sent %q, want a nak", got)
	}
	endSource(t, cancel, src, out)
}

// A broker restarted on the same store: a consumer resumes after the
// ack floor, and gets every message that was not acked.
func TestBrokerRestartResumesAtTheAckFloor(t *testing.T) {
	const total, acked = 100, 30
	dir := t.TempDir()
	srv := startServer(t, dir, 0)
	port := srv.Addr().(*net.TCPAddr).Port
	nc, js := connect(t, srv.ClientURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: testStream, Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, testStream, jetstream.ConsumerConfig{Durable: testConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, 1, total)
	before := &broker{srv: srv, nc: nc, js: js, cons: cons}
	src := NewSource(cons, decodeInt, Config{MaxInFlight: 20})
	out := src.Process(ctx, ctx)
	for range acked {
		next(t, out).Value().Ack()
	}
	before.waitInfo(t, "the first messages acked, the next held", func(info *jetstream.ConsumerInfo) bool {
		return info.AckFloor.Stream == acked && info.NumAckPending > 0
	})
	srv.Shutdown()
	srv.WaitForShutdown()
	endSource(t, cancel, src, out)
	nc.Close()

	after := startServer(t, dir, port)
	nc2, js2 := connect(t, after.ClientURL())
	cons2, err := js2.Consumer(context.Background(), testStream, testConsumer)
	if err != nil {
		t.Fatal(err)
	}
	restarted := &broker{srv: after, nc: nc2, js: js2, cons: cons2}
	if info := restarted.info(t); info.AckFloor.Stream != acked {
		t.Fatalf("after the restart: %+v", *info)
	}
	done := map[int]bool{}
	for i := 1; i <= acked; i++ {
		done[i] = true
	}
	consumeRest(t, restarted, done, total)
}
