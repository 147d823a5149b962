package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zoobzio/streamz"
)

// Exit statuses.
const (
	exitOK    = 0
	exitIO    = 1 // reading stdin or writing stdout failed
	exitUsage = 2 // bad subcommand, flag, argument or duration
)

const usageText = `streamz: time-based line filters for shell pipelines.

Usage:
  streamz [-v] <command> [flags] [arguments]
  streamz <command> -h      (or: streamz help <command>)
  streamz -version

  -v  also write what the processor does to stderr, one line per event:
      each line written or dropped and why, a held line replaced by a newer
      one, its timer's life, the end of the run. It may also follow the
      command. For example:
      level=INFO msg=streamz processor=throttle kind=drop reason=cooldown count=1 at=...
  -version
      print the version streamz was built from, and the Go version.

Commands:
  demo
      Run a scripted stream of keystrokes, button clicks and log lines
      through debounce, throttle and batch on the real clock, and print a
      timeline of what went in, what came out and why (about 3 seconds).
      example: streamz demo

  throttle [-trailing] DURATION
      Pass a line, then drop every line that arrives within DURATION of it.
      With -trailing, the last line of each cooldown is written when the
      cooldown ends.
      example: tail -f app.log | streamz throttle 1s

  debounce [-leading] [-max-wait DURATION] DURATION
      Hold each line and pass it once DURATION has gone by with no newer
      line; of a burst, only the last line comes out. -leading also writes
      the first line of a burst at once; -max-wait writes the held line at
      least that often while lines keep coming.
      example: tail -f build-status.log | streamz debounce 300ms

  batch [-size N] [-latency DURATION] [-sep STRING | -json]
      Group lines and write each group as one line: when it holds N lines,
      or DURATION after its first line, whichever comes first. With -json,
      a byte that is not valid UTF-8 is written as U+FFFD.
      example: tail -f app.log | streamz batch -size 500 -latency 2s

  count DURATION
      Count lines in back-to-back windows of DURATION, and write each
      window's start and count as soon as the window ends; a window with
      no lines writes nothing.
      example: tail -f access.log | streamz count 10s

  ratelimit [-burst N] [-drop] RATE
      Pass at most RATE lines a second, in bursts of up to N: a line that
      finds no token waits for one, and holds up the input while it does;
      with -drop, it is dropped instead.
      example: cat urls.txt | streamz ratelimit -burst 5 10

  dedupe [-ttl DURATION]
      Drop every line equal to one that passed within DURATION (default
      1m) before it, counted from the line that passed.
      example: tail -f events.log | streamz dedupe -ttl 1m

  migrate [-l] [-w] PATH ...
      Rewrite Go files from github.com/zoobzio/clockz's clock to streamz's
      own, as gofmt rewrites: print a diff, or with -l list the files that
      would change, or with -w write them. PATH is a file, a folder or
      folder/...; a clockz use with no streamz equivalent is reported, and
      the exit status is then 1. See "streamz migrate -h".
      example: streamz migrate -w ./...

Filters read stdin and write stdout, one item per line, and write each item
as soon as it is ready. A line ends at "\n" or "\r\n", which is not part
of the item; a last line without an end still counts. Lines may be of any
length. At the end of input, and on SIGINT or SIGTERM, the pending line or
batch is written before exit (after a signal, if stdout takes it within
10s); a second signal ends at once.

DURATION is a Go duration such as 300ms, 1.5s or 2m. A zero DURATION turns
the delay off (throttle and debounce pass every line; batch goes by size
only); count needs a positive one. A negative DURATION is an error.

Exit status: 0 success, also after SIGINT or SIGTERM; 1 read or write
error; 2 usage error, reported in one line on stderr.
`

