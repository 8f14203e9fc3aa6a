package testpar

import (
	"flag"
	"runtime"
	"strconv"
	"testing"
)

// Run runs m's tests with -test.parallel raised to PerCore times
// GOMAXPROCS (at least Least), unless the command line gives
// -test.parallel, and returns m.Run's exit code. Call it from TestMain.
func Run(m *testing.M) int {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(max(Least, PerCore*runtime.GOMAXPROCS(0))))
	}
	return m.Run()
}

const (
	// PerCore is how many waiting tests are run at once per core.
	PerCore = 4
	// Least is the fewest run at once, however few the cores.
	Least = 8
)
