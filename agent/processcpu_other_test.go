//go:build !unix

package agent_test

import "time"

// processCPU is not read here (syscall has no Getrusage on Windows): the
// benchmarks that report CPU time are run on Linux, and this lets the
// package's tests build for the volunteers' Windows laptops. 0 is what a
// failed read gives on unix too.
func processCPU() time.Duration { return 0 }
