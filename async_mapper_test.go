//go:build go1.25

package streamz

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func paIdentity(_ context.Context, v int) (int, error) { return v, nil }

// paModes runs f for ordered and unordered mode.
func paModes(t *testing.T, f func(t *testing.T, ordered bool)) {
	for _, ordered := range []bool{true, false} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) { f(t, ordered) })
	}
}

func TestAsyncMapperDefaultsAndSetters(t *testing.T) {
	a := NewAsyncMapper(paIdentity)
	assert.Equal(t, "async-mapper", a.Name())
	assert.Equal(t, "async-mapper", a.name)
	assert.Equal(t, runtime.NumCPU(), a.workers)
	assert.True(t, a.ordered)
	assert.Equal(t, 100, a.bufferSize)

	assert.Same(t, a, a.WithWorkers(3))
	assert.Same(t, a, a.WithWorkers(0))
	assert.Same(t, a, a.WithWorkers(-1))
	assert.Equal(t, 3, a.workers)
	assert.Same(t, a, a.WithBufferSize(7))
	assert.Same(t, a, a.WithBufferSize(0))
	assert.Same(t, a, a.WithBufferSize(-5))
	assert.Equal(t, 7, a.bufferSize)
	assert.Same(t, a, a.WithOrdered(false))
	assert.False(t, a.ordered)
	assert.Same(t, a, a.WithName("pool"))
	assert.Equal(t, "pool", a.Name())
}

func TestAsyncMapperNilFnPanicsAtConstruction(t *testing.T) {
	msg := panicMessage(t, func() { NewAsyncMapper[int, int](nil) })
	assert.Equal(t, "streamz: NewAsyncMapper: fn must not be nil", msg)
}

// Ordered mode emits in input order, errors included, whatever each item's
// latency; the output is unbuffered.
func TestAsyncMapperOrderedKeepsInputOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("seven")
		a := NewAsyncMapper(func(_ context.Context, v int) (int, error) {
			time.Sleep(time.Duration(10-v%10) * time.Millisecond)
			if v == 7 {
				return -7, cause
			}
			return v * 10, nil
		}).WithWorkers(4)
		errIn, _ := paErrIn(99)
		var in []Result[int]
		for i := range 30 {
			in = append(in, NewSuccess(i))
			if i == 12 {
				in = append(in, errIn)
			}
		}
		out := a.Process(t.Context(), paFeed(in...))
		assert.Equal(t, 0, cap(out))
		got := collectResults(out)
		require.Len(t, got, 31)
		k := 0
		for i := range 30 {
			switch i {
			case 7:
				require.True(t, got[k].IsError())
				assert.Equal(t, -7, got[k].Error().Item)
			default:
				requireSuccessValue(t, got[k], i*10)
			}
			k++
			if i == 12 {
				require.True(t, got[k].IsError())
				assert.Contains(t, got[k].Error().Error(), "upstream broke")
				k++
			}
		}
	})
}

// Unordered mode emits in completion order.
func TestAsyncMapperUnorderedEmitsAsTheyFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := NewAsyncMapper(func(_ context.Context, v int) (int, error) {
			time.Sleep(time.Duration(v) * time.Millisecond)
			return v, nil
		}).WithWorkers(3).WithOrdered(false)
		got := paValues(t, collectResults(a.Process(t.Context(), paFeed(paInts(30, 10, 20)...))))
		assert.Equal(t, []int{10, 20, 30}, got)
	})
}

// fn runs on up to workers items at once, and no more.
func TestAsyncMapperRunsWorkersAtOnce(t *testing.T) {
	paModes(t, func(t *testing.T, ordered bool) {
		synctest.Test(t, func(t *testing.T) {
			var active, maxActive atomic.Int32
			a := NewAsyncMapper(func(_ context.Context, v int) (int, error) {
				n := active.Add(1)
				defer active.Add(-1)
				for m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n); m = maxActive.Load() {
				}
				time.Sleep(time.Millisecond)
				return v, nil
			}).WithWorkers(5).WithOrdered(ordered)
			got := collectResults(a.Process(t.Context(), paFeed(paInts(paSeq(50)...)...)))
			assert.Len(t, got, 50)
			assert.EqualValues(t, 5, maxActive.Load())
		})
	})
}

