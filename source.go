package streamz

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"iter"
	"slices"
)

// Sources start a stream: each turns something that is not a stream into an
// unbuffered <-chan Result[T] that a processor can take as its input.
//
// They share one contract. A source sends its items in order, as successes,
// and closes its output once it has sent the last one. When ctx ends it
// closes its output promptly, even while nobody reads it, and leaves no
// goroutine behind (FromLines excepts a Read in progress, see there); the
// item it was sending, if any, is dropped. Like the clock-less processors,
// a source takes part in a FakeClock's settling once any FakeClock exists,
// so a pipeline fed by FromChannel, FromSlice or FromSeq stays
// deterministic in the plain style.

// FromChannel returns a stream of the values received from in, each as a
// success. The output is closed once in is closed; a nil in counts as
// closed, and gives an output that is already closed.
func FromChannel[T any](ctx context.Context, in <-chan T) <-chan Result[T] {
	out := make(chan Result[T])
	if in == nil {
		close(out)
		return out
	}
	lp := newLoop(ctx, nil, in, out)
	drainOnCancel(ctx, lp, out)
	go func() {
		defer lp.exit()
		defer close(out)
		for {
			v, ok, _, stop := receive(lp, nil, in)
			if stop || !ok || !send(lp, out, Result[T]{value: v}) {
				return
			}
		}
	}()
	return out
}

// FromSlice returns a stream of the elements of items, in index order, each
// as a success. The source reads items as it sends them, so items must not
// be modified until the output is closed.
func FromSlice[T any](ctx context.Context, items []T) <-chan Result[T] {
	return FromSeq(ctx, slices.Values(items))
}

// FromSeq returns a stream of the values seq yields, each as a success.
//
// seq runs on the source's goroutine, and each yield returns once its value
// has been taken by the consumer, or false once ctx has ended. A seq that
// blocks between values is not interrupted: the output closes when it next
// yields or returns, so a seq that may block should itself watch ctx. If
// seq panics, the output gets one error Result, named "seq", whose Item is
// the zero T and whose Err says seq panicked and with what (errors.As
// reaches the panic value when it is an error), and is then closed.
func FromSeq[T any](ctx context.Context, seq iter.Seq[T]) <-chan Result[T] {
	if seq == nil {
		panic("streamz: FromSeq: seq must not be nil")
	}
	out := make(chan Result[T])
	lp := newLoop(ctx, nil, out)
	drainOnCancel(ctx, lp, out)
	go func() {
		defer lp.exit()
		defer close(out)
		if err := runSeq(lp, out, seq); err != nil {
			var zero T
			send(lp, out, NewError(zero, err, "seq"))
		}
	}()
	return out
}

// runSeq sends what seq yields, turning a panic of seq into an error.
func runSeq[T any](lp *loop, out chan<- Result[T], seq iter.Seq[T]) (err error) {
	defer recoverUserPanic("seq panicked", &err)
	seq(func(v T) bool {
		// Producing an item is this loop's work, as taking an input is a
		// processor's.
		lp.took()
		return send(lp, out, Result[T]{value: v})
	})
	return nil
}

// linesAhead is how many lines FromLines's reader may read ahead of the
// consumer. Reading ahead lets the reader hand a line over without waiting
// for the consumer each time, which halves the goroutine hand-offs per line.
const linesAhead = 64

