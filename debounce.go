package streamz

import (
	"context"
	"fmt"
	"time"
)

// Debounce emits an item once its stream has been quiet for a period
// (trailing edge): of a burst, only the last item comes out.
//
// Each success item replaces the pending one and sets its deadline to
// Now() + d. The pending item is emitted when the clock reaches its deadline
// (Now() >= deadline) with no newer item. A deadline is applied before any
// input that arrives after it, so the item goes out first.
//
// A burst does not start a timer per item: one timer is armed per quiet
// period, and when it fires early because newer items moved the deadline,
// it re-arms itself for the remainder.
//
// # Options
//
// The options follow lodash's debounce {leading, trailing, maxWait}. A burst
// starts with the first item, and with every item that arrives at least d
// after the item before it.
//
// WithLeading(true) emits the first item of a burst at once. With the
// trailing edge also on, the burst's last item comes out at the end, but
// only if it is not the same item as the first: a lone item comes out once.
// With d = 1s, leading and trailing, and items a at 0, b at 0.4s and c at 3s:
//
//	time:  0     0.4s        1.4s        3s
//	in:    a     b                       c
//	out:   a                 b           c
//
// WithTrailing(false), with leading on, emits only the first item of each
// burst and drops the rest.
//
// WithMaxWait(m) bounds how long a pending item can wait while input keeps
// coming: it is emitted no later than m after the later of the previous
// emission and the first item of the current burst, and otherwise at its
// quiet deadline as usual. With d = 100ms, m = 250ms and items every 60ms
// from 0 to 480ms, the item from 240ms goes out at 250ms and the item from
// 480ms at 500ms:
//
//	time:  0   60  120  180  240 250  300  360  420  480 500
//	in:    0   60  120  180  240      300  360  420  480
//	out:                         240                     480
//
// With the trailing edge off, the first item at or after m past the start
// of a burst starts a new one, and so is emitted at once: with m = d, that
// is a leading-edge Throttle, as lodash's throttle is built.
//
// A maxWait shorter than d is raised to d, as lodash does: shorter, it
// would end every wait before any quiet period could, and Debounce would
// sample at a fixed rate instead. One difference from lodash: after an
// emission made by maxWait, lodash times the next item of the burst by d
// alone and may emit it later than m after that emission; Debounce keeps
// the bound.
type Debounce[T any] struct {
	duration time.Duration
	clock    Clock
	leading  bool
	trailing bool
	maxWait  time.Duration
	observer func(Event)
}

// NewDebounce returns a Debounce with quiet period d, timed by clock, that
// emits on the trailing edge only and has no maxWait. A nil clock means
// RealClock. When d <= 0, every item passes straight through, whatever the
// options.
func NewDebounce[T any](d time.Duration, clock Clock) *Debounce[T] {
	if clock == nil {
		clock = RealClock
	}
	return &Debounce[T]{duration: d, clock: clock, trailing: true}
}

// WithLeading sets whether the first item of a burst is emitted at once
// (default false), and returns the Debounce. It is read when Process is
// called: a later call changes only later Process calls. Process panics if
// both edges are off.
func (db *Debounce[T]) WithLeading(on bool) *Debounce[T] {
	db.leading = on
	return db
}

// WithTrailing sets whether the last item of a burst is emitted once the
// stream has been quiet for d, or maxWait has run out (default true), and
// returns the Debounce. It is read when Process is called: a later call
// changes only later Process calls. Process panics if both edges are off.
func (db *Debounce[T]) WithTrailing(on bool) *Debounce[T] {
	db.trailing = on
	return db
}

// WithMaxWait sets the longest a pending item waits while input keeps
// arriving, and returns the Debounce. Zero, the default, means no limit; a
// maxWait shorter than d is raised to d when Process is called. It panics if
// m is negative. It is read when Process is called: a later call changes
// only later Process calls.
func (db *Debounce[T]) WithMaxWait(m time.Duration) *Debounce[T] {
	if m < 0 {
		panic(fmt.Sprintf("streamz: Debounce.WithMaxWait: maxWait must not be negative, got %v", m))
	}
	db.maxWait = m
	return db
}

// Name returns "debounce".
func (db *Debounce[T]) Name() string { return "debounce" }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the Debounce. Process reads
// it when called, so set it before.
//
// A Process call reports: EventEmit for every success item sent, with
// Count 1 and Reason ReasonDeadline (its quiet period ended, or d <= 0 and
// it passed straight through), ReasonMaxWait (maxWait ran out first),
// ReasonLeading (the first item of a burst, with the leading edge on) or
// ReasonClose (the pending item flushed at the end of input), once the
// consumer has taken it; EventCoalesce with Count 1 when a newer item
// replaces the pending one; EventTimerArm when an item becomes pending
// with no timer armed, and then exactly one EventTimerFire (the timer went
// off) or EventTimerStop (an input at or after the deadline applied it
// first, the input closed, or the call ended), a deadline moved by a newer
// item being part of the same arm; EventCancel when ctx ends, with Count
// the items pending or being sent, which are lost; and EventClose last,
// after every timer is done, just before the output is closed. Error
// results pass through unreported, and so do the items that a Debounce
// with the trailing edge off discards after a burst's first.
func (db *Debounce[T]) WithObserver(fn func(Event)) *Debounce[T] {
	db.observer = fn
	return db
}