// Both modes: the error shapes of Mapper, with the AsyncMapper's name, and
// the input's metadata on every output; panics become error Results and
// the stream goes on.
func TestAsyncMapperErrorsMetadataAndPanics(t *testing.T) {
	paModes(t, func(t *testing.T, ordered bool) {
		cause := errors.New("bad")
		var calls atomic.Int32
		a := NewAsyncMapper(func(_ context.Context, v int) (string, error) {
			calls.Add(1)
			switch v {
			case 1:
				return "half", cause
			case 2:
				panic("boom")
			case 3:
				panic(&paRecoverWith{code: 7})
			}
			return fmt.Sprint(v), nil
		}).WithWorkers(1).WithOrdered(ordered) // one worker: completion order is input order
		errIn, upCause := paErrIn(5)
		got := collectResults(a.Process(t.Context(), paFeed(
			NewSuccess(0).WithMetadata("k", 0),
			NewSuccess(1).WithMetadata("k", 1),
			NewSuccess(2).WithMetadata("k", 2),
			NewSuccess(3),
			errIn,
			NewSuccess(6),
		)))
		require.Len(t, got, 6)
		byKey := func(r Result[string]) any { v, _ := r.GetMetadata("k"); return v }

		assert.Equal(t, "0", got[0].Value())
		assert.Equal(t, 0, byKey(got[0]))

		se := got[1].Error()
		require.NotNil(t, se)
		assert.Equal(t, "half", se.Item)
		assert.Same(t, cause, se.Err)
		assert.Equal(t, "async-mapper", se.ProcessorName)
		assert.Equal(t, 1, byKey(got[1]))

		paCheckPanicErr(t, got[2], "async-mapper", "fn")
		assert.Contains(t, got[2].Error().Error(), "boom")
		assert.Equal(t, 2, byKey(got[2]))
		paCheckPanicErr(t, got[3], "async-mapper", "fn")

		// The error item, in place in ordered mode; fn is not called.
		var wrapped Result[string]
		for _, r := range got {
			if r.IsError() && errors.Is(r.Error(), upCause) {
				wrapped = r
			}
		}
		se = wrapped.Error()
		require.NotNil(t, se)
		assert.Equal(t, "", se.Item)
		assert.Equal(t, "async-mapper", se.ProcessorName)
		assert.Equal(t, errIn.Error().Timestamp, se.Timestamp)
		var inner *StreamError[int]
		require.True(t, errors.As(se, &inner))
		assert.Same(t, errIn.Error(), inner)
		assert.Equal(t, "v", byKey(wrapped))
		if ordered {
			assert.Equal(t, wrapped, got[4])
			assert.Equal(t, "6", got[5].Value())
		}
		assert.EqualValues(t, 5, calls.Load())
	})
}

// The reorder window: with item 0 stalled, no worker starts an item
// bufferSize or more places ahead of it, and the AsyncMapper stops taking
// input; once item 0 is done, everything comes out in order.
func TestAsyncMapperOrderedWindowIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const window, workers, n = 10, 4, 1000
		release := make(chan struct{})
		var started sync.Map
		var maxStarted atomic.Int64
		a := NewAsyncMapper(func(_ context.Context, v int) (int, error) {
			started.Store(v, true)
			// Workers run at once: raise the maximum with compare-and-swap,
			// or a smaller value could overwrite a larger one.
			for m := maxStarted.Load(); int64(v) > m && !maxStarted.CompareAndSwap(m, int64(v)); m = maxStarted.Load() {
			}
			if v == 0 {
				<-release
			}
			return v, nil
		}).WithWorkers(workers).WithBufferSize(window)
		in := make(chan Result[int])
		var sent atomic.Int32
		go func() {
			for i := range n {
				in <- NewSuccess(i)
				sent.Add(1)
			}
			close(in)
		}()
		out := a.Process(t.Context(), in)
		synctest.Wait()
		assert.EqualValues(t, window, sent.Load(), "items taken with the head stalled")
		assert.EqualValues(t, window-1, maxStarted.Load(), "an item started past the window")
		close(release)
		assert.Equal(t, paSeq(n), paValues(t, collectResults(out)))
	})
}

// Unordered mode holds at most one item per worker: with nobody reading,
// it stops taking input once every worker's result is waiting.
func TestAsyncMapperUnorderedHoldsOneItemPerWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const workers = 3
		a := NewAsyncMapper(paIdentity).WithWorkers(workers).WithOrdered(false)
		in := make(chan Result[int])
		var sent atomic.Int32
		go func() {
			for i := range 100 {
				in <- NewSuccess(i)
				sent.Add(1)
			}
			close(in)
		}()
		out := a.Process(t.Context(), in)
		synctest.Wait()
		assert.EqualValues(t, workers, sent.Load())
		got := paValues(t, collectResults(out))
		slices.Sort(got)
		assert.Equal(t, paSeq(100), got)
	})
}

