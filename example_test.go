package streamz_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zoobzio/streamz"
)

func ExampleThrottle() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewThrottle[string](time.Second, clock).Process(ctx, in)

	in <- streamz.NewSuccess("alert 1") // nothing has passed yet: it passes
	fmt.Println((<-out).Value())

	in <- streamz.NewSuccess("alert 2") // inside the cooldown: dropped
	// Errors pass through at once and in order, so receiving this one
	// shows that "alert 2" has been handled before the clock moves.
	in <- streamz.NewError("alert 3", errors.New("unreachable"), "pager")
	fmt.Println((<-out).Error())

	clock.Advance(time.Second)
	in <- streamz.NewSuccess("alert 4") // the cooldown has ended: it passes
	fmt.Println((<-out).Value())

	close(in)
	_, open := <-out
	fmt.Println("open:", open)
	// Output:
	// alert 1
	// pager: unreachable
	// alert 4
	// open: false
}

func ExampleDebounce() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewDebounce[string](300*time.Millisecond, clock).Process(ctx, in)

	in <- streamz.NewSuccess("h")
	// Debounce arms its timer once it has timed "h".
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		panic(err)
	}
	clock.Advance(299 * time.Millisecond) // not quiet long enough yet
	clock.Advance(time.Millisecond)
	fmt.Println((<-out).Value())

	// A burst at one instant: each keystroke replaces the one before.
	for _, s := range []string{"w", "wo", "wor", "word"} {
		in <- streamz.NewSuccess(s)
	}
	// Closing the input flushes the pending keystroke at once.
	close(in)
	for r := range out {
		fmt.Println(r.Value())
	}
	// Output:
	// h
	// word
}

func ExampleBatcher() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[int])
	batcher := streamz.NewBatcher[int](streamz.BatchConfig{MaxSize: 3, MaxLatency: time.Second}, clock)
	out := batcher.Process(ctx, in)

	for i := 1; i <= 3; i++ {
		in <- streamz.NewSuccess(i)
	}
	fmt.Println((<-out).Value()) // full at MaxSize

	in <- streamz.NewSuccess(4)
	// A Batcher arms its timer when a batch begins, after timing its first
	// item, and disarms it when the batch goes out.
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		panic(err)
	}
	clock.Advance(time.Second)
	fmt.Println((<-out).Value()) // aged out at MaxLatency

	in <- streamz.NewSuccess(5)
	close(in)
	fmt.Println((<-out).Value()) // the partial batch, flushed on close
	// Output:
	// [1 2 3]
	// [4]
	// [5]
}

func ExampleFakeClock() {
	clock := streamz.NewFakeClock()
	fmt.Println(clock.Now().Format(time.RFC3339))

	timer := clock.NewTimer(2 * time.Second)
	clock.AfterFunc(time.Second, func() {
		fmt.Println("AfterFunc at", clock.Now().Format(time.TimeOnly))
	})

	// Advance fires everything due, in deadline order, before it returns.
	clock.Advance(5 * time.Second)
	fmt.Println("timer at", (<-timer.C()).Format(time.TimeOnly))
	fmt.Println("now", clock.Now().Format(time.TimeOnly))
	// Output:
	// 2024-01-01T00:00:00Z
	// AfterFunc at 00:00:01
	// timer at 00:00:02
	// now 00:00:05
}

func ExampleResult() {
	ok := streamz.NewSuccess(21).
		Map(func(n int) int { return n * 2 }).
		WithMetadata(streamz.MetadataSource, "sensor-7")
	source, _, _ := ok.GetStringMetadata(streamz.MetadataSource)
	fmt.Println(ok.Value(), source)

	errTimeout := errors.New("timeout")
	failed := streamz.NewError(7, errTimeout, "reader")
	fmt.Println(failed.IsError(), failed.ValueOr(-1), errors.Is(failed.Error(), errTimeout))
	fmt.Println(failed.Error().Item, failed.Error())
	// Output:
	// 42 sensor-7
	// true -1 true
	// 7 reader: timeout
}
