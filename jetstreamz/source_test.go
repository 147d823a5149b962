package jetstreamz

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
)

// waitDone waits for src to finish, failing the test after testWait.
func waitDone[T any](t *testing.T, src *Source[T]) {
	t.Helper()
	select {
	case <-src.Done():
	case <-time.After(testWait):
		t.Fatal("the Source did not finish")
	}
}

// sinkBatches gives each batch of batches to handle, on a goroutine of its
// own, until batches is closed, and fails the test on an error Result. The
// channel it returns is closed when it has done.
func sinkBatches(t *testing.T, batches <-chan streamz.Result[[]Msg[int]], handle func([]Msg[int])) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch, err := range streamz.All(batches) {
			if err != nil {
				t.Errorf("sink: %v", err)
				return
			}
			handle(batch)
		}
	}()
	return done
}

// endSource ends ctx with cancel, acks whatever src still hands on, and
// waits for src to finish.
func endSource[T any](t *testing.T, cancel context.CancelFunc, src *Source[T], out <-chan streamz.Result[Msg[T]]) {
	t.Helper()
	cancel()
	for r := range out {
		r.Value().Ack()
	}
	waitDone(t, src)
}

func TestSourceDeliversMessagesWithTheirMetadata(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{})
	publish(t, b.js, 1, 5)
	stop, stopNow := context.WithCancel(context.Background())
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 10})
	out := src.Process(context.Background(), stop)
	for want := 1; want <= 5; want++ {
		r := next(t, out)
		if r.IsError() {
			t.Fatalf("message %d: %v", want, r.Error())
		}
		m := r.Value()
		if m.Value != want || m.Sequence != uint64(want) || m.Stream != testStream ||
			m.Subject != "s."+strconv.Itoa(want) || m.Deliveries != 1 || m.ConsumerSequence != uint64(want) ||
			m.Headers.Get("Test-Key") != strconv.Itoa(want) || m.Timestamp.IsZero() || string(m.Data()) != strconv.Itoa(want) {
			t.Fatalf("message %d: got %+v", want, m)
		}
		m.Ack()
	}
	b.waitInfo(t, "every message acked", drained(5))
	stopNow()
	if r, ok := <-out; ok {
		t.Fatalf("got %+v after stop, want the output closed", r)
	}
	waitDone(t, src)
}

func TestSourceHandsOnADecodeFailureWithItsMessage(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{})
	if _, err := b.js.Publish(context.Background(), "s.bad", []byte("not a number")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := NewSource(b.cons, func(jm jetstream.Msg) (int, error) {
		if string(jm.Data()) == "panic" {
			panic("boom")
		}
		return decodeInt(jm)
	}, Config{MaxInFlight: 10})
	out := src.Process(ctx, ctx)
	r := next(t, out)
	if !r.IsError() || r.Error().ProcessorName != "jetstreamz.Source" {
		t.Fatalf("got %+v, want an error Result of jetstreamz.Source", r)
	}
	var numErr *strconv.NumError
	if !errors.As(r.Err(), &numErr) {
		t.Fatalf("got error %v, want the decode's *strconv.NumError", r.Err())
	}
	m := r.Error().Item
	if m.Sequence != 1 || m.Subject != "s.bad" || m.Value != 0 {
		t.Fatalf("the error's item is %+v, want the message with the zero Value", m)
	}
	m.Term()
	b.waitInfo(t, "the failed message termed", drained(1))

	if _, err := b.js.Publish(context.Background(), "s.panic", []byte("panic")); err != nil {
		t.Fatal(err)
	}
	r = next(t, out)
	if !r.IsError() || !strings.Contains(r.Err().Error(), "decode panicked: boom") {
		t.Fatalf("got %+v, want an error Result saying decode panicked", r)
	}
	r.Error().Item.Ack()
	b.waitInfo(t, "the panicking message acked", drained(2))
	cancel()
	waitDone(t, src)
}

