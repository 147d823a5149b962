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
type session[T any] struct {
	key        string
	start      time.Duration // since the timer's base
	last       time.Duration // lastActivity, since the timer's base
	seq        uint64        // opening order
	items      []Result[T]
	prev, next *session[T]
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
	gap, keyFunc := w.gap, w.keyFunc
	out := make(chan Result[T])
	lp := newLoop(ctx, "SessionWindow.Process", w.clock, in, out)
	rep := newEventReporter(w.observer, w.name, w.clock)
	timer := newPeriodTimer(w.clock)
	timer.rep = rep
	go func() {
		defer lp.exit()
		defer close(out)
		defer rep.report(EventClose, "", 0)
		defer timer.disarm()

		var bufs windowBuffers[T]
		byKey := make(map[string]*session[T])
		var head, tail *session[T] // the list by lastActivity
		var seq uint64
		var spare *session[T] // one ended session kept for reuse
		var due []*session[T]
		gapBox := any(gap)

		unlink := func(s *session[T]) {
			if s.prev != nil {
				s.prev.next = s.next
			} else {
				head = s.next
			}
			if s.next != nil {
				s.next.prev = s.prev
			} else {
				tail = s.prev
			}
			s.prev, s.next = nil, nil
		}
		pushBack := func(s *session[T]) {
			s.prev = tail
			if tail != nil {
				tail.next = s
			} else {
				head = s
			}
			tail = s
		}
		// cancelled reports the end of ctx with the Results still held: in
		// the sessions being emitted (an emitted one holds none, one cut
		// short holds what it did not send), in the open ones, and the
		// sending Results being sent outside any session.
		cancelled := func(sending int) {
			if rep == nil {
				return
			}
			n := sending
			for _, s := range due {
				n += len(s.items)
			}
			for s := head; s != nil; s = s.next {
				n += len(s.items)
			}
			rep.report(EventCancel, "", n)
		}
		// emitDueSessions emits the sessions in due, which are out of the
		// list, for reason, decided when the clock read now.
		emitDueSessions := func(reason string, now time.Duration) bool {
			// Sessions with the same lastActivity end together; they go out
			// in opening order, whatever order their items came in.
			slices.SortStableFunc(due, func(a, b *session[T]) int {
				if c := cmp.Compare(a.last, b.last); c != 0 {
					return c
				}
				return cmp.Compare(a.seq, b.seq)
			})
			for _, s := range due {
				key := s.key
				boxes := windowBoxes{
					start: timer.base.Add(s.start), end: timer.base.Add(deadlineAfter(s.last, gap)),
					typ: string(WindowTypeSession), size: time.Duration(0), gap: gapBox, key: key,
				}
				n := len(s.items)
				if sent := emitWindow(lp, out, s.items, &boxes); sent < n {
					s.items = s.items[sent:]
					cancelled(0)
					return false
				}
				bufs.put(s.items)
				*s = session[T]{}
				spare = s
				rep.reportSince(EventEmit, reason, n, timer.base, now)
			}
			clear(due)
			due = due[:0]
			return true
		}
		// emitDue emits every session whose gap has passed by now, and
		// re-arms the timer for the next session's end, if any.
		emitDue := func(now time.Duration) bool {
			for head != nil && now >= deadlineAfter(head.last, gap) {
				s := head
				unlink(s)
				delete(byKey, s.key)
				due = append(due, s)
			}
			if len(due) == 0 {
				return true
			}
			if head == nil {
				timer.disarmAt(now)
			} else {
				timer.schedule(deadlineAfter(head.last, gap), now)
			}
			return emitDueSessions(ReasonSessionGap, now)
		}

		for {
			r, ok, gotEvent, stop := receive(lp, timer.events, in)
			switch {
			case stop:
				cancelled(0)
				return
			case gotEvent:
				timer.taken()
				if !emitDue(timer.now()) {
					return
				}
			case !ok:
				if head == nil {
					return
				}
				// Time first: sessions whose gap has passed go out for it,
				// and the rest for the close.
				now := timer.now()
				if !emitDue(now) {
					return
				}
				timer.disarmAt(now)
				for s := head; s != nil; s = s.next {
					due = append(due, s)
				}
				head, tail = nil, nil
				emitDueSessions(ReasonClose, now)
				return
			default:
				now := timer.now()
				if !emitDue(now) {
					return
				}
				key, err := sessionKey(keyFunc, r)
				if err != nil {
					if !send(lp, out, keyFuncFailed(r, err, w.name)) {
						cancelled(1)
						return
					}
					continue
				}
				s := byKey[key]
				wasIdle, moved := head == nil, false
				if s == nil {
					s, spare = spare, nil
					if s == nil {
						s = new(session[T])
					}
					seq++
					s.key, s.start, s.seq, s.items = key, now, seq, bufs.get()
					byKey[key] = s
				} else {
					moved = head == s
					unlink(s)
				}
				s.last = now
				s.items = append(s.items, r)
				pushBack(s)
				// The first session's end only moves later, and the armed
				// timer re-arms itself for a deadline that has moved; so the
				// timer needs scheduling only when nothing was pending, or
				// when this item moved the first session's end.
				if wasIdle || moved {
					timer.schedule(deadlineAfter(head.last, gap), now)
				}
			}
		}
	}()
	return out
}

// sessionKey calls keyFunc, turning a panic into an error.
func sessionKey[T any](keyFunc func(Result[T]) string, r Result[T]) (key string, err error) {
	defer recoverUserPanic("keyFunc panicked", &err)
	return keyFunc(r), nil
}

// keyFuncFailed is the error Result for r, on which keyFunc panicked with
// err: it keeps r's item and metadata.
func keyFuncFailed[T any](r Result[T], err error, name string) Result[T] {
	item := r.value
	if r.err != nil {
		item = r.err.Item
	}
	return Result[T]{metadata: r.metadata, err: NewStreamError(item, err, name)}
}
