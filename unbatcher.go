package streamz

import "context"

// Unbatcher splits each batch of a stream back into its items, the inverse
// of a Batcher. It is a FlatMap whose function returns the batch itself:
// see there and at Stage for its order, goroutine, settling and cancel.
//
// A success batch becomes its items, in order, each with the batch's
// metadata; an empty batch emits nothing. An error batch is passed as one
// error: a Result[T] error whose Err is the incoming *StreamError[[]T], so
// errors.As reaches the failed batch and errors.Is its cause, with the zero
// T as Item and the Unbatcher's name.
type Unbatcher[T any] struct {
	name string
}

// NewUnbatcher returns an Unbatcher named "unbatcher".
func NewUnbatcher[T any]() *Unbatcher[T] {
	return &Unbatcher[T]{name: "unbatcher"}
}

// WithName sets the name that the Unbatcher's errors carry, and returns the
// Unbatcher. It must not be called while Process runs.
func (u *Unbatcher[T]) WithName(name string) *Unbatcher[T] {
	u.name = name
	return u
}

// Name returns the Unbatcher's name, "unbatcher" unless WithName changed it.
func (u *Unbatcher[T]) Name() string { return u.name }

// Process unbatches in and returns the output channel, which is
// unbuffered. The Unbatcher emits every item of a batch before it takes the
// next one, and keeps no reference to the batch after that.
func (u *Unbatcher[T]) Process(ctx context.Context, in <-chan Result[[]T]) <-chan Result[T] {
	return NewFlatMap(func(_ context.Context, batch []T) ([]T, error) { return batch, nil }).
		WithName(u.name).Process(ctx, in)
}
