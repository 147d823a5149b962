package jetstreamz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/zoobzio/streamz"
)

// The crash tests run the consumer in a child process, the test binary
// re-executed with childModeEnv set, and kill it with SIGKILL. The child
// connects to the parent's embedded server, runs a pipeline of a Source
// and a sink that appends the sequence of each message it writes to
// childSinkEnv's file, one line each, and never exits by itself.
const (
	childModeEnv   = "JETSTREAMZ_CHILD_MODE"
	childURLEnv    = "JETSTREAMZ_CHILD_URL"
	childSinkEnv   = "JETSTREAMZ_CHILD_SINK"
	childMarkerEnv = "JETSTREAMZ_CHILD_MARKER"
	childStallEnv  = "JETSTREAMZ_CHILD_STALL"
)

// The child's modes.
const (
	// modeSteady batches and writes every message, then acks the batch.
	modeSteady = "steady"
	// modeStallAfterWrite is modeSteady, except that after writing the
	// childStallEnv-th batch it writes that batch's first and last
	// sequence to the marker file and stalls before the ack.
	modeStallAfterWrite = "stall-after-write"
	// modeStallBeforeWrite is the same, but it stalls before the write.
	modeStallBeforeWrite = "stall-before-write"
	// modeFanOut copies each message to two branches: one writes it and
	// acks its copy, the other holds its copy unsettled.
	modeFanOut = "fanout"
)

// childMaxInFlight is the children's Config.MaxInFlight.
const childMaxInFlight = 50

// runChild is the child's main.
func runChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	nc, err := nats.Connect(os.Getenv(childURLEnv))
	if err != nil {
		return fail(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	cons, err := js.Consumer(ctx, testStream, testConsumer)
	if err != nil {
		return fail(err)
	}
	sink, err := os.OpenFile(os.Getenv(childSinkEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fail(err)
	}
	// One write per batch: a kill leaves whole batches in the file. The
	// write takes a while, as a database's does, so that a kill finds
	// messages in flight.
	write := func(_ context.Context, batch []Msg[int]) error {
		time.Sleep(2 * time.Millisecond)
		var lines bytes.Buffer
		for _, m := range batch {
			fmt.Fprintln(&lines, m.Sequence)
		}
		_, err := sink.Write(lines.Bytes())
		return err
	}
	msgs := NewSource(cons, decodeInt, Config{MaxInFlight: childMaxInFlight}).Process(ctx, ctx)
	mode := os.Getenv(childModeEnv)
	if mode == modeFanOut {
		outs := streamz.NewFanOut[Msg[int]](2).Process(ctx, msgs)
		go func() {
			// The copies this branch takes are never settled.
			for range outs[1] {
			}
		}()
		for m, err := range streamz.All(outs[0]) {
			if err != nil {
				return fail(err)
			}
			if err := write(ctx, []Msg[int]{m}); err != nil {
				return fail(err)
			}
			m.Ack()
		}
		return fail(errors.New("the stream ended"))
	}
	stallAt, _ := strconv.Atoi(os.Getenv(childStallEnv))
	batches := streamz.NewBatcher[Msg[int]](streamz.BatchConfig{MaxSize: 10, MaxLatency: 20 * time.Millisecond}, nil).Process(ctx, msgs)
	n := 0
	for batch, err := range streamz.All(batches) {
		if err != nil {
			return fail(err)
		}
		n++
		if n == stallAt {
			marker := fmt.Sprintf("%d %d", batch[0].Sequence, batch[len(batch)-1].Sequence)
			if mode == modeStallAfterWrite {
				if err := write(ctx, batch); err != nil {
					return fail(err)
				}
			}
			if err := os.WriteFile(os.Getenv(childMarkerEnv), []byte(marker), 0o644); err != nil {
				return fail(err)
			}
			select {}
		}
		if err := WriteBatch(ctx, batch, write, ExponentialBackoff(time.Millisecond, time.Millisecond), nil); err != nil {
			return fail(err)
		}
	}
	return fail(errors.New("the stream ended"))
}

// child is a running consumer process.
type child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

// startChild runs the test binary as a consumer in mode, on url, writing
// to sink; env adds to its environment. The child is killed at the end of
// the test if it still runs.
func startChild(t *testing.T, url, mode, sink string, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(exe)}
	c.cmd.Env = append(os.Environ(), append(env, childModeEnv+"="+mode, childURLEnv+"="+url, childSinkEnv+"="+sink)...)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.kill(t) })
	return c
}

// kill sends the child SIGKILL and waits for it to die.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if c.cmd.ProcessState != nil {
		return
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	if c.stderr.Len() > 0 {
		t.Errorf("the child wrote: %s", c.stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Errorf("the child ended with %v, not by the kill", err)
	}
}

