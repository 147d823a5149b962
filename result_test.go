package streamz

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type resultTestError struct{ code int }

type raItem struct {
	ID   int
	Name string
}

func (e *resultTestError) Error() string { return fmt.Sprintf("code %d", e.code) }

// raHasKey reports whether r carries key, the question HasMetadata answered
// when it took a key; GetMetadata is how callers ask it now.
func raHasKey[T any](r Result[T], key string) bool {
	_, ok := r.GetMetadata(key)
	return ok
}

func TestResultNewSuccess(t *testing.T) {
	r := NewSuccess(42)

	assert.True(t, r.IsSuccess())
	assert.False(t, r.IsError())
	assert.Nil(t, r.Error())
	assert.Equal(t, 42, r.Value())
	assert.Empty(t, r.MetadataKeys())
}

func TestResultNewError(t *testing.T) {
	cause := errors.New("boom")
	before := time.Now()
	r := NewError("item", cause, "throttle")
	after := time.Now()

	assert.True(t, r.IsError())
	assert.False(t, r.IsSuccess())

	se := r.Error()
	require.NotNil(t, se)
	assert.Equal(t, "item", se.Item)
	assert.Same(t, cause, se.Err)
	assert.Equal(t, "throttle", se.ProcessorName)
	assert.False(t, se.Timestamp.Before(before), "timestamp before call")
	assert.False(t, se.Timestamp.After(after), "timestamp after call")
}

func TestResultNewErrorNilCauseIsStillError(t *testing.T) {
	r := NewError(1, nil, "p")

	assert.True(t, r.IsError())
	require.NotNil(t, r.Error())
	assert.Nil(t, r.Error().Err)
}

// Err is a nil error for a success: compared with == nil, not through
// assert.Nil, which would also accept the typed nil that Error gives.
func TestResultErrIsNilErrorForSuccess(t *testing.T) {
	for name, r := range map[string]Result[int]{"NewSuccess": NewSuccess(1), "zero Result": {}} {
		var err error = r.Err()
		if err != nil {
			t.Errorf("%s: var err error = r.Err() is %#v, want nil", name, err)
		}
		returned := func() error { return r.Err() }
		if returned() != nil {
			t.Errorf("%s: a func() error returning r.Err() reports a failure", name)
		}
	}
}

// For an error, Err is the Result's own *StreamError, and errors.Is and
// errors.As reach through it; a nil cause still makes a non-nil error.
func TestResultErrForError(t *testing.T) {
	cause := &resultTestError{code: 7}
	r := NewError(3, cause, "parse")
	err := r.Err()
	require.Error(t, err)
	var se *StreamError[int]
	require.True(t, errors.As(err, &se))
	assert.Same(t, r.Error(), se)
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, r.Error().Error(), err.Error())

	if NewError(3, nil, "parse").Err() == nil {
		t.Error("Err of an error Result with a nil cause is nil")
	}
}

func TestResultZeroValueIsSuccess(t *testing.T) {
	var r Result[string]

	assert.True(t, r.IsSuccess())
	assert.False(t, r.IsError())
	assert.Nil(t, r.Error())
	assert.Equal(t, "", r.Value())
	assert.Nil(t, r.MetadataKeys())
	assert.False(t, r.HasMetadata())
}

func TestResultValuePanicsOnError(t *testing.T) {
	r := NewError(0, errors.New("disk full"), "sink")

	assert.PanicsWithValue(t,
		"streamz: Result.Value called on an error result: "+r.Error().Error(),
		func() { _ = r.Value() })
}

func TestResultValueOr(t *testing.T) {
	assert.Equal(t, 5, NewSuccess(5).ValueOr(9))
	assert.Equal(t, 9, NewError(5, errors.New("x"), "p").ValueOr(9))
	// A success holding the zero value must not be mistaken for absence.
	assert.Equal(t, 0, NewSuccess(0).ValueOr(9))
}

func TestResultMap(t *testing.T) {
	t.Run("success is transformed and keeps metadata", func(t *testing.T) {
		r := NewSuccess(2).WithMetadata(MetadataSource, "kafka")

		got := r.Map(func(v int) int { return v * 10 })

		require.True(t, got.IsSuccess())
		assert.Equal(t, 20, got.Value())
		src, ok := got.GetMetadata(MetadataSource)
		assert.True(t, ok)
		assert.Equal(t, "kafka", src)
		assert.Equal(t, 2, r.Value(), "original changed")
	})

	t.Run("error passes through and fn is not called", func(t *testing.T) {
		cause := errors.New("bad")
		r := NewError(2, cause, "p").WithMetadata(MetadataSource, "kafka")
		called := false

		got := r.Map(func(v int) int { called = true; return v })

		assert.False(t, called)
		require.True(t, got.IsError())
		assert.Same(t, r.Error(), got.Error())
		assert.True(t, raHasKey(got, MetadataSource))
	})
}

