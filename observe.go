package streamz

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one thing a processor did, as reported to the function given to
// its WithObserver method: an output and why it went out, an item dropped
// or held and why, a timer's life, the end of a Process call.
//
// An observer is the func(Event) given to a processor's WithObserver. It
// runs synchronously on the processor's goroutine: the events of one
// Process call reach it one at a time, in the order they happened, so a
// slow observer slows the stream. A nil observer means none, and costs
// nothing. A panic in an observer is not recovered: like a panic in any
// goroutine, it ends the program.
//
// The last event of a call is always EventClose, reported after every
// timer of the call has been stopped or has fired, and just before the
// output channel is closed: once a consumer sees the output closed, the
// observer has seen every event of that call.
type Event struct {
	// Processor is the processor's Name(), such as "batcher".
	Processor string
	// Kind says what happened.
	Kind EventKind
	// Reason says why, for EventEmit, EventDrop and EventBreakerOpen: one
	// of the Reason constants. It is empty for the other kinds.
	Reason string
	// At is the processor's clock reading when it happened. For an emit it
	// is when the output was decided, before the send, which may then wait
	// for the consumer.
	At time.Time
	// Count is how many items the event concerns: 1 for a single item, a
	// batch's or a window's length for its emit, and for EventCancel the
	// items held or being sent when ctx ended, which are never emitted. It
	// is the attempts made for EventRetry, and 0 for timer events,
	// EventClose and a CircuitBreaker's state changes.
	Count int
}

// EventKind says what an Event reports. The zero EventKind is none of the
// constants.
type EventKind int

const (
	// EventEmit: an output was sent to the consumer. It is reported once
	// the send has completed, so each output has exactly one, and an output
	// abandoned because ctx ended has none (it counts in EventCancel). For
	// the windows, the output is a window: one EventEmit for all of its
	// Results, once the last has been sent.
	EventEmit EventKind = iota + 1
	// EventDrop: an item was discarded and will never be emitted.
	EventDrop
	// EventCoalesce: a held item was replaced by a newer one.
	EventCoalesce
	// EventTimerArm: a timer was started while none was armed. Moving the
	// deadline of an armed timer is not a new arm. Every arm is followed by
	// exactly one EventTimerFire or EventTimerStop.
	EventTimerArm
	// EventTimerFire: an armed timer went off and the processor took its
	// wake-up. It is reported when the processor takes it, on the
	// processor's goroutine, which may be after the inputs that arrived in
	// the meantime.
	EventTimerFire
	// EventTimerStop: an armed timer was stopped before it went off. That
	// includes a timer whose deadline an input reached first: the input
	// applies the deadline itself, so what the timer would have done is
	// done, and reported, all the same.
	EventTimerStop
	// EventCancel: the processor saw its ctx end. It is followed by the
	// stops of any armed timer and then EventClose.
	EventCancel
	// EventClose: the output channel is about to be closed. It is the last
	// event of every Process call.
	EventClose
)

// The kinds of Retry and CircuitBreaker.
const (
	// EventRetry: an attempt of a Retry failed and the item will be tried
	// again, after the backoff; Count is the attempts made so far.
	EventRetry EventKind = EventClose + 1 + iota
	// EventBreakerOpen: a CircuitBreaker opened, for the Reason given.
	EventBreakerOpen
	// EventBreakerHalfOpen: an open CircuitBreaker's cool-off ended; the
	// next item is its trial. At is the end of the cool-off.
	EventBreakerHalfOpen
	// EventBreakerClosed: a CircuitBreaker's trial succeeded, and it
	// closed.
	EventBreakerClosed
)

var eventKindNames = [...]string{
	EventEmit:      "emit",
	EventDrop:      "drop",
	EventCoalesce:  "coalesce",
	EventTimerArm:  "timer-arm",
	EventTimerFire: "timer-fire",
	EventTimerStop: "timer-stop",
	EventCancel:    "cancel",
	EventClose:     "close",

	EventRetry:           "retry",
	EventBreakerOpen:     "breaker-open",
	EventBreakerHalfOpen: "breaker-half-open",
	EventBreakerClosed:   "breaker-closed",
}