func TestNewSourcePanicsOnABadConfig(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: 10 * time.Second})
	ctx := context.Background()
	ackAll, err := b.js.CreateOrUpdateConsumer(ctx, testStream, jetstream.ConsumerConfig{Durable: "all", AckPolicy: jetstream.AckAllPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cons jetstream.Consumer
		cfg  Config
		want string
	}{
		{"MaxInFlight", b.cons, Config{}, "jetstreamz: NewSource: Config.MaxInFlight must be at least 1, got 0"},
		{"FetchWait", b.cons, Config{MaxInFlight: 1, FetchWait: -1}, "jetstreamz: NewSource: Config.FetchWait must not be negative, got -1ns"},
		{"KeepAlive", b.cons, Config{MaxInFlight: 1, KeepAlive: 10 * time.Second}, "jetstreamz: NewSource: Config.KeepAlive must be less than the consumer's AckWait of 10s, got 10s"},
		{"AckAll", ackAll, Config{MaxInFlight: 1}, "jetstreamz: NewSource: the consumer's AckPolicy must be AckExplicit, got AckAll"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if got := recover(); got != c.want {
					t.Fatalf("panicked with %v, want %q", got, c.want)
				}
			}()
			NewSource(c.cons, decodeInt, c.cfg)
		})
	}
}

// A slow sink: the Source stops pulling at MaxInFlight, and the server
// never has more than MaxInFlight messages unacked.
func TestSourceStopsPullingAtMaxInFlight(t *testing.T) {
	const maxInFlight, total = 20, 200
	b := newBroker(t, jetstream.ConsumerConfig{})
	publish(t, b.js, 1, total)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: maxInFlight})
	batches := streamz.NewBatcher[Msg[int]](streamz.BatchConfig{MaxSize: 5}, nil).Process(ctx, src.Process(ctx, ctx))
	// The sink takes every batch, and acks nothing until it is opened.
	open := make(chan struct{})
	sinkDone := make(chan struct{})
	go func() {
		defer close(sinkDone)
		var held []Msg[int]
		opened := open
		for {
			select {
			case r, ok := <-batches:
				if !ok {
					return
				}
				held = append(held, r.Value()...)
			case <-opened:
				opened = nil
			}
			if opened == nil {
				for _, m := range held {
					m.Ack()
				}
				held = held[:0]
			}
		}
	}()
	b.waitInfo(t, "MaxInFlight messages pulled and no pull request open", func(info *jetstream.ConsumerInfo) bool {
		if info.NumAckPending > maxInFlight {
			t.Fatalf("the server has %d messages unacked, more than MaxInFlight %d", info.NumAckPending, maxInFlight)
		}
		return info.NumAckPending == maxInFlight && info.NumWaiting == 0
	})
	// The Source has stopped: it asks for nothing more while the sink holds
	// MaxInFlight messages.
	for range 50 {
		info := b.info(t)
		if info.NumAckPending != maxInFlight || info.NumWaiting != 0 || info.NumPending != total-maxInFlight {
			t.Fatalf("while the sink is stalled: %+v", *info)
		}
	}
	close(open)
	b.waitInfo(t, "every message acked", drained(total))
	cancel()
	<-sinkDone
	waitDone(t, src)
}

