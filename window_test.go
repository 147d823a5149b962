//go:build go1.25

package streamz

// Tests of the window API surface, the metadata helpers and the rules the
// three windows share: construction panics, cancel with no reader, one
// armed timer per Process call, and the send-Advance-send race.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// winRecv reads one output, failing after winSafety.
func winRecv[T any](t testing.TB, out <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-out:
		if !ok {
			t.Fatal("output closed early")
		}
		return v
	case <-time.After(winSafety):
		t.Fatalf("no output within %v", winSafety)
	}
	var zero T
	return zero
}

// winCollect reads out until it closes, failing after winSafety.
func winCollect[T any](t testing.TB, out <-chan T) []T {
	t.Helper()
	var got []T
	for {
		select {
		case v, ok := <-out:
			if !ok {
				return got
			}
			got = append(got, v)
		case <-time.After(winSafety):
			t.Fatalf("output not closed within %v (got %d)", winSafety, len(got))
		}
	}
}

// winDescribe renders outputs as winOut strings relative to base, without
// emission times.
func winDescribe(t testing.TB, rs []Result[int], base time.Time) []string {
	t.Helper()
	var s []string
	for _, r := range rs {
		o := winObserve(t, r, base)
		d := fmt.Sprintf("%s@[%v,%v)", o.V, o.Start, o.End)
		if o.Key != "" {
			d += o.Key
		}
		s = append(s, d)
	}
	return s
}

// The exact API of the spec's section 1.1: signatures, receiver kinds and
// field order. This fails to compile if any of them changes.
func TestWindowAPISurface(t *testing.T) {
	var (
		_ func(time.Duration, Clock) *TumblingWindow[int]                                               = NewTumblingWindow[int]
		_ func(*TumblingWindow[int], string) *TumblingWindow[int]                                       = (*TumblingWindow[int]).WithName
		_ func(*TumblingWindow[int], context.Context, <-chan Result[int]) <-chan Result[int]            = (*TumblingWindow[int]).Process
		_ func(*TumblingWindow[int]) string                                                             = (*TumblingWindow[int]).Name
		_ func(time.Duration, Clock) *SlidingWindow[int]                                                = NewSlidingWindow[int]
		_ func(*SlidingWindow[int], time.Duration) *SlidingWindow[int]                                  = (*SlidingWindow[int]).WithSlide
		_ func(*SlidingWindow[int], string) *SlidingWindow[int]                                         = (*SlidingWindow[int]).WithName
		_ func(*SlidingWindow[int], context.Context, <-chan Result[int]) <-chan Result[int]             = (*SlidingWindow[int]).Process
		_ func(*SlidingWindow[int]) string                                                              = (*SlidingWindow[int]).Name
		_ func(func(Result[int]) string, Clock) *SessionWindow[int]                                     = NewSessionWindow[int]
		_ func(*SessionWindow[int], time.Duration) *SessionWindow[int]                                  = (*SessionWindow[int]).WithGap
		_ func(*SessionWindow[int], string) *SessionWindow[int]                                         = (*SessionWindow[int]).WithName
		_ func(*SessionWindow[int], context.Context, <-chan Result[int]) <-chan Result[int]             = (*SessionWindow[int]).Process
		_ func(*SessionWindow[int]) string                                                              = (*SessionWindow[int]).Name
		_ func(Result[int], WindowMetadata) Result[int]                                                 = AddWindowMetadata[int]
		_ func(Result[int]) (WindowMetadata, error)                                                     = GetWindowMetadata[int]
		_ func(Result[int]) (WindowInfo, error)                                                         = GetWindowInfo[int]
		_ func(Result[int], time.Time) (bool, error)                                                    = IsInWindow[int]
		_ func(Result[int]) (time.Duration, error)                                                      = WindowDuration[int]
		_ func() *WindowCollector[int]                                                                  = NewWindowCollector[int]
		_ func(*WindowCollector[int], context.Context, <-chan Result[int]) <-chan WindowCollection[int] = (*WindowCollector[int]).Process
		_ func(WindowCollection[int]) []int                                                             = WindowCollection[int].Values
		_ func(WindowCollection[int]) []*StreamError[int]                                               = WindowCollection[int].Errors
		_ func(WindowCollection[int]) int                                                               = WindowCollection[int].Count
		_ func(WindowCollection[int]) int                                                               = WindowCollection[int].SuccessCount
		_ func(WindowCollection[int]) int                                                               = WindowCollection[int].ErrorCount
	)
	d, k, ts := time.Second, "k", time.Unix(1, 0)
	_ = WindowConfig{time.Second, time.Second, 3}
	_ = WindowMetadata{d, &d, &d, &k, ts, ts, "session"}
	_ = WindowInfo{d, &d, &d, &k, ts, ts, WindowTypeSession}
	_ = WindowCollection[int]{ts, ts, WindowMetadata{}, []Result[int]{}}
	var _ WindowType = WindowTypeTumbling
	assert.Equal(t, []WindowType{"tumbling", "sliding", "session"}, []WindowType{WindowTypeTumbling, WindowTypeSliding, WindowTypeSession})

	// T of NewSessionWindow is inferred from keyFunc.
	_ = NewSessionWindow(func(Result[string]) string { return "" }, nil)

	assert.Equal(t, "tumbling-window", NewTumblingWindow[int](time.Second, nil).Name())
	assert.Equal(t, "sliding-window", NewSlidingWindow[int](time.Second, nil).Name())
	assert.Equal(t, "session-window", NewSessionWindow(winKeyFunc, nil).Name())
	tw := NewTumblingWindow[int](time.Second, nil)
	assert.Same(t, tw, tw.WithName("x"))
	assert.Equal(t, "x", tw.Name())
	sw := NewSlidingWindow[int](time.Second, nil)
	assert.Equal(t, time.Second, sw.slide, "the default slide is the size")
	assert.Same(t, sw, sw.WithSlide(time.Millisecond).WithName("y"))
	assert.Equal(t, "y", sw.Name())
	ss := NewSessionWindow(winKeyFunc, nil)
	assert.Equal(t, 30*time.Minute, ss.gap, "the default gap")
	assert.Same(t, ss, ss.WithGap(time.Second).WithName("z"))
	assert.Equal(t, "z", ss.Name())
	assert.Equal(t, time.Second, ss.gap)
}

