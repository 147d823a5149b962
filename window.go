package streamz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// This file holds what the three window processors share: the window
// types, the metadata they write on every Result and the helpers that read
// it back, what a window holds and how it goes out in each of the three
// forms (Process, Collect, WindowFold), and the start of a Process call's
// loop. The grids and sessions are in window_tumbling.go,
// window_sliding.go and window_session.go, the fold in window_fold.go, and
// the collector that regroups per-item output in window_collector.go.
//
// Every window processor runs on runClocked (timer_events.go), so the
// time-first rule holds: on each input the loop reads the clock, emits
// every window whose end the clock has reached, and only then places the
// item. The one timer of a Process call is armed for the earliest pending
// end; it only wakes the loop when no input comes. The loops keep the
// grid or the sessions and nothing else: what a window holds, and what
// its end sends, is its windowHolder's, so the three forms share every
// rule of when a window opens, what joins it and when it goes out.

// WindowConfig describes a window by its size, slide and item limit. It is
// kept so that code written against the previous streamz compiles; nothing
// in this package reads it. Configure windows with the constructors and
// their With methods instead.
type WindowConfig struct {
	// Size is the length of each window.
	Size time.Duration
	// Slide is the step between window starts; zero was meant as "equal to
	// Size".
	Slide time.Duration
	// MaxCount was meant as a limit on items per window; it is not
	// implemented.
	MaxCount int
}

// WindowType names the kind of window a Result was emitted by.
type WindowType string

// The window types, as written under MetadataWindowType.
const (
	WindowTypeTumbling WindowType = "tumbling"
	WindowTypeSliding  WindowType = "sliding"
	WindowTypeSession  WindowType = "session"
)

// WindowMetadata describes the window a Result belongs to, as the window
// processors write it into the Result's metadata. Slide is set for sliding
// windows only, Gap and SessionKey for sessions only. Type is a plain
// string, as stored; [WindowInfo] is the validated form.
type WindowMetadata struct {
	Size       time.Duration
	Slide      *time.Duration
	Gap        *time.Duration
	SessionKey *string
	Start      time.Time
	End        time.Time
	Type       string
}

// WindowInfo is [WindowMetadata] with Type checked to be one of the three
// window types.
type WindowInfo struct {
	Size       time.Duration
	Slide      *time.Duration
	Gap        *time.Duration
	SessionKey *string
	Start      time.Time
	End        time.Time
	Type       WindowType
}

// windowBoxes holds the metadata values of one window already converted to
// interface values, so that decorating each of the window's items costs
// the map and nothing else. A nil optional box means the key is absent.
type windowBoxes struct {
	start, end, typ, size any
	slide, gap, key       any
}

func boxWindowMetadata(meta WindowMetadata) windowBoxes {
	b := windowBoxes{start: meta.Start, end: meta.End, typ: meta.Type, size: meta.Size}
	if meta.Slide != nil {
		b.slide = *meta.Slide
	}
	if meta.Gap != nil {
		b.gap = *meta.Gap
	}
	if meta.SessionKey != nil {
		b.key = *meta.SessionKey
	}
	return b
}

// decorate returns r with the window's keys written in one fresh map: the
// original entries, the four keys every window writes, and the optional
// keys that are set; optional keys that are not set are left out, so the
// Result describes exactly this window.
func (b *windowBoxes) decorate(md map[string]any) map[string]any {
	out := make(map[string]any, len(md)+7)
	for k, v := range md {
		out[k] = v
	}
	out[MetadataWindowStart] = b.start
	out[MetadataWindowEnd] = b.end
	out[MetadataWindowType] = b.typ
	out[MetadataWindowSize] = b.size
	setOrDelete(out, MetadataWindowSlide, b.slide)
	setOrDelete(out, MetadataWindowGap, b.gap)
	setOrDelete(out, MetadataSessionKey, b.key)
	return out
}

func setOrDelete(md map[string]any, key string, v any) {
	if v == nil {
		delete(md, key)
		return
	}
	md[key] = v
}

// AddWindowMetadata returns a copy of result whose metadata holds meta:
// window_start, window_end, window_type (as a string) and window_size
// always, window_slide, window_gap and session_key when the field is set.
// An optional key whose field is nil is removed, so the copy describes
// exactly meta even when result came out of another window. Other entries
// are kept. The map is copied once per call; result is not modified.
func AddWindowMetadata[T any](result Result[T], meta WindowMetadata) Result[T] {
	b := boxWindowMetadata(meta)
	result.metadata = b.decorate(result.metadata)
	return result
}

