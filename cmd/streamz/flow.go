package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/zoobzio/streamz"
)

var ratelimitCommand = command{
	name:     "ratelimit",
	synopsis: "[-burst N] [-drop] RATE",
	about: "Passes at most RATE lines a second, in bursts of up to -burst lines: a\n" +
		"token bucket that holds -burst tokens, starts full and refills at RATE a\n" +
		"second, each line taking one. A line that finds no token waits for one\n" +
		"and is written the moment it comes; while it waits, no more input is\n" +
		"read, so a fast producer is slowed to RATE. With -drop, such a line is\n" +
		"dropped instead, and input is never held up. RATE is a positive number,\n" +
		"such as 10 or 0.5. At the end of input, a waiting line is written when\n" +
		"its token comes; on SIGINT or SIGTERM, if it comes within 10s. Flags may\n" +
		"come before or after RATE.",
	example: "cat urls.txt | streamz ratelimit -burst 5 10",
}

var dedupeCommand = command{
	name:     "dedupe",
	synopsis: "[-ttl DURATION]",
	about: "Drops every line equal to one that passed within -ttl before it; the\n" +
		"-ttl counts from the line that passed, so a line that keeps repeating\n" +
		"passes again once every -ttl. Only the lines that passed within -ttl are\n" +
		"remembered. -ttl must be positive.",
	example: "tail -f events.log | streamz dedupe -ttl 1m",
}

// runRatelimit runs ratelimit: a RateLimiter over the lines.
func runRatelimit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock, verbose bool) int {
	c := commands["ratelimit"]
	fs := flag.NewFlagSet("ratelimit", flag.ContinueOnError)
	v := verboseFlag(fs)
	burst := fs.Int("burst", 1, "let up to `N` lines through at once; at least 1")
	drop := fs.Bool("drop", false, "drop a line that finds no token instead of waiting for one")
	if arg, ok := negativeArg(fs, args, isNegativeNumber); ok {
		return c.fail(stderr, fmt.Sprintf("bad RATE %s: must be positive", arg))
	}
	arg, ok, status := c.parseOne(fs, args, "RATE", stdout, stderr)
	if !ok {
		return status
	}
	rate, err := strconv.ParseFloat(arg, 64)
	switch {
	case err != nil:
		return c.fail(stderr, fmt.Sprintf("bad RATE %q: not a number", arg))
	case !(rate > 0) || math.IsInf(rate, 1):
		return c.fail(stderr, fmt.Sprintf("bad RATE %s: must be positive and finite", arg))
	case *burst < 1:
		return c.fail(stderr, fmt.Sprintf("bad -burst %d: must be at least 1", *burst))
	}
	rl := streamz.NewRateLimiter[string](rate, *burst, clock).WithDrop(*drop).WithObserver(observer(verbose || *v, stderr))
	return filter(ctx, stdin, stdout, stderr, clock, "ratelimit", rl.Process, writeLine)
}

// runDedupe runs dedupe: a Dedupe keyed by the whole line.
func runDedupe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, clock streamz.Clock, verbose bool) int {
	c := commands["dedupe"]
	fs := flag.NewFlagSet("dedupe", flag.ContinueOnError)
	v := verboseFlag(fs)
	ttl := fs.Duration("ttl", time.Minute, "remember a line that passed for `DURATION`")
	if ok, status := c.parse(fs, args, stdout, stderr); !ok {
		return status
	}
	if fs.NArg() > 0 {
		return c.fail(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *ttl <= 0 {
		return c.fail(stderr, fmt.Sprintf("bad -ttl %v: must be positive", *ttl))
	}
	dd := streamz.NewDedupe(func(line string) string { return line }, *ttl, clock).WithObserver(observer(verbose || *v, stderr))
	return filter(ctx, stdin, stdout, stderr, clock, "dedupe", dd.Process, writeLine)
}

// isNegativeNumber reports whether arg is a negative number, which the flag
// package would take for an undefined flag.
func isNegativeNumber(arg string) bool {
	f, err := strconv.ParseFloat(arg, 64)
	return err == nil && f < 0 && strings.HasPrefix(arg, "-")
}
