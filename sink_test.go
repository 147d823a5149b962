//go:build go1.25

package streamz

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAll(t *testing.T) {
	cause := errors.New("bad")
	in := paFeed(NewSuccess(1), NewError(2, cause, "up"), NewSuccess(3))
	var values []int
	var errs []error
	for v, err := range All(in) {
		values = append(values, v)
		errs = append(errs, err)
	}
	assert.Equal(t, []int{1, 2, 3}, values, "an error yields the item it holds")
	require.Len(t, errs, 3)
	assert.True(t, errs[0] == nil && errs[2] == nil, "a success yields a nil error, not a typed nil")
	var se *StreamError[int]
	require.ErrorAs(t, errs[1], &se)
	assert.Equal(t, "up", se.ProcessorName)
	assert.ErrorIs(t, errs[1], cause)
}

func TestAllBreak(t *testing.T) {
	in := paFeed(paInts(1, 2, 3)...)
	for v := range All(in) {
		if v == 2 {
			break
		}
	}
	assert.Equal(t, 3, (<-in).Value(), "a break leaves the rest unread")
}

func TestCollect(t *testing.T) {
	c1, c2 := errors.New("one"), errors.New("two")
	values, err := Collect(paFeed(NewSuccess("a"), NewError("x", c1, "p"), NewSuccess("b"), NewError("y", c2, "q")))
	assert.Equal(t, []string{"a", "b"}, values)
	assert.ErrorIs(t, err, c1)
	assert.ErrorIs(t, err, c2)
	var se *StreamError[string]
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "x", se.Item, "errors.As finds the first")

	ints, err := Collect(paFeed(paInts(1, 2)...))
	assert.Equal(t, []int{1, 2}, ints)
	assert.NoError(t, err, "no errors: a nil error")
}
