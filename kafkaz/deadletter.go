package kafkaz

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Headers SendDeadLetter adds to a dead letter, after the original
// record's own.
const (
	HeaderError     = "kafkaz-error"     // the error, as text
	HeaderTopic     = "kafkaz-topic"     // the original record's topic
	HeaderPartition = "kafkaz-partition" // its partition, in decimal
	HeaderOffset    = "kafkaz-offset"    // its offset, in decimal
)

// SendDeadLetter produces m's record to topic with client, and then terms
// m, so that the Source commits past it and never delivers it again. The
// dead letter has the original record's key, value and headers, in order,
// followed by HeaderError with cause's text and HeaderTopic,
// HeaderPartition and HeaderOffset naming the original. It waits for the
// broker to acknowledge the produce (with the client's acks setting); if
// the produce fails, m is left unsettled and the error is returned, so the
// caller can nak it instead. A zero Msg, which has no record, is an error.
// Use it as SinkConfig.DeadLetter:
//
//	DeadLetter: func(ctx context.Context, m kafkaz.Msg[Event], err error) error {
//		return kafkaz.SendDeadLetter(ctx, client, "events.dead", m, err)
//	},
func SendDeadLetter[T any](ctx context.Context, client *kgo.Client, topic string, m Msg[T], cause error) error {
	orig := m.Record()
	if orig == nil {
		return fmt.Errorf("kafkaz: SendDeadLetter: the Msg has no record")
	}
	headers := make([]kgo.RecordHeader, 0, len(orig.Headers)+4)
	headers = append(headers, orig.Headers...)
	errText := "<nil>"
	if cause != nil {
		errText = cause.Error()
	}
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderError, Value: []byte(errText)},
		kgo.RecordHeader{Key: HeaderTopic, Value: []byte(orig.Topic)},
		kgo.RecordHeader{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(orig.Partition), 10)},
		kgo.RecordHeader{Key: HeaderOffset, Value: strconv.AppendInt(nil, orig.Offset, 10)},
	)
	dead := &kgo.Record{Topic: topic, Key: orig.Key, Value: orig.Value, Headers: headers}
	if err := client.ProduceSync(ctx, dead).FirstErr(); err != nil {
		return fmt.Errorf("kafkaz: SendDeadLetter: producing to %s: %w", topic, err)
	}
	m.Term()
	return nil
}
