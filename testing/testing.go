// Package testing holds the helpers that the previous streamz offered its
// users' tests, with the same names, signatures and messages, so that tests
// written against it compile and report unchanged.
//
// Its name is that of the standard library's testing package, which a test
// file imports as well, so import this one under another name:
//
//	import streamztest "github.com/zoobzio/streamz/testing"
//
// Every function takes a [testing.TB] first, so a *testing.T, a *testing.B
// or a *testing.F will do, and calls its Helper method, so that a failure is
// reported at the caller's line. The collectors wait on the real clock
// (time.NewTimer), which a testing/synctest bubble makes fake; they never
// fail the test themselves: a timeout is an ordinary end of collection, and
// what was collected tells the test what happened.
package testing

import (
	"testing"
	"time"

	"github.com/zoobzio/streamz"
)

// CollectResultsWithTimeout receives from ch, in order, until ch is closed
// or timeout has passed since the call, whichever comes first, and returns
// what it received; the slice is empty, not nil, when nothing came. One timer
// covers the whole call, so a steady trickle of results cannot extend it.
//
// Each receive waits for ch and the timer together, as a select does, so a
// result that is ready when the timeout passes may still be taken before
// the timer is seen. A zero or negative timeout returns at once with
// nothing, even if results are ready. A nil ch is never ready and so waits
// out the timeout. A result left unreceived stays in ch.
func CollectResultsWithTimeout[T any](t testing.TB, ch <-chan streamz.Result[T], timeout time.Duration) []streamz.Result[T] {
	t.Helper()
	results := []streamz.Result[T]{}
	if timeout <= 0 {
		return results
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return results
			}
			results = append(results, r)
		case <-deadline.C:
			return results
		}
	}
}

// CollectValues collects as [CollectResultsWithTimeout] does and returns the
// values of the successes, in order, leaving out the errors. The slice is
// empty, not nil, when there are none.
func CollectValues[T any](t testing.TB, ch <-chan streamz.Result[T], timeout time.Duration) []T {
	t.Helper()
	results := CollectResultsWithTimeout(t, ch, timeout)
	values := make([]T, 0, len(results))
	for _, r := range results {
		if r.IsSuccess() {
			values = append(values, r.Value())
		}
	}
	return values
}

// CollectErrors collects as [CollectResultsWithTimeout] does and returns the
// errors, each the result's *streamz.StreamError (r.Error()), in order,
// leaving out the successes. The slice is empty, not nil, when there are
// none.
func CollectErrors[T any](t testing.TB, ch <-chan streamz.Result[T], timeout time.Duration) []error {
	t.Helper()
	results := CollectResultsWithTimeout(t, ch, timeout)
	errs := []error{}
	for _, r := range results {
		if r.IsError() {
			errs = append(errs, r.Error())
		}
	}
	return errs
}

// SendValues returns a channel that holds values, in order, each as a
// success, and is already closed: its buffer is exactly len(values), so
// making it never blocks, and a reader gets every value and then the close.
// An empty or nil values gives a channel that is closed and empty.
func SendValues[T any](t testing.TB, values []T) <-chan streamz.Result[T] {
	t.Helper()
	ch := make(chan streamz.Result[T], len(values))
	for _, v := range values {
		ch <- streamz.NewSuccess(v)
	}
	close(ch)
	return ch
}

// AssertResultCount reports an error through t.Errorf, "expected %d
// results, got %d" with expected and len(results), unless results holds
// exactly expected results. The test carries on either way.
func AssertResultCount[T any](t testing.TB, results []streamz.Result[T], expected int) {
	t.Helper()
	if len(results) != expected {
		t.Errorf("expected %d results, got %d", expected, len(results))
	}
}

// AssertAllSuccess reports an error through t.Errorf for each error result,
// "result %d: expected success, got error: %v" with its index in results
// and r.Error(), in order. The test carries on either way.
func AssertAllSuccess[T any](t testing.TB, results []streamz.Result[T]) {
	t.Helper()
	for i, r := range results {
		if r.IsError() {
			t.Errorf("result %d: expected success, got error: %v", i, r.Error())
		}
	}
}

// AssertAllErrors reports an error through t.Errorf for each success,
// "result %d: expected error, got success with value: %v" with its index in
// results and r.Value(), in order. The test carries on either way.
func AssertAllErrors[T any](t testing.TB, results []streamz.Result[T]) {
	t.Helper()
	for i, r := range results {
		if r.IsSuccess() {
			t.Errorf("result %d: expected error, got success with value: %v", i, r.Value())
		}
	}
}
