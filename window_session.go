package streamz

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// SessionWindow groups items by key into sessions of activity: a key's
// session lasts as long as its items keep coming less than a gap apart.
//
// keyFunc is called once for every Result received, errors included, in the
// processor's goroutine. A key's session starts with its first item and
// ends when the gap has passed with no item for the key: at exactly
// lastActivity + gap, where lastActivity is the time its last item was
// received. An item received at or after that instant starts a new session,
// and the old one is emitted first. A session's items are emitted together,
// in arrival order, each as its own Result decorated with the session's
// metadata (window_start = its first item's time, window_end =
// lastActivity + gap, window_type "session", window_size 0, window_gap,
// session_key). Sessions that end together go out in the order they were
// opened. Error Results are windowed like successes and extend sessions.
// An item on which keyFunc panics cannot be keyed, so it joins no session:
// it goes out at once, after any session that had ended before it came, as
// an error Result named by the processor whose Err says keyFunc panicked
// and with what, and the stream goes on.
//
// A session under steady activity never ends, and the number of keys is not
// bounded: memory follows the live sessions and their items.
type SessionWindow[T any] struct {
	name     string
	clock    Clock
	keyFunc  func(Result[T]) string
	gap      time.Duration
	observer func(Event)
}

// NewSessionWindow returns a SessionWindow that keys items with keyFunc,
// with a gap of 30 minutes, timed by clock. A nil clock means RealClock. It
// panics if keyFunc is nil.
func NewSessionWindow[T any](keyFunc func(Result[T]) string, clock Clock) *SessionWindow[T] {
	if keyFunc == nil {
		panic("streamz: NewSessionWindow: keyFunc must not be nil")
	}
	if clock == nil {
		clock = RealClock
	}
	return &SessionWindow[T]{name: "session-window", clock: clock, keyFunc: keyFunc, gap: 30 * time.Minute}
}

// WithGap sets the inactivity gap that ends a session and returns the
// SessionWindow. It panics if gap <= 0. A Process call already running keeps
// the gap it started with.
func (w *SessionWindow[T]) WithGap(gap time.Duration) *SessionWindow[T] {
	if gap <= 0 {
		panic(fmt.Sprintf("streamz: SessionWindow.WithGap: gap must be positive, got %v", gap))
	}
	w.gap = gap
	return w
}

// WithName sets the name returned by Name and returns the SessionWindow.
func (w *SessionWindow[T]) WithName(name string) *SessionWindow[T] {
	w.name = name
	return w
}

// Name returns the processor's name, "session-window" by default.
func (w *SessionWindow[T]) Name() string { return w.name }

// WithObserver sets fn, an observer called as [Event] describes, to be told
// what each later Process call does, and returns the SessionWindow. Process
// reads it when called, so set it before.
//
// A Process call reports, under its Name: EventEmit once per session sent,
// with Reason ReasonSessionGap (the clock reached lastActivity + gap) or
// ReasonClose (flushed when the input closed before that) and Count the
// session's items, once the consumer has taken the session's last Result;
// the event is timed when the session was decided, before its sends. The
// one timer of the call is armed for the earliest session end:
// EventTimerArm when it starts, and then exactly one EventTimerFire (it
// went off) or EventTimerStop (an input or the close reached the end
// first, or the call ended); moving it to a later end is not a new arm.
// EventCancel is reported when ctx ends, with Count the Results held or
// being sent, which are lost; and EventClose last, after every timer is
// done, just before the output is closed.
func (w *SessionWindow[T]) WithObserver(fn func(Event)) *SessionWindow[T] {
	w.observer = fn
	return w
}

// session is one key's open session. The open sessions form a list by
// ascending lastActivity, so the first ends first: an item moves its
// session to the back, and a new session starts there.
type session[W any] struct {
	key        string
	start      time.Duration // since the timer's base
	last       time.Duration // lastActivity, since the timer's base
	seq        uint64        // opening order
	w          W
	prev, next *session[W]
}

