//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnbatcher(t *testing.T) {
	cause := errors.New("insert failed")
	u := NewUnbatcher[int]()
	got := collectResults(u.Process(t.Context(), paFeed(
		NewSuccess([]int{1, 2}).WithMetadata("k", "v"),
		NewSuccess([]int{}),
		NewError([]int{3, 4}, cause, "db"),
		NewSuccess([]int{5}),
	)))
	require.Len(t, got, 4, "an error batch is one error")
	assert.Equal(t, []int{1, 2}, paValues(t, got[:2]))
	v, _ := got[1].GetMetadata("k")
	assert.Equal(t, "v", v, "items keep the batch's metadata")

	require.True(t, got[2].IsError())
	se := got[2].Error()
	assert.Equal(t, "unbatcher", se.ProcessorName)
	assert.Equal(t, 0, se.Item)
	assert.ErrorIs(t, se, cause)
	var batchErr *StreamError[[]int]
	require.ErrorAs(t, se, &batchErr)
	assert.Equal(t, []int{3, 4}, batchErr.Item, "errors.As reaches the failed batch")
	assert.Equal(t, 5, got[3].Value())
}

func TestUnbatcherName(t *testing.T) {
	u := NewUnbatcher[int]()
	assert.Equal(t, "unbatcher", u.Name())
	assert.Same(t, u, u.WithName("rows"))
	assert.Equal(t, "rows", u.Name())
	got := collectResults(u.Process(t.Context(), paFeed(NewError([]int{1}, errors.New("x"), "db"))))
	assert.Equal(t, "rows", got[0].Error().ProcessorName)
}

// Batcher -> Unbatcher gives the stream back, in the plain style on a
// FakeClock, and a cancel closes the output promptly.
func TestUnbatcherAfterBatcher(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	clock := NewFakeClock()
	in := make(chan Result[int])
	batches := NewBatcher[int](BatchConfig{MaxSize: 2, MaxLatency: time.Second}, clock).Process(ctx, in)
	out := NewUnbatcher[int]().Process(ctx, batches)
	for i := range 3 {
		in <- NewSuccess(i)
	}
	assert.Equal(t, 0, paRecv(t, out).Value())
	assert.Equal(t, 1, paRecv(t, out).Value())
	clock.Advance(time.Second)
	assert.Equal(t, 2, paRecv(t, out).Value())
	cancel()
	for range out {
	}
}