// run is the whole command without the process around it: main gives it
// the program's arguments (without the program name), its standard streams,
// a context cancelled on SIGINT or SIGTERM, and the real clock. It returns
// the exit status.
//
// For the filters, cancelling ctx means "stop reading input, write what is
// pending, and exit 0": the processors themselves run under a context of
// their own, so that the library's flush at end of input, not its cancel,
// decides what happens to the pending item.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock) int {
	// -v before the command; each command also takes it after.
	verbose := false
	if len(args) > 0 && (args[0] == "-v" || args[0] == "--v") {
		verbose = true
		args = args[1:]
	}
	if len(args) == 0 {
		return usageError(stderr, "streamz", "no command given", "streamz -h")
	}
	name, args := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	case "help":
		return runHelp(ctx, args, stdin, stdout, stderr, clock)
	case "-version", "--version":
		fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
		return exitOK
	case "demo":
		return runDemo(ctx, args, stdout, stderr, clock, verbose)
	case "throttle", "debounce":
		return runTimed(ctx, name, args, stdin, stdout, stderr, clock, verbose)
	case "batch":
		return runBatch(ctx, args, stdin, stdout, stderr, clock, verbose)
	case "count":
		return runCount(ctx, args, stdin, stdout, stderr, clock, verbose)
	case "ratelimit":
		return runRatelimit(ctx, args, stdin, stdout, stderr, clock, verbose)
	case "dedupe":
		return runDedupe(ctx, args, stdin, stdout, stderr, clock, verbose)
	case "migrate":
		return runMigrate(args, stdout, stderr)
	}
	return usageError(stderr, "streamz", fmt.Sprintf("unknown command %q", name), "streamz -h")
}

// usageError reports a usage error as one line on stderr, prefixed by who,
// followed by where to read the usage, and returns the usage status.
func usageError(stderr io.Writer, who, msg, help string) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s' for usage.\n", who, msg, help)
	return exitUsage
}

// runHelp prints the usage, or with a command, that command's usage, as
// "streamz CMD -h" does.
func runHelp(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, usageText)
		return exitOK
	case len(args) > 1:
		return usageError(stderr, "streamz help", fmt.Sprintf("unexpected argument %q after the command", args[1]), "streamz -h")
	}
	if _, ok := commands[args[0]]; !ok {
		return usageError(stderr, "streamz help", fmt.Sprintf("unknown command %q", args[0]), "streamz -h")
	}
	return run(ctx, []string{args[0], "-h"}, stdin, stdout, stderr, clock)
}

// versionLine returns what -version prints: the version of the module
// streamz was built from, as the go command stamped it ("(devel)" when it
// had none to stamp), and the Go version.
func versionLine(info *debug.BuildInfo, ok bool) string {
	v := "(unknown)"
	if ok && info.Main.Version != "" {
		v = info.Main.Version
	}
	return "streamz " + v + " " + runtime.Version()
}

// verboseObserver returns the observer of -v: one slog text line per event
// on stderr, at level INFO. The handler's own time is left out: the event's
// "at", the processor's clock reading, says when it happened, on the clock
// the processor uses.
func verboseObserver(stderr io.Writer) func(streamz.Event) {
	h := slog.NewTextHandler(stderr, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	return streamz.NewSlogObserver(slog.New(h), slog.LevelInfo)
}

// command describes one subcommand's usage message.
type command struct {
	name     string
	synopsis string
	about    string
	example  string
}

// verboseFlag defines -v on fs, for the commands, which take it after
// their name as well as before.
func verboseFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("v", false, "also write what the processor does to stderr, one line per event\n(as \"streamz -v\" does)")
}

// observer returns the processors' observer: none, unless -v.
func observer(verbose bool, stderr io.Writer) func(streamz.Event) {
	if !verbose {
		return nil
	}
	return verboseObserver(stderr)
}

// parse parses args with fs. It returns ok=false and the exit status when
// the command must stop there: after -h, which prints the usage on stdout
// and succeeds, or after a bad flag, which reports a usage error.
func (c command) parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (ok bool, status int) {
	// The FlagSet prints nothing itself, so that -h can go to stdout and
	// errors to stderr.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(fs, stdout)
		return false, exitOK
	}
	if err != nil {
		return false, c.fail(stderr, err.Error())
	}
	return true, exitOK
}

// fail reports the usage error msg and returns the usage status.
func (c command) fail(stderr io.Writer, msg string) int {
	return usageError(stderr, "streamz "+c.name, msg, "streamz "+c.name+" -h")
}