// GetWindowMetadata reads the window metadata of result. window_start and
// window_end must hold a time.Time and window_type a string or a
// WindowType; otherwise it returns an error and a zero WindowMetadata. The
// optional keys are read when they hold the right type and ignored
// otherwise. The type's value is not checked; [GetWindowInfo] checks it.
func GetWindowMetadata[T any](result Result[T]) (WindowMetadata, error) {
	start, ok, err := result.GetTimeMetadata(MetadataWindowStart)
	if !ok {
		return WindowMetadata{}, windowKeyError("window start time", err)
	}
	end, ok, err := result.GetTimeMetadata(MetadataWindowEnd)
	if !ok {
		return WindowMetadata{}, windowKeyError("window end time", err)
	}
	var typ string
	switch v := result.metadata[MetadataWindowType].(type) {
	case string:
		typ = v
	case WindowType:
		typ = string(v)
	default:
		_, _, err := result.GetStringMetadata(MetadataWindowType)
		return WindowMetadata{}, windowKeyError("window type", err)
	}
	meta := WindowMetadata{Start: start, End: end, Type: typ}
	if d, ok := result.metadata[MetadataWindowSize].(time.Duration); ok {
		meta.Size = d
	}
	if d, ok := result.metadata[MetadataWindowSlide].(time.Duration); ok {
		meta.Slide = &d
	}
	if d, ok := result.metadata[MetadataWindowGap].(time.Duration); ok {
		meta.Gap = &d
	}
	if k, ok := result.metadata[MetadataSessionKey].(string); ok {
		meta.SessionKey = &k
	}
	return meta, nil
}

// windowKeyError names the missing or mistyped key, and wraps the typed
// getter's error when there is one (a present key of the wrong type).
func windowKeyError(what string, cause error) error {
	if cause == nil {
		return errors.New(what + " not found or invalid")
	}
	return fmt.Errorf("%s not found or invalid: %w", what, cause)
}

// GetWindowInfo is GetWindowMetadata with the type checked: it returns the
// error "invalid window type: <value>" unless the type is tumbling, sliding
// or session.
func GetWindowInfo[T any](result Result[T]) (WindowInfo, error) {
	meta, err := GetWindowMetadata(result)
	if err != nil {
		return WindowInfo{}, err
	}
	switch typ := WindowType(meta.Type); typ {
	case WindowTypeTumbling, WindowTypeSliding, WindowTypeSession:
		return WindowInfo{
			Size:       meta.Size,
			Slide:      meta.Slide,
			Gap:        meta.Gap,
			SessionKey: meta.SessionKey,
			Start:      meta.Start,
			End:        meta.End,
			Type:       typ,
		}, nil
	default:
		return WindowInfo{}, fmt.Errorf("invalid window type: %s", meta.Type)
	}
}

// IsInWindow reports whether timestamp lies in result's window, which is
// half-open: Start <= timestamp < End. It returns GetWindowInfo's error
// when result has no valid window metadata.
func IsInWindow[T any](result Result[T], timestamp time.Time) (bool, error) {
	info, err := GetWindowInfo(result)
	if err != nil {
		return false, err
	}
	return !timestamp.Before(info.Start) && timestamp.Before(info.End), nil
}

// WindowDuration returns End - Start of result's window, or
// GetWindowInfo's error.
func WindowDuration[T any](result Result[T]) (time.Duration, error) {
	info, err := GetWindowInfo(result)
	if err != nil {
		return 0, err
	}
	return info.End.Sub(info.Start), nil
}

// emitWindow sends each of items, in order, decorated with the window's
// metadata, and returns how many it sent: len(items), unless ctx ended
// during a send, and then the rest of the window is abandoned, as the
// whole processor is.
func emitWindow[T any](lp *loop, out chan<- Result[T], items []Result[T], b *windowBoxes) int {
	var shared map[string]any
	for i, r := range items {
		if !sendKeeping(lp, out, decorateResult(b, r, &shared)) {
			return i
		}
	}
	return len(items)
}

// decorateResult returns r with the metadata of b's window. Results that carry
// no metadata of their own, the common case, all get the same map, made in
// *shared on the first such Result of the window: a Result's metadata is
// copy-on-write (WithMetadata, AddWindowMetadata and every processor here
// copy the map before changing it, and nothing writes one in place), so
// sharing it between the window's Results is safe and saves a map per
// Result. A Result with metadata gets its own merged copy.
func decorateResult[T any](b *windowBoxes, r Result[T], shared *map[string]any) Result[T] {
	if len(r.metadata) > 0 {
		r.metadata = b.decorate(r.metadata)
		return r
	}
	if *shared == nil {
		*shared = b.decorate(nil)
	}
	r.metadata = *shared
	return r
}