// A graceful close: the partial batch is flushed and acked, and what the
// Source pulled but had not handed on is nak'ed at once, so a second
// consumer gets it although AckWait is an hour.
func TestSourceStopFlushesAndNaksTheRest(t *testing.T) {
	const total, held = 40, 26
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Hour})
	publish(t, b.js, 1, total)
	signalled, stop := context.WithCancel(context.Background())
	ctx, cancel := streamz.WithGrace(signalled, testWait, nil)
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 30})
	gate, holding := make(chan struct{}), make(chan struct{})
	var passed atomic.Int64
	gated := streamz.NewMapper(func(_ context.Context, m Msg[int]) (Msg[int], error) {
		if passed.Add(1) == held {
			close(holding)
			<-gate
		}
		return m, nil
	}).Process(ctx, src.Process(ctx, signalled))
	batches := streamz.NewBatcher[Msg[int]](streamz.BatchConfig{MaxSize: 10, MaxLatency: time.Hour}, nil).Process(ctx, gated)
	var sizes []int
	acked := map[int]bool{}
	sinkDone := sinkBatches(t, batches, func(batch []Msg[int]) {
		sizes = append(sizes, len(batch))
		for _, m := range batch {
			acked[m.Value] = true
			m.Ack()
		}
	})
	<-holding
	b.waitInfo(t, "the two full batches acked", func(info *jetstream.ConsumerInfo) bool {
		return info.AckFloor.Stream == 20
	})
	stop()
	close(gate)
	<-sinkDone
	waitDone(t, src)
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] < held-20 || sizes[2] >= 10 {
		t.Fatalf("the sink got batches of %v, want 10, 10 and the partial batch of at least %d", sizes, held-20)
	}
	info := b.waitInfo(t, "the flushed batch acked", func(info *jetstream.ConsumerInfo) bool {
		return info.AckFloor.Stream == uint64(len(acked))
	})
	if info.NumRedelivered != 0 {
		t.Fatalf("before anything was redelivered: %+v", *info)
	}

	consumeRest(t, b, acked, total)
}

// A stop given only to a TakeUntil after the Source: what the TakeUntil
// took is delivered, and what the Source holds is nak'ed at the end of the
// grace period.
func TestSourceComposesWithTakeUntil(t *testing.T) {
	const total = 20
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Hour})
	publish(t, b.js, 1, total)
	signalled, stop := context.WithCancel(context.Background())
	ctx, cancel := streamz.WithGrace(signalled, 100*time.Millisecond, nil)
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 3})
	pulled := src.Process(ctx, context.Background())
	// The test hands the Source's messages to the TakeUntil itself: a send
	// on the unbuffered in returns once the TakeUntil has taken the
	// message, so the stop below finds the second one held there, and not
	// still on its way.
	in := make(chan streamz.Result[Msg[int]])
	until := streamz.NewTakeUntil[Msg[int]](signalled).Process(ctx, in)
	acked := map[int]bool{}
	take := func(r streamz.Result[Msg[int]]) {
		acked[r.Value().Value] = true
		r.Value().Ack()
	}
	in <- next(t, pulled)
	take(next(t, until))
	in <- next(t, pulled)
	// The TakeUntil holds the second message, the Source the third.
	b.waitInfo(t, "three pulled, one acked", func(info *jetstream.ConsumerInfo) bool {
		return info.AckFloor.Stream == 1 && info.NumAckPending == 2 && info.NumWaiting == 0
	})
	stop()
	for r := range until {
		take(r)
	}
	waitDone(t, src)
	if len(acked) != 2 || !acked[2] {
		t.Fatalf("took %v, want 1 and the 2 that the TakeUntil held", acked)
	}
	consumeRest(t, b, acked, total)
}

// consumeRest runs a fresh Source on b's consumer until it has taken every
// message from 1 to total that is not in done, and fails if one that is
// comes, or one comes twice. It acks each, and ends the Source once the
// server has them all acked.
func consumeRest(t *testing.T, b *broker, done map[int]bool, total int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 30})
	out := src.Process(ctx, ctx)
	for len(done) < total {
		m := next(t, out).Value()
		if done[m.Value] {
			t.Fatalf("message %d came again", m.Value)
		}
		done[m.Value] = true
		m.Ack()
	}
	b.waitInfo(t, "every message acked", drained(uint64(total)))
	endSource(t, cancel, src, out)
}