// sunk returns the sequences in sink, in the order they were written.
func sunk(t *testing.T, sink string) []uint64 {
	t.Helper()
	data, err := os.ReadFile(sink)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, line := range strings.Fields(string(data)) {
		seq, err := strconv.ParseUint(line, 10, 64)
		if err != nil {
			t.Fatalf("the sink holds %q", line)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

// waitSunk waits until sink holds every sequence from 1 to total, and
// returns the sequences written more than once, in order, each as many
// times as it was written again.
func waitSunk(t *testing.T, sink string, total int) []uint64 {
	t.Helper()
	var dups []uint64
	waitUntil(t, fmt.Sprintf("all %d messages in the sink", total), func() bool {
		seen := map[uint64]bool{}
		dups = nil
		for _, seq := range sunk(t, sink) {
			if seen[seq] {
				dups = append(dups, seq)
			}
			seen[seq] = true
		}
		return len(seen) == total
	}, func() string { return fmt.Sprintf("%d written", len(sunk(t, sink))) })
	for _, seq := range sunk(t, sink) {
		if seq < 1 || seq > uint64(total) {
			t.Fatalf("the sink holds sequence %d, not published", seq)
		}
	}
	slices.Sort(dups)
	return dups
}

// A consumer killed mid-stream and a fresh one after it: nothing is lost,
// and what comes twice is at most what the first held unsettled.
func TestCrashMidStreamLosesNothing(t *testing.T) {
	const total = 2000
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Second})
	publish(t, b.js, 1, total)
	sink := t.TempDir() + "/sink"
	first := startChild(t, b.srv.ClientURL(), modeSteady, sink)
	waitUntil(t, "the first consumer to write 500", func() bool { return len(sunk(t, sink)) >= 500 },
		func() string { return fmt.Sprint(len(sunk(t, sink))) })
	first.kill(t)
	if n := len(sunk(t, sink)); n >= total {
		t.Fatalf("the first consumer wrote %d before it was killed: not mid-stream", n)
	}
	second := startChild(t, b.srv.ClientURL(), modeSteady, sink)
	dups := waitSunk(t, sink, total)
	b.waitInfo(t, "every message acked", drained(total))
	second.kill(t)
	if len(dups) > childMaxInFlight {
		t.Fatalf("%d messages written twice, more than MaxInFlight %d: %v", len(dups), childMaxInFlight, dups)
	}
	t.Logf("%d messages written twice", len(dups))
}

// A crash after the write and before the ack gives exactly the last batch
// again; a crash before the write gives it once.
func TestCrashAroundTheWrite(t *testing.T) {
	const total, stallAt = 300, 5
	for _, mode := range []string{modeStallAfterWrite, modeStallBeforeWrite} {
		t.Run(mode, func(t *testing.T) {
			b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Second})
			publish(t, b.js, 1, total)
			dir := t.TempDir()
			sink, marker := dir+"/sink", dir+"/marker"
			first := startChild(t, b.srv.ClientURL(), mode, sink, childMarkerEnv+"="+marker, childStallEnv+"="+strconv.Itoa(stallAt))
			var from, to uint64
			waitUntil(t, "the consumer to stall", func() bool {
				data, err := os.ReadFile(marker)
				if err != nil {
					return false
				}
				_, err = fmt.Sscan(string(data), &from, &to)
				return err == nil
			}, func() string { return "no marker" })
			// The earlier batches' acks have reached the server.
			b.waitInfo(t, "the batches before the stalled one acked", func(info *jetstream.ConsumerInfo) bool {
				return info.AckFloor.Stream == from-1
			})
			first.kill(t)
			startChild(t, b.srv.ClientURL(), modeSteady, sink)
			dups := waitSunk(t, sink, total)
			b.waitInfo(t, "every message acked", drained(total))
			var want []uint64
			if mode == modeStallAfterWrite {
				for seq := from; seq <= to; seq++ {
					want = append(want, seq)
				}
			}
			if !slices.Equal(dups, want) {
				t.Fatalf("written twice: %v, want %v", dups, want)
			}
		})
	}
}

// A FanOut whose consumer dies after one branch has written a message and
// before the other has settled its copy: the message is redelivered.
func TestCrashBetweenFanOutBranches(t *testing.T) {
	const total = 30
	b := newBroker(t, jetstream.ConsumerConfig{AckWait: time.Second})
	publish(t, b.js, 1, total)
	sink := t.TempDir() + "/sink"
	first := startChild(t, b.srv.ClientURL(), modeFanOut, sink)
	waitUntil(t, "one branch to write every message", func() bool { return len(sunk(t, sink)) == total },
		func() string { return fmt.Sprint(len(sunk(t, sink))) })
	if info := b.info(t); info.AckFloor.Stream != 0 || info.NumAckPending != total {
		t.Fatalf("with one branch's copies unsettled: %+v", *info)
	}
	first.kill(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := NewSource(b.cons, decodeInt, Config{MaxInFlight: total})
	out := src.Process(ctx, ctx)
	for want := 1; want <= total; want++ {
		m := next(t, out).Value()
		if m.Value != want || m.Deliveries != 2 {
			t.Fatalf("got message %d on delivery %d, want %d again", m.Value, m.Deliveries, want)
		}
		m.Ack()
	}
	b.waitInfo(t, "every message acked", drained(total))
	cancel()
	waitDone(t, src)
}
