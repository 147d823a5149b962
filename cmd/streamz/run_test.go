//go:build go1.25

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zoobzio/streamz"
)

// Most tests run inside a synctest bubble with the real clock, whose time
// there is fake: time.Sleep moves it at once, and synctest.Wait returns once
// every goroutine of the command is blocked, so what the command has written
// by then is all it will write until something else happens.

// syncBuffer is a bytes.Buffer that the command's writer goroutine and the
// test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// session is one run of the command on a stdin pipe.
type session struct {
	stdin          *io.PipeWriter
	stdout, stderr *syncBuffer
	signal         context.CancelFunc // what SIGINT or SIGTERM does in main
	status         chan int
}

// start runs the command with args in a goroutine of its own.
func start(t *testing.T, clock streamz.Clock, args ...string) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &session{stdin: pw, stdout: &syncBuffer{}, stderr: &syncBuffer{}, signal: cancel, status: make(chan int, 1)}
	go func() {
		s.status <- run(ctx, args, pr, s.stdout, s.stderr, clock)
	}()
	// The reader goroutine outlives run when run stops at a signal, as it
	// does in the real program; closing stdin ends it.
	t.Cleanup(func() {
		pw.Close()
		cancel()
	})
	return s
}

// write sends text to the command's stdin and returns once it is read.
func (s *session) write(t *testing.T, text string) {
	t.Helper()
	_, err := io.WriteString(s.stdin, text)
	require.NoError(t, err)
}

// exit closes stdin and returns the exit status.
func (s *session) exit() int {
	s.stdin.Close()
	return <-s.status
}

// output waits until the command is idle and returns what it has written.
func (s *session) output() string {
	synctest.Wait()
	return s.stdout.String()
}

func TestThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "throttle", "1s")
		s.write(t, "a\n")
		assert.Equal(t, "a\n", s.output(), "first line passes at once")
		time.Sleep(500 * time.Millisecond)
		s.write(t, "b\n")
		assert.Equal(t, "a\n", s.output(), "line within cooldown is dropped")
		time.Sleep(500 * time.Millisecond)
		s.write(t, "c\nd\n")
		assert.Equal(t, "a\nc\n", s.output(), "line at cooldown end passes, the next one is dropped")
		assert.Equal(t, 0, s.exit())
		assert.Equal(t, "a\nc\n", s.stdout.String())
		assert.Empty(t, s.stderr.String())
	})
}

func TestDebounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "debounce", "300ms")
		s.write(t, "a\n")
		time.Sleep(100 * time.Millisecond)
		s.write(t, "b\n")
		time.Sleep(299 * time.Millisecond)
		assert.Empty(t, s.output(), "299ms after b, nothing yet")
		time.Sleep(time.Millisecond)
		assert.Equal(t, "b\n", s.output(), "300ms of quiet after b")
		s.write(t, "c\n")
		assert.Equal(t, 0, s.exit())
		assert.Equal(t, "b\nc\n", s.stdout.String(), "pending c flushed at end of input")
	})
}

// runOnPipes runs the command with args on clock, in a goroutine, reading
// from the stdin pipe it returns and writing to the stdout it returns; the
// command's exit status comes on status, after which stdout is at EOF.
func runOnPipes(t *testing.T, clock streamz.Clock, args ...string) (stdin *io.PipeWriter, stdout *bufio.Reader, status <-chan int) {
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- run(t.Context(), args, stdinR, stdoutW, io.Discard, clock)
		stdoutW.Close()
	}()
	return stdinW, bufio.NewReader(stdoutR), exit
}

// TestDebounceFakeClock drives the command with a FakeClock instead of a
// bubble: BlockUntilContext waits until the debounce has taken the line and
// armed its timer, and a read from the stdout pipe waits for the output.
func TestDebounceFakeClock(t *testing.T) {
	clock := streamz.NewFakeClock()
	stdinW, out, status := runOnPipes(t, clock, "debounce", "300ms")
	// A guard against a hang, not a wait: it only fails the test.
	guard, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	for _, line := range []string{"a\n", "b\n"} {
		_, err := io.WriteString(stdinW, line)
		require.NoError(t, err)
		require.NoError(t, clock.BlockUntilContext(guard, 1))
		clock.Advance(300 * time.Millisecond)
		got, err := out.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, line, got)
	}

	_, err := io.WriteString(stdinW, "c\n")
	require.NoError(t, err)
	require.NoError(t, stdinW.Close())
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	assert.Equal(t, "c\n", string(rest), "pending line flushed at end of input")
	assert.Equal(t, 0, <-status)
}

func TestBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, streamz.RealClock, "batch", "-size", "3", "-latency", "1s")
		s.write(t, "a\nb\nc\n")
		assert.Equal(t, "a\tb\tc\n", s.output(), "full batch written at once")
		s.write(t, "d\n")
		time.Sleep(500 * time.Millisecond)
		s.write(t, "e\n")
		time.Sleep(499 * time.Millisecond)
		assert.Equal(t, "a\tb\tc\n", s.output())
		time.Sleep(time.Millisecond)
		assert.Equal(t, "a\tb\tc\nd\te\n", s.output(), "1s after its first line")
		s.write(t, "f\n")
		assert.Equal(t, 0, s.exit())
		assert.Equal(t, "a\tb\tc\nd\te\nf\n", s.stdout.String(), "partial batch flushed at end of input")
	})
}

func TestBatchFormats(t *testing.T) {
	input := "plain\n\"quoted\"\ttab\n<a & b>\nünï\n\nlast"
	items := []string{"plain", "\"quoted\"\ttab", "<a & b>", "ünï", "", "last"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"default tab", []string{"-size", "3"}, "plain\t\"quoted\"\ttab\t<a & b>\nünï\t\tlast\n"},
		{"sep", []string{"-size", "3", "-sep", " | "}, "plain | \"quoted\"\ttab | <a & b>\nünï |  | last\n"},
		{"sep empty", []string{"-size", "6", "-sep", ""}, strings.Join(items, "") + "\n"},
		{"size 1", []string{"-size", "1"}, strings.Join(items, "\n") + "\n"},
		{"json", []string{"-size", "3", "-json"}, `["plain","\"quoted\"\ttab","<a & b>"]` + "\n" + `["ünï","","last"]` + "\n"},
		{"latency 0", []string{"-size", "100", "-latency", "0"}, strings.Join(items, "\t") + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(t.Context(), append([]string{"batch"}, tc.args...), strings.NewReader(input), &stdout, &stderr, streamz.RealClock)
				assert.Equal(t, 0, code, stderr.String())
				assert.Equal(t, tc.want, stdout.String())
			})
		})
	}

	t.Run("json round trip", func(t *testing.T) {
		var stdout bytes.Buffer
		code := run(t.Context(), []string{"batch", "-size", "10", "-json"}, strings.NewReader(input), &stdout, io.Discard, streamz.RealClock)
		require.Equal(t, 0, code)
		var got []string
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &got))
		assert.Equal(t, items, got)
	})
}

func TestEndOfInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{"debounce pending line", []string{"debounce", "1h"}, "a\nb\n", "b\n"},
		{"batch partial batch", []string{"batch", "-size", "10", "-latency", "1h"}, "a\nb\n", "a\tb\n"},
		{"batch size only", []string{"batch", "-size", "10", "-latency", "0"}, "a\nb\n", "a\tb\n"},
		{"throttle nothing pending", []string{"throttle", "1h"}, "a\nb\n", "a\n"},
		{"last line without newline", []string{"debounce", "0"}, "a\nb", "a\nb\n"},
		{"CRLF", []string{"throttle", "0"}, "a\r\nb\r\n", "a\nb\n"},
		{"lone CR kept", []string{"throttle", "0"}, "a\rb\nc\r", "a\rb\nc\r\n"},
		{"empty lines kept", []string{"throttle", "0"}, "\n\na\n", "\n\na\n"},
		{"empty input", []string{"debounce", "1h"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(t.Context(), tc.args, strings.NewReader(tc.input), &stdout, &stderr, streamz.RealClock)
				assert.Equal(t, 0, code)
				assert.Equal(t, tc.want, stdout.String())
				assert.Empty(t, stderr.String())
			})
		})
	}
}

// TestSignal cancels run's context, which is what main does on SIGINT or
// SIGTERM: the pending item is written and the status is 0.
func TestSignal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{"debounce", []string{"debounce", "1h"}, "a\nb\n", "b\n"},
		{"batch", []string{"batch", "-size", "10", "-latency", "1h"}, "a\nb\n", "a\tb\n"},
		{"throttle", []string{"throttle", "1h"}, "a\nb\n", "a\n"},
		{"nothing read", []string{"debounce", "1h"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := start(t, streamz.RealClock, tc.args...)
				if tc.input != "" {
					s.write(t, tc.input)
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				s.signal()
				assert.Equal(t, 0, <-s.status)
				assert.Equal(t, tc.want, s.stdout.String())
				assert.Empty(t, s.stderr.String())

				// After the signal, input is no longer used: the reader
				// goroutine, still blocked on stdin as in the real program,
				// takes this line and ends without passing it on.
				s.write(t, "late\n")
				s.stdin.Close()
				synctest.Wait()
				assert.Equal(t, tc.want, s.stdout.String())
			})
		})
	}
}

