//go:build go1.25

package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/zoobzio/streamz"
)

// The edge flags: throttle -trailing, debounce -leading and -max-wait.

func TestEdgeThrottleTrailing(t *testing.T) {
	for _, args := range [][]string{{"throttle", "-trailing", "1s"}, {"throttle", "1s", "-trailing"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := start(t, streamz.RealClock, args...)
				s.write(t, "a\n")
				assert.Equal(t, "a\n", s.output(), "first line passes at once")
				time.Sleep(500 * time.Millisecond)
				s.write(t, "b\nc\n")
				time.Sleep(500*time.Millisecond - time.Nanosecond)
				assert.Equal(t, "a\n", s.output(), "held until the cooldown ends")
				time.Sleep(time.Nanosecond)
				assert.Equal(t, "a\nc\n", s.output(), "the cooldown's last line at its end")
				time.Sleep(500 * time.Millisecond)
				s.write(t, "d\n") // in the cooldown that c started
				assert.Equal(t, "a\nc\n", s.output())
				assert.Equal(t, 0, s.exit())
				assert.Equal(t, "a\nc\nd\n", s.stdout.String(), "held line written at end of input")
				assert.Empty(t, s.stderr.String())
			})
		})
	}
}

func TestEdgeDebounceLeading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "debounce", "-leading", "300ms")
		s.write(t, "a\n")
		assert.Equal(t, "a\n", s.output(), "first line of a burst at once")
		time.Sleep(100 * time.Millisecond)
		s.write(t, "b\n")
		time.Sleep(299 * time.Millisecond)
		assert.Equal(t, "a\n", s.output())
		time.Sleep(time.Millisecond)
		assert.Equal(t, "a\nb\n", s.output(), "last line of the burst at its end")
		time.Sleep(time.Second)
		s.write(t, "c\n")
		assert.Equal(t, "a\nb\nc\n", s.output(), "a lone line at once")
		time.Sleep(time.Second)
		assert.Equal(t, 0, s.exit())
		assert.Equal(t, "a\nb\nc\n", s.stdout.String(), "a lone line only once")
	})
}

func TestEdgeDebounceMaxWait(t *testing.T) {
	for _, args := range [][]string{{"debounce", "-max-wait", "250ms", "100ms"}, {"debounce", "100ms", "-max-wait=250ms"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				begin := time.Now()
				s := start(t, streamz.RealClock, args...)
				var seen []string
				last := ""
				for ms := 0; ms <= 600; ms += 10 {
					if ms%60 == 0 && ms <= 480 {
						s.write(t, fmt.Sprintf("%d\n", ms))
					}
					if out := s.output(); out != last {
						seen = append(seen, fmt.Sprintf("%v:%s", time.Since(begin), strings.TrimPrefix(out, last)))
						last = out
					}
					time.Sleep(10 * time.Millisecond)
				}
				assert.Equal(t, []string{"250ms:240\n", "500ms:480\n"}, seen)
				assert.Equal(t, 0, s.exit())
			})
		})
	}
}

// A line held for the trailing edge is written on a signal too.
func TestEdgeSignalWritesHeldLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "throttle", "-trailing", "1h")
		s.write(t, "a\nb\n")
		time.Sleep(time.Minute)
		synctest.Wait()
		s.signal()
		assert.Equal(t, 0, <-s.status)
		assert.Equal(t, "a\nb\n", s.stdout.String())
		s.stdin.Close()
	})
}

func TestEdgeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"debounce", "-max-wait", "-1s", "1s"}, "bad -max-wait -1s: must not be negative"},
		{[]string{"debounce", "1s", "-max-wait", "-1s"}, "bad -max-wait -1s: must not be negative"},
		{[]string{"debounce", "-max-wait=-1s", "1s"}, "bad -max-wait -1s: must not be negative"},
		{[]string{"debounce", "-max-wait", "2", "1s"}, `invalid value "2" for flag -max-wait`},
		{[]string{"debounce", "1s", "-max-wait"}, "flag needs an argument: -max-wait"},
		{[]string{"throttle", "-leading", "1s"}, "flag provided but not defined: -leading"},
		{[]string{"throttle", "-max-wait", "1s", "1s"}, "flag provided but not defined: -max-wait"},
		{[]string{"debounce", "-trailing", "1s"}, "flag provided but not defined: -trailing"},
		{[]string{"throttle", "1s", "-trailing", "extra"}, `unexpected argument "extra" after DURATION`},
		{[]string{"throttle", "-trailing"}, "missing DURATION"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tc.args, strings.NewReader("a\n"), &stdout, &stderr, streamz.RealClock)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout.String())
			assertUsageError(t, stderr.String(), tc.args, tc.msg)
		})
	}
}

func TestEdgeHelp(t *testing.T) {
	var stdout bytes.Buffer
	assert.Equal(t, 0, run(t.Context(), []string{"-h"}, strings.NewReader(""), &stdout, &stdout, streamz.RealClock))
	for _, s := range []string{"throttle [-trailing] DURATION", "With -trailing", "debounce [-leading] [-max-wait DURATION] DURATION", "-leading also", "-max-wait writes"} {
		assert.Contains(t, stdout.String(), s)
	}
	for cmd, flags := range map[string][]string{
		"throttle": {"-trailing\n", "Usage: streamz throttle [-trailing] DURATION"},
		"debounce": {"-leading\n", "-max-wait DURATION\n", "counts as it", "Usage: streamz debounce [-leading] [-max-wait DURATION] DURATION"},
	} {
		stdout.Reset()
		assert.Equal(t, 0, run(t.Context(), []string{cmd, "-h"}, strings.NewReader(""), &stdout, &stdout, streamz.RealClock))
		for _, f := range flags {
			assert.Contains(t, stdout.String(), f, cmd)
		}
	}
	// -h after DURATION works too.
	stdout.Reset()
	assert.Equal(t, 0, run(t.Context(), []string{"throttle", "1s", "-h"}, strings.NewReader(""), &stdout, &stdout, streamz.RealClock))
	assert.Contains(t, stdout.String(), "Usage: streamz throttle")
}