// String returns the kind's name: "emit", "drop", "coalesce", "timer-arm",
// "timer-fire", "timer-stop", "cancel", "close", "retry", "breaker-open",
// "breaker-half-open" or "breaker-closed"; for any other value,
// "EventKind(n)".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Reasons of EventEmit.
const (
	// ReasonLeading: the first item of a period, sent at once.
	ReasonLeading = "leading"
	// ReasonTrailing: the last item of a period, sent when the period ends.
	ReasonTrailing = "trailing"
	// ReasonDeadline: Debounce's quiet period ended.
	ReasonDeadline = "deadline"
	// ReasonMaxWait: an item was held for the longest wait allowed.
	ReasonMaxWait = "max-wait"
	// ReasonSize: a batch reached its MaxSize.
	ReasonSize = "size"
	// ReasonLatency: a batch reached its MaxLatency.
	ReasonLatency = "latency"
	// ReasonWindowEnd: a window's time ended.
	ReasonWindowEnd = "window-end"
	// ReasonSessionGap: a session had no item for its gap.
	ReasonSessionGap = "session-gap"
	// ReasonClose: what was held was flushed because the input closed.
	ReasonClose = "close"
)

// Reasons of the flow-control processors (RateLimiter, Dedupe and the
// dropping and sliding buffers).
const (
	// ReasonToken: a RateLimiter's item had its token, at once or once
	// the token accrued.
	ReasonToken = "token"
	// ReasonRateLimit: a RateLimiter in drop mode found no token.
	ReasonRateLimit = "rate-limit"
	// ReasonFirst: Dedupe's item was the first of its key within the TTL.
	ReasonFirst = "first"
	// ReasonDuplicate: Dedupe's item had a key seen within the TTL.
	ReasonDuplicate = "duplicate"
	// ReasonBuffered: a buffer's item reached the consumer.
	ReasonBuffered = "buffered"
	// ReasonOverflow: a full buffer dropped an item, the newest
	// (DroppingBuffer) or the oldest (SlidingBuffer).
	ReasonOverflow = "overflow"
)

// Reasons of EventDrop.
const (
	// ReasonCooldown: Throttle's cooldown had not ended.
	ReasonCooldown = "cooldown"
	// ReasonTimeout: DeadLetterQueue gave up waiting for a reader.
	ReasonTimeout = "timeout"
	// ReasonGap: the item fell between two windows of a sliding window
	// whose slide is longer than its size.
	ReasonGap = "gap"
)

// Reasons of Retry's and CircuitBreaker's EventEmit, and of
// EventBreakerOpen.
const (
	// ReasonSucceeded: fn returned a value.
	ReasonSucceeded = "succeeded"
	// ReasonFailed: fn failed, and the failure was not retried.
	ReasonFailed = "failed"
	// ReasonExhausted: fn failed with a retryable error on the last attempt
	// a RetryPolicy allows.
	ReasonExhausted = "exhausted"
	// ReasonRefused: an open CircuitBreaker failed the item without
	// calling fn.
	ReasonRefused = "refused"
	// ReasonConsecutive: a CircuitBreaker saw ConsecutiveFailures failures
	// in a row.
	ReasonConsecutive = "consecutive"
	// ReasonRatio: a CircuitBreaker's last Window calls failed at
	// FailureRatio or more.
	ReasonRatio = "ratio"
	// ReasonTrial: a half-open CircuitBreaker's trial failed.
	ReasonTrial = "trial"
)

// NewSlogObserver returns an observer that logs each event as one record at
// level, with the message "streamz" and the attributes processor, kind,
// reason, count and at, in that order. A nil logger means slog.Default().
// Records below the logger's level cost a call to its handler's Enabled
// and nothing else.
func NewSlogObserver(logger *slog.Logger, level slog.Level) func(Event) {
	if logger == nil {
		logger = slog.Default()
	}
	return func(e Event) {
		logger.LogAttrs(context.Background(), level, "streamz",
			slog.String("processor", e.Processor),
			slog.String("kind", e.Kind.String()),
			slog.String("reason", e.Reason),
			slog.Int("count", e.Count),
			slog.Time("at", e.At),
		)
	}
}