// Process groups in into sessions and returns the output channel, which is
// unbuffered.
//
// When in is closed, every open session is emitted at once, in order of
// End, then opening order, and then the output is closed. When ctx is
// cancelled, the output is closed promptly without emitting the open
// sessions, even if nobody is reading; to get them, close the input and
// drain the output. Each call keeps its own state and its own copy of the
// gap and keyFunc.
func (w *SessionWindow[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T] {
	return startWindows(ctx, "SessionWindow.Process", w.spec(), &perResultHolder[T]{}, in)
}

// Collect groups in into sessions as Process does and emits each session
// as one WindowCollection when it ends: at exactly lastActivity + gap
// while the stream runs, or at once when in closes, in order of End, then
// opening order. See [Window] for what it shares with Process. An item on
// which keyFunc panics goes out at once as an error Result whose Item is a
// WindowCollection of that item alone, with no window (zero Start, End and
// Meta). The output is unbuffered.
func (w *SessionWindow[T]) Collect(ctx context.Context, in <-chan Result[T]) <-chan Result[WindowCollection[T]] {
	return startWindows(ctx, "SessionWindow.Collect", w.spec(), &collectHolder[T]{}, in)
}

func (w *SessionWindow[T]) spec() windowSpec[T] {
	return windowSpec[T]{name: w.name, clock: w.clock, observer: w.observer, typ: WindowTypeSession, gap: w.gap, keyFunc: w.keyFunc}
}

// sessionLoop is the state of one Process call of a session window. The
// timer is armed exactly while a session is open, for the first session's
// end.
type sessionLoop[T, W, O any] struct {
	clockLoop
	out        chan<- O
	h          windowHolder[T, W, O]
	name       string
	gap        time.Duration
	gapBox     any
	keyFunc    func(Result[T]) string
	byKey      map[string]*session[W]
	head, tail *session[W] // the list by lastActivity
	seq        uint64
	spare      *session[W] // one ended session kept for reuse
	// ending holds the sessions being emitted, out of the list.
	ending []*session[W]
}

func (s *sessionLoop[T, W, O]) unlink(ss *session[W]) {
	if ss.prev != nil {
		ss.prev.next = ss.next
	} else {
		s.head = ss.next
	}
	if ss.next != nil {
		ss.next.prev = ss.prev
	} else {
		s.tail = ss.prev
	}
	ss.prev, ss.next = nil, nil
}

func (s *sessionLoop[T, W, O]) pushBack(ss *session[W]) {
	ss.prev = s.tail
	if s.tail != nil {
		s.tail.next = ss
	} else {
		s.head = ss
	}
	s.tail = ss
}

// headEnd is the first session's end, 0 when none is open.
func (s *sessionLoop[T, W, O]) headEnd() time.Duration {
	if s.head == nil {
		return 0
	}
	return deadlineAfter(s.head.last, s.gap)
}

// due emits every session whose gap has passed by now, after setting the
// timer for the next session's end, if any.
func (s *sessionLoop[T, W, O]) due(now time.Duration) bool {
	for s.head != nil && now >= deadlineAfter(s.head.last, s.gap) {
		ss := s.head
		s.unlink(ss)
		delete(s.byKey, ss.key)
		s.ending = append(s.ending, ss)
	}
	s.wakeAt(s.headEnd(), now)
	return s.emitEnding(ReasonSessionGap, now)
}

func (s *sessionLoop[T, W, O]) input(r Result[T], now time.Duration) bool {
	key, err := keyOf(s.keyFunc, r, "keyFunc panicked")
	if err != nil {
		return deliver(&s.clockLoop, s.out, s.h.unkeyed(r, err, s.name), 1)
	}
	ss := s.byKey[key]
	if ss == nil {
		ss, s.spare = s.spare, nil
		if ss == nil {
			ss = new(session[W])
		}
		s.seq++
		ss.key, ss.start, ss.seq, ss.w = key, now, s.seq, s.h.open()
		s.byKey[key] = ss
	} else {
		s.unlink(ss)
	}
	ss.last = now
	s.h.add(&ss.w, r)
	s.pushBack(ss)
	// The first session's end only moves later, so the armed timer
	// re-arms itself for it.
	s.wakeAt(s.headEnd(), now)
	return true
}

func (s *sessionLoop[T, W, O]) flush(now time.Duration) bool {
	s.wakeAt(0, now)
	for ss := s.head; ss != nil; ss = ss.next {
		s.ending = append(s.ending, ss)
	}
	s.head, s.tail = nil, nil
	return s.emitEnding(ReasonClose, now)
}

// held counts the Results still held: in the sessions being emitted (an
// emitted one holds none, one cut short holds what it did not send) and in
// the open ones.
func (s *sessionLoop[T, W, O]) held() int {
	n := 0
	s.eachHeld(func(w *W) { n += s.h.held(w) })
	return n
}

func (s *sessionLoop[T, W, O]) loseHeld() { s.eachHeld(s.h.lose) }

// eachHeld calls fn with each session that held counts.
func (s *sessionLoop[T, W, O]) eachHeld(fn func(*W)) {
	for _, ss := range s.ending {
		fn(&ss.w)
	}
	for ss := s.head; ss != nil; ss = ss.next {
		fn(&ss.w)
	}
}

// emitEnding emits the sessions in ending, for reason, decided when the
// clock read now.
func (s *sessionLoop[T, W, O]) emitEnding(reason string, now time.Duration) bool {
	// Sessions with the same lastActivity end together; they go out in
	// opening order, whatever order their items came in.
	slices.SortStableFunc(s.ending, func(a, b *session[W]) int {
		if c := cmp.Compare(a.last, b.last); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for _, ss := range s.ending {
		boxes := windowBoxes{
			start: s.timer.base.Add(ss.start), end: s.timer.base.Add(deadlineAfter(ss.last, s.gap)),
			typ: string(WindowTypeSession), size: time.Duration(0), gap: s.gapBox, key: ss.key,
		}
		n := s.h.held(&ss.w)
		if !s.h.emit(&s.clockLoop, s.out, &ss.w, &boxes) {
			return false
		}
		s.h.release(&ss.w)
		*ss = session[W]{}
		s.spare = ss
		s.rep.reportSince(EventEmit, reason, n, s.timer.base, now)
	}
	clear(s.ending)
	s.ending = s.ending[:0]
	return true
}
