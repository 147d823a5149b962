//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The constructors validate in a fixed order, with fixed messages.
func TestPartitionConstructorValidation(t *testing.T) {
	key := func(v int) int { return v }
	rr := &RoundRobinPartition[int]{}
	for _, tc := range []struct {
		name string
		f    func() (*Partition[int], error)
		want string
	}{
		{"NewPartition count", func() (*Partition[int], error) {
			return NewPartition(PartitionConfig[int]{PartitionCount: 0, BufferSize: -1})
		}, "partition count must be > 0, got 0"},
		{"NewPartition buffer", func() (*Partition[int], error) {
			return NewPartition(PartitionConfig[int]{PartitionCount: 2, BufferSize: -1})
		}, "buffer size must be >= 0, got -1"},
		{"NewPartition strategy", func() (*Partition[int], error) {
			return NewPartition(PartitionConfig[int]{PartitionCount: 2})
		}, "strategy cannot be nil"},
		{"NewHashPartition count", func() (*Partition[int], error) {
			return NewHashPartition[int, int](-3, nil, -1)
		}, "partition count must be > 0, got -3"},
		{"NewHashPartition buffer", func() (*Partition[int], error) {
			return NewHashPartition[int, int](1, nil, -1)
		}, "buffer size must be >= 0, got -1"},
		{"NewHashPartition extractor", func() (*Partition[int], error) {
			return NewHashPartition[int, int](1, nil, 0)
		}, "key extractor cannot be nil"},
		{"NewRoundRobinPartition count", func() (*Partition[int], error) {
			return NewRoundRobinPartition[int](0, -1)
		}, "partition count must be > 0, got 0"},
		{"NewRoundRobinPartition buffer", func() (*Partition[int], error) {
			return NewRoundRobinPartition[int](1, -5)
		}, "buffer size must be >= 0, got -5"},
	} {
		p, err := tc.f()
		assert.Nil(t, p, tc.name)
		assert.EqualError(t, err, tc.want, tc.name)
	}
	for name, f := range map[string]func() (*Partition[int], error){
		"NewPartition": func() (*Partition[int], error) {
			return NewPartition(PartitionConfig[int]{Strategy: rr, PartitionCount: 1})
		},
		"NewPartition typed nil": func() (*Partition[int], error) {
			return NewPartition(PartitionConfig[int]{Strategy: (*RoundRobinPartition[int])(nil), PartitionCount: 1})
		},
		"NewHashPartition":       func() (*Partition[int], error) { return NewHashPartition(3, key, 2) },
		"NewRoundRobinPartition": func() (*Partition[int], error) { return NewRoundRobinPartition[int](3, 0) },
	} {
		p, err := f()
		assert.NoError(t, err, name)
		assert.NotNil(t, p, name)
	}
}

// pbHashVector is one row of the spec's table: the FNV-1a hash of a key and
// its partition for 3, 4, 5 and 8 partitions.
type pbHashVector struct {
	name string
	hash uint64
	idx  [4]int // n = 3, 4, 5, 8
	got  func() uint64
	// route places the key with a Partition built by NewHashPartition.
	route func(t *testing.T, n int) int
}

var pbPartitionCounts = [4]int{3, 4, 5, 8}

// pbPlace builds NewHashPartition(n) keyed by the value itself, sends key
// through it and returns the partition it came out of.
func pbPlace[K comparable](t *testing.T, key K, n int) int {
	t.Helper()
	p, err := NewHashPartition(n, func(v K) K { return v }, 1)
	require.NoError(t, err)
	in := make(chan Result[K], 1)
	in <- NewSuccess(key)
	close(in)
	outs := p.Process(t.Context(), in)
	idx := -1
	for i, out := range outs {
		for r := range out {
			require.Equal(t, -1, idx, "item came out twice")
			idx = i
			label, _ := r.GetMetadata(MetadataPartitionStrategy)
			assert.Equal(t, "hash", label)
		}
	}
	return idx
}

func pbVector[K comparable](name string, key K, hash uint64, idx [4]int) pbHashVector {
	return pbHashVector{
		name: name, hash: hash, idx: idx,
		got:   func() uint64 { return defaultHasher(key) },
		route: func(t *testing.T, n int) int { return pbPlace(t, key, n) },
	}
}

