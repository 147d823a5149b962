package streamz

import (
	"time"
)

// This file holds what the keyed processors (KeyedDebounce, KeyedThrottle,
// KeyedBatcher) share: the per-key states of one Process call, ordered by
// their deadlines, so that one goroutine and one timer serve every key, and
// the calling of the user's key function.
//
// The shared rules, which each keyed processor's doc refers to:
//
//   - Keys. The key function is called once for every success item, on the
//     loop's goroutine; error Results pass at once, unkeyed. An item on
//     which the key function panics cannot be keyed, so it touches no key's
//     state: it goes out at once, after anything that was due before it
//     came, as an error Result named by the processor whose Err says "key
//     panicked" and with what, and the stream goes on.
//   - Memory. A key's state exists only while it holds an item or a batch,
//     or while a running period still decides what its next item does (a
//     cooldown, a burst). Once it holds nothing and its period has ended, it
//     is freed, at the first input or deadline after that; the map of keys
//     is rebuilt when it has shrunk to a quarter of its peak, so memory
//     follows the live keys, not every key ever seen.
//   - Order. Outputs that fall due at the same instant leave in the order of
//     their deadlines' instants (the same, here) and then in the order in
//     which the items they release arrived: the pending or held item for
//     KeyedDebounce and KeyedThrottle, the batch's first item for
//     KeyedBatcher. An input at that instant comes after them all (the
//     time-first rule).
//   - Close and cancel. When the input closes, what is due goes out for its
//     deadline, then every key's pending item or batch at once, for the
//     close, in the same order: by deadline, then by arrival, as if every
//     deadline had come at once. When ctx ends, everything held is dropped,
//     as the unkeyed processors drop theirs.

// keyedEntry is the state of one key: the unkeyed processor's state for
// one stream (cell), with where it stands in its keyedStates' heaps.
type keyedEntry[K comparable, S any] struct {
	key  K
	cell S
	// at is the deadline of what the entry holds, while it is in the due
	// heap, or the end of the period that keeps it remembered, while it is
	// in the idle heap. Both are since the timer's base.
	at  time.Duration
	seq uint64 // when the item that at releases arrived, in arrival order
	// index is the entry's position in its heap, -1 when it is in neither;
	// in the due list (see keyedStates.inOrder) it is 0.
	index int
	inDue bool
	// prev and next link the due list.
	prev, next *keyedEntry[K, S]
}

// keyedStates is the per-key states of one keyed Process call.
//
// An entry that holds something due at a deadline is in the due heap,
// ordered by (deadline, arrival): its minimum is the processor's earliest
// deadline, which is what the one timer is armed for. An entry that holds
// nothing but must be remembered until a period ends is in the idle heap,
// ordered by that end; it arms no timer, so that a keyed processor reports
// the timer events its unkeyed counterpart does, and it is swept at the
// first input or deadline after its end. An entry in neither heap is being
// handled by its processor, which puts it back or frees it.
//
// With inOrder set, the processor promises that every deadline it gives
// hold is at or after every deadline given before, and comes with its item
// (KeyedDebounce without maxWait, whose deadline is always arrival + d).
// Order by (deadline, arrival) is then the order of the last hold, so the
// due entries are kept in a list instead of the heap: a key whose deadline
// moves later goes to the back in constant time, where the heap would sift
// it down past the other keys.
type keyedStates[K comparable, S any] struct {
	byKey     map[K]*keyedEntry[K, S]
	due, idle keyedHeap[K, S]
	inOrder   bool
	// head and tail are the due list's ends, with inOrder set.
	head, tail *keyedEntry[K, S]
	arrivals   uint64 // stamps seq
	peak       int    // the largest len(byKey) since the map was made
	// spare is one freed entry kept for the next new key, so that a key
	// that comes and goes allocates nothing once warm.
	spare *keyedEntry[K, S]
}

// keyedShrinkMin is the peak below which the map of keys is never rebuilt:
// a small map costs little to keep.
const keyedShrinkMin = 1024

