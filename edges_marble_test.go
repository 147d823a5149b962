//go:build go1.25

package streamz

// Marble tables for the edge options, written from the documented
// behaviour of RxJS's throttleTime {leading, trailing} and lodash's
// debounce {leading, trailing, maxWait}. Each character is one 10ms frame:
// a letter is an item (a = 1, b = 2, ...), '-' is nothing and '|' closes the
// input. An output marble puts each emitted item at its frame; the output
// closes at the frame of the input's '|'.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const edgeFrame = 10 * time.Millisecond

// edgeMarbleSteps turns an input marble into a schedule.
func edgeMarbleSteps(m string) []teStep {
	var steps []teStep
	for i, c := range m {
		if i > 0 {
			steps = append(steps, teStep{Kind: teWait, W: edgeFrame})
		}
		switch {
		case c >= 'a' && c <= 'z':
			steps = append(steps, teStep{Kind: teSend, V: int(c-'a') + 1})
		case c == '|':
			steps = append(steps, teStep{Kind: teClose})
		}
	}
	return steps
}

// edgeMarbleOuts turns an output marble into what must come out.
func edgeMarbleOuts(m string) []teOut {
	var out []teOut
	for i, c := range m {
		if c >= 'a' && c <= 'z' {
			out = append(out, teItem(time.Duration(i)*edgeFrame, int(c-'a')+1))
		}
	}
	return out
}

func edgeMarbleString(outs []teOut) string {
	var b []byte
	for _, o := range outs {
		f := int(o.At / edgeFrame)
		if o.At%edgeFrame != 0 || len(o.Vals) != 1 || o.Err || f < len(b) {
			return fmt.Sprint(outs) // not drawable
		}
		for len(b) < f {
			b = append(b, '-')
		}
		b = append(b, byte('a'+o.Vals[0]-1))
	}
	return string(b)
}

type edgeMarble struct {
	name    string
	d       time.Duration
	opts    edgeOpts
	in, out string
}

// RxJS throttleTime(50ms, scheduler, {leading, trailing}).
var edgeThrottleMarbles = []edgeMarble{
	{"leading only drops the rest of each cooldown", 5 * edgeFrame, edgeOpts{leading: true},
		"a-b-c----d---e-fg---|",
		"a--------d-----f"},
	{"leading and trailing: each cooldown's last item at its end, which starts the next", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a-b-c----d---e-fg---|",
		"a----c----d----e----g"},
	{"trailing only (audit): the first item starts the window", 5 * edgeFrame, edgeOpts{trailing: true},
		"a-b-c----d---e-fg---|",
		"-----c----d----e----g"},
	{"a lone item comes out once with both edges", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a---------b----|",
		"a---------b"},
	{"a lone item waits for the window's end in audit", 5 * edgeFrame, edgeOpts{trailing: true},
		"a---------b----|",
		"-----a---------b"},
	{"close emits the held item at once", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a-b-|",
		"a---b"},
	{"an item exactly at the window's end is in the next window", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a-b--c-----|",
		"a----b----c"},
}

// lodash _.debounce(f, 50ms, {leading, trailing, maxWait}).
var edgeDebounceMarbles = []edgeMarble{
	{"trailing only (the default)", 5 * edgeFrame, edgeOpts{trailing: true},
		"ab-c------de-f---------|",
		"--------c---------f"},
	{"leading only: the first item of each burst", 5 * edgeFrame, edgeOpts{leading: true},
		"ab-c------de-f---------|",
		"a---------d"},
	{"leading and trailing", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"ab-c------de-f---------|",
		"a-------c-d-------f"},
	{"leading and trailing, a lone item once", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a-------b---|",
		"a-------b"},
	{"a burst goes on while items come less than d apart", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a---b---c--------|",
		"a------------c"},
	{"an item d after the one before starts a new burst", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a----b----c---|",
		"a----b----c"},
	{"maxWait: the issue's example, d 100ms, maxWait 250ms", 10 * edgeFrame, edgeOpts{trailing: true, maxWait: 25 * edgeFrame},
		"a-----b-----c-----d-----e-----f-----g-----h-----i-----------|",
		"-------------------------e------------------------i"},
	{"maxWait with the trailing edge", 5 * edgeFrame, edgeOpts{trailing: true, maxWait: 11 * edgeFrame},
		"a--b--c--d--e--f--g--h--i--j--k---------|",
		"-----------d----------h----------k"},
	{"maxWait with both edges", 5 * edgeFrame, edgeOpts{leading: true, trailing: true, maxWait: 11 * edgeFrame},
		"a--b--c--d--e--f--g--h--i--j--k---------|",
		"a----------d----------h----------k"},
	{"maxWait = d, leading only, is lodash's leading throttle", 5 * edgeFrame, edgeOpts{leading: true, maxWait: 5 * edgeFrame},
		"a-b-c----d---e-fg---|",
		"a--------d-----f"},
	{"maxWait shorter than d is raised to d", 5 * edgeFrame, edgeOpts{trailing: true, maxWait: 2 * edgeFrame},
		"a--b--c--d--e-------|",
		"-----b----d----e"},
	{"close emits the pending item at once", 5 * edgeFrame, edgeOpts{leading: true, trailing: true},
		"a-b-|",
		"a---b"},
}