// After cancel nothing is emitted past a gap: with item 0 stalled and the
// items after it done, cancel closes the output with none of them.
func TestAsyncMapperOrderedNothingPastAGapAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		a := NewAsyncMapper(func(ctx context.Context, v int) (int, error) {
			if v == 0 {
				<-ctx.Done()
			}
			return v, nil
		}).WithWorkers(4)
		out := a.Process(ctx, paFeed(paInts(paSeq(6)...)...))
		synctest.Wait() // 1..5 done and parked behind 0
		cancel()
		assert.Empty(t, collectResults(out))
	})
}

// Cancelled at 50 ms with 100 ms calls on 2 workers: fewer than 5 results.
func TestAsyncMapperCancelMidStream(t *testing.T) {
	paModes(t, func(t *testing.T, ordered bool) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			a := NewAsyncMapper(func(_ context.Context, v int) (int, error) {
				time.Sleep(100 * time.Millisecond)
				return v, nil
			}).WithWorkers(2).WithOrdered(ordered)
			out := a.Process(ctx, paFeed(paInts(paSeq(10)...)...))
			time.AfterFunc(50*time.Millisecond, cancel)
			assert.Less(t, len(collectResults(out)), 5)
			// The output closed at the cancel, without waiting for the
			// calls of fn that ignore ctx; their workers end as they
			// return.
			time.Sleep(100 * time.Millisecond)
		})
	})
}

func TestAsyncMapperCancel(t *testing.T) {
	paModes(t, func(t *testing.T, ordered bool) {
		a := NewAsyncMapper(paIdentity).WithWorkers(3).WithOrdered(ordered)
		paCancelTests(t, a.Process, NewSuccess(1))
	})
}

// An item sent after cancel never reaches fn.
func TestAsyncMapperNoFnAfterCancel(t *testing.T) {
	paModes(t, func(t *testing.T, ordered bool) {
		for range 20 {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int32
				a := NewAsyncMapper(func(_ context.Context, v int) (int, error) {
					calls.Add(1)
					return v, nil
				}).WithWorkers(2).WithOrdered(ordered)
				ctx, cancel := context.WithCancel(t.Context())
				in := make(chan Result[int], 1)
				out := a.Process(ctx, in)
				synctest.Wait()
				cancel()
				in <- NewSuccess(1)
				paClosed(t, out)
				assert.Zero(t, calls.Load())
			})
		}
	})
}

// When the input closes, the output closes after every item, and no worker
// is left behind. (A worker that has signalled its end may still be
// returning when the output closes, so the count is taken once the bubble
// is idle: a worker stuck anywhere would still be counted.)
func TestAsyncMapperNoWorkerLeftAfterClose(t *testing.T) {
	paModes(t, func(t *testing.T, ordered bool) {
		synctest.Test(t, func(t *testing.T) {
			before := runtime.NumGoroutine()
			a := NewAsyncMapper(paIdentity).WithWorkers(8).WithOrdered(ordered)
			assert.Len(t, collectResults(a.Process(t.Context(), paFeed(paInts(paSeq(20)...)...))), 20)
			synctest.Wait()
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "a worker was left behind")
		})
	})
}

// Between two clocked processors, an Advance waits for the items that are
// with the workers: fn takes real time here, so an AsyncMapper that
// counted as settled while a worker held an item would let the Batcher's
// timer fire on a short batch.
func TestAsyncMapperSettlesBetweenClockedProcessors(t *testing.T) {
	slow := func(_ context.Context, v int) (int, error) {
		time.Sleep(50 * time.Microsecond) // work, not synchronisation
		return v * 10, nil
	}
	items, want := []int{1, 2, 3, 4, 5, 6}, []int{10, 20, 30, 40, 50, 60}
	t.Run("ordered", func(t *testing.T) {
		a := NewAsyncMapper(slow).WithWorkers(4)
		paSettleBetween(t, 200, a.Process, items, want)
	})
	t.Run("unordered", func(t *testing.T) {
		a := NewAsyncMapper(slow).WithWorkers(4).WithOrdered(false)
		paSettleRounds(t, 200, a.Process, items, func(round int, got []int) {
			slices.Sort(got)
			require.Equalf(t, want, got, "round %d", round)
		})
	})
}
