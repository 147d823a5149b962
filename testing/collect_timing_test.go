//go:build go1.25

// testing/synctest's Test is new in Go 1.25; the rest of the package's
// tests build with Go 1.24 without this file.

package testing_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zoobzio/streamz"
	streamztest "github.com/zoobzio/streamz/testing"
)

// One timer covers the whole collection: results that keep coming, each
// sooner than the timeout after the one before, do not extend it. The
// source offers 0 to 4, 60 ms apart, then closes; a timer per receive would
// wait for all five.
func TestCollectResultsWithTimeout_OneTimerForTheWholeCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan streamz.Result[int])
		stop, finished := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(finished)
			defer close(ch)
			for i := range 5 {
				if i > 0 {
					time.Sleep(60 * time.Millisecond)
				}
				select {
				case ch <- streamz.NewSuccess(i):
				case <-stop:
					return
				}
			}
		}()
		start := time.Now()
		got := streamztest.CollectValues(t, ch, 100*time.Millisecond)
		elapsed := time.Since(start)
		close(stop)
		<-finished
		if fmt.Sprint(got) != "[0 1]" || elapsed != 100*time.Millisecond {
			t.Errorf("got %v after %v, want [0 1] after 100ms", got, elapsed)
		}
	})
}

// The collection ends when the channel closes, not at the timeout.
func TestCollectResultsWithTimeout_ReturnsAtClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan streamz.Result[int])
		go func() {
			for i := range 2 {
				time.Sleep(10 * time.Millisecond)
				ch <- streamz.NewSuccess(i)
			}
			time.Sleep(10 * time.Millisecond)
			close(ch)
		}()
		start := time.Now()
		got := streamztest.CollectValues(t, ch, time.Hour)
		if elapsed := time.Since(start); fmt.Sprint(got) != "[0 1]" || elapsed != 30*time.Millisecond {
			t.Errorf("got %v after %v, want [0 1] after 30ms", got, elapsed)
		}
	})
}

// A nil channel is never ready: the collection waits out the timeout and
// returns an empty slice.
func TestCollectResultsWithTimeout_NilChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		got := streamztest.CollectResultsWithTimeout[int](t, nil, 5*time.Second)
		if elapsed := time.Since(start); got == nil || len(got) != 0 || elapsed != 5*time.Second {
			t.Errorf("got %#v after %v, want empty, not nil, after 5s", got, elapsed)
		}
	})
}
