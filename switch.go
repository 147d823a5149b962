package streamz

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// SwitchConfig configures a Switch.
type SwitchConfig[K comparable] struct {
	// DefaultKey, when not nil, names the route that takes items whose key
	// has no route. If that route does not exist either, the item is
	// dropped. NewSwitch keeps a copy of the key.
	DefaultKey *K
	// BufferSize is the capacity of the error channel and of every route.
	// Zero means unbuffered; it must not be negative.
	BufferSize int
}

// Switch routes each success item to the route named by the key that its
// predicate returns, and every error to its error channel.
//
// A route is a channel registered with AddRoute. An item whose key has no
// route goes to the default route when SwitchConfig.DefaultKey names one
// that exists, and is otherwise dropped silently; items that arrive before
// their route is added are dropped the same way, so add routes before
// calling Process. Routed items gain the metadata "route" (the key, as K),
// "processor" ("switch") and "timestamp" (time.Time); errors gain the last
// two.
//
// One goroutine routes everything in input order, so a route or error
// channel that nobody reads stops routing to every other once its buffer
// is full. A Switch routes one stream: Process may be called once.
type Switch[T any, K comparable] struct {
	predicate  func(T) K
	routes     map[K]chan Result[T]
	errorChan  chan Result[T]
	defaultKey *K
	name       string
	mu         sync.RWMutex
	bufferSize int

	// The fields below, like routes, are guarded by mu.
	phase switchPhase
	lp    *loop // the routing loop while running, for routes added later
	// retired holds the channels of routes removed while running. Only the
	// routing goroutine sends on a route, so only it may close one; retire
	// tells it there is something to close.
	retired []chan Result[T]
	retire  chan stateEvent
}

type switchPhase uint8

const (
	switchIdle switchPhase = iota
	switchRunning
	switchFinished
)

// NewSwitch returns a Switch that routes by predicate, configured by config.
// It panics if predicate is nil or config.BufferSize is negative. The error
// channel exists from here on: ErrorChannel returns it before Process.
func NewSwitch[T any, K comparable](predicate func(T) K, config SwitchConfig[K]) *Switch[T, K] {
	return newSwitch("NewSwitch", predicate, config)
}

// NewSwitchSimple returns NewSwitch(predicate, SwitchConfig[K]{}): no
// default route, unbuffered channels. It panics if predicate is nil.
func NewSwitchSimple[T any, K comparable](predicate func(T) K) *Switch[T, K] {
	return newSwitch("NewSwitchSimple", predicate, SwitchConfig[K]{})
}

func newSwitch[T any, K comparable](caller string, predicate func(T) K, config SwitchConfig[K]) *Switch[T, K] {
	if predicate == nil {
		panic(fmt.Sprintf("streamz: %s: predicate must not be nil", caller))
	}
	if config.BufferSize < 0 {
		panic(fmt.Sprintf("streamz: %s: SwitchConfig.BufferSize must not be negative, got %d", caller, config.BufferSize))
	}
	s := &Switch[T, K]{
		predicate:  predicate,
		routes:     make(map[K]chan Result[T]),
		errorChan:  make(chan Result[T], config.BufferSize),
		name:       "switch",
		bufferSize: config.BufferSize,
		retire:     make(chan stateEvent, 1),
	}
	if config.DefaultKey != nil {
		key := *config.DefaultKey
		s.defaultKey = &key
	}
	return s
}

// AddRoute registers a route for key and returns its channel, with
// capacity SwitchConfig.BufferSize. It is idempotent: while the route
// exists, every call returns the same channel. Once the Switch has
// finished, a new route's channel is returned already closed. Safe for
// concurrent use.
func (s *Switch[T, K]) AddRoute(key K) <-chan Result[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.routes[key]; ok {
		return ch
	}
	ch := make(chan Result[T], s.bufferSize)
	switch s.phase {
	case switchRunning:
		s.lp.addChan(ch)
	case switchFinished:
		close(ch)
	}
	s.routes[key] = ch
	return ch
}

// RemoveRoute unregisters key's route and reports whether it existed. Its
// channel is closed: at once before Process, and by the routing goroutine
// while it runs, so that a send in flight on the route is abandoned (the
// item is dropped) instead of panicking. After the Switch has finished the
// channel is already closed, and is not closed again. Safe for concurrent
// use.
func (s *Switch[T, K]) RemoveRoute(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.routes[key]
	if !ok {
		return false
	}
	delete(s.routes, key)
	switch s.phase {
	case switchIdle:
		close(ch)
	case switchRunning:
		s.retired = append(s.retired, ch)
		select {
		case s.retire <- stateEvent{}:
		default: // already told
		}
	}
	return true
}

// HasRoute reports whether key has a route. Routes stay registered, with
// closed channels, after the Switch has finished.
func (s *Switch[T, K]) HasRoute(key K) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.routes[key]
	return ok
}

// RouteKeys returns the keys that have a route, in no particular order, as
// a new non-nil slice.
func (s *Switch[T, K]) RouteKeys() []K {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]K, 0, len(s.routes))
	for k := range s.routes {
		keys = append(keys, k)
	}
	return keys
}

// ErrorChannel returns the channel that carries error items and predicate
// panics. It is the same channel before, during and after Process.
func (s *Switch[T, K]) ErrorChannel() <-chan Result[T] {
	return s.errorChan
}

