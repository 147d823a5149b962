// Package jetstreamz is a NATS JetStream source for streamz pipelines, with
// at-least-once delivery: each message is acked only once the pipeline has
// settled it, after the sink has written it or when a processor has
// dropped it on purpose (see Msg). A Source pulls from a pull consumer,
// holds at most Config.MaxInFlight messages unsettled, keeps held ones
// alive with in-progress heartbeats, and on a graceful stop naks what it
// has not handed on. WriteBatch and DeadLetterTo settle at the sink. The
// README shows a whole pipeline and how to scale it out.
package jetstreamz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
)

// Config says how a Source pulls and keeps its messages alive.
type Config struct {
	// MaxInFlight is the most messages the Source holds unsettled: pulled
	// from the server and not yet acked, nak'ed or termed. It asks the
	// server for no more than the difference, so once the pipeline holds
	// MaxInFlight messages the Source stops pulling until one is settled;
	// that is the pipeline's back-pressure on the server. It must be at
	// least 1. The consumer's own MaxAckPending, if lower, bounds it too.
	// The server applies acks apart from pull requests, so for a moment
	// after a burst of acks its count of pending messages may exceed
	// MaxInFlight by the acks it has yet to apply.
	MaxInFlight int
	// KeepAlive is how long a message may be held unsettled before the
	// Source tells the server, with an in-progress heartbeat, that it is
	// still being worked on, and again every KeepAlive after, so that a
	// long Batcher latency or window does not make the server redeliver
	// it. Zero means half the consumer's AckWait (or of its first BackOff
	// step, when that is shorter); a negative value turns heartbeats off.
	// A positive value must be less than that AckWait.
	KeepAlive time.Duration
	// FetchWait is how long one pull request waits on the server for
	// messages when there are fewer than it asked for. It also bounds how
	// long the Source takes, after a stop, to finish the request in hand.
	// Zero means one second; it must not be negative. A consumer's
	// MaxRequestExpires, if shorter, caps it, as its MaxRequestBatch caps
	// the messages one request asks for.
	FetchWait time.Duration
	// Clock times the heartbeats and the pauses after a failed pull. nil
	// means streamz.RealClock. The server's AckWait and FetchWait run on
	// the server's real time, whatever the Clock.
	Clock streamz.Clock
	// OnError, if not nil, is told every failure the Source survives: a
	// pull that failed (the Source pauses, from 50 ms doubling to 5 s,
	// and pulls again), and an ack, nak, term or heartbeat the client
	// could not send (the server then redelivers the message after
	// AckWait). It may be called from several goroutines at once.
	OnError func(error)
}

const (
	defaultFetchWait = time.Second
	firstPullPause   = 50 * time.Millisecond
	lastPullPause    = 5 * time.Second
)

// Source streams the messages of a JetStream pull consumer, each acked only
// once the pipeline has settled it (see Msg).
//
// The consumer must use AckExplicitPolicy: every message is acked on its
// own, and never by a cumulative AckAll, which would ack with a later
// message the earlier ones a crashed pipeline had not finished. Several
// processes may run a Source on the same durable consumer: the server
// shares its messages among them.
type Source[T any] struct {
	consumer   jetstream.Consumer
	decode     func(jetstream.Msg) (T, error)
	config     Config
	maxDeliver int
	maxBatch   int // the consumer's MaxRequestBatch; 0 for none
	started    atomic.Bool
	done       chan struct{}
}