func edgeCheckMarbles(t *testing.T, marbles []edgeMarble, start func(d time.Duration, o edgeOpts) func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int], model func(d time.Duration, o edgeOpts, steps []teStep) []teOut) {
	for _, mb := range marbles {
		t.Run(mb.name, func(t *testing.T) {
			steps := edgeMarbleSteps(mb.in)
			want := edgeMarbleOuts(mb.out)
			if got := model(mb.d, mb.opts, steps); edgeMarbleString(want) != edgeMarbleString(got) {
				t.Fatalf("the reference model disagrees with the table:\nin:    %s\nwant:  %s\nmodel: %s", mb.in, mb.out, edgeMarbleString(got))
			}
			process := start(mb.d, mb.opts)
			for _, mode := range teClockModes {
				got := teRun(t, mode, steps, process, teObserveItem)
				if g := edgeMarbleString(got); g != mb.out {
					t.Errorf("under %s:\nin:   %s\nwant: %s\ngot:  %s", mode, mb.in, mb.out, g)
				}
			}
			c := teModelCase[int]{process: process, observe: teObserveItem}
			if g := edgeMarbleString(edgeRunPlain(t, steps, c)); g != mb.out {
				t.Errorf("in the plain style:\nin:   %s\nwant: %s\ngot:  %s", mb.in, mb.out, g)
			}
		})
	}
}

func TestThrottleEdges_Marbles(t *testing.T) {
	edgeCheckMarbles(t, edgeThrottleMarbles, func(d time.Duration, o edgeOpts) func(context.Context, Clock, <-chan Result[int]) <-chan Result[int] {
		return func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return edgeThrottle(d, o, clk).Process(ctx, in)
		}
	}, edgeModelThrottle)
}

func TestDebounceEdges_Marbles(t *testing.T) {
	edgeCheckMarbles(t, edgeDebounceMarbles, func(d time.Duration, o edgeOpts) func(context.Context, Clock, <-chan Result[int]) <-chan Result[int] {
		return func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return edgeDebounce(d, o, clk).Process(ctx, in)
		}
	}, edgeModelDebounce)
}

// The timelines of the README's edge options table and of the doc
// comments, item values being arrival times in ms.
func TestEdgeReadmeTimelines(t *testing.T) {
	const ms = time.Millisecond
	steps := func(ats ...int) []teStep {
		var s []teStep
		now := 0
		for _, at := range ats {
			s = append(s, teStep{Kind: teWait, W: time.Duration(at-now) * ms}, teStep{Kind: teSend, V: at})
			now = at
		}
		return append(s, teStep{Kind: teWait, W: 10 * time.Second}, teStep{Kind: teClose})
	}
	outs := func(pairs ...int) []teOut {
		var o []teOut
		for i := 0; i < len(pairs); i += 2 {
			o = append(o, teItem(time.Duration(pairs[i+1])*ms, pairs[i]))
		}
		return o
	}
	throttle := func(o edgeOpts) func(context.Context, Clock, <-chan Result[int]) <-chan Result[int] {
		return func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return edgeThrottle(time.Second, o, clk).Process(ctx, in)
		}
	}
	debounce := func(o edgeOpts) func(context.Context, Clock, <-chan Result[int]) <-chan Result[int] {
		return func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return edgeDebounce(100*ms, o, clk).Process(ctx, in)
		}
	}
	every60 := steps(0, 60, 120, 180, 240, 300, 360, 420, 480)
	for _, c := range []struct {
		name    string
		process func(context.Context, Clock, <-chan Result[int]) <-chan Result[int]
		in      []teStep
		want    []teOut
	}{
		{"Throttle leading", throttle(edgeOpts{leading: true}), steps(0, 300, 600, 2500), outs(0, 0, 2500, 2500)},
		{"Throttle leading and trailing", throttle(edgeOpts{leading: true, trailing: true}), steps(0, 300, 600, 2500), outs(0, 0, 600, 1000, 2500, 2500)},
		{"Throttle audit", throttle(edgeOpts{trailing: true}), steps(0, 300, 600, 2500), outs(600, 1000, 2500, 3500)},
		{"Debounce leading and trailing", debounce(edgeOpts{leading: true, trailing: true}), steps(0, 40, 80, 300), outs(0, 0, 80, 180, 300, 300)},
		{"Debounce leading only", debounce(edgeOpts{leading: true}), steps(0, 40, 80, 300), outs(0, 0, 300, 300)},
		{"Debounce maxWait", debounce(edgeOpts{trailing: true, maxWait: 250 * ms}), every60, outs(240, 250, 480, 500)},
		{"Debounce doc: leading and trailing, d = 1s", func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewDebounce[int](time.Second, clk).WithLeading(true).Process(ctx, in)
		}, steps(0, 400, 3000), outs(0, 0, 400, 1400, 3000, 3000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, teRun(t, teReal, c.in, c.process, teObserveItem))
		})
	}
}