// D8: bad configuration panics at construction, naming the function, the
// field and the value, not later inside the goroutine.
func TestWindowConstructionPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"tumbling size 0", func() { NewTumblingWindow[int](0, nil) }, "streamz: NewTumblingWindow: size must be positive, got 0s"},
		{"tumbling size < 0", func() { NewTumblingWindow[int](-time.Second, nil) }, "streamz: NewTumblingWindow: size must be positive, got -1s"},
		{"sliding size 0", func() { NewSlidingWindow[int](0, nil) }, "streamz: NewSlidingWindow: size must be positive, got 0s"},
		{"slide 0", func() { NewSlidingWindow[int](time.Second, nil).WithSlide(0) }, "streamz: SlidingWindow.WithSlide: slide must be positive, got 0s"},
		{"slide < 0", func() { NewSlidingWindow[int](time.Second, nil).WithSlide(-time.Millisecond) }, "streamz: SlidingWindow.WithSlide: slide must be positive, got -1ms"},
		{"nil keyFunc", func() { NewSessionWindow[int](nil, nil) }, "streamz: NewSessionWindow: keyFunc must not be nil"},
		{"gap 0", func() { NewSessionWindow(winKeyFunc, nil).WithGap(0) }, "streamz: SessionWindow.WithGap: gap must be positive, got 0s"},
		{"gap < 0", func() { NewSessionWindow(winKeyFunc, nil).WithGap(-time.Minute) }, "streamz: SessionWindow.WithGap: gap must be positive, got -1m0s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.PanicsWithValue(t, c.want, c.f) })
	}
}