// The default hasher and the placement are bit-exact with the spec's test
// vectors, for every key type listed there.
func TestPartitionHashVectors(t *testing.T) {
	vectors := []pbHashVector{
		pbVector("empty string", "", 0xcbf29ce484222325, [4]int{2, 1, 2, 5}),
		pbVector("apple", "apple", 0xf74a62a458befdbf, [4]int{0, 3, 0, 7}),
		pbVector("banana", "banana", 0xb4d3b6b1c372c890, [4]int{2, 0, 3, 0}),
		pbVector("k1", "k1", 0x08be0f07b56224c1, [4]int{2, 1, 3, 1}),
		pbVector("int 0", 0, 0xa8c7f832281a39c5, [4]int{1, 1, 0, 5}),
		pbVector("int 1", 1, 0x89cd31291d2aefa4, [4]int{0, 0, 1, 4}),
		pbVector("int 42", 42, 0xff3add6b3789daef, [4]int{0, 3, 0, 7}),
		pbVector("int32 42", int32(42), 0xff3add6b3789daef, [4]int{0, 3, 0, 7}),
		pbVector("int64 42", int64(42), 0xff3add6b3789daef, [4]int{0, 3, 0, 7}),
		pbVector("uint32 42", uint32(42), 0xff3add6b3789daef, [4]int{0, 3, 0, 7}),
		pbVector("uint64 42", uint64(42), 0xff3add6b3789daef, [4]int{0, 3, 0, 7}),
		pbVector("int -7", -7, 0xbfa4a0b237700dfb, [4]int{2, 3, 4, 3}),
		pbVector("float64 1.5", 1.5, 0xaa95e93229a27c80, [4]int{1, 0, 2, 0}),
		pbVector("float32 1.5", float32(1.5), 0xaa95e93229a27c80, [4]int{1, 0, 2, 0}),
		pbVector("uint8 42", uint8(42), 0x07ee7e07b4b19223, [4]int{1, 3, 1, 3}),
		pbVector("string 42", "42", 0x07ee7e07b4b19223, [4]int{1, 3, 1, 3}),
		pbVector("bool true", true, 0x5b5c98ef514dbfa5, [4]int{2, 1, 3, 5}),
		pbVector("string true", "true", 0x5b5c98ef514dbfa5, [4]int{2, 1, 3, 5}),
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			assert.Equal(t, v.hash, v.got(), "hash %#x", v.got())
			for i, n := range pbPartitionCounts {
				assert.Equal(t, v.idx[i], v.route(t, n), "n=%d", n)
			}
		})
	}
}

type pbNamedString string
type pbNamedInt int
type pbStringer struct{ id int }

func (s pbStringer) String() string { return "apple" }

// Other types hash their %v text: a named string like the string, a named
// int like its decimal text, a Stringer by its String method.
func TestPartitionHashFallback(t *testing.T) {
	assert.Equal(t, defaultHasher("apple"), defaultHasher(pbNamedString("apple")))
	assert.Equal(t, defaultHasher("42"), defaultHasher(pbNamedInt(42)))
	assert.NotEqual(t, defaultHasher(42), defaultHasher(pbNamedInt(42)))
	assert.Equal(t, defaultHasher("apple"), defaultHasher(pbStringer{1}))
}

// pbPartitionRun sends in through p and returns what came out of each
// partition.
func pbPartitionRun[T any](t *testing.T, p *Partition[T], in ...Result[T]) [][]Result[T] {
	t.Helper()
	ch := make(chan Result[T], len(in))
	for _, r := range in {
		ch <- r
	}
	close(ch)
	outs := p.Process(t.Context(), ch)
	got := make([][]Result[T], len(outs))
	var wg sync.WaitGroup
	for i, out := range outs {
		wg.Go(func() { got[i] = collectResults(out) })
	}
	wg.Wait()
	return got
}

