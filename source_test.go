//go:build go1.25

package streamz

import (
	"bufio"
	"context"
	"errors"
	"io"
	"iter"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// srcAll reads out to the end, with paRecv's guard against a hang.
func srcAll[T any](t *testing.T, out <-chan Result[T]) []Result[T] {
	t.Helper()
	var rs []Result[T]
	for {
		select {
		case r, ok := <-out:
			if !ok {
				return rs
			}
			rs = append(rs, r)
		case <-time.After(10 * time.Second):
			t.Fatalf("output not closed after 10s; got %d items", len(rs))
		}
	}
}

func TestFromChannel(t *testing.T) {
	in := make(chan int, 3)
	in <- 1
	in <- 2
	in <- 3
	close(in)
	assert.Equal(t, []int{1, 2, 3}, paValues(t, srcAll(t, FromChannel(t.Context(), in))))
}

func TestFromChannelNil(t *testing.T) {
	paClosedNow(t, FromChannel[int](t.Context(), nil))
}

// paClosedNow fails unless out is already closed.
func paClosedNow[T any](t *testing.T, out <-chan Result[T]) {
	t.Helper()
	select {
	case r, ok := <-out:
		require.False(t, ok, "want closed, got %s", describeResult(r))
	default:
		t.Fatal("output not closed")
	}
}

func TestFromChannelCancel(t *testing.T) {
	t.Run("producer idle", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			out := FromChannel(ctx, make(chan int))
			synctest.Wait()
			cancel()
			paClosed(t, out)
		})
	})
	t.Run("no reader", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			in := make(chan int)
			out := FromChannel(ctx, in)
			in <- 1
			synctest.Wait() // blocked sending 1
			cancel()
			paClosed(t, out)
		})
	})
}

func TestFromSlice(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, paValues(t, srcAll(t, FromSlice(t.Context(), []string{"a", "b", "c"}))))
	assert.Empty(t, srcAll(t, FromSlice[int](t.Context(), nil)))
}

func TestFromSliceCancelNoReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		out := FromSlice(ctx, []int{1, 2, 3})
		assert.Equal(t, 1, paRecv(t, out).Value())
		synctest.Wait() // blocked sending 2
		cancel()
		paClosed(t, out)
	})
}

func TestFromSeq(t *testing.T) {
	seq := func(yield func(int) bool) {
		for i := range 5 {
			if !yield(i * i) {
				return
			}
		}
	}
	assert.Equal(t, []int{0, 1, 4, 9, 16}, paValues(t, srcAll(t, FromSeq(t.Context(), seq))))
	assert.Panics(t, func() { FromSeq[int](t.Context(), nil) })
}

// TestFromSeqCancelStopsSeq checks that an endless seq is told to stop
// (yield returns false) once ctx ends, so that its goroutine ends too.
func TestFromSeqCancelStopsSeq(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		returned := make(chan struct{})
		endless := func(yield func(int) bool) {
			defer close(returned)
			for i := 0; yield(i); i++ {
			}
		}
		out := FromSeq(ctx, endless)
		assert.Equal(t, 0, paRecv(t, out).Value())
		assert.Equal(t, 1, paRecv(t, out).Value())
		synctest.Wait() // blocked sending 2
		cancel()
		paClosed(t, out)
		<-returned
	})
}

func TestFromSeqPanic(t *testing.T) {
	seq := func(yield func(int) bool) {
		yield(1)
		panic(&paRecoverWith{code: 7})
	}
	rs := srcAll(t, FromSeq(t.Context(), iter.Seq[int](seq)))
	require.Len(t, rs, 2)
	assert.Equal(t, 1, rs[0].Value())
	paCheckPanicErr(t, rs[1], "seq", "seq")
}

// TestSourcesSettle feeds Debounce -> Batcher from each settling source in
// the plain style: every item must be through the Debounce (d = 0 passes
// each at once) and in the Batcher before Advance fires the batch timer.
func TestSourcesSettle(t *testing.T) {
	items := []int{1, 2, 3, 4, 5, 6, 7, 8}
	sources := map[string]func(ctx context.Context) <-chan Result[int]{
		"FromSlice": func(ctx context.Context) <-chan Result[int] { return FromSlice(ctx, items) },
		"FromSeq":   func(ctx context.Context) <-chan Result[int] { return FromSeq(ctx, slices.Values(items)) },
		"FromChannel": func(ctx context.Context) <-chan Result[int] {
			ch := make(chan int, len(items))
			for _, v := range items {
				ch <- v
			}
			return FromChannel(ctx, ch)
		},
	}
	for name, source := range sources {
		t.Run(name, func(t *testing.T) {
			for round := range 200 {
				ctx, cancel := context.WithCancel(t.Context())
				clk := NewFakeClock()
				debounced := NewDebounce[int](0, clk).Process(ctx, source(ctx))
				out := NewBatcher[int](BatchConfig{MaxSize: 100, MaxLatency: time.Second}, clk).Process(ctx, debounced)
				clk.Advance(time.Second)
				// A short batch would come out at MaxLatency too: only
				// settling makes it hold every item.
				require.Equalf(t, items, paRecv(t, out).Value(), "round %d", round)
				cancel()
				for range out {
				}
			}
		})
	}
}

