//go:build go1.25

package streamz_test

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
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
	clock.Advance(time.Second)
	in <- streamz.NewSuccess("alert 3") // the cooldown has ended: it passes
	fmt.Println((<-out).Value())

	close(in)
	_, open := <-out
	fmt.Println("open:", open)
	// Output:
	// alert 1
	// alert 3
	// open: false
}

func ExampleDebounce() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewDebounce[string](300*time.Millisecond, clock).Process(ctx, in)

	in <- streamz.NewSuccess("h")
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

func ExampleKeyedDebounce() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	type change struct{ file, text string }
	in := make(chan streamz.Result[change])
	byFile := func(c change) string { return c.file }
	out := streamz.NewKeyedDebounce(300*time.Millisecond, byFile, clock).Process(ctx, in)

	in <- streamz.NewSuccess(change{"a.go", "a v1"})
	in <- streamz.NewSuccess(change{"b.go", "b v1"})
	clock.Advance(200 * time.Millisecond)
	in <- streamz.NewSuccess(change{"a.go", "a v2"}) // replaces a v1 only
	clock.Advance(100 * time.Millisecond)            // b.go has been quiet for 300ms
	fmt.Println((<-out).Value().text)
	clock.Advance(200 * time.Millisecond) // and now a.go
	fmt.Println((<-out).Value().text)
	close(in)
	// Output:
	// b v1
	// a v2
}

func ExampleKeyedThrottle() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	byAlert := func(name string) string { return name }
	out := streamz.NewKeyedThrottle(time.Minute, byAlert, clock).Process(ctx, in)

	go func() {
		for _, alert := range []string{"disk-full", "disk-full", "cpu-hot", "disk-full"} {
			in <- streamz.NewSuccess(alert)
		}
		clock.Advance(time.Minute)
		in <- streamz.NewSuccess("disk-full") // its cooldown has ended
		close(in)
	}()
	for r := range out {
		fmt.Println("page:", r.Value())
	}
	// Output:
	// page: disk-full
	// page: cpu-hot
	// page: disk-full
}

func ExampleRateLimiter() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	start := clock.Now()
	in := make(chan streamz.Result[string])
	// 10 a second, in bursts of 2: wait mode holds a request until its
	// token accrues, and takes no more input meanwhile.
	out := streamz.NewRateLimiter[string](10, 2, clock).Process(ctx, in)

	go func() {
		for _, req := range []string{"r1", "r2", "r3", "r4"} {
			in <- streamz.NewSuccess(req)
		}
		close(in)
	}()
	for i := 0; ; i++ {
		r, ok := <-out
		if !ok {
			break
		}
		fmt.Println(r.Value(), "at", clock.Since(start))
		if i >= 1 {
			clock.Advance(100 * time.Millisecond)
		}
	}
	// Output:
	// r1 at 0s
	// r2 at 0s
	// r3 at 100ms
	// r4 at 200ms
}

func ExampleRateLimiter_drop() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewRateLimiter[string](1, 1, clock).WithDrop(true).Process(ctx, in)

	go func() {
		in <- streamz.NewSuccess("a")
		in <- streamz.NewSuccess("b") // no token: dropped
		clock.Advance(time.Second)
		in <- streamz.NewSuccess("c")
		close(in)
	}()
	for r := range out {
		fmt.Println(r.Value())
	}
	// Output:
	// a
	// c
}

func ExampleKeyedRateLimiter() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	type request struct{ client, path string }
	in := make(chan streamz.Result[request])
	byClient := func(r request) string { return r.client }
	out := streamz.NewKeyedRateLimiter(1, 1, byClient, clock).WithDrop(true).Process(ctx, in)

	go func() {
		in <- streamz.NewSuccess(request{"alice", "/a"})
		in <- streamz.NewSuccess(request{"alice", "/b"}) // alice has no token left
		in <- streamz.NewSuccess(request{"bob", "/a"})   // bob has his own
		close(in)
	}()
	for r := range out {
		fmt.Println(r.Value().client, r.Value().path)
	}
	// Output:
	// alice /a
	// bob /a
}

func ExampleDedupe() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	type delivery struct{ id, body string }
	in := make(chan streamz.Result[delivery])
	byID := func(d delivery) string { return d.id }
	out := streamz.NewDedupe(byID, time.Minute, clock).Process(ctx, in)

	go func() {
		in <- streamz.NewSuccess(delivery{"m1", "first"})
		in <- streamz.NewSuccess(delivery{"m1", "redelivered"}) // within the TTL: dropped
		in <- streamz.NewSuccess(delivery{"m2", "second"})
		clock.Advance(time.Minute) // m1's TTL, from its first sighting, ends
		in <- streamz.NewSuccess(delivery{"m1", "again"})
		close(in)
	}()
	for r := range out {
		fmt.Println(r.Value().id, r.Value().body)
	}
	// Output:
	// m1 first
	// m2 second
	// m1 again
}