// meta returns the window's metadata as WindowMetadata, with pointers of
// its own, as GetWindowMetadata reads it back from a decorated Result.
func (b *windowBoxes) meta() WindowMetadata {
	m := WindowMetadata{Start: b.start.(time.Time), End: b.end.(time.Time), Type: b.typ.(string), Size: b.size.(time.Duration)}
	if b.slide != nil {
		slide := b.slide.(time.Duration)
		m.Slide = &slide
	}
	if b.gap != nil {
		gap := b.gap.(time.Duration)
		m.Gap = &gap
	}
	if b.key != nil {
		key := b.key.(string)
		m.SessionKey = &key
	}
	return m
}

// windowBuffers recycles the slices that hold windows' items, so that a
// steady stream allocates no new buffer per window once warm.
type windowBuffers[T any] struct{ free [][]Result[T] }

func (wb *windowBuffers[T]) get() []Result[T] {
	if n := len(wb.free); n > 0 {
		s := wb.free[n-1]
		wb.free[n-1] = nil
		wb.free = wb.free[:n-1]
		return s
	}
	return nil
}

// put keeps s for reuse, with its references dropped so that emitted items
// can be collected.
func (wb *windowBuffers[T]) put(s []Result[T]) {
	if cap(s) == 0 || len(wb.free) >= 64 {
		return
	}
	clear(s)
	wb.free = append(wb.free, s[:0])
}

// Window is a window processor: *TumblingWindow[T], *SlidingWindow[T] or
// *SessionWindow[T]. Other types cannot implement it.
//
// Each window has three forms, which run the same loop and so follow
// every rule of the window's own documentation: its grid or sessions,
// which windows an item joins, when a window ends, the time-first rule,
// settling under a FakeClock, windows that end together going out in the
// window's order, the flush of every pending window when the input closes,
// nothing more sent once ctx is cancelled, and nothing at all for a
// window that received no item (an empty window is never opened):
//
//   - Process emits each of a window's Results on its own, decorated
//     with the window's metadata, when the window ends;
//   - Collect emits one WindowCollection per window when the window ends:
//     the window's Results in arrival order, decorated as Process
//     decorates them, with the window's bounds and metadata. It is what a
//     WindowCollector gathers from Process for that window, sent as the
//     window ends rather than when the input closes;
//   - NewWindowFold folds each window's Results, as they come, into one
//     value per window, emitted when the window ends; it holds one
//     accumulator per pending window and no Results.
//
// A window ends at exactly its End, or for a session at lastActivity +
// gap, whether or not an item comes after it: the loop's timer is armed
// for it. Collect's and a fold's output Results carry no metadata of
// their own; the window is in the value. Either form is an error Result
// only as the fold's or the SessionWindow's documentation says.
//
// With an observer, Collect and a fold report what Process reports, with
// one emit per window, once the consumer has taken the window's Result,
// Count the Results the window received; a cancel counts the Results
// received by the windows still pending, which are lost (a fold's too,
// though it holds only their accumulation).
type Window[T any] interface {
	Name() string
	Process(ctx context.Context, in <-chan Result[T]) <-chan Result[T]
	Collect(ctx context.Context, in <-chan Result[T]) <-chan Result[WindowCollection[T]]
	spec() windowSpec[T]
}

// windowSpec is a window processor's configuration, as one Process call
// copies it.
type windowSpec[T any] struct {
	name     string
	clock    Clock
	observer func(Event)
	typ      WindowType
	// size and slide are a grid's; slide is 0 for a tumbling window.
	size, slide time.Duration
	// gap and keyFunc are a session window's.
	gap     time.Duration
	keyFunc func(Result[T]) string
}

