package streamz_test

// The API of the previous streamz that call sites rely on, pinned at
// compile time: every function and method of the plumbing processors and
// the windows with its exact type (type parameters instantiated), the
// exported struct fields in their order, and the constants with their
// values. A drift from the previous signatures fails the build of this
// file. The numbers are the rows of the inventories in the reference
// files upstream-plumbing.md and upstream-windows.md.

import (
	"context"
	"testing"
	"time"

	"github.com/zoobzio/streamz"
)

var (
	_ func(func(context.Context, int) (string, error)) *streamz.Mapper[int, string]                                                                       = streamz.NewMapper[int, string]                     // 2
	_ func(*streamz.Mapper[int, string], string) *streamz.Mapper[int, string]                                                                             = (*streamz.Mapper[int, string]).WithName            // 3
	_ func(*streamz.Mapper[int, string], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[string]                                       = (*streamz.Mapper[int, string]).Process             // 4
	_ func(*streamz.Mapper[int, string]) string                                                                                                           = (*streamz.Mapper[int, string]).Name                // 5
	_ func(func(context.Context, int) (string, error)) *streamz.AsyncMapper[int, string]                                                                  = streamz.NewAsyncMapper[int, string]                // 7
	_ func(*streamz.AsyncMapper[int, string], int) *streamz.AsyncMapper[int, string]                                                                      = (*streamz.AsyncMapper[int, string]).WithWorkers    // 8
	_ func(*streamz.AsyncMapper[int, string], bool) *streamz.AsyncMapper[int, string]                                                                     = (*streamz.AsyncMapper[int, string]).WithOrdered    // 9
	_ func(*streamz.AsyncMapper[int, string], int) *streamz.AsyncMapper[int, string]                                                                      = (*streamz.AsyncMapper[int, string]).WithBufferSize // 10
	_ func(*streamz.AsyncMapper[int, string], string) *streamz.AsyncMapper[int, string]                                                                   = (*streamz.AsyncMapper[int, string]).WithName       // 11
	_ func(*streamz.AsyncMapper[int, string], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[string]                                  = (*streamz.AsyncMapper[int, string]).Process        // 12
	_ func(*streamz.AsyncMapper[int, string]) string                                                                                                      = (*streamz.AsyncMapper[int, string]).Name           // 13
	_ func(func(int) bool) *streamz.Filter[int]                                                                                                           = streamz.NewFilter[int]                             // 15
	_ func(*streamz.Filter[int], string) *streamz.Filter[int]                                                                                             = (*streamz.Filter[int]).WithName                    // 16
	_ func(*streamz.Filter[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[int]                                                  = (*streamz.Filter[int]).Process                     // 17
	_ func(*streamz.Filter[int]) string                                                                                                                   = (*streamz.Filter[int]).Name                        // 18
	_ func(func(streamz.Result[int])) *streamz.Tap[int]                                                                                                   = streamz.NewTap[int]                                // 20
	_ func(*streamz.Tap[int], string) *streamz.Tap[int]                                                                                                   = (*streamz.Tap[int]).WithName                       // 21
	_ func(*streamz.Tap[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[int]                                                     = (*streamz.Tap[int]).Process                        // 22
	_ func(*streamz.Tap[int]) string                                                                                                                      = (*streamz.Tap[int]).Name                           // 23
	_ func(int) *streamz.Buffer[int]                                                                                                                      = streamz.NewBuffer[int]                             // 25
	_ func(*streamz.Buffer[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[int]                                                  = (*streamz.Buffer[int]).Process                     // 26
	_ func(*streamz.Buffer[int]) string                                                                                                                   = (*streamz.Buffer[int]).Name                        // 27
	_ func() *streamz.FanIn[int]                                                                                                                          = streamz.NewFanIn[int]                              // 29
	_ func(*streamz.FanIn[int], context.Context, ...<-chan streamz.Result[int]) <-chan streamz.Result[int]                                                = (*streamz.FanIn[int]).Process                      // 30
	_ func(int) *streamz.FanOut[int]                                                                                                                      = streamz.NewFanOut[int]                             // 32
	_ func(*streamz.FanOut[int], context.Context, <-chan streamz.Result[int]) []<-chan streamz.Result[int]                                                = (*streamz.FanOut[int]).Process                     // 33
	_ func(float64) *streamz.Sample[int]                                                                                                                  = streamz.NewSample[int]                             // 35
	_ func(*streamz.Sample[int], string) *streamz.Sample[int]                                                                                             = (*streamz.Sample[int]).WithName                    // 36
	_ func(*streamz.Sample[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[int]                                                  = (*streamz.Sample[int]).Process                     // 37
	_ func(*streamz.Sample[int]) string                                                                                                                   = (*streamz.Sample[int]).Name                        // 38
	_ func(*streamz.Sample[int]) float64                                                                                                                  = (*streamz.Sample[int]).Rate                        // 39
	_ func(func(int) string, streamz.SwitchConfig[string]) *streamz.Switch[int, string]                                                                   = streamz.NewSwitch[int, string]                     // 42
	_ func(func(int) string) *streamz.Switch[int, string]                                                                                                 = streamz.NewSwitchSimple[int, string]               // 43
	_ func(*streamz.Switch[int, string], context.Context, <-chan streamz.Result[int]) (map[string]<-chan streamz.Result[int], <-chan streamz.Result[int]) = (*streamz.Switch[int, string]).Process             // 44
	_ func(*streamz.Switch[int, string], string) <-chan streamz.Result[int]                                                                               = (*streamz.Switch[int, string]).AddRoute            // 45
	_ func(*streamz.Switch[int, string], string) bool                                                                                                     = (*streamz.Switch[int, string]).RemoveRoute         // 46
	_ func(*streamz.Switch[int, string], string) bool                                                                                                     = (*streamz.Switch[int, string]).HasRoute            // 47
	_ func(*streamz.Switch[int, string]) []string                                                                                                         = (*streamz.Switch[int, string]).RouteKeys           // 48
	_ func(*streamz.Switch[int, string]) <-chan streamz.Result[int]                                                                                       = (*streamz.Switch[int, string]).ErrorChannel        // 49
	_ func(*streamz.HashPartition[int, string], int, int) int                                                                                             = (*streamz.HashPartition[int, string]).Route        // 54
	_ func(*streamz.RoundRobinPartition[int], int, int) int                                                                                               = (*streamz.RoundRobinPartition[int]).Route          // 56
	_ func(streamz.PartitionConfig[int]) (*streamz.Partition[int], error)                                                                                 = streamz.NewPartition[int]                          // 61
	_ func(int, func(int) string, int) (*streamz.Partition[int], error)                                                                                   = streamz.NewHashPartition[int, string]              // 62
	_ func(int, int) (*streamz.Partition[int], error)                                                                                                     = streamz.NewRoundRobinPartition[int]                // 63
	_ func(*streamz.Partition[int], context.Context, <-chan streamz.Result[int]) []<-chan streamz.Result[int]                                             = (*streamz.Partition[int]).Process                  // 64
	_ func(streamz.Clock) *streamz.DeadLetterQueue[int]                                                                                                   = streamz.NewDeadLetterQueue[int]                    // 66
	_ func(*streamz.DeadLetterQueue[int], string) *streamz.DeadLetterQueue[int]                                                                           = (*streamz.DeadLetterQueue[int]).WithName           // 67
	_ func(*streamz.DeadLetterQueue[int]) string                                                                                                          = (*streamz.DeadLetterQueue[int]).Name               // 68
	_ func(*streamz.DeadLetterQueue[int]) uint64                                                                                                          = (*streamz.DeadLetterQueue[int]).DroppedCount       // 69
	_ func(*streamz.DeadLetterQueue[int], context.Context, <-chan streamz.Result[int]) (<-chan streamz.Result[int], <-chan streamz.Result[int])           = (*streamz.DeadLetterQueue[int]).Process            // 70
	_ func(time.Duration, streamz.Clock) *streamz.TumblingWindow[int]                                                                                     = streamz.NewTumblingWindow[int]                     // 2
	_ func(*streamz.TumblingWindow[int], string) *streamz.TumblingWindow[int]                                                                             = (*streamz.TumblingWindow[int]).WithName            // 3
	_ func(*streamz.TumblingWindow[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[int]                                          = (*streamz.TumblingWindow[int]).Process             // 4
	_ func(*streamz.TumblingWindow[int]) string                                                                                                           = (*streamz.TumblingWindow[int]).Name                // 5
	_ func(time.Duration, streamz.Clock) *streamz.SlidingWindow[int]                                                                                      = streamz.NewSlidingWindow[int]                      // 7
	_ func(*streamz.SlidingWindow[int], time.Duration) *streamz.SlidingWindow[int]                                                                        = (*streamz.SlidingWindow[int]).WithSlide            // 8
	_ func(*streamz.SlidingWindow[int], string) *streamz.SlidingWindow[int]                                                                               = (*streamz.SlidingWindow[int]).WithName             // 9
	_ func(*streamz.SlidingWindow[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[int]                                           = (*streamz.SlidingWindow[int]).Process              // 10
	_ func(*streamz.SlidingWindow[int]) string                                                                                                            = (*streamz.SlidingWindow[int]).Name                 // 11
	_ func(func(streamz.Result[int]) string, streamz.Clock) *streamz.SessionWindow[int]                                                                   = streamz.NewSessionWindow[int]                      // 13
	_ func(*streamz.SessionWindow[int], time.Duration) *streamz.SessionWindow[int]                                                                        = (*streamz.SessionWindow[int]).WithGap              // 14
	_ func(*streamz.SessionWindow[int], string) *streamz.SessionWindow[int]                                                                               = (*streamz.SessionWindow[int]).WithName             // 15
	_ func(*streamz.SessionWindow[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.Result[int]                                           = (*streamz.SessionWindow[int]).Process              // 16
	_ func(*streamz.SessionWindow[int]) string                                                                                                            = (*streamz.SessionWindow[int]).Name                 // 17
	_ func(streamz.Result[int], streamz.WindowMetadata) streamz.Result[int]                                                                               = streamz.AddWindowMetadata[int]                     // 25
	_ func(streamz.Result[int]) (streamz.WindowMetadata, error)                                                                                           = streamz.GetWindowMetadata[int]                     // 26
	_ func(streamz.Result[int]) (streamz.WindowInfo, error)                                                                                               = streamz.GetWindowInfo[int]                         // 27
	_ func(streamz.Result[int], time.Time) (bool, error)                                                                                                  = streamz.IsInWindow[int]                            // 28
	_ func(streamz.Result[int]) (time.Duration, error)                                                                                                    = streamz.WindowDuration[int]                        // 29
	_ func() *streamz.WindowCollector[int]                                                                                                                = streamz.NewWindowCollector[int]                    // 31
	_ func(*streamz.WindowCollector[int], context.Context, <-chan streamz.Result[int]) <-chan streamz.WindowCollection[int]                               = (*streamz.WindowCollector[int]).Process            // 32
	_ func(streamz.WindowCollection[int]) []int                                                                                                           = (streamz.WindowCollection[int]).Values             // 34
	_ func(streamz.WindowCollection[int]) []*streamz.StreamError[int]                                                                                     = (streamz.WindowCollection[int]).Errors             // 35
	_ func(streamz.WindowCollection[int]) int                                                                                                             = (streamz.WindowCollection[int]).Count              // 36
	_ func(streamz.WindowCollection[int]) int                                                                                                             = (streamz.WindowCollection[int]).SuccessCount       // 37
	_ func(streamz.WindowCollection[int]) int                                                                                                             = (streamz.WindowCollection[int]).ErrorCount         // 38
	_ streamz.PartitionStrategy[int]                                                                                                                      = (*streamz.HashPartition[int, string])(nil)         // 52
	_ streamz.PartitionStrategy[int]                                                                                                                      = (*streamz.RoundRobinPartition[int])(nil)           // 52
)

// The exported structs' fields in the previous order, written as its
// callers' unkeyed literals are. Every value is typed, so a literal
// compiles only if each position holds a field of that type: a swap of two
// fields of different types fails the build here. (An untyped constant
// would not: BatchConfig{100, 10} compiles whichever int-like field comes
// first.) Two fields of one type, such as Start and End, could trade places
// unseen by a literal; the conversions below pin the names too.
var (
	_ = streamz.BatchConfig{time.Duration(0), int(0)}
	_ = streamz.StreamError[int]{int(0), error(nil), string(""), time.Time{}}
	_ = streamz.SwitchConfig[string]{(*string)(nil), int(0)}
	_ = streamz.PartitionConfig[int]{streamz.PartitionStrategy[int](nil), int(0), int(0)}
	_ = streamz.WindowConfig{time.Duration(0), time.Duration(0), int(0)}
	_ = streamz.WindowMetadata{time.Duration(0), (*time.Duration)(nil), (*time.Duration)(nil), (*string)(nil), time.Time{}, time.Time{}, string("")}
	_ = streamz.WindowInfo{time.Duration(0), (*time.Duration)(nil), (*time.Duration)(nil), (*string)(nil), time.Time{}, time.Time{}, streamz.WindowType("")}
	_ = streamz.WindowCollection[int]{time.Time{}, time.Time{}, streamz.WindowMetadata{}, []streamz.Result[int](nil)}
)

// The exported fields, in order, with their names and types: a conversion
// from an unnamed struct type with the same fields compiles only if they
// match.
var (
	_ = streamz.BatchConfig(struct {
		MaxLatency time.Duration
		MaxSize    int
	}{})
	_ = streamz.StreamError[int](struct {
		Item          int
		Err           error
		ProcessorName string
		Timestamp     time.Time
	}{})
	_ = streamz.SwitchConfig[string](struct {
		DefaultKey *string
		BufferSize int
	}{})
	_ = streamz.PartitionConfig[int](struct {
		Strategy       streamz.PartitionStrategy[int]
		PartitionCount int
		BufferSize     int
	}{})
	_ = streamz.WindowConfig(struct {
		Size     time.Duration
		Slide    time.Duration
		MaxCount int
	}{})
	_ = streamz.WindowMetadata(struct {
		Size       time.Duration
		Slide      *time.Duration
		Gap        *time.Duration
		SessionKey *string
		Start      time.Time
		End        time.Time
		Type       string
	}{})
	_ = streamz.WindowInfo(struct {
		Size       time.Duration
		Slide      *time.Duration
		Gap        *time.Duration
		SessionKey *string
		Start      time.Time
		End        time.Time
		Type       streamz.WindowType
	}{})
	_ = streamz.WindowCollection[int](struct {
		Start   time.Time
		End     time.Time
		Meta    streamz.WindowMetadata
		Results []streamz.Result[int]
	}{})
)

func TestPreviousAPIConstants(t *testing.T) {
	var typed = []struct {
		got  streamz.WindowType
		want string
	}{
		{streamz.WindowTypeTumbling, "tumbling"},
		{streamz.WindowTypeSliding, "sliding"},
		{streamz.WindowTypeSession, "session"},
	}
	for _, c := range typed {
		if string(c.got) != c.want {
			t.Errorf("WindowType %q, want %q", c.got, c.want)
		}
	}
	// Untyped string constants: each must be assignable to a string and to
	// another string type alike.
	type key string
	untyped := map[key]string{
		streamz.MetadataWindowStart:       "window_start",
		streamz.MetadataWindowEnd:         "window_end",
		streamz.MetadataWindowType:        "window_type",
		streamz.MetadataWindowSize:        "window_size",
		streamz.MetadataWindowSlide:       "window_slide",
		streamz.MetadataWindowGap:         "window_gap",
		streamz.MetadataSessionKey:        "session_key",
		streamz.MetadataSource:            "source",
		streamz.MetadataTimestamp:         "timestamp",
		streamz.MetadataProcessor:         "processor",
		streamz.MetadataRetryCount:        "retry_count",
		streamz.MetadataSessionID:         "session_id",
		streamz.MetadataPartitionIndex:    "partition_index",
		streamz.MetadataPartitionTotal:    "partition_total",
		streamz.MetadataPartitionStrategy: "partition_strategy",
	}
	for got, want := range untyped {
		if string(got) != want {
			t.Errorf("constant %q, want %q", got, want)
		}
	}
}
