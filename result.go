package streamz

import (
	"fmt"
	"sort"
	"time"
)

// Well-known metadata keys. Processors that attach or read these keys agree
// on their meaning through these names, so a typo becomes a compile error
// rather than a silently missing value.
const (
	MetadataWindowStart = "window_start" // time.Time: inclusive start of the window.
	MetadataWindowEnd   = "window_end"   // time.Time: exclusive end of the window.
	MetadataWindowType  = "window_type"  // string: e.g. "tumbling", "sliding", "session".
	MetadataWindowSize  = "window_size"  // time.Duration: length of the window.
	MetadataWindowSlide = "window_slide" // time.Duration: step between sliding windows.
	MetadataWindowGap   = "window_gap"   // time.Duration: inactivity gap that closes a session.
	MetadataSessionKey  = "session_key"  // string: key that groups items into a session.
	MetadataSource      = "source"       // string: where the item came from.
	MetadataTimestamp   = "timestamp"    // time.Time: when the item was produced.
	MetadataProcessor   = "processor"    // string: name of the processor that handled the item.
	MetadataRetryCount  = "retry_count"  // int: attempts made before this result.
	MetadataSessionID   = "session_id"   // string: identifier of the session.
)

// Result carries either a value or a *StreamError through a stream, so that
// failures travel alongside successes instead of through a side channel.
//
// The zero Result is a success holding the zero value of T and no metadata.
// A Result is immutable: every method that appears to change it returns a new
// Result, so it is safe to share between goroutines and fan-out branches.
type Result[T any] struct {
	value    T
	err      *StreamError[T]
	metadata map[string]any
}

// NewSuccess returns a successful Result holding value.
func NewSuccess[T any](value T) Result[T] {
	return Result[T]{value: value}
}

// NewError returns a failed Result. The item that could not be processed is
// kept in the StreamError so callers can inspect, log or retry it; the
// error's Timestamp is the time of the call. The Result is an error even if
// err is nil.
func NewError[T any](item T, err error, processorName string) Result[T] {
	return Result[T]{err: NewStreamError(item, err, processorName)}
}

// IsError reports whether r holds an error.
func (r Result[T]) IsError() bool {
	return r.err != nil
}

// IsSuccess reports whether r holds a value. It is always !r.IsError().
func (r Result[T]) IsSuccess() bool {
	return r.err == nil
}

// Value returns the successful value. It panics if r is an error, because
// reading a value that does not exist is a programming mistake that would
// otherwise silently yield the zero value; use ValueOr or check IsError first.
func (r Result[T]) Value() T {
	if r.err != nil {
		panic(fmt.Sprintf("streamz: Result.Value called on an error result: %v", r.err))
	}
	return r.value
}

// Error returns the error held by r, or nil if r is a success.
//
// The result is a *StreamError[T], not an error, so that the failed item
// can be read without a type assertion. Beware of storing it in an error
// variable or returning it from a function whose result is an error: a nil
// *StreamError in an interface is not a nil error, so
//
//	var err error = r.Error() // non-nil even when r is a success
//
// reports every success as a failure. Use Err for an error.
func (r Result[T]) Error() *StreamError[T] {
	return r.err
}

// Err returns the error held by r as an error: nil for a success, and the
// *StreamError[T] otherwise, which errors.Is and errors.As see through to
// its cause. It is what a function returning error should return.
func (r Result[T]) Err() error {
	if r.err == nil {
		return nil
	}
	return r.err
}

// ValueOr returns the successful value, or fallback if r is an error.
func (r Result[T]) ValueOr(fallback T) T {
	if r.err != nil {
		return fallback
	}
	return r.value
}

// Map applies fn to a successful value and returns the new Result with the
// same metadata. An error result is returned unchanged and fn is not called,
// so a chain of Maps short-circuits on the first failure.
func (r Result[T]) Map(fn func(T) T) Result[T] {
	if r.err != nil {
		return r
	}
	return Result[T]{value: fn(r.value), metadata: r.metadata}
}

// MapError applies fn to the error of a failed result and returns the new
// Result with the same metadata, letting callers wrap or annotate failures.
// A success is returned unchanged and fn is not called. If fn returns nil
// the original error is kept, since MapError cannot turn a failure into a
// success.
func (r Result[T]) MapError(fn func(*StreamError[T]) *StreamError[T]) Result[T] {
	if r.err == nil {
		return r
	}
	mapped := fn(r.err)
	if mapped == nil {
		return r
	}
	return Result[T]{value: r.value, err: mapped, metadata: r.metadata}
}

// WithMetadata returns a copy of r with key set to value. It is
// copy-on-write: the returned Result gets a new map and r, along with any
// other Result sharing r's metadata, is never changed. An empty key is
// ignored and r is returned as is.
func (r Result[T]) WithMetadata(key string, value any) Result[T] {
	if key == "" {
		return r
	}
	md := make(map[string]any, len(r.metadata)+1)
	for k, v := range r.metadata {
		md[k] = v
	}
	md[key] = value
	r.metadata = md
	return r
}

