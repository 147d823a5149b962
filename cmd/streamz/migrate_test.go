package main

import (
	"bytes"
	"context"
	"fmt"
	"go/format"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zoobzio/streamz"
)

// The fixtures in testdata/migrate are pairs: NAME.input is a file before
// the migration and NAME.golden the same file after it. A fixture without
// a golden file must come out byte for byte as it went in. NAME.report,
// when present, holds the uses reported as left alone, one per line, with
// the file named NAME.go.
func TestMigrateFixtures(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "migrate", "*.input"))
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".input")
		t.Run(name, func(t *testing.T) {
			src := readFixture(t, name+".input")
			want := src
			if golden, err := os.ReadFile(filepath.Join("testdata", "migrate", name+".golden")); err == nil {
				want = golden
				require.NotEqual(t, string(src), string(want), "a golden file that equals its input says nothing")
			}
			var wantReport []string
			if report, err := os.ReadFile(filepath.Join("testdata", "migrate", name+".report")); err == nil {
				wantReport = strings.Split(strings.TrimSuffix(string(report), "\n"), "\n")
			}

			out, problems, err := migrateSource(name+".go", src)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(out))
			assert.Equal(t, wantReport, reportLines(problems))

			// Once is enough: the output migrates to itself, and reports
			// the same uses again (at lines an added import may move).
			again, againProblems, err := migrateSource(name+".go", out)
			require.NoError(t, err)
			assert.Equal(t, string(out), string(again), "a second run changed the file")
			assert.Equal(t, messages(problems), messages(againProblems))

			if !bytes.Equal(src, out) {
				formatted, err := format.Source(out)
				require.NoError(t, err)
				assert.Equal(t, string(formatted), string(out), "the rewritten file is not gofmt'd")
			}
		})
	}
}

func messages(problems []problem) []string {
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.msg)
	}
	return msgs
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "migrate", name))
	require.NoError(t, err)
	return src
}

func reportLines(problems []problem) []string {
	var lines []string
	for _, p := range problems {
		lines = append(lines, fmt.Sprintf("%s: %s", p.pos, p.msg))
	}
	return lines
}

// The fixtures are written gofmt'd but for one, so that a migration that
// forgot to format would show. This pins that the unformatted one has no
// clockz, and that a file with clockz gets formatted beyond the lines the
// rewrite touched.
func TestMigrateFormatsTheWholeFile(t *testing.T) {
	src := []byte("package app\nimport \"github.com/zoobzio/clockz\"\nvar  Clock clockz.Clock\nfunc  f( ) {}\n")
	out, problems, err := migrateSource("app.go", src)
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, "package app\n\nimport \"github.com/zoobzio/streamz\"\n\nvar Clock streamz.Clock\n\nfunc f() {}\n", string(out))

	unformatted := readFixture(t, "unformatted_no_clockz.input")
	formatted, err := format.Source(unformatted)
	require.NoError(t, err)
	require.NotEqual(t, string(formatted), string(unformatted), "the fixture must need formatting")
}

func TestMigrateBadSource(t *testing.T) {
	_, _, err := migrateSource("broken.go", []byte("package app\nfunc {"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken.go:2:")
}

// tree writes files, a map from slash-separated path to contents, under a
// new temporary folder, and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return root
}

const (
	usesClockz = "package app\n\nimport \"github.com/zoobzio/clockz\"\n\nvar C clockz.Clock = clockz.RealClock\n"
	migrated   = "package app\n\nimport \"github.com/zoobzio/streamz\"\n\nvar C streamz.Clock = streamz.RealClock\n"
	noClockz   = "package app\nvar  X = 1\n" // unformatted on purpose
)

// migrateIn runs "streamz migrate args..." from folder dir and returns its
// exit status, stdout and stderr.
func migrateIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	status := run(context.Background(), append([]string{"migrate"}, args...), strings.NewReader(""), &stdout, &stderr, streamz.RealClock)
	return status, stdout.String(), stderr.String()
}