func ExampleDroppingBuffer() {
	ctx := context.Background()
	in := make(chan streamz.Result[int])
	out := streamz.NewDroppingBuffer[int](3).Process(ctx, in)

	// Nobody reads while 5 items arrive: the producer is never blocked,
	// and the buffer keeps the first 3.
	for v := range 5 {
		in <- streamz.NewSuccess(v)
	}
	close(in)
	for r := range out {
		fmt.Println(r.Value())
	}
	// Output:
	// 0
	// 1
	// 2
}

func ExampleSlidingBuffer() {
	ctx := context.Background()
	in := make(chan streamz.Result[int])
	out := streamz.NewSlidingBuffer[int](3).Process(ctx, in)

	// The same 5 items: the buffer keeps the latest 3.
	for v := range 5 {
		in <- streamz.NewSuccess(v)
	}
	close(in)
	for r := range out {
		fmt.Println(r.Value())
	}
	// Output:
	// 2
	// 3
	// 4
}

func ExampleKeyedBatcher() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	type row struct {
		tenant string
		id     int
	}
	in := make(chan streamz.Result[row])
	byTenant := func(r row) string { return r.tenant }
	cfg := streamz.BatchConfig{MaxSize: 2, MaxLatency: time.Second}
	out := streamz.NewKeyedBatcher(cfg, byTenant, clock).Process(ctx, in)

	go func() {
		for i, tenant := range []string{"acme", "initech", "acme"} {
			in <- streamz.NewSuccess(row{tenant, i})
		}
		clock.Advance(time.Second)
		close(in)
	}()
	for r := range out {
		batch := r.Value() // the key comes with its batch
		fmt.Println("insert into", batch.Key, batch.Items)
	}
	// Output:
	// insert into acme [{acme 0} {acme 2}]
	// insert into initech [{initech 1}]
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
	fmt.Println(ok.Value(), source, ok.HasMetadata())
	_, found, err := ok.GetIntMetadata(streamz.MetadataSource)
	fmt.Println(found, err)

	errTimeout := errors.New("timeout")
	failed := streamz.NewError(7, errTimeout, "reader")
	fmt.Println(failed.IsError(), failed.ValueOr(-1), errors.Is(failed.Error(), errTimeout))
	se := failed.Error()
	fmt.Println(se.Item, se.ProcessorName, se.Err)
	// The error text carries the item and the time of failure. A copy with
	// a fixed time keeps this example's output stable; the Result's own
	// StreamError is shared and is not changed.
	fixed := *se
	fixed.Timestamp = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	fmt.Println(&fixed)
	// Output:
	// 42 sensor-7 true
	// false metadata key "source" has type string, expected int
	// true -1 true
	// 7 reader timeout
	// StreamError[reader]: timeout (item: 7, time: 2024-01-02T03:04:05Z)
}

// The rest of this file holds the Go blocks of README.md, but for the
// quick start, so that they are compiled, and the tests among them run;
// TestReadmeGoBlocks checks that each block still stands here, and that the
// quick start is examples/quickstart/main.go, which its own test runs.

// LogEntry is one line of the service's input.
type LogEntry struct {
	Level   string `json:"level"`
	Message string `json:"msg"`
}

func parseEntry(_ context.Context, line string) (LogEntry, error) {
	var e LogEntry
	err := json.Unmarshal([]byte(line), &e)
	return e, err
}

// serveLogs reads JSON lines from r and inserts them in batches, until r
// ends or stop ends. On stop it reads no more, flushes what the stages
// hold, and returns once it is inserted, or 10s after stop at the latest.
func serveLogs(stop context.Context, r io.Reader, insert func(context.Context, []LogEntry) error) error {
	// Every stage runs under ctx, which ends only 10s after stop (or when
	// serveLogs returns); the stop itself goes to TakeUntil alone.
	ctx, cancel := streamz.WithGrace(stop, 10*time.Second, streamz.RealClock)
	defer cancel()

	lines := streamz.NewTakeUntil[string](stop).Process(ctx, streamz.FromLines(ctx, r, 1<<20))
	nonEmpty := streamz.NewFilter(func(line string) bool { return line != "" }).Process(ctx, lines)
	entries := streamz.NewMapper(parseEntry).Process(ctx, nonEmpty)
	batches := streamz.NewBatcher[LogEntry](streamz.BatchConfig{MaxSize: 500, MaxLatency: 2 * time.Second}, streamz.RealClock).
		Process(ctx, entries)

	// The sink reads to the end: a line that is too long or not JSON
	// arrives as an error, in order with the batches.
	for batch, err := range streamz.All(batches) {
		if err != nil {
			log.Print(err)
			continue
		}
		if err := insert(ctx, batch); err != nil {
			return err // the deferred cancel stops the rest
		}
	}
	return nil
}

