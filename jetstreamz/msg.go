package jetstreamz

import (
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
)

// Msg is one JetStream message in a pipeline: its decoded Value, its
// metadata, and the acknowledgement it owes the server.
//
// Msg implements [streamz.Settler], so the processors of streamz settle it
// as their package docs say (a Filter's reject is Discarded, a cancel
// Loses what is held, a FanOut copies it). Ack, Nak and Term are the same
// settling, for the code that ends the pipeline. Go copies of a Msg,
// including those Carry makes, share one acknowledgement; the message is
// acked, nak'ed or termed once, when its last holder has settled, by the
// greatest of the holders' outcomes:
//
//	Outcome                      Sent to the server
//	streamz.Acked, Discarded     Ack
//	streamz.Rejected             Term (never delivered again)
//	streamz.Lost                 Nak, with the greatest delay any holder asked for
//
// Each holder settles its copy once: a second settle is taken for another
// holder's, and may settle the message early. A settle after the message
// has been acked, nak'ed or termed (by its holders, or by the Source at the
// end of its ctx) is ignored. The zero Msg carries no acknowledgement, and
// settling it does nothing.
type Msg[T any] struct {
	// Value is what the Source's decode function made of the message's
	// data, or the zero T in an error Result for a failed decode.
	Value T
	// Stream is the name of the stream the message is stored in.
	Stream string
	// Subject is the subject the message was published to.
	Subject string
	// Sequence is the message's sequence in its stream: the same on every
	// delivery, so it is the idempotency key for a sink that may see a
	// message twice.
	Sequence uint64
	// ConsumerSequence is the consumer's count of deliveries, redeliveries
	// included, at this delivery.
	ConsumerSequence uint64
	// Deliveries is how many times the message has been delivered, 1 on
	// the first delivery.
	Deliveries uint64
	// Headers are the message's headers, as published. They are shared by
	// every copy; do not modify them.
	Headers nats.Header
	// Timestamp is when the stream stored the message.
	Timestamp time.Time

	ack *ack
}

// ack is the acknowledgement shared by every copy of one delivered Msg.
type ack struct {
	settlement *streamz.Settlement
	msg        jetstream.Msg
	run        *run
	// nakDelay is the greatest delay a holder's Nak asked for, in
	// nanoseconds.
	nakDelay atomic.Int64
	// due is when the next in-progress heartbeat is due; prev and next
	// link the run's list of unsettled messages. All three are guarded
	// by run.mu.
	due        time.Time
	prev, next *ack
	linked     bool
}

// Settle records the outcome of this holder's copy, as [streamz.Settler]
// asks; see Msg for what is sent when.
func (m Msg[T]) Settle(o streamz.Outcome) {
	if m.ack != nil {
		m.ack.settlement.Settle(o)
	}
}

// Copied records that n more holders share the message, each of which
// will settle its own copy, as [streamz.Settler] asks.
func (m Msg[T]) Copied(n int) {
	if m.ack != nil {
		m.ack.settlement.Copied(n)
	}
}

// Ack settles this holder's copy as done: streamz.Acked.
func (m Msg[T]) Ack() { m.Settle(streamz.Acked) }

// Nak settles this holder's copy as streamz.Lost, asking for redelivery
// after delay; a delay of zero or less asks for it at once. The message is
// nak'ed with the greatest delay any of its holders asked for.
func (m Msg[T]) Nak(delay time.Duration) {
	if m.ack == nil {
		return
	}
	for {
		d := m.ack.nakDelay.Load()
		if int64(delay) <= d || m.ack.nakDelay.CompareAndSwap(d, int64(delay)) {
			break
		}
	}
	m.Settle(streamz.Lost)
}

// Term settles this holder's copy as streamz.Rejected: unless another
// holder loses its copy, the message is termed and never delivered again.
func (m Msg[T]) Term() { m.Settle(streamz.Rejected) }

// LastDelivery reports whether the server will not deliver the message
// again after a nak: its Deliveries have reached the consumer's
// MaxDeliver. A sink that cannot process such a message should dead-letter
// it (see DeadLetterTo) rather than nak it, which would leave it unacked
// on the server for ever.
func (m Msg[T]) LastDelivery() bool {
	return m.ack != nil && m.ack.run.maxDeliver > 0 && m.Deliveries >= uint64(m.ack.run.maxDeliver)
}

// Data returns the message's payload as it was published, before decoding.
// It is shared by every copy; do not modify it.
func (m Msg[T]) Data() []byte {
	if m.ack == nil {
		return nil
	}
	return m.ack.msg.Data()
}

// Carry returns a Msg holding v, with m's metadata and m's
// acknowledgement, for a Mapper that turns one value into another: the
// result is another copy of the same message, not a new holder, so the
// Mapper's output is settled in m's place and m must not be settled too.
func Carry[T, U any](m Msg[T], v U) Msg[U] {
	return Msg[U]{
		Value:            v,
		Stream:           m.Stream,
		Subject:          m.Subject,
		Sequence:         m.Sequence,
		ConsumerSequence: m.ConsumerSequence,
		Deliveries:       m.Deliveries,
		Headers:          m.Headers,
		Timestamp:        m.Timestamp,
		ack:              m.ack,
	}
}
