package streamz

import (
	"fmt"
	"reflect"
	"sync/atomic"
)

// This file holds the items that must be settled: the package doc's
// "Items that must be settled" says what each processor does with them.

// Outcome is what became of one copy of an item that must be settled.
// Outcomes are ordered by how much they ask of the source, and a
// [Settlement] reports the greatest of its copies' outcomes.
type Outcome uint8

const (
	// Acked means the sink has finished with the item.
	Acked Outcome = iota + 1
	// Discarded means a processor dropped the item on purpose: the
	// pipeline is done with it, as if the sink had acked it.
	Discarded
	// Rejected means the item can never be processed, and must not be
	// delivered again (JetStream's Term).
	Rejected
	// Lost means the item was dropped unprocessed, by a cancel or a
	// timeout: the source must deliver it again.
	Lost
)

// String returns the Outcome's name: "acked", "discarded", "rejected" or
// "lost".
func (o Outcome) String() string {
	switch o {
	case Acked:
		return "acked"
	case Discarded:
		return "discarded"
	case Rejected:
		return "rejected"
	case Lost:
		return "lost"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Settler is implemented by an item type whose values carry an
// acknowledgement back to their source. Copies of a value (a Go copy of a
// struct) share the acknowledgement; Copied says how many holders there
// are. See the package docs for which processor calls what.
type Settler interface {
	// Settle records the outcome of one holder's copy. Each holder
	// settles its copy once.
	Settle(Outcome)
	// Copied records that the item now has n more holders, each of which
	// will settle its own copy.
	Copied(n int)
}

// Settlement is the shared state of one item that must be settled, for
// the writer of a durable source: a value type implements Settler by
// holding a *Settlement and calling its methods. It counts the holders,
// starting at one, and calls final exactly once, when the last holder has
// settled, with the greatest outcome any holder reported. Its methods are
// safe for concurrent use.
type Settlement struct {
	// holders is the count of copies not yet settled; 0 once final has
	// been called.
	holders atomic.Int64
	worst   atomic.Uint32
	final   func(Outcome)
}

// NewSettlement returns a Settlement with one holder, which calls final
// when every holder has settled. It panics if final is nil.
func NewSettlement(final func(Outcome)) *Settlement {
	if final == nil {
		panic("streamz: NewSettlement: final must not be nil")
	}
	s := &Settlement{final: final}
	s.holders.Store(1)
	return s
}

// Settle records one holder's outcome, and calls final if it was the last
// holder. A Settle after final has been called is ignored. It panics if o
// is not one of the Outcome constants.
func (s *Settlement) Settle(o Outcome) {
	if o < Acked || o > Lost {
		panic(fmt.Sprintf("streamz: Settlement.Settle: unknown Outcome %d", uint8(o)))
	}
	s.raise(o)
	for {
		h := s.holders.Load()
		if h <= 0 {
			return
		}
		if s.holders.CompareAndSwap(h, h-1) {
			if h == 1 {
				s.final(Outcome(s.worst.Load()))
			}
			return
		}
	}
}

// Copied adds n holders. It is ignored once final has been called, and
// panics if n is negative.
func (s *Settlement) Copied(n int) {
	if n < 0 {
		panic(fmt.Sprintf("streamz: Settlement.Copied: n must not be negative, got %d", n))
	}
	for {
		h := s.holders.Load()
		if h <= 0 || s.holders.CompareAndSwap(h, h+int64(n)) {
			return
		}
	}
}

// Close settles the item now, whatever its holders have yet to report: it
// calls final with the greater of o and the outcomes already reported, and
// reports true, unless final has already been called, in which case it
// does nothing and reports false. Later Settles are ignored. A source
// uses it at a close deadline, to nak what the pipeline still holds.
func (s *Settlement) Close(o Outcome) bool {
	if o < Acked || o > Lost {
		panic(fmt.Sprintf("streamz: Settlement.Close: unknown Outcome %d", uint8(o)))
	}
	s.raise(o)
	for {
		h := s.holders.Load()
		if h <= 0 {
			return false
		}
		if s.holders.CompareAndSwap(h, 0) {
			s.final(Outcome(s.worst.Load()))
			return true
		}
	}
}

// Settled reports whether final has been called.
func (s *Settlement) Settled() bool { return s.holders.Load() <= 0 }

// raise makes worst at least o.
func (s *Settlement) raise(o Outcome) {
	for {
		w := s.worst.Load()
		if uint32(o) <= w || s.worst.CompareAndSwap(w, uint32(o)) {
			return
		}
	}
}

// settlerType is the reflect.Type of Settler.
var settlerType = reflect.TypeFor[Settler]()

// settles reports whether values of type T may hold items that must be
// settled, so that a processor checks its item type once per Process call
// and never looks at an item of another type.
func settles[T any]() bool { return mayHoldSettlers(reflect.TypeFor[T](), 0) }

// mayHoldSettlers reports whether a value of type t may be or hold a
// Settler: t implements it, is an interface type, or is a slice, array,
// pointer or holder (Result, a window's collection) of such a type.
func mayHoldSettlers(t reflect.Type, depth int) bool {
	if depth > 8 {
		return false
	}
	switch {
	case t.Implements(settlerType), t.Kind() == reflect.Interface:
		return true
	case t.Implements(settleHolderType):
		return reflect.Zero(t).Interface().(settleHolder).holdsSettlers()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return mayHoldSettlers(t.Elem(), depth+1)
	}
	return false
}

// settleHolder is implemented by the types that carry items inside them:
// Result, and what the windows and keyed batchers emit.
type settleHolder interface {
	// holdsSettlers reports, for the zero value, whether the type's items
	// may be Settlers.
	holdsSettlers() bool
	// eachSettler calls fn with every Settler held.
	eachSettler(fn func(Settler))
}

var settleHolderType = reflect.TypeFor[settleHolder]()

// eachSettler calls fn with every Settler that v is or holds. It is for
// the paths where a processor drops or copies something, which look at
// one value; a processor calls it only when settles said its type may
// hold Settlers, except on cancel, which happens once.
func eachSettler(v any, fn func(Settler)) {
	switch x := v.(type) {
	case nil:
	case Settler:
		fn(x)
	case settleHolder:
		x.eachSettler(fn)
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			if !mayHoldSettlers(rv.Type().Elem(), 0) {
				return
			}
			for i := range rv.Len() {
				eachSettler(rv.Index(i).Interface(), fn)
			}
		case reflect.Pointer:
			if !rv.IsNil() {
				eachSettler(rv.Elem().Interface(), fn)
			}
		}
	}
}

// settleValue settles with o every item that v is or holds.
func settleValue(v any, o Outcome) { eachSettler(v, func(s Settler) { s.Settle(o) }) }

func (r Result[T]) holdsSettlers() bool { return settles[T]() }

// eachSettler calls fn with r's item: its value, or the items its error
// holds.
func (r Result[T]) eachSettler(fn func(Settler)) {
	if r.err != nil {
		r.err.eachSettler(fn)
		return
	}
	eachSettler(any(r.value), fn)
}

// eachSettler calls fn with e's Item, and with the items of the
// StreamError it wraps, if any: a Mapper that passes an error item on
// retypes it, wrapping the StreamError of the input type.
func (e *StreamError[T]) eachSettler(fn func(Settler)) {
	eachSettler(any(e.Item), fn)
	if inner, ok := e.Err.(interface{ eachSettler(func(Settler)) }); ok {
		inner.eachSettler(fn)
	}
}

// Settle settles every item r holds with o: its value, or its error's
// Item and the items of the StreamError that error wraps (a Mapper, Retry
// or CircuitBreaker wraps the input's error item so). A sink uses it to
// settle an error Result whose item type is not the Settler itself. It
// does nothing for items that are not Settlers (see Settler).
func (r Result[T]) Settle(o Outcome) { settleValue(r, o) }

// settleResult settles r's item with o when settling, the value of settles
// for the processor's item type, is true.
func settleResult[T any](settling bool, r Result[T], o Outcome) {
	if settling {
		r.Settle(o)
	}
}

// copyItems gives r's item n holders where it had one, for a processor
// that passes it on n times: Copied(n-1), or Discarded when n is 0.
func copyItems[T any](r Result[T], n int) {
	if n == 0 {
		r.Settle(Discarded)
		return
	}
	r.eachSettler(func(s Settler) { s.Copied(n - 1) })
}