// Example_serviceMain is what main does in the service. It is compiled but
// not run: it would wait for stdin.
func Example_serviceMain() {
	insertEntries := func(context.Context, []LogEntry) error { return nil }

	stop, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	if err := serveLogs(stop, os.Stdin, insertEntries); err != nil {
		log.Fatal(err)
	}
}

// Example_service runs serveLogs on three lines; the input's end flushes the
// partial batch at once.
func Example_service() {
	input := `{"level":"info","msg":"started"}

{"level":"warn","msg":"disk 91% full"}
`
	insert := func(_ context.Context, batch []LogEntry) error {
		for _, e := range batch {
			fmt.Println(e.Level, e.Message)
		}
		return nil
	}
	if err := serveLogs(context.Background(), strings.NewReader(input), insert); err != nil {
		fmt.Println(err)
	}
	// Output:
	// info started
	// warn disk 91% full
}

func TestRowsAreBatched(t *testing.T) {
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	batches := streamz.NewBatcher[string](streamz.BatchConfig{MaxSize: 100, MaxLatency: time.Second}, clock).
		Process(t.Context(), in)

	in <- streamz.NewSuccess("row 1")
	in <- streamz.NewSuccess("row 2")
	clock.Advance(time.Second)
	if got := (<-batches).Value(); !slices.Equal(got, []string{"row 1", "row 2"}) {
		t.Fatalf("got %q, want both rows in one batch", got)
	}

	in <- streamz.NewSuccess("row 3")
	clock.Advance(999 * time.Millisecond)
	select {
	case b := <-batches:
		t.Fatalf("batch %q went out before its second was up", b.Value())
	default:
	}
	clock.Advance(time.Millisecond)
	if got := (<-batches).Value(); !slices.Equal(got, []string{"row 3"}) {
		t.Fatalf("got %q, want row 3", got)
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
	quickStart, err := os.ReadFile("examples/quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go blocks")
	}
	// The quick start is pasted whole, so it must match byte for byte.
	if blocks[0][1] != string(quickStart) {
		t.Errorf("README.md's first Go block, the quick start, is not examples/quickstart/main.go:\n%s", blocks[0][1])
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
	body := normalize(string(self))
	for _, b := range blocks[1:] {
		if !strings.Contains(body, normalize(b[1])) {
			t.Errorf("this README.md Go block is not in example_test.go:\n%s", b[1])
		}
	}
}

func ExampleMapper() {
	ctx := context.Background()
	in := make(chan streamz.Result[string], 3)
	in <- streamz.NewSuccess("42")
	in <- streamz.NewSuccess("forty-two")
	in <- streamz.NewSuccess("7")
	close(in)

	parse := streamz.NewMapper(func(_ context.Context, s string) (int, error) {
		return strconv.Atoi(s)
	}).WithName("parse")
	for r := range parse.Process(ctx, in) {
		if r.IsError() {
			fmt.Println("failed:", r.Error().ProcessorName)
			continue
		}
		fmt.Println(r.Value())
	}
	// Output:
	// 42
	// failed: parse
	// 7
}

func ExampleAsyncMapper() {
	ctx := context.Background()
	in := make(chan streamz.Result[int], 5)
	for i := 1; i <= 5; i++ {
		in <- streamz.NewSuccess(i)
	}
	close(in)

	// Up to 3 calls run at once; ordered mode (the default) emits in input
	// order whatever each call's latency.
	square := streamz.NewAsyncMapper(func(_ context.Context, v int) (int, error) {
		time.Sleep(time.Duration(5-v) * time.Millisecond)
		return v * v, nil
	}).WithWorkers(3)
	for r := range square.Process(ctx, in) {
		fmt.Println(r.Value())
	}
	// Output:
	// 1
	// 4
	// 9
	// 16
	// 25
}

func ExampleFilter() {
	ctx := context.Background()
	in := make(chan streamz.Result[int], 6)
	for i := 1; i <= 6; i++ {
		in <- streamz.NewSuccess(i)
	}
	close(in)

	even := streamz.NewFilter(func(v int) bool { return v%2 == 0 })
	for r := range even.Process(ctx, in) {
		fmt.Println(r.Value())
	}
	// Output:
	// 2
	// 4
	// 6
}

func ExampleTap() {
	ctx := context.Background()
	in := make(chan streamz.Result[string], 2)
	in <- streamz.NewSuccess("order 1")
	in <- streamz.NewError("order 2", errors.New("declined"), "payments")
	close(in)

	seen := 0
	count := streamz.NewTap(func(streamz.Result[string]) { seen++ })
	for r := range count.Process(ctx, in) {
		fmt.Println(r.IsError())
	}
	fmt.Println("seen:", seen)
	// Output:
	// false
	// true
	// seen: 2
}

func ExampleBuffer() {
	ctx := context.Background()
	in := make(chan streamz.Result[int])
	out := streamz.NewBuffer[int](3).Process(ctx, in)

	// The producer runs three items ahead of a consumer that has not
	// started reading.
	for i := 1; i <= 3; i++ {
		in <- streamz.NewSuccess(i)
	}
	close(in)
	for r := range out {
		fmt.Println(r.Value())
	}
	// Output:
	// 1
	// 2
	// 3
}

func ExampleSample() {
	ctx := context.Background()
	in := make(chan streamz.Result[int], 1000)
	for i := range 1000 {
		in <- streamz.NewSuccess(i)
	}
	close(in)

	// Rate 1 keeps everything; any rate keeps every error.
	kept := 0
	for range streamz.NewSample[int](1).Process(ctx, in) {
		kept++
	}
	fmt.Println("kept:", kept)
	// Output:
	// kept: 1000
}

// The examples below are for FanIn, FanOut, Switch, Partition and
// DeadLetterQueue.

func ExampleFanIn() {
	ctx := context.Background()
	web := make(chan streamz.Result[string], 2)
	mobile := make(chan streamz.Result[string], 2)
	web <- streamz.NewSuccess("web: login")
	web <- streamz.NewSuccess("web: logout")
	mobile <- streamz.NewSuccess("mobile: login")
	close(web)
	close(mobile)

	// How inputs interleave is unspecified; each keeps its own order.
	var got []string
	for r := range streamz.NewFanIn[string]().Process(ctx, web, mobile) {
		got = append(got, r.Value())
	}
	sort.Strings(got)
	fmt.Println(strings.Join(got, "\n"))
	// Output:
	// mobile: login
	// web: login
	// web: logout
}

func ExampleFanOut() {
	ctx := context.Background()
	in := make(chan streamz.Result[int], 3)
	for i := 1; i <= 3; i++ {
		in <- streamz.NewSuccess(i)
	}
	close(in)

	outs := streamz.NewFanOut[int](2).Process(ctx, in)
	// The outputs move in lock step: every item reaches output 0, then
	// output 1, before the next is taken.
	for r := range outs[0] {
		fmt.Println("audit", r.Value(), "metrics", (<-outs[1]).Value())
	}
	// Output:
	// audit 1 metrics 1
	// audit 2 metrics 2
	// audit 3 metrics 3
}

func ExampleSwitch() {
	ctx := context.Background()
	type Payment struct {
		ID     string
		Amount int
	}
	other := "standard"
	sw := streamz.NewSwitch[Payment](func(p Payment) string {
		if p.Amount >= 1000 {
			return "review"
		}
		return "fast"
	}, streamz.SwitchConfig[string]{DefaultKey: &other, BufferSize: 10})
	// Add routes before Process: an item with no route yet is dropped.
	review := sw.AddRoute("review")
	standard := sw.AddRoute("standard") // "fast" has no route: these go here

	in := make(chan streamz.Result[Payment], 3)
	in <- streamz.NewSuccess(Payment{"p1", 20})
	in <- streamz.NewSuccess(Payment{"p2", 5000})
	in <- streamz.NewError(Payment{"p3", 7}, errors.New("card declined"), "gateway")
	close(in)
	_, errs := sw.Process(ctx, in)

	for r := range review {
		fmt.Println("review:", r.Value().ID)
	}
	for r := range standard {
		route, _ := r.GetMetadata("route")
		fmt.Println("standard:", r.Value().ID, "route", route)
	}
	for r := range errs {
		fmt.Println("error:", r.Error().Err)
	}
	// Output:
	// review: p2
	// standard: p1 route standard
	// error: card declined
}

func ExamplePartition() {
	ctx := context.Background()
	// Equal keys always share a partition: FNV-1a of the key, mod 4.
	p, err := streamz.NewHashPartition(4, func(user string) string { return user }, 10)
	if err != nil {
		panic(err)
	}
	in := make(chan streamz.Result[string], 4)
	for _, user := range []string{"apple", "banana", "apple", "k1"} {
		in <- streamz.NewSuccess(user)
	}
	close(in)

	for i, part := range p.Process(ctx, in) {
		for r := range part {
			strategy, _, _ := r.GetStringMetadata(streamz.MetadataPartitionStrategy)
			fmt.Println(i, r.Value(), strategy)
		}
	}
	// Output:
	// 0 banana hash
	// 1 k1 hash
	// 3 apple hash
	// 3 apple hash
}

func ExampleDeadLetterQueue() {
	defer log.SetOutput(log.Writer())
	defer log.SetFlags(log.Flags())
	log.SetOutput(os.Stdout)
	log.SetFlags(0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := streamz.NewFakeClock()
	dlq := streamz.NewDeadLetterQueue[string](clock).WithName("orders")
	in := make(chan streamz.Result[string])
	success, _ := dlq.Process(ctx, in) // nobody reads failures

	in <- streamz.NewSuccess("order 1")
	fmt.Println((<-success).Value())

	// An item its consumer does not take within 10 ms is dropped.
	// (The error's timestamp is fixed here only so that the log line is
	// reproducible.)
	in <- streamz.NewError("order 2", errors.New("out of stock"), "inventory").
		MapError(func(se *streamz.StreamError[string]) *streamz.StreamError[string] {
			se.Timestamp = streamz.FakeClockStart
			return se
		})
	clock.Advance(10 * time.Millisecond)
	fmt.Println("dropped:", dlq.DroppedCount())
	// Output:
	// order 1
	// DLQ[orders]: Dropped item from failure channel - StreamError[inventory]: out of stock (item: order 2, time: 2024-01-01T00:00:00Z)
	// dropped: 1
}

// Dead letters that must be kept: with a timeout of 0, an item waits for
// its consumer for as long as it takes, and nothing is dropped.
func ExampleDeadLetterQueue_WithTimeout() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := streamz.NewFakeClock()
	dlq := streamz.NewDeadLetterQueue[string](clock).WithTimeout(0)
	in := make(chan streamz.Result[string])
	success, failure := dlq.Process(ctx, in)

	in <- streamz.NewError("order 1", errors.New("out of stock"), "inventory")
	clock.Advance(time.Hour) // far past the default 10 ms
	fmt.Println((<-failure).Error().Item)
	fmt.Println("dropped:", dlq.DroppedCount())

	in <- streamz.NewSuccess("order 2")
	fmt.Println((<-success).Value())
	close(in)
	// Output:
	// order 1
	// dropped: 0
	// order 2
}

// winExampleLine prints a windowed Result: its value and its window,
// relative to the FakeClock's start.
func winExampleLine(r streamz.Result[string]) string {
	meta, err := streamz.GetWindowMetadata(r)
	if err != nil {
		return err.Error()
	}
	s := fmt.Sprintf("%s [%v, %v)", r.ValueOr("error"), meta.Start.Sub(streamz.FakeClockStart), meta.End.Sub(streamz.FakeClockStart))
	if meta.SessionKey != nil {
		s += " " + *meta.SessionKey
	}
	return s
}

func ExampleTumblingWindow() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewTumblingWindow[string](time.Minute, clock).Process(ctx, in)

	in <- streamz.NewSuccess("a")
	clock.Advance(30 * time.Second)
	in <- streamz.NewSuccess("b")
	clock.Advance(30 * time.Second) // the first window ends: a and b go out
	fmt.Println(winExampleLine(<-out))
	fmt.Println(winExampleLine(<-out))

	in <- streamz.NewSuccess("c") // at exactly 1m: the next window
	close(in)                     // closing flushes the partial window
	for r := range out {
		fmt.Println(winExampleLine(r))
	}
	// Output:
	// a [0s, 1m0s)
	// b [0s, 1m0s)
	// c [1m0s, 2m0s)
}