// newKeyedStates returns the states of one call; inOrder is as described
// on keyedStates.
func newKeyedStates[K comparable, S any](inOrder bool) keyedStates[K, S] {
	return keyedStates[K, S]{byKey: make(map[K]*keyedEntry[K, S]), inOrder: inOrder}
}

// get returns key's entry, and whether it is new. A new entry is in
// neither heap and its cell is the zero S or a freed key's cell, which its
// processor emptied of items; the processor must reset what else it keeps.
func (ks *keyedStates[K, S]) get(key K) (e *keyedEntry[K, S], isNew bool) {
	if e = ks.byKey[key]; e != nil {
		return e, false
	}
	e, ks.spare = ks.spare, nil
	if e == nil {
		e = &keyedEntry[K, S]{index: -1}
	}
	e.key = key
	ks.byKey[key] = e
	ks.peak = max(ks.peak, len(ks.byKey))
	return e, true
}

// hold puts e in the due heap with deadline. With arrived set, the item
// that the deadline releases has just arrived, and e goes after the entries
// already due at the same deadline.
func (ks *keyedStates[K, S]) hold(e *keyedEntry[K, S], deadline time.Duration, arrived bool) {
	if arrived {
		ks.arrivals++
		e.seq = ks.arrivals
	}
	if e.index >= 0 && !e.inDue {
		ks.idle.remove(e)
	}
	e.at = deadline
	switch {
	case ks.inOrder:
		if e.index >= 0 {
			ks.unlink(e)
		}
		ks.pushBack(e)
	case e.index >= 0:
		ks.due.fix(e)
	default:
		e.inDue = true
		ks.due.push(e)
	}
}

// removeDue takes e out of the due heap or list.
func (ks *keyedStates[K, S]) removeDue(e *keyedEntry[K, S]) {
	if ks.inOrder {
		ks.unlink(e)
		return
	}
	ks.due.remove(e)
}

// first is the due entry with the earliest deadline, nil for none.
func (ks *keyedStates[K, S]) first() *keyedEntry[K, S] {
	if ks.inOrder {
		return ks.head
	}
	if len(ks.due) == 0 {
		return nil
	}
	return ks.due[0]
}

// eachDue calls fn for every due entry.
func (ks *keyedStates[K, S]) eachDue(fn func(*keyedEntry[K, S])) {
	for e := ks.head; e != nil; e = e.next {
		fn(e)
	}
	for _, e := range ks.due {
		fn(e)
	}
}

func (ks *keyedStates[K, S]) pushBack(e *keyedEntry[K, S]) {
	e.index, e.inDue = 0, true
	e.prev = ks.tail
	if ks.tail != nil {
		ks.tail.next = e
	} else {
		ks.head = e
	}
	ks.tail = e
}

func (ks *keyedStates[K, S]) unlink(e *keyedEntry[K, S]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		ks.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		ks.tail = e.prev
	}
	e.prev, e.next, e.index = nil, nil, -1
}

// rest records that e holds nothing and must be remembered until until, or
// frees it if the clock, reading now, has reached that.
func (ks *keyedStates[K, S]) rest(e *keyedEntry[K, S], until, now time.Duration) {
	if now >= until {
		ks.free(e)
		return
	}
	if e.index >= 0 && e.inDue {
		ks.removeDue(e)
	}
	e.at = until
	if e.index >= 0 {
		ks.idle.fix(e)
		return
	}
	e.inDue = false
	ks.idle.push(e)
}

// free forgets e, whose cell its processor has emptied of items.
func (ks *keyedStates[K, S]) free(e *keyedEntry[K, S]) {
	if e.index >= 0 {
		if e.inDue {
			ks.removeDue(e)
		} else {
			ks.idle.remove(e)
		}
	}
	delete(ks.byKey, e.key)
	var zero K
	e.key = zero // drop what the key references
	ks.spare = e
	if n := len(ks.byKey); ks.peak >= keyedShrinkMin && n <= ks.peak/4 {
		// Go's maps never shrink. Rebuilding one costs its live keys, at
		// most a third of the deletions since it was built.
		m := make(map[K]*keyedEntry[K, S], n)
		for k, v := range ks.byKey {
			m[k] = v
		}
		ks.byKey, ks.peak = m, n
	}
}

