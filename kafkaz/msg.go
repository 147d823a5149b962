package kafkaz

import (
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/zoobzio/streamz"
)

// Msg is one delivery of a Kafka record to its partition's pipeline: the
// decoded Value, the record's metadata, and the acknowledgement that tells
// the Source what became of the record.
//
// A Msg implements [streamz.Settler], so every streamz processor settles
// the Msgs it drops (see the streamz package docs for which processor does
// what). The outcomes mean, for the record's offset:
//
//   - Acked (Ack), Discarded, Rejected (Term): the record is done with, and
//     the Source may commit past it;
//   - Lost (Nak, or a processor dropping it at a cancel or a timeout): the
//     record is delivered again, as a new Msg with one more Deliveries, on
//     the same partition's stream, after the Nak's delay (none for a plain
//     Lost), and no commit passes its offset until a later delivery of it
//     settles otherwise. Once its partition is revoked or the Source is
//     closing, it is not delivered again, and stays uncommitted, so that
//     the partition's next owner receives it.
//
// Go copies of a Msg, and the Msg that [Carry] makes, share one
// acknowledgement: they are one holder, and only one of them is settled,
// unless Copied has said there are more. The first settle of a holder
// counts; a later one is ignored. A settle from an assignment that has
// ended (the partition was revoked, or the Source has committed for the
// last time) is ignored too.
//
// The zero Msg carries no acknowledgement, and its methods do nothing.
type Msg[T any] struct {
	// Value is the record decoded by Config.Decode; for a record that
	// failed to decode it is the zero value, in the error Result's
	// StreamError.Item.
	Value T
	// Topic, Partition and Offset locate the record in the log. Together
	// they are a unique, stable key: use them to make a sink idempotent.
	Topic     string
	Partition int32
	Offset    int64
	// Key, Headers and Timestamp are the record's. They share memory with
	// the fetched record: do not modify them.
	Key       []byte
	Headers   []kgo.RecordHeader
	Timestamp time.Time
	// Deliveries counts this record's deliveries within the current
	// assignment of its partition: 1 for the first, one more for each
	// delivery after a Nak or a Lost. A new owner, or a process restart,
	// counts from 1 again.
	Deliveries int

	ack *ack
}

// ack is what every copy of one delivery shares. It is not generic, so
// that Carry can move it to a Msg of another type.
type ack struct {
	settlement *streamz.Settlement
	// nakDelay is the longest delay, in nanoseconds, asked for by a Nak of
	// any copy.
	nakDelay atomic.Int64
	record   *kgo.Record
}

// Ack settles m as Acked: the sink has finished with it.
func (m Msg[T]) Ack() { m.Settle(streamz.Acked) }

// Nak settles m as Lost and asks for its record to be delivered again after
// delay, timed on the Source's Clock (a zero or negative delay means at
// once); Kafka has no nak of its own, so the Source redelivers it. If
// several copies are naked, the longest delay is used. See Msg for when the
// record is not delivered again.
func (m Msg[T]) Nak(delay time.Duration) {
	if m.ack == nil {
		return
	}
	for {
		old := m.ack.nakDelay.Load()
		if int64(delay) <= old || m.ack.nakDelay.CompareAndSwap(old, int64(delay)) {
			break
		}
	}
	m.Settle(streamz.Lost)
}

// Term settles m as Rejected: the record can never be processed, it is
// not delivered again, and the Source may commit past it.
func (m Msg[T]) Term() { m.Settle(streamz.Rejected) }

// Settle records the outcome of this holder's copy of m, as
// [streamz.Settler] says.
func (m Msg[T]) Settle(o streamz.Outcome) {
	if m.ack != nil {
		m.ack.settlement.Settle(o)
	}
}

// Copied records that m has n more holders, each of which settles its own
// copy, as [streamz.Settler] says.
func (m Msg[T]) Copied(n int) {
	if m.ack != nil {
		m.ack.settlement.Copied(n)
	}
}

// Record returns the fetched record m was decoded from, or nil for the zero
// Msg. It is shared by every delivery of the record: do not modify it.
func (m Msg[T]) Record() *kgo.Record {
	if m.ack == nil {
		return nil
	}
	return m.ack.record
}

// Carry returns a Msg holding v with m's metadata and m's acknowledgement,
// for a Mapper that changes the value's type. The result replaces m as the
// holder: settle one of them, not both.
func Carry[T, U any](m Msg[T], v U) Msg[U] {
	return Msg[U]{
		Value:      v,
		Topic:      m.Topic,
		Partition:  m.Partition,
		Offset:     m.Offset,
		Key:        m.Key,
		Headers:    m.Headers,
		Timestamp:  m.Timestamp,
		Deliveries: m.Deliveries,
		ack:        m.ack,
	}
}