func ExampleSlidingWindow() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewSlidingWindow[string](time.Minute, clock).WithSlide(30*time.Second).Process(ctx, in)

	in <- streamz.NewSuccess("a") // anchors the grid: windows start every 30s from here
	clock.Advance(40 * time.Second)
	in <- streamz.NewSuccess("b") // in [0s, 1m) and [30s, 1m30s)
	clock.Advance(20 * time.Second)
	fmt.Println(winExampleLine(<-out))
	fmt.Println(winExampleLine(<-out))
	close(in)
	for r := range out {
		fmt.Println(winExampleLine(r))
	}
	// Output:
	// a [0s, 1m0s)
	// b [0s, 1m0s)
	// b [30s, 1m30s)
}

func ExampleSessionWindow() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	user := func(r streamz.Result[string]) string {
		if r.IsError() {
			return r.Error().Item
		}
		return r.Value()
	}
	out := streamz.NewSessionWindow(user, clock).WithGap(time.Minute).Process(ctx, in)

	in <- streamz.NewSuccess("ann")
	clock.Advance(30 * time.Second)
	in <- streamz.NewSuccess("bob") // bob's session ends at 1m30s
	clock.Advance(15 * time.Second)
	in <- streamz.NewSuccess("ann") // ann's session now ends at 1m45s
	clock.Advance(45 * time.Second)
	fmt.Println(winExampleLine(<-out))
	clock.Advance(15 * time.Second)
	fmt.Println(winExampleLine(<-out))
	fmt.Println(winExampleLine(<-out))
	close(in)
	for range out {
	}
	// Output:
	// bob [30s, 1m30s) bob
	// ann [0s, 1m45s) ann
	// ann [0s, 1m45s) ann
}

