//go:build go1.25

package streamz

// Benchmarks for Throttle, Debounce and Batcher on RealClock, with the floors
// and reference designs they are judged against. BENCHMARKS.md has the
// figures, the budget and the commands that reproduce them.
//
// Every throughput benchmark pushes b.N items through one Process call and
// drains its output, so ns/op is nanoseconds per item and allocs/op is
// allocations per item. The Process call is made before the timer starts:
// what is measured is the steady state, not the start-up.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// inBufs are the input channel capacities every throughput case runs with,
// floors included, as the last part of its name (in=0, in=128).
//
// in=0 is a pipeline as this package builds it: every processor's output is
// unbuffered, so a processor fed by another one gets an unbuffered input, and
// each item costs a goroutine hand-off. in=128 lets the producer run ahead,
// so few items cost a hand-off and the figures show the per-item CPU work of
// the stage itself.
var inBufs = []int{0, 128}

// eachInBuf runs f as one sub-benchmark per input capacity.
func eachInBuf(b *testing.B, f func(b *testing.B, buf int)) {
	for _, buf := range inBufs {
		b.Run(fmt.Sprintf("in=%d", buf), func(b *testing.B) { f(b, buf) })
	}
}

// stage is anything shaped like Process: it takes an input and returns an
// output channel.
type stage[U any] func(ctx context.Context, in <-chan Result[int]) <-chan U

// pumped is what one pass of pump saw.
type pumped struct {
	outputs int    // values received from the stage's output
	items   int    // items in those values, as counted by weight
	spawned uint64 // goroutines created while timed, the producer excluded
	mallocs uint64 // heap allocations while timed
	bytes   uint64 // heap bytes allocated while timed
}

// pump pushes b.N successes through st, over an input channel of capacity
// buf, and drains the output, timing only that. weight counts the items in
// one output value; nil counts each as one.
func pump[U any](b *testing.B, buf int, st stage[U], weight func(U) int) pumped {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan Result[int], buf)
	out := st(ctx, in)
	n := b.N
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs, bytes := ms.Mallocs, ms.TotalAlloc
	b.ReportAllocs()
	b.ResetTimer()
	created := goroutinesCreated()
	go func() {
		for i := range n {
			in <- NewSuccess(i)
		}
		close(in)
	}()
	var p pumped
	for v := range out {
		p.outputs++
		if weight != nil {
			p.items += weight(v)
		}
	}
	b.StopTimer()
	if spawned := goroutinesCreated() - created; spawned > 0 {
		p.spawned = spawned - 1
	}
	runtime.ReadMemStats(&ms)
	p.mallocs, p.bytes = ms.Mallocs-mallocs, ms.TotalAlloc-bytes
	if weight == nil {
		p.items = p.outputs
	}
	// allocs/op and B/op are printed as whole numbers; these are exact.
	perItem(b, float64(p.mallocs), "allocs/item")
	perItem(b, float64(p.bytes), "B/item")
	return p
}

// goroutinesCreated reads the runtime's count of goroutines ever created. It
// is how the benchmarks count timer firings: RealClock's AfterFunc runs each
// firing in a goroutine of its own. It returns 0 where the metric is missing.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func batchLen(r Result[[]int]) int { return len(r.ValueOr(nil)) }

// perItem reports count/b.N as a metric, for example passes per item.
func perItem(b *testing.B, count float64, unit string) {
	b.ReportMetric(count/float64(b.N), unit)
}

// ---------------------------------------------------------------------------
// Floors: the cheapest possible goroutine on the same channels.

// floorForward hands every item on, with nothing else: the least a stage that
// emits every item can cost.
func floorForward(_ context.Context, in <-chan Result[int]) <-chan Result[int] {
	out := make(chan Result[int])
	go func() {
		defer close(out)
		for r := range in {
			out <- r
		}
	}()
	return out
}

// floorReceive only receives: the least a stage that emits little can cost.
func floorReceive(_ context.Context, in <-chan Result[int]) <-chan Result[int] {
	out := make(chan Result[int])
	go func() {
		defer close(out)
		for range in {
		}
	}()
	return out
}

func BenchmarkFloor(b *testing.B) {
	b.Run("forward", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { pump(b, buf, floorForward, nil) })
	})
	b.Run("receive", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { pump(b, buf, floorReceive, nil) })
	})
}

// ---------------------------------------------------------------------------
// References: the designs the processors replace or compete with, kept as
// small as they can be. They handle success items only and exist only to be
// measured against.