func (c command) usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: streamz %s %s\n\n%s\n", c.name, c.synopsis, c.about)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	fmt.Fprintf(w, "\nExample:\n  %s\n", c.example)
}

var commands = map[string]command{
	"demo": {
		name:    "demo",
		about:   "Runs a scripted stream of keystrokes, button clicks and log lines through\ndebounce, throttle and batch on the real clock, and prints a timeline of\nwhat went in, what came out and why. It takes about 3 seconds.",
		example: "streamz demo",
	},
	"throttle": {
		name:     "throttle",
		synopsis: "[-trailing] DURATION",
		about: "Passes a line, then drops every line that arrives within DURATION of it;\n" +
			"the first line after that passes and starts the next cooldown. With\n" +
			"-trailing, the last line that arrived during a cooldown is written when\n" +
			"the cooldown ends, which starts a new one, so lines come out at least\n" +
			"DURATION apart. At the end of input, or on SIGINT or SIGTERM, a line held\n" +
			"for that is written at once. A zero DURATION passes every line. Flags\n" +
			"may come before or after DURATION.",
		example: "tail -f app.log | streamz throttle -trailing 1s",
	},
	"debounce": {
		name:     "debounce",
		synopsis: "[-leading] [-max-wait DURATION] DURATION",
		about: "Holds each line and passes it once DURATION has gone by with no newer\n" +
			"line; a newer line replaces the held one. A burst of lines ends once\n" +
			"DURATION passes with no line. With -leading, the first line of a burst\n" +
			"is written at once, and the burst's last line at its end only if it is\n" +
			"not the first. With -max-wait, while lines keep coming, the held line is\n" +
			"written no later than that long after the previous write or the burst's\n" +
			"first line; a -max-wait shorter than DURATION counts as DURATION. At the\n" +
			"end of input, or on SIGINT or SIGTERM, the held line is written at once.\n" +
			"A zero DURATION passes every line. Flags may come before or after\n" +
			"DURATION.",
		example: "tail -f build-status.log | streamz debounce -leading -max-wait 2s 300ms",
	},
	"batch": {
		name:     "batch",
		synopsis: "[-size N] [-latency DURATION] [-sep STRING | -json]",
		about:    "Groups lines into batches and writes each batch as one line: its lines\njoined by -sep, or a JSON array of strings with -json. A batch is written\nwhen it holds -size lines, or -latency after its first line arrived,\nwhichever comes first. At the end of input, or on SIGINT or SIGTERM, the\npartial batch is written at once.",
		example:  "tail -f app.log | streamz batch -size 500 -latency 2s",
	},
	"count":     countCommand,
	"ratelimit": ratelimitCommand,
	"dedupe":    dedupeCommand,
	"migrate":   migrateCommand,
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer, clock streamz.Clock, verbose bool) int {
	c := commands["demo"]
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	v := verboseFlag(fs)
	if ok, status := c.parse(fs, args, stdout, stderr); !ok {
		return status
	}
	if fs.NArg() > 0 {
		return c.fail(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if err := demo(ctx, clock, stdout, observer(verbose || *v, stderr)); err != nil {
		fmt.Fprintf(stderr, "streamz demo: %v\n", err)
		return exitIO
	}
	return exitOK
}

// parseDuration parses args with fs: one DURATION, with flags before or
// after it. A negative DURATION is a usage error, and so is zero when
// positive is set. On a usage error it reports it and returns ok false
// with the exit status.
func (c command) parseDuration(fs *flag.FlagSet, args []string, positive bool, stdout, stderr io.Writer) (d time.Duration, ok bool, status int) {
	rule := "must not be negative"
	if positive {
		rule = "must be positive"
	}
	// The flag package would take a negative DURATION, such as -1s, for an
	// undefined flag.
	if arg, ok := negativeArg(fs, args, isNegativeDuration); ok {
		d, _ := time.ParseDuration(arg)
		return 0, false, c.fail(stderr, fmt.Sprintf("bad DURATION %v: %s", d, rule))
	}
	arg, ok, status := c.parseOne(fs, args, "DURATION", stdout, stderr)
	if !ok {
		return 0, false, status
	}
	d, err := time.ParseDuration(arg)
	if err != nil {
		return 0, false, c.fail(stderr, fmt.Sprintf("bad DURATION: %v", err))
	}
	if d < 0 || positive && d == 0 {
		return 0, false, c.fail(stderr, fmt.Sprintf("bad DURATION %v: %s", d, rule))
	}
	return d, true, 0
}

// parseOne parses args with fs: one argument, called what in errors, with
// flags before or after it. On a usage error, or -h, it returns ok false
// with the exit status.
func (c command) parseOne(fs *flag.FlagSet, args []string, what string, stdout, stderr io.Writer) (arg string, ok bool, status int) {
	if ok, status := c.parse(fs, args, stdout, stderr); !ok {
		return "", false, status
	}
	if fs.NArg() == 0 {
		return "", false, c.fail(stderr, "missing "+what)
	}
	arg = fs.Arg(0)
	// The flag package stops at the first argument that is not a flag;
	// parse what follows the argument too, so that flags may come after it.
	if ok, status := c.parse(fs, fs.Args()[1:], stdout, stderr); !ok {
		return "", false, status
	}
	if fs.NArg() > 0 {
		return "", false, c.fail(stderr, fmt.Sprintf("unexpected argument %q after %s", fs.Arg(0), what))
	}
	return arg, true, 0
}

// runTimed runs throttle or debounce, which take a single duration and
// their edge options.
func runTimed(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock, verbose bool) int {
	c := commands[name]
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	v := verboseFlag(fs)
	var trailing, leading *bool
	var maxWait *time.Duration
	if name == "throttle" {
		trailing = fs.Bool("trailing", false, "also write the last line of each cooldown when the cooldown ends")
	} else {
		leading = fs.Bool("leading", false, "also write the first line of each burst at once")
		maxWait = fs.Duration("max-wait", 0, "while lines keep coming, write the held line at least once per\n`DURATION`; 0 means no limit, and less than the debounce DURATION\ncounts as it")
	}
	d, ok, status := c.parseDuration(fs, args, false, stdout, stderr)
	if !ok {
		return status
	}
	if maxWait != nil && *maxWait < 0 {
		return c.fail(stderr, fmt.Sprintf("bad -max-wait %v: must not be negative", *maxWait))
	}

	observe := observer(verbose || *v, stderr)
	var process func(context.Context, <-chan streamz.Result[string]) <-chan streamz.Result[string]
	if name == "throttle" {
		process = streamz.NewThrottle[string](d, clock).WithTrailing(*trailing).WithObserver(observe).Process
	} else {
		process = streamz.NewDebounce[string](d, clock).WithLeading(*leading).WithMaxWait(*maxWait).WithObserver(observe).Process
	}
	return filter(ctx, stdin, stdout, stderr, clock, name, process, writeLine)
}

// writeLine is filter's write for the commands whose items are the lines.
func writeLine(w *bufio.Writer, line string) error {
	w.WriteString(line)
	return w.WriteByte('\n')
}

func runBatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock, verbose bool) int {
	c := commands["batch"]
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	v := verboseFlag(fs)
	size := fs.Int("size", 100, "write a batch once it holds `N` lines; at least 1")
	latency := fs.Duration("latency", time.Second, "write a batch once this `DURATION` has passed since its first line;\n0 means by size only")
	sep := fs.String("sep", "\t", "join a batch's lines with `STRING`, taken literally")
	asJSON := fs.Bool("json", false, "write each batch as a JSON array of strings, in which a byte that\nis not valid UTF-8 is written as U+FFFD, the replacement character")
	if ok, status := c.parse(fs, args, stdout, stderr); !ok {
		return status
	}
	if fs.NArg() > 0 {
		return c.fail(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *size < 1 {
		return c.fail(stderr, fmt.Sprintf("bad -size %d: must be at least 1", *size))
	}
	if *latency < 0 {
		return c.fail(stderr, fmt.Sprintf("bad -latency %v: must not be negative", *latency))
	}
	sepSet := false
	fs.Visit(func(f *flag.Flag) { sepSet = sepSet || f.Name == "sep" })
	if sepSet && *asJSON {
		return c.fail(stderr, "-sep and -json cannot be used together")
	}

	write := func(w *bufio.Writer, batch []string) error {
		for i, line := range batch {
			if i > 0 {
				w.WriteString(*sep)
			}
			w.WriteString(line)
		}
		return w.WriteByte('\n')
	}
	if *asJSON {
		write = func(w *bufio.Writer, batch []string) error {
			for i, line := range batch {
				batch[i] = validUTF8(line)
			}
			enc := json.NewEncoder(w) // Encode ends the array with "\n"
			enc.SetEscapeHTML(false)
			return enc.Encode(batch)
		}
	}
	b := streamz.NewBatcher[string](streamz.BatchConfig{MaxSize: *size, MaxLatency: *latency}, clock).WithObserver(observer(verbose || *v, stderr))
	return filter(ctx, stdin, stdout, stderr, clock, "batch", b.Process, write)
}

// validUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD. encoding/json replaces such bytes too, but writes the
// replacement as the escape \ufffd or as the character itself depending
// on how it was built, and a U+FFFD that was in the input as the character:
// replacing them first gives one spelling, the character, always.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // an invalid byte reads as one utf8.RuneError
		b.WriteRune(r)
	}
	return b.String()
}

// negativeArg returns the first argument that negative reports, such as
// a negative duration, where the flag package would look for a flag: not
// the value of a flag such as -max-wait, nor after "--".
func negativeArg(fs *flag.FlagSet, args []string, negative func(string) bool) (string, bool) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			break
		}
		if !strings.HasPrefix(arg, "-") {
			continue
		}
		if negative(arg) {
			return arg, true
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) {
			i++ // the flag's value
		}
	}
	return "", false
}