func ExampleWindowCollector() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[int])
	windows := streamz.NewTumblingWindow[int](time.Minute, clock).Process(ctx, in)
	out := streamz.NewWindowCollector[int]().Process(ctx, windows)

	in <- streamz.NewSuccess(1)
	in <- streamz.NewError(2, errors.New("bad reading"), "sensor")
	clock.Advance(time.Minute)
	in <- streamz.NewSuccess(3)
	// The collector emits when its input closes: close the source and the
	// window flushes, closes, and the collector emits.
	close(in)
	for c := range out {
		fmt.Println(c.Start.Sub(streamz.FakeClockStart), c.Values(), c.ErrorCount())
	}
	// Output:
	// 0s [1] 1
	// 1m0s [3] 0
}

// A live count per minute: each window's collection comes out when the
// window ends, while the input is still open, with nothing after it.
func ExampleTumblingWindow_Collect() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[int])
	out := streamz.NewTumblingWindow[int](time.Minute, clock).Collect(ctx, in)

	in <- streamz.NewSuccess(1)
	in <- streamz.NewError(2, errors.New("bad reading"), "sensor")
	clock.Advance(time.Minute) // the first window ends: out at once
	c := (<-out).Value()
	fmt.Println(c.Start.Sub(streamz.FakeClockStart), c.Values(), c.ErrorCount())

	in <- streamz.NewSuccess(3)
	close(in) // the pending window is flushed
	for r := range out {
		c := r.Value()
		fmt.Println(c.Start.Sub(streamz.FakeClockStart), c.Values(), c.ErrorCount())
	}
	// Output:
	// 0s [1] 1
	// 1m0s [3] 0
}

