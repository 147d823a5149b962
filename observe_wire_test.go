//go:build go1.25

package streamz

// Tests of what Throttle, Debounce and DeadLetterQueue report to an
// observer: exact event sequences, the close at a deadline, and the
// observer's place on the loop. The model tests with an observer are in
// observe_model_test.go. Every helper here starts with "ow".

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	owDrop     = func(at int) string { return obsEv("drop/cooldown/1", at) }
	owCoalesce = func(at int) string { return obsEv("coalesce//1", at) }
	owTimeout  = func(at int) string { return obsEv("drop/timeout/1", at) }
)

// owSeqCase is one row of a sequence table.
type owSeqCase struct {
	name     string
	noReader bool
	steps    []obsStep
	events   []string
	outputs  []string
}

// owPlayTable plays every row under RealClock in a bubble and under a
// FakeClock.
func owPlayTable(t *testing.T, name string, cases []owSeqCase,
	start func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int],
) {
	for _, c := range cases {
		for _, fake := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fake=%v", c.name, fake), func(t *testing.T) {
				events, outputs := obsPlay(t, name, fake, c.noReader, c.steps, start)
				assert.Equal(t, c.events, events, "events")
				assert.Equal(t, c.outputs, outputs, "outputs")
			})
		}
	}
}

func owStartThrottle(d time.Duration, leading, trailing bool) func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
	return func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewThrottle[int](d, clk).WithLeading(leading).WithTrailing(trailing).WithObserver(fn).Process(ctx, in)
	}
}

func owStartDebounce(d time.Duration, leading, trailing bool, maxWait time.Duration) func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
	return func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
		return NewDebounce[int](d, clk).WithLeading(leading).WithTrailing(trailing).WithMaxWait(maxWait).
			WithObserver(fn).Process(ctx, in)
	}
}

