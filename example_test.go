package streamz_test

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
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

// The rest of this file holds the Go blocks of README.md, so that they
// are compiled, and the tests among them run; TestReadmeGoBlocks checks
// that each block still stands here.

type Alert struct{ Service, Message string }

type Row struct {
	ID   int
	Name string
}

func insertRows([]Row) {}

// Example_quickStart is compiled but not run: it would wait for input
// forever.
func Example_quickStart() {
	ctx := context.Background()
	alerts := make(chan streamz.Result[Alert])
	fileEvents := make(chan streamz.Result[string])
	rows := make(chan streamz.Result[Row])

	// Throttle: page the on-call engineer at most once a minute.
	pages := streamz.NewThrottle[Alert](time.Minute, streamz.RealClock).Process(ctx, alerts)

	// Debounce: rebuild once the files have been quiet for half a second.
	rebuilds := streamz.NewDebounce[string](500*time.Millisecond, streamz.RealClock).Process(ctx, fileEvents)

	// Batcher: insert rows 500 at a time, at most 2s after a batch's first row.
	batches := streamz.NewBatcher[Row](streamz.BatchConfig{MaxSize: 500, MaxLatency: 2 * time.Second}, streamz.RealClock).Process(ctx, rows)
	for r := range batches {
		if r.IsError() {
			log.Printf("row %v: %v", r.Error().Item, r.Error())
			continue
		}
		insertRows(r.Value())
	}

	_, _ = pages, rebuilds
}

func TestSaveIsDebounced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewDebounce[string](time.Second, clock).Process(ctx, in)

	in <- streamz.NewSuccess("draft 1")
	// Debounce arms its timer once it has timed the item.
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if got := (<-out).Value(); got != "draft 1" {
		t.Fatalf("got %q, want %q", got, "draft 1")
	}
	close(in)
	if _, open := <-out; open {
		t.Fatal("output still open after the input closed")
	}
}

func TestBurstIsDebounced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan streamz.Result[string])
		out := streamz.NewDebounce[string](300*time.Millisecond, streamz.RealClock).Process(t.Context(), in)

		start := time.Now()
		for _, s := range []string{"h", "he", "hello"} {
			in <- streamz.NewSuccess(s)
			time.Sleep(100 * time.Millisecond)
		}
		r := <-out
		if r.Value() != "hello" || time.Since(start) != 500*time.Millisecond {
			t.Fatalf("got %q at %v, want %q at 500ms", r.Value(), time.Since(start), "hello")
		}
		close(in)
		for range out {
		}
	})
}

func TestReadmeGoBlocks(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	// Indentation and blank lines may differ: a block can sit inside a
	// function here.
	normalize := func(s string) string {
		var lines []string
		for line := range strings.Lines(s) {
			if line = strings.TrimSpace(line); line != "" {
				lines = append(lines, line)
			}
		}
		return strings.Join(lines, "\n")
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go blocks")
	}
	body := normalize(string(self))
	for _, b := range blocks {
		if !strings.Contains(body, normalize(b[1])) {
			t.Errorf("this README.md Go block is not in example_test.go:\n%s", b[1])
		}
	}
}

func ExampleNewSlogObserver() {
	// A text handler without the record's own time, so that the output is
	// reproducible; "at" is the Batcher's clock reading.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	batcher := streamz.NewBatcher[int](streamz.BatchConfig{MaxSize: 3, MaxLatency: time.Second}, clock).
		WithObserver(streamz.NewSlogObserver(logger, slog.LevelInfo))
	in := make(chan streamz.Result[int])
	out := batcher.Process(ctx, in)
	var batches [][]int
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for r := range out {
			batches = append(batches, r.Value())
		}
	}()

	for i := 1; i <= 4; i++ {
		in <- streamz.NewSuccess(i) // [1 2 3] goes out by size; 4 starts a batch
	}
	clock.Advance(time.Second) // [4] goes out by latency
	in <- streamz.NewSuccess(5)
	close(in) // [5] is flushed
	// The close event is logged before the output closes, so every record
	// is out once the output is drained.
	<-collected
	fmt.Println(batches)
	// Output:
	// level=INFO msg=streamz processor=batcher kind=timer-arm reason="" count=0 at=2024-01-01T00:00:00.000Z
	// level=INFO msg=streamz processor=batcher kind=timer-stop reason="" count=0 at=2024-01-01T00:00:00.000Z
	// level=INFO msg=streamz processor=batcher kind=emit reason=size count=3 at=2024-01-01T00:00:00.000Z
	// level=INFO msg=streamz processor=batcher kind=timer-arm reason="" count=0 at=2024-01-01T00:00:00.000Z
	// level=INFO msg=streamz processor=batcher kind=timer-fire reason="" count=0 at=2024-01-01T00:00:01.000Z
	// level=INFO msg=streamz processor=batcher kind=emit reason=latency count=1 at=2024-01-01T00:00:01.000Z
	// level=INFO msg=streamz processor=batcher kind=timer-arm reason="" count=0 at=2024-01-01T00:00:01.000Z
	// level=INFO msg=streamz processor=batcher kind=timer-stop reason="" count=0 at=2024-01-01T00:00:01.000Z
	// level=INFO msg=streamz processor=batcher kind=emit reason=close count=1 at=2024-01-01T00:00:01.000Z
	// level=INFO msg=streamz processor=batcher kind=close reason="" count=0 at=2024-01-01T00:00:01.000Z
	// [[1 2 3] [4] [5]]
}

func ExampleCounters() {
	counters := streamz.NewCounters()
	// Published, the counts are served as JSON at /debug/vars (with
	// net/http's default mux).
	expvar.Publish("streamz", counters)

	// One Counters serves any number of processors at once.
	batcher := streamz.NewBatcher[int](streamz.BatchConfig{MaxSize: 3}, nil).WithObserver(counters.Observe)
	in := make(chan streamz.Result[int], 7)
	for i := 1; i <= 7; i++ {
		in <- streamz.NewSuccess(i)
	}
	close(in)
	for range batcher.Process(context.Background(), in) {
	}

	fmt.Println(expvar.Get("streamz"))
	fmt.Println(counters.Snapshot()["batcher/emit/size"])
	// Output:
	// {"batcher/close/":1,"batcher/emit/close":1,"batcher/emit/size":2}
	// 2
}