func TestResultMapError(t *testing.T) {
	t.Run("error is transformed and keeps metadata", func(t *testing.T) {
		cause := errors.New("bad")
		r := NewError(7, cause, "inner").WithMetadata(MetadataRetryCount, 3)

		got := r.MapError(func(e *StreamError[int]) *StreamError[int] {
			return NewStreamError(e.Item, fmt.Errorf("wrapped: %w", e), "outer")
		})

		require.True(t, got.IsError())
		assert.Equal(t, "outer", got.Error().ProcessorName)
		assert.Equal(t, 7, got.Error().Item)
		assert.ErrorIs(t, got.Error(), cause)
		n, ok, err := got.GetIntMetadata(MetadataRetryCount)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, 3, n)
		assert.Equal(t, "inner", r.Error().ProcessorName, "original changed")
	})

	t.Run("success passes through and fn is not called", func(t *testing.T) {
		r := NewSuccess(7).WithMetadata(MetadataSource, "s")
		called := false

		got := r.MapError(func(e *StreamError[int]) *StreamError[int] { called = true; return e })

		assert.False(t, called)
		require.True(t, got.IsSuccess())
		assert.Equal(t, 7, got.Value())
		assert.True(t, raHasKey(got, MetadataSource))
	})

	t.Run("nil from fn keeps the original error", func(t *testing.T) {
		r := NewError(7, errors.New("bad"), "p")

		got := r.MapError(func(*StreamError[int]) *StreamError[int] { return nil })

		require.True(t, got.IsError())
		assert.Same(t, r.Error(), got.Error())
	})
}

func TestResultWithMetadataCopyOnWrite(t *testing.T) {
	base := NewSuccess("v")
	one := base.WithMetadata("a", 1)

	assert.False(t, base.HasMetadata(), "WithMetadata changed a result without metadata")
	assert.True(t, raHasKey(one, "a"))

	// Deriving from a result that already has metadata must not write into
	// the shared map: neither the new key nor an overwritten one may leak back.
	two := one.WithMetadata("b", 2).WithMetadata("a", 100)

	assert.Equal(t, []string{"a"}, one.MetadataKeys())
	v, _ := one.GetMetadata("a")
	assert.Equal(t, 1, v)
	assert.Equal(t, []string{"a", "b"}, two.MetadataKeys())
	v, _ = two.GetMetadata("a")
	assert.Equal(t, 100, v)

	// Siblings derived from the same parent must not see each other's keys.
	left := one.WithMetadata("left", true)
	right := one.WithMetadata("right", true)
	assert.False(t, raHasKey(left, "right"))
	assert.False(t, raHasKey(right, "left"))

	assert.Equal(t, "v", two.Value())
}

func TestResultWithMetadataEmptyKeyIgnored(t *testing.T) {
	r := NewSuccess(1).WithMetadata("k", "v")

	got := r.WithMetadata("", "ignored")

	assert.Equal(t, []string{"k"}, got.MetadataKeys())
	assert.False(t, raHasKey(got, ""))
	assert.Equal(t, r, got)
}

func TestResultWithMetadataNilValue(t *testing.T) {
	r := NewSuccess(1).WithMetadata("k", nil)

	assert.True(t, r.HasMetadata(), "a key with a nil value is still metadata")
	assert.True(t, raHasKey(r, "k"))
	v, ok := r.GetMetadata("k")
	assert.True(t, ok)
	assert.Nil(t, v)
}

func TestResultGetMetadata(t *testing.T) {
	r := NewSuccess(1).WithMetadata(MetadataSource, "api")

	v, ok := r.GetMetadata(MetadataSource)
	assert.True(t, ok)
	assert.Equal(t, "api", v)

	v, ok = r.GetMetadata("missing")
	assert.False(t, ok)
	assert.Nil(t, v)
}

func TestResultHasMetadata(t *testing.T) {
	tests := []struct {
		name string
		r    Result[int]
		want bool
	}{
		{"zero value", Result[int]{}, false},
		{"new success", NewSuccess(1), false},
		{"new error", NewError(1, errors.New("x"), "p"), false},
		{"empty key ignored", NewSuccess(1).WithMetadata("", "v"), false},
		{"one key", NewSuccess(1).WithMetadata(MetadataSource, "api"), true},
		{"nil value", NewSuccess(1).WithMetadata("k", nil), true},
		{"error with metadata", NewError(1, errors.New("x"), "p").WithMetadata(MetadataRetryCount, 2), true},
		{"kept by Map", NewSuccess(1).WithMetadata("k", 1).Map(func(v int) int { return v + 1 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.r.HasMetadata())
			assert.Equal(t, tt.want, len(tt.r.MetadataKeys()) > 0, "HasMetadata disagrees with MetadataKeys")
		})
	}
}