func TestMigrateModes(t *testing.T) {
	files := map[string]string{"a.go": usesClockz, "b.go": noClockz}

	t.Run("diff by default", func(t *testing.T) {
		root := tree(t, files)
		status, stdout, stderr := migrateIn(t, root, ".")
		assert.Equal(t, exitOK, status)
		assert.Empty(t, stderr)
		assert.Equal(t, "diff a.go.orig a.go\n--- a.go.orig\n+++ a.go\n"+
			"@@ -1,5 +1,5 @@\n package app\n \n-import \"github.com/zoobzio/clockz\"\n+import \"github.com/zoobzio/streamz\"\n \n"+
			"-var C clockz.Clock = clockz.RealClock\n+var C streamz.Clock = streamz.RealClock\n", stdout)
		assertFile(t, root, "a.go", usesClockz)
		assertFile(t, root, "b.go", noClockz)
	})
	t.Run("-l lists", func(t *testing.T) {
		root := tree(t, files)
		status, stdout, stderr := migrateIn(t, root, "-l", ".")
		assert.Equal(t, exitOK, status)
		assert.Empty(t, stderr)
		assert.Equal(t, "a.go\n", stdout)
		assertFile(t, root, "a.go", usesClockz)
	})
	t.Run("-w writes", func(t *testing.T) {
		root := tree(t, files)
		require.NoError(t, os.Chmod(filepath.Join(root, "a.go"), 0o600))
		status, stdout, stderr := migrateIn(t, root, "-w", ".")
		assert.Equal(t, exitOK, status)
		assert.Empty(t, stderr)
		assert.Empty(t, stdout)
		assertFile(t, root, "a.go", migrated)
		assertFile(t, root, "b.go", noClockz)
		info, err := os.Stat(filepath.Join(root, "a.go"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "-w must keep the file's permissions")

		status, stdout, _ = migrateIn(t, root, "-l", "-w", ".")
		assert.Equal(t, exitOK, status)
		assert.Empty(t, stdout, "a second run must find nothing to change")
	})
	t.Run("-l -w lists and writes", func(t *testing.T) {
		root := tree(t, files)
		status, stdout, _ := migrateIn(t, root, "-l", "-w", ".")
		assert.Equal(t, exitOK, status)
		assert.Equal(t, "a.go\n", stdout)
		assertFile(t, root, "a.go", migrated)
	})
}

func assertFile(t *testing.T, root, name, want string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	require.NoError(t, err)
	assert.Equal(t, want, string(got), name)
}

func TestMigratePaths(t *testing.T) {
	root := tree(t, map[string]string{
		"a.go":                usesClockz,
		"notes.txt":           usesClockz, // not a .go file: skipped in folders
		".hidden.go":          usesClockz,
		"sub/b.go":            usesClockz,
		"sub/deeper/c.go":     usesClockz,
		"sub/testdata/d.go":   usesClockz,
		"sub/vendor/e.go":     usesClockz,
		"sub/.git/f.go":       usesClockz,
		"sub/_scratch/g.go":   usesClockz,
		"other/h.go":          usesClockz,
		"other/unchanged.go":  noClockz,
		"explicit/named.text": usesClockz,
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"a.go"}, "a.go\n"},
		{[]string{"."}, "a.go\n"},
		{[]string{"sub"}, filepath.FromSlash("sub/b.go") + "\n"},
		{[]string{"./..."}, strings.Join([]string{"a.go", "other/h.go", "sub/b.go", "sub/deeper/c.go"}, "\n") + "\n"},
		{[]string{"..."}, strings.Join([]string{"a.go", "other/h.go", "sub/b.go", "sub/deeper/c.go"}, "\n") + "\n"},
		{[]string{"sub/..."}, strings.Join([]string{"sub/b.go", "sub/deeper/c.go"}, "\n") + "\n"},
		// A file named explicitly is migrated whatever its name.
		{[]string{"explicit/named.text", "sub/testdata/d.go"}, "explicit/named.text\nsub/testdata/d.go\n"},
		// A file named twice, or reached twice, is migrated once.
		{[]string{"a.go", ".", "./..."}, strings.Join([]string{"a.go", "other/h.go", "sub/b.go", "sub/deeper/c.go"}, "\n") + "\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			status, stdout, stderr := migrateIn(t, root, append([]string{"-l"}, tc.args...)...)
			assert.Equal(t, exitOK, status)
			assert.Empty(t, stderr)
			assert.Equal(t, filepath.FromSlash(tc.want), stdout)
		})
	}
}

