package streamz

import (
	"testing"

	"go.uber.org/goleak"
)

// go.mod says go 1.24, and the library needs nothing newer. A test file
// that needs Go 1.25 (testing/synctest's Test and Wait, sync.WaitGroup.Go),
// itself or through a helper that such a file declares, carries
// //go:build go1.25, so that a Go 1.24 toolchain builds the rest without
// it; this file is one of the rest. .ci/run checks both.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
