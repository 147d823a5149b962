package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zoobzio/streamz"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The service in the plain style: send lines, Advance, expect the report.
// Every run of the scenario must give exactly the same report at exactly the
// same instants.
func TestServe(t *testing.T) {
	for range 1000 {
		serveScenario(t)
		if t.Failed() {
			return
		}
	}
}

func serveScenario(t *testing.T) {
	clock := streamz.NewFakeClock()
	stop, signal := context.WithCancel(t.Context())
	defer signal()
	ctx, cancel := streamz.WithGrace(stop, grace, clock)
	defer cancel()
	lines := make(chan string)
	report := serve(ctx, stop, streamz.FromChannel(ctx, lines), clock)

	// 00:00:00. Dead letters come out at once, and wait, unread, across
	// the Advance to 00:00:00.999: with the DeadLetterQueue's default
	// timeout of 10ms, the last, still in its hands, would be dropped.
	lines <- `{"file":"app.log","level":"info","msg":"start"}`
	lines <- `{"file":"app.log","level":"info","msg":"ready"}`
	lines <- `{"file":"db.log","level":"error","msg":"slow query"}`
	lines <- ""
	lines <- "not json"
	lines <- `{"file":`
	lines <- `["app.log"]`
	clock.Advance(999 * time.Millisecond)
	expect(t, clock, report,
		`dead letter: parse "not json": invalid character 'o' in literal null (expecting 'u')`,
		`dead letter: parse "{\"file\":": unexpected end of JSON input`,
		`dead letter: parse "[\"app.log\"]": json: cannot unmarshal array into Go value of type main.Entry`,
	)

	// 00:00:01: each file has been quiet for a second; the latest entry of
	// each goes into one batch, full at two.
	clock.Advance(time.Millisecond)
	expect(t, clock, report, "insert app.log: ready, db.log: slow query")

	// 00:00:02: app.log's next burst ends, and starts a batch that is
	// inserted five seconds later, at 00:00:07, alone.
	lines <- `{"file":"app.log","level":"warn","msg":"disk 90%"}`
	clock.Advance(time.Second)
	expect(t, clock, report)
	clock.Advance(4999 * time.Millisecond)
	expect(t, clock, report)
	clock.Advance(time.Millisecond)
	expect(t, clock, report, "insert app.log: disk 90%")

	// 00:00:10: the first window ends and its counts come out.
	clock.Advance(2999 * time.Millisecond)
	expect(t, clock, report)
	clock.Advance(time.Millisecond)
	expect(t, clock, report, "count 00:00:00-00:00:10 error=1 info=2 warn=1")

	// 00:00:10.5: the signal, with an entry pending in the debounce and the
	// second window open. Both come out at once, the entry as a batch, and
	// the report ends, all before the grace period, which never runs out.
	lines <- `{"file":"db.log","level":"info","msg":"stopping"}`
	clock.Advance(500 * time.Millisecond)
	signal()
	expect(t, clock, report, "count 00:00:10-00:00:20 info=1", "insert db.log: stopping")
	if r, ok := <-report; ok {
		t.Fatalf("after the signal: got %q, want the report closed", r.Value())
	}
}

// watchdog bounds, in real time, how long expect waits for a line that is
// due before it fails; it never delays a passing run.
const watchdog = 10 * time.Second

// expect receives the lines want from report, in any order (lines due at one
// instant come through the FanIn in any order), and then checks that
// nothing more is on offer.
func expect(t *testing.T, clock *streamz.FakeClock, report <-chan streamz.Result[string], want ...string) {
	t.Helper()
	got := make([]string, 0, len(want))
	for range want {
		var r streamz.Result[string]
		var ok bool
		select {
		case r, ok = <-report:
		case <-time.After(watchdog):
			t.Fatalf("at %v: got %q, and no more within %v of real time, want %q", clock.Now().Format(time.StampMilli), got, watchdog, want)
		}
		if !ok {
			t.Fatalf("at %v: report closed after %q, want %q", clock.Now().Format(time.StampMilli), got, want)
		}
		got = append(got, r.Value())
	}
	clock.BlockUntilReady()
	select {
	case r, ok := <-report:
		if ok {
			got = append(got, r.Value())
		}
	default:
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("at %v: got %q, want %q", clock.Now().Format(time.StampMilli), got, want)
	}
}

// run reads stdin to its end and writes the whole report, flushed at the end
// of input: each file's latest entry, the batches and the open window.
func TestRun(t *testing.T) {
	stdin := strings.NewReader(`{"file":"app.log","level":"info","msg":"start"}
{"file":"app.log","level":"info","msg":"ready"}

not json
{"file":"db.log","level":"error","msg":"slow query"}
{"file":"web.log","level":"info","msg":"GET /"}
`)
	var stdout strings.Builder
	if err := run(t.Context(), stdin, &stdout, streamz.NewFakeClock()); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	slices.Sort(got)
	want := []string{
		"count 00:00:00-00:00:10 error=1 info=3",
		`dead letter: parse "not json": invalid character 'o' in literal null (expecting 'u')`,
		"insert app.log: ready, db.log: slow query",
		"insert web.log: GET /",
	}
	if !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s\nwant, in any order:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