func TestLongLines(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 1<<18) // 4 MiB
	for _, tc := range []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{"throttle", []string{"throttle", "0"}, long + "\nshort\n" + long, long + "\nshort\n" + long + "\n"},
		{"debounce", []string{"debounce", "1h"}, "short\n" + long + "\r\n", long + "\n"},
		{"batch", []string{"batch", "-size", "2"}, long + "\nshort", long + "\tshort\n"},
		{"batch json", []string{"batch", "-size", "2", "-json"}, long + "\nshort\n", `["` + long + `","short"]` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				// HalfReader makes every read a short one, so that a line
				// spans many reads.
				code := run(t.Context(), tc.args, iotest.HalfReader(strings.NewReader(tc.input)), &stdout, &stderr, streamz.RealClock)
				assert.Equal(t, 0, code, stderr.String())
				assert.True(t, tc.want == stdout.String(), "output of %d bytes differs from the %d bytes expected", stdout.Len(), len(tc.want))
			})
		})
	}
}

var errBoom = errors.New("boom")

func TestReadError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		stdin := io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(errBoom))
		code := run(t.Context(), []string{"debounce", "1h"}, stdin, &stdout, &stderr, streamz.RealClock)
		assert.Equal(t, 1, code)
		assert.Equal(t, "b\n", stdout.String(), "pending line written before the error exit")
		assert.Contains(t, stderr.String(), "reading input: boom")
	})
}

// failWriter accepts n writes, then fails.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errBoom
	}
	w.n--
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	input := strings.Repeat("line\n", 1000)
	for _, args := range [][]string{
		{"throttle", "0"},
		{"debounce", "0"},
		{"batch", "-size", "2"},
	} {
		t.Run(args[0], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stderr bytes.Buffer
				code := run(t.Context(), args, strings.NewReader(input), &failWriter{n: 2}, &stderr, streamz.RealClock)
				assert.Equal(t, 1, code)
				assert.Contains(t, stderr.String(), "writing output: boom")
			})
		})
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help", "help"} {
		t.Run(arg, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{arg}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock)
			assert.Equal(t, 0, code)
			assert.Empty(t, stderr.String())
			help := stdout.String()
			for _, example := range []string{
				"example: streamz demo\n",
				"example: tail -f app.log | streamz throttle 1s\n",
				"example: tail -f build-status.log | streamz debounce 300ms\n",
				"example: tail -f app.log | streamz batch -size 500 -latency 2s\n",
			} {
				assert.Contains(t, help, example)
			}
			for _, cmd := range []string{"demo", "throttle [-trailing] DURATION", "debounce [-leading] [-max-wait DURATION] DURATION", "batch [-size N]"} {
				assert.Contains(t, help, "\n  "+cmd)
			}
		})
	}
	for _, cmd := range []string{"demo", "throttle", "debounce", "batch"} {
		t.Run(cmd+" -h", func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{cmd, "-h"}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock)
			assert.Equal(t, 0, code)
			assert.Empty(t, stderr.String())
			assert.Contains(t, stdout.String(), "Usage: streamz "+cmd)
			assert.Contains(t, stdout.String(), "\nExample:\n  ")
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "no command given"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"-x"}, `unknown command "-x"`},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"help", "throttle", "1s"}, `unexpected argument "1s" after the command`},
		{[]string{"throttle"}, "missing DURATION"},
		{[]string{"debounce"}, "missing DURATION"},
		{[]string{"throttle", "1s", "2s"}, `unexpected argument "2s"`},
		{[]string{"throttle", "fast"}, "bad DURATION"},
		{[]string{"debounce", "300"}, "bad DURATION"},
		{[]string{"debounce", "--", "-1s"}, "must not be negative"},
		{[]string{"throttle", "-x", "1s"}, "flag provided but not defined: -x"},
		{[]string{"batch", "-size", "0"}, "bad -size 0"},
		{[]string{"batch", "-size", "-5"}, "bad -size -5"},
		{[]string{"batch", "-size", "ten"}, `invalid value "ten" for flag -size`},
		{[]string{"batch", "-latency", "2"}, `invalid value "2" for flag -latency`},
		{[]string{"batch", "-latency", "-1s"}, "bad -latency -1s"},
		{[]string{"batch", "-latency"}, "flag needs an argument: -latency"},
		{[]string{"batch", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"batch", "extra"}, `unexpected argument "extra"`},
		{[]string{"batch", "-json", "-sep", ","}, "-sep and -json cannot be used together"},
		{[]string{"demo", "now"}, `unexpected argument "now"`},
		{[]string{"demo", "-fast"}, "flag provided but not defined: -fast"},
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