func TestResultMetadataKeysSorted(t *testing.T) {
	r := NewSuccess(1)
	for _, k := range []string{"zeta", "alpha", "mu", "beta", "omega"} {
		r = r.WithMetadata(k, k)
	}

	keys := r.MetadataKeys()
	assert.Equal(t, []string{"alpha", "beta", "mu", "omega", "zeta"}, keys)

	// The returned slice belongs to the caller.
	keys[0] = "changed"
	assert.Equal(t, "alpha", r.MetadataKeys()[0])
}

func TestResultMetadataKeysNilWhenEmpty(t *testing.T) {
	assert.Nil(t, NewSuccess(1).MetadataKeys())
	assert.Nil(t, NewError(1, errors.New("x"), "p").MetadataKeys())
}

func TestResultTypedMetadataGetters(t *testing.T) {
	start := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	r := NewSuccess(0).
		WithMetadata(MetadataWindowType, "tumbling").
		WithMetadata(MetadataWindowStart, start).
		WithMetadata(MetadataRetryCount, 4).
		WithMetadata(MetadataWindowSize, 5*time.Second).
		WithMetadata("wrong", struct{}{})

	t.Run("string", func(t *testing.T) {
		s, ok, err := r.GetStringMetadata(MetadataWindowType)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "tumbling", s)

		s, ok, err = r.GetStringMetadata("missing")
		assert.NoError(t, err)
		assert.False(t, ok)
		assert.Equal(t, "", s)

		s, ok, err = r.GetStringMetadata(MetadataRetryCount)
		assert.EqualError(t, err, `metadata key "retry_count" has type int, expected string`)
		assert.False(t, ok)
		assert.Equal(t, "", s)
	})

	t.Run("time", func(t *testing.T) {
		got, ok, err := r.GetTimeMetadata(MetadataWindowStart)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.True(t, start.Equal(got))

		got, ok, err = r.GetTimeMetadata("missing")
		assert.NoError(t, err)
		assert.False(t, ok)
		assert.True(t, got.IsZero())

		got, ok, err = r.GetTimeMetadata(MetadataRetryCount)
		assert.EqualError(t, err, `metadata key "retry_count" has type int, expected time.Time`)
		assert.False(t, ok)
		assert.True(t, got.IsZero())
	})

	t.Run("int", func(t *testing.T) {
		n, ok, err := r.GetIntMetadata(MetadataRetryCount)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, 4, n)

		n, ok, err = r.GetIntMetadata("missing")
		assert.NoError(t, err)
		assert.False(t, ok)
		assert.Equal(t, 0, n)

		n, ok, err = r.GetIntMetadata(MetadataWindowType)
		assert.EqualError(t, err, `metadata key "window_type" has type string, expected int`)
		assert.False(t, ok)
		assert.Equal(t, 0, n)

		// Other integer types are rejected rather than converted.
		_, _, err = r.WithMetadata("n64", int64(4)).GetIntMetadata("n64")
		assert.EqualError(t, err, `metadata key "n64" has type int64, expected int`)
	})

	t.Run("duration", func(t *testing.T) {
		d, ok, err := r.GetDurationMetadata(MetadataWindowSize)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, 5*time.Second, d)

		d, ok, err = r.GetDurationMetadata("missing")
		assert.NoError(t, err)
		assert.False(t, ok)
		assert.Equal(t, time.Duration(0), d)

		d, ok, err = r.GetDurationMetadata(MetadataRetryCount)
		assert.EqualError(t, err, `metadata key "retry_count" has type int, expected time.Duration`)
		assert.False(t, ok)
		assert.Equal(t, time.Duration(0), d)
	})

	t.Run("nil value is wrong type", func(t *testing.T) {
		_, ok, err := r.WithMetadata("nil", nil).GetStringMetadata("nil")
		assert.EqualError(t, err, `metadata key "nil" has type <nil>, expected string`)
		assert.False(t, ok)
	})
}

func TestResultMetadataConstants(t *testing.T) {
	want := map[string]string{
		MetadataWindowStart: "window_start",
		MetadataWindowEnd:   "window_end",
		MetadataWindowType:  "window_type",
		MetadataWindowSize:  "window_size",
		MetadataWindowSlide: "window_slide",
		MetadataWindowGap:   "window_gap",
		MetadataSessionKey:  "session_key",
		MetadataSource:      "source",
		MetadataTimestamp:   "timestamp",
		MetadataProcessor:   "processor",
		MetadataRetryCount:  "retry_count",
		MetadataSessionID:   "session_id",
	}
	// A duplicate constant value would collapse two map entries.
	require.Len(t, want, 12)
	for got, expected := range want {
		assert.Equal(t, expected, got)
	}
}