func TestThrottle_ObserverSequences(t *testing.T) {
	ms := obsMs
	t.Run("default", func(t *testing.T) {
		owPlayTable(t, "throttle", []owSeqCase{
			{
				name: "leading and cooldown drops; an item at the cooldown's end passes; errors unreported",
				steps: []obsStep{obsSend(1), obsWait(ms(30)), obsSend(2), obsWait(ms(70)), obsSend(3),
					obsWait(ms(50)), obsSend(4), obsFail(5), obsCloseIn()},
				events:  []string{obsEmit("leading", 1, 0), owDrop(30), obsEmit("leading", 1, 100), owDrop(150), obsClose(150)},
				outputs: []string{"1", "3", "E5"},
			},
			{
				name:    "cancel with nothing in flight",
				steps:   []obsStep{obsSend(1), obsWait(ms(20)), obsCancelCtx()},
				events:  []string{obsEmit("leading", 1, 0), obsCanc(0, 20), obsClose(20)},
				outputs: []string{"1"},
			},
			{
				name:     "cancel while an item waits for a reader: lost, with no emit",
				noReader: true,
				steps:    []obsStep{obsSend(1), obsWait(ms(20)), obsCancelCtx()},
				events:   []string{obsCanc(1, 20), obsClose(20)},
			},
			{
				name:     "an emit is timed when decided, not when the consumer takes it",
				noReader: true,
				steps:    []obsStep{obsSend(1), obsWait(ms(20)), obsRead(), obsCloseIn()},
				events:   []string{obsEmit("leading", 1, 0), obsClose(20)},
				outputs:  []string{"1"},
			},
		}, owStartThrottle(ms(100), true, false))
		owPlayTable(t, "throttle", []owSeqCase{{
			name:    "d=0: every item leads",
			steps:   []obsStep{obsSend(1), obsWait(ms(5)), obsSend(2), obsCloseIn()},
			events:  []string{obsEmit("leading", 1, 0), obsEmit("leading", 1, 5), obsClose(5)},
			outputs: []string{"1", "2"},
		}}, owStartThrottle(0, true, false))
	})
	t.Run("trailing", func(t *testing.T) {
		owPlayTable(t, "throttle", []owSeqCase{
			{
				name: "leading, a held item replaced, trailing at the end, the next cooldown ends empty",
				steps: []obsStep{obsSend(1), obsWait(ms(30)), obsSend(2), obsWait(ms(30)), obsSend(3),
					obsWait(ms(40)), obsWait(ms(150)), obsSend(4), obsCloseIn()},
				events: []string{obsEmit("leading", 1, 0), obsArm(30), owDrop(60), obsFire(100),
					obsEmit("trailing", 1, 100), obsEmit("leading", 1, 250), obsClose(250)},
				outputs: []string{"1", "3", "4"},
			},
			{
				name:    "the held item flushed at close",
				steps:   []obsStep{obsSend(1), obsWait(ms(10)), obsSend(2), obsFail(3), obsWait(ms(10)), obsCloseIn()},
				events:  []string{obsEmit("leading", 1, 0), obsArm(10), obsStop(20), obsEmit("close", 1, 20), obsClose(20)},
				outputs: []string{"1", "E3", "2"},
			},
			{
				name:    "an input at the cooldown's end applies it first",
				steps:   []obsStep{obsSend(1), obsSend(2), obsWait(ms(100)), obsSend(3), obsCloseIn()},
				events:  []string{obsEmit("leading", 1, 0), obsArm(0), obsFire(100), obsEmit("trailing", 1, 100), obsArm(100), obsStop(100), obsEmit("close", 1, 100), obsClose(100)},
				outputs: []string{"1", "2", "3"},
			},
			{
				name:    "cancel with an item held: the timer stops after the cancel",
				steps:   []obsStep{obsSend(1), obsSend(2), obsWait(ms(20)), obsCancelCtx()},
				events:  []string{obsEmit("leading", 1, 0), obsArm(0), obsCanc(1, 20), obsStop(20), obsClose(20)},
				outputs: []string{"1"},
			},
			{
				name:     "cancel while the trailing item waits for a reader",
				noReader: true,
				steps:    []obsStep{obsSend(1), obsRead(), obsSend(2), obsWait(ms(100)), obsWait(ms(20)), obsCancelCtx()},
				events:   []string{obsEmit("leading", 1, 0), obsArm(0), obsFire(100), obsCanc(1, 120), obsClose(120)},
				outputs:  []string{"1"},
			},
			{
				name:     "cancel while an error waits for a reader, with an item held",
				noReader: true,
				steps:    []obsStep{obsSend(1), obsRead(), obsSend(2), obsFail(3), obsWait(ms(20)), obsCancelCtx()},
				events:   []string{obsEmit("leading", 1, 0), obsArm(0), obsCanc(2, 20), obsStop(20), obsClose(20)},
				outputs:  []string{"1"},
			},
		}, owStartThrottle(ms(100), true, true))
	})
	t.Run("audit", func(t *testing.T) {
		owPlayTable(t, "throttle", []owSeqCase{
			{
				name: "the first item is held, the last of the cooldown goes out at its end",
				steps: []obsStep{obsSend(1), obsWait(ms(50)), obsSend(2), obsWait(ms(50)), obsWait(ms(150)),
					obsSend(3), obsCloseIn()},
				events: []string{obsArm(0), owDrop(50), obsFire(100), obsEmit("trailing", 1, 100),
					obsArm(250), obsStop(250), obsEmit("close", 1, 250), obsClose(250)},
				outputs: []string{"2", "3"},
			},
			{
				name:    "cancel with the first item held",
				steps:   []obsStep{obsSend(1), obsWait(ms(30)), obsCancelCtx()},
				events:  []string{obsArm(0), obsCanc(1, 30), obsStop(30), obsClose(30)},
				outputs: nil,
			},
		}, owStartThrottle(ms(100), false, true))
	})
}

