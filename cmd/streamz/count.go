package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"strconv"

	"github.com/zoobzio/streamz"
)

var countCommand = command{
	name:     "count",
	synopsis: "DURATION",
	about: "Counts lines in back-to-back windows of DURATION, the first starting when\n" +
		"the command starts, and writes one line per window as soon as the window\n" +
		"ends: its start, in the clock's time zone to the millisecond, a space, and\n" +
		"the number of lines received in it. A window with no lines writes nothing.\n" +
		"At the end of input, or on SIGINT or SIGTERM, the current window is written\n" +
		"at once, with its start and what it has counted so far. DURATION must be\n" +
		"positive.",
	example: "tail -f access.log | streamz count 10s",
}

// countStartLayout is how count writes a window's start: RFC 3339 to the
// millisecond, as the -v events write their times.
const countStartLayout = "2006-01-02T15:04:05.000Z07:00"

// runCount runs count: a tumbling window folded into a count per window,
// so that it holds no lines however many arrive. Flags may come before or
// after DURATION, as for throttle and debounce.
func runCount(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock, verbose bool) int {
	c := commands["count"]
	fs := flag.NewFlagSet("count", flag.ContinueOnError)
	v := verboseFlag(fs)
	d, ok, status := c.parseDuration(fs, args, true, stdout, stderr)
	if !ok {
		return status
	}
	windows := streamz.NewTumblingWindow[string](d, clock).WithName("count").WithObserver(observer(verbose || *v, stderr))
	count := streamz.NewWindowFold(windows, nil, func(n int, _ streamz.Result[string]) int { return n + 1 })
	return filter(ctx, stdin, stdout, stderr, clock, "count", count.Process, func(w *bufio.Writer, v streamz.WindowValue[int]) error {
		w.WriteString(v.Start.Format(countStartLayout))
		w.WriteByte(' ')
		w.WriteString(strconv.Itoa(v.Value))
		return w.WriteByte('\n')
	})
}