func TestStreamErrorNew(t *testing.T) {
	cause := errors.New("boom")
	before := time.Now()
	se := NewStreamError(3, cause, "batcher")
	after := time.Now()

	assert.Equal(t, 3, se.Item)
	assert.Same(t, cause, se.Err)
	assert.Equal(t, "batcher", se.ProcessorName)
	assert.False(t, se.Timestamp.Before(before))
	assert.False(t, se.Timestamp.After(after))
}

// The texts below are the previous streamz's, byte for byte: users match
// them in logs, alerts and tests, so each case is a full literal, not a
// Contains check.
func TestStreamErrorErrorAndString(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	east := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"processor, cause, item and time",
			&StreamError[int]{Item: 42, Err: errors.New("rate exceeded"), ProcessorName: "throttle", Timestamp: ts},
			"StreamError[throttle]: rate exceeded (item: 42, time: 2024-01-02T03:04:05Z)"},
		{"item formatted with %v",
			&StreamError[[]int]{Item: []int{1, 2}, Err: errors.New("boom"), ProcessorName: "mapper", Timestamp: ts},
			"StreamError[mapper]: boom (item: [1 2], time: 2024-01-02T03:04:05Z)"},
		{"struct item",
			&StreamError[raItem]{Item: raItem{ID: 7, Name: "x"}, Err: errors.New("boom"), ProcessorName: "p", Timestamp: ts},
			"StreamError[p]: boom (item: {7 x}, time: 2024-01-02T03:04:05Z)"},
		{"time keeps its zone",
			&StreamError[string]{Item: "a", Err: errors.New("boom"), ProcessorName: "p", Timestamp: ts.In(east)},
			"StreamError[p]: boom (item: a, time: 2024-01-02T05:04:05+02:00)"},
		{"nil cause",
			&StreamError[int]{Item: 1, ProcessorName: "throttle", Timestamp: ts},
			"StreamError[throttle]: <nil> (item: 1, time: 2024-01-02T03:04:05Z)"},
		{"empty processor and empty string item",
			&StreamError[string]{Err: errors.New("rate exceeded"), Timestamp: ts},
			"StreamError[]: rate exceeded (item: , time: 2024-01-02T03:04:05Z)"},
		{"zero value",
			&StreamError[int]{},
			"StreamError[]: <nil> (item: 0, time: 0001-01-01T00:00:00Z)"},
		{"nested StreamError, as a retyped wrap builds it",
			&StreamError[string]{
				Err:           &StreamError[int]{Item: 7, Err: errors.New("up-err"), ProcessorName: "src", Timestamp: ts},
				ProcessorName: "m",
				Timestamp:     ts,
			},
			"StreamError[m]: StreamError[src]: up-err (item: 7, time: 2024-01-02T03:04:05Z) (item: , time: 2024-01-02T03:04:05Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			str, ok := tt.err.(fmt.Stringer)
			require.True(t, ok, "StreamError is not a fmt.Stringer")
			assert.Equal(t, tt.want, str.String())
			// Every common way of printing an error gives the same line.
			assert.Equal(t, tt.want, fmt.Sprint(tt.err))
			assert.Equal(t, tt.want, fmt.Sprintf("%v", tt.err))
			assert.Equal(t, tt.want, fmt.Sprintf("%s", tt.err))
		})
	}
}

func TestStreamErrorFromNewError(t *testing.T) {
	r := NewError("row-3", errors.New("disk full"), "sink")
	se := r.Error()
	require.NotNil(t, se)

	want := "StreamError[sink]: disk full (item: row-3, time: " + se.Timestamp.Format(time.RFC3339) + ")"
	assert.Equal(t, want, se.Error())
	assert.Equal(t, want, se.String())
}

func TestStreamErrorUnwrap(t *testing.T) {
	custom := &resultTestError{code: 7}
	se := NewStreamError("x", fmt.Errorf("context: %w", custom), "p")

	assert.True(t, errors.Is(se, custom))

	var target *resultTestError
	require.True(t, errors.As(se, &target))
	assert.Equal(t, 7, target.code)

	// Through a Result and an extra wrapping layer.
	r := NewError("x", custom, "p")
	wrapped := fmt.Errorf("outer: %w", r.Error())
	assert.ErrorIs(t, wrapped, custom)
	var se2 *StreamError[string]
	require.ErrorAs(t, wrapped, &se2)
	assert.Equal(t, "x", se2.Item)

	assert.Nil(t, (&StreamError[int]{}).Unwrap())
	assert.False(t, errors.Is(se, errors.New("code 7")))
}