// refThrottle reads the clock once per item, with no timer and a select over
// input and ctx.
func refThrottle(d time.Duration) stage[Result[int]] {
	return func(ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
		out := make(chan Result[int])
		go func() {
			defer close(out)
			var passed bool
			var until time.Time
			for {
				select {
				case <-ctx.Done():
					return
				case r, ok := <-in:
					if !ok {
						return
					}
					now := time.Now()
					if passed && now.Before(until) {
						continue
					}
					passed, until = true, now.Add(d)
					select {
					case out <- r:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
		return out
	}
}

// refDebounce stops the previous timer and creates a new one for every
// input.
func refDebounce(d time.Duration) stage[Result[int]] {
	return func(ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
		out := make(chan Result[int])
		go func() {
			defer close(out)
			var t *time.Timer
			var fired <-chan time.Time
			var pending Result[int]
			defer func() {
				if t != nil {
					t.Stop()
				}
			}()
			for {
				select {
				case <-ctx.Done():
					return
				case <-fired:
					fired = nil
					select {
					case out <- pending:
					case <-ctx.Done():
						return
					}
				case r, ok := <-in:
					if !ok {
						if fired != nil {
							select {
							case out <- pending:
							case <-ctx.Done():
							}
						}
						return
					}
					if t != nil {
						t.Stop()
					}
					pending, t = r, time.NewTimer(d)
					fired = t.C
				}
			}
		}()
		return out
	}
}

// refBatcher is the two-phase select: a non-blocking look at the batch's
// timer first, then a blocking select over input, timer and ctx. It makes a
// timer per batch, and sizes each batch from the previous batch's length
// rather than preallocating MaxSize, which would cost 8 MB per batch in the
// size1e6 case.
func refBatcher(cfg BatchConfig) stage[Result[[]int]] {
	return func(ctx context.Context, in <-chan Result[int]) <-chan Result[[]int] {
		out := make(chan Result[[]int])
		go func() {
			defer close(out)
			var batch []int
			var t *time.Timer
			var fired <-chan time.Time
			last := 0
			flush := func() bool {
				if t != nil {
					t.Stop()
				}
				r := NewSuccess(batch)
				last, batch, fired = len(batch), nil, nil
				select {
				case out <- r:
					return true
				case <-ctx.Done():
					return false
				}
			}
			defer func() {
				if t != nil {
					t.Stop()
				}
			}()
			for {
				if fired != nil {
					select {
					case <-fired:
						if !flush() {
							return
						}
						continue
					default:
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-fired:
					if !flush() {
						return
					}
				case r, ok := <-in:
					if !ok {
						if len(batch) > 0 {
							flush()
						}
						return
					}
					if len(batch) == 0 {
						batch = make([]int, 0, min(max(last, 1), cfg.MaxSize))
						if cfg.MaxLatency > 0 {
							t = time.NewTimer(cfg.MaxLatency)
							fired = t.C
						}
					}
					batch = append(batch, r.Value())
					if len(batch) == cfg.MaxSize && !flush() {
						return
					}
				}
			}
		}()
		return out
	}
}

// ---------------------------------------------------------------------------
// Calibration of the real-time cases.
//
// "A cooldown ends about every 10 items" and "a batch is closed by its
// latency after a few items" depend on how fast items arrive, which depends
// on the machine, GOMAXPROCS and the input's buffer. Rather than a clock
// that lies, these cases run on RealClock with a period found by trial: run
// a short stream, see how many items fell in each period, scale the period,
// repeat. The result is cached per GOMAXPROCS and input buffer, so each
// configuration gets its own, and a processor and its reference share it.

const (
	cooldownItems = 10 // Throttle/cooldown10: items per cooldown
	latencyItems  = 8  // Batcher/size1e6: items per batch
	calibrateN    = 100_000
)

var calibrated sync.Map // calibrationKey -> time.Duration

type calibrationKey struct {
	name       string
	procs, buf int
}

// calibrate returns a period d for which itemsPer(d), the items observed per
// period, is close to target.
func calibrate(name string, buf int, target float64, itemsPer func(d time.Duration) float64) time.Duration {
	key := calibrationKey{name, runtime.GOMAXPROCS(0), buf}
	if d, ok := calibrated.Load(key); ok {
		return d.(time.Duration)
	}
	d := time.Microsecond
	for range 8 {
		f := min(max(target/itemsPer(d), 0.1), 10)
		if f > 0.93 && f < 1.07 {
			break
		}
		d = max(time.Duration(float64(d)*f), 1)
	}
	calibrated.Store(key, d)
	return d
}

// itemsPerOutput runs calibrateN items through st, untimed, and returns the
// items per output value.
func itemsPerOutput[U any](buf int, st stage[U]) float64 {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan Result[int], buf)
	out := st(ctx, in)
	go func() {
		for i := range calibrateN {
			in <- NewSuccess(i)
		}
		close(in)
	}()
	outputs := 0
	for range out {
		outputs++
	}
	return float64(calibrateN) / float64(max(outputs, 1))
}

// cooldown10 is the Throttle cooldown that ends about every cooldownItems
// items.
func cooldown10(buf int) time.Duration {
	return calibrate("throttle", buf, cooldownItems, func(d time.Duration) float64 {
		return itemsPerOutput(buf, NewThrottle[int](d, RealClock).Process)
	})
}

// fewItemsLatency is the MaxLatency that closes a batch after about
// latencyItems items.
func fewItemsLatency(buf int) time.Duration {
	return calibrate("batcher", buf, latencyItems, func(d time.Duration) float64 {
		cfg := BatchConfig{MaxSize: 1_000_000, MaxLatency: d}
		return itemsPerOutput(buf, NewBatcher[int](cfg, RealClock).Process)
	})
}

// reportBatches reports the batch figures of a Batcher case.
func reportBatches(b *testing.B, p pumped) {
	if p.items != b.N {
		b.Fatalf("batched %d of %d", p.items, b.N)
	}
	b.ReportMetric(float64(p.items)/float64(p.outputs), "items/batch")
	b.ReportMetric(float64(p.mallocs)/float64(p.outputs), "allocs/batch")
}

// ---------------------------------------------------------------------------
// The processors.

func BenchmarkThrottle(b *testing.B) {
	b.Run("d=0", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewThrottle[int](0, RealClock).Process, nil)
			if p.outputs != b.N {
				b.Fatalf("passed %d of %d", p.outputs, b.N)
			}
		})
	})
	b.Run("drop", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewThrottle[int](time.Hour, RealClock).Process, nil)
			if p.outputs != 1 {
				b.Fatalf("passed %d, want 1", p.outputs)
			}
		})
	})
	b.Run("cooldown10", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			d := cooldown10(buf)
			p := pump(b, buf, NewThrottle[int](d, RealClock).Process, nil)
			perItem(b, float64(p.outputs), "passed/item")
			b.ReportMetric(float64(d.Nanoseconds()), "cooldown-ns")
		})
	})
}

func BenchmarkDebounce(b *testing.B) {
	b.Run("coalesce", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewDebounce[int](time.Hour, RealClock).Process, nil)
			if p.outputs != 1 {
				b.Fatalf("emitted %d, want 1", p.outputs)
			}
			perItem(b, float64(p.spawned), "fires/item")
		})
	})
	// quiet: with d = 1ns every item's deadline has passed by the time the
	// next one arrives, so every item is emitted, either by the next arrival
	// (the time-first rule) or by the timer if it fires first. fires/item
	// counts the timer firings.
	b.Run("quiet", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewDebounce[int](time.Nanosecond, RealClock).Process, nil)
			if p.outputs != b.N {
				b.Fatalf("emitted %d of %d", p.outputs, b.N)
			}
			perItem(b, float64(p.spawned), "fires/item")
		})
	})
}

func BenchmarkBatcher(b *testing.B) {
	// size100: MaxLatency is an hour, so batches are closed by size, and the
	// clock is read for every item.
	b.Run("size100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			cfg := BatchConfig{MaxSize: 100, MaxLatency: time.Hour}
			reportBatches(b, pump(b, buf, NewBatcher[int](cfg, RealClock).Process, batchLen))
		})
	})
	// size1e6: batches never fill; each is closed by MaxLatency, calibrated
	// so that a few items arrive within it.
	b.Run("size1e6", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			d := fewItemsLatency(buf)
			cfg := BatchConfig{MaxSize: 1_000_000, MaxLatency: d}
			p := pump(b, buf, NewBatcher[int](cfg, RealClock).Process, batchLen)
			reportBatches(b, p)
			b.ReportMetric(float64(d.Nanoseconds()), "latency-ns")
			perItem(b, float64(p.spawned), "fires/item")
		})
	})
}

func BenchmarkReference(b *testing.B) {
	b.Run("throttle-drop", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, refThrottle(time.Hour), nil)
			if p.outputs != 1 {
				b.Fatalf("passed %d, want 1", p.outputs)
			}
		})
	})
	b.Run("throttle-cooldown10", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, refThrottle(cooldown10(buf)), nil)
			perItem(b, float64(p.outputs), "passed/item")
		})
	})
	b.Run("debounce-coalesce", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, refDebounce(time.Hour), nil)
			if p.outputs != 1 {
				b.Fatalf("emitted %d, want 1", p.outputs)
			}
		})
	})
	b.Run("debounce-quiet", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			// This reference has no time-first rule: an input taken before
			// a due timer replaces the pending item, which is then lost.
			p := pump(b, buf, refDebounce(time.Nanosecond), nil)
			perItem(b, float64(p.outputs), "emitted/item")
		})
	})
	b.Run("batcher-size100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			cfg := BatchConfig{MaxSize: 100, MaxLatency: time.Hour}
			reportBatches(b, pump(b, buf, refBatcher(cfg), batchLen))
		})
	})
	b.Run("batcher-size1e6", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			cfg := BatchConfig{MaxSize: 1_000_000, MaxLatency: fewItemsLatency(buf)}
			reportBatches(b, pump(b, buf, refBatcher(cfg), batchLen))
		})
	})
}

// ---------------------------------------------------------------------------
// Scale: many idle streams, each Debounce holding a pending item.

