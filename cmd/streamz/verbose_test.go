//go:build go1.25

package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zoobzio/streamz"
)

// -v: the processors' events on stderr, through streamz.NewSlogObserver.

var owAtRE = regexp.MustCompile(`at=(\S+)`)

// owRelative rewrites every at= of text as the offset from start, so that
// the lines read the same in any time zone.
func owRelative(t *testing.T, text string, start time.Time) []string {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line == "" {
			continue
		}
		line = owAtRE.ReplaceAllStringFunc(line, func(m string) string {
			at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(m, "at="))
			require.NoError(t, err, line)
			return "at=+" + at.Sub(start).String()
		})
		lines = append(lines, line)
	}
	return lines
}

func owLine(processor, kind, reason string, count int, at string) string {
	if reason == "" {
		reason = `""`
	}
	return "level=INFO msg=streamz processor=" + processor + " kind=" + kind + " reason=" + reason +
		" count=" + strconv.Itoa(count) + " at=+" + at
}

func TestVerbose(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		play   func(t *testing.T, s *session)
		stdout string
		events []string
	}{
		{
			name: "throttle: a leading line, a drop in the cooldown",
			args: []string{"-v", "throttle", "1s"},
			play: func(t *testing.T, s *session) {
				s.write(t, "a\n")
				time.Sleep(500 * time.Millisecond)
				s.write(t, "b\n")
			},
			stdout: "a\n",
			events: []string{
				owLine("throttle", "emit", "leading", 1, "0s"),
				owLine("throttle", "drop", "cooldown", 1, "500ms"),
				owLine("throttle", "close", "", 0, "500ms"),
			},
		},
		{
			name: "throttle -trailing: the held line's timer, then the flush at the end of input",
			args: []string{"--v", "throttle", "-trailing", "1s"},
			play: func(t *testing.T, s *session) {
				s.write(t, "a\nb\n")
				time.Sleep(200 * time.Millisecond)
			},
			stdout: "a\nb\n",
			events: []string{
				owLine("throttle", "emit", "leading", 1, "0s"),
				owLine("throttle", "timer-arm", "", 0, "0s"),
				owLine("throttle", "timer-stop", "", 0, "200ms"),
				owLine("throttle", "emit", "close", 1, "200ms"),
				owLine("throttle", "close", "", 0, "200ms"),
			},
		},
		{
			name: "debounce: a replaced line, then the quiet period",
			args: []string{"-v", "debounce", "300ms"},
			play: func(t *testing.T, s *session) {
				s.write(t, "a\n")
				time.Sleep(100 * time.Millisecond)
				s.write(t, "b\n")
				time.Sleep(time.Second)
			},
			stdout: "b\n",
			events: []string{
				owLine("debounce", "timer-arm", "", 0, "0s"),
				owLine("debounce", "coalesce", "", 1, "100ms"),
				owLine("debounce", "timer-fire", "", 0, "400ms"),
				owLine("debounce", "emit", "deadline", 1, "400ms"),
				owLine("debounce", "close", "", 0, "1.1s"),
			},
		},
		{
			name: "batch: a full batch, then a partial one at the end of input",
			args: []string{"-v", "batch", "-size", "2", "-latency", "1s"},
			play: func(t *testing.T, s *session) {
				s.write(t, "a\nb\nc\n")
				time.Sleep(10 * time.Millisecond)
			},
			stdout: "a\tb\nc\n",
			events: []string{
				owLine("batcher", "timer-arm", "", 0, "0s"),
				owLine("batcher", "timer-stop", "", 0, "0s"),
				owLine("batcher", "emit", "size", 2, "0s"),
				owLine("batcher", "timer-arm", "", 0, "0s"),
				owLine("batcher", "timer-stop", "", 0, "10ms"),
				owLine("batcher", "emit", "close", 1, "10ms"),
				owLine("batcher", "close", "", 0, "10ms"),
			},
		},
	}
	for _, c := range cases {
		// -v may come before the command, right after it, or last.
		rest := c.args[2:]
		placements := map[string][]string{
			"before":      c.args,
			"after":       append([]string{c.args[1], c.args[0]}, rest...),
			"after flags": append(append([]string{c.args[1]}, rest...), c.args[0]),
		}
		for where, args := range placements {
			t.Run(c.name+"/"+where, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					start0 := time.Now()
					s := start(t, streamz.RealClock, args...)
					c.play(t, s)
					assert.Equal(t, 0, s.exit())
					assert.Equal(t, c.stdout, s.stdout.String())
					assert.Equal(t, c.events, owRelative(t, s.stderr.String(), start0))
				})
			})
		}
	}
}

// Without -v, nothing goes to stderr (the other tests check it too); -v
// alone is a usage error, and -v -h the help.
func TestVerboseUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-v"}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr.String(), "no command given")
	stdout.Reset()
	stderr.Reset()
	code = run(t.Context(), []string{"-v", "-h"}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout.String(), "streamz [-v] <command>")
	assert.Contains(t, stdout.String(), "It may also follow the\n      command.")
	assert.Empty(t, stderr.String())
	for _, name := range []string{"demo", "throttle", "debounce", "batch"} {
		stdout.Reset()
		assert.Equal(t, exitOK, run(t.Context(), []string{name, "-h"}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock))
		assert.Contains(t, stdout.String(), "\n  -v\talso write what the processor does to stderr", name)
	}
}

// The demo with -v, before or after its name: the same timeline on stdout,
// and every event of its three processors on stderr, each run ending with
// close.
func TestVerboseDemo(t *testing.T) {
	for _, args := range [][]string{{"-v", "demo"}, {"demo", "-v"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stdout bytes.Buffer
				stderr := &syncBuffer{}
				start0 := time.Now()
				code := run(t.Context(), args, strings.NewReader(""), &stdout, stderr, streamz.RealClock)
				assert.Equal(t, 0, code)
				assert.Equal(t, demoGolden, stdout.String())
				lines := owRelative(t, stderr.String(), start0)
				for _, want := range []string{
					owLine("debounce", "emit", "deadline", 1, "600ms"),
					owLine("debounce", "emit", "close", 1, "1.1s"),
					owLine("debounce", "close", "", 0, "1.1s"),
					owLine("throttle", "drop", "cooldown", 1, "1.35s"),
					owLine("throttle", "close", "", 0, "1.95s"),
					owLine("batcher", "emit", "latency", 2, "3s"),
					owLine("batcher", "close", "", 0, "3.2s"),
				} {
					assert.Contains(t, lines, want)
				}
			})
		})
	}
}