// Count requests per user session, holding only a count per session: a
// session's total comes out when the user has been idle for the gap.
func ExampleNewWindowFold() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	sessions := streamz.NewSessionWindow(func(r streamz.Result[string]) string { return r.Value() }, clock).
		WithGap(10 * time.Second)
	count := func(n int, _ streamz.Result[string]) int { return n + 1 }
	out := streamz.NewWindowFold(sessions, nil, count).Process(ctx, in)

	in <- streamz.NewSuccess("ana")
	in <- streamz.NewSuccess("bo")
	clock.Advance(5 * time.Second)
	in <- streamz.NewSuccess("ana")
	clock.Advance(10 * time.Second) // bo's session ended at 10s, ana's now
	for range 2 {
		v := (<-out).Value()
		fmt.Println(*v.Meta.SessionKey, v.Value, v.End.Sub(streamz.FakeClockStart))
	}
	close(in)
	for range out {
	}
	// Output:
	// bo 1 10s
	// ana 2 15s
}

// Save at most once a second, but always save the last edit: the trailing
// edge emits the last item of each cooldown when the cooldown ends.
func ExampleThrottle_WithTrailing() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewThrottle[string](time.Second, clock).WithTrailing(true).Process(ctx, in)

	in <- streamz.NewSuccess("edit 1") // leading edge: saved at once
	fmt.Println((<-out).Value())
	in <- streamz.NewSuccess("edit 2") // held for the end of the cooldown
	in <- streamz.NewSuccess("edit 3") // replaces edit 2
	clock.Advance(time.Second)         // the cooldown ends: edit 3 is saved
	fmt.Println((<-out).Value())

	// That save started a new cooldown. The audit pattern,
	// WithLeading(false), would hold edit 1 too and save only edit 3.
	in <- streamz.NewSuccess("edit 4")
	close(in) // closing the input saves the held edit at once
	for r := range out {
		fmt.Println(r.Value())
	}
	// Output:
	// edit 1
	// edit 3
	// edit 4
}

// The first keystroke of a burst goes out at once, and the last one when
// the burst has been quiet for the period; a lone keystroke goes out once.
func ExampleDebounce_WithLeading() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	out := streamz.NewDebounce[string](300*time.Millisecond, clock).WithLeading(true).Process(ctx, in)

	for _, s := range []string{"h", "he", "hel", "hello"} {
		in <- streamz.NewSuccess(s)
		if s == "h" {
			fmt.Println("at once:", (<-out).Value())
		}
		clock.Advance(100 * time.Millisecond)
	}
	clock.Advance(200 * time.Millisecond) // 300ms after "hello"
	fmt.Println("after the burst:", (<-out).Value())

	in <- streamz.NewSuccess("!") // a lone item: out once
	fmt.Println("at once:", (<-out).Value())
	clock.Advance(time.Second)
	close(in)
	_, open := <-out
	fmt.Println("open:", open)
	// Output:
	// at once: h
	// after the burst: hello
	// at once: !
	// open: false
}