// next is the earliest deadline of what the keys hold, 0 when they hold
// nothing: what the processor gives wakeAt.
func (ks *keyedStates[K, S]) next() time.Duration {
	if e := ks.first(); e != nil {
		return e.at
	}
	return 0
}

// popDue takes the entry with the earliest deadline out of the due heap if
// now has reached that deadline, or reports false. The processor puts it
// back with hold or rest, or frees it.
func (ks *keyedStates[K, S]) popDue(now time.Duration) (*keyedEntry[K, S], bool) {
	e := ks.first()
	if e == nil || now < e.at {
		return nil, false
	}
	ks.removeDue(e)
	return e, true
}

// popFirst takes the entry with the earliest deadline out of the due heap,
// for the close, or reports false when there is none.
func (ks *keyedStates[K, S]) popFirst() (*keyedEntry[K, S], bool) {
	e := ks.first()
	if e == nil {
		return nil, false
	}
	ks.removeDue(e)
	return e, true
}

// sweep frees every remembered key whose period has ended by now.
func (ks *keyedStates[K, S]) sweep(now time.Duration) {
	for len(ks.idle) > 0 && now >= ks.idle[0].at {
		ks.free(ks.idle[0])
	}
}

// keyedHeap is a binary min-heap of entries by (at, seq), each knowing its
// index, so that a moved deadline is fixed in place.
type keyedHeap[K comparable, S any] []*keyedEntry[K, S]