func TestMigrateExitStatus(t *testing.T) {
	t.Run("a use left alone", func(t *testing.T) {
		root := tree(t, map[string]string{
			"a.go": "package app\n\nimport \"github.com/zoobzio/clockz\"\n\nvar C = clockz.NewMonotonicClock()\n",
			"b.go": usesClockz,
		})
		status, stdout, stderr := migrateIn(t, root, "-w", ".")
		assert.Equal(t, exitIO, status)
		assert.Empty(t, stdout)
		assert.Equal(t, "a.go:5:9: clockz.NewMonotonicClock has no streamz equivalent\n", stderr)
		assertFile(t, root, "b.go", migrated) // the other files are still migrated
	})
	t.Run("a path that does not exist", func(t *testing.T) {
		root := tree(t, map[string]string{"a.go": usesClockz})
		status, stdout, stderr := migrateIn(t, root, "-l", "missing", "a.go")
		assert.Equal(t, exitIO, status)
		assert.Equal(t, "a.go\n", stdout)
		assert.Contains(t, stderr, "streamz migrate: stat missing:")
	})
	t.Run("a file that does not parse", func(t *testing.T) {
		root := tree(t, map[string]string{"a.go": "package app\nfunc {"})
		status, _, stderr := migrateIn(t, root, ".")
		assert.Equal(t, exitIO, status)
		assert.Contains(t, stderr, "streamz migrate: a.go:2:")
	})
	t.Run("a folder followed by /... that is a file", func(t *testing.T) {
		root := tree(t, map[string]string{"a.go": usesClockz})
		status, _, stderr := migrateIn(t, root, "a.go/...")
		assert.Equal(t, exitIO, status)
		assert.Equal(t, "streamz migrate: a.go: not a folder\n", stderr)
	})
	t.Run("no PATH", func(t *testing.T) {
		status, stdout, stderr := migrateIn(t, t.TempDir())
		assert.Equal(t, exitUsage, status)
		assert.Empty(t, stdout)
		assertUsageError(t, stderr, []string{"migrate"}, "missing PATH")
	})
	t.Run("a bad flag", func(t *testing.T) {
		status, _, stderr := migrateIn(t, t.TempDir(), "-d", ".")
		assert.Equal(t, exitUsage, status)
		assertUsageError(t, stderr, []string{"migrate"}, "flag provided but not defined: -d")
	})
	t.Run("-h", func(t *testing.T) {
		status, stdout, stderr := migrateIn(t, t.TempDir(), "-h")
		assert.Equal(t, exitOK, status)
		assert.Empty(t, stderr)
		assert.Contains(t, stdout, "Usage: streamz migrate [-l] [-w] PATH ...")
		assert.Contains(t, stdout, "Example:\n  streamz migrate -w ./...\n")
	})
}

func TestHelpListsMigrate(t *testing.T) {
	var stdout bytes.Buffer
	status := run(context.Background(), []string{"-h"}, strings.NewReader(""), &stdout, io.Discard, streamz.RealClock)
	assert.Equal(t, exitOK, status)
	assert.Contains(t, stdout.String(), "\n  migrate [-l] [-w] PATH ...\n")
}

func TestUnifiedDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string
		want     string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"from empty", "", "a\n", "@@ -0,0 +1,1 @@\n+a\n"},
		{"to empty", "a\nb\n", "", "@@ -1,2 +0,0 @@\n-a\n-b\n"},
		{"insert at the start", "b\nc\n", "a\nb\nc\n", "@@ -1,2 +1,3 @@\n+a\n b\n c\n"},
		{"missing newline at the end", "a\nb", "a\nb\n", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{
			"two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\nELEVEN\n12\n",
			"@@ -1,5 +1,5 @@\n 1\n-2\n+TWO\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+ELEVEN\n 12\n",
		},
		{
			// Changes 6 lines apart share a hunk: their contexts meet.
			"one hunk",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			"1\nB\n3\n4\n5\n6\n7\nH\n9\n",
			"@@ -1,9 +1,9 @@\n 1\n-2\n+B\n 3\n 4\n 5\n 6\n 7\n-8\n+H\n 9\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(unifiedDiff("x.orig", []byte(tc.old), "x", []byte(tc.new)))
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, "diff x.orig x\n--- x.orig\n+++ x\n"+tc.want, got)
		})
	}
}