// winProcs are the window processors as the shared tests run them, with
// the window an item sent at 0 and one sent at exactly d are expected in.
var winProcs = []struct {
	name  string
	d     time.Duration // size or gap
	start func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int]
	one   string // item 1, sent at 0
	two   string // item 2, sent at d
}{
	{"tumbling", time.Second, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
		return NewTumblingWindow[int](time.Second, clk).Process(ctx, in)
	}, "1@[0s,1s)", "2@[1s,2s)"},
	{"sliding tumbling mode", time.Second, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
		return NewSlidingWindow[int](time.Second, clk).Process(ctx, in)
	}, "1@[0s,1s)", "2@[1s,2s)"},
	{"sliding", time.Second, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
		return NewSlidingWindow[int](time.Second, clk).WithSlide(2*time.Second).Process(ctx, in)
	}, "1@[0s,1s)", ""}, // 2 falls in the gap [1s,2s)
	{"session", time.Second, func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
		return NewSessionWindow(func(Result[int]) string { return "k" }, clk).WithGap(time.Second).Process(ctx, in)
	}, "1@[0s,1s)k", "2@[1s,2s)k"},
}

// D2, the send-Advance-send race: an item sent right after Advance has
// reached a window's end belongs to the next window (or session), 1000 runs
// of 1000, with the timer's event delivered inside Advance (the settling
// FakeClock) and after it, in a goroutine that may not have run when the
// item arrives (so only the time-first rule can get it right).
func TestWindow_SendAdvanceSendRace(t *testing.T) {
	for _, p := range winProcs {
		for _, async := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s async=%v", p.name, async), func(t *testing.T) {
				want := []string{p.one}
				if p.two != "" {
					want = append(want, p.two)
				}
				for i := range teRaceIterations {
					var got []string
					run := func(t *testing.T) {
						var clk Clock
						var advance func(time.Duration)
						if async {
							fc := newTEClock(true)
							clk, advance = fc, fc.Advance
						} else {
							fc := NewFakeClock()
							clk, advance = fc, fc.Advance
						}
						ctx, cancel := context.WithCancel(context.Background())
						defer cancel()
						base := clk.Now()
						in := make(chan Result[int])
						out := p.start(ctx, clk, in)
						rs := make(chan []Result[int], 1)
						go func() {
							var got []Result[int]
							for r := range out {
								got = append(got, r)
							}
							rs <- got
						}()
						in <- NewSuccess(1)
						if async {
							// teClock is not a *FakeClock, so nothing settles
							// the loop: wait for it to time item 1.
							synctest.Wait()
						}
						advance(p.d)
						in <- NewSuccess(2)
						close(in)
						got = winDescribe(t, winRecv(t, rs), base)
					}
					if async {
						synctest.Test(t, run)
					} else {
						run(t)
					}
					require.Equal(t, want, got, "run %d", i)
				}
			})
		}
	}
}

// D2 when the timer's event and an input are ready at once: the loop is
// busy sending session a when session b's end is reached, so b's event
// waits in its channel while b's next item waits on the input. Whatever
// the loop takes first, b's old session goes out before the new item is
// placed.
func TestSessionWindow_EventAndInputReadyTogether(t *testing.T) {
	for i := range teRaceIterations {
		var got []string
		synctest.Test(t, func(t *testing.T) {
			fc := NewFakeClock()
			base := fc.Now()
			in := make(chan Result[int])
			out := NewSessionWindow(winKeyFunc, fc).WithGap(time.Second).Process(t.Context(), in)
			in <- NewSuccess(10) // k0 at 0: ends at 1s
			fc.Advance(time.Millisecond)
			in <- NewSuccess(11) // k1 at 1ms: ends at 1.001s
			synctest.Wait()
			fc.Advance(time.Second + time.Millisecond) // k0 goes out, blocked; k1's event waits
			go func() {
				in <- NewSuccess(21)
				close(in)
			}()
			synctest.Wait()
			var rs []Result[int]
			for r := range out {
				rs = append(rs, r)
			}
			got = winDescribe(t, rs, base)
		})
		require.Equal(t, []string{"10@[0s,1s)k0", "11@[1ms,1.001s)k1", "21@[1.002s,2.002s)k1"}, got, "run %d", i)
	}
}

// D1: cancel closes the output promptly without emitting, even when
// nobody reads and windows are pending.
func TestWindow_CancelWithNoReader(t *testing.T) {
	for _, p := range winProcs {
		t.Run(p.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				in := make(chan Result[int])
				out := p.start(ctx, RealClock, in)
				in <- NewSuccess(1)
				time.Sleep(p.d / 2)
				in <- NewSuccess(2)
				cancel()
				synctest.Wait()
				select {
				case r, ok := <-out:
					require.False(t, ok, "emitted %v after cancel", r)
				default:
					t.Fatal("the output is still open after cancel")
				}
			})
		})
	}
}

