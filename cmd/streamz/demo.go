package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/zoobzio/streamz"
)

// The demo's script. Every time is an offset from the start of the demo, and
// no output is due at the same instant as an input, so the timeline reads
// the same on every run (and exactly the same inside a synctest bubble).
const (
	keysQuiet     = 300 * time.Millisecond
	clickCooldown = 500 * time.Millisecond
	logBatchSize  = 3
	logLatency    = 500 * time.Millisecond
)

type scripted struct {
	at   time.Duration
	item string
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

var (
	// Someone types "hello", pauses, types " world" and closes the box.
	keystrokes = []scripted{
		{ms(0), "h"}, {ms(75), "he"}, {ms(150), "hel"}, {ms(225), "hell"}, {ms(300), "hello"},
		{ms(700), "hello w"}, {ms(775), "hello wo"}, {ms(850), "hello wor"}, {ms(925), "hello worl"},
		{ms(1000), "hello world"},
	}
	keysEnd = ms(1100)

	// Someone hammers a Save button.
	clicks = []time.Duration{ms(1300), ms(1350), ms(1400), ms(1450), ms(1900), ms(1950)}

	// A service logs quickly for a moment, then slows down.
	logLines = []scripted{
		{ms(2200), "GET /index.html 200"},
		{ms(2300), "GET /style.css 200"},
		{ms(2400), "GET /app.js 200"},
		{ms(2500), "POST /api/save 201"},
		{ms(2750), "GET /api/items 200"},
		{ms(3100), "GET /favicon.ico 404"},
	}
	logsEnd = ms(3200)
)

// demo plays the script through Debounce, Throttle and Batcher, timed by
// clock, and writes the timeline to w. It stops early, without error, when
// ctx ends, and at the first error from w, which it returns. The reasons
// the timeline gives are the processors' own, from their events; observe,
// if not nil, is told every event too (-v).
func demo(ctx context.Context, clock streamz.Clock, w io.Writer, observe func(streamz.Event)) error {
	tl := &timeline{clock: clock, start: clock.Now(), w: w, observe: observe}
	tl.say("streamz demo: scripted input on the real clock. Each line shows the time\n" +
		"since the start, who acted, and what happened.\n\n")

	sections := []struct {
		intro string
		play  func(context.Context, *timeline)
	}{
		{fmt.Sprintf("Debounce %v: keystrokes in a search box. The search runs only when\n"+
			"typing pauses, not once per key.\n", keysQuiet), demoDebounce},
		{fmt.Sprintf("\nThrottle %v: clicks on a Save button. The first click saves; repeats\n"+
			"during the cooldown are ignored.\n", clickCooldown), demoThrottle},
		{fmt.Sprintf("\nBatch of up to %d lines or %v: log lines shipped in groups, full or not.\n",
			logBatchSize, logLatency), demoBatch},
	}
	for _, sec := range sections {
		if !tl.going(ctx) {
			break
		}
		tl.say(sec.intro)
		sec.play(ctx, tl)
	}
	return tl.err
}

func demoDebounce(ctx context.Context, tl *timeline) {
	in := make(chan streamz.Result[string])
	emits := make(chan streamz.Event, len(keystrokes)) // at most one per keystroke
	out := streamz.NewDebounce[string](keysQuiet, tl.clock).WithObserver(tl.observer(emits, streamz.EventEmit)).Process(ctx, in)
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for r := range out {
			// The emit event follows the send at once.
			why := (<-emits).Reason
			switch why {
			case streamz.ReasonDeadline:
				why += fmt.Sprintf(": %v of quiet", keysQuiet)
			case streamz.ReasonClose:
				why += ": end of input"
			}
			tl.event("debounce", "emitted %q (%s)", r.Value(), why)
		}
	}()
	defer func() { <-printed }()
	defer close(in)

	typed := ""
	for _, k := range keystrokes {
		if !tl.waitUntil(ctx, k.at) {
			return
		}
		tl.event("keys", "typed %q, the box holds %q", k.item[len(typed):], k.item)
		typed = k.item
		if !sendCtx(ctx, in, streamz.NewSuccess(k.item)) {
			return
		}
	}
	if tl.waitUntil(ctx, keysEnd) {
		tl.event("keys", "closed the search box: end of input")
	}
}

