package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests build the command and run it as a process, on pipes.

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// binary builds the command once per test process and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH to build the binary with")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "streamz-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "streamz")
		out, err := exec.Command(gobin, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// removeBinary is called from TestMain once the tests are done.
func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// binaryCommand returns the command for args. The timeout only turns a hang
// into a failure; nothing waits for it.
func binaryCommand(t *testing.T, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// startPiped starts cmd with pipes to its stdin and from its stdout, and
// its stderr gathered.
func startPiped(t *testing.T, cmd *exec.Cmd) (stdin io.WriteCloser, out *bufio.Reader, stderr *strings.Builder) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr = new(strings.Builder)
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	return stdin, bufio.NewReader(stdout), stderr
}

// TestBinaryPipe checks, on real pipes, that a full batch is written while
// stdin is still open, and that the partial batch is written at EOF.
func TestBinaryPipe(t *testing.T) {
	cmd := binaryCommand(t, "batch", "-size", "2", "-latency", "1h")
	stdin, out, stderr := startPiped(t, cmd)
	_, err := io.WriteString(stdin, "a\nb\n")
	require.NoError(t, err)
	line, err := out.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "a\tb\n", line, "flushed while stdin is open")

	_, err = io.WriteString(stdin, "c\n")
	require.NoError(t, err)
	require.NoError(t, stdin.Close())
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	assert.Equal(t, "c\n", string(rest))
	require.NoError(t, cmd.Wait())
	assert.Empty(t, stderr.String())
}

// TestBinarySIGTERM checks main's signal wiring: SIGTERM ends a filter with
// status 0.
//
// A process gives no sign of having taken a line it holds back, so a test
// cannot know, without sleeping, that a debounced line or a partial batch is
// pending when the signal arrives. So this test uses a line that shows it
// has been taken: throttle's first line comes out at once. Seeing it also
// proves that the signal handler is installed, since main installs it
// before reading. That a signal writes what is pending is tested on run,
// whose context main cancels on the signal (TestSignal).
func TestBinarySIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	cmd := binaryCommand(t, "throttle", "1h")
	stdin, out, stderr := startPiped(t, cmd)
	defer stdin.Close()
	_, err := io.WriteString(stdin, "a\n")
	require.NoError(t, err)
	line, err := out.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "a\n", line)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	assert.Empty(t, string(rest))
	require.NoError(t, cmd.Wait(), "exit status 0 after SIGTERM")
	assert.Empty(t, stderr.String())
}

func TestBinaryLongLine(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 1<<18) // 4 MiB
	cmd := binaryCommand(t, "debounce", "1h")
	cmd.Stdin = strings.NewReader("short\n" + long + "\n")
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.True(t, string(out) == long+"\n", "got %d bytes, want the %d-byte line", len(out), len(long)+1)
}

func TestBinaryStatus(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		status int
		stdout string
		stderr string
	}{
		{[]string{"-h"}, 0, "example: streamz demo", ""},
		{[]string{"bogus"}, 2, "", `unknown command "bogus"`},
		{[]string{"throttle", "soon"}, 2, "", "bad DURATION"},
		{[]string{"batch", "-size", "0"}, 2, "", "bad -size 0"},
		{[]string{"throttle", "-1s"}, 2, "", "bad DURATION -1s: must not be negative"},
		{[]string{"help", "batch"}, 0, "Usage: streamz batch", ""},
		{[]string{"-version"}, 0, "streamz ", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := binaryCommand(t, tc.args...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if tc.status == 0 {
				require.NoError(t, err)
			} else {
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, tc.status, exit.ExitCode())
			}
			if tc.stdout == "" {
				assert.Empty(t, stdout.String())
			} else {
				assert.Contains(t, stdout.String(), tc.stdout)
			}
			if tc.stderr == "" {
				assert.Empty(t, stderr.String())
			} else {
				assertUsageError(t, stderr.String(), tc.args, tc.stderr)
			}
		})
	}
}