const scaleStreams = 10_000

// BenchmarkDebounceScale starts scaleStreams Process calls on one Debounce,
// gives each one item to hold for an hour, and measures what they occupy
// once they are all idle. One op is one such round, torn down at its end, so
// ns/op is the time for a round, not a per-item figure. The heap figure
// counts everything allocated for a stream, the caller's input channel
// included.
func BenchmarkDebounceScale(b *testing.B) {
	db := NewDebounce[int](time.Hour, RealClock)
	ins := make([]chan Result[int], scaleStreams)
	outs := make([]<-chan Result[int], scaleStreams)
	var heap, stack, gors float64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before := settledMem()
		g0 := runtime.NumGoroutine()
		b.StartTimer()

		ctx, cancel := context.WithCancel(context.Background())
		for i := range scaleStreams {
			ins[i] = make(chan Result[int])
			outs[i] = db.Process(ctx, ins[i])
			ins[i] <- NewSuccess(i)
		}

		b.StopTimer()
		waitRunnable()
		after := settledMem()
		g1 := runtime.NumGoroutine()
		heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		stack += float64(after.StackInuse) - float64(before.StackInuse)
		gors += float64(g1 - g0)
		b.StartTimer()

		cancel()
		for i := range scaleStreams {
			for range outs[i] {
			}
			ins[i], outs[i] = nil, nil
		}
	}
	per := float64(b.N) * scaleStreams
	b.ReportMetric(heap/per, "heap-B/stream")
	b.ReportMetric(stack/per, "stack-B/stream")
	b.ReportMetric((heap+stack)/per, "total-B/stream")
	b.ReportMetric(gors/per, "goroutines/stream")
}

// settledMem collects garbage and returns the memory statistics.
func settledMem() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// waitRunnable waits, for at most a second, until no goroutine is waiting to
// run, so that every stream has finished handling its item and is parked.
func waitRunnable() {
	s := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 {
			time.Sleep(100 * time.Millisecond)
			return
		}
		if s[0].Value.Uint64() == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Lateness: how long after its deadline an output reaches the consumer.

// latePeriod is the period measured in the lateness cases.
const latePeriod = time.Millisecond

// BenchmarkLateness runs one period per op: it sends one item, waits for
// the output and records how late it came. The deadline is taken as the
// time just before the send plus the period; the processor reads the clock
// only after it has received the item, so its real deadline is a little
// later and the figures are upper bounds. They include the hand-off of the
// output to the consumer.
func BenchmarkLateness(b *testing.B) {
	b.Run("floor", func(b *testing.B) { lateness(b, floorTimer) })
	b.Run("debounce", func(b *testing.B) {
		lateness(b, NewDebounce[int](latePeriod, RealClock).Process)
	})
	b.Run("batcher", func(b *testing.B) {
		cfg := BatchConfig{MaxSize: 1_000_000, MaxLatency: latePeriod}
		lateness(b, NewBatcher[int](cfg, RealClock).Process)
	})
}

// floorTimer holds each item for latePeriod with a bare time.AfterFunc whose
// function wakes the loop through a channel, and then sends it on: the
// wake-up that the processors' timers are built on, with nothing else. It
// is the floor for the lateness cases.
func floorTimer(_ context.Context, in <-chan Result[int]) <-chan Result[int] {
	out := make(chan Result[int])
	go func() {
		defer close(out)
		fired := make(chan struct{}, 1)
		t := time.AfterFunc(time.Hour, func() { fired <- struct{}{} })
		t.Stop()
		for r := range in {
			t.Reset(latePeriod)
			<-fired
			out <- r
		}
	}()
	return out
}

func lateness[U any](b *testing.B, st stage[U]) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan Result[int])
	out := st(ctx, in)
	late := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		in <- NewSuccess(i)
		<-out
		late[i] = time.Since(start) - latePeriod
	}
	b.StopTimer()
	close(in)
	for range out {
	}
	slices.Sort(late)
	b.ReportMetric(float64(percentile(late, 50)), "p50-late-ns")
	b.ReportMetric(float64(percentile(late, 99)), "p99-late-ns")
}

// percentile returns the p-th percentile of sorted, by the nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100
	return sorted[max(rank, 1)-1]
}

// ---------------------------------------------------------------------------
// Plumbing: the clock-less processors against the forward floor.

// paNoAllocs fails a case that should allocate nothing per item; the
// tolerance covers the goroutines and channels of one Process call.
func paNoAllocs(b *testing.B, p pumped) {
	if b.N >= 1000 && float64(p.mallocs)/float64(b.N) > 0.01 {
		b.Fatalf("%.3f allocations per item, want 0", float64(p.mallocs)/float64(b.N))
	}
}

// Plumbing reference: the plain cancel-aware forwarder, to split the
// plumbing processors' cost against the forward floor into what any loop
// that closes its output promptly on cancel pays and what is their own.

// ppSelectForward forwards with a select on ctx around every receive and
// every send: the usual hand-written cancel-aware stage.
func ppSelectForward(ctx context.Context, in <-chan Result[int]) <-chan Result[int] {
	out := make(chan Result[int])
	done := ctx.Done()
	go func() {
		defer close(out)
		for {
			var r Result[int]
			select {
			case <-done:
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				r = v
			}
			select {
			case out <- r:
			case <-done:
				return
			}
		}
	}()
	return out
}

// ppPump is pump with one more metric, cpu-ns/item: the CPU time the whole
// process spent per item (producer, stage and consumer), read from the
// operating system. On a shared machine, wall time per item also counts the
// time the process waited for a core; CPU time does not, so with -cpu=1 it
// compares a stage with the floor more steadily than ns/op.
func ppPump(b *testing.B, buf int, st stage[Result[int]]) pumped {
	start := ppCPUTime()
	p := pump(b, buf, st, nil)
	perItem(b, float64(ppCPUTime()-start), "cpu-ns/item")
	return p
}

// BenchmarkPlumbing measures the plumbing processors with the forward floor
// and the select forwarder run as cases of the same benchmark, so that each
// run gives its own ratios.
func BenchmarkPlumbing(b *testing.B) {
	b.Run("floor-forward", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, floorForward) })
	})
	b.Run("select-forward", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, ppSelectForward) })
	})
	b.Run("mapper-identity", func(b *testing.B) {
		m := NewMapper(func(_ context.Context, v int) (int, error) { return v, nil })
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, m.Process)) })
	})
	b.Run("filter-true", func(b *testing.B) {
		f := NewFilter(func(int) bool { return true })
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, f.Process)) })
	})
	b.Run("tap-empty", func(b *testing.B) {
		tp := NewTap(func(Result[int]) {})
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, tp.Process)) })
	})
	b.Run("sample-1", func(b *testing.B) {
		s := NewSample[int](1)
		eachInBuf(b, func(b *testing.B, buf int) {
			p := ppPump(b, buf, s.Process)
			if p.outputs != b.N {
				b.Fatalf("kept %d of %d", p.outputs, b.N)
			}
			paNoAllocs(b, p)
		})
	})
	b.Run("buffer-0", func(b *testing.B) {
		bf := NewBuffer[int](0)
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, bf.Process)) })
	})
	b.Run("buffer-128", func(b *testing.B) {
		bf := NewBuffer[int](128)
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, bf.Process)) })
	})
}