// isNegativeDuration reports whether arg is a negative duration.
func isNegativeDuration(arg string) bool {
	d, err := time.ParseDuration(arg)
	return err == nil && d < 0
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// shutdownGrace is how long, after SIGINT or SIGTERM, the processors may
// take to hand over what they hold before it is dropped. They hand it over
// at once; what can take long is stdout taking it.
const shutdownGrace = 10 * time.Second

// filter runs process over the lines of stdin and writes each output item
// to stdout with write, flushing after every item.
//
// It shuts down as the README's "Building a service" teaches: the processor
// and the line source run under procCtx, which ends only shutdownGrace
// after the signal (ctx), and the signal goes to TakeUntil alone, which
// then ends the processor's input, so that the processor writes what is
// pending and closes its output. The end of input and a read error end it
// the same way. A Read blocked on stdin when the signal comes is left to
// return in the background: in the real program the process exits first;
// in tests, the test closes its stdin.
func filter[O any](ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock, name string,
	process func(context.Context, <-chan streamz.Result[string]) <-chan streamz.Result[O],
	write func(*bufio.Writer, O) error,
) int {
	procCtx, stopProc := streamz.WithGrace(ctx, shutdownGrace, clock)
	defer stopProc()
	lines := streamz.NewTakeUntil[string](ctx).Process(procCtx, streamz.FromLines(procCtx, stdin, 0))

	status := exitOK
	w := bufio.NewWriter(stdout)
	var writeErr error
	for item, err := range streamz.All(process(procCtx, lines)) {
		switch {
		case writeErr != nil:
			continue // stopProc has been called; drain until the output closes
		case err != nil: // only a read error: every line is sent as a success
			fmt.Fprintf(stderr, "streamz %s: reading input: %v\n", name, errors.Unwrap(err))
			status = exitIO
			continue
		}
		if writeErr = write(w, item); writeErr == nil {
			writeErr = w.Flush()
		}
		if writeErr != nil {
			// Stop early: the processor drops what it holds.
			stopProc()
		}
	}
	if writeErr != nil {
		fmt.Fprintf(stderr, "streamz %s: writing output: %v\n", name, writeErr)
		status = exitIO
	}
	return status
}