// Round robin starts at 0, skips errors (which go to partition 0 labelled
// "error"), and its counter carries over to the next Process call.
func TestPartitionRoundRobin(t *testing.T) {
	p, err := NewRoundRobinPartition[int](3, 10)
	require.NoError(t, err)
	fail := NewError(-1, errors.New("bad"), "up")
	got := pbPartitionRun(t, p, NewSuccess(0), NewSuccess(1), fail, NewSuccess(2), NewSuccess(3))
	assert.Equal(t, []int{0, -1, 3}, pbValues(got[0]))
	assert.Equal(t, []int{1}, pbValues(got[1]))
	assert.Equal(t, []int{2}, pbValues(got[2]))
	label, _ := got[0][1].GetMetadata(MetadataPartitionStrategy)
	assert.Equal(t, "error", label)
	label, _ = got[1][0].GetMetadata(MetadataPartitionStrategy)
	assert.Equal(t, "round_robin", label)

	got = pbPartitionRun(t, p, NewSuccess(4))
	assert.Equal(t, []int{4}, pbValues(got[1]), "counter must carry over: 4 items so far")

	rr := &RoundRobinPartition[int]{counter: 0}
	assert.Equal(t, 0, rr.Route(0, 0))
	assert.Equal(t, 0, rr.Route(0, -1))
	assert.Equal(t, 0, rr.Route(0, 2), "n <= 0 must not advance the counter")
	assert.Equal(t, 1, rr.Route(0, 2))
}

// Every routed item gets the five metadata keys with their types, over its
// own same-named keys; an error keeps its StreamError.
func TestPartitionMetadata(t *testing.T) {
	p, err := NewRoundRobinPartition[int](2, 4)
	require.NoError(t, err)
	before := time.Now()
	fail := NewError(9, errors.New("bad"), "up").WithMetadata("k", "v")
	got := pbPartitionRun(t, p,
		NewSuccess(1).WithMetadata("k", "v").WithMetadata(MetadataPartitionIndex, "stale"),
		NewSuccess(2), fail)
	check := func(r Result[int], idx int, strategy string) {
		t.Helper()
		i, ok, err := r.GetIntMetadata(MetadataPartitionIndex)
		assert.True(t, ok)
		assert.NoError(t, err)
		assert.Equal(t, idx, i)
		total, _, err := r.GetIntMetadata(MetadataPartitionTotal)
		assert.NoError(t, err)
		assert.Equal(t, 2, total)
		s, _, err := r.GetStringMetadata(MetadataPartitionStrategy)
		assert.NoError(t, err)
		assert.Equal(t, strategy, s)
		proc, _, err := r.GetStringMetadata(MetadataProcessor)
		assert.NoError(t, err)
		assert.Equal(t, "partition", proc)
		ts, ok, err := r.GetTimeMetadata(MetadataTimestamp)
		assert.True(t, ok)
		assert.NoError(t, err)
		assert.False(t, ts.Before(before))
	}
	require.Len(t, got[0], 2)
	check(got[0][0], 0, "round_robin")
	k, _ := got[0][0].GetMetadata("k")
	assert.Equal(t, "v", k)
	check(got[1][0], 1, "round_robin")
	check(got[0][1], 0, "error")
	assert.Same(t, fail.Error(), got[0][1].Error())
	k, _ = got[0][1].GetMetadata("k")
	assert.Equal(t, "v", k)
	assert.Equal(t, "partition_index", MetadataPartitionIndex)
	assert.Equal(t, "partition_total", MetadataPartitionTotal)
	assert.Equal(t, "partition_strategy", MetadataPartitionStrategy)
}

type pbKey struct{ a, b int }

// pbCustomStrategy returns idx for every item, or panics with panicWith.
type pbCustomStrategy struct {
	idx       int
	panicWith any
}

func (s pbCustomStrategy) Route(int, int) int {
	if s.panicWith != nil {
		panic(s.panicWith)
	}
	return s.idx
}

