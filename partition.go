package streamz

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Metadata keys that Partition adds to every item it routes.
const (
	MetadataPartitionIndex    = "partition_index"    // int: the partition the item went to.
	MetadataPartitionTotal    = "partition_total"    // int: the number of partitions.
	MetadataPartitionStrategy = "partition_strategy" // string: "hash", "round_robin", "custom" or "error".
)

// PartitionStrategy picks a partition for a success item.
type PartitionStrategy[T any] interface {
	// Route returns the partition for value, in [0, partitionCount). Out
	// of range, the item goes to partition 0.
	Route(value T, partitionCount int) int
}

// HashPartition places an item by the hash of its key, modulo the number of
// partitions, so that equal keys always share a partition. Built by
// NewHashPartition, it hashes with 64-bit FNV-1a over a byte form chosen
// from the key's dynamic type: a string's bytes; int, int32 and int64 as an
// int64, and uint32 and uint64 as a uint64, each in 8 little-endian bytes
// (so 42 hashes alike in all five); float32 and float64 as the 8
// little-endian bytes of the float64; and any other type, named types
// included, as its fmt %v text. A named int therefore hashes like its
// decimal text, a type with a String method by that method, and a pointer
// by its address, which changes from run to run.
type HashPartition[T any, K comparable] struct {
	keyExtractor func(T) K
	hasher       func(K) uint64
}

// Route returns hash(key(value)) mod partitionCount, or 0 when
// partitionCount <= 0, when the HashPartition has no key extractor, or when
// the extractor or hasher panics.
func (h *HashPartition[T, K]) Route(value T, partitionCount int) (idx int) {
	defer func() {
		if recover() != nil {
			idx = 0
		}
	}()
	return h.routeOrPanic(value, partitionCount)
}

// routeOrPanic is Route without the recovery, so that Partition can report a
// panicking key extractor as an error.
func (h *HashPartition[T, K]) routeOrPanic(value T, partitionCount int) int {
	if partitionCount <= 0 || h.keyExtractor == nil {
		return 0
	}
	hasher := h.hasher
	if hasher == nil {
		hasher = defaultHasher[K]
	}
	return int(hasher(h.keyExtractor(value)) % uint64(partitionCount))
}

// partitionHashRouter is implemented by every *HashPartition, whatever its
// key type, so that Partition can label it "hash" and see its panics.
type partitionHashRouter[T any] interface {
	routeOrPanic(value T, partitionCount int) int
}

// RoundRobinPartition places success items on the partitions in turn,
// starting at 0. Its counter is shared by every Partition and Process call
// that uses the same strategy value, and is safe for concurrent use.
type RoundRobinPartition[T any] struct {
	counter uint64
}

// Route returns the next partition in turn, or 0 without advancing when
// partitionCount <= 0.
func (r *RoundRobinPartition[T]) Route(_ T, partitionCount int) int {
	if partitionCount <= 0 {
		return 0
	}
	return int((atomic.AddUint64(&r.counter, 1) - 1) % uint64(partitionCount))
}

// PartitionConfig configures a Partition.
type PartitionConfig[T any] struct {
	// Strategy picks the partition of each success item. It must not be nil.
	Strategy PartitionStrategy[T]
	// PartitionCount is the number of partitions; it must be at least 1.
	PartitionCount int
	// BufferSize is the capacity of each partition's channel; it must not be
	// negative.
	BufferSize int
}

// Partition splits one stream into a fixed number of partitions, choosing
// each success item's partition with a PartitionStrategy.
//
// Every error item goes to partition 0, labelled "error". A strategy that
// panics (including a HashPartition's key extractor) turns the item into an
// error from "partition" that goes to partition 0 the same way: its message
// says it was a panic and gives the value, and errors.As reaches the value
// when it is an error. A strategy that returns an index out of range sends
// the item, still a success, to partition 0.
//
// Every routed item gains the metadata MetadataPartitionIndex (int),
// MetadataPartitionTotal (int), MetadataPartitionStrategy (string: "hash"
// for any HashPartition, "round_robin", "custom" for other strategies, or
// "error"), "processor" ("partition") and "timestamp" (time.Time), over
// any same-named keys. Items keep their input order within a partition.
// One goroutine serves every partition, so one that nobody reads stops
// them all once its buffer is full.
type Partition[T any] struct {
	strategy       PartitionStrategy[T]
	name           string
	partitionCount int
	bufferSize     int
}

// NewPartition returns a Partition for config. It returns an error if
// PartitionCount <= 0, BufferSize < 0 or Strategy is nil, checked in that
// order.
func NewPartition[T any](config PartitionConfig[T]) (*Partition[T], error) {
	if err := checkPartitionSizes(config.PartitionCount, config.BufferSize); err != nil {
		return nil, err
	}
	if config.Strategy == nil {
		return nil, errors.New("strategy cannot be nil")
	}
	return &Partition[T]{
		strategy:       config.Strategy,
		name:           "partition",
		partitionCount: config.PartitionCount,
		bufferSize:     config.BufferSize,
	}, nil
}

// NewHashPartition returns a Partition that places items by the hash of
// keyExtractor's key (see HashPartition). It returns an error if
// partitionCount <= 0, bufferSize < 0 or keyExtractor is nil, checked in
// that order.
func NewHashPartition[T any, K comparable](partitionCount int, keyExtractor func(T) K, bufferSize int) (*Partition[T], error) {
	if err := checkPartitionSizes(partitionCount, bufferSize); err != nil {
		return nil, err
	}
	if keyExtractor == nil {
		return nil, errors.New("key extractor cannot be nil")
	}
	return NewPartition(PartitionConfig[T]{
		Strategy:       &HashPartition[T, K]{keyExtractor: keyExtractor, hasher: defaultHasher[K]},
		PartitionCount: partitionCount,
		BufferSize:     bufferSize,
	})
}

