package streamz

import (
	"context"
	"slices"
	"time"
)

// WindowCollector regroups the Results that a window processor emitted one
// by one into one WindowCollection per window.
//
// Results are grouped by window: the same Start, End, type and session key
// (so two sessions with the same bounds but different keys stay apart).
// Results without valid window metadata (see [GetWindowMetadata]) are
// skipped silently, error Results included. Within a collection, Results
// keep their arrival order.
//
// The collector emits only when its input closes: it holds every Result
// until then, so memory grows with the stream. Use it on bounded streams,
// or read a window processor's output directly.
type WindowCollector[T any] struct {
	name string
}

// NewWindowCollector returns a WindowCollector.
func NewWindowCollector[T any]() *WindowCollector[T] {
	return &WindowCollector[T]{name: "window-collector"}
}

// WindowCollection is one window's Results, as a WindowCollector gathers
// them. Start and End repeat Meta's.
type WindowCollection[T any] struct {
	Start   time.Time
	End     time.Time
	Meta    WindowMetadata
	Results []Result[T]
}

// Values returns the values of the successful Results in order, or nil
// when there are none.
func (wc WindowCollection[T]) Values() []T {
	var vs []T
	for _, r := range wc.Results {
		if r.IsSuccess() {
			vs = append(vs, r.value)
		}
	}
	return vs
}

// Errors returns the errors of the failed Results in order, or nil when
// there are none.
func (wc WindowCollection[T]) Errors() []*StreamError[T] {
	var es []*StreamError[T]
	for _, r := range wc.Results {
		if r.IsError() {
			es = append(es, r.err)
		}
	}
	return es
}

// Count returns the number of Results.
func (wc WindowCollection[T]) Count() int { return len(wc.Results) }

// SuccessCount returns the number of successful Results.
func (wc WindowCollection[T]) SuccessCount() int {
	n := 0
	for _, r := range wc.Results {
		if r.IsSuccess() {
			n++
		}
	}
	return n
}

// ErrorCount returns the number of failed Results.
func (wc WindowCollection[T]) ErrorCount() int { return len(wc.Results) - wc.SuccessCount() }

// windowGroupKey identifies one window among a collector's inputs.
type windowGroupKey struct {
	start, end int64 // UnixNano, so that monotonic readings and locations do not split a window
	typ        string
	key        string
	hasKey     bool
}

// Process collects in and returns the output channel, which is unbuffered.
//
// When in is closed, one WindowCollection per window is emitted, in order
// of End, then Start, then first arrival, and then the output is closed.
// Each collection's Meta is the metadata of its first Result. When ctx is
// cancelled, the output is closed promptly without emitting anything, even
// if nobody is reading.
func (c *WindowCollector[T]) Process(ctx context.Context, in <-chan Result[T]) <-chan WindowCollection[T] {
	out := make(chan WindowCollection[T])
	lp := newLoop(ctx, "WindowCollector.Process", nil, in, out)
	settling := settles[T]()
	go func() {
		defer lp.exit()
		defer close(out)

		index := make(map[windowGroupKey]int)
		var groups []WindowCollection[T]
		for {
			r, ok, _, stop := receive(lp, nil, in)
			if stop {
				loseAll(settling, groups)
				return
			}
			if !ok {
				break
			}
			meta, err := GetWindowMetadata(r)
			if err != nil {
				settleResult(settling, r, Discarded)
				continue
			}
			k := windowGroupKey{start: meta.Start.UnixNano(), end: meta.End.UnixNano(), typ: meta.Type}
			if meta.SessionKey != nil {
				k.key, k.hasKey = *meta.SessionKey, true
			}
			i, found := index[k]
			if !found {
				i = len(groups)
				index[k] = i
				groups = append(groups, WindowCollection[T]{Start: meta.Start, End: meta.End, Meta: meta})
			}
			groups[i].Results = append(groups[i].Results, r)
		}
		slices.SortStableFunc(groups, func(a, b WindowCollection[T]) int {
			if c := a.End.Compare(b.End); c != 0 {
				return c
			}
			return a.Start.Compare(b.Start)
		})
		for i, g := range groups {
			if !send(lp, out, g) {
				loseAll(settling, groups[i+1:])
				return
			}
		}
	}()
	return out
}

func (c WindowCollection[T]) holdsSettlers() bool { return settles[T]() }

func (c WindowCollection[T]) eachSettler(fn func(Settler)) {
	for _, r := range c.Results {
		r.eachSettler(fn)
	}
}

// loseAll settles the items of groups as Lost, when settling.
func loseAll[T any](settling bool, groups []WindowCollection[T]) {
	if !settling {
		return
	}
	for _, g := range groups {
		settleValue(g, Lost)
	}
}