func TestDebounce_ObserverSequences(t *testing.T) {
	ms := obsMs
	t.Run("default", func(t *testing.T) {
		owPlayTable(t, "debounce", []owSeqCase{
			{
				name: "coalesce, one arm for a moved deadline, deadline, then a flush at close",
				steps: []obsStep{obsSend(1), obsWait(ms(50)), obsSend(2), obsFail(3), obsWait(ms(100)),
					obsWait(ms(10)), obsSend(4), obsCloseIn()},
				events: []string{obsArm(0), owCoalesce(50), obsFire(150), obsEmit("deadline", 1, 150),
					obsArm(160), obsStop(160), obsEmit("close", 1, 160), obsClose(160)},
				outputs: []string{"E3", "2", "4"},
			},
			{
				name:    "an input at the deadline applies it first",
				steps:   []obsStep{obsSend(1), obsWait(ms(100)), obsSend(2), obsCloseIn()},
				events:  []string{obsArm(0), obsFire(100), obsEmit("deadline", 1, 100), obsArm(100), obsStop(100), obsEmit("close", 1, 100), obsClose(100)},
				outputs: []string{"1", "2"},
			},
			{
				name:    "cancel with an item pending: the timer stops after the cancel",
				steps:   []obsStep{obsSend(1), obsWait(ms(20)), obsCancelCtx()},
				events:  []string{obsArm(0), obsCanc(1, 20), obsStop(20), obsClose(20)},
				outputs: nil,
			},
			{
				name:     "cancel while the due item waits for a reader",
				noReader: true,
				steps:    []obsStep{obsSend(1), obsWait(ms(100)), obsWait(ms(10)), obsCancelCtx()},
				events:   []string{obsArm(0), obsFire(100), obsCanc(1, 110), obsClose(110)},
			},
			{
				name:    "close with nothing pending",
				steps:   []obsStep{obsWait(ms(5)), obsCloseIn()},
				events:  []string{obsClose(5)},
				outputs: nil,
			},
		}, owStartDebounce(ms(100), false, true, 0))
		owPlayTable(t, "debounce", []owSeqCase{{
			name:    "d=0: every item passes, for its (empty) quiet period",
			steps:   []obsStep{obsSend(1), obsWait(ms(5)), obsSend(2), obsCancelCtx()},
			events:  []string{obsEmit("deadline", 1, 0), obsEmit("deadline", 1, 5), obsCanc(0, 5), obsClose(5)},
			outputs: []string{"1", "2"},
		}}, owStartDebounce(0, false, true, 0))
	})
	t.Run("leading", func(t *testing.T) {
		owPlayTable(t, "debounce", []owSeqCase{
			{
				name: "leading, then the burst's last at its deadline, then a new burst",
				steps: []obsStep{obsSend(1), obsWait(ms(40)), obsSend(2), obsWait(ms(20)), obsSend(3),
					obsWait(ms(100)), obsWait(ms(200)), obsSend(4), obsCloseIn()},
				events: []string{obsEmit("leading", 1, 0), obsArm(40), owCoalesce(60), obsFire(160),
					obsEmit("deadline", 1, 160), obsEmit("leading", 1, 360), obsClose(360)},
				outputs: []string{"1", "3", "4"},
			},
			{
				name:    "cancel with an item pending",
				steps:   []obsStep{obsSend(1), obsSend(2), obsWait(ms(30)), obsCancelCtx()},
				events:  []string{obsEmit("leading", 1, 0), obsArm(0), obsCanc(1, 30), obsStop(30), obsClose(30)},
				outputs: []string{"1"},
			},
			{
				name:     "cancel while the leading item waits for a reader",
				noReader: true,
				steps:    []obsStep{obsSend(1), obsWait(ms(30)), obsCancelCtx()},
				events:   []string{obsCanc(1, 30), obsClose(30)},
			},
		}, owStartDebounce(ms(100), true, true, 0))
		owPlayTable(t, "debounce", []owSeqCase{{
			name:    "trailing off: the burst's other items are discarded unreported",
			steps:   []obsStep{obsSend(1), obsWait(ms(10)), obsSend(2), obsCloseIn()},
			events:  []string{obsEmit("leading", 1, 0), obsClose(10)},
			outputs: []string{"1"},
		}}, owStartDebounce(ms(100), true, false, 0))
	})
	t.Run("maxWait", func(t *testing.T) {
		var every60 []obsStep
		for i := range 9 { // items 0, 60, ..., 480
			if i > 0 {
				every60 = append(every60, obsWait(ms(60)))
			}
			every60 = append(every60, obsSend(i*60))
		}
		steps := append(every60, obsWait(ms(80)), obsSend(560), obsWait(ms(100)), obsCloseIn())
		owPlayTable(t, "debounce", []owSeqCase{
			{
				name:  "max-wait twice while items keep coming, then the deadline",
				steps: steps,
				events: []string{obsArm(0), owCoalesce(60), owCoalesce(120), owCoalesce(180), owCoalesce(240),
					obsFire(250), obsEmit("max-wait", 1, 250),
					obsArm(300), owCoalesce(360), owCoalesce(420), owCoalesce(480),
					obsFire(500), obsEmit("max-wait", 1, 500),
					obsArm(560), obsFire(660), obsEmit("deadline", 1, 660), obsClose(660)},
				outputs: []string{"240", "480", "560"},
			},
			{
				name:    "the pending item flushed at close",
				steps:   []obsStep{obsSend(1), obsWait(ms(60)), obsSend(2), obsCloseIn()},
				events:  []string{obsArm(0), owCoalesce(60), obsStop(60), obsEmit("close", 1, 60), obsClose(60)},
				outputs: []string{"2"},
			},
			{
				name:    "cancel with an item pending",
				steps:   []obsStep{obsSend(1), obsWait(ms(60)), obsCancelCtx()},
				events:  []string{obsArm(0), obsCanc(1, 60), obsStop(60), obsClose(60)},
				outputs: nil,
			},
		}, owStartDebounce(ms(100), false, true, ms(250)))
	})
}