// startWindows starts one Process call of the window spec describes, from
// in, in the form h gives, and returns its output; caller names what was
// called, for newLoop's panic on a nil ctx.
func startWindows[T, W, O any](ctx context.Context, caller string, spec windowSpec[T], h windowHolder[T, W, O], in <-chan Result[T]) <-chan O {
	out := make(chan O)
	var p clocked[T]
	switch {
	case spec.typ == WindowTypeSession:
		p = &sessionLoop[T, W, O]{out: out, h: h, name: spec.name, gap: spec.gap, gapBox: any(spec.gap),
			keyFunc: spec.keyFunc, byKey: make(map[string]*session[W])}
	case spec.typ == WindowTypeSliding && spec.slide != spec.size:
		p = &slidingLoop[T, W, O]{out: out, h: h, size: spec.size, slide: spec.slide,
			boxes: windowBoxes{typ: string(WindowTypeSliding), size: spec.size, slide: spec.slide}}
	default:
		// A tumbling window, or a sliding one whose slide is its size,
		// which writes its slide and type "sliding".
		g := &gridLoop[T, W, O]{out: out, h: h, size: spec.size, boxes: windowBoxes{typ: string(spec.typ), size: spec.size}}
		if spec.typ == WindowTypeSliding {
			g.boxes.slide = spec.slide
		}
		p = g
	}
	// The timer's base, which anchors a tumbling grid, is read before
	// Process returns, so that a test that moves the clock right after
	// Process sees the grid it expects.
	return startClocked(ctx, caller, spec.clock, newEventReporter(spec.observer, spec.name, spec.clock), p, in, out)
}

// windowHolder is what each window of one Process call holds and how its
// end sends it: the one thing in which the three forms of a window differ.
// W is one window's content, O what the output carries. Its methods run on
// the loop's goroutine.
type windowHolder[T, W, O any] interface {
	// open returns the content of a window about to receive its first
	// item.
	open() W
	// add puts r, received while the window is pending, into it.
	add(w *W, r Result[T])
	// held is how many Results w stands for: what the window's emit
	// event counts, and what a cancel loses with it.
	held(w *W) int
	// lose settles what w holds as Lost, for a cancel.
	lose(w *W)
	// emit sends the window, whose metadata b holds, and reports false if
	// ctx ended first; w then keeps what was not sent, for held.
	emit(c *clockLoop, out chan<- O, w *W, b *windowBoxes) bool
	// release takes back w's content once the window has gone out.
	release(w *W)
	// unkeyed is the output for r, on which a session's keyFunc panicked
	// with err: r joins no window and goes out at once.
	unkeyed(r Result[T], err error, name string) O
}

// heldResults holds a window's Results in arrival order, in buffers
// recycled from window to window, so that a steady stream allocates no
// buffer per window once warm: the content of Process and Collect.
type heldResults[T any] struct{ bufs windowBuffers[T] }

func (h *heldResults[T]) open() []Result[T] { return h.bufs.get() }

func (h *heldResults[T]) add(w *[]Result[T], r Result[T]) {
	if len(*w) == cap(*w) {
		// Double, where append grows a long slice by a quarter: a long
		// window then copies what it holds about once instead of about
		// four times, and the buffer is kept for a later window anyway.
		*w = slices.Grow(*w, len(*w)+1)
	}
	*w = append(*w, r)
}

func (h *heldResults[T]) held(w *[]Result[T]) int { return len(*w) }

func (h *heldResults[T]) lose(w *[]Result[T]) {
	for _, r := range *w {
		r.Settle(Lost)
	}
}

func (h *heldResults[T]) release(w *[]Result[T]) {
	h.bufs.put(*w)
	*w = nil
}

// perResultHolder is Process's: a window's end sends each of its Results
// on its own, decorated with the window's metadata.
type perResultHolder[T any] struct{ heldResults[T] }

func (h *perResultHolder[T]) emit(c *clockLoop, out chan<- Result[T], w *[]Result[T], b *windowBoxes) bool {
	items := *w
	if sent := emitWindow(c.lp, out, items, b); sent < len(items) {
		*w = items[sent:]
		return false
	}
	return true
}

func (h *perResultHolder[T]) unkeyed(r Result[T], err error, name string) Result[T] {
	return keyFailed(r, err, name)
}

// collectHolder is Collect's: a window's end sends one WindowCollection
// of its Results, decorated as Process decorates them, in a slice of
// exactly their number, made for the consumer; the buffer they were
// gathered in is kept.
type collectHolder[T any] struct{ heldResults[T] }

func (h *collectHolder[T]) emit(c *clockLoop, out chan<- Result[WindowCollection[T]], w *[]Result[T], b *windowBoxes) bool {
	results := make([]Result[T], len(*w))
	var shared map[string]any
	for i, r := range *w {
		results[i] = decorateResult(b, r, &shared)
	}
	meta := b.meta()
	return sendKeeping(c.lp, out, NewSuccess(WindowCollection[T]{Start: meta.Start, End: meta.End, Meta: meta, Results: results}))
}

func (h *collectHolder[T]) unkeyed(r Result[T], err error, name string) Result[WindowCollection[T]] {
	return Result[WindowCollection[T]]{err: NewStreamError(WindowCollection[T]{Results: []Result[T]{r}}, err, name)}
}
