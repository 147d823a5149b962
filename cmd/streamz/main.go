// Command streamz runs the streamz processors as line filters for shell
// pipelines, and shows them at work with a scripted demo.
//
//	go run ./cmd/streamz demo
//	tail -f app.log | streamz batch -size 500 -latency 2s
//
// Run "streamz -h" for the commands and their flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/zoobzio/streamz"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, give the signals their default action back,
	// so that a second one ends the process even if writing the pending
	// output is stuck.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, streamz.RealClock)
	stop()
	os.Exit(code)
}