// GetMetadata returns the value stored under key and whether it was present.
func (r Result[T]) GetMetadata(key string) (any, bool) {
	v, ok := r.metadata[key]
	return v, ok
}

// HasMetadata reports whether r carries any metadata at all; use
// GetMetadata to ask about one key. A key stored with a nil value still
// counts, and so does metadata carried by an error result.
func (r Result[T]) HasMetadata() bool {
	return len(r.metadata) > 0
}

// MetadataKeys returns the metadata keys in sorted order, so output built
// from them is deterministic. It returns nil when r has no metadata. The
// slice is freshly allocated and may be modified by the caller.
func (r Result[T]) MetadataKeys() []string {
	if len(r.metadata) == 0 {
		return nil
	}
	keys := make([]string, 0, len(r.metadata))
	for k := range r.metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// getTyped separates "absent", which is normal, from "present with the wrong
// type", which means two processors disagree about a key and deserves an
// error rather than a silent zero value. The error text is the previous
// streamz's, word for word, because users match it in logs and tests.
func getTyped[V any, T any](r Result[T], key, want string) (V, bool, error) {
	var zero V
	raw, ok := r.metadata[key]
	if !ok {
		return zero, false, nil
	}
	v, ok := raw.(V)
	if !ok {
		return zero, false, fmt.Errorf("metadata key %q has type %T, expected %s", key, raw, want)
	}
	return v, true, nil
}

// GetStringMetadata returns the string stored under key. An absent key gives
// ("", false, nil). A value of another type, including a nil value or a
// named string type, gives ("", false, err) with the text
// `metadata key "<key>" has type <type>, expected string`.
func (r Result[T]) GetStringMetadata(key string) (value string, found bool, err error) {
	return getTyped[string](r, key, "string")
}

// GetTimeMetadata returns the time.Time stored under key. An absent key gives
// (time.Time{}, false, nil). A value of another type gives
// (time.Time{}, false, err) with the text
// `metadata key "<key>" has type <type>, expected time.Time`.
func (r Result[T]) GetTimeMetadata(key string) (value time.Time, found bool, err error) {
	return getTyped[time.Time](r, key, "time.Time")
}

// GetIntMetadata returns the int stored under key. An absent key gives
// (0, false, nil). A value of any other type, including other integer types,
// gives (0, false, err) with the text
// `metadata key "<key>" has type <type>, expected int`, because converting
// could silently truncate.
func (r Result[T]) GetIntMetadata(key string) (value int, found bool, err error) {
	return getTyped[int](r, key, "int")
}

// GetDurationMetadata returns the time.Duration stored under key. An absent
// key gives (0, false, nil). A value of another type, including a plain
// int64, gives (0, false, err) with the text
// `metadata key "<key>" has type <type>, expected time.Duration`, because
// the unit would be ambiguous.
func (r Result[T]) GetDurationMetadata(key string) (value time.Duration, found bool, err error) {
	return getTyped[time.Duration](r, key, "time.Duration")
}

// StreamError records a failure together with the item that caused it, so
// the item is not lost when processing fails. It wraps Err, and errors.Is and
// errors.As see through it to the cause.
type StreamError[T any] struct {
	Item          T         // The item being processed when the failure happened.
	Err           error     // The underlying cause; may be nil.
	ProcessorName string    // The processor that failed; may be empty.
	Timestamp     time.Time // When the failure was recorded.
}

// NewStreamError returns a StreamError stamped with the current time.
func NewStreamError[T any](item T, err error, processorName string) *StreamError[T] {
	return &StreamError[T]{
		Item:          item,
		Err:           err,
		ProcessorName: processorName,
		Timestamp:     time.Now(),
	}
}

// Error returns
//
//	StreamError[<ProcessorName>]: <Err> (item: <Item>, time: <Timestamp>)
//
// with Err and Item formatted by %v (a nil Err prints as <nil>) and
// Timestamp in time.RFC3339 (whole seconds, with its own zone offset). The
// text is the previous streamz's, word for word, because users match it in
// logs, alerts and tests. A StreamError whose Err is another StreamError
// therefore nests both lines. The item is included: wrap Err yourself
// before logging if items may be large or sensitive.
func (e *StreamError[T]) Error() string {
	return fmt.Sprintf("StreamError[%s]: %v (item: %v, time: %s)",
		e.ProcessorName, e.Err, e.Item, e.Timestamp.Format(time.RFC3339))
}

// String returns the same text as Error, so that %v, %s and Println give
// one line whether they see the error as an error or as a Stringer.
func (e *StreamError[T]) String() string {
	return e.Error()
}

// Unwrap returns the underlying cause, which may be nil.
func (e *StreamError[T]) Unwrap() error {
	return e.Err
}