// FromLines returns a stream of the lines of r, each without its "\n" or
// "\r\n", named "lines" in its errors. A last line without an end still
// counts; an empty r gives no lines.
//
// maxLen bounds a line's length in bytes, its end excluded; 0 means no
// bound, and a negative maxLen panics. A longer line becomes an error
// Result whose Item is its first maxLen bytes and whose Err is
// bufio.ErrTooLong; the rest of it is skipped, and the stream goes on with
// the next line. Memory stays within maxLen plus a 64 KiB read buffer.
//
// At io.EOF the output is closed after the last line. Any other read error
// becomes one error Result, whose Item is the part of the line read before
// it (often empty) and whose Err is the error, and then the output is
// closed. A panic in r's Read is treated as a read error that says Read
// panicked and with what.
//
// r is read on a goroutine of FromLines's own, up to 64 lines ahead of the
// consumer. When ctx ends, the output is closed promptly, even while a Read
// blocks, and the lines read ahead are dropped. A Read in progress cannot be
// interrupted (io.Reader has no way to): it goes on, in that goroutine, until
// it returns; what it returns is then discarded, r is not read again, and
// the goroutine ends. To end it sooner, close r if it can be closed (a
// pipe, file or connection). os.Stdin stays blocked until input or end of
// input arrives, or the process exits.
//
// The reading goroutine runs outside a FakeClock's view: settling waits for
// lines already read, not for lines still to come from r. In the plain
// style, feed a test with FromSlice or FromChannel instead.
func FromLines(ctx context.Context, r io.Reader, maxLen int) <-chan Result[string] {
	if maxLen < 0 {
		panic(fmt.Sprintf("streamz: FromLines: maxLen must not be negative, got %d", maxLen))
	}
	if r == nil {
		panic("streamz: FromLines: r must not be nil")
	}
	read := make(chan Result[string], linesAhead)
	go readLines(ctx.Done(), r, maxLen, read)
	// The Buffer's loop is what settles and what closes the output on
	// cancel while the reader may still be blocked in Read.
	return NewBuffer[string](0).Process(ctx, read)
}

// readLines sends the lines of r on lines, as FromLines describes, and
// closes lines at the end of r. Once done is closed it sends nothing more
// and returns after its current Read.
func readLines(done <-chan struct{}, r io.Reader, maxLen int, lines chan<- Result[string]) {
	defer close(lines)
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than the buffer, gathered so far
	tooLong := false
	for {
		select {
		case <-done:
			return
		default:
		}
		frag, err := readSlice(br)
		if err == bufio.ErrBufferFull {
			// The line goes on past the buffer: keep at most maxLen bytes
			// of it, and one more, which may be the "\r" of its "\r\n".
			if !tooLong {
				long = append(long, frag...)
				if maxLen > 0 && len(long) > maxLen+1 {
					long, tooLong = long[:maxLen], true
				}
			}
			continue
		}
		line := frag
		if len(long) > 0 || tooLong {
			if !tooLong {
				long = append(long, frag...)
			}
			line = long
		}
		var res Result[string]
		switch {
		case err != nil && err != io.EOF:
			res = NewError(string(cut(line, maxLen)), err, "lines")
		case tooLong:
			res = NewError(string(line), bufio.ErrTooLong, "lines")
		case err == io.EOF && len(line) == 0:
			return // the input ended right after a line's end
		default:
			if err == nil { // frag ends with "\n"
				line = line[:len(line)-1]
				if n := len(line); n > 0 && line[n-1] == '\r' {
					line = line[:n-1]
				}
			}
			if maxLen > 0 && len(line) > maxLen {
				res = NewError(string(line[:maxLen]), bufio.ErrTooLong, "lines")
			} else {
				res = Result[string]{value: string(line)}
			}
		}
		tooLong = false
		if cap(long) > 64<<10 {
			long = nil // do not keep the memory of one huge line
		} else {
			long = long[:0]
		}
		select {
		case lines <- res:
		default:
			select {
			case lines <- res:
			case <-done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// readSlice is br.ReadSlice('\n'), with a panic in the underlying Read
// turned into an error.
func readSlice(br *bufio.Reader) (frag []byte, err error) {
	defer recoverUserPanic("Read panicked", &err)
	return br.ReadSlice('\n')
}

// cut returns b cut to at most maxLen bytes; maxLen 0 means no bound.
func cut(b []byte, maxLen int) []byte {
	if maxLen > 0 && len(b) > maxLen {
		return b[:maxLen]
	}
	return b
}
