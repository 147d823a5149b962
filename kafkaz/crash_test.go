package kafkaz_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zoobzio/streamz"
	"github.com/zoobzio/streamz/kafkaz"
)

// The crash tests kill a consumer with SIGKILL: the test binary runs
// again as a child (TestChild), consuming from the parent's kfake cluster,
// whose address it is given in the environment, and writing each batch it
// sinks to a file as "partition offset" lines. The parent then resumes
// with a fresh consumer in the same group and reads the file.

// The child's sink holds one batch, in one of three modes: "stream"
// holds partition 0's batch that reaches streamHold before writing it,
// while partition 1 streams on; "afterwrite" writes the batch holding
// holdOffset and then never acks it; "beforewrite" never writes it. Then
// it says "HOLD" and the batch's first offset on stdout, and waits to be
// killed.
const (
	holdOffset = 29
	streamHold = 700
)

func TestChild(t *testing.T) {
	mode := os.Getenv("KAFKAZ_CHILD")
	if mode == "" {
		t.Skip("run by the crash tests only")
	}
	out, err := os.OpenFile(os.Getenv("KAFKAZ_OUT"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	addrs := strings.Split(os.Getenv("KAFKAZ_ADDRS"), ",")
	src, err := kafkaz.NewSource(kafkaz.Config[string]{Decode: decodeString, MaxInFlight: crashMaxInFlight, CommitInterval: 10 * time.Millisecond},
		append(clientOpts(addrs, "crash", os.Getenv("KAFKAZ_TOPIC")), kgo.SessionTimeout(1500*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	hold := func(batch []kafkaz.Msg[string]) bool {
		last := batch[len(batch)-1]
		if mode == "stream" {
			return last.Partition == 0 && last.Offset >= streamHold
		}
		return last.Offset == holdOffset
	}
	sayHold := func(batch []kafkaz.Msg[string]) {
		fmt.Println("HOLD", batch[0].Offset)
		select {}
	}
	// The timing modes batch by size alone, so that the held batch is
	// exactly offsets 20 to 29.
	latency := 10 * time.Millisecond
	if mode != "stream" {
		latency = 0
	}
	_ = src.Run(context.Background(), context.Background(), func(ctx context.Context, _ kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[string]]) {
		batches := streamz.NewBatcher[kafkaz.Msg[string]](streamz.BatchConfig{MaxLatency: latency, MaxSize: 10}, nil).Process(ctx, in)
		kafkaz.Sink(ctx, batches, kafkaz.SinkConfig[string]{Write: func(_ context.Context, batch []kafkaz.Msg[string]) error {
			if hold(batch) && mode != "afterwrite" {
				sayHold(batch)
			}
			writeLines(t, out, batch)
			if hold(batch) {
				sayHold(batch)
			}
			return nil
		}})
	})
}

const crashMaxInFlight = 100

// writeLines appends a batch to out in one write, which a SIGKILL cannot
// split.
func writeLines(t *testing.T, out *os.File, batch []kafkaz.Msg[string]) {
	var b strings.Builder
	for _, m := range batch {
		fmt.Fprintf(&b, "%d %d\n", m.Partition, m.Offset)
	}
	if _, err := out.WriteString(b.String()); err != nil {
		t.Error(err)
	}
}

// startChild runs the child consumer in mode, and returns it with its
// stdout.
func startChild(t *testing.T, mode string, addrs []string, topic, out string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KAFKAZ_CHILD="+mode, "KAFKAZ_ADDRS="+strings.Join(addrs, ","), "KAFKAZ_TOPIC="+topic, "KAFKAZ_OUT="+out)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewScanner(stdout)
}

// kill kills the child with SIGKILL and waits for it.
func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// waitHold waits for the child to say HOLD, and returns the first offset
// of the batch it holds.
func waitHold(t *testing.T, stdout *bufio.Scanner) int64 {
	t.Helper()
	for stdout.Scan() {
		var first int64
		if _, err := fmt.Sscanf(stdout.Text(), "HOLD %d", &first); err == nil {
			return first
		}
	}
	t.Fatalf("the child ended without holding: %v", stdout.Err())
	return 0
}

// resume runs a fresh consumer in the crashed one's group, writing to out
// as the child does, until the committed offset of each partition p
// reaches sizes[p], and stops it.
func resume(t *testing.T, addrs []string, topic, out string, sizes []int64) {
	t.Helper()
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := startSource(t, kafkaz.Config[string]{MaxInFlight: 1000, CommitInterval: 10 * time.Millisecond}, clientOpts(addrs, "crash", topic),
		func(ctx context.Context, _ kafkaz.Partition, in <-chan streamz.Result[kafkaz.Msg[string]]) {
			batches := streamz.NewBatcher[kafkaz.Msg[string]](streamz.BatchConfig{MaxLatency: 10 * time.Millisecond, MaxSize: 10}, nil).Process(ctx, in)
			kafkaz.Sink(ctx, batches, kafkaz.SinkConfig[string]{Write: func(_ context.Context, batch []kafkaz.Msg[string]) error {
				writeLines(t, f, batch)
				return nil
			}})
		})
	for p, n := range sizes {
		waitCommitted(t, addrs, "crash", topic, int32(p), n)
	}
	if err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

// written reads out: how often each offset of each partition was written.
func written(t *testing.T, out string) map[int32]map[int64]int {
	t.Helper()
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	counts := make(map[int32]map[int64]int)
	for line := range strings.Lines(string(data)) {
		var p int32
		var o int64
		if _, err := fmt.Sscanf(line, "%d %d", &p, &o); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if counts[p] == nil {
			counts[p] = make(map[int64]int)
		}
		counts[p][o]++
	}
	return counts
}

func newOutFile(t *testing.T) string {
	t.Helper()
	out := t.TempDir() + "/written"
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// A consumer killed mid-stream loses nothing: a fresh one resumes from the
// committed offsets, and what it writes again is at most MaxInFlight
// records per partition. It is killed while partition 1 streams and
// partition 0 holds delivered records it has not written, once the
// commit of partition 0 has reached them: a commit past them would lose
// them.
func TestCrashMidStreamLosesNothing(t *testing.T) {
	checkLeaks(t)
	topic := topicName(t)
	// Partition 1 is long enough to be mid-stream when partition 0 holds.
	sizes := []int64{1500, 5000}
	const partitions = 2
	addrs := newCluster(t, partitions, topic)
	for p, n := range sizes {
		produce(t, addrs, topic, int32(p), 0, int(n))
	}
	out := newOutFile(t)
	cmd, stdout := startChild(t, "stream", addrs, topic, out)
	held := waitHold(t, stdout)
	waitFor(t, "partition 0's commit to reach the held batch", func() bool {
		return committed(t, addrs, "crash", topic, 0) >= held
	})
	kill(t, cmd)
	resume(t, addrs, topic, out, sizes)
	counts := written(t, out)
	for p := range int32(partitions) {
		dups := 0
		for o := range sizes[p] {
			n := counts[p][o]
			if n == 0 {
				t.Fatalf("partition %d offset %d lost", p, o)
			}
			dups += n - 1
		}
		if dups > crashMaxInFlight {
			t.Errorf("partition %d: %d duplicates, want at most MaxInFlight %d", p, dups, crashMaxInFlight)
		}
		t.Logf("partition %d: %d duplicates", p, dups)
	}
}

// A crash after the sink's write and before its ack writes exactly the
// last batch again; a crash before the write writes nothing twice.
func TestCrashTiming(t *testing.T) {
	for _, tc := range []struct {
		mode  string
		twice []int64
	}{
		{"afterwrite", span(20, 30)},
		{"beforewrite", nil},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			checkLeaks(t)
			topic, addrs := seeded(t, 1, holdOffset+1)
			out := newOutFile(t)
			cmd, stdout := startChild(t, tc.mode, addrs, topic, out)
			if held := waitHold(t, stdout); held != holdOffset+1-10 {
				t.Fatalf("the child holds the batch from %d, want %d", held, holdOffset+1-10)
			}
			waitCommitted(t, addrs, "crash", topic, 0, holdOffset+1-10)
			kill(t, cmd)
			resume(t, addrs, topic, out, []int64{holdOffset + 1})
			var twice []int64
			for o := range int64(holdOffset + 1) {
				switch n := written(t, out)[0][o]; {
				case n == 0:
					t.Fatalf("offset %d lost", o)
				case n == 2:
					twice = append(twice, o)
				case n > 2:
					t.Fatalf("offset %d written %d times", o, n)
				}
			}
			if !slices.Equal(twice, tc.twice) {
				t.Fatalf("written twice %v, want %v", twice, tc.twice)
			}
		})
	}
}
