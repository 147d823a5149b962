package streamz

import (
	"context"
	"math/rand/v2"
)

// Sample keeps each success item with probability rate, independently of
// the others, and drops the rest. Errors always pass.
//
// Kept items and errors are forwarded unchanged, metadata included, and in
// order. Draws come from a fast pseudo-random source (math/rand/v2) seeded
// afresh for each Process call; they are not cryptographic and cannot be
// seeded by the caller.
type Sample[T any] struct {
	name string
	rate float64
	// newSource, when set, makes the source of each Process call; tests
	// use it to pin the draws.
	newSource func() rand.Source
}

// NewSample returns a Sample named "sample" that keeps items with
// probability rate. Rate 0 drops every success and rate 1 keeps every one,
// deterministically. It panics with the string "sample rate must be between
// 0.0 and 1.0" when rate is below 0, above 1 or NaN.
func NewSample[T any](rate float64) *Sample[T] {
	if !(rate >= 0 && rate <= 1) {
		panic("sample rate must be between 0.0 and 1.0")
	}
	return &Sample[T]{name: "sample", rate: rate}
}

// WithName sets the Sample's name and returns the Sample. It must not be
// called while Process runs.
func (s *Sample[T]) WithName(name string) *Sample[T] {
	s.name = name
	return s
}

// Name returns the Sample's name, "sample" unless WithName changed it.
func (s *Sample[T]) Name() string { return s.name }

// Rate returns the rate given to NewSample.
func (s *Sample[T]) Rate() float64 { return s.rate }

// Process samples in and returns the output channel, which is unbuffered.
//
// Each success is kept when a uniform draw in [0, 1) is below the rate. At
// rate 1 no draw is made: every success is kept, at the cost of forwarding.
//
// When in is closed, the output is closed after the last item. When ctx is
// cancelled, the output is closed promptly, even while in is idle or nobody
// reads the output; the item being sent, if any, is dropped, and no item
// taken from in after cancellation is emitted. Each call is independent, so
// one Sample can serve many streams.
func (s *Sample[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	out := make(chan Result[T])
	lp := newLoop(ctx, "Sample.Process", nil, in, out)
	rate := s.rate
	var src rand.Source
	if s.newSource != nil {
		src = s.newSource()
	} else {
		src = rand.NewPCG(rand.Uint64(), rand.Uint64())
	}
	rng := rand.New(src)
	settling := settles[T]()
	go func() {
		defer lp.exit()
		defer close(out)
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok {
				return
			}
			if r.err == nil && rate < 1 && !(rng.Float64() < rate) {
				settleResult(settling, r, Discarded)
				continue
			}
			if !send(lp, out, r) {
				return
			}
		}
	}()
	return out
}