func (h keyedHeap[K, S]) less(i, j int) bool {
	a, b := h[i], h[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (h keyedHeap[K, S]) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *keyedHeap[K, S]) push(e *keyedEntry[K, S]) {
	e.index = len(*h)
	*h = append(*h, e)
	h.up(e.index)
}

func (h *keyedHeap[K, S]) remove(e *keyedEntry[K, S]) {
	i, last := e.index, len(*h)-1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	e.index = -1
	if i != last {
		h.fix((*h)[i])
	}
}

func (h keyedHeap[K, S]) fix(e *keyedEntry[K, S]) {
	if !h.down(e.index) {
		h.up(e.index)
	}
}

func (h keyedHeap[K, S]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down moves the entry at i down to its place and reports whether it moved.
func (h keyedHeap[K, S]) down(i int) bool {
	start := i
	for {
		child := 2*i + 1
		if child >= len(h) {
			break
		}
		if right := child + 1; right < len(h) && h.less(right, child) {
			child = right
		}
		if !h.less(child, i) {
			break
		}
		h.swap(i, child)
		i = child
	}
	return i != start
}

// keyOf calls key on v, turning a panic into an error whose text starts
// with head.
func keyOf[T any, K comparable](key func(T) K, v T, head string) (k K, err error) {
	defer recoverUserPanic(head, &err)
	return key(v), nil
}

// keyFailed is the error Result for r, on which a key function panicked
// with err: it keeps r's item and metadata, and is named by the processor.
func keyFailed[T any](r Result[T], err error, name string) Result[T] {
	item := r.value
	if r.err != nil {
		item = r.err.Item
	}
	return Result[T]{metadata: r.metadata, err: NewStreamError(item, err, name)}
}

// keyedLoop is the part of a keyed processor's loop state that all three
// share: the keys, the calling of the key function, and the sending, in
// order, of what deadlines or the close released. A processor embeds it
// and supplies, through its clocked methods, what a key's cell does.
type keyedLoop[T any, K comparable, S any, O any] struct {
	clockLoop
	out  chan<- O
	key  func(T) K
	name string
	// asError turns an error Result, passed on or made for an item that
	// could not be keyed, into an output.
	asError func(Result[T]) O
	keys    keyedStates[K, S]
	// ready holds the outputs released together, in order; ready[sent:]
	// are not sent yet.
	ready []keyedOutput[O]
	sent  int
}

// keyedOutput is an output a deadline or the close released, standing for
// n items, with the reason it goes out for.
type keyedOutput[O any] struct {
	r      O
	reason string
	n      int
}

// entryOf returns the entry of r's key, and whether it is new. When r is
// an error, or the key function panics on it, it returns nil instead,
// having passed r on at once as an error, and ok reports whether that was
// delivered.
func (s *keyedLoop[T, K, S, O]) entryOf(r Result[T]) (e *keyedEntry[K, S], isNew, ok bool) {
	if r.IsError() {
		return nil, false, deliver(&s.clockLoop, s.out, s.asError(r), 1)
	}
	k, err := keyOf(s.key, r.value, "key panicked")
	if err != nil {
		return nil, false, deliver(&s.clockLoop, s.out, s.asError(keyFailed(r, err, s.name)), 1)
	}
	e, isNew = s.keys.get(k)
	return e, isNew, true
}

// release takes e's output when its deadline has come, and puts e back in
// keys with rest or hold, or frees it.
type releaseFunc[K comparable, S any, O any] func(e *keyedEntry[K, S], now time.Duration) keyedOutput[O]

// releaseDue frees the keys whose periods have ended by now, releases
// every output whose deadline now has reached, in order, and sends them.
func (s *keyedLoop[T, K, S, O]) releaseDue(now time.Duration, release releaseFunc[K, S, O]) bool {
	s.keys.sweep(now)
	for e, ok := s.keys.popDue(now); ok; e, ok = s.keys.popDue(now) {
		s.ready = append(s.ready, release(e, now))
	}
	return s.sendReady(now)
}

// releaseAll releases every key's output for the close, in order, freeing
// the keys, and sends them. take empties e's cell.
func (s *keyedLoop[T, K, S, O]) releaseAll(now time.Duration, take func(e *keyedEntry[K, S]) keyedOutput[O]) bool {
	for e, ok := s.keys.popFirst(); ok; e, ok = s.keys.popFirst() {
		out := take(e)
		out.reason = ReasonClose
		s.ready = append(s.ready, out)
		s.keys.free(e)
	}
	return s.sendReady(now)
}

// sendReady sets the timer for the next deadline, then sends what was
// released, decided when the clock read now.
func (s *keyedLoop[T, K, S, O]) sendReady(now time.Duration) bool {
	s.wakeAt(s.keys.next(), now)
	for s.sent < len(s.ready) {
		o := s.ready[s.sent]
		s.ready[s.sent] = keyedOutput[O]{}
		s.sent++
		if !s.emit(o.r, o.reason, o.n, now) {
			return false
		}
	}
	s.ready, s.sent = s.ready[:0], 0
	return true
}

// emit sends r, standing for n items, which went out for reason when the
// clock read now, and reports it.
func (s *keyedLoop[T, K, S, O]) emit(r O, reason string, n int, now time.Duration) bool {
	if !deliver(&s.clockLoop, s.out, r, n) {
		return false
	}
	s.rep.reportSince(EventEmit, reason, n, s.timer.base, now)
	return true
}

// heldBy is what a cancel loses: the items of the released outputs not
// sent yet, and count of each key's cell in the due heap.
func (s *keyedLoop[T, K, S, O]) heldBy(count func(*S) int) int {
	n := 0
	for _, o := range s.ready[s.sent:] {
		n += o.n
	}
	s.keys.eachDue(func(e *keyedEntry[K, S]) { n += count(&e.cell) })
	return n
}

// loseBy settles what heldBy counts as Lost, with lose for a key's cell.
func (s *keyedLoop[T, K, S, O]) loseBy(lose func(*S)) {
	for _, o := range s.ready[s.sent:] {
		settleValue(any(o.r), Lost)
	}
	s.keys.eachDue(func(e *keyedEntry[K, S]) { lose(&e.cell) })
}