// NewRoundRobinPartition returns a Partition that places success items on
// the partitions in turn, starting at 0. It returns an error if
// partitionCount <= 0 or bufferSize < 0, checked in that order.
func NewRoundRobinPartition[T any](partitionCount int, bufferSize int) (*Partition[T], error) {
	return NewPartition(PartitionConfig[T]{
		Strategy:       &RoundRobinPartition[T]{},
		PartitionCount: partitionCount,
		BufferSize:     bufferSize,
	})
}

func checkPartitionSizes(partitionCount, bufferSize int) error {
	if partitionCount <= 0 {
		return fmt.Errorf("partition count must be > 0, got %d", partitionCount)
	}
	if bufferSize < 0 {
		return fmt.Errorf("buffer size must be >= 0, got %d", bufferSize)
	}
	return nil
}

// Process returns the partitions: PartitionCount new channels, each with
// capacity BufferSize. Each call has its own channels and goroutine; only
// the strategy's state (a round-robin counter) is shared.
//
// When in is closed or ctx ends, every partition is closed, in index order;
// items already buffered stay readable. On cancel this happens promptly,
// even while in is idle and open or nobody is reading, the item in hand is
// dropped, and the strategy is not called again.
func (p *Partition[T]) Process(ctx context.Context, in <-chan Result[T]) []<-chan Result[T] {
	outs := make([]chan Result[T], p.partitionCount)
	views := make([]<-chan Result[T], p.partitionCount)
	chans := make([]any, 0, p.partitionCount+1)
	chans = append(chans, in)
	for i := range outs {
		outs[i] = make(chan Result[T], p.bufferSize)
		views[i] = outs[i]
		chans = append(chans, outs[i])
	}
	label := "custom"
	switch p.strategy.(type) {
	case partitionHashRouter[T]:
		label = "hash"
	case *RoundRobinPartition[T]:
		label = "round_robin"
	}
	lp := newLoop(ctx, "Partition.Process", nil, chans...)
	go func() {
		defer lp.exit()
		defer func() {
			for _, out := range outs {
				close(out)
			}
		}()
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop || !ok {
				return
			}
			idx, strategy := 0, "error"
			if r.IsSuccess() {
				if endedWith(lp, r) {
					return // the strategy is not called after cancel
				}
				var err error
				if idx, err = p.route(r.value); err != nil {
					r = Result[T]{err: NewStreamError(r.value, err, p.name), metadata: r.metadata}
				} else {
					strategy = label
				}
			}
			if !send(lp, outs[idx], partitionStamp(r, idx, p.partitionCount, strategy)) {
				return
			}
		}
	}()
	return views
}

// route asks the strategy for v's partition, turning an index out of range
// into 0, and a panic into an error whose text is "partition strategy
// panic: <value>" (idx is then 0).
func (p *Partition[T]) route(v T) (idx int, err error) {
	defer recoverUserPanic("partition strategy panic", &err)
	if h, ok := p.strategy.(partitionHashRouter[T]); ok {
		idx = h.routeOrPanic(v, p.partitionCount)
	} else {
		idx = p.strategy.Route(v, p.partitionCount)
	}
	if idx < 0 || idx >= p.partitionCount {
		idx = 0
	}
	return idx, nil
}

// partitionStamp returns r with the Partition's metadata added in one copy.
func partitionStamp[T any](r Result[T], idx, total int, strategy string) Result[T] {
	md := make(map[string]any, len(r.metadata)+5)
	for k, v := range r.metadata {
		md[k] = v
	}
	md[MetadataPartitionIndex] = idx
	md[MetadataPartitionTotal] = total
	md[MetadataPartitionStrategy] = strategy
	md[MetadataProcessor] = "partition"
	md[MetadataTimestamp] = time.Now()
	r.metadata = md
	return r
}

// defaultHasher is 64-bit FNV-1a over the byte form of key described on
// HashPartition. The byte form is part of the contract: users rely on a key
// staying on its partition from release to release.
func defaultHasher[K comparable](key K) uint64 {
	switch k := any(key).(type) {
	case string:
		return fnv1a64String(k)
	case int:
		return fnv1a64Uint64(uint64(int64(k)))
	case int32:
		return fnv1a64Uint64(uint64(int64(k)))
	case int64:
		return fnv1a64Uint64(uint64(k))
	case uint32:
		return fnv1a64Uint64(uint64(k))
	case uint64:
		return fnv1a64Uint64(k)
	case float32:
		return fnv1a64Uint64(math.Float64bits(float64(k)))
	case float64:
		return fnv1a64Uint64(math.Float64bits(k))
	default:
		return fnv1a64String(fmt.Sprintf("%v", key))
	}
}

const (
	fnv1a64Offset = 0xcbf29ce484222325
	fnv1a64Prime  = 0x100000001b3
)

func fnv1a64String(s string) uint64 {
	h := uint64(fnv1a64Offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnv1a64Prime
	}
	return h
}

// fnv1a64Uint64 hashes the 8 little-endian bytes of v.
func fnv1a64Uint64(v uint64) uint64 {
	h := uint64(fnv1a64Offset)
	for range 8 {
		h ^= v & 0xff
		h *= fnv1a64Prime
		v >>= 8
	}
	return h
}
