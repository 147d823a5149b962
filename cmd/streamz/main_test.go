package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBinary()
		os.Exit(code)
	}))
}

// assertUsageError checks that stderr reports a usage error of the command
// run with args as two lines: what is wrong, in one line that contains msg
// and begins with who is speaking, and where to read the usage: the
// command's -h, or streamz's for an unknown or missing command.
func assertUsageError(t *testing.T, stderr string, args []string, msg string) {
	t.Helper()
	who, help := "streamz", "streamz -h"
	if len(args) > 0 && args[0] == "-v" {
		args = args[1:]
	}
	if len(args) > 0 {
		if _, ok := commands[args[0]]; ok {
			who, help = "streamz "+args[0], "streamz "+args[0]+" -h"
		} else if args[0] == "help" {
			who = "streamz help"
		}
	}
	lines := strings.SplitAfter(stderr, "\n")
	if !assert.Len(t, lines, 3, "two lines and nothing after the last newline:\n%s", stderr) {
		return
	}
	assert.True(t, strings.HasPrefix(lines[0], who+": "), "first line %q does not begin with %q", lines[0], who+": ")
	assert.Contains(t, lines[0], msg)
	assert.Equal(t, "Run '"+help+"' for usage.\n", lines[1])
}