// Every HashPartition is labelled "hash", whatever its key type; round
// robin "round_robin"; other strategies "custom".
func TestPartitionStrategyLabels(t *testing.T) {
	label := func(s PartitionStrategy[int]) string {
		p, err := NewPartition(PartitionConfig[int]{Strategy: s, PartitionCount: 2, BufferSize: 1})
		require.NoError(t, err)
		got := pbPartitionRun(t, p, NewSuccess(1))
		for _, rs := range got {
			for _, r := range rs {
				l, _ := r.GetMetadata(MetadataPartitionStrategy)
				return l.(string)
			}
		}
		t.Fatal("no item came out")
		return ""
	}
	assert.Equal(t, "hash", label(&HashPartition[int, string]{keyExtractor: func(int) string { return "a" }, hasher: defaultHasher[string]}))
	assert.Equal(t, "hash", label(&HashPartition[int, uint64]{keyExtractor: func(v int) uint64 { return uint64(v) }, hasher: defaultHasher[uint64]}))
	assert.Equal(t, "hash", label(&HashPartition[int, int32]{keyExtractor: func(v int) int32 { return int32(v) }}))
	assert.Equal(t, "hash", label(&HashPartition[int, pbKey]{keyExtractor: func(v int) pbKey { return pbKey{v, v} }}))
	assert.Equal(t, "hash", label(&HashPartition[int, pbNamedString]{keyExtractor: func(int) pbNamedString { return "a" }}))
	assert.Equal(t, "round_robin", label(&RoundRobinPartition[int]{}))
	assert.Equal(t, "custom", label(pbCustomStrategy{idx: 1}))
}

// A strategy index out of range sends the item, still a success, to
// partition 0.
func TestPartitionOutOfRangeGoesToZero(t *testing.T) {
	for _, idx := range []int{-1, 2, 100} {
		p, err := NewPartition(PartitionConfig[int]{Strategy: pbCustomStrategy{idx: idx}, PartitionCount: 2, BufferSize: 1})
		require.NoError(t, err)
		got := pbPartitionRun(t, p, NewSuccess(1))
		require.Len(t, got[0], 1, "idx %d", idx)
		requireSuccessValue(t, got[0][0], 1)
		i, _, _ := got[0][0].GetIntMetadata(MetadataPartitionIndex)
		assert.Equal(t, 0, i)
	}
}

// A panic in a strategy or a key extractor becomes an error item from
// "partition" on partition 0, saying it was a panic and giving the value;
// errors.As reaches an error value; the item's metadata is kept; the stream
// goes on.
func TestPartitionPanics(t *testing.T) {
	sentinel := &pbErrBoom{code: 3}
	t.Run("key extractor", func(t *testing.T) {
		p, err := NewHashPartition(2, func(v int) int {
			if v == 1 {
				panic("boom")
			}
			if v == 3 {
				panic(sentinel)
			}
			return v
		}, 10)
		require.NoError(t, err)
		got := pbPartitionRun(t, p, NewSuccess(1).WithMetadata("trace", "t"), NewSuccess(2), NewSuccess(3))
		require.Len(t, got[0], 2)
		se := got[0][0].Error()
		require.NotNil(t, se)
		assert.Equal(t, 1, se.Item)
		assert.Equal(t, "partition", se.ProcessorName)
		assert.Equal(t, "partition strategy panic: boom", se.Err.Error())
		trace, _ := got[0][0].GetMetadata("trace")
		assert.Equal(t, "t", trace)
		l, _ := got[0][0].GetMetadata(MetadataPartitionStrategy)
		assert.Equal(t, "error", l)
		var target *pbErrBoom
		require.ErrorAs(t, got[0][1].Error(), &target)
		assert.Same(t, sentinel, target)
		assert.Equal(t, []int{2}, pbValues(got[defaultHasher(2)%2]), "the stream goes on")
	})
	t.Run("strategy", func(t *testing.T) {
		p, err := NewPartition(PartitionConfig[int]{Strategy: pbCustomStrategy{panicWith: "bad"}, PartitionCount: 2})
		require.NoError(t, err)
		got := pbPartitionRun(t, p, NewSuccess(5), NewSuccess(6))
		require.Len(t, got[0], 2)
		for _, r := range got[0] {
			require.True(t, r.IsError())
			assert.Equal(t, "partition strategy panic: bad", r.Error().Err.Error())
		}
	})
	t.Run("Route called directly recovers to 0", func(t *testing.T) {
		h := &HashPartition[int, int]{keyExtractor: func(int) int { panic("x") }, hasher: defaultHasher[int]}
		assert.Equal(t, 0, h.Route(1, 4))
		assert.Equal(t, 0, (&HashPartition[int, int]{}).Route(5, 4), "no extractor: 0")
		ok := &HashPartition[int, int]{keyExtractor: func(v int) int { return v }, hasher: defaultHasher[int]}
		assert.Equal(t, 0, ok.Route(1, 0))
		assert.Equal(t, 0, ok.Route(1, -2))
		assert.Equal(t, 3, ok.Route(42, 4))
	})
}

