package kafkaz

import (
	"context"
	"time"

	"github.com/zoobzio/streamz"
)

// SinkConfig says how Sink writes batches and what it does after a
// failure.
type SinkConfig[T any] struct {
	// Write writes one batch, and returns nil once it is durable. It is
	// required.
	Write func(ctx context.Context, batch []Msg[T]) error
	// Backoff returns how long to wait before a failed Msg is delivered
	// again, given its Deliveries so far. Nil means no wait.
	Backoff func(deliveries int) time.Duration
	// MaxDeliveries, if above zero, is the count of deliveries after which
	// a failed Msg goes to DeadLetter instead of being delivered again.
	MaxDeliveries int
	// DeadLetter, if not nil, receives each Msg that has failed
	// MaxDeliveries times, with the error, and settles it (as
	// SendDeadLetter does); if it returns an error the Msg is naked as
	// before. Without it a Msg is naked however often it fails.
	DeadLetter func(ctx context.Context, m Msg[T], cause error) error
}

// Sink reads batches of Msgs, from a streamz.Batcher, until in is closed or
// ctx ends. It writes each batch with cfg.Write, and acks every Msg of the
// batch once Write returns nil. After an error it settles each Msg of the
// batch on its own: one delivered MaxDeliveries times (if that is above
// zero) goes to cfg.DeadLetter, when set; every other is naked with the
// delay cfg.Backoff gives for its Deliveries. An error Result (a record
// that failed to decode, a stage's error) is treated as a failed write of
// the Msgs it holds, with its error; route such failures to a dead letter
// earlier if a retry cannot mend them.
//
// Batches are written one at a time, in order. A batch taken when ctx ends
// is still written, with that ctx, and settled by the outcome. Sink panics
// if cfg.Write is nil.
func Sink[T any](ctx context.Context, in <-chan streamz.Result[[]Msg[T]], cfg SinkConfig[T]) {
	if cfg.Write == nil {
		panic("kafkaz: Sink: SinkConfig.Write must not be nil")
	}
	for {
		var r streamz.Result[[]Msg[T]]
		var ok bool
		select {
		case r, ok = <-in:
			if !ok {
				return
			}
		case <-ctx.Done():
			return
		}
		if r.IsError() {
			se := r.Error()
			cfg.failed(ctx, se.Item, se)
			continue
		}
		batch := r.Value()
		if err := cfg.Write(ctx, batch); err != nil {
			cfg.failed(ctx, batch, err)
			continue
		}
		for _, m := range batch {
			m.Ack()
		}
	}
}

// failed settles each Msg of a batch that could not be written.
func (cfg SinkConfig[T]) failed(ctx context.Context, batch []Msg[T], cause error) {
	for _, m := range batch {
		if cfg.MaxDeliveries > 0 && m.Deliveries >= cfg.MaxDeliveries && cfg.DeadLetter != nil {
			if cfg.DeadLetter(ctx, m, cause) == nil {
				continue
			}
		}
		var delay time.Duration
		if cfg.Backoff != nil {
			delay = cfg.Backoff(m.Deliveries)
		}
		m.Nak(delay)
	}
}