// BenchmarkAsyncMapperSleep1ms maps with an fn that blocks for 1 ms, on 1
// and on 8 workers, in both modes: ns/op is the time per item, so the
// speedup of 8 workers is the ratio of the two.
func BenchmarkAsyncMapperSleep1ms(b *testing.B) {
	fn := func(_ context.Context, v int) (int, error) {
		time.Sleep(time.Millisecond)
		return v, nil
	}
	for _, ordered := range []bool{true, false} {
		for _, workers := range []int{1, 8} {
			b.Run(fmt.Sprintf("ordered=%v/workers=%d", ordered, workers), func(b *testing.B) {
				a := NewAsyncMapper(fn).WithWorkers(workers).WithOrdered(ordered)
				if p := pump(b, 0, a.Process, nil); p.outputs != b.N {
					b.Fatalf("emitted %d of %d", p.outputs, b.N)
				}
			})
		}
	}
}

// BenchmarkAsyncMapperStalledHead measures what an ordered AsyncMapper
// holds while its first item is stalled and the input has plenty more:
// each item is a 64 KiB slice, and once the AsyncMapper has stopped taking
// input the live heap, in items, must stay under bufferSize + workers. One
// op is one such stream. The wait for it to stop taking input is a poll:
// this measures a steady state, it synchronises nothing.
func BenchmarkAsyncMapperStalledHead(b *testing.B) {
	const (
		itemSize   = 64 << 10
		bufferSize = 100
		workers    = 8
		items      = 2000
	)
	var held float64
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		before := settledMem()
		b.StartTimer()
		release := make(chan struct{})
		var calls, sent atomic.Int64
		a := NewAsyncMapper(func(_ context.Context, v []byte) ([]byte, error) {
			if v[0] == 1 {
				<-release
			}
			calls.Add(1)
			return v, nil
		}).WithWorkers(workers).WithBufferSize(bufferSize)
		in := make(chan Result[[]byte])
		go func() {
			for i := range items {
				v := make([]byte, itemSize)
				v[0] = byte(min(i+1, 2)) // the first item is the stalled one
				in <- NewSuccess(v)
				sent.Add(1)
			}
			close(in)
		}()
		out := a.Process(context.Background(), in)
		for calls.Load() < bufferSize-1 || sent.Load() < bufferSize {
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(20 * time.Millisecond) // room for an unbounded design to go on
		b.StopTimer()
		after := settledMem()
		held += (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / itemSize
		if s := sent.Load(); s > bufferSize {
			b.Fatalf("took %d items with the head stalled, window %d", s, bufferSize)
		}
		b.StartTimer()
		close(release)
		n := 0
		for range out {
			n++
		}
		if n != items {
			b.Fatalf("emitted %d of %d", n, items)
		}
	}
	b.ReportMetric(held/float64(b.N), "held-items")
	if held/float64(b.N) >= bufferSize+workers {
		b.Fatalf("held %.1f items, want under %d", held/float64(b.N), bufferSize+workers)
	}
}

// ---------------------------------------------------------------------------
// FanIn and FanOut, each against the hand-written goroutines it replaces:
// a merge of one goroutine per input, and a broadcast loop, both with a
// select on ctx around every send. Both sides of each pair run in the same
// benchmark, so that their ratio is measured in one run.

// pbFanWidth is the number of inputs merged and of outputs broadcast to.
const pbFanWidth = 4

// pbMergeStage is anything shaped like FanIn.Process.
type pbMergeStage func(ctx context.Context, ins ...<-chan Result[int]) <-chan Result[int]

// pbRefMerge forwards each input in a goroutine of its own and closes the
// output once all have ended.
func pbRefMerge(ctx context.Context, ins ...<-chan Result[int]) <-chan Result[int] {
	out := make(chan Result[int])
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(func() {
			for r := range in {
				select {
				case out <- r:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// pbRefBroadcast sends every item to each output in turn.
func pbRefBroadcast(ctx context.Context, in <-chan Result[int], count int) []<-chan Result[int] {
	outs := make([]chan Result[int], count)
	views := make([]<-chan Result[int], count)
	for i := range outs {
		outs[i] = make(chan Result[int])
		views[i] = outs[i]
	}
	go func() {
		defer func() {
			for _, out := range outs {
				close(out)
			}
		}()
		for r := range in {
			for _, out := range outs {
				select {
				case out <- r:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return views
}

// pbPumpMerge pushes b.N items, spread over pbFanWidth inputs of capacity
// buf, through merge and drains its output, timing only that.
func pbPumpMerge(b *testing.B, buf int, merge pbMergeStage) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ins := make([]chan Result[int], pbFanWidth)
	views := make([]<-chan Result[int], pbFanWidth)
	for i := range ins {
		ins[i] = make(chan Result[int], buf)
		views[i] = ins[i]
	}
	out := merge(ctx, views...)
	n := b.N
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	b.ReportAllocs()
	b.ResetTimer()
	for i, in := range ins {
		go func() {
			for j := i; j < n; j += pbFanWidth {
				in <- NewSuccess(j)
			}
			close(in)
		}()
	}
	got := 0
	for range out {
		got++
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	if got != n {
		b.Fatalf("merged %d of %d", got, n)
	}
	perItem(b, float64(ms.Mallocs-mallocs), "allocs/item")
}

// pbPumpBroadcast pushes b.N items through broadcast, over an input of
// capacity buf, and drains every output in a goroutine of its own.
func pbPumpBroadcast(b *testing.B, buf int, broadcast func(ctx context.Context, in <-chan Result[int]) []<-chan Result[int]) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan Result[int], buf)
	outs := broadcast(ctx, in)
	n := b.N
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := range n {
			in <- NewSuccess(i)
		}
		close(in)
	}()
	counts := make([]int, len(outs))
	var wg sync.WaitGroup
	for i, out := range outs {
		wg.Go(func() {
			for range out {
				counts[i]++
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	for i, c := range counts {
		if c != n {
			b.Fatalf("output %d got %d of %d", i, c, n)
		}
	}
	perItem(b, float64(ms.Mallocs-mallocs), "allocs/item")
}

func BenchmarkFanIn(b *testing.B) {
	b.Run("streamz", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { pbPumpMerge(b, buf, NewFanIn[int]().Process) })
	})
	b.Run("merge", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { pbPumpMerge(b, buf, pbRefMerge) })
	})
}

func BenchmarkFanOut(b *testing.B) {
	b.Run("streamz", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { pbPumpBroadcast(b, buf, NewFanOut[int](pbFanWidth).Process) })
	})
	b.Run("broadcast", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			pbPumpBroadcast(b, buf, func(ctx context.Context, in <-chan Result[int]) []<-chan Result[int] {
				return pbRefBroadcast(ctx, in, pbFanWidth)
			})
		})
	})
}

// ---------------------------------------------------------------------------
// Windows. BENCHMARKS.md's "Windows" section has the figures.

// winStepClock is a clock for the window benchmarks whose time moves by
// step at every reading, so that windows open and close on the time-first
// rule at a fixed number of items each, with no timer ever firing: its
// AfterFunc timers never fire. It measures the loops' CPU work; the
// RealClock cases measure them with a real timer armed.
type winStepClock struct {
	base  time.Time
	step  time.Duration
	reads atomic.Int64
}

func (c *winStepClock) Now() time.Time {
	return c.base.Add(time.Duration(c.reads.Add(1)) * c.step)
}
func (c *winStepClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *winStepClock) AfterFunc(time.Duration, func()) Timer {
	return &frozenTimer{armed: true}
}
func (c *winStepClock) After(time.Duration) <-chan time.Time { panic("unused") }
func (c *winStepClock) NewTimer(time.Duration) Timer         { panic("unused") }
func (c *winStepClock) NewTicker(time.Duration) Ticker       { panic("unused") }
func (c *winStepClock) Sleep(time.Duration)                  { panic("unused") }
func (c *winStepClock) WithTimeout(context.Context, time.Duration) (context.Context, context.CancelFunc) {
	panic("unused")
}
func (c *winStepClock) WithDeadline(context.Context, time.Time) (context.Context, context.CancelFunc) {
	panic("unused")
}

func winNewStepClock() *winStepClock {
	return &winStepClock{base: time.Unix(0, 0), step: time.Microsecond}
}

// winReportOutputs reports allocations per output Result and checks the
// count.
func winReportOutputs(b *testing.B, p pumped, want int) {
	b.Helper()
	if want >= 0 && p.outputs != want {
		b.Fatalf("emitted %d, want %d", p.outputs, want)
	}
	if p.outputs > 0 {
		b.ReportMetric(float64(p.mallocs)/float64(p.outputs), "allocs/result")
	}
	perItem(b, float64(p.outputs), "results/item")
}

// BenchmarkWindow: one op is one input item; every item comes out (once
// per window it is in), at its window's end or at close, so ns/op includes
// the emission.
func BenchmarkWindow(b *testing.B) {
	// tumbling/hour: one window open for the whole run on RealClock, with
	// its timer armed; everything goes out at close.
	b.Run("tumbling/hour", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewTumblingWindow[int](time.Hour, RealClock).Process, nil)
			winReportOutputs(b, p, b.N)
		})
	})
	// tumbling/100: windows of 100 items on the step clock.
	b.Run("tumbling/100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			clk := winNewStepClock()
			p := pump(b, buf, NewTumblingWindow[int](100*clk.step, clk).Process, nil)
			winReportOutputs(b, p, b.N)
		})
	})
	// sliding/400by100: size/slide = 4 on the step clock, so each item is
	// in 4 windows of 400 items.
	b.Run("sliding/400by100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			clk := winNewStepClock()
			p := pump(b, buf, NewSlidingWindow[int](400*clk.step, clk).WithSlide(100*clk.step).Process, nil)
			winReportOutputs(b, p, -1)
		})
	})
	// session/keys=10000: items cycle over 10,000 live sessions on
	// RealClock with a gap of an hour; everything goes out at close.
	b.Run("session/keys=10000", func(b *testing.B) {
		keys := make([]string, scaleStreams)
		for i := range keys {
			keys[i] = fmt.Sprint("user-", i)
		}
		keyOf := func(r Result[int]) string { return keys[r.ValueOr(0)%len(keys)] }
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewSessionWindow(keyOf, RealClock).WithGap(time.Hour).Process, nil)
			winReportOutputs(b, p, b.N)
		})
	})
}