// Process starts routing in and returns the routes registered at the time
// of the call, keyed as registered, and the error channel. It panics if
// called a second time.
//
// An error item goes to the error channel untouched apart from its added
// metadata; the predicate never sees it. A panic in the predicate becomes
// an error on the error channel, from "switch", whose message starts with
// "predicate panic: " followed by the panic value (errors.As reaches the
// value when it is an error), with the item's metadata; routing goes on.
//
// When in is closed or ctx ends, every registered route and the error
// channel are closed; on cancel this happens promptly, even while in is
// idle and open or nobody is reading, and the item in hand is dropped.
// After ctx has ended the predicate is not called again.
func (s *Switch[T, K]) Process(ctx context.Context, in <-chan Result[T]) (routes map[K]<-chan Result[T], errors <-chan Result[T]) {
	s.mu.Lock()
	if s.phase != switchIdle {
		s.mu.Unlock()
		panic("streamz: Switch.Process: called a second time; a Switch routes a single stream")
	}
	s.phase = switchRunning
	routes = make(map[K]<-chan Result[T], len(s.routes))
	chans := make([]any, 0, len(s.routes)+2)
	chans = append(chans, in, s.errorChan)
	for k, ch := range s.routes {
		routes[k] = ch
		chans = append(chans, ch)
	}
	lp := newLoop(ctx, "Switch.Process", nil, chans...)
	s.lp = lp
	s.mu.Unlock()
	go s.run(lp, in, settles[T]())
	return routes, s.errorChan
}

func (s *Switch[T, K]) run(lp *loop, in <-chan Result[T], settling bool) {
	defer lp.exit()
	defer s.finish()
	for {
		r, ok, gotEvent, stop := receive(lp, s.retire, in)
		switch {
		case stop:
			return
		case gotEvent:
			s.closeRetired(nil)
			continue
		case !ok:
			return
		}
		if r.IsError() {
			if !s.deliver(lp, s.errorChan, switchStamp(r, false, nil)) {
				return
			}
			continue
		}
		if endedWith(lp, r) {
			return // the predicate is not called after cancel
		}
		key, err := s.callPredicate(r.value)
		if err != nil {
			failed := Result[T]{err: NewStreamError(r.value, err, s.name), metadata: r.metadata}
			if !s.deliver(lp, s.errorChan, switchStamp(failed, false, nil)) {
				return
			}
			continue
		}
		s.mu.RLock()
		ch, found := s.routes[key]
		if !found && s.defaultKey != nil {
			key = *s.defaultKey
			ch, found = s.routes[key]
		}
		s.mu.RUnlock()
		if !found {
			settleResult(settling, r, Discarded)
			continue
		}
		if !s.deliver(lp, ch, switchStamp(r, true, key)) {
			return
		}
	}
}

// deliver sends r on ch. It reports false only when ctx has ended. If ch's
// route is removed while the send waits, the send is abandoned and r is
// dropped, settled as Discarded. It waits as send in loop.go does, with
// the retire case added, and settles r as Lost when ctx ends first.
func (s *Switch[T, K]) deliver(lp *loop, ch chan Result[T], r Result[T]) bool {
	select {
	case <-lp.done:
		r.Settle(Lost)
		return false
	default:
	}
	select {
	case ch <- r:
		lp.deliveredOne()
		return true
	default:
	}
	for {
		if lp.owed != nil {
			select {
			case ch <- r:
				lp.deliveredOne()
				return true
			case <-lp.done:
				r.Settle(Lost)
				return false
			case <-s.retire:
				lp.took()
				if s.closeRetired(ch) {
					r.Settle(Discarded)
					return true
				}
				continue
			default:
				lp.answer(nil, sendChan[Result[T]](ch))
			}
		}
		select {
		case ch <- r:
			lp.deliveredOne()
			return true
		case <-lp.done:
			r.Settle(Lost)
			return false
		case <-s.retire:
			lp.took()
			if s.closeRetired(ch) {
				r.Settle(Discarded)
				return true
			}
		case reply := <-lp.requests:
			lp.owe(reply)
		}
	}
}

// closeRetired closes the channels of the routes removed since the last
// call, and reports whether cur was one of them. Only the routing goroutine
// calls it.
func (s *Switch[T, K]) closeRetired(cur chan Result[T]) (hit bool) {
	s.mu.Lock()
	retired := s.retired
	s.retired = nil
	s.mu.Unlock()
	for _, ch := range retired {
		hit = hit || ch == cur
		close(ch)
	}
	return hit
}

// finish closes every registered route, every removed one not yet closed,
// and the error channel, and marks the Switch finished, in one step, so
// that AddRoute and RemoveRoute see either a running Switch or a finished
// one with everything closed.
func (s *Switch[T, K]) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase = switchFinished
	s.lp = nil
	for _, ch := range s.retired {
		close(ch)
	}
	s.retired = nil
	for _, ch := range s.routes {
		close(ch)
	}
	close(s.errorChan)
}

// callPredicate calls the predicate, turning a panic into an error whose
// text is "predicate panic: <value>", as the previous Switch wrote it.
func (s *Switch[T, K]) callPredicate(v T) (key K, err error) {
	defer recoverUserPanic("predicate panic", &err)
	return s.predicate(v), nil
}

// switchStamp returns r with the Switch's metadata added in one copy: the
// route when withRoute, then processor and timestamp.
func switchStamp[T any](r Result[T], withRoute bool, route any) Result[T] {
	md := make(map[string]any, len(r.metadata)+3)
	for k, v := range r.metadata {
		md[k] = v
	}
	if withRoute {
		md["route"] = route
	}
	md[MetadataProcessor] = "switch"
	md[MetadataTimestamp] = time.Now()
	r.metadata = md
	return r
}
