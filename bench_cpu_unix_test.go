//go:build unix

package streamz

import (
	"syscall"
	"time"
)

// ppCPUTime returns the CPU time the process has used, user and system, or
// 0 where it cannot be read.
func ppCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