// BenchmarkWindowLive: the live forms, one op per input item. A counting
// fold sends nothing per item, so its budget is against the receive floor,
// measured here, next to it, as well as in BenchmarkFloor.
func BenchmarkWindowLive(b *testing.B) {
	count := func(n int, _ Result[int]) int { return n + 1 }
	counted := func(r Result[WindowValue[int]]) int { return r.Value().Value }
	b.Run("floor-receive", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { pump(b, buf, floorReceive, nil) })
	})
	// fold-count/hour: one window open for the whole run on RealClock,
	// with its timer armed; its count goes out at close.
	b.Run("fold-count/hour", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			fold := NewWindowFold(NewTumblingWindow[int](time.Hour, RealClock), nil, count)
			p := pump(b, buf, fold.Process, counted)
			if p.items != b.N {
				b.Fatalf("counted %d, want %d", p.items, b.N)
			}
		})
	})
	// fold-count/100: windows of 100 items on the step clock, so the
	// figure includes a window's open, end and send.
	b.Run("fold-count/100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			clk := winNewStepClock()
			fold := NewWindowFold(NewTumblingWindow[int](100*clk.step, clk), nil, count)
			p := pump(b, buf, fold.Process, counted)
			if p.items != b.N {
				b.Fatalf("counted %d, want %d", p.items, b.N)
			}
			perItem(b, float64(p.outputs), "results/item")
		})
	})
	// collect/100: the same windows, each sent as one collection.
	b.Run("collect/100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			clk := winNewStepClock()
			p := pump(b, buf, NewTumblingWindow[int](100*clk.step, clk).Collect,
				func(r Result[WindowCollection[int]]) int { return r.Value().Count() })
			if p.items != b.N {
				b.Fatalf("collected %d, want %d", p.items, b.N)
			}
			perItem(b, float64(p.outputs), "results/item")
		})
	})
}

// BenchmarkWindowSessionScale opens scaleStreams sessions of one item each
// on one Process call and measures the heap they hold once idle, with and
// without their items (a Result[int] is 24 B, held in a slice of one).
func BenchmarkWindowSessionScale(b *testing.B) {
	keys := make([]string, scaleStreams)
	for i := range keys {
		keys[i] = fmt.Sprint("user-", i)
	}
	keyOf := func(r Result[int]) string { return keys[r.ValueOr(0)] }
	w := NewSessionWindow(keyOf, RealClock).WithGap(time.Hour)
	var heap float64
	b.ReportAllocs()
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		in := make(chan Result[int])
		out := w.Process(ctx, in)
		in <- NewSuccess(0) // the loop's own allocations come first
		before := settledMem()
		for i := 1; i < scaleStreams; i++ {
			in <- NewSuccess(i)
		}
		in <- NewSuccess(0) // the loop has placed every item
		after := settledMem()
		heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		cancel()
		for range out {
		}
	}
	per := heap / float64(b.N) / float64(scaleStreams-1)
	b.ReportMetric(per, "heap-B/session")
	b.ReportMetric(per-24, "heap-B/session-beyond-items")
}

// ---------------------------------------------------------------------------
// Edge options (issue 11). Each runs in a loop of its own, so the default
// cases above measure the default loops; these show that an option costs no
// allocation per item and what its loop costs next to the default one.