// Process debounces in and returns the output channel. It panics if both
// edges are off.
//
// Error results pass through at once and leave the pending item, its
// deadline and the burst unchanged. When in is closed, the pending item, if
// any, is emitted at once, without waiting for its deadline (as lodash's
// flush does), and then the output is closed. With the trailing edge off,
// nothing is pending. When ctx is cancelled, the
// output is closed promptly, without emitting the pending item, even if
// nobody is reading it. Each call keeps its own state, so one Debounce can
// serve many streams.
func (db *Debounce[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	// The options are copied here, so that setters called later do not
	// race with the loop.
	d, clock := db.duration, db.clock
	cfg := newDebounceEdges(d, db.leading, db.trailing, db.maxWait, "Debounce")
	out := make(chan Result[T])
	rep := newEventReporter(db.observer, db.Name(), clock)
	if d > 0 && (cfg.leading || cfg.maxWait > 0) {
		return startClocked(ctx, "Debounce.Process", clock, rep, &debounceWithEdges[T]{out: out, d: d, cfg: cfg}, in, out)
	}
	s := &debounceTrailing[T]{out: out, d: d}
	s.untimed = d <= 0
	return startClocked(ctx, "Debounce.Process", clock, rep, s, in, out)
}

// debounceTrailing is the state of a Debounce with the trailing edge only
// and no maxWait, or with d <= 0. It is apart from debounceWithEdges so
// that the default configuration pays nothing for the options. The timer
// is armed exactly while an item is pending, for its deadline.
type debounceTrailing[T any] struct {
	clockLoop
	out        chan<- Result[T]
	d          time.Duration
	pending    Result[T]
	hasPending bool
}

func (s *debounceTrailing[T]) due(now time.Duration) bool { return s.emit(ReasonDeadline, now) }

func (s *debounceTrailing[T]) input(r Result[T], now time.Duration) bool {
	if s.d <= 0 {
		// Untimed: everything passes straight through.
		if !deliver(&s.clockLoop, s.out, r, 1) {
			return false
		}
		if r.IsSuccess() {
			s.rep.reportSince(EventEmit, ReasonDeadline, 1, s.timer.base, noReading)
		}
		return true
	}
	if r.IsError() {
		return deliver(&s.clockLoop, s.out, r, 1)
	}
	if s.hasPending {
		s.rep.reportSince(EventCoalesce, "", 1, s.timer.base, now)
		settleResult(s.settling, s.pending, Discarded)
	}
	s.pending, s.hasPending = r, true
	s.wakeAt(deadlineAfter(now, s.d), now)
	return true
}

func (s *debounceTrailing[T]) flush(now time.Duration) bool {
	return !s.hasPending || s.emit(ReasonClose, now)
}

func (s *debounceTrailing[T]) held() int { return heldCount(s.hasPending) }

func (s *debounceTrailing[T]) loseHeld() {
	if s.hasPending {
		s.pending.Settle(Lost)
	}
}

// emit sends the pending item, which went out for reason when the clock
// read now.
func (s *debounceTrailing[T]) emit(reason string, now time.Duration) bool {
	r := s.pending
	s.pending, s.hasPending = Result[T]{}, false
	s.wakeAt(0, now)
	return emitItem(&s.clockLoop, s.out, r, reason, now)
}

// debounceEdges is a Debounce's options, as Process copied them.
type debounceEdges struct {
	leading, trailing bool
	maxWait           time.Duration // 0 for none; otherwise at least d
}

// newDebounceEdges checks and copies the options of a Debounce or
// KeyedDebounce (named by typ) with quiet period d, for Process: it panics
// if both edges are off, and raises a maxWait shorter than d to d.
func newDebounceEdges(d time.Duration, leading, trailing bool, maxWait time.Duration, typ string) debounceEdges {
	requireAnEdge(leading, trailing, typ)
	if maxWait > 0 && maxWait < d {
		maxWait = d
	}
	return debounceEdges{leading: leading, trailing: trailing, maxWait: maxWait}
}

// requireAnEdge is the check of the edge options of a Throttle, Debounce,
// KeyedThrottle or KeyedDebounce (named by typ), in Process.
func requireAnEdge(leading, trailing bool, typ string) {
	if !leading && !trailing {
		panic("streamz: " + typ + ".Process: WithLeading(false) and WithTrailing(false) leave no edge to emit on")
	}
}

// debounceBurst is the state of one stream's bursts for a Debounce with a
// leading edge or a maxWait, and d > 0, or of one key's for KeyedDebounce.
//
// One deadline serves both as the pending item's emission time and as the
// end of the burst: min(last + d, anchor + maxWait), where last is the
// arrival of the latest success item and anchor the later of the burst's
// first item and the latest emission. An item that arrives at or after it
// starts a new burst.
type debounceBurst[T any] struct {
	pending                Result[T]
	hasPending, seen       bool
	last, anchor, deadline time.Duration // since the timer's base
}

// bound is the deadline the latest item and anchor give.
func (b *debounceBurst[T]) bound(d time.Duration, cfg debounceEdges) time.Duration {
	if cfg.maxWait > 0 {
		return min(deadlineAfter(b.last, d), deadlineAfter(b.anchor, cfg.maxWait))
	}
	return deadlineAfter(b.last, d)
}

// arrive applies success item r, received when the clock read now. It
// reports whether r goes out at once, on the leading edge, and whether it
// replaced a pending item; otherwise, with the trailing edge on, r is
// pending until b.deadline, and with it off r is discarded. With settling
// (see clockLoop), a replaced or discarded item is settled as Discarded.
func (b *debounceBurst[T]) arrive(r Result[T], now, d time.Duration, cfg debounceEdges, settling bool) (leading, coalesced bool) {
	b.last = now
	if !b.seen || now >= b.deadline {
		// A new burst.
		b.seen, b.anchor = true, now
		b.deadline = b.bound(d, cfg)
		if cfg.leading {
			return true, false
		}
	} else {
		b.deadline = b.bound(d, cfg)
	}
	if !cfg.trailing {
		settleResult(settling, r, Discarded)
		return false, false
	}
	coalesced = b.hasPending
	if coalesced {
		settleResult(settling, b.pending, Discarded)
	}
	b.pending, b.hasPending = r, true
	return false, coalesced
}

// release takes the pending item, whose deadline has come, with the reason
// it goes out for. The emission happened at the deadline, so that is the
// new anchor, and the burst goes on until b.deadline unless an item
// restarts it.
func (b *debounceBurst[T]) release(d time.Duration, cfg debounceEdges) (Result[T], string) {
	r := b.take()
	// The deadline is the quiet period's end unless maxWait's came first.
	reason := ReasonDeadline
	if deadlineAfter(b.last, d) > b.deadline {
		reason = ReasonMaxWait
	}
	b.anchor = b.deadline
	b.deadline = b.bound(d, cfg)
	return r, reason
}

// take takes the pending item.
func (b *debounceBurst[T]) take() Result[T] {
	r := b.pending
	b.pending, b.hasPending = Result[T]{}, false
	return r
}

// debounceWithEdges is the state of a Debounce with a leading edge or a
// maxWait, and d > 0. The timer is armed only while an item is pending for
// the trailing edge, for the burst's deadline.
type debounceWithEdges[T any] struct {
	clockLoop
	out   chan<- Result[T]
	d     time.Duration
	cfg   debounceEdges
	burst debounceBurst[T]
}

func (s *debounceWithEdges[T]) due(now time.Duration) bool {
	r, reason := s.burst.release(s.d, s.cfg)
	s.wakeAt(0, now)
	return emitItem(&s.clockLoop, s.out, r, reason, now)
}

func (s *debounceWithEdges[T]) input(r Result[T], now time.Duration) bool {
	if r.IsError() {
		return deliver(&s.clockLoop, s.out, r, 1)
	}
	leading, coalesced := s.burst.arrive(r, now, s.d, s.cfg, s.settling)
	if leading {
		return emitItem(&s.clockLoop, s.out, r, ReasonLeading, now)
	}
	if coalesced {
		s.rep.reportSince(EventCoalesce, "", 1, s.timer.base, now)
	}
	if s.burst.hasPending {
		s.wakeAt(s.burst.deadline, now)
	}
	return true
}

func (s *debounceWithEdges[T]) flush(now time.Duration) bool {
	if !s.burst.hasPending {
		return true
	}
	s.wakeAt(0, now)
	return emitItem(&s.clockLoop, s.out, s.burst.take(), ReasonClose, now)
}

func (s *debounceWithEdges[T]) held() int { return heldCount(s.burst.hasPending) }

func (s *debounceWithEdges[T]) loseHeld() { s.burst.lose() }

// lose settles the pending item, if any, as Lost.
func (b *debounceBurst[T]) lose() {
	if b.hasPending {
		b.pending.Settle(Lost)
	}
}
