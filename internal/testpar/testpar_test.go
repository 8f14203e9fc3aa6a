package testpar_test

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/testpar"
)

func TestMain(m *testing.M) {
	code := testpar.Run(m)
	os.Exit(code)
}

// The flag is raised before the tests run, unless the command line set it
// (go test -parallel N passes -test.parallel=N; TESTPAR_GIVEN=N says so).
func TestRaisesParallel(t *testing.T) {
	seen := flag.Lookup("test.parallel").Value.String()
	want := max(testpar.Least, testpar.PerCore*runtime.GOMAXPROCS(0))
	if given := os.Getenv("TESTPAR_GIVEN"); given != "" {
		want, _ = strconv.Atoi(given)
	}
	require.Equal(t, strconv.Itoa(want), seen)
}