// NewSource returns a Source of consumer's messages, each decoded by
// decode, which must not ack the message itself. It panics if consumer or
// decode is nil, if config is invalid (see Config), or if the consumer's
// cached info says its AckPolicy is not AckExplicitPolicy.
func NewSource[T any](consumer jetstream.Consumer, decode func(jetstream.Msg) (T, error), config Config) *Source[T] {
	if consumer == nil {
		panic("jetstreamz: NewSource: consumer must not be nil")
	}
	if decode == nil {
		panic("jetstreamz: NewSource: decode must not be nil")
	}
	if config.MaxInFlight < 1 {
		panic(fmt.Sprintf("jetstreamz: NewSource: Config.MaxInFlight must be at least 1, got %d", config.MaxInFlight))
	}
	if config.FetchWait < 0 {
		panic(fmt.Sprintf("jetstreamz: NewSource: Config.FetchWait must not be negative, got %v", config.FetchWait))
	}
	if config.FetchWait == 0 {
		config.FetchWait = defaultFetchWait
	}
	if config.Clock == nil {
		config.Clock = streamz.RealClock
	}
	info := consumer.CachedInfo()
	if info == nil {
		panic("jetstreamz: NewSource: the consumer has no cached info")
	}
	if p := info.Config.AckPolicy; p != jetstream.AckExplicitPolicy {
		panic(fmt.Sprintf("jetstreamz: NewSource: the consumer's AckPolicy must be AckExplicit, got %v", p))
	}
	// The server refuses a pull request for more messages, or longer,
	// than the consumer allows.
	if limit := info.Config.MaxRequestExpires; limit > 0 && config.FetchWait > limit {
		config.FetchWait = limit
	}
	ackWait := info.Config.AckWait
	for _, step := range info.Config.BackOff {
		if step < ackWait {
			ackWait = step
		}
	}
	switch {
	case config.KeepAlive == 0:
		config.KeepAlive = ackWait / 2
	case config.KeepAlive > 0 && config.KeepAlive >= ackWait:
		panic(fmt.Sprintf("jetstreamz: NewSource: Config.KeepAlive must be less than the consumer's AckWait of %v, got %v", ackWait, config.KeepAlive))
	}
	return &Source[T]{
		consumer:   consumer,
		decode:     decode,
		config:     config,
		maxDeliver: info.Config.MaxDeliver,
		maxBatch:   info.Config.MaxRequestBatch,
		done:       make(chan struct{}),
	}
}

// Process starts pulling and returns the stream of messages. It may be
// called once; a second call panics.
//
// Each message becomes one Result, in the order the server delivers them:
// a success holding the decoded Msg, or, when decode fails or panics, an
// error Result whose StreamError.Item is the Msg with the zero Value, named
// "jetstreamz.Source". Either way the Msg must be settled, like any other
// (a dead letter is one way, see DeadLetterTo).
//
// Shutting down. When stop ends, the Source stops pulling, naks (at once)
// every message it has pulled and not yet handed on, and closes its
// output, so that the stages after it flush. It then waits for the
// pipeline to settle what it holds. When ctx ends, it closes its output
// promptly if it has not, and naks every message still unsettled, wherever
// it is, so that the server redelivers them at once rather than after
// AckWait; settling such a message later does nothing. Give the pipeline a
// ctx from streamz.WithGrace(stop, ...) and the Source the same stop, and
// a graceful shutdown flushes for the grace period, then naks the rest. A
// stop that never ends (context.Background()) leaves only ctx: then a
// streamz.TakeUntil after the Source can stop the pipeline, and the Source
// naks what it holds when ctx ends. Done says when the Source is finished.
//
// A pull that fails is reported to OnError and tried again, after a pause;
// a closed connection ends the stream as a stop does.
func (s *Source[T]) Process(ctx context.Context, stop context.Context) <-chan streamz.Result[Msg[T]] {
	if ctx == nil || stop == nil {
		panic("jetstreamz: Source.Process: ctx and stop must not be nil")
	}
	if s.started.Swap(true) {
		panic("jetstreamz: Source.Process: called twice")
	}
	r := &run{
		clock:      s.config.Clock,
		keepAlive:  s.config.KeepAlive,
		maxDeliver: s.maxDeliver,
		onError:    s.config.OnError,
		freed:      make(chan struct{}, 1),
	}
	out := make(chan streamz.Result[Msg[T]])
	go func() {
		defer close(s.done)
		if unfinished, release := s.pull(ctx, stop, r, out); unfinished != nil {
			// The request in hand is not cancelled, so that every message
			// the server sends for it is received and nak'ed, rather than
			// dropped by the client and redelivered only after AckWait.
			for jm := range unfinished.Messages() {
				r.track(jm).settlement.Settle(streamz.Lost)
			}
			release()
		}
		r.finish(ctx)
	}()
	return out
}