// Cancel while a window is going out, with nobody reading: the loop,
// blocked sending, gives up and closes the output.
func TestWindow_CancelDuringEmission(t *testing.T) {
	for _, p := range winProcs {
		t.Run(p.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				in := make(chan Result[int])
				out := p.start(ctx, RealClock, in)
				in <- NewSuccess(1)
				time.Sleep(p.d) // the window is due: the loop waits to send it
				synctest.Wait()
				cancel()
				synctest.Wait()
				select {
				case r, ok := <-out:
					require.False(t, ok, "emitted %v after cancel", r)
				default:
					t.Fatal("the output is still open after cancel")
				}
			})
		})
	}
}

// At most one timer is armed per Process call, however many windows or
// sessions are open.
func TestWindow_OneArmedTimerPerProcess(t *testing.T) {
	armed := func(fc *FakeClock) int {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return len(fc.armed)
	}
	procs := map[string]func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int]{
		"sliding size/slide=1000": func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewSlidingWindow[int](time.Second, clk).WithSlide(time.Millisecond).Process(ctx, in)
		},
		"session 1000 keys": func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewSessionWindow(func(r Result[int]) string { return fmt.Sprint(r.Value()) }, clk).WithGap(time.Second).Process(ctx, in)
		},
		"tumbling": func(ctx context.Context, clk Clock, in <-chan Result[int]) <-chan Result[int] {
			return NewTumblingWindow[int](time.Second, clk).Process(ctx, in)
		},
	}
	for name, start := range procs {
		t.Run(name, func(t *testing.T) {
			fc := newTEClock(false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in := make(chan Result[int])
			out := start(ctx, fc, in)
			done := make(chan int)
			// The collector is a loop the clock settles, so that Advance
			// also waits until it has taken every Result a window emits
			// and the window has gone back to waiting.
			collector := newLoop(ctx, nil, out)
			go func() {
				defer collector.exit()
				n := 0
				for {
					_, ok, _, stop := receive(collector, nil, out)
					if stop || !ok {
						break
					}
					n++
				}
				done <- n
			}()
			maxArmed := 0
			for i := range 1000 {
				in <- NewSuccess(i)
				fc.Advance(time.Millisecond)
				maxArmed = max(maxArmed, armed(fc.FakeClock))
			}
			fc.Advance(3 * time.Second)
			require.Equal(t, 0, armed(fc.FakeClock), "a timer is armed with nothing pending")
			close(in)
			require.Positive(t, winRecv(t, done))
			assert.Equal(t, 1, maxArmed, "armed timers at most")
			assert.Equal(t, 1, fc.counts().AfterFuncs, "timers made")
		})
	}
}

// A nil clock means RealClock: inside a bubble, windows follow the
// bubble's time.
func TestWindow_NilClockIsRealClock(t *testing.T) {
	for _, p := range winProcs {
		t.Run(p.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				in := make(chan Result[int])
				start := time.Now()
				out := p.start(t.Context(), nil, in)
				in <- NewSuccess(1)
				r := <-out
				assert.Equal(t, p.d, time.Since(start))
				assert.Equal(t, []string{p.one}, winDescribe(t, []Result[int]{r}, start))
				close(in)
				for range out {
				}
			})
		})
	}
}

// Each Process call copies its configuration: a WithSlide or WithGap made
// while it runs does not race with it (under -race) and does not change it.
func TestWindow_ProcessCopiesConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sw := NewSlidingWindow[int](4*time.Second, nil).WithSlide(2 * time.Second)
		ss := NewSessionWindow(winKeyFunc, nil).WithGap(time.Second)
		start := time.Now()
		in1, in2 := make(chan Result[int]), make(chan Result[int])
		out1, out2 := sw.Process(t.Context(), in1), ss.Process(t.Context(), in2)
		go sw.WithSlide(time.Second)
		go ss.WithGap(time.Hour)
		in1 <- NewSuccess(1)
		in2 <- NewSuccess(2)
		synctest.Wait()
		close(in1)
		close(in2)
		assert.Equal(t, []string{"1@[0s,4s)"}, winDescribe(t, collectResults(out1), start))
		assert.Equal(t, []string{"2@[0s,1s)k2"}, winDescribe(t, collectResults(out2), start))
	})
}