// TestUnifiedDiffApplies checks on random texts that each diff, applied to
// the old text, gives the new one, that its hunk headers count right, and
// that it changes no more lines than needed (a longest common
// subsequence's worth of lines is kept).
func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randomText := func() string {
		var b strings.Builder
		for range rng.IntN(30) {
			fmt.Fprintf(&b, "%c\n", 'a'+rng.IntN(4))
		}
		return b.String()
	}
	for i := range 2000 {
		old := randomText()
		new := old
		if rng.IntN(2) == 0 {
			new = mutate(rng, old)
		} else {
			new = randomText()
		}
		diff := unifiedDiff("o", []byte(old), "n", []byte(new))
		if old == new {
			require.Empty(t, diff)
			continue
		}
		got, removed := applyDiff(t, old, string(diff))
		require.Equal(t, new, got, "case %d: diff\n%s", i, diff)
		oldLines := strings.Count(old, "\n")
		require.Equal(t, oldLines-lcs(old, new), removed, "case %d: diff removes more than needed:\n%s", i, diff)
	}
}

// mutate changes, inserts or deletes a few lines of text.
func mutate(rng *rand.Rand, text string) string {
	lines := strings.SplitAfter(text, "\n")
	lines = lines[:len(lines)-1]
	for range 1 + rng.IntN(3) {
		i := rng.IntN(len(lines) + 1)
		switch rng.IntN(3) {
		case 0:
			lines = append(lines[:i], append([]string{"new\n"}, lines[i:]...)...)
		case 1:
			if i < len(lines) {
				lines = append(lines[:i], lines[i+1:]...)
			}
		case 2:
			if i < len(lines) {
				lines[i] = "changed\n"
			}
		}
	}
	return strings.Join(lines, "")
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$`)

// applyDiff applies diff, made by unifiedDiff, to old, and returns the
// result and the number of lines it removed.
func applyDiff(t *testing.T, old, diff string) (string, int) {
	t.Helper()
	oldLines := strings.SplitAfter(old, "\n")
	oldLines = oldLines[:len(oldLines)-1]
	lines := strings.SplitAfter(diff, "\n")
	lines = lines[3 : len(lines)-1] // the header, and the empty string after the last "\n"
	var out []string
	next, removed := 0, 0 // next: the first line of old not yet copied
	for len(lines) > 0 {
		m := hunkHeader.FindStringSubmatch(strings.TrimSuffix(lines[0], "\n"))
		require.NotNil(t, m, "not a hunk header: %q", lines[0])
		oldStart, oldCount, newStart, newCount := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3]), atoi(t, m[4])
		if oldCount > 0 {
			oldStart--
		}
		if newCount > 0 {
			newStart--
		}
		require.GreaterOrEqual(t, oldStart, next, "hunks overlap or go backwards")
		out = append(out, oldLines[next:oldStart]...)
		require.Equal(t, len(out), newStart, "the new start line is wrong")
		next = oldStart
		lines = lines[1:]
		seenOld, seenNew := 0, 0
		for len(lines) > 0 && !strings.HasPrefix(lines[0], "@@") {
			line := lines[0][1:]
			switch lines[0][0] {
			case ' ':
				require.Equal(t, oldLines[next], line)
				out = append(out, line)
				next++
				seenOld++
				seenNew++
			case '-':
				require.Equal(t, oldLines[next], line)
				next++
				seenOld++
				removed++
			case '+':
				out = append(out, line)
				seenNew++
			default:
				t.Fatalf("bad diff line %q", lines[0])
			}
			lines = lines[1:]
		}
		require.Equal(t, oldCount, seenOld, "old line count of the hunk")
		require.Equal(t, newCount, seenNew, "new line count of the hunk")
	}
	out = append(out, oldLines[next:]...)
	return strings.Join(out, ""), removed
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// lcs returns the length, in lines, of a longest common subsequence of
// the lines of a and b, by dynamic programming.
func lcs(a, b string) int {
	x, y := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	x, y = x[:len(x)-1], y[:len(y)-1]
	prev := make([]int, len(y)+1)
	for i := range x {
		cur := make([]int, len(y)+1)
		for j := range y {
			if x[i] == y[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev = cur
	}
	return prev[len(y)]
}