// owStartDLQ starts a DeadLetterQueue whose success output is the one the
// table reads; its failure output is never read, so every error is dropped
// after 10 ms.
func owStartDLQ(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
	succ, _ := NewDeadLetterQueue[int](clk).WithName("owdlq").WithObserver(fn).Process(ctx, in)
	return succ
}

func TestDeadLetterQueue_ObserverSequences(t *testing.T) {
	ms := obsMs
	owPlayTable(t, "owdlq", []owSeqCase{
		{
			name:    "delivered items are not reported; an error nobody takes is dropped after 10ms",
			steps:   []obsStep{obsSend(1), obsWait(ms(5)), obsFail(2), obsWait(ms(10)), obsSend(3), obsCloseIn()},
			events:  []string{owTimeout(15), obsClose(15)},
			outputs: []string{"1", "3"},
		},
		{
			name:    "cancel while an item is offered: lost, neither dropped nor emitted",
			steps:   []obsStep{obsFail(1), obsWait(ms(5)), obsCancelCtx()},
			events:  []string{obsCanc(1, 5), obsClose(5)},
			outputs: nil,
		},
		{
			name:    "cancel with nothing offered",
			steps:   []obsStep{obsSend(1), obsWait(ms(5)), obsCancelCtx()},
			events:  []string{obsCanc(0, 5), obsClose(5)},
			outputs: []string{"1"},
		},
		{
			name:     "successes nobody takes are dropped too",
			noReader: true,
			steps:    []obsStep{obsSend(1), obsWait(ms(10)), obsSend(2), obsWait(ms(10)), obsCloseIn()},
			events:   []string{owTimeout(10), owTimeout(20), obsClose(20)},
		},
	}, owStartDLQ)
}