// Error Results are windowed, not passed through, and keyFunc sees them.
func TestWindow_ErrorsAreWindowed(t *testing.T) {
	for _, p := range winProcs {
		t.Run(p.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				in := make(chan Result[int])
				start := time.Now()
				out := p.start(t.Context(), RealClock, in)
				in <- NewError(1, errors.New("boom"), "x")
				synctest.Wait()
				select {
				case r := <-out:
					t.Fatalf("the error passed through: %v", r)
				default:
				}
				r := <-out
				assert.Equal(t, p.d, time.Since(start))
				require.True(t, r.IsError())
				assert.Equal(t, []string{"E" + p.one}, winDescribe(t, []Result[int]{r}, start))
				close(in)
				for range out {
				}
			})
		})
	}
}

// An empty window emits nothing, and a window's metadata holds exactly its
// keys: 4 for tumbling, 5 for sliding in both modes, 6 for a session.
func TestWindow_MetadataKeys(t *testing.T) {
	want := map[string][]string{
		"tumbling":              {"window_end", "window_size", "window_start", "window_type"},
		"sliding tumbling mode": {"window_end", "window_size", "window_slide", "window_start", "window_type"},
		"sliding":               {"window_end", "window_size", "window_slide", "window_start", "window_type"},
		"session":               {"session_key", "window_end", "window_gap", "window_size", "window_start", "window_type"},
	}
	types := map[string]any{"tumbling": "tumbling", "sliding tumbling mode": "sliding", "sliding": "sliding", "session": "session"}
	for _, p := range winProcs {
		t.Run(p.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				in := make(chan Result[int])
				out := p.start(t.Context(), RealClock, in)
				time.Sleep(10 * p.d) // empty windows
				synctest.Wait()
				select {
				case r := <-out:
					t.Fatalf("an empty window emitted %v", r)
				default:
				}
				in <- NewSuccess(1).WithMetadata("source", "s")
				r := <-out
				keys := append([]string{"source"}, want[p.name]...)
				slices.Sort(keys)
				assert.Equal(t, keys, r.MetadataKeys())
				typ, _ := r.GetMetadata(MetadataWindowType)
				assert.Equal(t, types[p.name], typ)
				size, _ := r.GetMetadata(MetadataWindowSize)
				if p.name == "session" {
					assert.Equal(t, time.Duration(0), size)
				} else {
					assert.Equal(t, p.d, size)
				}
				close(in)
				for range out {
				}
			})
		})
	}
}

func TestAddWindowMetadata(t *testing.T) {
	start := time.Unix(100, 0)
	slide, gap, key := 5*time.Second, time.Minute, "user"
	orig := NewSuccess(1).WithMetadata("source", "s")
	sliding := AddWindowMetadata(orig, WindowMetadata{Size: 10 * time.Second, Slide: &slide, Start: start, End: start.Add(10 * time.Second), Type: "sliding"})
	assert.Equal(t, []string{"source"}, orig.MetadataKeys(), "the input was modified")
	assert.Equal(t, []string{"source", "window_end", "window_size", "window_slide", "window_start", "window_type"}, sliding.MetadataKeys())

	// D12: re-windowing drops the keys the new window does not have.
	tumbling := AddWindowMetadata(sliding, WindowMetadata{Size: time.Minute, Start: start, End: start.Add(time.Minute), Type: "tumbling"})
	assert.Equal(t, []string{"source", "window_end", "window_size", "window_start", "window_type"}, tumbling.MetadataKeys())
	meta, err := GetWindowMetadata(tumbling)
	require.NoError(t, err)
	assert.Nil(t, meta.Slide)
	assert.Equal(t, "tumbling", meta.Type)

	sess := AddWindowMetadata(NewSuccess(1), WindowMetadata{Gap: &gap, SessionKey: &key, Start: start, End: start.Add(gap), Type: "session"})
	meta, err = GetWindowMetadata(sess)
	require.NoError(t, err)
	assert.Equal(t, WindowMetadata{Gap: &gap, SessionKey: &key, Start: start, End: start.Add(gap), Type: "session"}, meta)
	v, ok := sess.GetMetadata(MetadataWindowType)
	assert.True(t, ok)
	assert.IsType(t, "", v, "window_type is stored as a plain string")

	// The map is copied once per call, not once per key: one map and the
	// boxed values.
	allocs := testing.AllocsPerRun(100, func() {
		_ = AddWindowMetadata(orig, WindowMetadata{Size: time.Minute, Slide: &slide, Start: start, End: start, Type: "sliding"})
	})
	assert.LessOrEqual(t, allocs, 7.0)
}

