package testing_test

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zoobzio/streamz"
	streamztest "github.com/zoobzio/streamz/testing"
)

// recorder is a testing.TB that keeps what a helper reports instead of
// failing the test, and the names of the functions that called its Helper
// method. Every other method is the real test's.
type recorder struct {
	testing.TB
	helpers map[string]bool
	reports []string
}

func (r *recorder) Helper() {
	pc, _, _, _ := runtime.Caller(1)
	name := runtime.FuncForPC(pc).Name() // e.g. ".../testing.CollectValues[...]"
	name, _, _ = strings.Cut(name, "[")
	name = name[strings.LastIndex(name, ".")+1:]
	if r.helpers == nil {
		r.helpers = map[string]bool{}
	}
	r.helpers[name] = true
}

func (r *recorder) Errorf(format string, args ...any) {
	r.reports = append(r.reports, fmt.Sprintf(format, args...))
}

// failedAt is an error Result whose text is fixed: the time NewError stamps
// is replaced by a known one.
func failedAt(item int, cause string) streamz.Result[int] {
	stamp := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	return streamz.NewError(item, errors.New(cause), "mapper").MapError(func(e *streamz.StreamError[int]) *streamz.StreamError[int] {
		stamped := *e
		stamped.Timestamp = stamp
		return &stamped
	})
}

// mixed returns 1, an error for item 2, 3 and an error for item 4.
func mixed() []streamz.Result[int] {
	return []streamz.Result[int]{streamz.NewSuccess(1), failedAt(2, "two"), streamz.NewSuccess(3), failedAt(4, "four")}
}

// closedWith returns a closed channel holding results.
func closedWith(results []streamz.Result[int]) <-chan streamz.Result[int] {
	ch := make(chan streamz.Result[int], len(results))
	for _, r := range results {
		ch <- r
	}
	close(ch)
	return ch
}

func checkReports(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	if len(rec.reports) != len(want) {
		t.Fatalf("reports %q, want %q", rec.reports, want)
	}
	for i := range want {
		if rec.reports[i] != want[i] {
			t.Errorf("report %d:\n got %q\nwant %q", i, rec.reports[i], want[i])
		}
	}
}

// Each function marks itself a helper, so that a failure is reported at
// its caller's line.
func TestEveryFunctionCallsHelper(t *testing.T) {
	rec := &recorder{TB: t}
	results := mixed()
	streamztest.CollectResultsWithTimeout(rec, closedWith(results), time.Minute)
	streamztest.CollectValues(rec, closedWith(results), time.Minute)
	streamztest.CollectErrors(rec, closedWith(results), time.Minute)
	streamztest.SendValues(rec, []int{1})
	streamztest.AssertResultCount(rec, results, 0)
	streamztest.AssertAllSuccess(rec, results)
	streamztest.AssertAllErrors(rec, results)
	want := []string{"AssertAllErrors", "AssertAllSuccess", "AssertResultCount", "CollectErrors", "CollectResultsWithTimeout", "CollectValues", "SendValues"}
	got := slices.Sorted(maps.Keys(rec.helpers))
	if !slices.Equal(got, want) {
		t.Errorf("functions that called t.Helper(): %q, want %q", got, want)
	}
}

// closed reports whether ch is closed and drained, without waiting.
func closed[T any](ch <-chan T) bool {
	select {
	case _, ok := <-ch:
		return !ok
	default:
		return false
	}
}

func TestSendValues(t *testing.T) {
	rec := &recorder{TB: t}
	ch := streamztest.SendValues(rec, []string{"b", "a", "c"})
	if cap(ch) != 3 || len(ch) != 3 {
		t.Fatalf("cap %d len %d, want 3 and 3: buffered to len(values) and full", cap(ch), len(ch))
	}
	for _, want := range []string{"b", "a", "c"} {
		r, ok := <-ch
		if !ok || r.IsError() || r.Value() != want {
			t.Fatalf("got %v (open %v), want success %q", r, ok, want)
		}
	}
	if !closed(ch) {
		t.Fatal("channel not closed after the values")
	}
	checkReports(t, rec)
}

func TestSendValues_Empty(t *testing.T) {
	for _, values := range [][]int{nil, {}} {
		rec := &recorder{TB: t}
		ch := streamztest.SendValues(rec, values)
		if cap(ch) != 0 {
			t.Errorf("cap %d, want 0", cap(ch))
		}
		if !closed(ch) {
			t.Error("channel not closed")
		}
		checkReports(t, rec)
	}
}

func TestCollectResultsWithTimeout_UntilClose(t *testing.T) {
	rec := &recorder{TB: t}
	want := mixed()
	got := streamztest.CollectResultsWithTimeout(rec, closedWith(want), time.Minute)
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].IsError() != want[i].IsError() || got[i].Error() != want[i].Error() || got[i].ValueOr(-1) != want[i].ValueOr(-1) {
			t.Errorf("result %d: got %v, want %v", i, got[i], want[i])
		}
	}
	checkReports(t, rec)
}