// Done returns a channel that is closed once the Source has finished:
// after it has closed its output, and every message it pulled has been
// acked, nak'ed or termed, by the pipeline or by the Source at the end of
// ctx.
func (s *Source[T]) Done() <-chan struct{} { return s.done }

// pull fetches and hands on messages until stop or ctx ends, and then
// closes out. If it stopped while handing on a batch, it returns that
// batch, and the function that releases its request once it is drained.
func (s *Source[T]) pull(ctx, stop context.Context, r *run, out chan<- streamz.Result[Msg[T]]) (unfinished jetstream.MessageBatch, release context.CancelFunc) {
	defer close(out)
	pause := firstPullPause
	for ctx.Err() == nil && stop.Err() == nil {
		free := s.config.MaxInFlight - int(r.unsettled.Load())
		if free <= 0 {
			select {
			case <-r.freed:
			case <-stop.Done():
			case <-ctx.Done():
			}
			continue
		}
		if s.maxBatch > 0 {
			free = min(free, s.maxBatch)
		}
		fetchCtx, cancel := context.WithTimeout(ctx, s.config.FetchWait)
		batch, err := s.consumer.Fetch(free, jetstream.FetchContext(fetchCtx))
		if err == nil {
			if !s.deliver(ctx, stop, r, batch, out) {
				return batch, cancel
			}
			err = batch.Error()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				// The request outlived its expiry on the client's
				// side: nothing went wrong.
				err = nil
			}
		}
		cancel()
		if err == nil || ctx.Err() != nil {
			pause = firstPullPause
			continue
		}
		r.report(fmt.Errorf("jetstreamz: Source: pulling from consumer %q: %w", s.consumer.CachedInfo().Name, err))
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil, nil
		}
		wait := r.clock.NewTimer(pause)
		select {
		case <-wait.C():
		case <-stop.Done():
		case <-ctx.Done():
		}
		wait.Stop()
		pause = min(2*pause, lastPullPause)
	}
	return nil, nil
}

// deliver hands on each message of batch, and reports whether it reached
// the end of the batch. When stop or ctx ends first, it naks the message
// in hand and reports false.
func (s *Source[T]) deliver(ctx, stop context.Context, r *run, batch jetstream.MessageBatch, out chan<- streamz.Result[Msg[T]]) bool {
	for jm := range batch.Messages() {
		m, err := s.track(r, jm)
		res := streamz.NewSuccess(m)
		if err != nil {
			res = streamz.NewError(m, err, "jetstreamz.Source")
		}
		if stop.Err() == nil && ctx.Err() == nil {
			select {
			case out <- res:
				continue
			case <-stop.Done():
			case <-ctx.Done():
			}
		}
		m.Settle(streamz.Lost)
		return false
	}
	return true
}

// track makes jm a Msg that r counts as unsettled, and decodes it.
func (s *Source[T]) track(r *run, jm jetstream.Msg) (Msg[T], error) {
	a := r.track(jm)
	m := Msg[T]{Subject: jm.Subject(), Headers: jm.Headers(), ack: a}
	meta, err := jm.Metadata()
	if err != nil {
		return m, fmt.Errorf("jetstreamz: Source: reading the metadata of a message on %q: %w", jm.Subject(), err)
	}
	m.Stream = meta.Stream
	m.Sequence = meta.Sequence.Stream
	m.ConsumerSequence = meta.Sequence.Consumer
	m.Deliveries = meta.NumDelivered
	m.Timestamp = meta.Timestamp
	m.Value, err = s.decodeSafely(jm)
	if err != nil {
		var zero T
		m.Value = zero
	}
	return m, err
}

// decodeSafely calls decode, turning a panic into an error.
func (s *Source[T]) decodeSafely(jm jetstream.Msg) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decode panicked: %v", p)
		}
	}()
	return s.decode(jm)
}