// A negative DURATION where the flag package looks for flags is reported
// as one, not as an undefined flag; the value of -max-wait stays its own.
func TestNegativeDuration(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"throttle", "-1s"}, "bad DURATION -1s: must not be negative"},
		{[]string{"debounce", "-300ms"}, "bad DURATION -300ms: must not be negative"},
		{[]string{"throttle", "-trailing", "-1h30m"}, "bad DURATION -1h30m0s: must not be negative"},
		{[]string{"throttle", "-1s", "-trailing"}, "bad DURATION -1s: must not be negative"},
		{[]string{"debounce", "-leading", "-v", "-1s"}, "bad DURATION -1s: must not be negative"},
		{[]string{"debounce", "-max-wait", "1s", "-1s"}, "bad DURATION -1s: must not be negative"},
		{[]string{"debounce", "-max-wait", "-1s", "1s"}, "bad -max-wait -1s: must not be negative"},
		{[]string{"debounce", "--max-wait", "-1s", "1s"}, "bad -max-wait -1s: must not be negative"},
		{[]string{"-v", "throttle", "-1s"}, "bad DURATION -1s: must not be negative"},
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

// "streamz help CMD" prints what "streamz CMD -h" prints, on stdout.
func TestHelpCommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var want, got, stderr bytes.Buffer
			require.Equal(t, exitOK, run(t.Context(), []string{name, "-h"}, strings.NewReader(""), &want, &stderr, streamz.RealClock))
			assert.Equal(t, exitOK, run(t.Context(), []string{"help", name}, strings.NewReader(""), &got, &stderr, streamz.RealClock))
			assert.Equal(t, want.String(), got.String())
			assert.Contains(t, got.String(), "Usage: streamz "+name)
			assert.Empty(t, stderr.String())
		})
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"-version", "--version"} {
		t.Run(arg, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{arg}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock)
			assert.Equal(t, exitOK, code)
			assert.Empty(t, stderr.String())
			assert.Regexp(t, `^streamz \S+ go\S*\n$`, stdout.String())
		})
	}
	assert.Equal(t, "streamz v1.2.3 "+runtime.Version(), versionLine(&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true))
	assert.Equal(t, "streamz (devel) "+runtime.Version(), versionLine(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true))
	assert.Equal(t, "streamz (unknown) "+runtime.Version(), versionLine(nil, false))
}

// batch -json writes each byte that is not valid UTF-8 as U+FFFD, and
// spells every U+FFFD the same way, as the character, whether it was a bad
// byte or in the input; without -json, lines pass byte for byte.
func TestBatchJSONInvalidUTF8(t *testing.T) {
	input := "a\xffb\n\xef\xbf\xbd\n\xe2\x82\nok \xe2\x82\xac\n"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"batch", "-size", "4", "-json"}, "[\"a\ufffdb\",\"\ufffd\",\"\ufffd\ufffd\",\"ok €\"]\n"},
		{[]string{"batch", "-size", "4", "-sep", "|"}, "a\xffb|\xef\xbf\xbd|\xe2\x82|ok \xe2\x82\xac\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(t.Context(), tc.args, strings.NewReader(input), &stdout, &stderr, streamz.RealClock)
				assert.Equal(t, exitOK, code, stderr.String())
				assert.Equal(t, tc.want, stdout.String())
			})
		})
	}
	var help bytes.Buffer
	run(t.Context(), []string{"batch", "-h"}, strings.NewReader(""), &help, &help, streamz.RealClock)
	assert.Contains(t, help.String(), "a byte that\n    \tis not valid UTF-8 is written as U+FFFD")
}

// TestSignalGrace: after a signal, what is pending is written if stdout
// takes it within shutdownGrace, and dropped after that.
func TestSignalGrace(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
		want  string
	}{
		{"stdout in time", shutdownGrace - time.Nanosecond, "a\nb\n"},
		{"stdout too late", shutdownGrace, "a\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, signal := context.WithCancel(t.Context())
				stdoutR, stdoutW := io.Pipe()
				status := make(chan int, 1)
				go func() {
					status <- run(ctx, []string{"batch", "-size", "1"}, strings.NewReader("a\nb\n"), stdoutW, io.Discard, streamz.RealClock)
					stdoutW.Close()
				}()
				// "a" is being written, to a stdout that takes nothing yet;
				// the batch of "b" waits for it.
				synctest.Wait()
				signal()
				time.Sleep(tc.delay)
				synctest.Wait() // what the deadline ends has ended
				out, err := io.ReadAll(stdoutR)
				require.NoError(t, err)
				assert.Equal(t, tc.want, string(out))
				assert.Equal(t, 0, <-status)
			})
		})
	}
}
