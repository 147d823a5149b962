//go:build go1.25

package main

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/zoobzio/streamz"
)

// In wait mode each line goes out the moment its token accrues, and not a
// nanosecond before.
func TestRatelimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "ratelimit", "10")
		s.write(t, "a\nb\nc\n")
		assert.Equal(t, "a\n", s.output())
		time.Sleep(100*time.Millisecond - time.Nanosecond)
		assert.Equal(t, "a\n", s.output())
		time.Sleep(time.Nanosecond)
		assert.Equal(t, "a\nb\n", s.output())
		time.Sleep(100 * time.Millisecond)
		assert.Equal(t, "a\nb\nc\n", s.output())
		assert.Equal(t, 0, s.exit())
		assert.Empty(t, s.stderr.String())
	})
}

// With -drop, a line that finds no token is dropped; -burst lets that many
// through at once; flags may follow RATE.
func TestRatelimitDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "ratelimit", "-drop", "10", "-burst", "2")
		s.write(t, "a\nb\nc\n")
		assert.Equal(t, "a\nb\n", s.output())
		time.Sleep(100 * time.Millisecond)
		s.write(t, "d\ne\n")
		assert.Equal(t, 0, s.exit())
		assert.Equal(t, "a\nb\nd\n", s.stdout.String())
	})
}

// At the end of input, a line waiting for its token is written when the
// token comes.
func TestRatelimitEndOfInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		begin := time.Now()
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"ratelimit", "2"}, strings.NewReader("a\nb\nc"), &stdout, &stderr, streamz.RealClock)
		assert.Equal(t, 0, code)
		assert.Equal(t, "a\nb\nc\n", stdout.String())
		assert.Equal(t, time.Second, time.Since(begin))
	})
}

// A line that passed is remembered for -ttl from when it passed, not from
// its repeats.
func TestDedupe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "dedupe", "-ttl", "1s")
		s.write(t, "a\nb\na\n")
		assert.Equal(t, "a\nb\n", s.output())
		time.Sleep(500 * time.Millisecond)
		s.write(t, "a\n")
		time.Sleep(500*time.Millisecond - time.Nanosecond)
		s.write(t, "a\n")
		assert.Equal(t, "a\nb\n", s.output())
		time.Sleep(time.Nanosecond)
		s.write(t, "a\n\n\n")
		assert.Equal(t, 0, s.exit())
		assert.Equal(t, "a\nb\na\n\n", s.stdout.String())
		assert.Empty(t, s.stderr.String())
	})
}

func TestFlowVerbose(t *testing.T) {
	for args, want := range map[string]string{
		"ratelimit -v -drop 1": "processor=rate-limiter kind=drop reason=rate-limit count=1",
		"-v dedupe":            "processor=dedupe kind=drop reason=duplicate count=1",
	} {
		t.Run(args, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), strings.Fields(args), strings.NewReader("a\na\n"), &stdout, &stderr, streamz.RealClock)
			assert.Equal(t, exitOK, code)
			assert.Equal(t, "a\n", stdout.String())
			assert.Contains(t, stderr.String(), want)
		})
	}
}

func TestFlowUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"ratelimit"}, "missing RATE"},
		{[]string{"ratelimit", "-drop"}, "missing RATE"},
		{[]string{"ratelimit", "fast"}, `bad RATE "fast": not a number`},
		{[]string{"ratelimit", "0"}, "bad RATE 0: must be positive and finite"},
		{[]string{"ratelimit", "+Inf"}, "bad RATE +Inf: must be positive and finite"},
		{[]string{"ratelimit", "NaN"}, "bad RATE NaN: must be positive and finite"},
		{[]string{"ratelimit", "-1"}, "bad RATE -1: must be positive"},
		{[]string{"ratelimit", "-burst", "3", "-2.5"}, "bad RATE -2.5: must be positive"},
		{[]string{"ratelimit", "-burst", "0", "1"}, "bad -burst 0: must be at least 1"},
		{[]string{"ratelimit", "-burst", "-1", "1"}, "bad -burst -1: must be at least 1"},
		{[]string{"ratelimit", "1", "2"}, `unexpected argument "2" after RATE`},
		{[]string{"ratelimit", "1", "-wait"}, "flag provided but not defined: -wait"},
		{[]string{"dedupe", "-ttl", "0"}, "bad -ttl 0s: must be positive"},
		{[]string{"dedupe", "-ttl", "-1s"}, "bad -ttl -1s: must be positive"},
		{[]string{"dedupe", "-ttl", "soon"}, `invalid value "soon" for flag -ttl`},
		{[]string{"dedupe", "1s"}, `unexpected argument "1s"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tc.args, strings.NewReader("a\n"), &stdout, &stderr, streamz.RealClock)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout.String())
			assertUsageError(t, stderr.String(), tc.args, tc.msg)
		})
	}
}

func TestFlowHelp(t *testing.T) {
	var stdout bytes.Buffer
	assert.Equal(t, exitOK, run(t.Context(), []string{"-h"}, strings.NewReader(""), &stdout, &stdout, streamz.RealClock))
	assert.Contains(t, stdout.String(), "\n  ratelimit [-burst N] [-drop] RATE\n")
	assert.Contains(t, stdout.String(), "\n  dedupe [-ttl DURATION]\n")
	for cmd, want := range map[string][]string{
		"ratelimit": {"Usage: streamz ratelimit [-burst N] [-drop] RATE", "-burst N\n", "-drop\n", "\nExample:\n  cat urls.txt | streamz ratelimit -burst 5 10\n"},
		"dedupe":    {"Usage: streamz dedupe [-ttl DURATION]", "-ttl DURATION\n", "(default 1m0s)", "\nExample:\n  tail -f events.log | streamz dedupe -ttl 1m\n"},
	} {
		for _, args := range [][]string{{cmd, "-h"}, {"help", cmd}} {
			stdout.Reset()
			assert.Equal(t, exitOK, run(t.Context(), args, strings.NewReader(""), &stdout, &stdout, streamz.RealClock))
			for _, s := range want {
				assert.Contains(t, stdout.String(), s, args)
			}
		}
	}
	stdout.Reset()
	assert.Equal(t, exitOK, run(t.Context(), []string{"ratelimit", "5", "-h"}, strings.NewReader(""), &stdout, &stdout, streamz.RealClock))
	assert.Contains(t, stdout.String(), "Usage: streamz ratelimit")
}
