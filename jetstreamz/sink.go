package jetstreamz

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Backoff returns how long the server should wait before it redelivers a
// message that failed on its deliveries-th delivery (1 for the first).
type Backoff func(deliveries uint64) time.Duration

// ExponentialBackoff returns a Backoff that waits first after the first
// delivery and twice as long after each further one, up to limit. It
// panics unless 0 < first <= limit.
func ExponentialBackoff(first, limit time.Duration) Backoff {
	if first <= 0 || limit < first {
		panic(fmt.Sprintf("jetstreamz: ExponentialBackoff: need 0 < first <= limit, got first %v and limit %v", first, limit))
	}
	return func(deliveries uint64) time.Duration {
		d := first
		for i := uint64(1); i < deliveries && d < limit; i++ {
			d *= 2
		}
		return min(d, limit)
	}
}

// WriteBatch writes batch with write and settles every message of it: each
// is acked if write returns nil. Otherwise each is nak'ed with the delay
// backoff gives for its Deliveries, except that a message on its
// LastDelivery goes to deadLetter, when that is not nil, with write's
// error; a nak would leave it unacked on the server for ever. WriteBatch
// returns write's error joined with deadLetter's.
//
// It is the sink for a Batcher's output: the batch is acked as a whole,
// only after the write, so a crash before the ack redelivers exactly the
// messages that were not acked, and a sink that may see a message twice
// can recognise it by its Sequence. It panics if write or backoff is nil.
func WriteBatch[T any](ctx context.Context, batch []Msg[T], write func(context.Context, []Msg[T]) error, backoff Backoff, deadLetter func(context.Context, Msg[T], error) error) error {
	if write == nil || backoff == nil {
		panic("jetstreamz: WriteBatch: write and backoff must not be nil")
	}
	err := write(ctx, batch)
	if err == nil {
		for _, m := range batch {
			m.Ack()
		}
		return nil
	}
	errs := []error{err}
	for _, m := range batch {
		if deadLetter != nil && m.LastDelivery() {
			errs = append(errs, deadLetter(ctx, m, err))
			continue
		}
		m.Nak(backoff(m.Deliveries))
	}
	return errors.Join(errs...)
}

// Headers that DeadLetterTo adds to a dead letter, beside the original's.
const (
	// HeaderError holds the error the message failed with.
	HeaderError = "Streamz-Error"
	// HeaderStream and HeaderSequence name the original message's stream
	// and its sequence there.
	HeaderStream   = "Streamz-Stream"
	HeaderSequence = "Streamz-Sequence"
	// HeaderSubject holds the subject the original was published to.
	HeaderSubject = "Streamz-Subject"
)

// DeadLetterTo returns a function that dead-letters a message: it
// publishes the message's original data to subject through js, with the
// original's headers (except those that start with "Nats-", which direct
// how the server stores a publish; Nats-Msg-Id is kept) and HeaderError,
// HeaderStream, HeaderSequence and HeaderSubject added, waits for the stream that stores subject to
// acknowledge it, and only then terms the message, so that it is neither
// lost nor delivered again. If the publish fails, the message is nak'ed
// instead, for a later attempt, and the error returned says so. It panics
// if js is nil or subject is empty.
func DeadLetterTo[T any](js jetstream.JetStream, subject string) func(ctx context.Context, m Msg[T], cause error) error {
	if js == nil {
		panic("jetstreamz: DeadLetterTo: js must not be nil")
	}
	if subject == "" {
		panic("jetstreamz: DeadLetterTo: subject must not be empty")
	}
	return func(ctx context.Context, m Msg[T], cause error) error {
		letter := nats.NewMsg(subject)
		letter.Data = m.Data()
		for k, vs := range m.Headers {
			if strings.HasPrefix(k, "Nats-") && k != jetstream.MsgIDHeader {
				// They tell the server how to store a publish (an
				// expected stream or sequence, a rollup, a TTL), and
				// were meant for the original's.
				continue
			}
			for _, v := range vs {
				letter.Header.Add(k, v)
			}
		}
		letter.Header.Set(HeaderError, fmt.Sprint(cause))
		letter.Header.Set(HeaderStream, m.Stream)
		letter.Header.Set(HeaderSequence, strconv.FormatUint(m.Sequence, 10))
		letter.Header.Set(HeaderSubject, m.Subject)
		if _, err := js.PublishMsg(ctx, letter); err != nil {
			m.Nak(0)
			return fmt.Errorf("jetstreamz: dead-lettering stream sequence %d to %q failed, nak'ed it: %w", m.Sequence, subject, err)
		}
		m.Term()
		return nil
	}
}