func TestCollectValuesAndErrors(t *testing.T) {
	rec := &recorder{TB: t}
	results := mixed()
	values := streamztest.CollectValues(rec, closedWith(results), time.Minute)
	if fmt.Sprint(values) != "[1 3]" {
		t.Errorf("CollectValues %v, want [1 3]", values)
	}
	checkReports(t, rec)

	rec = &recorder{TB: t}
	errs := streamztest.CollectErrors(rec, closedWith(results), time.Minute)
	if len(errs) != 2 || errs[0] != error(results[1].Error()) || errs[1] != error(results[3].Error()) {
		t.Errorf("CollectErrors %v, want the StreamErrors of items 2 and 4, in order", errs)
	}
	checkReports(t, rec)
}

// An empty collection is an empty slice, never nil, so that a test may
// compare it with an empty literal.
func TestCollect_EmptyNotNil(t *testing.T) {
	rec := &recorder{TB: t}
	if got := streamztest.CollectResultsWithTimeout(rec, streamztest.SendValues[int](rec, nil), time.Minute); got == nil || len(got) != 0 {
		t.Errorf("CollectResultsWithTimeout of nothing: %#v, want empty, not nil", got)
	}
	if got := streamztest.CollectValues(rec, closedWith([]streamz.Result[int]{failedAt(1, "one")}), time.Minute); got == nil || len(got) != 0 {
		t.Errorf("CollectValues of errors only: %#v, want empty, not nil", got)
	}
	if got := streamztest.CollectErrors(rec, streamztest.SendValues(rec, []int{1, 2}), time.Minute); got == nil || len(got) != 0 {
		t.Errorf("CollectErrors of successes only: %#v, want empty, not nil", got)
	}
	checkReports(t, rec)
}

// A timeout that has already passed takes nothing, though results wait in
// the channel. A select between a ready channel and a fired timer would
// pick either at random, so one attempt proves little: many are made.
func TestCollect_NonPositiveTimeoutTakesNothing(t *testing.T) {
	for _, timeout := range []time.Duration{0, -time.Second} {
		for range 50 {
			rec := &recorder{TB: t}
			ch := streamztest.SendValues(rec, []int{1, 2, 3})
			if got := streamztest.CollectResultsWithTimeout(rec, ch, timeout); got == nil || len(got) != 0 {
				t.Fatalf("timeout %v: got %v, want empty, not nil", timeout, got)
			}
			if got := streamztest.CollectValues(rec, ch, timeout); len(got) != 0 {
				t.Fatalf("CollectValues, timeout %v: got %v, want none", timeout, got)
			}
			if got := streamztest.CollectErrors(rec, ch, timeout); len(got) != 0 {
				t.Fatalf("CollectErrors, timeout %v: got %v, want none", timeout, got)
			}
			if len(ch) != 3 {
				t.Fatalf("timeout %v: %d results left in the channel, want all 3", timeout, len(ch))
			}
			checkReports(t, rec)
		}
	}
}

// Each assertion reports exactly the previous version's messages, one per
// offending result and in order, and nothing when it holds.
func TestAssertions(t *testing.T) {
	results := mixed()
	cases := []struct {
		name   string
		assert func(testing.TB)
		want   []string
	}{
		{"AssertResultCount holds", func(tb testing.TB) { streamztest.AssertResultCount(tb, results, 4) }, nil},
		{"AssertResultCount too few", func(tb testing.TB) { streamztest.AssertResultCount(tb, results, 5) },
			[]string{"expected 5 results, got 4"}},
		{"AssertResultCount of nil", func(tb testing.TB) { streamztest.AssertResultCount[int](tb, nil, 1) },
			[]string{"expected 1 results, got 0"}},
		{"AssertAllSuccess holds", func(tb testing.TB) {
			streamztest.AssertAllSuccess(tb, []streamz.Result[int]{streamz.NewSuccess(1), streamz.NewSuccess(2)})
		}, nil},
		{"AssertAllSuccess of mixed", func(tb testing.TB) { streamztest.AssertAllSuccess(tb, results) }, []string{
			"result 1: expected success, got error: StreamError[mapper]: two (item: 2, time: 2024-01-02T03:04:05Z)",
			"result 3: expected success, got error: StreamError[mapper]: four (item: 4, time: 2024-01-02T03:04:05Z)",
		}},
		{"AssertAllErrors holds", func(tb testing.TB) {
			streamztest.AssertAllErrors(tb, []streamz.Result[int]{failedAt(1, "one")})
		}, nil},
		{"AssertAllErrors of mixed", func(tb testing.TB) { streamztest.AssertAllErrors(tb, results) }, []string{
			"result 0: expected error, got success with value: 1",
			"result 2: expected error, got success with value: 3",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			c.assert(rec)
			checkReports(t, rec, c.want...)
		})
	}
}
