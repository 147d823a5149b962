package streamz

import (
	"errors"
	"fmt"
	"time"
)

// This file holds what the three window processors share: the window
// types, the metadata they write on every Result and the helpers that read
// it back, and the emission of one window's items. The processors are in
// window_tumbling.go, window_sliding.go and window_session.go; the
// collector that regroups their output is in window_collector.go.
//
// Every window processor runs on runClocked (timer_events.go), so the
// time-first rule holds: on each input the loop reads the clock, emits
// every window whose end the clock has reached, and only then places the
// item. The one timer of a Process call is armed for the earliest pending
// end; it only wakes the loop when no input comes.

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
//
// Items that carry no metadata of their own, the common case, all get the
// same map, made once per window on the first such item: a Result's
// metadata is copy-on-write (WithMetadata, AddWindowMetadata and every
// processor here copy the map before changing it, and nothing writes one
// in place), so sharing it between the window's Results is safe and saves
// a map per Result. An item with metadata gets its own merged copy.
func emitWindow[T any](lp *loop, out chan<- Result[T], items []Result[T], b *windowBoxes) int {
	var shared map[string]any
	for i, r := range items {
		if len(r.metadata) == 0 {
			if shared == nil {
				shared = b.decorate(nil)
			}
			r.metadata = shared
		} else {
			r.metadata = b.decorate(r.metadata)
		}
		if !send(lp, out, r) {
			return i
		}
	}
	return len(items)
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
