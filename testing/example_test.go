package testing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zoobzio/streamz"
	streamztest "github.com/zoobzio/streamz/testing"
)

// reporter stands in for the *testing.T that a test function has: it
// prints what t.Errorf would report, so that the output below shows it.
type reporter struct{ testing.TB }

func (reporter) Helper() {}

func (reporter) Errorf(format string, args ...any) {
	fmt.Printf("t.Errorf: "+format+"\n", args...)
}

func Example() {
	t := reporter{} // in a test function, its t
	ctx := context.Background()
	halve := streamz.NewMapper(func(_ context.Context, n int) (int, error) {
		if n%2 != 0 {
			return 0, fmt.Errorf("%d is odd", n)
		}
		return n / 2, nil
	})

	values := streamztest.CollectValues(t, halve.Process(ctx, streamztest.SendValues(t, []int{2, 4, 8})), time.Second)
	fmt.Println(values)

	results := streamztest.CollectResultsWithTimeout(t, halve.Process(ctx, streamztest.SendValues(t, []int{5, 6})), time.Second)
	streamztest.AssertResultCount(t, results, 2) // holds, so reports nothing
	streamztest.AssertAllErrors(t, results)      // 6 was halved: reported
	// Output:
	// [1 2 4]
	// t.Errorf: result 1: expected error, got success with value: 3
}
