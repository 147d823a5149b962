//go:build !unix

package streamz

import "time"

// ppCPUTime is not measured here; the cpu-ns/item metric then reads 0.
func ppCPUTime() time.Duration { return 0 }