// Counters counts events per processor, kind and reason. Its Observe method
// is an observer, safe for concurrent use, so one Counters can serve every
// processor of a program. Counters implements expvar.Var:
//
//	c := streamz.NewCounters()
//	expvar.Publish("streamz", c)
//	batcher.WithObserver(c.Observe)
//
// Processors that share a Name share counts. The zero Counters is ready to
// use. A Counters must not be copied after first use.
type Counters struct {
	// counts is replaced, never changed, when a key is added, so that
	// counting an event under a known key takes no lock: keys are few and
	// added early, events many.
	counts atomic.Pointer[map[counterKey]*atomic.Uint64]
	mu     sync.Mutex // serialises adding keys
}

type counterKey struct {
	processor string
	kind      EventKind
	reason    string
}

// NewCounters returns an empty Counters.
func NewCounters() *Counters { return &Counters{} }

// Observe counts e under (e.Processor, e.Kind, e.Reason). It is safe for
// concurrent use, takes no lock once the key has been seen, and allocates
// only the first time it sees a key.
func (c *Counters) Observe(e Event) {
	k := counterKey{e.Processor, e.Kind, e.Reason}
	if m := c.counts.Load(); m != nil {
		if n := (*m)[k]; n != nil {
			n.Add(1)
			return
		}
	}
	c.add(k).Add(1)
}

// add returns k's counter, adding it if need be.
func (c *Counters) add(k counterKey) *atomic.Uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.counts.Load()
	if old != nil {
		if n := (*old)[k]; n != nil {
			return n
		}
	}
	m := make(map[counterKey]*atomic.Uint64, 1+lenCounts(old))
	if old != nil {
		for k, n := range *old {
			m[k] = n
		}
	}
	n := new(atomic.Uint64)
	m[k] = n
	c.counts.Store(&m)
	return n
}

func lenCounts(m *map[counterKey]*atomic.Uint64) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// Snapshot returns the counts so far, keyed "processor/kind/reason", such
// as "batcher/emit/size"; the reason is empty for kinds without one, as in
// "batcher/close/". Each count is read atomically, but counts made while
// Snapshot runs may or may not be in it. The map is the caller's.
func (c *Counters) Snapshot() map[string]uint64 {
	counts := c.counts.Load()
	if counts == nil {
		return map[string]uint64{}
	}
	m := make(map[string]uint64, len(*counts))
	for k, n := range *counts {
		m[k.processor+"/"+k.kind.String()+"/"+k.reason] = n.Load()
	}
	return m
}

// String returns Snapshot as a JSON object with its keys sorted, for
// expvar.
func (c *Counters) String() string {
	b, err := json.Marshal(c.Snapshot())
	if err != nil {
		// A map[string]uint64 always marshals.
		panic("streamz: Counters.String: " + err.Error())
	}
	return string(b)
}

// eventReporter reports the events of one Process call to its observer. A
// processor without an observer has a nil *eventReporter, and every method
// is then a nil check: no clock read, no allocation, no call.
type eventReporter struct {
	fn    func(Event)
	name  string
	clock Clock
}

// newEventReporter returns the reporter of one Process call of the
// processor called name, timed by clock, or nil when fn is nil.
func newEventReporter(fn func(Event), name string, clock Clock) *eventReporter {
	if fn == nil {
		return nil
	}
	if clock == nil {
		clock = RealClock
	}
	return &eventReporter{fn: fn, name: name, clock: clock}
}

// noReading stands for a clock reading the caller does not have.
const noReading time.Duration = -1

// report reports an event that happens now.
func (r *eventReporter) report(kind EventKind, reason string, count int) {
	if r == nil {
		return
	}
	r.fn(Event{Processor: r.name, Kind: kind, Reason: reason, At: r.clock.Now(), Count: count})
}

// reportSince reports an event that happened when the clock read base + d,
// a reading the caller has already made (durations since a base are what
// the loops read), so that reporting adds no clock read; with d noReading,
// it reads the clock.
func (r *eventReporter) reportSince(kind EventKind, reason string, count int, base time.Time, d time.Duration) {
	if r == nil {
		return
	}
	at := base.Add(d)
	if d < 0 {
		at = r.clock.Now()
	}
	r.fn(Event{Processor: r.name, Kind: kind, Reason: reason, At: at, Count: count})
}