// Debounce keystrokes, but refresh at least every 250ms while typing goes
// on: with d = 100ms and items every 60ms, plain Debounce would wait for
// the typing to stop.
func ExampleDebounce_WithMaxWait() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	start := clock.Now()
	in := make(chan streamz.Result[int])
	out := streamz.NewDebounce[int](100*time.Millisecond, clock).WithMaxWait(250*time.Millisecond).Process(ctx, in)

	at := func(ms int) { clock.Advance(time.Duration(ms)*time.Millisecond - clock.Since(start)) }
	received := func() {
		r := <-out
		fmt.Printf("%v: the item from %dms\n", clock.Since(start), r.Value())
	}

	for ms := 0; ms <= 240; ms += 60 { // an item every 60ms
		at(ms)
		in <- streamz.NewSuccess(ms)
	}
	at(250) // 250ms after the burst's first item: the item from 240ms
	received()
	for ms := 300; ms <= 480; ms += 60 {
		at(ms)
		in <- streamz.NewSuccess(ms)
	}
	at(500) // 250ms after the previous emission: the item from 480ms
	received()
	at(600) // nothing is pending
	close(in)
	for range out {
		fmt.Println("unexpected item")
	}
	// Output:
	// 250ms: the item from 240ms
	// 500ms: the item from 480ms
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
	// The batches are printed at the end, so that the records, which the
	// Batcher logs as it goes, are not interleaved with them.
	var batches [][]int
	for i := 1; i <= 3; i++ {
		in <- streamz.NewSuccess(i)
	}
	batches = append(batches, (<-out).Value()) // [1 2 3], by size
	in <- streamz.NewSuccess(4)
	clock.Advance(time.Second)
	batches = append(batches, (<-out).Value()) // [4], by latency
	in <- streamz.NewSuccess(5)
	close(in)
	// The close event is logged before the output closes, so every record
	// is out once the output is drained.
	for r := range out {
		batches = append(batches, r.Value()) // [5], flushed
	}
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

// Why did a session go out? The observer sees each session's emit once,
// with its reason and size, and the one timer that times every session.
// The events are read once the output has closed: by then the observer has
// seen every one.
func ExampleSessionWindow_WithObserver() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	var events []streamz.Event
	user := func(r streamz.Result[string]) string { return r.Value()[:3] }
	in := make(chan streamz.Result[string])
	out := streamz.NewSessionWindow(user, clock).WithGap(time.Minute).
		WithObserver(func(e streamz.Event) { events = append(events, e) }).
		Process(ctx, in)

	in <- streamz.NewSuccess("ann: login")
	in <- streamz.NewSuccess("bob: login")
	clock.Advance(30 * time.Second)
	in <- streamz.NewSuccess("ann: search") // ann's session now ends at 1m30s
	clock.Advance(30 * time.Second)         // bob's ends at 1m
	fmt.Println((<-out).Value())
	close(in) // flushes ann's session
	for r := range out {
		fmt.Println(r.Value())
	}
	for _, e := range events {
		fmt.Printf("%s/%s count=%d at=%v\n", e.Kind, e.Reason, e.Count, e.At.Sub(streamz.FakeClockStart))
	}
	// Output:
	// bob: login
	// ann: login
	// ann: search
	// timer-arm/ count=0 at=0s
	// timer-fire/ count=0 at=1m0s
	// timer-arm/ count=0 at=1m0s
	// emit/session-gap count=1 at=1m0s
	// timer-stop/ count=0 at=1m0s
	// emit/close count=2 at=1m0s
	// close/ count=0 at=1m0s
}

func ExampleFromLines() {
	ctx := context.Background()
	input := "first\r\nsecond\n" + strings.Repeat("x", 20) + "\nlast"
	for line, err := range streamz.All(streamz.FromLines(ctx, strings.NewReader(input), 10)) {
		if err != nil {
			fmt.Println("error:", errors.Unwrap(err))
			continue
		}
		fmt.Println(line)
	}
	// Output:
	// first
	// second
	// error: bufio.Scanner: token too long
	// last
}

func ExampleCollect() {
	ctx := context.Background()
	parse := streamz.NewMapper(func(_ context.Context, s string) (int, error) { return strconv.Atoi(s) })
	values, err := streamz.Collect(parse.Process(ctx, streamz.FromSlice(ctx, []string{"1", "two", "3"})))
	fmt.Println(values)
	var se *streamz.StreamError[int]
	if errors.As(err, &se) {
		fmt.Println(se.ProcessorName, se.Err)
	}
	// Output:
	// [1 3]
	// mapper strconv.Atoi: parsing "two": invalid syntax
}

func ExampleFlatMap() {
	ctx := context.Background()
	words := streamz.NewFlatMap(func(_ context.Context, line string) ([]string, error) {
		return strings.Fields(line), nil
	})
	values, _ := streamz.Collect(words.Process(ctx, streamz.FromSlice(ctx, []string{"to be", "", "or not"})))
	fmt.Println(values)
	// Output:
	// [to be or not]
}

