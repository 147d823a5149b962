// Quickstart parses order lines and inserts them in batches.
package main

import (
	"context"
	"fmt"
	"log"
	"strconv"
	"strings"
	"time"

	"github.com/zoobzio/streamz"
)

type Order struct {
	Item string
	Qty  int
}

func main() {
	ctx := context.Background()

	// The source: a channel of Results, closed at the end of input.
	lines := make(chan streamz.Result[string])
	go func() {
		defer close(lines)
		for _, line := range []string{"apple 3", "pear 2", "plum many", "fig 1", "kiwi 4", "lime 5"} {
			lines <- streamz.NewSuccess(line)
		}
	}()

	// Mapper: parse each line. A line that fails becomes an error Result,
	// which travels on in order with the values.
	orders := streamz.NewMapper(func(_ context.Context, line string) (Order, error) {
		item, qty, _ := strings.Cut(line, " ")
		n, err := strconv.Atoi(qty)
		return Order{Item: item, Qty: n}, err
	}).WithName("parse").Process(ctx, lines)

	// Batcher: insert orders 2 at a time, at most 2s after a batch's first.
	batcher := streamz.NewBatcher[Order](streamz.BatchConfig{MaxSize: 2, MaxLatency: 2 * time.Second}, streamz.RealClock)

	// The output closes once the input has, after the last, partial batch.
	for r := range batcher.Process(ctx, orders) {
		if err := r.Err(); err != nil {
			// StreamError[parse]: strconv.Atoi: parsing "many": invalid syntax (item: [{plum 0}], time: <RFC3339>)
			log.Print(err)
			continue
		}
		fmt.Println("insert", r.Value())
	}
}