func BenchmarkEdgeOptions(b *testing.B) {
	// Throttle trailing, d = 1h: every item after the first is held,
	// replacing the one before; one timer arm in all.
	b.Run("throttle-trailing-hold", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewThrottle[int](time.Hour, RealClock).WithTrailing(true).Process, nil)
			if want := min(b.N, 2); p.outputs != want {
				b.Fatalf("emitted %d, want %d", p.outputs, want)
			}
		})
	})
	b.Run("throttle-audit-hold", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewThrottle[int](time.Hour, RealClock).WithLeading(false).WithTrailing(true).Process, nil)
			if p.outputs != 1 {
				b.Fatalf("emitted %d, want 1", p.outputs)
			}
		})
	})
	// Debounce coalescing with the options on: compare with
	// Debounce/coalesce.
	b.Run("debounce-leading-coalesce", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewDebounce[int](time.Hour, RealClock).WithLeading(true).Process, nil)
			if want := min(b.N, 2); p.outputs != want {
				b.Fatalf("emitted %d, want %d", p.outputs, want)
			}
		})
	})
	b.Run("debounce-maxwait-coalesce", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			p := pump(b, buf, NewDebounce[int](time.Hour, RealClock).WithMaxWait(2*time.Hour).Process, nil)
			if p.outputs != 1 {
				b.Fatalf("emitted %d, want 1", p.outputs)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// Observers: BenchmarkBatcher's cases with an observer attached. The budget
// (issue 12): with no observer, BenchmarkBatcher as before; with one that
// only counts (count), at most 1.15x BenchmarkBatcher in the same run.
// counters is Counters.Observe, which also looks its key up in a map.

// obsBenchObservers are the observers of BenchmarkBatcherObserved. count
// needs no lock: one Process call's events come from one goroutine.
func obsBenchObservers() []struct {
	name string
	fn   func() (observe func(Event), events func() uint64)
} {
	return []struct {
		name string
		fn   func() (observe func(Event), events func() uint64)
	}{
		{"count", func() (func(Event), func() uint64) {
			var n uint64
			return func(Event) { n++ }, func() uint64 { return n }
		}},
		{"counters", func() (func(Event), func() uint64) {
			c := NewCounters()
			return c.Observe, func() uint64 {
				var n uint64
				for _, v := range c.Snapshot() {
					n += v
				}
				return n
			}
		}},
	}
}

func BenchmarkBatcherObserved(b *testing.B) {
	for _, o := range obsBenchObservers() {
		b.Run("size100/"+o.name, func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				fn, events := o.fn()
				cfg := BatchConfig{MaxSize: 100, MaxLatency: time.Hour}
				st := NewBatcher[int](cfg, RealClock).WithObserver(fn).Process
				reportBatches(b, pump(b, buf, st, batchLen))
				perItem(b, float64(events()), "events/item")
			})
		})
		b.Run("size1e6/"+o.name, func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				fn, events := o.fn()
				d := fewItemsLatency(buf)
				cfg := BatchConfig{MaxSize: 1_000_000, MaxLatency: d}
				st := NewBatcher[int](cfg, RealClock).WithObserver(fn).Process
				p := pump(b, buf, st, batchLen)
				reportBatches(b, p)
				b.ReportMetric(float64(d.Nanoseconds()), "latency-ns")
				perItem(b, float64(p.spawned), "fires/item")
				perItem(b, float64(events()), "events/item")
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Settling: what a FakeClock's waiting costs a test that advances often.

// BenchmarkSettle feeds a Batcher ten items, then advances a FakeClock past
// the batch's MaxLatency, over and over: every Advance settles the loop
// before and after the batch goes out. ns/op is per item. The references
// are the same Batcher on RealClock cutting batches of ten by size, so both
// emit the same batches and the difference is the settling, and a bare
// receive of the same sends (floor-receive). The FakeClock case also
// reports what each Advance cost in settling: settles, rounds (passes over
// the loops) and asks (request and answer round trips to a loop).
func BenchmarkSettle(b *testing.B) {
	const every, latency = 10, time.Millisecond
	run := func(b *testing.B, clock Clock, advance func()) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		in := make(chan Result[int])
		size := 1000
		if advance == nil {
			size = every
		}
		out := NewBatcher[int](BatchConfig{MaxSize: size, MaxLatency: latency}, clock).Process(ctx, in)
		drained := make(chan int)
		go func() {
			n := 0
			for r := range out {
				n += len(r.Value())
			}
			drained <- n
		}()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			in <- NewSuccess(i)
			if advance != nil && i%every == every-1 {
				advance()
			}
		}
		close(in)
		if n := <-drained; n != b.N {
			b.Fatalf("batched %d of %d", n, b.N)
		}
	}
	b.Run("floor-receive", func(b *testing.B) {
		in := make(chan Result[int])
		out := floorReceive(context.Background(), in)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			in <- NewSuccess(i)
		}
		close(in)
		<-out
	})
	b.Run("RealClock-size10", func(b *testing.B) { run(b, RealClock, nil) })
	b.Run("FakeClock-advance-every10", func(b *testing.B) {
		fc := NewFakeClock()
		advances := 0
		run(b, fc, func() {
			fc.Advance(latency)
			advances++
		})
		if advances > 0 {
			n := float64(advances)
			b.ReportMetric(float64(fc.settleCounts.settles.Load())/n, "settles/advance")
			b.ReportMetric(float64(fc.settleCounts.rounds.Load())/n, "rounds/advance")
			b.ReportMetric(float64(fc.settleCounts.asks.Load())/n, "asks/advance")
		}
	})
}

// BenchmarkPipelineFakeClock is the pipeline the previous streamz measured
// in its own benchmarks: Filter (keep the even) → Mapper (double) → Batcher
// (MaxSize 50, MaxLatency an hour), all on one FakeClock that never moves,
// built afresh for each op and fed 1000 items from a buffered input filled
// and closed beforehand. The clock only makes the loops register for
// settling and the Batcher read fake time; nothing advances it. ns/item is
// per input item, Process calls included.
func BenchmarkPipelineFakeClock(b *testing.B) {
	const items = 1000
	clock := NewFakeClock()
	ctx := context.Background()
	keepEven := func(n int) bool { return n%2 == 0 }
	double := func(_ context.Context, n int) (int, error) { return 2 * n, nil }
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		in := make(chan Result[int], items)
		for i := range items {
			in <- NewSuccess(i)
		}
		close(in)
		b.StartTimer()
		filtered := NewFilter(keepEven).Process(ctx, in)
		mapped := NewMapper(double).Process(ctx, filtered)
		batches := NewBatcher[int](BatchConfig{MaxLatency: time.Hour, MaxSize: 50}, clock).Process(ctx, mapped)
		n := 0
		for r := range batches {
			n += len(r.Value())
		}
		if n != items/2 {
			b.Fatalf("batched %d of %d", n, items/2)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
}

// BenchmarkWindowObserved: BenchmarkWindow's cases with an observer that
// only counts (obsBenchObservers' count), for issue 12's budget of 1.15x
// the unobserved figure. tumbling/100 and sliding/400by100 report an emit,
// a fire or stop and an arm per window; the RealClock cases report one arm
// and, at close, one stop and one emit per window.
func BenchmarkWindowObserved(b *testing.B) {
	count := obsBenchObservers()[0].fn
	b.Run("tumbling/hour", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			fn, events := count()
			p := pump(b, buf, NewTumblingWindow[int](time.Hour, RealClock).WithObserver(fn).Process, nil)
			winReportOutputs(b, p, b.N)
			perItem(b, float64(events()), "events/item")
		})
	})
	b.Run("tumbling/100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			fn, events := count()
			clk := winNewStepClock()
			p := pump(b, buf, NewTumblingWindow[int](100*clk.step, clk).WithObserver(fn).Process, nil)
			winReportOutputs(b, p, b.N)
			perItem(b, float64(events()), "events/item")
		})
	})
	b.Run("sliding/400by100", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			fn, events := count()
			clk := winNewStepClock()
			p := pump(b, buf, NewSlidingWindow[int](400*clk.step, clk).WithSlide(100*clk.step).WithObserver(fn).Process, nil)
			winReportOutputs(b, p, -1)
			perItem(b, float64(events()), "events/item")
		})
	})
	b.Run("session/keys=10000", func(b *testing.B) {
		keys := make([]string, scaleStreams)
		for i := range keys {
			keys[i] = fmt.Sprint("user-", i)
		}
		keyOf := func(r Result[int]) string { return keys[r.ValueOr(0)%len(keys)] }
		eachInBuf(b, func(b *testing.B, buf int) {
			fn, events := count()
			p := pump(b, buf, NewSessionWindow(keyOf, RealClock).WithGap(time.Hour).WithObserver(fn).Process, nil)
			winReportOutputs(b, p, b.N)
			perItem(b, float64(events()), "events/item")
		})
	})
}

