package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmeBlock returns the lines of the first ```sh block after the line
// of README.md containing marker.
func readmeBlock(t *testing.T, marker string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, marker)
	require.GreaterOrEqual(t, i, 0, "README.md has no %q", marker)
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	require.GreaterOrEqual(t, start, 0, "no ```sh block after %q", marker)
	text = text[start+len("```sh\n"):]
	end := strings.Index(text, "```")
	require.GreaterOrEqual(t, end, 0)
	var lines []string
	for _, l := range strings.Split(text[:end], "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

// shellWords splits a command line as sh does for the plain words and
// double-quoted strings README uses.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	require.False(t, quoted, "unbalanced quotes: %s", line)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// makeRunArgs is what `make run` passes to hamlet-server, from the
// Makefile's run recipe ("$(GO) run ./cmd/hamlet-server demo --data-dir
// ./data/demo $(DEMO_FLAGS)").
func makeRunArgs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^run:\n\t\$\(GO\) run \./cmd/hamlet-server (.*)$`).FindStringSubmatch(string(b))
	require.NotNil(t, m, "the Makefile's run recipe")
	return strings.Fields(strings.ReplaceAll(m[1], "$(DEMO_FLAGS)", ""))
}

// Issue 21, item 1: README's commands for a volunteer's laptop, copied as
// they are, work against the server `make run` starts: the address is the
// one the demo listens on, the code the one it prints.
func TestReadmeVolunteerCommands(t *testing.T) {
	serverBin, agentBin := binaries(t)
	lines := readmeBlock(t, "Then, on a volunteer's laptop")
	require.NotEmpty(t, lines)

	args := makeRunArgs(t)
	require.Equal(t, "demo", args[0])
	for i, a := range args {
		if a == "--data-dir" && i+1 < len(args) {
			args[i+1] = t.TempDir() // not the developer's ./data/demo
		}
	}
	// The demo listens on demoAddr; this test's demo on a free port, since
	// other tests may hold 8750: README's address must be demoAddr, and is
	// then replaced by the port this demo got.
	d := startDemo(t, serverBin, processEnv("HAMLET_LOG_LEVEL=error"), append(args[1:], "--addr", "127.0.0.1:0")...)
	defer d.stop(t)
	readmeURL := "http://" + demoAddr
	laptop := t.TempDir()
	env := append(processEnv(), "HAMLET_AGENT_DIR="+laptop)
	for _, line := range lines {
		words := shellWords(t, line)
		require.GreaterOrEqual(t, len(words), 3, line)
		require.Equal(t, []string{"go", "run", "./cmd/hamlet-agent"}, words[:3], "README runs the agent from the source tree: %s", line)
		cmdArgs := words[3:]
		for i, w := range cmdArgs {
			switch {
			case i > 0 && cmdArgs[i-1] == "--server":
				require.Equal(t, readmeURL, w, "README's server address is the demo's: %s", line)
				cmdArgs[i] = d.url
			case w == "XXXX-XXXX":
				cmdArgs[i] = d.code
			}
		}
		cmd := exec.Command(agentBin, cmdArgs...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "README: %s\n%s\n--- demo:\n%s", line, out, d.output())
		if cmdArgs[0] == "enroll" {
			require.NotRegexp(t, `(?i)tổ tổ`, string(out), "the team is named once")
		}
	}
}