// D11: helper errors name the key without "%!w(<nil>)", wrap the typed
// getter's error for a wrong type, and accept a WindowType.
func TestGetWindowMetadataErrors(t *testing.T) {
	ts := time.Unix(1, 0)
	full := NewSuccess(1).WithMetadata(MetadataWindowStart, ts).WithMetadata(MetadataWindowEnd, ts.Add(time.Second)).WithMetadata(MetadataWindowType, "tumbling")

	_, err := GetWindowMetadata(NewSuccess(1))
	assert.EqualError(t, err, "window start time not found or invalid")
	assert.Nil(t, errors.Unwrap(err))
	_, err = GetWindowMetadata(NewSuccess(1).WithMetadata(MetadataWindowStart, ts))
	assert.EqualError(t, err, "window end time not found or invalid")
	_, err = GetWindowMetadata(NewSuccess(1).WithMetadata(MetadataWindowStart, ts).WithMetadata(MetadataWindowEnd, ts))
	assert.EqualError(t, err, "window type not found or invalid")
	_, err = GetWindowMetadata(full.WithMetadata(MetadataWindowStart, "yesterday"))
	assert.EqualError(t, err, `window start time not found or invalid: metadata key "window_start" has type string, expected time.Time`)
	assert.NotNil(t, errors.Unwrap(err))
	_, err = GetWindowMetadata(full.WithMetadata(MetadataWindowType, 3))
	assert.EqualError(t, err, `window type not found or invalid: metadata key "window_type" has type int, expected string`)
	for _, err := range []error{err} {
		assert.NotContains(t, err.Error(), "%!")
	}

	meta, err := GetWindowMetadata(full.WithMetadata(MetadataWindowType, WindowTypeSession))
	require.NoError(t, err)
	assert.Equal(t, "session", meta.Type)

	// Optional keys of the wrong type are ignored.
	meta, err = GetWindowMetadata(full.WithMetadata(MetadataWindowSize, 5).WithMetadata(MetadataSessionKey, 5))
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), meta.Size)
	assert.Nil(t, meta.SessionKey)

	// GetWindowMetadata accepts any type; GetWindowInfo does not.
	hopping := full.WithMetadata(MetadataWindowType, "hopping")
	_, err = GetWindowMetadata(hopping)
	require.NoError(t, err)
	_, err = GetWindowInfo(hopping)
	assert.EqualError(t, err, "invalid window type: hopping")
	_, err = IsInWindow(hopping, ts)
	assert.Error(t, err)
	_, err = WindowDuration(hopping)
	assert.Error(t, err)

	info, err := GetWindowInfo(full)
	require.NoError(t, err)
	assert.Equal(t, WindowInfo{Start: ts, End: ts.Add(time.Second), Type: WindowTypeTumbling}, info)
}

func TestIsInWindowAndDuration(t *testing.T) {
	ts := time.Unix(1, 0)
	r := AddWindowMetadata(NewSuccess(1), WindowMetadata{Size: time.Second, Start: ts, End: ts.Add(time.Second), Type: "tumbling"})
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{ts.Add(-1), false}, {ts, true}, {ts.Add(time.Second - 1), true}, {ts.Add(time.Second), false}} {
		in, err := IsInWindow(r, c.at)
		require.NoError(t, err)
		assert.Equal(t, c.want, in, "at %v", c.at.Sub(ts))
	}
	d, err := WindowDuration(r)
	require.NoError(t, err)
	assert.Equal(t, time.Second, d)
	_, err = IsInWindow(NewSuccess(1), ts)
	assert.True(t, strings.HasPrefix(err.Error(), "window start time"))
}