// ---------------------------------------------------------------------------
// Keyed processors, each against its unkeyed counterpart in the same run.

// keyedBenchKeys is the number of live keys of the many-keys cases.
const keyedBenchKeys = 10_000

// BenchmarkKeyed: one op is one input item. keys=1 gives every item the
// same key; keys=10000 spreads them round-robin over keyedBenchKeys keys,
// all live for the whole run (a pending item, a running cooldown, an open
// batch). The unkeyed processor is the floor of each group.
func BenchmarkKeyed(b *testing.B) {
	one := func(int) int { return 0 }
	many := func(v int) int { return v % keyedBenchKeys }
	b.Run("debounce-coalesce", func(b *testing.B) {
		check := func(b *testing.B, p pumped, want int) {
			if p.outputs != want {
				b.Fatalf("emitted %d, want %d", p.outputs, want)
			}
		}
		b.Run("unkeyed", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				check(b, pump(b, buf, NewDebounce[int](time.Hour, RealClock).Process, nil), 1)
			})
		})
		b.Run("keys=1", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				check(b, pump(b, buf, NewKeyedDebounce(time.Hour, one, RealClock).Process, nil), 1)
			})
		})
		b.Run("keys=10000", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				check(b, pump(b, buf, NewKeyedDebounce(time.Hour, many, RealClock).Process, nil), min(b.N, keyedBenchKeys))
			})
		})
	})
	b.Run("throttle-drop", func(b *testing.B) {
		check := func(b *testing.B, p pumped, want int) {
			if p.outputs != want {
				b.Fatalf("passed %d, want %d", p.outputs, want)
			}
		}
		b.Run("unkeyed", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				check(b, pump(b, buf, NewThrottle[int](time.Hour, RealClock).Process, nil), 1)
			})
		})
		b.Run("keys=1", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				check(b, pump(b, buf, NewKeyedThrottle(time.Hour, one, RealClock).Process, nil), 1)
			})
		})
		b.Run("keys=10000", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				check(b, pump(b, buf, NewKeyedThrottle(time.Hour, many, RealClock).Process, nil), min(b.N, keyedBenchKeys))
			})
		})
	})
	b.Run("batcher-size100", func(b *testing.B) {
		cfg := BatchConfig{MaxSize: 100, MaxLatency: time.Hour}
		b.Run("unkeyed", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				reportBatches(b, pump(b, buf, NewBatcher[int](cfg, RealClock).Process, batchLen))
			})
		})
		b.Run("keys=1", func(b *testing.B) {
			eachInBuf(b, func(b *testing.B, buf int) {
				keyedLen := func(r Result[KeyedBatch[int, int]]) int { return len(r.Value().Items) }
				reportBatches(b, pump(b, buf, NewKeyedBatcher(cfg, one, RealClock).Process, keyedLen))
			})
		})
	})
}

// BenchmarkKeyedMemory gives keyedMemoryKeys keys one item each and
// measures the heap they occupy once the processor is idle, per key: live
// keys, each holding an item (KeyedDebounce), and idle but remembered keys,
// each holding nothing while its cooldown runs (KeyedThrottle, whose items
// all passed). One op is one such round; ns/op is not a per-item figure.
func BenchmarkKeyedMemory(b *testing.B) {
	const keys = 100_000
	key := func(v int) int { return v }
	round := func(b *testing.B, st stage[Result[int]]) {
		var heap float64
		b.ReportAllocs()
		for range b.N {
			before := settledMem()
			ctx, cancel := context.WithCancel(context.Background())
			in := make(chan Result[int])
			out := st(ctx, in)
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				for range out {
				}
			}()
			for i := range keys {
				in <- NewSuccess(i)
			}
			waitRunnable()
			after := settledMem()
			heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
			cancel()
			<-drained
		}
		b.ReportMetric(heap/float64(b.N)/keys, "heap-B/key")
	}
	b.Run("live", func(b *testing.B) { round(b, NewKeyedDebounce(time.Hour, key, RealClock).Process) })
	b.Run("idle", func(b *testing.B) { round(b, NewKeyedThrottle(time.Hour, key, RealClock).Process) })
}

// ---------------------------------------------------------------------------
// Flow control: RateLimiter, Dedupe and the overflow buffers against the
// floors, as cases of one benchmark so that each run gives its own ratios.
// BENCHMARKS.md's "Flow control" section has the figures and the budgets.

// flowTickClock is RealClock whose readings are ticks instead: every Since
// is one nanosecond after the one before, whatever the real time, so that
// a Dedupe's TTL counts items. It is only for reading: its timers are
// RealClock's.
type flowTickClock struct {
	Clock
	ticks atomic.Int64
}

func (c *flowTickClock) Now() time.Time { return time.Unix(0, c.ticks.Load()) }

func (c *flowTickClock) Since(t time.Time) time.Duration {
	return time.Unix(0, c.ticks.Add(1)).Sub(t)
}

func BenchmarkFlow(b *testing.B) {
	passedAll := func(b *testing.B, p pumped) {
		b.Helper()
		if p.outputs != b.N {
			b.Fatalf("passed %d of %d", p.outputs, b.N)
		}
		paNoAllocs(b, p)
	}
	// The first keyedBenchKeys keys each allocate their entry, once: the
	// warm-up, not the steady state.
	warm := func(p pumped) pumped {
		p.mallocs -= min(p.mallocs, keyedBenchKeys)
		return p
	}
	b.Run("floor-forward", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, floorForward) })
	})
	b.Run("floor-receive", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, floorReceive) })
	})
	// Under its rate: a billion tokens a second, so every item finds one.
	for _, drop := range []bool{false, true} {
		b.Run(fmt.Sprintf("ratelimit-under/drop=%v", drop), func(b *testing.B) {
			rl := NewRateLimiter[int](1e9, 1000, RealClock).WithDrop(drop)
			eachInBuf(b, func(b *testing.B, buf int) { passedAll(b, ppPump(b, buf, rl.Process)) })
		})
	}
	b.Run("keyed-ratelimit-under/keys=10000", func(b *testing.B) {
		rl := NewKeyedRateLimiter(1e9, 1000, func(v int) int { return v % keyedBenchKeys }, RealClock).WithDrop(true)
		eachInBuf(b, func(b *testing.B, buf int) { passedAll(b, warm(ppPump(b, buf, rl.Process))) })
	})
	// Every item a new key, with a TTL of 10,000 items: in the steady
	// state 10,000 keys are live, and each item frees one and adds one.
	b.Run("dedupe-fresh/keys=10000", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			dd := NewDedupe(func(v int) int { return v }, keyedBenchKeys, &flowTickClock{Clock: RealClock})
			passedAll(b, warm(ppPump(b, buf, dd.Process)))
		})
	})
	// 10,000 keys, each seen again and again within the TTL: every item
	// after the first 10,000 is a duplicate, against the receive floor.
	b.Run("dedupe-duplicates/keys=10000", func(b *testing.B) {
		dd := NewDedupe(func(v int) int { return v % keyedBenchKeys }, time.Hour, RealClock)
		eachInBuf(b, func(b *testing.B, buf int) {
			p := ppPump(b, buf, dd.Process)
			if p.outputs != min(b.N, keyedBenchKeys) {
				b.Fatalf("passed %d, want %d", p.outputs, min(b.N, keyedBenchKeys))
			}
			paNoAllocs(b, warm(p))
		})
	})
	// A consumer as fast as the producer: nothing is dropped.
	b.Run("dropping-buffer/size=128", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, NewDroppingBuffer[int](128).Process) })
	})
	b.Run("sliding-buffer/size=128", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, NewSlidingBuffer[int](128).Process) })
	})
}