// Each Process call makes new channels with capacity BufferSize.
func TestPartitionFreshBufferedChannels(t *testing.T) {
	p, err := NewRoundRobinPartition[int](3, 7)
	require.NoError(t, err)
	a := p.Process(t.Context(), pbFeed())
	b := p.Process(t.Context(), pbFeed())
	require.Len(t, a, 3)
	for i := range a {
		assert.Equal(t, 7, cap(a[i]))
		assert.NotEqual(t, a[i], b[i])
	}
	pbAllClosedPlain(a...)
	pbAllClosedPlain(b...)
}

// Cancel closes every partition, with the input idle and open and nobody
// reading, or with a send blocked; buffered items stay readable; the
// strategy is not called once ctx has ended.
func TestPartitionCancel(t *testing.T) {
	t.Run("input idle and open, no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			p, _ := NewRoundRobinPartition[int](3, 0)
			outs := p.Process(ctx, make(chan Result[int]))
			synctest.Wait()
			cancel()
			pbAllClosed(t, outs...)
		})
	})
	t.Run("blocked sending, buffered items kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			p, _ := NewRoundRobinPartition[int](1, 1)
			in := make(chan Result[int])
			outs := p.Process(ctx, in)
			bubbleSend(t, in, NewSuccess(1)) // buffered
			bubbleSend(t, in, NewSuccess(2)) // blocked
			cancel()
			synctest.Wait()
			assert.Equal(t, []int{1}, pbValues(collectResults(outs[0])))
		})
	})
	t.Run("no strategy call after cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			rr := &RoundRobinPartition[int]{}
			p, _ := NewPartition(PartitionConfig[int]{Strategy: rr, PartitionCount: 2})
			pbAllClosed(t, p.Process(ctx, pbFeed(1, 2, 3))...)
			assert.Zero(t, rr.counter)
		})
	})
}

// Plain style: Debounce -> Partition -> two Batchers on one FakeClock.
func TestPartitionSettlesBetweenClockedStages(t *testing.T) {
	const d = 100 * time.Millisecond
	for i := range pbPlainIterations {
		ctx, cancel := context.WithCancel(t.Context())
		clk := NewFakeClock()
		in := make(chan Result[int])
		p, err := NewRoundRobinPartition[int](2, 0)
		require.NoError(t, err)
		parts := p.Process(ctx, NewDebounce[int](d, clk).Process(ctx, in))
		cfg := BatchConfig{MaxSize: 10, MaxLatency: 3 * d / 2}
		b0 := NewBatcher[int](cfg, clk).Process(ctx, parts[0])
		b1 := NewBatcher[int](cfg, clk).Process(ctx, parts[1])

		in <- NewSuccess(1)
		clk.Advance(d) // 1 reaches b0 at d: due at 2.5d
		in <- NewSuccess(2)
		clk.Advance(d) // 2 reaches b1 at 2d: due at 3.5d
		in <- NewSuccess(3)
		clk.Advance(d / 2)
		require.Equal(t, []int{1}, pbBatch(t, b0), "iteration %d", i)
		clk.Advance(d / 2) // 3 reaches b0 at 3d: due at 4.5d
		clk.Advance(d / 2)
		require.Equal(t, []int{2}, pbBatch(t, b1), "iteration %d", i)
		clk.Advance(d)
		require.Equal(t, []int{3}, pbBatch(t, b0), "iteration %d", i)
		cancel()
		pbAllClosedPlain(b0, b1)
	}
}