// observeAcks subscribes on nc to the acknowledgements sent for the
// consumer's messages: "+ACK", "-NAK", "+TERM", "+WPI" and their variants.
func observeAcks(t *testing.T, nc *nats.Conn) chan *nats.Msg {
	t.Helper()
	acks := make(chan *nats.Msg, 1000)
	sub, err := nc.ChanSubscribe("$JS.ACK."+testStream+"."+testConsumer+".>", acks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return acks
}

// sentAcks returns the acknowledgements observed so far. Flushing nc first
// makes it include every one that nc sent before the call.
func sentAcks(t *testing.T, nc *nats.Conn, acks chan *nats.Msg) []string {
	t.Helper()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		select {
		case m := <-acks:
			got = append(got, string(m.Data))
		default:
			return got
		}
	}
}

// The heartbeats are timed on the Source's Clock: KeepAlive (by default
// half the AckWait) after a message is pulled, and every KeepAlive after,
// until it is settled.
func TestSourceKeepAliveRunsOnTheClock(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: 20 * time.Second})
	acks := observeAcks(t, b.nc)
	publish(t, b.js, 1, 2)
	clock := streamz.NewFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// KeepAlive is half the AckWait: 10s.
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 10, Clock: clock})
	out := src.Process(ctx, ctx)
	first, second := next(t, out).Value(), next(t, out).Value()
	clock.Advance(10*time.Second - time.Nanosecond)
	if got := sentAcks(t, b.nc, acks); len(got) != 0 {
		t.Fatalf("before KeepAlive has passed, sent %q", got)
	}
	clock.Advance(time.Nanosecond)
	if got := sentAcks(t, b.nc, acks); len(got) != 2 || got[0] != "+WPI" || got[1] != "+WPI" {
		t.Fatalf("at KeepAlive, sent %q, want two heartbeats", got)
	}
	first.Ack()
	clock.Advance(10 * time.Second)
	if got := sentAcks(t, b.nc, acks); len(got) != 2 || got[0] != "+ACK" || got[1] != "+WPI" {
		t.Fatalf("after acking one, at 2*KeepAlive, sent %q, want its ack and a heartbeat for the other", got)
	}
	second.Term()
	clock.Advance(time.Minute)
	if got := sentAcks(t, b.nc, acks); len(got) != 1 || got[0] != "+TERM" {
		t.Fatalf("after the term, sent %q, want the term and no heartbeat", got)
	}
	endSource(t, cancel, src, out)
}

// Items held longer than AckWait: with the keep-alive, none comes twice;
// without it, the server redelivers them while the Batcher holds them.
func TestSourceKeepAliveStopsRedelivery(t *testing.T) {
	const total = 20
	const ackWait = 500 * time.Millisecond
	for _, c := range []struct {
		name      string
		keepAlive time.Duration
		wantDups  bool
	}{
		// A quarter of AckWait leaves a loaded machine room to be late.
		{"with", ackWait / 4, false},
		{"without", -1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBroker(t, jetstream.ConsumerConfig{AckWait: ackWait})
			publish(t, b.js, 1, total)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 3 * total, KeepAlive: c.keepAlive, FetchWait: 100 * time.Millisecond})
			// The batch is emitted 4 AckWaits after its first item.
			batches := streamz.NewBatcher[Msg[int]](streamz.BatchConfig{MaxSize: 3 * total, MaxLatency: 4 * ackWait}, nil).Process(ctx, src.Process(ctx, ctx))
			r := next(t, batches)
			seen := map[int]bool{}
			dups := 0
			for _, m := range r.Value() {
				if seen[m.Value] {
					dups++
				}
				seen[m.Value] = true
				m.Ack()
			}
			if len(seen) != total || (dups > 0) != c.wantDups {
				t.Fatalf("the batch held %d distinct messages and %d duplicates", len(seen), dups)
			}
			cancel()
			for r := range batches {
				for _, m := range r.Value() {
					m.Ack()
				}
			}
			waitDone(t, src)
		})
	}
}

