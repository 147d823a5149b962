// Logservice is a log service built from streamz parts alone, the way the
// README's "Building a service" shows, with no loop of its own. It reads
// JSON log entries, one a line, on stdin, and writes to stdout what a real
// service would store: the latest entry of each file once that file has been
// quiet for a second, inserted in batches, a count of entries per level
// every ten seconds, and the lines it could not parse. On SIGINT or SIGTERM
// it stops reading, writes out what its stages hold, and exits.
//
//	{"file":"app.log","level":"info","msg":"ready"}
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/zoobzio/streamz"
)

// Entry is one log line.
type Entry struct {
	File  string `json:"file"`
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

const (
	maxLine = 1 << 20          // longer lines become dead letters
	quiet   = time.Second      // a file's burst ends after this long without a line
	window  = 10 * time.Second // entries are counted per window of this length
	grace   = 10 * time.Second // what the stages hold must be out this long after the signal
)

// A batch is inserted once it holds two entries, or five seconds after its
// first.
var batchConfig = streamz.BatchConfig{MaxSize: 2, MaxLatency: 5 * time.Second}

func main() {
	stop, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	if err := run(stop, os.Stdin, os.Stdout, streamz.RealClock); err != nil {
		log.Fatal(err)
	}
}

// run serves the lines of stdin until they end or stop does, writing the
// report to stdout.
func run(stop context.Context, stdin io.Reader, stdout io.Writer, clock streamz.Clock) error {
	// Every stage runs under ctx, which ends only grace after stop; the
	// stop itself goes to the TakeUntil in serve alone, so that the stages
	// flush instead of dropping what they hold.
	ctx, cancel := streamz.WithGrace(stop, grace, clock)
	defer cancel()
	for line := range serve(ctx, stop, streamz.FromLines(ctx, stdin, maxLine), clock) {
		if _, err := fmt.Fprintln(stdout, line.Value()); err != nil {
			return err
		}
	}
	return nil
}

// serve is the pipeline, from the lines in to the report lines out. Its
// output closes once lines has closed, or stop has ended, and everything the
// stages held has come out.
func serve(ctx, stop context.Context, lines <-chan streamz.Result[string], clock streamz.Clock) <-chan streamz.Result[string] {
	lines = streamz.NewTakeUntil[string](stop).Process(ctx, lines)
	nonEmpty := streamz.NewFilter(func(line string) bool { return strings.TrimSpace(line) != "" }).Process(ctx, lines)
	parsed := streamz.NewMapper(parse).Process(ctx, nonEmpty)

	// WithTimeout(0): a dead letter waits for its reader instead of being
	// dropped, so both outputs must be read, and are, through the FanIn.
	entries, deadLetters := streamz.NewDeadLetterQueue[Entry](clock).WithTimeout(0).Process(ctx, parsed)

	// FanOut runs in lock step: both copies are read, one for the inserts
	// and one for the counts.
	copies := streamz.NewFanOut[Entry](2).Process(ctx, entries)
	latest := streamz.NewKeyedDebounce(quiet, func(e Entry) string { return e.File }, clock).Process(ctx, copies[0])
	batches := streamz.NewBatcher[Entry](batchConfig, clock).Process(ctx, latest)
	counts := streamz.NewWindowFold(streamz.NewTumblingWindow[Entry](window, clock), newCounts, countLevel).Process(ctx, copies[1])

	return streamz.NewFanIn[string]().Process(ctx,
		streamz.NewMapper(reportInsert).Process(ctx, batches),
		streamz.NewMapper(reportCounts).Process(ctx, counts),
		streamz.NewStage(reportDeadLetters).Process(ctx, deadLetters),
	)
}

func parse(_ context.Context, line string) (Entry, error) {
	var e Entry
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		return e, fmt.Errorf("parse %q: %w", line, err)
	}
	return e, nil
}

func newCounts() map[string]int { return map[string]int{} }

func countLevel(counts map[string]int, r streamz.Result[Entry]) map[string]int {
	counts[r.Value().Level]++
	return counts
}

// reportInsert stands in for the insert of a batch into a database.
func reportInsert(_ context.Context, batch []Entry) (string, error) {
	rows := make([]string, len(batch))
	for i, e := range batch {
		rows[i] = e.File + ": " + e.Msg
	}
	return "insert " + strings.Join(rows, ", "), nil
}

func reportCounts(_ context.Context, w streamz.WindowValue[map[string]int]) (string, error) {
	levels := make([]string, 0, len(w.Value))
	for _, level := range slices.Sorted(maps.Keys(w.Value)) {
		levels = append(levels, fmt.Sprintf("%s=%d", level, w.Value[level]))
	}
	return fmt.Sprintf("count %s-%s %s", w.Start.Format(time.TimeOnly), w.End.Format(time.TimeOnly), strings.Join(levels, " ")), nil
}

// reportDeadLetters turns each dead letter, an error Result that a Mapper
// would pass on untouched, into a report line.
func reportDeadLetters() streamz.StageFunc[Entry, string] {
	return func(_ context.Context, r streamz.Result[Entry], emit func(streamz.Result[string]) bool) {
		emit(streamz.NewSuccess("dead letter: " + r.Error().Err.Error()))
	}
}