// ---------------------------------------------------------------------------
// Sources, and FlatMap against Mapper. BENCHMARKS.md's "Sources and
// FlatMap" section has the figures and the budgets.

// srcDrain times draining the stream that start returns: one op is one
// item. start runs before the timer starts, as pump's Process call does. It
// reports cpu-ns/item as ppPump does, and with noAllocs fails a case that
// allocates per item.
func srcDrain[T any](b *testing.B, noAllocs bool, start func() <-chan T) {
	b.Helper()
	out := start()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	b.ReportAllocs()
	b.ResetTimer()
	cpu := ppCPUTime()
	n := 0
	for range out {
		n++
	}
	b.StopTimer()
	perItem(b, float64(ppCPUTime()-cpu), "cpu-ns/item")
	if n != b.N {
		b.Fatalf("got %d items, want %d", n, b.N)
	}
	runtime.ReadMemStats(&ms)
	perItem(b, float64(ms.Mallocs-mallocs), "allocs/item")
	if noAllocs {
		paNoAllocs(b, pumped{mallocs: ms.Mallocs - mallocs})
	}
}

// srcProduce sends 0..n-1 on a channel of capacity buf, from a goroutine,
// and closes it.
func srcProduce(n, buf int) <-chan int {
	ch := make(chan int, buf)
	go func() {
		for i := range n {
			ch <- i
		}
		close(ch)
	}()
	return ch
}

// srcFloorFromChannel is the least a channel source can cost: a bare
// goroutine that wraps and forwards.
func srcFloorFromChannel(in <-chan int) <-chan Result[int] {
	out := make(chan Result[int])
	go func() {
		defer close(out)
		for v := range in {
			out <- Result[int]{value: v}
		}
	}()
	return out
}

// srcFloorFromSlice is the least a slice source can cost.
func srcFloorFromSlice(items []int) <-chan Result[int] {
	out := make(chan Result[int])
	go func() {
		defer close(out)
		for _, v := range items {
			out <- Result[int]{value: v}
		}
	}()
	return out
}

// srcScannerLines is the reference for FromLines: a bufio.Scanner loop that
// sends each line as a plain string.
func srcScannerLines(r io.Reader) <-chan string {
	out := make(chan string)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			out <- sc.Text()
		}
	}()
	return out
}

// srcLineInput is n log-like lines of 60 bytes.
func srcLineInput(n int) []byte {
	line := []byte(`{"level":"info","msg":"request served","ms":12,"id":000000}` + "\n")
	return bytes.Repeat(line, n)
}

func BenchmarkSources(b *testing.B) {
	for _, buf := range inBufs {
		b.Run(fmt.Sprintf("channel/floor/in=%d", buf), func(b *testing.B) {
			srcDrain(b, true, func() <-chan Result[int] { return srcFloorFromChannel(srcProduce(b.N, buf)) })
		})
		b.Run(fmt.Sprintf("channel/streamz/in=%d", buf), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srcDrain(b, true, func() <-chan Result[int] { return FromChannel(ctx, srcProduce(b.N, buf)) })
		})
	}
	b.Run("slice/floor", func(b *testing.B) {
		items := make([]int, b.N)
		srcDrain(b, true, func() <-chan Result[int] { return srcFloorFromSlice(items) })
	})
	b.Run("slice/streamz", func(b *testing.B) {
		items := make([]int, b.N)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srcDrain(b, true, func() <-chan Result[int] { return FromSlice(ctx, items) })
	})
	b.Run("lines/scanner", func(b *testing.B) {
		input := srcLineInput(b.N)
		b.SetBytes(int64(len(input) / b.N))
		srcDrain(b, false, func() <-chan string { return srcScannerLines(bytes.NewReader(input)) })
	})
	b.Run("lines/streamz", func(b *testing.B) {
		input := srcLineInput(b.N)
		b.SetBytes(int64(len(input) / b.N))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srcDrain(b, false, func() <-chan Result[string] { return FromLines(ctx, bytes.NewReader(input), 0) })
	})
}

// BenchmarkFlatMap compares a FlatMap that emits one output per input with
// a Mapper doing the same, in the same run; "reused" returns one slice each
// time, as FlatMap allows.
func BenchmarkFlatMap(b *testing.B) {
	b.Run("mapper", func(b *testing.B) {
		m := NewMapper(func(_ context.Context, v int) (int, error) { return v, nil })
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, m.Process) })
	})
	b.Run("flatmap-1", func(b *testing.B) {
		f := NewFlatMap(func(_ context.Context, v int) ([]int, error) { return []int{v}, nil })
		eachInBuf(b, func(b *testing.B, buf int) { ppPump(b, buf, f.Process) })
	})
	b.Run("flatmap-1-reused", func(b *testing.B) {
		eachInBuf(b, func(b *testing.B, buf int) {
			one := make([]int, 1)
			f := NewFlatMap(func(_ context.Context, v int) ([]int, error) {
				one[0] = v
				return one, nil
			})
			paNoAllocs(b, ppPump(b, buf, f.Process))
		})
	})
}

// BenchmarkResilience measures Retry and CircuitBreaker whose fn never
// fails against Mapper with the same fn, as cases of one benchmark, so that
// each run gives its own ratios (BENCHMARKS.md).
func BenchmarkResilience(b *testing.B) {
	identity := func(_ context.Context, v int) (int, error) { return v, nil }
	b.Run("mapper-identity", func(b *testing.B) {
		m := NewMapper(identity)
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, m.Process)) })
	})
	b.Run("retry-no-failures", func(b *testing.B) {
		rt := NewRetry(identity, RetryPolicy{Attempts: 3, Backoff: time.Millisecond, Multiplier: 2, Jitter: 0.5}, RealClock)
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, rt.Process)) })
	})
	b.Run("breaker-no-failures", func(b *testing.B) {
		cb := NewCircuitBreaker(identity, BreakerPolicy{ConsecutiveFailures: 5, Window: 100, FailureRatio: 0.5, CoolOff: time.Second}, RealClock)
		eachInBuf(b, func(b *testing.B, buf int) { paNoAllocs(b, ppPump(b, buf, cb.Process)) })
	})
}
