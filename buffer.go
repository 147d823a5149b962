package streamz

import (
	"context"
	"fmt"
)

// Buffer decouples a producer from a slower consumer: its output channel
// has room for a fixed number of items, so the producer can run that far
// ahead.
//
// Items, errors included, pass through unchanged and in order.
type Buffer[T any] struct {
	name string
	size int
}

// NewBuffer returns a Buffer named "buffer" whose output holds up to size
// items. Zero gives an unbuffered output. A negative size is accepted here
// and makes Process panic, as it always has.
func NewBuffer[T any](size int) *Buffer[T] {
	return &Buffer[T]{name: "buffer", size: size}
}

// Name returns "buffer".
func (b *Buffer[T]) Name() string { return b.name }

// Process forwards in on a channel with capacity size and returns it. It
// panics if size is negative.
//
// When in is closed, the output is closed after the last item; items still
// buffered stay readable before the close is seen. When ctx is cancelled,
// the Buffer stops promptly, even while in is idle or nobody reads the
// output, and closes the output: the item it was holding, if any, is
// dropped, and the items already buffered stay readable.
func (b *Buffer[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	if b.size < 0 {
		panic(fmt.Sprintf("streamz: Buffer.Process: size must not be negative, got %d", b.size))
	}
	out := make(chan Result[T], b.size)
	lp := newLoop(ctx, "Buffer.Process", nil, in, out)
	go func() {
		defer lp.exit()
		defer close(out)
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok || !send(lp, out, r) {
				return
			}
		}
	}()
	return out
}