// run is the state of one Process call that the messages' settlements
// share: the count of unsettled messages, and the list of them in the
// order their heartbeats fall due.
type run struct {
	clock      streamz.Clock
	keepAlive  time.Duration // <= 0: no heartbeats
	maxDeliver int
	onError    func(error)
	unsettled  atomic.Int64
	// freed has room for one signal, sent whenever a message is settled.
	freed chan struct{}

	mu         sync.Mutex
	head, tail *ack
	beat       streamz.Timer // armed for head's due time, or nil
	ended      bool          // the run has finished: arm no more heartbeats
}

// track counts jm as unsettled and returns its shared acknowledgement.
func (r *run) track(jm jetstream.Msg) *ack {
	a := &ack{msg: jm, run: r}
	a.settlement = streamz.NewSettlement(a.final)
	r.unsettled.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keepAlive > 0 {
		a.due = r.clock.Now().Add(r.keepAlive)
	}
	r.link(a)
	if r.keepAlive > 0 && r.beat == nil && !r.ended {
		r.beat = r.clock.AfterFunc(r.keepAlive, r.heartbeat)
	}
	return a
}

// heartbeat sends an in-progress heartbeat for every message due one, and
// arms the timer for the next. It holds mu while it sends, so that no
// heartbeat follows a message's ack, nak or term.
// It reports failures once it has let go of mu, so that OnError may
// settle messages.
func (r *run) heartbeat() {
	var failed []error
	r.mu.Lock()
	r.beat = nil
	if !r.ended {
		now := r.clock.Now()
		for a := r.head; a != nil && !a.due.After(now); a = r.head {
			r.unlink(a)
			a.due = now.Add(r.keepAlive)
			r.link(a)
			if err := a.msg.InProgress(); err != nil {
				failed = append(failed, fmt.Errorf("jetstreamz: Source: sending a heartbeat for a message on %q: %w", a.msg.Subject(), err))
			}
		}
		if r.head != nil {
			r.beat = r.clock.AfterFunc(r.head.due.Sub(now), r.heartbeat)
		}
	}
	r.mu.Unlock()
	for _, err := range failed {
		r.report(err)
	}
}

// final sends what the message's settlement came to; the Settlement calls
// it exactly once.
func (a *ack) final(o streamz.Outcome) {
	r := a.run
	r.mu.Lock()
	r.unlink(a)
	r.mu.Unlock()
	var err error
	switch o {
	case streamz.Acked, streamz.Discarded:
		err = a.msg.Ack()
	case streamz.Rejected:
		err = a.msg.Term()
	default:
		if d := time.Duration(a.nakDelay.Load()); d > 0 {
			err = a.msg.NakWithDelay(d)
		} else {
			err = a.msg.Nak()
		}
	}
	if err != nil {
		r.report(fmt.Errorf("jetstreamz: settling a message on %q as %v: %w", a.msg.Subject(), o, err))
	}
	r.unsettled.Add(-1)
	select {
	case r.freed <- struct{}{}:
	default:
	}
}

// finish waits until every message is settled, or ctx ends and it naks
// those that are not, and then stops the heartbeats.
func (r *run) finish(ctx context.Context) {
	deadline := ctx.Done()
	for r.unsettled.Load() > 0 {
		select {
		case <-r.freed:
		case <-deadline:
			// Once every message is closed, the only wait left is for
			// finals that other goroutines have begun.
			deadline = nil
			r.mu.Lock()
			var held []*ack
			for a := r.head; a != nil; a = a.next {
				held = append(held, a)
			}
			r.mu.Unlock()
			for _, a := range held {
				a.settlement.Close(streamz.Lost)
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
	if r.beat != nil {
		r.beat.Stop()
		r.beat = nil
	}
}

// link appends a to the list; mu must be held.
func (r *run) link(a *ack) {
	a.prev, a.next, a.linked = r.tail, nil, true
	if r.tail != nil {
		r.tail.next = a
	} else {
		r.head = a
	}
	r.tail = a
}

// unlink removes a from the list, if it is on it; mu must be held.
func (r *run) unlink(a *ack) {
	if !a.linked {
		return
	}
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		r.head = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	} else {
		r.tail = a.prev
	}
	a.prev, a.next, a.linked = nil, nil, false
}

func (r *run) report(err error) {
	if r.onError != nil {
		r.onError(err)
	}
}
