//go:build go1.25

package main

import (
	"bytes"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zoobzio/streamz"
)

// countLine is the line count writes for the window that starts at start.
func countLine(start time.Time, n int) string {
	return start.Format(countStartLayout) + " " + strconv.Itoa(n) + "\n"
}

// Each window's line comes out at exactly its end, with no line after it;
// a window with no lines writes nothing; the end of input writes the
// current window with its start.
func TestCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		s := start(t, streamz.RealClock, "count", "10s")
		s.write(t, "a\nb\n")
		time.Sleep(3 * time.Second)
		s.write(t, "a\n")
		time.Sleep(7*time.Second - time.Nanosecond)
		assert.Empty(t, s.output(), "before the window's end")
		time.Sleep(time.Nanosecond)
		first := countLine(base, 3)
		assert.Equal(t, first, s.output(), "at the window's end, with no line after it")
		time.Sleep(15 * time.Second)
		assert.Equal(t, first, s.output(), "an empty window writes nothing")
		s.write(t, "c\n")
		assert.Equal(t, 0, s.exit())
		assert.Equal(t, first+countLine(base.Add(20*time.Second), 1), s.stdout.String())
		assert.Empty(t, s.stderr.String())
	})
}

// On a FakeClock: the window's line waits for the clock, not for input.
func TestCountFakeClock(t *testing.T) {
	clock := streamz.NewFakeClock()
	stdinW, out, status := runOnPipes(t, clock, "count", "1m")
	_, err := io.WriteString(stdinW, "a\n")
	require.NoError(t, err)
	// The line is read by the time the write returns, but the command may
	// not have handed it on: wait until the window's timer is armed, which
	// the line does. (Nothing here could tell that a second line had been
	// handed on too: the command's own goroutines are not the clock's.)
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
	clock.Advance(time.Minute)
	line, err := out.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, countLine(streamz.FakeClockStart, 1), line)
	require.NoError(t, stdinW.Close())
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	assert.Empty(t, string(rest))
	assert.Equal(t, 0, <-status)
}

func TestCountSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		s := start(t, streamz.RealClock, "count", "1h")
		s.write(t, "a\nb\n")
		time.Sleep(time.Minute)
		assert.Empty(t, s.output())
		s.signal()
		assert.Equal(t, 0, <-s.status)
		assert.Equal(t, countLine(base, 2), s.stdout.String(), "the current window, written at the signal")
		s.stdin.Close()
	})
}

func TestCountEndOfInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		want  int
	}{
		{"lines", "a\nb\nc", 3},
		{"empty lines count", "\n\n", 2},
		{"no input", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(t.Context(), []string{"count", "1h"}, strings.NewReader(tc.input), &stdout, &stderr, streamz.RealClock)
				assert.Equal(t, 0, code)
				want := ""
				if tc.want > 0 {
					want = countLine(time.Now(), tc.want)
				}
				assert.Equal(t, want, stdout.String())
				assert.Empty(t, stderr.String())
			})
		})
	}
}

func TestCountUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"count"}, "missing DURATION"},
		{[]string{"count", "10s", "5s"}, `unexpected argument "5s" after DURATION`},
		{[]string{"count", "often"}, "bad DURATION"},
		{[]string{"count", "0"}, "bad DURATION 0s: must be positive"},
		{[]string{"count", "-1s"}, "bad DURATION -1s: must be positive"},
		{[]string{"count", "--", "-1s"}, "bad DURATION -1s: must be positive"},
		{[]string{"count", "-x", "1s"}, "flag provided but not defined: -x"},
		{[]string{"count", "1s", "-x"}, "flag provided but not defined: -x"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tc.args, strings.NewReader("a\n"), &stdout, &stderr, streamz.RealClock)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout.String())
			assertUsageError(t, stderr.String(), tc.args, tc.msg)
		})
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitOK, run(t.Context(), []string{"count", "-h"}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock))
	assert.Contains(t, stdout.String(), "Usage: streamz count DURATION")
	assert.Contains(t, stdout.String(), "\nExample:\n  tail -f access.log | streamz count 10s\n")
	stdout.Reset()
	assert.Equal(t, exitOK, run(t.Context(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock))
	assert.Contains(t, stdout.String(), "\n  count DURATION\n")
	assert.Contains(t, stdout.String(), "example: tail -f access.log | streamz count 10s\n")
	assert.Empty(t, stderr.String())
}

// With -v, before or after the command or DURATION, each window's emit is
// reported under the command's name.
func TestCountVerbose(t *testing.T) {
	for _, args := range [][]string{{"-v", "count", "1h"}, {"count", "-v", "1h"}, {"count", "1h", "-v"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(t.Context(), args, strings.NewReader("a\nb\n"), &stdout, &stderr, streamz.RealClock)
				assert.Equal(t, exitOK, code)
				assert.Contains(t, stderr.String(), "processor=count kind=emit reason=close count=2")
			})
		})
	}
}

// TestBinaryCount runs the built command on real pipes: a window's line
// comes out when the window ends, while stdin is still open, and the
// current window at EOF; a bad DURATION exits 2.
func TestBinaryCount(t *testing.T) {
	cmd := binaryCommand(t, "count", "200ms")
	stdin, out, stderr := startPiped(t, cmd)
	_, err := io.WriteString(stdin, "a\nb\nc\n")
	require.NoError(t, err)
	// The three lines may fall on either side of a window's end, so the
	// lines are read until they have counted all three.
	var starts []time.Time
	total := 0
	for total < 3 {
		line, err := out.ReadString('\n')
		require.NoError(t, err, "a window's line while stdin is open")
		start, n := parseCountLine(t, line)
		starts = append(starts, start)
		total += n
	}
	assert.Equal(t, 3, total)
	_, err = io.WriteString(stdin, "d\n")
	require.NoError(t, err)
	require.NoError(t, stdin.Close())
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(rest), "\n")
	require.Len(t, lines, 2, "one more line, then the end: %q", rest)
	start, n := parseCountLine(t, lines[0])
	assert.Equal(t, 1, n)
	assert.Zero(t, start.Sub(starts[0])%(200*time.Millisecond), "windows back to back from the first")
	require.NoError(t, cmd.Wait())
	assert.Empty(t, stderr.String())

	bad := binaryCommand(t, "count", "0")
	var badErr strings.Builder
	bad.Stderr = &badErr
	var exit *exec.ExitError
	require.ErrorAs(t, bad.Run(), &exit)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Contains(t, badErr.String(), "must be positive")
}

func parseCountLine(t *testing.T, line string) (time.Time, int) {
	t.Helper()
	fields := strings.Fields(line)
	require.Len(t, fields, 2, "line %q", line)
	start, err := time.Parse(countStartLayout, fields[0])
	require.NoError(t, err)
	n, err := strconv.Atoi(fields[1])
	require.NoError(t, err)
	return start, n
}