// A message is acked, nak'ed or termed once, when its last copy is
// settled, by the worst of its copies' outcomes, and a nak takes the
// greatest delay asked for.
func TestMsgSettlesOnceByTheWorstCopy(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Hour})
	acks := observeAcks(t, b.nc)
	publish(t, b.js, 1, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 3})
	out := src.Process(ctx, ctx)
	naked, termed, acked := next(t, out).Value(), next(t, out).Value(), next(t, out).Value()

	naked.Copied(2)
	naked.Ack()
	naked.Nak(time.Minute)
	if got := sentAcks(t, b.nc, acks); len(got) != 0 {
		t.Fatalf("with a copy unsettled, sent %q", got)
	}
	naked.Nak(time.Second)
	termed.Copied(1)
	termed.Term()
	termed.Ack()
	acked.Ack()
	acked.Nak(0) // after the ack: ignored
	want := []string{fmt.Sprintf(`-NAK {"delay": %d}`, time.Minute), "+TERM", "+ACK"}
	if got := sentAcks(t, b.nc, acks); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sent %q, want %q", got, want)
	}
	endSource(t, cancel, src, out)
}

// Carry moves the acknowledgement to the Mapper's new value: acking the
// carried message acks the original, with its metadata kept.
func TestCarryAcksThroughAMapper(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Hour})
	publish(t, b.js, 1, 10)
	stop, stopNow := context.WithCancel(context.Background())
	ctx, cancel := streamz.WithGrace(stop, testWait, nil)
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 10})
	labels := streamz.NewMapper(func(_ context.Context, m Msg[int]) (Msg[string], error) {
		return Carry(m, fmt.Sprintf("order %d", m.Value)), nil
	}).Process(ctx, src.Process(ctx, stop))
	for want := 1; want <= 10; want++ {
		m := next(t, labels).Value()
		if m.Value != fmt.Sprintf("order %d", want) || m.Sequence != uint64(want) || m.Headers.Get("Test-Key") != strconv.Itoa(want) {
			t.Fatalf("got %+v", m)
		}
		m.Ack()
	}
	b.waitInfo(t, "every message acked", drained(10))
	stopNow()
	for range labels {
		t.Fatal("a message after the last")
	}
	waitDone(t, src)
}

// At the end of ctx the Source naks every message still unsettled, even
// one that code outside streamz holds, and a later settle does nothing.
func TestSourceNaksWhatIsHeldWhenCtxEnds(t *testing.T) {
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Hour})
	acks := observeAcks(t, b.nc)
	publish(t, b.js, 1, 3)
	ctx, cancel := context.WithCancel(context.Background())
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 3})
	out := src.Process(ctx, context.Background())
	var held []Msg[int]
	for range 3 {
		held = append(held, next(t, out).Value())
	}
	cancel()
	waitDone(t, src)
	if _, ok := <-out; ok {
		t.Fatal("the output is open after ctx ended")
	}
	for _, m := range held {
		m.Ack()
	}
	if got := sentAcks(t, b.nc, acks); strings.Join(got, "|") != "-NAK|-NAK|-NAK" {
		t.Fatalf("sent %q, want three naks", got)
	}
}

// A consumer that limits pull requests: the Source asks within its
// MaxRequestBatch and MaxRequestExpires, which the server would refuse.
func TestSourceKeepsToTheConsumersRequestLimits(t *testing.T) {
	const total = 50
	b := newBroker(t, jetstream.ConsumerConfig{MaxRequestBatch: 5, MaxRequestExpires: 500 * time.Millisecond})
	publish(t, b.js, 1, total)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failures atomic.Int64
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: 20, OnError: func(error) { failures.Add(1) }})
	out := src.Process(ctx, ctx)
	for want := 1; want <= total; want++ {
		if m := next(t, out).Value(); m.Value != want {
			t.Fatalf("got %d, want %d", m.Value, want)
		} else {
			m.Ack()
		}
	}
	b.waitInfo(t, "every message acked", drained(total))
	endSource(t, cancel, src, out)
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d pulls failed", n)
	}
}
