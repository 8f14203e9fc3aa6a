package agent_test

import (
	"os"
	"testing"

	"github.com/hamlet-vn/hamlet/internal/testpar"
)

// The agent's tests mostly wait on a server on loopback, on links a proxy
// slows and on sleeps past the clock bound: more run at once than one per
// core (internal/testpar).
func TestMain(m *testing.M) {
	code := testpar.Run(m)
	if fiBinDir != "" {
		os.RemoveAll(fiBinDir)
	}
	os.Exit(code)
}
