package streamz

import "fmt"

// This file holds how a processor turns a panic in user code into an error
// Result: the one mechanism that Mapper, AsyncMapper, Filter, Tap, Switch,
// Partition, SessionWindow, WindowFold, Stage (and so FlatMap), the
// sources, the keyed processors, Retry and CircuitBreaker share. A user
// function (a Mapper's, Retry's or CircuitBreaker's fn, a Filter's
// predicate, a Tap's callback, a Switch's predicate, a Partition's strategy
// or key extractor, a SessionWindow's keyFunc, a StageFunc, a keyed
// processor's key) that panics on an item fails that item only: the item
// becomes an error Result named by the processor, and the stream goes on.
// A Retry does not call fn again for it, and a CircuitBreaker counts it as
// a failure. A WindowFold's initial or fn that panics fails the window it was
// folding, which goes out as an error Result when it ends. A source's seq
// or Reader that panics ends its stream with such an error Result instead,
// since it cannot be resumed.

// userPanicError is the cause of the error Result a processor emits for an
// item on which a user function panicked. Its text is "<head>: <value>",
// where head says what panicked in the processor's own words, which are
// part of its contract: "fn panicked" (Mapper, AsyncMapper, Stage,
// FlatMap, Retry, CircuitBreaker), "predicate panicked" (Filter), "callback panicked" (Tap),
// "predicate panic" (Switch), "partition strategy panic" (Partition),
// "keyFunc panicked" (SessionWindow), "initial panicked" and "fn
// panicked" (WindowFold), "seq panicked" (FromSeq), "Read panicked"
// (FromLines) and "key panicked" (KeyedDebounce, KeyedThrottle,
// KeyedBatcher). The processor is named by the StreamError that carries it.
// Unwrap returns the panic value when that is an error, so errors.Is and
// errors.As reach it.
type userPanicError struct {
	head  string // what panicked, in the processor's words
	value any    // what recover returned
}

func (e *userPanicError) Error() string {
	return fmt.Sprintf("%s: %v", e.head, e.value)
}

func (e *userPanicError) Unwrap() error {
	err, _ := e.value.(error)
	return err
}

// recoverUserPanic, deferred directly in a function that calls user code,
// turns a panic of that code into a *userPanicError with the given head,
// stored in *err, so that the function returns normally. It must be the
// deferred call itself: recover works only there. It costs a few
// nanoseconds per call when nothing panics.
func recoverUserPanic(head string, err *error) {
	if v := recover(); v != nil {
		*err = &userPanicError{head: head, value: v}
	}
}
