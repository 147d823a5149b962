package streamz_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoobzio/streamz"
)

// This file pins the Result and StreamError API to the previous streamz, so
// that code written against it keeps compiling. Every line below is a
// compile-time check: if a name, a parameter, a result or a receiver drifts,
// `go test` stops with a type error that points at the line. It lives in
// the external test package so it sees the API exactly as users do.

type (
	raR  = streamz.Result[int]
	raSE = streamz.StreamError[int]
)

var (
	raNewSuccess     func(int) raR                  = streamz.NewSuccess[int]
	raNewError       func(int, error, string) raR   = streamz.NewError[int]
	raNewStreamError func(int, error, string) *raSE = streamz.NewStreamError[int]

	// Method expressions on the value type: they compile only while the
	// methods have value receivers, which a *Result caller can use as well.
	raIsError   func(raR) bool                        = raR.IsError
	raIsSuccess func(raR) bool                        = raR.IsSuccess
	raValue     func(raR) int                         = raR.Value
	raError     func(raR) *raSE                       = raR.Error
	raValueOr   func(raR, int) int                    = raR.ValueOr
	raMap       func(raR, func(int) int) raR          = raR.Map
	raMapError  func(raR, func(*raSE) *raSE) raR      = raR.MapError
	raWithMeta  func(raR, string, interface{}) raR    = raR.WithMetadata
	raGetMeta   func(raR, string) (interface{}, bool) = raR.GetMetadata
	raHasMeta   func(raR) bool                        = raR.HasMetadata
	raMetaKeys  func(raR) []string                    = raR.MetadataKeys

	// The typed getters: (value, found bool, err error).
	raGetString   func(raR, string) (string, bool, error)        = raR.GetStringMetadata
	raGetTime     func(raR, string) (time.Time, bool, error)     = raR.GetTimeMetadata
	raGetInt      func(raR, string) (int, bool, error)           = raR.GetIntMetadata
	raGetDuration func(raR, string) (time.Duration, bool, error) = raR.GetDurationMetadata

	// StreamError's methods, on the pointer that Result.Error returns.
	raSEError  func(*raSE) string = (*raSE).Error
	raSEString func(*raSE) string = (*raSE).String
	raSEUnwrap func(*raSE) error  = (*raSE).Unwrap

	// A *StreamError is an error, a Stringer and unwraps for errors.Is/As.
	_ error                       = (*raSE)(nil)
	_ fmt.Stringer                = (*raSE)(nil)
	_ interface{ Unwrap() error } = (*raSE)(nil)
)

// The type parameter takes any type, not only comparable ones: Batcher
// itself carries Result[[]T].
var (
	_ func([]int) streamz.Result[[]int]                                        = streamz.NewSuccess[[]int]
	_ func(func(), error, string) streamz.Result[func()]                       = streamz.NewError[func()]
	_ func(map[string]int, error, string) *streamz.StreamError[map[string]int] = streamz.NewStreamError[map[string]int]
)

// raSEFields pins StreamError's fields: the conversion compiles only while
// StreamError[int] has exactly these four fields, with these names and
// types, in this order, and no others.
type raSEFields = struct {
	Item          int
	Err           error
	ProcessorName string
	Timestamp     time.Time
}

var _ = raSE(raSEFields{})

// The field types, exactly: a pointer to a field has type *F only when the
// field's type is F itself, not merely assignable to it.
var (
	raSEZero raSE
	_        *int       = &raSEZero.Item
	_        *error     = &raSEZero.Err
	_        *string    = &raSEZero.ProcessorName
	_        *time.Time = &raSEZero.Timestamp
)

// TestResultAPIMatchesPrevious runs each pinned function once, through the
// variables above, so the file is also a smoke test of the whole surface.
func TestResultAPIMatchesPrevious(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cause := errors.New("boom")

	// A keyed literal with every field, as users write it.
	se := &streamz.StreamError[int]{
		Item:          7,
		Err:           cause,
		ProcessorName: "p",
		Timestamp:     ts,
	}
	const want = "StreamError[p]: boom (item: 7, time: 2024-01-02T03:04:05Z)"
	assert.Equal(t, want, raSEError(se))
	assert.Equal(t, want, raSEString(se))
	assert.Same(t, cause, raSEUnwrap(se))

	fresh := raNewStreamError(7, cause, "p")
	assert.Equal(t, 7, fresh.Item)
	assert.Same(t, cause, fresh.Err)
	assert.Equal(t, "p", fresh.ProcessorName)

	ok := raNewSuccess(2)
	assert.True(t, raIsSuccess(ok))
	assert.False(t, raIsError(ok))
	assert.Equal(t, 2, raValue(ok))
	assert.Equal(t, 2, raValueOr(ok, 9))
	assert.Nil(t, raError(ok))
	assert.False(t, raHasMeta(ok))

	ok = raMap(ok, func(v int) int { return v * 3 })
	ok = raWithMeta(ok, streamz.MetadataSource, "api")
	ok = raWithMeta(ok, streamz.MetadataTimestamp, ts)
	ok = raWithMeta(ok, streamz.MetadataRetryCount, 4)
	ok = raWithMeta(ok, streamz.MetadataWindowSize, time.Second)
	assert.Equal(t, 6, raValue(ok))
	assert.True(t, raHasMeta(ok))
	assert.Equal(t, []string{"retry_count", "source", "timestamp", "window_size"}, raMetaKeys(ok))
	v, found := raGetMeta(ok, streamz.MetadataSource)
	assert.True(t, found)
	assert.Equal(t, "api", v)

	s, found, err := raGetString(ok, streamz.MetadataSource)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "api", s)
	tm, found, err := raGetTime(ok, streamz.MetadataTimestamp)
	require.NoError(t, err)
	assert.True(t, found)
	assert.True(t, ts.Equal(tm))
	n, found, err := raGetInt(ok, streamz.MetadataRetryCount)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, 4, n)
	d, found, err := raGetDuration(ok, streamz.MetadataWindowSize)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, time.Second, d)

	failed := raNewError(7, cause, "p")
	assert.True(t, raIsError(failed))
	assert.Equal(t, 9, raValueOr(failed, 9))
	assert.Equal(t, 7, raError(failed).Item)
	relabelled := raMapError(failed, func(e *raSE) *raSE { return raNewStreamError(e.Item, e, "q") })
	assert.Equal(t, "q", raError(relabelled).ProcessorName)
	assert.ErrorIs(t, raError(relabelled), cause)
}