func TestFromLines(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		want        []string
	}{
		{"empty", "", nil},
		{"one ended", "a\n", []string{"a"}},
		{"last without end", "a\nb", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"lone cr kept", "a\rb\n", []string{"a\rb"}},
		{"empty lines", "\n\nx\n", []string{"", "", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := srcAll(t, FromLines(t.Context(), iotest.OneByteReader(strings.NewReader(tc.input)), 0))
			assert.Equal(t, tc.want, paStringsOrNil(paValues(t, rs)))
		})
	}
}

func paStringsOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestFromLinesLong(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 1<<15) // 512 KiB, past the 64 KiB buffer
	t.Run("no bound", func(t *testing.T) {
		rs := srcAll(t, FromLines(t.Context(), iotest.HalfReader(strings.NewReader(long+"\r\nshort\n"+long)), 0))
		got := paValues(t, rs)
		require.Len(t, got, 3)
		assert.True(t, got[0] == long && got[1] == "short" && got[2] == long, "long lines changed")
	})
	t.Run("bound", func(t *testing.T) {
		const maxLen = 100 << 10
		input := "ok\n" + long + "\n" + long[:maxLen] + "\r\n" + long[:maxLen+1] + "\r\n" + "end"
		rs := srcAll(t, FromLines(t.Context(), strings.NewReader(input), maxLen))
		require.Len(t, rs, 5)
		assert.Equal(t, "ok", rs[0].Value())
		for _, i := range []int{1, 3} {
			require.True(t, rs[i].IsError(), "line %d is too long", i)
			assert.ErrorIs(t, rs[i].Error(), bufio.ErrTooLong)
			assert.Equal(t, "lines", rs[i].Error().ProcessorName)
			assert.True(t, rs[i].Error().Item == long[:maxLen], "the error holds the line's first maxLen bytes")
		}
		assert.True(t, rs[2].Value() == long[:maxLen], "a line of exactly maxLen passes, with its \\r\\n")
		assert.Equal(t, "end", rs[4].Value(), "the stream goes on after a long line")
	})
	t.Run("bound within buffer", func(t *testing.T) {
		rs := srcAll(t, FromLines(t.Context(), strings.NewReader("abc\r\nabcd\nab"), 3))
		require.Len(t, rs, 3)
		assert.Equal(t, "abc", rs[0].Value())
		assert.ErrorIs(t, rs[1].Error(), bufio.ErrTooLong)
		assert.Equal(t, "abc", rs[1].Error().Item)
		assert.Equal(t, "ab", rs[2].Value())
	})
	t.Run("too long at EOF", func(t *testing.T) {
		rs := srcAll(t, FromLines(t.Context(), strings.NewReader("a\nabcdef"), 3))
		require.Len(t, rs, 2)
		assert.ErrorIs(t, rs[1].Error(), bufio.ErrTooLong)
		assert.Equal(t, "abc", rs[1].Error().Item)
	})
	assert.PanicsWithValue(t, "streamz: FromLines: maxLen must not be negative, got -1", func() {
		FromLines(t.Context(), strings.NewReader(""), -1)
	})
}

var errSrcBoom = errors.New("boom")

func TestFromLinesReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader("a\nb\npart"), iotest.ErrReader(errSrcBoom))
	rs := srcAll(t, FromLines(t.Context(), r, 0))
	require.Len(t, rs, 3, "two lines, then one error, then the close")
	assert.Equal(t, []string{"a", "b"}, paValues(t, rs[:2]))
	require.True(t, rs[2].IsError())
	assert.ErrorIs(t, rs[2].Error(), errSrcBoom)
	assert.Equal(t, "part", rs[2].Error().Item, "the error holds what was read of the line")
	assert.Equal(t, "lines", rs[2].Error().ProcessorName)
}

type srcPanicReader struct{}

func (srcPanicReader) Read([]byte) (int, error) { panic(&paRecoverWith{code: 7}) }

func TestFromLinesReadPanics(t *testing.T) {
	rs := srcAll(t, FromLines(t.Context(), srcPanicReader{}, 0))
	require.Len(t, rs, 1)
	paCheckPanicErr(t, rs[0], "lines", "Read")
}

// srcCountingReader counts the Read calls made on r.
type srcCountingReader struct {
	r     io.Reader
	reads int
}

func (c *srcCountingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// TestFromLinesCancelDuringRead cancels while a Read blocks: the output must
// close at once, and once the Read returns, its data is discarded, r is not
// read again, and the goroutine ends (synctest.Test fails otherwise).
func TestFromLinesCancelDuringRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		pr, pw := io.Pipe()
		cr := &srcCountingReader{r: pr}
		out := FromLines(ctx, cr, 0)
		_, err := io.WriteString(pw, "a\n")
		require.NoError(t, err)
		assert.Equal(t, "a", paRecv(t, out).Value())
		synctest.Wait() // blocked in Read
		reads := cr.reads
		cancel()
		paClosed(t, out)

		_, err = io.WriteString(pw, "late\n") // returns from the blocked Read
		require.NoError(t, err)
		synctest.Wait()
		assert.Equal(t, reads, cr.reads, "r read again after cancel")
		pw.Close()
	})
}

func TestFromLinesCancelNoReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		out := FromLines(ctx, strings.NewReader(strings.Repeat("x\n", 1000)), 0)
		synctest.Wait() // read ahead, blocked on a full buffer
		cancel()
		paClosed(t, out)
	})
}
