package streamz

import (
	"context"
	"time"
)

// Clock is the source of time for every processor in this package.
//
// Production code uses [RealClock]. Tests inject a [FakeClock], or use
// RealClock inside a testing/synctest bubble, so that time moves only when
// the test says so.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the current time once d has
	// passed, as time.After does.
	After(d time.Duration) <-chan time.Time
	// AfterFunc calls f in its own goroutine once d has passed, as
	// time.AfterFunc does. The returned Timer's C method returns nil.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTimer returns a Timer that sends the current time on its channel
	// once d has passed, as time.NewTimer does.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a Ticker that sends the time every d. It panics if
	// d <= 0, as time.NewTicker does.
	NewTicker(d time.Duration) Ticker
	// Sleep blocks until d has passed. It returns at once if d <= 0.
	Sleep(d time.Duration)
	// Since returns the time elapsed since t: Now().Sub(t).
	Since(t time.Time) time.Duration
	// WithTimeout returns WithDeadline(ctx, Now().Add(d)).
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
	// WithDeadline returns a copy of ctx that is cancelled, with Err
	// reporting context.DeadlineExceeded, once this clock reaches deadline.
	// An earlier deadline or cancellation of ctx wins, as with
	// context.WithDeadline.
	WithDeadline(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc)
}

// Timer is a single event in the future, as *time.Timer is.
//
// Timers follow the Go 1.23 channel semantics: once Stop or Reset has
// returned, no value from before the call is received from C. So the old
// pattern
//
//	if !t.Stop() {
//		<-t.C()
//	}
//
// must not be used: when Stop reports false there is nothing to drain, and
// the receive blocks forever.
type Timer interface {
	// Stop prevents the timer from firing. It returns true if the call
	// stopped the timer, and false if the timer had already fired and its
	// value had been received (or, for AfterFunc, its function had started),
	// or if it had already been stopped.
	Stop() bool
	// Reset re-arms the timer to fire after d, whether it is armed, fired or
	// stopped. It returns true if the timer was armed before the call, with
	// the same meaning as Stop's result.
	Reset(d time.Duration) bool
	// C returns the channel on which the timer delivers its time, or nil
	// for a timer made by AfterFunc.
	C() <-chan time.Time
}

// Ticker delivers the time at regular intervals, as *time.Ticker does. A
// receiver that falls behind finds at most one tick waiting; the others are
// dropped.
type Ticker interface {
	// Stop turns the ticker off. No tick is received after Stop returns.
	Stop()
	// C returns the channel on which the ticks are delivered.
	C() <-chan time.Time
}

// RealClock is the Clock backed by the time package.
//
// Its timers and tickers hand out the runtime's own channels, with no relay
// goroutine or extra buffer in between, so the Go 1.23 timer guarantees
// described on [Timer] hold for callers as they do for the time package.
// Inside a testing/synctest bubble it reads the bubble's fake time.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (realClock) Sleep(d time.Duration)                  { time.Sleep(d) }
func (realClock) Since(t time.Time) time.Duration        { return time.Since(t) }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}

func (realClock) NewTicker(d time.Duration) Ticker {
	return realTicker{time.NewTicker(d)}
}

func (realClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

func (realClock) WithDeadline(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, deadline)
}

type realTimer struct{ t *time.Timer }

func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
func (r realTimer) C() <-chan time.Time        { return r.t.C }

type realTicker struct{ t *time.Ticker }

func (r realTicker) Stop()               { r.t.Stop() }
func (r realTicker) C() <-chan time.Time { return r.t.C }