func ExampleUnbatcher() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[int])
	batches := streamz.NewBatcher[int](streamz.BatchConfig{MaxSize: 2, MaxLatency: time.Second}, clock).Process(ctx, in)
	items := streamz.NewUnbatcher[int]().Process(ctx, batches)

	go func() {
		for i := 1; i <= 3; i++ {
			in <- streamz.NewSuccess(i)
		}
		close(in) // flushes the partial batch [3]
	}()
	values, _ := streamz.Collect(items)
	fmt.Println(values)
	// Output:
	// [1 2 3]
}

// ExampleStage writes a stage of one's own: it numbers the successes of
// each stream, keeping the count across items, and passes errors through.
// Between two clocked processors it is settled like theirs, so the test
// style stays send, Advance, expect.
func ExampleStage() {
	ctx := context.Background()
	numbered := streamz.NewStage(func() streamz.StageFunc[string, string] {
		n := 0 // state of one stream
		return func(_ context.Context, r streamz.Result[string], emit func(streamz.Result[string]) bool) {
			if r.IsError() {
				emit(r)
				return
			}
			n++
			emit(streamz.NewSuccess(fmt.Sprintf("%d. %s", n, r.Value())))
		}
	})

	clock := streamz.NewFakeClock()
	in := make(chan streamz.Result[string])
	debounced := streamz.NewDebounce[string](100*time.Millisecond, clock).Process(ctx, in)
	batches := streamz.NewBatcher[string](streamz.BatchConfig{MaxSize: 10, MaxLatency: time.Second}, clock).
		Process(ctx, numbered.Process(ctx, debounced))

	in <- streamz.NewSuccess("h")
	in <- streamz.NewSuccess("hi")
	clock.Advance(100 * time.Millisecond) // "hi" goes through the stage into a batch
	in <- streamz.NewSuccess("hey")
	clock.Advance(100 * time.Millisecond)
	clock.Advance(900 * time.Millisecond) // the batch's MaxLatency
	fmt.Println((<-batches).Value())

	close(in)
	for range batches {
	}
	// Output:
	// [1. hi 2. hey]
}

func ExampleRetry() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	start := clock.Now()
	calls := 0
	fetch := func(_ context.Context, id int) (string, error) {
		calls++
		fmt.Printf("attempt %d at %v\n", calls, clock.Since(start))
		if calls < 3 {
			return "", errors.New("unavailable")
		}
		return fmt.Sprintf("record %d", id), nil
	}
	policy := streamz.RetryPolicy{Attempts: 5, Backoff: 100 * time.Millisecond, Multiplier: 2}
	in := make(chan streamz.Result[int])
	out := streamz.NewRetry(fetch, policy, clock).Process(ctx, in)

	in <- streamz.NewSuccess(7) // attempt 1 fails; attempt 2 is due in 100ms
	clock.Advance(100 * time.Millisecond)
	clock.Advance(200 * time.Millisecond) // the wait doubled
	r := <-out
	attempts, _ := r.GetMetadata(streamz.MetadataRetryCount)
	fmt.Println(r.Value(), "after", attempts, "attempts")

	close(in)
	_, open := <-out
	fmt.Println("open:", open)
	// Output:
	// attempt 1 at 0s
	// attempt 2 at 100ms
	// attempt 3 at 300ms
	// record 7 after 3 attempts
	// open: false
}

func ExampleCircuitBreaker() {
	ctx := context.Background()
	clock := streamz.NewFakeClock()
	down := true
	query := func(_ context.Context, q string) (string, error) {
		if down {
			return "", errors.New("connection refused")
		}
		return "rows for " + q, nil
	}
	policy := streamz.BreakerPolicy{ConsecutiveFailures: 2, CoolOff: time.Minute}
	in := make(chan streamz.Result[string])
	out := streamz.NewCircuitBreaker(query, policy, clock).Process(ctx, in)
	show := func(q string) {
		in <- streamz.NewSuccess(q)
		r := <-out
		switch {
		case errors.Is(r.Err(), streamz.ErrCircuitOpen):
			fmt.Println(q, "refused: the breaker is open")
		case r.IsError():
			fmt.Println(q, "failed:", r.Error().Err)
		default:
			fmt.Println(r.Value())
		}
	}

	show("a") // fails
	show("b") // fails: two in a row open the breaker for a minute
	show("c") // refused without a call
	down = false
	clock.Advance(time.Minute) // half-open: the next item is a trial
	show("d")                  // the trial succeeds and closes the breaker
	show("e")

	close(in)
	_, open := <-out
	fmt.Println("open:", open)
	// Output:
	// a failed: connection refused
	// b failed: connection refused
	// c refused: the breaker is open
	// rows for d
	// rows for e
	// open: false
}