// An input close that arrives at a deadline, before the timer's wake-up,
// applies the deadline first: the held item goes out for its deadline or
// its trailing edge, as it would had the wake-up come first. Each case
// sends 1 at 0 (after 0 when first), 2 at 60, and closes at due.
func TestThrottleDebounce_ObserverCloseAtDeadline(t *testing.T) {
	ms := obsMs
	cases := []struct {
		name  string
		start func(ctx context.Context, clk Clock, fn func(Event), in <-chan Result[int]) <-chan Result[int]
		first bool // send 0 first, which goes out at once
		due   int
		want  []string
	}{
		{"throttle trailing", owStartThrottle(ms(100), true, true), true, 100,
			[]string{obsEmit("leading", 1, 0), obsArm(0), owDrop(60), obsFire(100), obsEmit("trailing", 1, 100), obsClose(100)}},
		{"throttle audit", owStartThrottle(ms(100), false, true), false, 100,
			[]string{obsArm(0), owDrop(60), obsFire(100), obsEmit("trailing", 1, 100), obsClose(100)}},
		{"debounce", owStartDebounce(ms(100), false, true, 0), false, 160,
			[]string{obsArm(0), owCoalesce(60), obsFire(160), obsEmit("deadline", 1, 160), obsClose(160)}},
		{"debounce leading", owStartDebounce(ms(100), true, true, 0), true, 160,
			[]string{obsEmit("leading", 1, 0), obsArm(0), owCoalesce(60), obsFire(160), obsEmit("deadline", 1, 160), obsClose(160)}},
		{"debounce maxWait", owStartDebounce(ms(100), false, true, ms(150)), false, 150,
			[]string{obsArm(0), owCoalesce(60), obsFire(150), obsEmit("max-wait", 1, 150), obsClose(150)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := newTEClock(true)
				clk.gate = make(chan struct{}) // the timer's goroutine waits for it
				t0 := clk.Now()
				rec := &obsRecorder{}
				in := make(chan Result[int])
				got := teDrain(c.start(t.Context(), clk, rec.observe, in))
				if c.first {
					in <- NewSuccess(0)
				}
				in <- NewSuccess(1)
				synctest.Wait()
				clk.Advance(ms(60))
				in <- NewSuccess(2)
				synctest.Wait()
				clk.Advance(ms(c.due - 60))
				close(in)
				synctest.Wait() // the loop has seen the close and waits for the wake-up
				close(clk.gate)
				outs := <-got
				require.Equal(t, "2", outs[len(outs)-1])
				require.Equal(t, c.want, obsFmtAll(rec.all(), t0))
			})
		})
	}
}

// The observer runs on the processor's goroutine, synchronously: while it
// is busy with an event, the processor takes no input.
func TestThrottleDebounceDLQ_ObserverRunsOnTheLoop(t *testing.T) {
	starts := map[string]func(ctx context.Context, fn func(Event), in <-chan Result[int]) <-chan Result[int]{
		"throttle": func(ctx context.Context, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
			return NewThrottle[int](time.Hour, nil).WithObserver(fn).Process(ctx, in)
		},
		"debounce": func(ctx context.Context, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](time.Hour, nil).WithObserver(fn).Process(ctx, in)
		},
		"dlq": func(ctx context.Context, fn func(Event), in <-chan Result[int]) <-chan Result[int] {
			_, fail := NewDeadLetterQueue[int](nil).WithObserver(fn).Process(ctx, in)
			return fail
		},
	}
	for name, start := range starts {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				busy := false
				fn := func(e Event) {
					if (e.Kind == EventDrop || e.Kind == EventCoalesce) && !busy {
						busy = true
						<-release
					}
				}
				in := make(chan Result[int])
				out := start(t.Context(), fn, in)
				done := teDrain(out)
				in <- NewSuccess(1)
				if name == "dlq" {
					time.Sleep(dlqDefaultTimeout) // its success output is not read: a drop
				} else {
					in <- NewSuccess(2) // a drop or a coalesce
				}
				synctest.Wait()
				require.True(t, busy, "no event reported")
				var taken bool
				go func() {
					in <- NewSuccess(3)
					taken = true
				}()
				synctest.Wait()
				require.False(t, taken, "the processor took an input while its observer was busy")
				close(release)
				synctest.Wait()
				require.True(t, taken)
				close(in)
				<-done
			})
		})
	}
}

func TestThrottleDebounceDLQ_WithObserverNil(t *testing.T) {
	th := NewThrottle[int](time.Hour, nil)
	require.Same(t, th, th.WithObserver(nil))
	db := NewDebounce[int](time.Hour, nil)
	require.Same(t, db, db.WithObserver(nil))
	dlq := NewDeadLetterQueue[int](nil)
	require.Same(t, dlq, dlq.WithObserver(nil))
	in := make(chan Result[int], 2)
	in <- NewSuccess(1)
	in <- NewSuccess(2)
	close(in)
	var got []int
	for r := range db.Process(context.Background(), th.Process(context.Background(), in)) {
		got = append(got, r.Value())
	}
	require.Equal(t, []int{1}, got)
}
