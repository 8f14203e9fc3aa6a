package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAgentLinksNoServerCode: the binary volunteers install talks to the
// server only through the protocol (syncproto), so it links no package of
// the server, none of the example province's generator, and no test
// library.
func TestAgentLinksNoServerCode(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/hamlet-vn/hamlet/cmd/hamlet-agent").Output()
	require.NoError(t, err)
	const mod = "github.com/hamlet-vn/hamlet/"
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(p, mod+"server"), strings.HasPrefix(p, mod+"examples"),
			p == "testing", strings.HasPrefix(p, "github.com/stretchr/testify"):
			bad = append(bad, p)
		}
	}
	require.Empty(t, bad, "hamlet-agent links these")
}