func demoThrottle(ctx context.Context, tl *timeline) {
	in := make(chan streamz.Result[int])
	// Each click ends in exactly one of these: the throttle says whether it
	// passed or was dropped, and why.
	fates := make(chan streamz.Event, len(clicks))
	out := streamz.NewThrottle[int](clickCooldown, tl.clock).
		WithObserver(tl.observer(fates, streamz.EventEmit, streamz.EventDrop)).Process(ctx, in)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range out {
		}
	}()
	defer func() { <-drained }()
	defer close(in)

	passed := 0
	for i, at := range clicks {
		n := i + 1
		if !tl.waitUntil(ctx, at) {
			return
		}
		tl.event("clicks", "click %d", n)
		if !sendCtx(ctx, in, streamz.NewSuccess(n)) {
			return
		}
		select {
		case e := <-fates:
			if e.Kind == streamz.EventEmit {
				passed = n
				tl.event("throttle", "passed click %d (%s); cooldown until %s",
					n, e.Reason, offset(e.At.Sub(tl.start)+clickCooldown))
			} else {
				tl.event("throttle", "dropped click %d (%s: within %v of click %d)", n, e.Reason, clickCooldown, passed)
			}
		case <-ctx.Done():
			return
		}
	}
}

func demoBatch(ctx context.Context, tl *timeline) {
	in := make(chan streamz.Result[string])
	emits := make(chan streamz.Event, len(logLines)) // at most one per line
	out := streamz.NewBatcher[string](streamz.BatchConfig{MaxSize: logBatchSize, MaxLatency: logLatency}, tl.clock).
		WithObserver(tl.observer(emits, streamz.EventEmit)).Process(ctx, in)
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		emitted := 0
		for r := range out {
			batch := r.Value()
			why := (<-emits).Reason
			switch why {
			case streamz.ReasonSize:
				why += fmt.Sprintf(": %d lines", logBatchSize)
			case streamz.ReasonLatency:
				why += fmt.Sprintf(": %v after line %d", logLatency, emitted+1)
			case streamz.ReasonClose:
				why += ": end of input"
			}
			first, last := emitted+1, emitted+len(batch)
			emitted = last
			if first == last {
				tl.event("batch", "emitted line %d (%s)", first, why)
			} else {
				tl.event("batch", "emitted lines %d-%d (%s)", first, last, why)
			}
		}
	}()
	defer func() { <-printed }()
	defer close(in)

	for i, l := range logLines {
		if !tl.waitUntil(ctx, l.at) {
			return
		}
		tl.event("logs", "line %d: %s", i+1, l.item)
		if !sendCtx(ctx, in, streamz.NewSuccess(l.item)) {
			return
		}
	}
	if tl.waitUntil(ctx, logsEnd) {
		tl.event("logs", "end of input")
	}
}

// timeline writes the demo's lines, from more than one goroutine, and keeps
// the first write error.
type timeline struct {
	clock   streamz.Clock
	start   time.Time
	observe func(streamz.Event) // -v's observer, or nil

	mu  sync.Mutex
	w   io.Writer
	err error
}

func (tl *timeline) since() time.Duration { return tl.clock.Since(tl.start) }

// observer returns the observer of a processor being shown: it passes its
// events of the given kinds on to c, and every event to -v's observer. c
// must have room for every event passed on, so that the processor never
// waits for the timeline.
func (tl *timeline) observer(c chan<- streamz.Event, kinds ...streamz.EventKind) func(streamz.Event) {
	return func(e streamz.Event) {
		if tl.observe != nil {
			tl.observe(e)
		}
		for _, k := range kinds {
			if e.Kind == k {
				c <- e
			}
		}
	}
}

// event writes one timeline line: offset, actor, what happened.
func (tl *timeline) event(who, format string, args ...any) {
	tl.say(fmt.Sprintf("%s %-9s %s\n", offset(tl.since()), who, fmt.Sprintf(format, args...)))
}

func (tl *timeline) say(s string) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.err == nil {
		_, tl.err = io.WriteString(tl.w, s)
	}
}

// going reports whether the demo should go on: ctx has not ended and the
// timeline can still be written.
func (tl *timeline) going(ctx context.Context) bool {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.err == nil && ctx.Err() == nil
}

// waitUntil sleeps until the offset at, and reports whether the demo should
// go on. Waiting for offsets rather than gaps keeps delays from adding up.
func (tl *timeline) waitUntil(ctx context.Context, at time.Duration) bool {
	if !tl.going(ctx) {
		return false
	}
	if d := at - tl.since(); d > 0 {
		select {
		case <-tl.clock.After(d):
		case <-ctx.Done():
		}
	}
	return tl.going(ctx)
}

// offset formats d as "+1.234s".
func offset(d time.Duration) string {
	return fmt.Sprintf("+%.3fs", d.Round(time.Millisecond).Seconds())
}

func sendCtx[T any](ctx context.Context, c chan<- T, v T) bool {
	select {
	case c <- v:
		return true
	case <-ctx.Done():
		return false
	}
}
