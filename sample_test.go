//go:build go1.25

package streamz

import (
	"context"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampleNameRateAndWithName(t *testing.T) {
	s := NewSample[int](0.25)
	assert.Equal(t, "sample", s.Name())
	assert.Equal(t, 0.25, s.Rate())
	assert.Same(t, s, s.WithName("few"))
	assert.Equal(t, "few", s.Name())
	negZero := math.Copysign(0, -1)
	assert.True(t, math.Signbit(NewSample[int](negZero).Rate()))
}

// The panic value is exactly the string upstream panics with.
func TestSampleRejectsRatesOutsideZeroOne(t *testing.T) {
	for _, rate := range []float64{-0.1, 1.0000001, math.NaN(), math.Inf(1), math.Inf(-1)} {
		var got any
		func() {
			defer func() { got = recover() }()
			NewSample[int](rate)
		}()
		assert.Equalf(t, "sample rate must be between 0.0 and 1.0", got, "rate %v", rate)
	}
	for _, rate := range []float64{0, 1, 0.5} {
		assert.NotPanics(t, func() { NewSample[int](rate) })
	}
}

// paConstSource always returns the same value: the largest possible one
// makes the draw as close to 1 as it gets.
type paConstSource uint64

func (s paConstSource) Uint64() uint64 { return uint64(s) }

// Rate 1 keeps every item, even for the largest draw the source can give.
func TestSampleRateOneKeepsEverything(t *testing.T) {
	s := NewSample[int](1)
	s.newSource = func() rand.Source { return paConstSource(math.MaxUint64) }
	items := make([]int, 1000)
	for i := range items {
		items[i] = i
	}
	assert.Equal(t, items, paValues(t, collectResults(s.Process(t.Context(), paFeed(paInts(items...)...)))))

	// And with the real source, over many items.
	s = NewSample[int](1)
	n := 0
	for range s.Process(t.Context(), paFeed(paInts(make([]int, 20000)...)...)) {
		n++
	}
	assert.Equal(t, 20000, n)
}

// Rate 0 drops every success, even for the smallest draw.
func TestSampleRateZeroDropsEverySuccess(t *testing.T) {
	s := NewSample[int](0)
	s.newSource = func() rand.Source { return paConstSource(0) }
	errIn, _ := paErrIn(1)
	got := collectResults(s.Process(t.Context(), paFeed(NewSuccess(1), errIn, NewSuccess(2))))
	require.Len(t, got, 1)
	assert.Equal(t, errIn, got[0])
}

// Errors pass untouched, metadata and name included, at any rate; kept
// successes are the same Results, in order.
func TestSampleErrorsPassUntouchedKeptItemsUnchanged(t *testing.T) {
	errIn, _ := paErrIn(1)
	in := []Result[int]{NewSuccess(1).WithMetadata("a", 1), errIn, NewSuccess(2)}
	out := NewSample[int](1).Process(t.Context(), paFeed(in...))
	assert.Equal(t, 0, cap(out))
	got := collectResults(out)
	assert.Equal(t, in, got)
	assert.Same(t, errIn.Error(), got[1].Error())

	got = collectResults(NewSample[int](0).WithName("x").Process(t.Context(), paFeed(in...)))
	assert.Equal(t, []Result[int]{errIn}, got)
}

// Items are kept independently with probability rate: within 15% of the
// expected count at 10 000 items, and 50 to 150 of 1000 at rate 0.1.
func TestSampleStatistics(t *testing.T) {
	count := func(rate float64, n int) int {
		k := 0
		for range NewSample[int](rate).Process(t.Context(), paFeed(paInts(make([]int, n)...)...)) {
			k++
		}
		return k
	}
	for _, rate := range []float64{0.25, 0.5, 0.75} {
		k := count(rate, 10000)
		assert.InDeltaf(t, rate*10000, float64(k), rate*10000*0.15, "rate %v", rate)
	}
	k := count(0.1, 1000)
	assert.True(t, k >= 50 && k <= 150, "kept %d of 1000 at rate 0.1", k)
	// Two Process calls draw from their own sources: runs differ.
	a, b := NewSample[int](0.5), NewSample[int](0.5)
	va := paValues(t, collectResults(a.Process(t.Context(), paFeed(paInts(paSeq(200)...)...))))
	vb := paValues(t, collectResults(b.Process(t.Context(), paFeed(paInts(paSeq(200)...)...))))
	assert.NotEqual(t, va, vb)
}

func paSeq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestSampleCancel(t *testing.T) {
	paCancelTests(t, NewSample[int](1).Process, NewSuccess(1))
}

func TestSampleNothingAfterCancel(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan Result[int], 1)
			out := NewSample[int](1).Process(ctx, in)
			synctest.Wait()
			cancel()
			in <- NewSuccess(1)
			paClosed(t, out)
		})
	}
}

func TestSampleSettlesBetweenClockedProcessors(t *testing.T) {
	paSettleBetween(t, 200, NewSample[int](1).Process, []int{1, 2, 3, 4, 5}, []int{1, 2, 3, 4, 5})
}

// ppCountingSource counts its draws.
type ppCountingSource struct{ draws *atomic.Int64 }

func (s ppCountingSource) Uint64() uint64 { s.draws.Add(1); return 0 }

// Rate 1 keeps every success without drawing, so it costs what forwarding
// costs; a rate below 1 draws once per success.
func TestSampleRateOneMakesNoDraw(t *testing.T) {
	for _, c := range []struct {
		rate  float64
		draws int64
	}{{1, 0}, {0.5, 3}} {
		var draws atomic.Int64
		s := NewSample[int](c.rate)
		s.newSource = func() rand.Source { return ppCountingSource{&draws} }
		got := collectResults(s.Process(t.Context(), paFeed(paInts(1, 2, 3)...)))
		assert.Len(t, got, 3, "rate %v", c.rate)
		assert.Equal(t, c.draws, draws.Load(), "draws at rate %v", c.rate)
	}
}
